/* test_snapshot.c - snapshots of the tree and the files rendered from them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "files.h"
#include "snapshot.h"

#include "render_check.h"
#include "unit.h"

static struct group_tree *tree;
static struct task_table *tt;

static void setup(void)
{
	tree = group_tree_new(2, 4);
	tt = tasks_new();
}

static void teardown(void)
{
	tasks_free(tt);
	group_tree_free(tree);
}

START_TEST(test_files_of_a_group)
{
	struct group *g = NULL;
	struct proc *p;
	struct snapshot *snap;

	group_mkdir(tree, group_root(tree), "g", 0755, &g);
	p = tasks_add_proc(tt, 30, g);
	tasks_add_thread(tt, p, 32, g);
	tasks_add_thread(tt, p, 31, g);
	tasks_add_proc(tt, 7, g);
	group_charge(g, 0, 3000000000ULL, 1000000000ULL);
	group_charge(g, 1, 5, 0);
	snap = snapshot_build(tree, tt, NULL, 1, 0);
	ck_render(snap, g->id, CGF_USAGE, "4000000005\n");
	ck_render(snap, g->id, CGF_USAGE_PERCPU, "4000000000 5 \n");
	ck_render(snap, g->id, CGF_USAGE_USER, "3000000005\n");
	ck_render(snap, g->id, CGF_USAGE_ALL,
		  "cpu user system\n0 3000000000 1000000000\n1 5 0\n");
	ck_render(snap, g->id, CGF_STAT, "user 300\nsystem 100\n");
	ck_render(snap, g->id, CGF_TASKS, "7\n30\n31\n32\n");
	ck_render(snap, g->id, CGF_PROCS, "7\n30\n");
	ck_render(snap, 0, CGF_USAGE, "4000000005\n");
	ck_render(snap, 0, CGF_TASKS, "");
	ck_render(snap, 0, CGF_RELEASE_AGENT, "\n");
	snapshot_unref(snap);
}
END_TEST

START_TEST(test_unchanged_groups_are_shared)
{
	struct group *a = NULL, *b = NULL;
	struct snapshot *s1, *s2, *s3;

	group_mkdir(tree, group_root(tree), "a", 0755, &a);
	group_mkdir(tree, group_root(tree), "b", 0755, &b);
	s1 = snapshot_build(tree, tt, NULL, 1, 0);
	s2 = snapshot_build(tree, tt, s1, 2, 0);
	ck_assert_ptr_eq(snapshot_group(s1, a->id), snapshot_group(s2, a->id));
	group_charge(a, 0, 1, 1);
	s3 = snapshot_build(tree, tt, s2, 3, 0);
	/* a and its ancestor changed, b did not */
	ck_assert_ptr_ne(snapshot_group(s2, a->id), snapshot_group(s3, a->id));
	ck_assert_ptr_ne(snapshot_group(s2, 0), snapshot_group(s3, 0));
	ck_assert_ptr_eq(snapshot_group(s2, b->id), snapshot_group(s3, b->id));
	ck_assert(snapshot_group_same(s2, s3, b->id));
	ck_assert(!snapshot_group_same(s2, s3, a->id));
	/* an old snapshot keeps what it showed */
	ck_render(s2, a->id, CGF_USAGE, "0\n");
	ck_render(s3, a->id, CGF_USAGE, "2\n");
	snapshot_unref(s1);
	snapshot_unref(s2);
	snapshot_unref(s3);
}
END_TEST

/* A new group given a removed group's id never shows the old group's
 * copy, even if its gen happens to be the same. */
START_TEST(test_reused_id_not_shared)
{
	struct group *old = NULL, *g = NULL;
	struct snapshot *s1, *s2;
	unsigned int id;
	char name[32];

	group_mkdir(tree, group_root(tree), "old", 0755, &old);
	id = old->id;
	s1 = snapshot_build(tree, tt, NULL, 1, 0);
	group_rmdir(tree, old);
	for (int i = 0; i < GROUP_ID_REUSE_AFTER; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		group_mkdir(tree, group_root(tree), name, 0755, &g);
		group_rmdir(tree, g);
	}
	group_mkdir(tree, group_root(tree), "new", 0755, &g);
	ck_assert_uint_eq(g->id, id);
	g->gen = snapshot_group(s1, id)->gen;
	s2 = snapshot_build(tree, tt, s1, 2, 0);
	ck_assert_ptr_ne(snapshot_group(s1, id), snapshot_group(s2, id));
	ck_assert_str_eq(snapshot_group(s2, id)->name, "new");
	ck_assert(!snapshot_group_same(s1, s2, id));
	snapshot_unref(s1);
	snapshot_unref(s2);
}
END_TEST

