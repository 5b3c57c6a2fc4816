/* engine.h - turns task events, samples and clock reads into charges.
 *
 * The engine is single-threaded: the sampler thread and the FUSE
 * threads call it only under one lock (see sampler.h). Its data
 * sources are injectable so unit tests can script a whole world.
 */
#ifndef CPUACCTFS_ENGINE_H
#define CPUACCTFS_ENGINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "group.h"
#include "perfsplit.h"
#include "procconn.h"
#include "procfs.h"
#include "taskstats.h"
#include "tasks.h"

struct engine_sources {
	int (*process_clock)(pid_t pid, uint64_t *ns);
	int (*thread_runtime)(pid_t pid, pid_t tid, uint64_t *ns);
	int (*read_stat)(pid_t pid, pid_t tid, struct proc_stat *st);
	int (*read_uids)(pid_t pid, uid_t *ruid, uid_t *euid);
	int (*tgid_of)(pid_t tid, pid_t *tgid);
	int (*scan)(procfs_thread_fn fn, void *data);
	int (*list_threads)(pid_t pid, procfs_thread_fn fn, void *data);
};

/* The real thing: /proc and the process CPU clocks. */
extern const struct engine_sources engine_procfs_sources;

/* Brings queued events and samples in before a pass or a command, so
 * both see everything that happened up to now (set by the sampler). */
typedef void (*engine_drain_fn)(void *data);

/* Who asked. The kernel checks the credentials of whoever opened the
 * file, not the writer's (CVE-2021-4197): an fd opened by root and
 * handed to a user still moves what root may move. */
struct writer {
	pid_t pid;	/* the writing thread: pid 0, its pid namespace */
	uid_t uid;	/* the opener's effective uid (mkdir: fsuid) */
	gid_t gid;	/* mkdir: the creator's fsgid */
	bool sys_admin; /* the opener had CAP_SYS_ADMIN (initial userns) */
};

struct engine_stats {
	uint64_t passes;
	uint64_t root_passes; /* engine_pass_root */
	uint64_t clock_reads;
	uint64_t rescans;
	uint64_t lost_samples;
	uint64_t unsettled_exits;
	uint64_t unmatched_runtime_ns; /* records of tasks never tracked */
	uint64_t tick_reads;	       /* live tasks' tick counts asked for */
	uint64_t recovered_ns;	       /* runtime of lost records, read back */
};

struct engine;

struct engine *engine_new(const struct engine_sources *src, unsigned int ncpu,
			  size_t history_len, bool have_samples);
void engine_free(struct engine *e);
void engine_set_drain(struct engine *e, engine_drain_fn fn, void *data);
/* Whether perf samples arrive (else the split comes from /proc). */
void engine_set_have_samples(struct engine *e, bool have_samples);
/* Whether runtime records arrive (engine_runtime): then they alone say
 * how much each task ran, and no clocks are read. */
void engine_set_have_runtime(struct engine *e, bool have_runtime);

/* Where live tasks' tick counts come from (taskstats_query); with one,
 * user and system time (and so cpuacct.stat) are tick counts (ticks.h),
 * not the samples' split of the runtime. */
typedef int (*engine_ticks_fn)(void *data, pid_t tid, struct ts_rec *out);
void engine_set_ticks(struct engine *e, engine_ticks_fn fn, void *data);

/* The in-kernel counters keep their own membership (bpfacct.h): move
 * is told of every move of a task between groups, after the task table;
 * group_of says where the kernel put a task, for new threads of a
 * process whose threads are in several groups (a thread starts in its
 * creator's group, which the fork event does not name). */
struct engine_kmembers {
	int (*move)(void *data, pid_t tid, unsigned int gid);
	int (*group_of)(void *data, pid_t tid); /* gid or -errno */
	/* a task's creator and runtime charged so far, and what a kernel
	 * group counted of its exited creators (bpfacct_origin, _chain) */
	int (*origin)(void *data, pid_t tid, uint32_t *creator,
		      uint64_t *charged);
	int (*chain)(void *data, uint32_t creator, uint64_t *ns);
	/* new tasks of pid namespace ino start in gid (0: stop) */
	int (*nsgroup)(void *data, uint64_t ino, unsigned int gid);
	void *data;
};
void engine_set_kmembers(struct engine *e, const struct engine_kmembers *km);

/* km.origin and km.chain, or -ENOSYS without them. */
int engine_korigin(struct engine *e, pid_t tid, uint32_t *creator,
		   uint64_t *charged);
int engine_kchain(struct engine *e, uint32_t creator, uint64_t *ns);

struct group_tree *engine_tree(struct engine *e);
/* Containers' pid namespaces: a new process of the root group born into
 * one joins that container's group (nsjoin.h). */
