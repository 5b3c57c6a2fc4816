/* test_ticks.c - a task's tick counts, its exit record and its tail. */
#include <check.h>
#include <stdlib.h>

#include "ticks.h"

#include "unit.h"

#define MS 1000000ULL

static struct group_tree *tree;
static struct group *g, *parent;

static void setup(void)
{
	tree = group_tree_new(2, 4);
	ck_assert_int_eq(
	    group_mkdir(tree, group_root(tree), "p", 0755, &parent), 0);
	ck_assert_int_eq(group_mkdir(tree, parent, "g", 0755, &g), 0);
}

static void teardown(void)
{
	group_tree_free(tree);
}

static struct ts_rec rec(uint64_t user, uint64_t sys, uint64_t run,
			 uint64_t age)
{
	return (struct ts_rec){.tid = 10,
			       .user_ns = user,
			       .sys_ns = sys,
			       .run_ns = run,
			       .age_ns = age};
}

/* A task there before us: its first reading is only a baseline. */
START_TEST(test_first_reading_is_baseline)
{
	struct task_ticks tk = {0};
	struct ts_rec r = rec(400 * MS, 100 * MS, 500 * MS, 0);

	ck_assert(ticks_read(&tk, &r, g, false));
	ck_assert_uint_eq(g->tick_user + g->tick_sys, 0);
	r = rec(408 * MS, 104 * MS, 512 * MS, 0);
	ck_assert(ticks_read(&tk, &r, g, false));
	ck_assert_uint_eq(g->tick_user, 8 * MS);
	ck_assert_uint_eq(g->tick_sys, 4 * MS);
	/* ancestors too, as the kernel's cpustat */
	ck_assert_uint_eq(parent->tick_user, 8 * MS);
	ck_assert_uint_eq(group_root(tree)->tick_sys, 4 * MS);
}
END_TEST

/* Lower counts than before: the tid names another task now. */
START_TEST(test_lower_counts_are_someone_else)
{
	struct task_ticks tk;
	struct ts_rec r = rec(12 * MS, 4 * MS, 16 * MS, 0);

	ticks_born(&tk, 100 * MS);
	ck_assert(ticks_read(&tk, &r, g, false));
	r = rec(4 * MS, 4 * MS, 1 * MS, 0);
	ck_assert(!ticks_read(&tk, &r, g, false));
	ck_assert_uint_eq(g->tick_user, 12 * MS);
	ck_assert_uint_eq(g->tick_sys, 4 * MS);
	/* the new task's gains count from there */
	r = rec(8 * MS, 4 * MS, 5 * MS, 0);
	ck_assert(ticks_read(&tk, &r, g, false));
	ck_assert_uint_eq(g->tick_user, 16 * MS);
	ck_assert_uint_eq(g->tick_sys, 4 * MS);
}
END_TEST

/* Born at 100 ms, exit record at 100 + 6 ms: of the runtime records,
 * only what ends after 106 ms is tail, charged as system time. */
START_TEST(test_tail_is_runtime_after_exit_record)
{
	struct task_ticks tk;
	struct ts_rec r = rec(4 * MS, 0, 3 * MS, 6 * MS);

	ticks_born(&tk, 100 * MS);
	ticks_ran(&tk, 5 * MS, 105 * MS);
	ck_assert(ticks_read(&tk, &r, g, true));
	ck_assert(tk.final);
	ck_assert_uint_eq(tk.exit_ns, 106 * MS);
	ticks_ran(&tk, 3 * MS, 108 * MS); /* 1 ms before, 2 ms after */
	ticks_ran(&tk, 1 * MS, 110 * MS);
	ticks_finish(&tk, g);
	ck_assert_uint_eq(g->tick_user, 4 * MS);
	ck_assert_uint_eq(g->tick_sys, 3 * MS);
	/* finishing twice charges nothing more */
	ticks_finish(&tk, g);
	ck_assert_uint_eq(g->tick_sys, 3 * MS);
}
END_TEST

/* Its exit record lost: what it ran since its last reading is split
 * the way its own ticks were. */
START_TEST(test_lost_exit_record_split_by_own_ticks)
{
	struct task_ticks tk;
	struct ts_rec r = rec(12 * MS, 4 * MS, 16 * MS, 0);

	ticks_born(&tk, 100 * MS);
	ticks_ran(&tk, 16 * MS, 120 * MS);
	ticks_read(&tk, &r, g, false);
	ticks_ran(&tk, 8 * MS, 130 * MS);
	ticks_finish(&tk, g);
	ck_assert_uint_eq(g->tick_user, 12 * MS + 6 * MS);
	ck_assert_uint_eq(g->tick_sys, 4 * MS + 2 * MS);
}
END_TEST

/* A task there before us has no birth time: its tail is what the
 * records show after its exit record's runtime (an upper bound). */
START_TEST(test_tail_without_birth)
{
	struct task_ticks tk = {0};
	struct ts_rec r = rec(100 * MS, 0, 100 * MS, 0);

	ticks_read(&tk, &r, g, false);
	ticks_ran(&tk, 10 * MS, 0);
	r = rec(108 * MS, 0, 108 * MS, 50 * MS);
	ticks_read(&tk, &r, g, true);
	ticks_ran(&tk, 1 * MS, 0);
	ticks_finish(&tk, g);
	ck_assert_uint_eq(g->tick_user, 8 * MS);
	ck_assert_uint_eq(g->tick_sys, 3 * MS);
}
END_TEST

START_TEST(test_reset_zeroes_ticks)
{
	group_charge_ticks(g, 5 * MS, 6 * MS);
	group_reset(g);
	ck_assert_uint_eq(g->tick_user + g->tick_sys, 0);
	ck_assert_uint_eq(parent->tick_user, 5 * MS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ticks");
	TCase *tc = tcase_create("ticks");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_first_reading_is_baseline);
	tcase_add_test(tc, test_lower_counts_are_someone_else);
	tcase_add_test(tc, test_tail_is_runtime_after_exit_record);
	tcase_add_test(tc, test_lost_exit_record_split_by_own_ticks);
	tcase_add_test(tc, test_tail_without_birth);
	tcase_add_test(tc, test_reset_zeroes_ticks);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
