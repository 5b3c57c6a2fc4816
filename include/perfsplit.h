/* perfsplit.h - where CPU time was spent: per-CPU cpu-clock sampling.
 *
 * One software cpu-clock perf event per CPU (pid -1), each sample
 * naming the task, the CPU, the time, the period and whether the CPU
 * was in user or kernel mode. One fd per CPU whatever the task count.
 * The samples say how to split a task's exactly measured runtime over
 * CPUs and over user/system; they are never the runtime itself.
 */
#ifndef CPUACCTFS_PERFSPLIT_H
#define CPUACCTFS_PERFSPLIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct perf_rec {
	pid_t pid; /* tgid */
	pid_t tid;
	int cpu;
	bool user;	    /* sampled in user mode (else kernel) */
	uint64_t period_ns; /* time this sample stands for */
	uint64_t time_ns;   /* perf clock (CLOCK_MONOTONIC-like) */
};

struct perfsplit;

/* period_us: sampling period per CPU. NULL and *err = -errno when perf
 * is unavailable (the caller then splits by /proc's last CPU). */
struct perfsplit *perfsplit_open(unsigned int period_us, int *err);
void perfsplit_close(struct perfsplit *ps);

/* fds to poll (one per CPU) */
int perfsplit_nfds(const struct perfsplit *ps);
int perfsplit_fd(const struct perfsplit *ps, int i);

/* Deliver every sample in the mmap rings now. Returns the number
 * delivered; *lost (optional) gets the count of samples the kernel
 * dropped since the last call. */
typedef void (*perfsplit_fn)(const struct perf_rec *rec, void *data);
int perfsplit_drain(struct perfsplit *ps, perfsplit_fn fn, void *data,
		    uint64_t *lost);

#endif
