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

#include <stdbool.h>
#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

#include "group.h"

struct nsjoin;

struct nsjoin *nsjoin_new(void);
void nsjoin_free(struct nsjoin *j);

/* Where the in-kernel counters learn of the namespaces too, so that the
 * kernel puts a new task in its group at birth, before the daemon sees
 * it (bpfacct_set_nsgroup): fn(data, ino, gid) on every registration,
 * fn(data, ino, 0) when one ends. */
typedef int (*nsjoin_kernel_fn)(void *data, uint64_t ino, unsigned int gid);
void nsjoin_set_kernel(struct nsjoin *j, nsjoin_kernel_fn fn, void *data);

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

/* An exec'd process joined g in our tables at its birth. With in-kernel
 * counters it joins there when the runtime puts it in a kernel cgroup
 * (runc exec does, once it is in the container's namespaces: the
 * kernel's group counts it from then); one that is never put there
 * (nsenter) is moved after NSJOIN_WAIT_PASSES (nsjoin_settle). */
void nsjoin_joined(struct nsjoin *j, const struct group *g, pid_t pid);

/* Whether the kernel's counters have pid in gid: 1 if so (or pid is
 * gone), 0 if not; with force, move it there and return 1. */
typedef int (*nsjoin_check_fn)(void *data, pid_t pid, unsigned int gid,
			       bool force);

void nsjoin_settle(struct nsjoin *j, const struct group_tree *tree,
		   nsjoin_check_fn check, void *data);

#define NSJOIN_WAIT_PASSES 10

/* The registrations, for a checkpoint (state.h): one struct
 * nsjoin_saved each, appended to out; nsjoin_add gives them back. */
struct nsjoin_saved {
	pid_t init;
	unsigned int gid;
};
void nsjoin_save(struct nsjoin *j, GArray *out);

/* How many namespaces are registered. */
unsigned int nsjoin_count(const struct nsjoin *j);

#endif
