/* taskstats.h - each task's tick counts, from the kernel's taskstats.
 *
 * cpuacct.usage_user and usage_sys are the kernel's tick sums, and
 * cpuacct.stat the same scaled to the exact runtime. The tick sums are
 * nothing but the sums of each task's
 * own utime and stime while it was in the group, and taskstats reports
 * those raw, unscaled: once per task as it exits (to a listener
 * registered for every CPU), and on request for a live one. Both need
 * CAP_NET_ADMIN and the initial pid and user namespace; where they are
 * missing, user and system time fall back to the sampled split.
 */
#ifndef CPUACCTFS_TASKSTATS_H
#define CPUACCTFS_TASKSTATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One task's counters, as of one moment. */
struct ts_rec {
	pid_t tid;
	uint64_t user_ns; /* ticks charged to it in user mode */
	uint64_t sys_ns;  /* ... in system mode */
	uint64_t run_ns;  /* its runtime as of its last update (0: not
			   * reported); it lags while the task runs on */
	uint64_t age_ns;  /* time since it started (us precision) */
};

typedef void (*ts_rec_fn)(const struct ts_rec *rec, void *data);

struct ts_conn;

/* Registers for exit records of every CPU; NULL and *err = -errno. */
struct ts_conn *taskstats_open(unsigned int ncpu, int *err);
void taskstats_close(struct ts_conn *ts);

/* The listener's fd, readable when exit records are queued. */
int taskstats_fd(const struct ts_conn *ts);

/* Deliver every exit record queued now, without blocking. Returns how
 * many, or -errno; *lost counts overflows of the receive buffer (their
 * records are gone: engine_task_ticks_lost covers them). */
int taskstats_drain(struct ts_conn *ts, ts_rec_fn fn, void *data,
		    uint64_t *lost);

/* A live task's counters now: 0, or -ESRCH once it is gone. */
int taskstats_query(struct ts_conn *ts, pid_t tid, struct ts_rec *out);

/* One generic netlink message of the family: every per-task record in
 * it (whole-process aggregates are skipped: they would count twice).
 * Returns how many, or -EBADMSG. Public for the unit tests. */
int taskstats_parse(const void *msg, size_t len, ts_rec_fn fn, void *data);

#endif
