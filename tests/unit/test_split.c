/* test_split.c - exact time split over CPUs and modes by samples. */
#include <check.h>
#include <stdlib.h>

#include "split.h"

#include "unit.h"

#define MS 1000000ULL

static struct group_tree *tree;
static struct split *sp;
static struct task_table *tt;

static void setup(void)
{
	tree = group_tree_new(2, 4);
	sp = split_new(2);
	tt = tasks_new();
}

static void teardown(void)
{
	tasks_free(tt);
	split_free(sp);
	group_tree_free(tree);
}

static struct proc *proc(pid_t pid)
{
	return tasks_add_proc(tt, pid, group_root(tree));
}

START_TEST(test_split_by_own_samples)
{
	struct proc *p = proc(10);
	struct group *root = group_root(tree);

	split_sample(sp, p, 0, true, 3 * MS);
	split_sample(sp, p, 1, false, 1 * MS);
	split_add(sp, 0, p, 100 * MS, false);
	split_flush(sp, tree);
	ck_assert_uint_eq(root->user[0], 75 * MS);
	ck_assert_uint_eq(root->sys[1], 25 * MS);
	ck_assert_uint_eq(group_sum(root, root->usage), 100 * MS);
}
END_TEST

/* When tick counts say the mode (ticks.h), the split only places the
 * time on CPUs: usage_user and usage_sys are the ticks'. */
START_TEST(test_modes_from_ticks_charge_usage_only)
{
	struct proc *p = proc(10);
	struct group *root = group_root(tree);

	tree->modes_from_ticks = true;
	split_sample(sp, p, 0, true, 3 * MS);
	split_sample(sp, p, 1, false, 1 * MS);
	split_add(sp, 0, p, 100 * MS, false);
	split_flush(sp, tree);
	ck_assert_uint_eq(root->usage[0], 75 * MS);
	ck_assert_uint_eq(root->usage[1], 25 * MS);
	ck_assert_uint_eq(group_sum(root, root->user), 0);
	ck_assert_uint_eq(group_sum(root, root->sys), 0);
}
END_TEST

/* Tick gains say how much of each mode: they go to the CPU the task
 * ran on, if one, else to the CPUs where the group's time of the pass
 * was seen in that mode, else where any of it was, else to the hint. */
START_TEST(test_ticks_spread_like_the_pass)
{
	struct proc *p = proc(10);
	struct group *root = group_root(tree);

	tree->modes_from_ticks = true;
	split_sample(sp, p, 0, true, 3 * MS);
	split_sample(sp, p, 1, true, 1 * MS);
	split_add(sp, 0, p, 100 * MS, false);
	split_add_ticks(sp, 0, -1, 1, 8 * MS, 4 * MS);
	split_add_ticks(sp, 0, 0, 1, 4 * MS, 0); /* ran on CPU 0 only */
	split_flush(sp, tree);
	ck_assert_uint_eq(root->user[0], 10 * MS);
	ck_assert_uint_eq(root->user[1], 2 * MS);
	ck_assert_uint_eq(root->sys[0], 3 * MS); /* no system time seen */
	ck_assert_uint_eq(root->sys[1], 1 * MS);
	split_add_ticks(sp, 0, -1, 1, 0, 4 * MS); /* nothing else this pass */
	split_flush(sp, tree);
	ck_assert_uint_eq(root->sys[1], 5 * MS);
	ck_assert_uint_eq(group_sum(root, root->usage), 100 * MS);
}
END_TEST

START_TEST(test_rounding_goes_to_biggest)
{
	struct proc *p = proc(10);
	struct group *root = group_root(tree);

	split_sample(sp, p, 0, true, 1);
	split_sample(sp, p, 1, true, 2);
	split_add(sp, 0, p, 10, false);
	split_flush(sp, tree);
	/* 10 * 1/3 = 3, 10 * 2/3 = 6, the lost 1 ns goes to CPU 1 */
	ck_assert_uint_eq(root->user[0], 3);
	ck_assert_uint_eq(root->user[1], 7);
}
END_TEST

