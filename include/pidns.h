/* pidns.h - task ids as a process in another pid namespace sees them.
 *
 * The daemon runs in the host's pid namespace and keeps host ids; a
 * reader or writer inside a container names tasks by the ids of its own
 * namespace, as with the kernel's cgroupfs. Ids of tasks it cannot see
 * are hidden from it.
 */
#ifndef CPUACCTFS_PIDNS_H
#define CPUACCTFS_PIDNS_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* A reader's or writer's pid namespace. */
struct pidns {
	ino_t ino; /* of /proc/PID/ns/pid */
	int level; /* 0 for the daemon's own */
};

/* The namespace of host pid; -errno if the task is gone. */
int pidns_of(pid_t pid, struct pidns *ns);

/* Whether ns is the daemon's own namespace (ids need no translation). */
bool pidns_is_own(const struct pidns *ns);

/* The id of host tid as seen from ns; -ESRCH when the task is gone or
 * not visible from ns. */
int pidns_to_ns(pid_t tid, const struct pidns *ns, pid_t *id);

/* The host id of the task that ns calls id; -ESRCH if none. */
int pidns_from_ns(pid_t id, const struct pidns *ns, pid_t *tid);

/* Translate sorted host ids into ns's ids: the invisible are dropped,
 * the rest sorted again (and deduplicated). */
GArray *pidns_translate(const GArray *host_ids, const struct pidns *ns);

#endif