START_TEST(test_membership_change_is_seen)
{
	struct group *a = NULL;
	struct snapshot *s1, *s2;
	struct proc *p;

	group_mkdir(tree, group_root(tree), "a", 0755, &a);
	p = tasks_add_proc(tt, 40, group_root(tree));
	s1 = snapshot_build(tree, tt, NULL, 1, 0);
	tasks_move(tt, p->threads->pdata[0], a);
	s2 = snapshot_build(tree, tt, s1, 2, 0);
	ck_render(s1, a->id, CGF_TASKS, "");
	ck_render(s2, a->id, CGF_TASKS, "40\n");
	ck_render(s2, 0, CGF_TASKS, "");
	snapshot_unref(s1);
	snapshot_unref(s2);
}
END_TEST

START_TEST(test_stat_monotonic_across_reset)
{
	struct group *a = NULL;
	struct snapshot *s1, *s2;

	group_mkdir(tree, group_root(tree), "a", 0755, &a);
	group_charge(a, 0, 500000000ULL, 200000000ULL);
	s1 = snapshot_build(tree, tt, NULL, 1, 0);
	ck_render(s1, a->id, CGF_STAT, "user 50\nsystem 20\n");
	group_reset(a, 1);
	group_charge(a, 0, 100000000ULL, 0);
	s2 = snapshot_build(tree, tt, s1, 2, 0);
	/* as in the kernel: the reported split never goes back */
	ck_render(s2, a->id, CGF_STAT, "user 50\nsystem 20\n");
	ck_render(s2, a->id, CGF_USAGE, "100000000\n");
	snapshot_unref(s1);
	snapshot_unref(s2);
}
END_TEST

/* A chunk whose groups are all gone is dropped, not kept empty: a
 * removal burst would otherwise leave those chunks scattered in the heap. */
START_TEST(test_empty_chunk_dropped)
{
	struct group *g[SNAP_CHUNK] = {NULL};
	struct snapshot *s1, *s2, *s3;
	unsigned int last = 0;

	for (unsigned int i = 0; i < SNAP_CHUNK; i++) {
		char name[16];

		snprintf(name, sizeof(name), "g%u", i);
		ck_assert_int_eq(
		    group_mkdir(tree, group_root(tree), name, 0755, &g[i]), 0);
		last = g[i]->id;
	}
	s1 = snapshot_build(tree, tt, NULL, 1, 0);
	ck_assert_ptr_nonnull(s1->chunks[last / SNAP_CHUNK]);
	/* ids 1..SNAP_CHUNK: the second chunk holds only g[SNAP_CHUNK-1] */
	ck_assert_int_eq(group_rmdir(tree, g[SNAP_CHUNK - 1]), 0);
	s2 = snapshot_build(tree, tt, s1, 2, 0);
	ck_assert_ptr_null(s2->chunks[last / SNAP_CHUNK]);
	ck_assert_ptr_nonnull(s1->chunks[last / SNAP_CHUNK]); /* unchanged */
	ck_assert_ptr_nonnull(snapshot_group(s2, g[0]->id));
	ck_assert_ptr_null(snapshot_group(s2, last));
	/* and a group on an id of a dropped chunk gets one again */
	ck_assert_int_eq(
	    group_mkdir(tree, group_root(tree), "again", 0755, &g[0]), 0);
	s3 = snapshot_build(tree, tt, s2, 3, 0);
	ck_assert_ptr_nonnull(snapshot_group(s3, g[0]->id));
	snapshot_unref(s1);
	snapshot_unref(s2);
	snapshot_unref(s3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("snapshot");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_files_of_a_group);
	tcase_add_test(tc, test_unchanged_groups_are_shared);
	tcase_add_test(tc, test_reused_id_not_shared);
	tcase_add_test(tc, test_membership_change_is_seen);
	tcase_add_test(tc, test_stat_monotonic_across_reset);
	tcase_add_test(tc, test_empty_chunk_dropped);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