START_TEST(test_forget_starts_over)
{
	struct proc *p = proc(10);
	struct group *root = group_root(tree);

	split_sample(sp, p, 0, true, 1 * MS);
	split_forget(p);
	split_sample(sp, p, 1, false, 1 * MS);
	split_add(sp, 0, p, 4 * MS, false);
	split_flush(sp, tree);
	ck_assert_uint_eq(root->sys[1], 4 * MS);
	ck_assert_uint_eq(root->usage[0], 0);
}
END_TEST

START_TEST(test_unsampled_live_goes_where_last_seen)
{
	struct proc *p = proc(10);
	struct group *root = group_root(tree);

	split_sample(sp, p, 1, true, 1 * MS);
	split_forget(p);
	split_add(sp, 0, p, 2 * MS, false);
	split_flush(sp, tree);
	ck_assert_uint_eq(root->user[1], 2 * MS);
}
END_TEST

START_TEST(test_unsampled_exits_split_like_sampled_ones)
{
	struct proc *seen = proc(10), *missed = proc(11);
	struct group *root = group_root(tree);

	/* an exited process perf caught: all on CPU 1, half user */
	split_sample(sp, seen, 1, true, 1 * MS);
	split_sample(sp, seen, 1, false, 1 * MS);
	split_add(sp, 0, seen, 2 * MS, true);
	/* one it missed, last seen on CPU 0 at its fork */
	missed->last_cpu = 0;
	split_add(sp, 0, missed, 6 * MS, true);
	split_flush(sp, tree);
	ck_assert_uint_eq(root->user[1], 4 * MS);
	ck_assert_uint_eq(root->sys[1], 4 * MS);
	ck_assert_uint_eq(root->usage[0], 0);
}
END_TEST

START_TEST(test_unsampled_exits_alone_are_system_where_they_ended)
{
	struct proc *missed = proc(11);
	struct group *root = group_root(tree);

	missed->last_cpu = 1;
	split_add(sp, 0, missed, 3 * MS, true);
	split_flush(sp, tree);
	ck_assert_uint_eq(root->sys[1], 3 * MS);
}
END_TEST

START_TEST(test_flush_charges_ancestors_once)
{
	struct group *g = NULL;
	struct proc *p = proc(10);

	group_mkdir(tree, group_root(tree), "g", 0755, &g);
	split_sample(sp, p, 0, true, 1 * MS);
	split_add(sp, g->id, p, 5 * MS, false);
	split_flush(sp, tree);
	split_flush(sp, tree); /* buckets are empty after a flush */
	ck_assert_uint_eq(g->user[0], 5 * MS);
	ck_assert_uint_eq(group_root(tree)->user[0], 5 * MS);
}
END_TEST

START_TEST(test_removed_group_is_skipped)
{
	struct group *g = NULL;
	struct proc *p = proc(10);
	unsigned int id;

	group_mkdir(tree, group_root(tree), "g", 0755, &g);
	id = g->id;
	split_add(sp, id, p, 5 * MS, false);
	group_rmdir(tree, g);
	split_flush(sp, tree);
	ck_assert_uint_eq(group_sum(group_root(tree), group_root(tree)->usage),
			  0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("split");
	TCase *tc = tcase_create("split");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_split_by_own_samples);
	tcase_add_test(tc, test_modes_from_ticks_charge_usage_only);
	tcase_add_test(tc, test_ticks_spread_like_the_pass);
	tcase_add_test(tc, test_rounding_goes_to_biggest);
	tcase_add_test(tc, test_forget_starts_over);
	tcase_add_test(tc, test_unsampled_live_goes_where_last_seen);
	tcase_add_test(tc, test_unsampled_exits_split_like_sampled_ones);
	tcase_add_test(tc,
		       test_unsampled_exits_alone_are_system_where_they_ended);
	tcase_add_test(tc, test_flush_charges_ancestors_once);
	tcase_add_test(tc, test_removed_group_is_skipped);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
