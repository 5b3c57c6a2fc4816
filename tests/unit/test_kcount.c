/* test_kcount.c - groups charged from scripted kernel counters. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "files.h"
#include "kcount.h"

#include "render_check.h"
#include "unit.h"

#define NCPU 2
#define KMAX 8

static struct kslot slots[KMAX * NCPU]; /* what the program would write */
static struct group_tree *tree;
static struct task_table *tt;
static struct group *a, *b, *c;

/* The program charging group g's own slot on cpu. */
static void kernel_adds(const struct group *g, unsigned int cpu, uint64_t usage,
			uint64_t user, uint64_t sys)
{
	struct kslot *s = &slots[g->id * NCPU + cpu];

	s->usage += usage;
	s->user += user;
	s->sys += sys;
}

static void setup(void)
{
	memset(slots, 0, sizeof(slots));
	tree = group_tree_new(NCPU, 4);
	tt = tasks_new();
	group_tree_set_kslots(tree, slots, KMAX);
	/* a/b and a/c */
	ck_assert_int_eq(group_mkdir(tree, group_root(tree), "a", 0755, &a), 0);
	ck_assert_int_eq(group_mkdir(tree, a, "b", 0755, &b), 0);
	ck_assert_int_eq(group_mkdir(tree, a, "c", 0755, &c), 0);
}

static void teardown(void)
{
	tasks_free(tt);
	group_tree_free(tree);
}

START_TEST(test_charged_to_every_ancestor)
{
	kernel_adds(b, 1, 100, 40, 0);
	kernel_adds(c, 0, 7, 0, 4);
	kernel_adds(group_root(tree), 0, 1000, 0, 0);
	ck_assert_uint_eq(kcount_charge(tree), 3);
	ck_assert_uint_eq(b->usage[1], 100);
	ck_assert_uint_eq(b->user[1], 40);
	ck_assert_uint_eq(a->usage[0], 7);
	ck_assert_uint_eq(a->usage[1], 100);
	ck_assert_uint_eq(a->sys[0], 4);
	ck_assert_uint_eq(group_root(tree)->usage[0], 1007);
	/* nothing new: nothing charged twice */
	ck_assert_uint_eq(kcount_charge(tree), 0);
	ck_assert_uint_eq(a->usage[1], 100);
}
END_TEST

START_TEST(test_read_shows_the_kernel_now)
{
	struct snapshot *snap;

	kernel_adds(b, 0, 50, 0, 0);
	kcount_charge(tree);
	snap = snapshot_build(tree, tt, NULL, 1, 0);
	/* the program goes on counting after the snapshot */
	kernel_adds(b, 0, 5, 4000000, 0);
	kernel_adds(c, 1, 3, 0, 0);
	ck_render(snap, b->id, CGF_USAGE, "55\n");
	ck_render(snap, c->id, CGF_USAGE_PERCPU, "0 3 \n");
	/* a parent is the sum of its subtree at every read */
	ck_render(snap, a->id, CGF_USAGE_PERCPU, "55 3 \n");
	ck_render(snap, a->id, CGF_USAGE_USER, "4000000\n");
	ck_render(snap, a->id, CGF_USAGE_ALL,
		  "cpu user system\n0 4000000 0\n1 0 0\n");
	snapshot_unref(snap);
}
END_TEST

START_TEST(test_new_group_starts_at_zero)
{
	struct group *d;
	struct snapshot *snap;
	unsigned int id;

	kernel_adds(c, 0, 99, 0, 0);
	kcount_charge(tree);
	id = c->id;
	ck_assert_int_eq(group_rmdir(tree, c), 0);
	/* a dying task of the removed group charges its slot late */
	slots[id * NCPU].usage += 11;
	/* the next id's slot may hold anything: it is the new baseline */
	slots[4 * NCPU + 1].usage += 123;
	ck_assert_int_eq(group_mkdir(tree, a, "d", 0755, &d), 0);
	ck_assert_uint_eq(d->id, 4);
	kcount_charge(tree);
	snap = snapshot_build(tree, tt, NULL, 1, 0);
	ck_render(snap, d->id, CGF_USAGE, "0\n");
	ck_render(snap, a->id, CGF_USAGE, "99\n");
	snapshot_unref(snap);
}
END_TEST

/* Removing a group charges what its slots gained first, so its parent
 * keeps all of it (control_rmdir does so). */
