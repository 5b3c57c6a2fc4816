/* kcount.h - groups charged from counters the kernel keeps (bpfacct.h).
 *
 * The in-kernel program adds each task's runtime and ticks to a slot of
 * its own group per CPU. Here those slots become the tree's counters: a
 * pass charges each group with what its slots gained since the last pass,
 * through the one walk to the root (group.h), so history, resets and
 * snapshots work as with any other source; and a read adds what the
 * slots of the group's subtree gained since its snapshot, so it shows
 * the kernel's counts at the moment of the read, with no pass to wait
 * for. The slots are plain memory here, so tests can script them.
 */
#ifndef CPUACCTFS_KCOUNT_H
#define CPUACCTFS_KCOUNT_H

#include <stdint.h>

#include "group.h"
#include "snapshot.h"

/* Charge every group with what its slots gained since it last was;
 * returns how many groups gained anything. */
unsigned int kcount_charge(struct group_tree *tree);

/* Charge g alone with what its slots gained (before g goes); true if
 * they gained anything. */
bool kcount_charge_group(struct group_tree *tree, struct group *g);

/* Charge the root alone with what its own slots gained (the tasks in no
 * group); true if they gained anything. */
bool kcount_charge_root(struct group_tree *tree);

/* Whether the root's own slots gained since they were charged. */
bool kcount_root_gained(const struct group_tree *tree);

/* Whether the slots of any group other than the root gained since they
 * were charged: a compare of contiguous memory, no charging. */
bool kcount_groups_gained(const struct group_tree *tree);

/* g's per-CPU counters as of now: the snapshot's, plus what the slots of
 * g and its descendants gained since it was built. Each array has
 * snap->ncpu entries. */
void kcount_now(const struct snapshot *snap, const struct snap_group *g,
		uint64_t *usage, uint64_t *user, uint64_t *sys);

#endif
