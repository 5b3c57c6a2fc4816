/* test_cputime.c - cputime_adjust() scaling, clamping and tick units. */
#include <check.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

#include "cputime.h"

#include "unit.h"

struct split {
	uint64_t ut;
	uint64_t st;
};

static struct split adjust(struct prev_cputime *prev, uint64_t utime,
			   uint64_t stime, uint64_t rtime)
{
	struct split out;

	cputime_adjust(utime, stime, rtime, prev, &out.ut, &out.st);
	return out;
}

START_TEST(test_scales_to_runtime)
{
	struct prev_cputime prev = {0};
	struct split out = adjust(&prev, 300, 100, 1000);

	ck_assert_uint_eq(out.st, 250);
	ck_assert_uint_eq(out.ut, 750);
	ck_assert_uint_eq(prev.stime, 250);
	ck_assert_uint_eq(prev.utime, 750);
}
END_TEST

START_TEST(test_scaled_stime_rounds_down)
{
	struct prev_cputime prev = {0};
	struct split out = adjust(&prev, 2, 1, 100);

	ck_assert_uint_eq(out.st, 33);
	ck_assert_uint_eq(out.ut, 67);
}
END_TEST

/* stime * rtime overflows 64 bits here; the quotient does not. */
START_TEST(test_no_overflow_in_product)
{
	struct prev_cputime prev = {0};
	struct split out =
	    adjust(&prev, 700000000000000000ULL, 300000000000000000ULL,
		   1000000000000000000ULL);

	ck_assert_uint_eq(out.st, 300000000000000000ULL);
	ck_assert_uint_eq(out.ut, 700000000000000000ULL);
}
END_TEST

START_TEST(test_huge_values)
{
	struct prev_cputime prev = {0};
	struct split out =
	    adjust(&prev, UINT64_MAX / 2, UINT64_MAX / 2, UINT64_MAX - 1);

	ck_assert_uint_eq(out.st, UINT64_MAX / 2);
	ck_assert_uint_eq(out.ut, UINT64_MAX / 2);
}
END_TEST

START_TEST(test_no_system_ticks_is_all_user)
{
	struct prev_cputime prev = {0};
	struct split out = adjust(&prev, 500, 0, 1234);

	ck_assert_uint_eq(out.ut, 1234);
	ck_assert_uint_eq(out.st, 0);
}
END_TEST

START_TEST(test_no_user_ticks_is_all_system)
{
	struct prev_cputime prev = {0};
	struct split out = adjust(&prev, 0, 500, 1234);

	ck_assert_uint_eq(out.ut, 0);
	ck_assert_uint_eq(out.st, 1234);
}
END_TEST

/* Before any tick lands, the kernel calls everything user time. */
START_TEST(test_no_ticks_at_all_is_all_user)
{
	struct prev_cputime prev = {0};
	struct split out = adjust(&prev, 0, 0, 999);

	ck_assert_uint_eq(out.ut, 999);
	ck_assert_uint_eq(out.st, 0);
}
END_TEST

START_TEST(test_stime_never_goes_back)
{
	struct prev_cputime prev = {.utime = 50, .stime = 50};
	struct split out = adjust(&prev, 9, 1, 110);

	ck_assert_uint_eq(out.st, 50);
	ck_assert_uint_eq(out.ut, 60);
}
END_TEST

START_TEST(test_utime_never_goes_back)
{
	struct prev_cputime prev = {.utime = 50, .stime = 50};
	struct split out = adjust(&prev, 1, 9, 110);

	ck_assert_uint_eq(out.ut, 50);
	ck_assert_uint_eq(out.st, 60);
}
END_TEST

/* The special cases still pass through the clamps. */
START_TEST(test_zero_side_is_clamped_too)
{
	struct prev_cputime prev = {.utime = 10, .stime = 40};
	struct split all_user = adjust(&prev, 5, 0, 100);
	struct prev_cputime prev2 = {.utime = 40, .stime = 10};
	struct split all_sys = adjust(&prev2, 0, 5, 100);

	ck_assert_uint_eq(all_user.st, 40);
	ck_assert_uint_eq(all_user.ut, 60);
	ck_assert_uint_eq(all_sys.ut, 40);
	ck_assert_uint_eq(all_sys.st, 60);
}
END_TEST

