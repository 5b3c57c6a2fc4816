/* snapshot.h - one immutable, refcounted view of the whole tree.
 *
 * Every read renders from a snapshot, so a reader never sees a parent
 * that disagrees with its children, and never waits for a pass: the
 * sampler builds the next snapshot aside and swaps it in.
 */
#ifndef CPUACCTFS_SNAPSHOT_H
#define CPUACCTFS_SNAPSHOT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "group.h"
#include "tasks.h"

/* One group as a snapshot shows it; shared by consecutive snapshots as
 * long as the group does not change. */
struct snap_group {
	gint refs;
	uint64_t gen;	 /* the group's gen this copy shows */
	uint64_t members_gen; /* and its members_gen */
	uint64_t serial; /* which group had this id then (group.h) */
	unsigned int id;
	unsigned int parent_id; /* == id for the root */
	char *name;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	struct file_attr *files; /* a copy of the group's, or NULL */
	int64_t ctime_ns;
	bool notify_on_release;
	bool clone_children;
	GArray *children; /* unsigned int ids, creation order */
	uint64_t *usage;  /* per CPU, ns */
	uint64_t *user;
	uint64_t *sys;
	struct stat_state *stat;
	struct kslot *kseen; /* the group's, or NULL (kcount.h) */
	struct history *history; /* the group's, live (its own lock) */
	GArray *tids;  /* sorted pid_t */
	GArray *tgids; /* sorted, unique pid_t */
};

/* Groups by id in chunks that consecutive snapshots share while none
 * of their groups changes, so a snapshot costs what changed. */
#define SNAP_CHUNK 64

struct snap_chunk {
	gint refs;
	unsigned int used; /* groups in g: none, and the chunk goes */
	struct snap_group *g[SNAP_CHUNK];
};

struct snapshot {
	gint refs;
	uint64_t seq;
	uint64_t ev_seq; /* the last fork/exit event it shows (evqueue.h) */
	int64_t t_ns;	 /* CLOCK_MONOTONIC of the pass it shows */
	unsigned int ncpu;
	unsigned int ngroups;	    /* ids below this may exist */
	unsigned int nchunks;
	struct snap_chunk **chunks; /* id / SNAP_CHUNK; NULL: all removed */
	const void *tree;	    /* built from, and when (group.h) */
	uint64_t epoch;
	char *release_agent;
	const struct kslot *kslots; /* the tree's (kcount.h), or NULL */
	struct nameidx *names;	    /* the tree's, newest names */
};

/* prev (may be NULL): the snapshot this one replaces; groups that did not
 * change since are shared with it instead of copied again. */
struct snapshot *snapshot_build(const struct group_tree *tree,
				const struct task_table *tasks,
				const struct snapshot *prev, uint64_t seq,
				int64_t t_ns);
struct snapshot *snapshot_ref(struct snapshot *snap);
void snapshot_unref(struct snapshot *snap);

const struct snap_group *snapshot_group(const struct snapshot *snap,
					unsigned int id);
const struct snap_group *snapshot_child(const struct snapshot *snap,
					const struct snap_group *parent,
					const char *name);

/* Whether every file of the group reads the same in both snapshots
 * (cpuacct.stat aside, whose reads move it). */
bool snapshot_group_same(const struct snapshot *a, const struct snapshot *b,
			 unsigned int id);

/* cpuacct.stat of g from its per-CPU counters (kcount_now): cputime_adjust
 * over their totals, moving g's shared state forward as the kernel does
 * on every read. */
void snapshot_stat(const struct snapshot *snap, const struct snap_group *g,
		   const uint64_t *usage, const uint64_t *user,
		   const uint64_t *sys, uint64_t *user_ticks,
		   uint64_t *sys_ticks);

typedef struct snapshot snapshot_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(snapshot_t, snapshot_unref)

#endif
