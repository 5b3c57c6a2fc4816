/* kcount.c - charge groups from the kernel's counters, and read them live. */
#include <string.h>

#include "kcount.h"

static struct kslot load_slot(const struct kslot *s)
{
	struct kslot v = {
	    .usage = __atomic_load_n(&s->usage, __ATOMIC_RELAXED),
	    .user = __atomic_load_n(&s->user, __ATOMIC_RELAXED),
	    .sys = __atomic_load_n(&s->sys, __ATOMIC_RELAXED),
	};

	return v;
}

/* Slots only grow; a slot below what we saw would be a foreign writer,
 * and charging its difference would wrap: take it as nothing. */
static uint64_t gain(uint64_t now, uint64_t seen)
{
	return now > seen ? now - seen : 0;
}

static bool charge_group(const struct group_tree *tree, struct group *g)
{
	const struct kslot *slots = tree->kslots + (size_t)g->id * tree->ncpu;
	bool any = false;

	for (unsigned int cpu = 0; cpu < tree->ncpu; cpu++) {
		struct kslot now = load_slot(&slots[cpu]);
		struct kslot *seen = &g->kseen[cpu];
		uint64_t run = gain(now.usage, seen->usage);
		uint64_t user = gain(now.user, seen->user);
		uint64_t sys = gain(now.sys, seen->sys);

		if (!run && !user && !sys)
			continue;
		group_charge_usage(g, cpu, run);
		group_charge_ticks(g, cpu, user, sys);
		*seen = now;
		any = true;
	}
	return any;
}

/* Whether the slots of id differ from what its group took of them:
 * one compare of contiguous memory, as most groups are idle. */
static bool slots_moved(const struct group_tree *tree, unsigned int id)
{
	size_t at = (size_t)id * tree->ncpu;

	return memcmp(&tree->kslots[at], &tree->kseen[at],
		      tree->ncpu * sizeof(struct kslot)) != 0;
}

unsigned int kcount_charge(struct group_tree *tree)
{
	unsigned int changed = 0;

	if (!tree->kslots)
		return 0;
	for (unsigned int id = 0; id < tree->by_id->len; id++) {
		struct group *g = group_by_id(tree, id);

		/* a free id's slots are neither charged nor read: their
		 * pages went back (group_tree_trim) */
		if (g && slots_moved(tree, id) && charge_group(tree, g))
			changed++;
	}
	return changed;
}

bool kcount_charge_group(struct group_tree *tree, struct group *g)
{
	return tree->kslots && slots_moved(tree, g->id) &&
	       charge_group(tree, g);
}

bool kcount_charge_root(struct group_tree *tree)
{
	return tree->kslots && slots_moved(tree, 0) &&
	       charge_group(tree, group_root(tree));
}

bool kcount_root_gained(const struct group_tree *tree)
{
	return tree->kslots && slots_moved(tree, 0);
}

bool kcount_groups_gained(const struct group_tree *tree)
{
	if (!tree->kslots)
		return false;
	/* id by id: a compare of the whole range would read, and so bring
	 * back, the pages of free ids (see kcount_charge) */
	for (unsigned int id = 1; id < tree->by_id->len; id++)
		if (group_by_id(tree, id) && slots_moved(tree, id))
			return true;
	return false;
}

static void add_gains(const struct snapshot *snap, const struct snap_group *g,
		      uint64_t *usage, uint64_t *user, uint64_t *sys)
{
	const struct kslot *slots = snap->kslots + (size_t)g->id * snap->ncpu;

	for (unsigned int cpu = 0; cpu < snap->ncpu; cpu++) {
		struct kslot now = load_slot(&slots[cpu]);

		usage[cpu] += gain(now.usage, g->kseen[cpu].usage);
		user[cpu] += gain(now.user, g->kseen[cpu].user);
		sys[cpu] += gain(now.sys, g->kseen[cpu].sys);
	}
	for (unsigned int i = 0; i < g->children->len; i++) {
		const struct snap_group *c = snapshot_group(
		    snap, g_array_index(g->children, unsigned int, i));

		if (c)
			add_gains(snap, c, usage, user, sys);
	}
}

void kcount_now(const struct snapshot *snap, const struct snap_group *g,
		uint64_t *usage, uint64_t *user, uint64_t *sys)
{
	size_t bytes = snap->ncpu * sizeof(uint64_t);

	memcpy(usage, g->usage, bytes);
	memcpy(user, g->user, bytes);
	memcpy(sys, g->sys, bytes);
	if (snap->kslots && g->kseen)
		add_gains(snap, g, usage, user, sys);
}
