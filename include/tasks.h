/* tasks.h - who is in which group: the thread and process tables.
 *
 * Membership is per thread, as in the kernel; a process is listed in
 * cgroup.procs of every group that holds one of its threads. This module
 * only keeps the tables consistent; how time is measured and charged is
 * the engine's business, which keeps its per-process state in struct
 * proc because that state lives and dies with the process.
 */
#ifndef CPUACCTFS_TASKS_H
#define CPUACCTFS_TASKS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "group.h"
#include "ticks.h"

struct proc;

struct task {
	pid_t tid;
	struct proc *proc;
	struct group *group;
	uint64_t runtime_last; /* ns; only while the process is split */
	int run_cpu; /* where its last runtime record was made, or -1 */
	struct task_ticks ticks;
	/* Runtime records: how much of the thread's runtime our charges
	 * cover (known from birth, or from a first reading), and up to when
	 * a reading covered its records already (engine_recover). */
	uint64_t covered_ns;
	uint64_t covered_until; /* CLOCK_MONOTONIC ns */
	bool covered_known;
};

struct proc {
	pid_t tgid;
	pid_t parent_tgid;   /* who reaps it, as far as we know */
	uint64_t start_ns;   /* start time (boot clock), to detect pid reuse */
	GPtrArray *threads;  /* struct task *, leader first while alive */
	bool split;	     /* threads in more than one group */
	uint64_t clock_last; /* process CPU clock already charged, ns */
	int last_cpu;	     /* where it last ran, for unsampled time */
	uint64_t sampled_ns; /* perf-sampled time since the last charge */
	uint64_t *weight;    /* that time by [cpu * 2 + system?] (split.c) */
	unsigned int nweights;
	bool last_user;		    /* mode it was last sampled in */
	unsigned int unread_passes; /* passes skipped since that read */

	/* Exit settlement (see engine.c). */
	bool exited;  /* the leader's EXIT event was seen */
	bool settled; /* final clock read from the zombie */
	uint64_t final_clock;
	uint64_t final_cut_ns; /* its own reaped children's time at exit */
	unsigned int exit_gid; /* group its last thread was in */

	/* As a reaper: time of children it reaped (cutime + cstime). */
	bool cut_known;
	uint64_t cut_ns;
	int64_t cut_carry_ns;
	GPtrArray *dying; /* struct proc * of exited children */
};

struct task_table {
	GHashTable *tasks; /* tid -> struct task * */
	GHashTable *procs; /* tgid -> struct proc * (live ones) */
	uint64_t gen;	   /* bumped when membership changes */
	/* paths of groups that became releasable (group_releasable) since
	 * release_collect last took them (release.h) */
	GPtrArray *released;
	/* bumped when a group other than the root gains or loses a task:
	 * the root's members come and go with every process on the host,
	 * the other groups' only with theirs (engine_work) */
	uint64_t groups_gen;
};

struct task_table *tasks_new(void);
void tasks_free(struct task_table *tt);

struct task *tasks_find(const struct task_table *tt, pid_t tid);
struct proc *tasks_find_proc(const struct task_table *tt, pid_t tgid);

/* A new process with its leader thread, in group g. */
struct proc *tasks_add_proc(struct task_table *tt, pid_t tgid, struct group *g);
struct task *tasks_add_thread(struct task_table *tt, struct proc *p, pid_t tid,
			      struct group *g);
void tasks_remove_thread(struct task_table *tt, struct task *t);

/* Take the process out of the live table; its threads leave their
 * groups. The struct stays with the caller (exit settlement) and is
 * freed with proc_free(). */
void tasks_detach_proc(struct task_table *tt, struct proc *p);
void proc_free(struct proc *p);

void tasks_move(struct task_table *tt, struct task *t, struct group *g);

/* t is known by another id from now on (replacing any task with it). */
void tasks_renumber(struct task_table *tt, struct task *t, pid_t tid);

/* The group that a process's whole-process time belongs to (its first
 * thread's); NULL once it has no threads. */
struct group *proc_group(const struct proc *p);

/* Recompute p->split from its threads' groups; true if it changed. */
bool proc_update_split(struct proc *p);

/* Sort a GArray of pid_t ascending, dropping repeats if unique. */
void tasks_sort_ids(GArray *ids, bool unique);

/* Sorted member ids of every group, indexed by group id: tids[id] and
 * tgids[id] are GArrays of pid_t (NULL for removed groups). */
void tasks_members(const struct task_table *tt, unsigned int ngroups,
		   GArray **tids, GArray **tgids);

#endif
