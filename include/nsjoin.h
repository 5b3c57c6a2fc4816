/* nsjoin.h - tasks that join a container's namespaces join its group.
 *
 * With the kernel's cgroups, `runc exec` (and so `podman exec`, `docker
 * exec`) puts the process it starts in the container's groups. No hook
 * runs for an exec, so cpuacctfs recognises such a process by its pid
 * namespace: a container's init, once adopted (adopt.h), registers its
 * pid namespace with its group, and a new process of the root group
 * born into that namespace joins the group. Only new processes of the
 * root group are checked, and only while some namespace is registered:
 * one stat of /proc/PID/ns/pid each.
 */
#ifndef CPUACCTFS_NSJOIN_H
#define CPUACCTFS_NSJOIN_H

#include <sys/types.h>

#include "group.h"

struct nsjoin;

struct nsjoin *nsjoin_new(void);
void nsjoin_free(struct nsjoin *j);

/* New processes born into init's pid namespace join g from now on.
 * -EINVAL when that namespace is the daemon's own (a container sharing
 * the host's pids: every new process would match), -ESRCH if init is
 * gone. */
int nsjoin_add(struct nsjoin *j, const struct group_tree *tree, pid_t init,
	       const struct group *g);

/* The group new process pid joins, or NULL. Entries whose group was
 * removed or whose init is gone (the namespace with it) are dropped. */
struct group *nsjoin_find(struct nsjoin *j, const struct group_tree *tree,
			  pid_t pid);

/* How many namespaces are registered. */
unsigned int nsjoin_count(const struct nsjoin *j);

#endif
