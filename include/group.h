/* group.h - the accounting model: a tree of groups with per-CPU counters.
 *
 * Like the kernel's cpuacct, a charge is added to the task's group and
 * to every ancestor on one walk to the root, so a parent always holds
 * its own tasks' time plus all of its descendants', per CPU, exactly.
 * Group ids come back long after their group is removed (see
 * GROUP_ID_REUSE_AFTER); serials never do. The root is id 0.
 */
#ifndef CPUACCTFS_GROUP_H
#define CPUACCTFS_GROUP_H

#include <glib.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpfacct_abi.h"
#include "cputime.h"
#include "history.h"
#include "nameidx.h"

/* What cpuacct.stat last reported, shared by a group and every snapshot
 * of it, since readers on any thread move it forward. */
struct stat_state {
	gint refs;
	GMutex lock;
	struct prev_cputime prev;
};

/* Owner and permission bits of a group's directory or one of its files,
 * as chown, chgrp and chmod set them (owner.h). */
struct file_attr {
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

/* How many files a group's attribute array covers: CGF_COUNT (files.h),
 * which this header cannot include. */
#define GROUP_FILES 15

struct group {
	struct group_tree *tree;
	unsigned int id;
	char *name;
	struct group *parent;
	GPtrArray *children; /* struct group *, in creation order */
	GArray *child_ids;   /* their ids, alike: a snapshot copies these */
	uid_t uid;	     /* owner of the directory (chown; mkdir's fsuid) */
	gid_t gid;	     /* its group (chgrp; mkdir's fsgid) */
	mode_t mode;	     /* permission bits of the directory */
	int64_t ctime_ns;    /* CLOCK_REALTIME of mkdir */
	bool notify_on_release;
	bool clone_children;
	/* each file's owner and mode by enum cg_file, or NULL while every
	 * file is root's with its default mode (owner.h) */
	struct file_attr *files;
	unsigned int ntasks; /* threads that are direct members */
	unsigned int ncpu;   /* length of the three arrays below */
	uint64_t *usage;     /* ns per CPU, descendants included */
	uint64_t *user;	     /* of which in user mode (see modes_from_ticks) */
	uint64_t *sys;
	struct stat_state *stat;
	struct history *history; /* shared with snapshots (history.h) */
	uint64_t gen;	       /* bumped on every change a reader can see */
	bool dirty;	       /* in the tree's dirty list */
	bool unrecorded;       /* in the tree's unrecorded list */
	uint64_t recorded_gen; /* gen of the newest history record */
	uint64_t members_gen;  /* bumped when a task joins or leaves */
	uint64_t serial;       /* unique for ever, unlike the id */
	/* Groups below this one, at any depth, and how many may be: a mkdir
	 * anywhere below that would pass max fails with EAGAIN, as under
	 * cgroup v2's cgroup.max.descendants (GROUP_NO_LIMIT: none). */
	unsigned int ndescendants;
	unsigned int max_descendants;
	/* With kernel counters (kcount.h): per CPU, the counts of the
	 * kernel's slots of this id that the arrays above include (in the
	 * tree's kseen). */
	struct kslot *kseen;
};

/* Ids of removed groups are reused, oldest first, once more than this
 * many are free: so arrays by id stay as long as the most groups ever
 * alive plus this, and an id comes back only long after its removal. */
#define GROUP_ID_REUSE_AFTER 1024

#define GROUP_NO_LIMIT UINT_MAX

struct group_tree {
	GPtrArray *by_id; /* struct group * or NULL once removed */
	struct nameidx *names; /* children by name, shared with snapshots */
	/* removed ids, oldest first from free_head: one array, not a node
	 * per id, so that removals leave no small blocks behind to pin
	 * the pages the groups were freed from */
	GArray *free_ids;
	unsigned int free_head;
	uint64_t serials; /* the last serial handed out */
	uint64_t removals; /* groups removed so far */
	unsigned int ncpu;
	size_t history_len; /* bytes of history per group at most */
	char *release_agent;
	/* the limit on descendants "default" means (--max-descendants) */
	unsigned int default_max_descendants;
	uint64_t gen; /* bumped when the shape of the tree changes */
	/* Ids whose group changed, came or went since the last snapshot
	 * was built (snapshot.c takes them: its work follows the changes,
	 * not the number of groups), and which build that was. */
	GArray *dirty;
	uint64_t snap_epoch;
	/* Ids changed since the last group_record_changed (history). */
	GArray *unrecorded;
	/* user and sys are the tasks' tick counts (ticks.h), as the kernel's
	 * cpustat, not the sampled split of usage */
	bool modes_from_ticks;
	/* Kernel counters (kcount.h), or NULL: kmax groups of ncpu slots,
	 * each charged to the task's own group only. */
	const struct kslot *kslots;
	/* what groups took of them, alike: a mapping of its own, whose
	 * pages of free ids group_tree_trim hands back */
	struct kslot *kseen;
	size_t kseen_bytes;
	unsigned int kmax;
};

struct group_tree *group_tree_new(unsigned int ncpu, size_t history_len);
void group_tree_free(struct group_tree *tree);

/* From now on groups are charged from the kernel's counters at slots
 * (kcount.h): every group, and each one made later, starts from the
 * counts its id's slots hold then. Ids stop at kmax (mkdir: ENOSPC). */
void group_tree_set_kslots(struct group_tree *tree, const struct kslot *slots,
			   unsigned int kmax);

/* Hand back the memory of removed groups that is the tree's own: the
 * kernel counters' pages of ids no group holds (group.c frees the rest
 * with each group). */
void group_tree_trim(struct group_tree *tree);

struct group *group_root(const struct group_tree *tree);
struct group *group_by_id(const struct group_tree *tree, unsigned int id);
struct group *group_child(const struct group *parent, const char *name);
bool group_is_ancestor(const struct group *anc, const struct group *g);

/* A checkpoint's group back on its own id (state.h): the tree's ids
 * stay what the kernel's lookups know. The caller restores counters. */
struct group *group_restore(struct group_tree *tree, struct group *parent,
			    const char *name, unsigned int id, mode_t mode);
/* How many ids are free, and the i-th oldest of them. */
unsigned int group_free_id_count(const struct group_tree *tree);
unsigned int group_free_id(const struct group_tree *tree, unsigned int i);
/* The free ids, oldest first, and the length of the id space. */
void group_restore_free_ids(struct group_tree *tree, const GArray *ids,
			    unsigned int by_id_len);

int group_mkdir(struct group_tree *tree, struct group *parent, const char *name,
		mode_t mode, struct group **out);
int group_rmdir(struct group_tree *tree, struct group *g);
/* The limit on g's descendants (GROUP_NO_LIMIT: none). A limit below
 * what exists already is kept: only new groups are refused, as in v2. */
void group_set_max_descendants(struct group *g, unsigned int max);
int group_rename(struct group_tree *tree, struct group *g,
		 struct group *new_parent, const char *new_name);

/* Whether cgroup v1 would run the release agent for g now: it has
 * notify_on_release, no tasks and no subgroups. */
bool group_releasable(const struct group *g);

/* g's path from the root, as the release agent gets it: "/a/b", "/". */
char *group_path(const struct group *g);
/* A change readers can see: bumps g's gen and lists it for the next
 * snapshot. Every change to a group goes through here. */
void group_touch(struct group *g);

/* The one charge path: time spent on one CPU, added to g and every
 * ancestor. */
void group_charge(struct group *g, unsigned int cpu, uint64_t user_ns,
		  uint64_t sys_ns);

/* The same for usage alone, and for user and sys alone: tick counts in
 * ns when the tree's modes_from_ticks. */
void group_charge_usage(struct group *g, unsigned int cpu, uint64_t ns);
void group_charge_ticks(struct group *g, unsigned int cpu, uint64_t user_ns,
			uint64_t sys_ns);

/* ns of usage the root was charged with that belonged to g: added to g
 * and its ancestors below the root, whose total stays as it is (a
 * container's init, adopted with what it ran before it was moved). */
void group_transfer_usage(struct group *g, unsigned int cpu, uint64_t ns);

/* echo 0 > cpuacct.usage: zero this group only, never its ancestors. */
void group_reset(struct group *g, int64_t t_ns); /* t_ns: the last pass */

/* Sum over CPUs of one of g's arrays (usage, user or sys). */
uint64_t group_sum(const struct group *g, const uint64_t *percpu);

/* Append the group's current totals to its history at time t_ns, unless
 * nothing changed since the last record (which then still answers for
 * t_ns: records hold absolute values), so idle groups cost no history. */
void group_record(struct group *g, int64_t t_ns);
/* group_record for every group changed since the last call: a pass
 * costs what changed, not the number of groups. */
void group_record_changed(struct group_tree *tree, int64_t t_ns);

struct stat_state *stat_state_ref(struct stat_state *st);
void stat_state_unref(struct stat_state *st);

#endif