START_TEST(test_removed_child_stays_in_parent)
{
	struct snapshot *snap;

	kernel_adds(c, 1, 70, 0, 0);
	kcount_charge(tree);
	kernel_adds(c, 1, 30, 0, 0); /* since the last pass */
	kcount_charge(tree);
	ck_assert_int_eq(group_rmdir(tree, c), 0);
	snap = snapshot_build(tree, tt, NULL, 1, 0);
	ck_render(snap, a->id, CGF_USAGE, "100\n");
	snapshot_unref(snap);
}
END_TEST

/* rmdir charges the group it removes, and only it: the others wait for
 * their pass (a charge of every group per rmdir made removal slow in
 * proportion to the groups). */
START_TEST(test_charge_one_before_removal)
{
	struct snapshot *snap;

	kernel_adds(c, 0, 40, 0, 0);
	kernel_adds(b, 0, 9, 0, 0);
	ck_assert(kcount_charge_group(tree, c));
	ck_assert(!kcount_charge_group(tree, c)); /* nothing new */
	ck_assert_uint_eq(a->usage[0], 40);
	ck_assert_uint_eq(b->usage[0], 0);
	ck_assert_int_eq(group_rmdir(tree, c), 0);
	ck_assert_uint_eq(kcount_charge(tree), 1);
	snap = snapshot_build(tree, tt, NULL, 1, 0);
	ck_render(snap, a->id, CGF_USAGE, "49\n");
	snapshot_unref(snap);
}
END_TEST

START_TEST(test_reset_keeps_counting)
{
	struct snapshot *snap;

	kernel_adds(b, 0, 500, 0, 0);
	kcount_charge(tree);
	group_reset(b, 1);
	kernel_adds(b, 0, 20, 0, 0);
	snap = snapshot_build(tree, tt, NULL, 1, 0);
	ck_render(snap, b->id, CGF_USAGE, "20\n");
	/* the parent is never reset */
	ck_render(snap, a->id, CGF_USAGE, "520\n");
	snapshot_unref(snap);
}
END_TEST

START_TEST(test_slot_going_back_charges_nothing)
{
	kernel_adds(b, 0, 500, 0, 0);
	kcount_charge(tree);
	slots[b->id * NCPU].usage = 100;
	ck_assert_uint_eq(kcount_charge(tree), 0);
	ck_assert_uint_eq(b->usage[0], 500);
}
END_TEST

START_TEST(test_no_room_for_more_groups)
{
	struct group *g;
	char name[16];
	int err = 0, made = 0;

	/* ids 0..3 are taken, KMAX ids in all */
	for (int i = 0; i < KMAX && !err; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		err = group_mkdir(tree, a, name, 0755, &g);
		made += !err;
	}
	ck_assert_int_eq(err, -ENOSPC);
	ck_assert_int_eq(made, KMAX - 4);
}
END_TEST

/* What a timer pass asks before doing any work (engine_work). */
START_TEST(test_gains_told_apart)
{
	unsigned int id = c->id;

	ck_assert(!kcount_groups_gained(tree));
	ck_assert(!kcount_root_gained(tree));
	kernel_adds(group_root(tree), 1, 10, 0, 0);
	ck_assert(kcount_root_gained(tree));
	ck_assert(!kcount_groups_gained(tree));
	kernel_adds(c, 0, 0, 0, 4000000); /* a tick alone is a gain */
	ck_assert(kcount_groups_gained(tree));
	kcount_charge(tree);
	ck_assert(!kcount_groups_gained(tree));
	ck_assert(!kcount_root_gained(tree));
	/* a removed group's late charge is nobody's: no pass for it */
	ck_assert_int_eq(group_rmdir(tree, c), 0);
	slots[id * NCPU + 1].usage += 11;
	ck_assert(!kcount_groups_gained(tree));
	kernel_adds(b, 1, 1, 0, 0); /* past the removed one */
	ck_assert(kcount_groups_gained(tree));
}
END_TEST

/* A root-only pass charges the root and no other group, publishes no
 * snapshot, and reads stay the kernel's: those of the old snapshot add
 * the gains since it, the root's included. */
