/* split.h - where a process's time was spent: on which CPU, in which mode.
 *
 * Each process collects the perf samples that name it. When its exact
 * time is charged, those samples split it over CPUs and user/system, the
 * way the kernel's ticks split cpuacct.stat. A live process no sample saw
 * is charged where and how it was last seen; exited processes perf missed
 * (short-lived ones) are split like the group's exited processes it
 * caught in the same pass.
 * The split time of a pass waits in per-group buckets until the pass
 * charges them to the tree. When tick counts give user and system time
 * (the tree's modes_from_ticks), the buckets charge only the runtime, and
 * the samples serve to place tick gains on CPUs.
 */
#ifndef CPUACCTFS_SPLIT_H
#define CPUACCTFS_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

#include "group.h"
#include "tasks.h"

struct split;

struct split *split_new(unsigned int ncpu);
void split_free(struct split *s);

/* A sample of p: ns of time seen on cpu, in user mode or not. */
void split_sample(struct split *s, struct proc *p, unsigned int cpu, bool user,
		  uint64_t ns);

/* Drop p's samples: its time up to now has been charged. */
void split_forget(struct proc *p);

/* ns of p's exact time, to be charged to group gid at the next flush.
 * exited: p is gone; if perf never saw it, its time is split like that
 * of the group's exited processes perf did see in this pass. */
void split_add(struct split *s, unsigned int gid, const struct proc *p,
	       uint64_t ns, bool exited);

/* ns that p ran on cpu, known exactly (a runtime record): only the mode
 * is left to split, by p's samples since it was last charged, else like
 * the group's other time of the pass. p NULL: an exited task's last
 * moments (its exit, in the kernel). */
void split_add_on_cpu(struct split *s, unsigned int gid, const struct proc *p,
		      unsigned int cpu, uint64_t ns);

/* Ticks a group's task gained (ticks.h), by mode, to be charged at the
 * next flush when the tree's modes come from ticks: on cpu if it is
 * known (>= 0), else spread like the group's sampled time of the pass in
 * that mode, else like all its time of the pass, else put on hint_cpu. */
void split_add_ticks(struct split *s, unsigned int gid, int cpu,
		     unsigned int hint_cpu, uint64_t user_ns, uint64_t sys_ns);

/* How much time sampled_ns of samples most likely stand for: perf loses
 * some samples, so it is scaled by what exact clocks and samples of live
 * processes said lately. */
uint64_t split_time_of_samples(const struct split *s, uint64_t sampled_ns);

/* Charge every bucket to its group (and thereby its ancestors). */
void split_flush(struct split *s, struct group_tree *tree);

#endif
