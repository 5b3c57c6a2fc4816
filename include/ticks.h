/* ticks.h - one task's tick counts, and what it gains between readings.
 *
 * The kernel adds every tick a task spends in user or system mode to
 * its group's cpustat (usage_user, usage_sys), which cpuacct.stat scales
 * to the runtime. Each task carries the same counts (taskstats.h), so
 * reading them now and then and charging each gain to the task's group
 * at that moment gives the group's cpustat, as exactly as the readings
 * are frequent: the engine reads a task in the passes it ran (engine.c
 * says which), when it moves, and when it exits.
 *
 * What a task runs after its exit record (freeing its memory, its last
 * switch) can still catch a tick the record does not show. Its expected
 * worth is that time itself, in system mode, which ticks_finish charges.
 * The record's moment is the task's birth plus the age it gives; its
 * runtime then is not in it (that lags while the task runs), so the
 * time after it is taken from the runtime records that end later.
 */
#ifndef CPUACCTFS_TICKS_H
#define CPUACCTFS_TICKS_H

#include <stdbool.h>
#include <stdint.h>

#include "taskstats.h"

struct task_ticks {
	uint64_t user_ns; /* the task's counts as last read */
	uint64_t sys_ns;
	uint64_t run_read; /* its runtime at that reading */
	uint64_t run_seen; /* its runtime as its runtime records tell */
	uint64_t born_ns;  /* CLOCK_MONOTONIC of its birth (0: before us) */
	uint64_t exit_ns;  /* ... of its exit record (0: not known) */
	uint64_t tail_ns;  /* runtime after that */
	uint64_t ran_ns;   /* runtime records since the last reading */
	int ran_cpu;	   /* the one CPU they were on, or a TICKS_CPU_ */
	unsigned int passes_waited; /* passes it ran in but was not read */
	bool known;		    /* read at least once (or born: all zero) */
	bool run_known; /* run_read is real, so the tail can be known */
	bool final;	/* the exit record was read */
	bool ran;	/* ran since the last reading */
};

#define TICKS_CPU_NONE (-1) /* it did not run since (as far as known) */
#define TICKS_CPU_MANY (-2) /* it ran on several, or on one not known */

/* Ticks gained, in ns, to be charged to the task's group; on cpu, if it
 * ran on that one CPU only since the last reading, else -1. */
struct tick_gain {
	uint64_t user_ns;
	uint64_t sys_ns;
	int cpu;
};

/* A task seen being born at born_ns: everything it counts is ours. */
void ticks_born(struct task_ticks *tk, uint64_t born_ns);

/* A reading (final: the exit record); *gain is what the task gained
 * since the last one. The first reading of a task that was there before
 * us is only its baseline (no gain). Counts lower than before are
 * another task's (the tid was reused unseen): they are its baseline, and
 * the result is false. */
bool ticks_read(struct task_ticks *tk, const struct ts_rec *rec, bool final,
		struct tick_gain *gain);

/* The task ran ns more on cpu, up to end_ns (a runtime record; ns and
 * end_ns 0 when it is only known to have run, cpu -1 if not where). */
void ticks_ran(struct task_ticks *tk, uint64_t ns, uint64_t end_ns, int cpu);

/* The task is gone and its last runtime records are in: *gain is the
 * expected ticks of what it ran after its last reading. */
void ticks_finish(struct task_ticks *tk, struct tick_gain *gain);

#endif