START_TEST(test_runtime_not_grown_repeats_last)
{
	struct prev_cputime prev = {.utime = 70, .stime = 30};
	struct split same = adjust(&prev, 1, 1, 100);
	struct split less = adjust(&prev, 1, 99, 40);

	ck_assert_uint_eq(same.ut, 70);
	ck_assert_uint_eq(same.st, 30);
	ck_assert_uint_eq(less.ut, 70);
	ck_assert_uint_eq(less.st, 30);
	ck_assert_uint_eq(prev.utime, 70);
	ck_assert_uint_eq(prev.stime, 30);
}
END_TEST

START_TEST(test_zero_runtime_reports_zero)
{
	struct prev_cputime prev = {0};
	struct split out = adjust(&prev, 10, 10, 0);

	ck_assert_uint_eq(out.ut, 0);
	ck_assert_uint_eq(out.st, 0);
}
END_TEST

/* Values read from a real group (6.18): usage_user, usage_sys, usage,
 * and the cpuacct.stat the kernel printed, over two reads. */
START_TEST(test_matches_kernel_reads)
{
	struct prev_cputime prev = {0};
	struct split out = adjust(&prev, 340000000, 1211823439, 1554674552);

	ck_assert_uint_eq(cputime_ns_to_ticks(out.ut), 34);
	ck_assert_uint_eq(cputime_ns_to_ticks(out.st), 121);
	out = adjust(&prev, 392000000, 1767806293, 2163570572);
	ck_assert_uint_eq(cputime_ns_to_ticks(out.ut), 39);
	ck_assert_uint_eq(cputime_ns_to_ticks(out.st), 177);
}
END_TEST

/* Whatever the samples do, a growing runtime yields a split that sums
 * to it and never decreases on either side. */
START_TEST(test_random_walk_is_monotonic)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(20240601);
	struct prev_cputime prev = {0};
	uint64_t rtime = 0, last_ut = 0, last_st = 0;

	for (int step = 0; step < 20000; step++) {
		uint64_t utime = g_rand_int_range(rand, 0, 1000000);
		uint64_t stime = g_rand_int_range(rand, 0, 1000000);
		struct split out;

		rtime += g_rand_int_range(rand, 0, 5000);
		out = adjust(&prev, utime, stime, rtime);
		ck_assert_uint_ge(out.ut, last_ut);
		ck_assert_uint_ge(out.st, last_st);
		ck_assert_uint_eq(out.ut + out.st, rtime);
		last_ut = out.ut;
		last_st = out.st;
	}
}
END_TEST

START_TEST(test_ns_to_ticks)
{
	ck_assert_uint_eq(cputime_ns_to_ticks(0), 0);
	ck_assert_uint_eq(cputime_ns_to_ticks(9999999), 0);
	ck_assert_uint_eq(cputime_ns_to_ticks(10000000), 1);
	ck_assert_uint_eq(cputime_ns_to_ticks(26269999999ULL), 2626);
	ck_assert_uint_eq(cputime_ns_to_ticks(UINT64_MAX), 1844674407370ULL);
}
END_TEST

static Suite *cputime_suite(void)
{
	Suite *suite = suite_create("cputime");
	TCase *tc = tcase_create("adjust");

	tcase_add_test(tc, test_scales_to_runtime);
	tcase_add_test(tc, test_scaled_stime_rounds_down);
	tcase_add_test(tc, test_no_overflow_in_product);
	tcase_add_test(tc, test_huge_values);
	tcase_add_test(tc, test_no_system_ticks_is_all_user);
	tcase_add_test(tc, test_no_user_ticks_is_all_system);
	tcase_add_test(tc, test_no_ticks_at_all_is_all_user);
	tcase_add_test(tc, test_stime_never_goes_back);
	tcase_add_test(tc, test_utime_never_goes_back);
	tcase_add_test(tc, test_zero_side_is_clamped_too);
	tcase_add_test(tc, test_runtime_not_grown_repeats_last);
	tcase_add_test(tc, test_zero_runtime_reports_zero);
	tcase_add_test(tc, test_matches_kernel_reads);
	tcase_add_test(tc, test_random_walk_is_monotonic);
	tcase_add_test(tc, test_ns_to_ticks);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	return unit_run(cputime_suite());
}
