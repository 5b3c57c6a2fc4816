/* test_ticks.c - a task's tick counts, its exit record and its tail. */
#include <check.h>
#include <stdlib.h>

#include "ticks.h"

#include "unit.h"

#define MS 1000000ULL

static struct ts_rec rec(uint64_t user, uint64_t sys, uint64_t run,
			 uint64_t age)
{
	return (struct ts_rec){.tid = 10,
			       .user_ns = user,
			       .sys_ns = sys,
			       .run_ns = run,
			       .age_ns = age};
}

#define ck_gain(gain, user, sys)                                               \
	do {                                                                   \
		ck_assert_uint_eq((gain).user_ns, user);                       \
		ck_assert_uint_eq((gain).sys_ns, sys);                         \
	} while (0)

/* A task there before us: its first reading is only a baseline. */
START_TEST(test_first_reading_is_baseline)
{
	struct task_ticks tk = {0};
	struct ts_rec r = rec(400 * MS, 100 * MS, 500 * MS, 0);
	struct tick_gain gain;

	ck_assert(ticks_read(&tk, &r, false, &gain));
	ck_gain(gain, 0, 0);
	r = rec(408 * MS, 104 * MS, 512 * MS, 0);
	ck_assert(ticks_read(&tk, &r, false, &gain));
	ck_gain(gain, 8 * MS, 4 * MS);
}
END_TEST

/* Lower counts than before: the tid names another task now, whose
 * gains count from there. */
START_TEST(test_lower_counts_are_someone_else)
{
	struct task_ticks tk;
	struct ts_rec r = rec(12 * MS, 4 * MS, 16 * MS, 0);
	struct tick_gain gain;

	ticks_born(&tk, 100 * MS);
	ck_assert(ticks_read(&tk, &r, false, &gain));
	ck_gain(gain, 12 * MS, 4 * MS);
	r = rec(4 * MS, 4 * MS, 1 * MS, 0);
	ck_assert(!ticks_read(&tk, &r, false, &gain));
	ck_gain(gain, 0, 0);
	r = rec(8 * MS, 4 * MS, 5 * MS, 0);
	ck_assert(ticks_read(&tk, &r, false, &gain));
	ck_gain(gain, 4 * MS, 0);
}
END_TEST

/* Born at 100 ms, exit record at 100 + 6 ms: of the runtime records,
 * only what ends after 106 ms is tail, worth its time in system mode. */
START_TEST(test_tail_is_runtime_after_exit_record)
{
	struct task_ticks tk;
	struct ts_rec r = rec(4 * MS, 0, 3 * MS, 6 * MS);
	struct tick_gain gain;

	ticks_born(&tk, 100 * MS);
	ticks_ran(&tk, 5 * MS, 105 * MS, 0);
	ck_assert(ticks_read(&tk, &r, true, &gain));
	ck_gain(gain, 4 * MS, 0);
	ck_assert(tk.final);
	ck_assert_uint_eq(tk.exit_ns, 106 * MS);
	ticks_ran(&tk, 3 * MS, 108 * MS, 0); /* 1 ms before, 2 ms after */
	ticks_ran(&tk, 1 * MS, 110 * MS, 0);
	ticks_finish(&tk, &gain);
	ck_gain(gain, 0, 3 * MS);
	/* finishing twice gains nothing more */
	ticks_finish(&tk, &gain);
	ck_gain(gain, 0, 0);
}
END_TEST

/* Its exit record lost: what it ran since its last reading is split
 * the way its own ticks were. */
START_TEST(test_lost_exit_record_split_by_own_ticks)
{
	struct task_ticks tk;
	struct ts_rec r = rec(12 * MS, 4 * MS, 16 * MS, 0);
	struct tick_gain gain;

	ticks_born(&tk, 100 * MS);
	ticks_ran(&tk, 16 * MS, 120 * MS, 0);
	ticks_read(&tk, &r, false, &gain);
	ticks_ran(&tk, 8 * MS, 130 * MS, 0);
	ticks_finish(&tk, &gain);
	ck_gain(gain, 6 * MS, 2 * MS);
}
END_TEST

/* A task there before us has no birth time: its tail is what the
 * records show after its exit record's runtime (an upper bound). */
START_TEST(test_tail_without_birth)
{
	struct task_ticks tk = {0};
	struct ts_rec r = rec(100 * MS, 0, 100 * MS, 0);
	struct tick_gain gain;

	ticks_read(&tk, &r, false, &gain);
	ticks_ran(&tk, 10 * MS, 0, 0);
	r = rec(108 * MS, 0, 108 * MS, 50 * MS);
	ticks_read(&tk, &r, true, &gain);
	ck_gain(gain, 8 * MS, 0);
	ticks_ran(&tk, 1 * MS, 0, 0);
	ticks_finish(&tk, &gain);
	ck_gain(gain, 0, 3 * MS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ticks");
	TCase *tc = tcase_create("ticks");

	tcase_add_test(tc, test_first_reading_is_baseline);
	tcase_add_test(tc, test_lower_counts_are_someone_else);
	tcase_add_test(tc, test_tail_is_runtime_after_exit_record);
	tcase_add_test(tc, test_lost_exit_record_split_by_own_ticks);
	tcase_add_test(tc, test_tail_without_birth);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
