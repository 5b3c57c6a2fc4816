/* release.h - running the release agent, as cgroup v1 runs it.
 *
 * When a group with notify_on_release becomes empty of tasks and has no
 * subgroups (its last task left or exited, or its last subgroup was
 * removed), the kernel runs the hierarchy's release_agent as root, with
 * HOME=/ and PATH=/sbin:/bin:/usr/sbin:/usr/bin only, the group's path
 * in the hierarchy (/a/b) as its one argument, and does not wait for it.
 *
 * The engine notes such groups' paths where it sees them become empty
 * (tasks.h, control_rmdir); release_collect hands them, under the engine
 * lock, to a thread of its own that starts the agents and reaps them:
 * nothing runs or waits on a FUSE thread or under the lock.
 */
#ifndef CPUACCTFS_RELEASE_H
#define CPUACCTFS_RELEASE_H

#include <glib.h>
#include <sys/types.h>

struct release;

/* Starts the thread (so: after daemonizing). */
struct release *release_new(void);
/* Stops the thread; agents still running are left to init. */
void release_free(struct release *r);

/* Queue one run of agent with path; never blocks. */
void release_queue(struct release *r, const char *agent, const char *path);

/* Queue a run for each path in paths (char *, taken and emptied) when an
 * agent is set; r NULL or agent "" only empties it. */
void release_collect(struct release *r, const char *agent, GPtrArray *paths);

/* Start agent path as the kernel would, without waiting for it: pid of
 * the child, which the caller reaps, or -errno. */
int release_spawn(const char *agent, const char *path, pid_t *pid);

#endif
