/* test_render.c - every format against the bytes the kernel produces. */
#include <check.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#include "unit.h"

/* Exact bytes, including length, so a missing or extra space fails. */
#define ck_assert_gstring_eq(gs, literal)                                      \
	do {                                                                   \
		ck_assert_uint_eq((gs)->len, sizeof(literal) - 1);             \
		ck_assert_mem_eq((gs)->str, literal, sizeof(literal) - 1);     \
	} while (0)

START_TEST(test_u64)
{
	g_autoptr(GString) out = g_string_new(NULL);

	render_u64(out, 0);
	render_u64(out, 51704148311ULL);
	render_u64(out, UINT64_MAX);
	ck_assert_gstring_eq(out, "0\n51704148311\n18446744073709551615\n");
}
END_TEST

START_TEST(test_percpu_keeps_trailing_space)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const uint64_t values[] = {18408540397ULL, 33303013983ULL};

	render_percpu(out, values, 2);
	ck_assert_gstring_eq(out, "18408540397 33303013983 \n");
}
END_TEST

START_TEST(test_percpu_new_group)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const uint64_t zeros[2] = {0};

	render_percpu(out, zeros, 2);
	ck_assert_gstring_eq(out, "0 0 \n");
}
END_TEST

START_TEST(test_percpu_one_cpu_and_none)
{
	g_autoptr(GString) one = g_string_new(NULL);
	g_autoptr(GString) none = g_string_new(NULL);
	const uint64_t value = UINT64_MAX;

	render_percpu(one, &value, 1);
	render_percpu(none, NULL, 0);
	ck_assert_gstring_eq(one, "18446744073709551615 \n");
	ck_assert_gstring_eq(none, "\n");
}
END_TEST

START_TEST(test_usage_all_rows_have_no_trailing_space)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const uint64_t user[] = {8809740190ULL, 16342271500ULL};
	const uint64_t sys[] = {8609901638ULL, 15757457137ULL};

	render_usage_all(out, user, sys, 2);
	ck_assert_gstring_eq(out, "cpu user system\n"
				  "0 8809740190 8609901638\n"
				  "1 16342271500 15757457137\n");
}
END_TEST

START_TEST(test_usage_all_new_group)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const uint64_t zeros[2] = {0};

	render_usage_all(out, zeros, zeros, 2);
	ck_assert_gstring_eq(out, "cpu user system\n0 0 0\n1 0 0\n");
}
END_TEST

START_TEST(test_usage_all_many_cpus)
{
	g_autoptr(GString) out = g_string_new(NULL);
	uint64_t user[12], sys[12];

	for (unsigned cpu = 0; cpu < 12; cpu++) {
		user[cpu] = cpu * 10;
		sys[cpu] = cpu * 100;
	}
	render_usage_all(out, user, sys, 12);
	/* Two-digit CPU numbers are not padded. */
	ck_assert_ptr_nonnull(strstr(out->str, "\n9 90 900\n10 100 1000\n"));
	ck_assert(g_str_has_suffix(out->str, "\n11 110 1100\n"));
}
END_TEST

START_TEST(test_stat)
{
	g_autoptr(GString) out = g_string_new(NULL);

	render_stat(out, 2626, 2543);
	ck_assert_gstring_eq(out, "user 2626\nsystem 2543\n");
}
END_TEST

START_TEST(test_stat_zero)
{
	g_autoptr(GString) out = g_string_new(NULL);

	render_stat(out, 0, 0);
	ck_assert_gstring_eq(out, "user 0\nsystem 0\n");
}
END_TEST

START_TEST(test_ids)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const int ids[] = {1, 2, 4194304};

	render_ids(out, ids, 3);
	ck_assert_gstring_eq(out, "1\n2\n4194304\n");
}
END_TEST

START_TEST(test_ids_empty_is_zero_bytes)
{
	g_autoptr(GString) out = g_string_new(NULL);

	render_ids(out, NULL, 0);
	ck_assert_uint_eq(out->len, 0);
}
END_TEST

START_TEST(test_flag)
{
	g_autoptr(GString) off = g_string_new(NULL);
	g_autoptr(GString) on = g_string_new(NULL);

	render_flag(off, false);
	render_flag(on, true);
	ck_assert_gstring_eq(off, "0\n");
	ck_assert_gstring_eq(on, "1\n");
}
END_TEST

START_TEST(test_line)
{
	g_autoptr(GString) empty = g_string_new(NULL);
	g_autoptr(GString) path = g_string_new(NULL);

	render_line(empty, "");
	render_line(path, "/sbin/agent");
	ck_assert_gstring_eq(empty, "\n");
	ck_assert_gstring_eq(path, "/sbin/agent\n");
}
END_TEST

START_TEST(test_appends_to_existing_content)
{
	g_autoptr(GString) out = g_string_new("x");

	render_u64(out, 7);
	render_flag(out, true);
	ck_assert_gstring_eq(out, "x7\n1\n");
}
END_TEST

static Suite *render_suite(void)
{
	Suite *suite = suite_create("render");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, test_u64);
	tcase_add_test(tc, test_percpu_keeps_trailing_space);
	tcase_add_test(tc, test_percpu_new_group);
	tcase_add_test(tc, test_percpu_one_cpu_and_none);
	tcase_add_test(tc, test_usage_all_rows_have_no_trailing_space);
	tcase_add_test(tc, test_usage_all_new_group);
	tcase_add_test(tc, test_usage_all_many_cpus);
	tcase_add_test(tc, test_stat);
	tcase_add_test(tc, test_stat_zero);
	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_ids_empty_is_zero_bytes);
	tcase_add_test(tc, test_flag);
	tcase_add_test(tc, test_line);
	tcase_add_test(tc, test_appends_to_existing_content);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	return unit_run(render_suite());
}
