/* perfsplit.h - where CPU time was spent, from system-wide perf rings.
 *
 * Two kinds of ring, one fd per CPU whatever the task count:
 * - cpu-clock sampling (perfsplit_open): each sample names the task,
 *   the CPU, the time, the period and whether the CPU was in user or
 *   kernel mode. Samples say how to split a task's runtime over CPUs and
 *   over user/system; they are never the runtime itself.
 * - the scheduler's sched_stat_runtime tracepoint (perfsplit_open_runtime):
 *   every record is runtime the scheduler has just charged to a task on
 *   a CPU, the very amounts cpuacct adds up, exited tasks' last
 *   moments included.
 */
#ifndef CPUACCTFS_PERFSPLIT_H
#define CPUACCTFS_PERFSPLIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct perf_rec {
	pid_t pid; /* tgid (0 if unknown: runtime records of a non-current) */
	pid_t tid;
	int cpu;
	bool user;	    /* sampled in user mode (else kernel) */
	bool remote;	    /* runtime of a task running on another CPU */
	uint64_t period_ns; /* time this sample stands for; runtime: ns run */
	uint64_t time_ns;   /* perf clock (CLOCK_MONOTONIC-like) */
};

struct perfsplit;

/* period_us: sampling period per CPU. NULL and *err = -errno when perf
 * is unavailable (the caller then splits by /proc's last CPU). */
struct perfsplit *perfsplit_open(unsigned int period_us, int *err);
void perfsplit_close(struct perfsplit *ps);

/* The runtime records; NULL and *err = -errno when the tracepoint or
 * perf is unavailable. Needs tracefs (mounted privately for a moment
 * when it is not mounted). */
struct perfsplit *perfsplit_open_runtime(int *err);

/* fds to poll (one per CPU) */
int perfsplit_nfds(const struct perfsplit *ps);
int perfsplit_fd(const struct perfsplit *ps, int i);

/* Deliver every sample in the mmap rings now. Returns the number
 * delivered; *lost (optional) gets the count of samples the kernel
 * dropped since the last call. */
typedef void (*perfsplit_fn)(const struct perf_rec *rec, void *data);
int perfsplit_drain(struct perfsplit *ps, perfsplit_fn fn, void *data,
		    uint64_t *lost);
/* The same, but records made after until_ns (CLOCK_MONOTONIC) stay in
 * the rings for the next call. */
int perfsplit_drain_until(struct perfsplit *ps, uint64_t until_ns,
			  perfsplit_fn fn, void *data, uint64_t *lost);

#endif