START_TEST(test_root_alone_stays_exact)
{
	struct group *root = group_root(tree);
	struct snapshot *snap;

	kernel_adds(b, 0, 100, 0, 0);
	kernel_adds(root, 0, 1000, 0, 0);
	kcount_charge(tree);
	snap = snapshot_build(tree, tt, NULL, 1, 0);
	kernel_adds(root, 1, 7, 0, 0);
	kernel_adds(b, 1, 5, 0, 0); /* after the pass decided: not taken */
	ck_assert(kcount_charge_root(tree));
	ck_assert(!kcount_charge_root(tree)); /* nothing new */
	ck_assert_uint_eq(root->usage[1], 7);
	ck_assert_uint_eq(b->usage[1], 0);
	ck_assert(kcount_groups_gained(tree)); /* b waits for its pass */
	ck_render(snap, 0, CGF_USAGE_PERCPU, "1100 12 \n");
	ck_render(snap, b->id, CGF_USAGE_PERCPU, "100 5 \n");
	snapshot_unref(snap);
	/* and a snapshot built after the root-only pass reads the same */
	snap = snapshot_build(tree, tt, NULL, 2, 0);
	ck_render(snap, 0, CGF_USAGE_PERCPU, "1100 12 \n");
	snapshot_unref(snap);
	kcount_charge(tree);
	ck_assert_uint_eq(root->usage[1], 12);
}
END_TEST

/* Pages of the tree's kernel counts resident in [first, last) ids. */
static unsigned int resident_pages(const struct group_tree *t,
				   unsigned int first, unsigned int last)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t per_id = t->ncpu * sizeof(struct kslot);
	size_t from = first * per_id / page, to = (last * per_id - 1) / page;
	size_t pages = to - from + 1;
	unsigned char in[pages];
	unsigned int n = 0;

	ck_assert_int_eq(
	    mincore((char *)t->kseen + from * page, pages * page, in), 0);
	for (size_t i = 0; i < pages; i++)
		n += in[i] & 1;
	return n;
}

/* After groups go, the pages of their kernel counts go back, and no
 * later pass or check brings them back: a read fault would (on some
 * kernels it allocates rather than mapping the zero page). */
START_TEST(test_removed_ids_pages_go_back)
{
	enum { MANY = 2048, MADE = 1500 };
	g_autofree struct kslot *many = g_new0(struct kslot, MANY * NCPU);
	struct group_tree *t = group_tree_new(NCPU, 4);
	struct group *root = group_root(t), *g, *keep;
	char name[16];

	group_tree_set_kslots(t, many, MANY);
	for (unsigned int i = 1; i <= MADE; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		ck_assert_int_eq(group_mkdir(t, root, name, 0755, &g), 0);
		many[g->id * NCPU].usage = 1000 + i;
	}
	ck_assert_uint_eq(kcount_charge(t), MADE);
	keep = group_child(root, "g1000");
	ck_assert_uint_gt(resident_pages(t, 1, MADE), 10);
	for (unsigned int i = 1; i <= MADE; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		g = group_child(root, name);
		if (g != keep)
			ck_assert_int_eq(group_rmdir(t, g), 0);
	}
	group_tree_trim(t);
	/* the page of the root and the one of keep stay */
	ck_assert_uint_eq(resident_pages(t, 0, MADE + 1), 2);
	/* late charges to removed ids, and keep's own */
	many[5 * NCPU].usage += 7;
	many[keep->id * NCPU + 1].usage += 9;
	ck_assert(kcount_groups_gained(t));
	ck_assert_uint_eq(kcount_charge(t), 1);
	ck_assert_uint_eq(keep->usage[1], 9);
	ck_assert(!kcount_groups_gained(t));
	ck_assert_uint_eq(resident_pages(t, 0, MADE + 1), 2);
	/* a group back on a dropped id starts from what the kernel holds */
	ck_assert_int_eq(group_mkdir(t, root, "again", 0755, &g), 0);
	ck_assert_uint_eq(g->id, 1);
	kcount_charge(t);
	ck_assert_uint_eq(group_sum(g, g->usage), 0);
	group_tree_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kcount");
	TCase *tc = tcase_create("kcount");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_charged_to_every_ancestor);
	tcase_add_test(tc, test_read_shows_the_kernel_now);
	tcase_add_test(tc, test_new_group_starts_at_zero);
	tcase_add_test(tc, test_reset_keeps_counting);
	tcase_add_test(tc, test_removed_child_stays_in_parent);
	tcase_add_test(tc, test_charge_one_before_removal);
	tcase_add_test(tc, test_slot_going_back_charges_nothing);
	tcase_add_test(tc, test_no_room_for_more_groups);
	tcase_add_test(tc, test_gains_told_apart);
	tcase_add_test(tc, test_root_alone_stays_exact);
	suite_add_tcase(s, tc);
	tc = tcase_create("trim");
	tcase_add_test(tc, test_removed_ids_pages_go_back);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