struct nsjoin *engine_nsjoin(struct engine *e);
struct task_table *engine_tasks(struct engine *e);
const struct engine_stats *engine_stats(const struct engine *e);

/* Track every task that exists now, in the root group. */
void engine_scan(struct engine *e);

void engine_event(struct engine *e, const struct pc_event *ev);
void engine_sample(struct engine *e, const struct perf_rec *rec);
/* A runtime record (perfsplit_open_runtime). One of a task whose birth
 * has not been seen yet waits for engine_runtime_retry, which the
 * caller runs after bringing in events again; what is still unknown
 * then is charged to the root. */
void engine_runtime(struct engine *e, const struct perf_rec *rec);
void engine_runtime_retry(struct engine *e);

/* Runtime records were lost (a ring overflowed): at the next pass, each
 * live thread's runtime is read and what no record charged is charged
 * to its group, as are the threads that exit until then. */
void engine_runtime_lost(struct engine *e);

/* A task's exit record (taskstats_drain). One of a task not known yet
 * waits for engine_task_ticks_retry, like runtime records. */
void engine_task_ticks(struct engine *e, const struct ts_rec *rec);
void engine_task_ticks_retry(struct engine *e);

/* Measure tracked tasks and charge what they ran since the last pass;
 * t_ns (CLOCK_MONOTONIC) stamps the history records. Unless full,
 * processes perf did not see running are read only now and then (their
 * clocks lose nothing by waiting). */
void engine_pass(struct engine *e, int64_t t_ns, bool full);

/* What a timer pass has to do. Without in-kernel counters, always all
 * of it (the tasks are measured there). With them reads are live, and
 * a pass only charges what the kernel counted, records history and
 * gives readers a new snapshot, so where nothing changed it has
 * nothing to do (most groups on most hosts, most of the time), and
 * where only the root changed (the tasks in no group run, or come and
 * go: on a busy host, every pass) the root alone is charged and
 * recorded: engine_pass_root. Anything else (a group's slots gained, a
 * task joined or left a group, the tree changed, a rescan is pending)
 * needs engine_pass and a snapshot, and so does a root-only change that
 * readers of the snapshot could not make up for (engine_shown). */
enum engine_work {
	ENGINE_WORK_NONE,
	ENGINE_WORK_ROOT,
	ENGINE_WORK_ALL,
};
/* What readers have of the last published snapshot. */
struct engine_shown {
	bool cached_pages;     /* the kernel caches pages of it (--cache) */
	uint64_t events_since; /* events handled since, kept for readers */
	int64_t age_ns;	       /* since it was built */
};
/* Events kept for readers' task lists are let go (a snapshot) once this
 * many wait, or the oldest waited this long: each read of a list goes
 * through them, and a snapshot costs a walk of every group. */
#define ENGINE_ROOT_PUBLISH_EVENTS 4096
#define ENGINE_ROOT_PUBLISH_NS (10 * 1000000000LL)
enum engine_work engine_work(const struct engine *e,
			     const struct engine_shown *shown);

/* Charge and record the root alone; readers' snapshots stay as they
 * are, which live reads make up for (kcount_now). */
void engine_pass_root(struct engine *e, int64_t t_ns);

/* Bring in the events and samples queued now. */
void engine_drain(struct engine *e);

/* Drain, then a full pass: everything up to now is charged. Never scans
 * /proc (it runs on FUSE threads): a pending rescan waits for engine_pass
 * on the sampler thread. */
void engine_sync(struct engine *e, int64_t t_ns);

/* Commands from the filesystem; each returns 0 or -errno. */
int engine_attach(struct engine *e, unsigned int gid, pid_t pid,
		  bool whole_process, const struct writer *w, int64_t t_ns);
int engine_reset(struct engine *e, unsigned int gid, int64_t t_ns);

/* One task in a group other than the root, as a checkpoint keeps it
 * (state.h): who it is, where, and how far its time was counted. */
struct engine_member {
	pid_t tid;
	pid_t tgid;
	uint64_t start_ns; /* its process's, to tell a reused id */
	unsigned int gid;
	uint64_t clock_last; /* its process's (struct proc) */
	uint64_t runtime_last;
	uint64_t covered_ns;
	bool covered_known;
	bool ticks_known;
	uint64_t ticks_user_ns;
	uint64_t ticks_sys_ns;
};

/* Append every task outside the root to out (struct engine_member). */
void engine_members_save(struct engine *e, GArray *out);

/* After a scan in a new server: the saved tasks that still live go back
 * to their groups, counted on from where they were; processes started
 * since saved_boot_ns (CLOCK_BOOTTIME of the checkpoint) go where the
 * kernel's counters put them if those went on (kernel_kept), else to
 * their parent's group. */
void engine_members_restore(struct engine *e, const GArray *members,
			    uint64_t saved_boot_ns, bool kernel_kept);

#endif
