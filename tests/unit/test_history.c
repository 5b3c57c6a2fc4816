/* test_history.c - tiers, by-time lookups, budgets and resets. */
#include <check.h>
#include <errno.h>
#include <glib.h>
#include <stdint.h>

#include "history.h"

#include "unit.h"

#define S 1000000000LL
#define MS 1000000LL

static void setup(void)
{
	history_set_wall_offset(0);
}

/* One CPU busy from t=0: usage equals time, a third of it system. */
static void busy(struct history *h, int64_t from, int64_t to, int64_t step)
{
	for (int64_t t = from; t <= to; t += step)
		history_push(h, t, t, t - t / 3, t / 3);
}

START_TEST(test_recent_lookup_boundaries)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	struct hist_point p;

	ck_assert(!history_latest(h, &p));
	ck_assert(!history_at(h, HIST_RECENT, 0, &p));
	busy(h, 40 * MS, 400 * MS, 40 * MS);
	ck_assert(!history_at(h, HIST_RECENT, 40 * MS - 1, &p));
	ck_assert(history_at(h, HIST_RECENT, 40 * MS, &p));
	ck_assert_int_eq(p.t_ns, 40 * MS);
	ck_assert(history_at(h, HIST_RECENT, 80 * MS - 1, &p));
	ck_assert_int_eq(p.t_ns, 40 * MS);
	ck_assert(history_at(h, HIST_RECENT, 80 * MS, &p));
	ck_assert_int_eq(p.t_ns, 80 * MS);
	ck_assert(history_at(h, HIST_RECENT, INT64_MAX, &p));
	ck_assert_int_eq(p.t_ns, 400 * MS);
	ck_assert_uint_eq(p.usage_ns, 400 * MS);
}
END_TEST

/* 64 KiB: 64 recent records; after 1000 the ring has wrapped many
 * times and every lookup still lands on the right record. */
START_TEST(test_recent_wraparound)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	struct hist_point p;
	int64_t oldest;

	busy(h, 1 * MS, 1000 * MS, 1 * MS);
	ck_assert_uint_eq(history_len(h, HIST_RECENT), 64);
	ck_assert(history_oldest(h, HIST_RECENT, &oldest));
	ck_assert_int_eq(oldest, 937 * MS);
	ck_assert(!history_at(h, HIST_RECENT, 937 * MS - 1, &p));
	for (int64_t t = 937; t <= 1000; t++) {
		ck_assert(history_at(h, HIST_RECENT, t * MS + MS / 2, &p));
		ck_assert_int_eq(p.t_ns, t * MS);
		ck_assert_uint_eq(p.usage_ns, t * MS);
	}
}
END_TEST

/* The seconds tier keeps each second's last record; its block
 * encoding gives back times within 1 us and counters within 1 ms. */
START_TEST(test_seconds_tier)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	struct hist_point p;

	busy(h, 40 * MS, 600 * S, 40 * MS);
	ck_assert_uint_eq(history_len(h, HIST_SECONDS), 601);
	for (int64_t s = 1; s < 600; s++) {
		/* a second's last pass is at s - 40 ms */
		ck_assert(history_at(h, HIST_SECONDS, s * S - 1, &p));
		ck_assert_int_le(llabs(p.t_ns - (s * S - 40 * MS)), 1000);
		ck_assert_int_le(llabs((int64_t)p.usage_ns - (s * S - 40 * MS)),
				 MS);
	}
	ck_assert(!history_at(h, HIST_SECONDS, 39 * MS, &p));
}
END_TEST

/* A day and a half of busy seconds: the budget holds, an hour of
 * seconds and a day of minutes are there, old blocks went first. */
START_TEST(test_budget_and_coverage)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	int64_t end = 36 * 3600 * S, oldest;
	struct hist_point p;

	busy(h, 0, end, S / 2);
	ck_assert_uint_le(history_bytes(h), HISTORY_DEFAULT_BYTES);
	ck_assert(history_oldest(h, HIST_SECONDS, &oldest));
	ck_assert_int_le(oldest, end - 3600 * S);
	ck_assert_int_gt(oldest, end - 36 * 3600 * S);
	ck_assert(history_oldest(h, HIST_MINUTES, &oldest));
	ck_assert_int_le(oldest, end - 24 * 3600 * S);
	ck_assert(history_at(h, HIST_MINUTES, end - 24 * 3600 * S, &p));
	ck_assert_int_le(llabs(p.t_ns - (end - 24 * 3600 * S - S / 2)), 1000);
}
END_TEST

START_TEST(test_idle_group_small)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);

	double cpus = 1;

	history_push(h, 0, 5, 3, 2);
	for (int64_t t = 1; t < 3600; t++)
		history_seen(h, t * S);
	ck_assert_uint_le(history_bytes(h), 1024);
	/* one record answers for the whole hour: 0 CPUs, not unknown */
	ck_assert(history_rate(h, 100 * S, 200 * S, &cpus));
	ck_assert_double_eq(cpus, 0.0);
	ck_assert(!history_rate(h, -1, 200 * S, &cpus));
}
END_TEST

/* Rows of a query: 100 % while busy, by-time lookups at step ends. */
START_TEST(test_query_rows)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	g_autoptr(GArray) rows =
	    g_array_new(FALSE, FALSE, sizeof(struct hist_row));
	int64_t oldest = 0, res = 0;

	busy(h, 0, 120 * S, 40 * MS);
	ck_assert_int_eq(
	    history_query(h, 60 * S, 120 * S, S, rows, &oldest, &res), 0);
	ck_assert_uint_eq(rows->len, 61);
	for (unsigned int i = 0; i < rows->len; i++) {
		struct hist_row *r = &g_array_index(rows, struct hist_row, i);

		ck_assert_double_eq_tol(r->cpu_pct, 100.0, 0.01);
		ck_assert_double_eq_tol(r->sys_pct, 33.33, 0.1);
		ck_assert(!r->reset);
	}
	/* older than the start of history */
	g_array_set_size(rows, 0);
	ck_assert_int_eq(history_query(h, -10 * S, 0, S, rows, &oldest, &res),
			 -ERANGE);
	/* the last record of the first second */
	ck_assert_int_eq(oldest, 960 * MS);
}
END_TEST

/* A step finer than the tier that reaches back that far. */
START_TEST(test_query_too_fine)
{
	g_autoptr(history_t) h = history_new(2048);
	g_autoptr(GArray) rows =
	    g_array_new(FALSE, FALSE, sizeof(struct hist_row));
	int64_t oldest = 0, res = 0, soldest;

	busy(h, 0, 4 * 3600 * S, S / 2);
	ck_assert(history_oldest(h, HIST_SECONDS, &soldest));
	ck_assert_int_eq(history_query(h, soldest - 600 * S, 4 * 3600 * S, S,
				       rows, &oldest, &res),
			 -EINVAL);
	ck_assert_int_eq(res, 60 * S);
	ck_assert_int_eq(oldest, soldest);
	ck_assert_int_eq(history_query(h, soldest - 600 * S, 4 * 3600 * S,
				       60 * S, rows, &oldest, &res),
			 0);
}
END_TEST

/* echo 0 > cpuacct.usage in the middle of a busy minute: usage shown
 * starts again from 0, the rate stays 100 %, the row says reset. */
START_TEST(test_reset_rates)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	g_autoptr(GArray) rows =
	    g_array_new(FALSE, FALSE, sizeof(struct hist_row));
	int64_t oldest, res, t;
	double cpus;
	int resets = 0;

	for (t = 0; t <= 30 * S; t += 40 * MS)
		history_push(h, t, t, t, 0);
	history_reset(h, 30 * S, 30 * S, 0);
	for (t = 30 * S + 40 * MS; t <= 60 * S; t += 40 * MS)
		history_push(h, t, t - 30 * S, t - 30 * S, 0);
	ck_assert(history_rate(h, 20 * S, 40 * S, &cpus));
	ck_assert_double_eq_tol(cpus, 1.0, 1e-9);
	/* rows from the seconds tier: each ends at its second's last pass */
	ck_assert_int_eq(
	    history_query(h, 2 * S, 60 * S, S, rows, &oldest, &res), 0);
	for (unsigned int i = 0; i < rows->len; i++) {
		struct hist_row *r = &g_array_index(rows, struct hist_row, i);

		ck_assert_double_eq_tol(r->cpu_pct, 100.0, 0.01);
		resets += r->reset;
		if (r->t_ns == 30 * S)
			ck_assert_uint_eq(r->usage_ns, 30 * S - 40 * MS);
		if (r->t_ns == 31 * S)
			ck_assert(r->reset);
		if (r->t_ns == 45 * S)
			ck_assert_uint_eq(r->usage_ns, 15 * S - 40 * MS);
	}
	ck_assert_int_eq(resets, 1);
	ck_assert_uint_eq(hist_growth(100, 40), 40);
	ck_assert_uint_eq(hist_growth(40, 100), 60);
}
END_TEST

/* Records out of order are dropped; a wall offset moves the cuts. */
START_TEST(test_wall_offset_cuts)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	struct hist_point p;

	history_set_wall_offset(S / 2); /* wall seconds end at mono .5 */
	busy(h, 100 * MS, 3 * S, 100 * MS);
	history_push(h, S, 1, 1, 1); /* older than the newest: dropped */
	ck_assert(history_at(h, HIST_SECONDS, 2 * S, &p));
	ck_assert_int_le(llabs(p.t_ns - 1400 * MS), 1000);
	ck_assert(history_latest(h, &p));
	ck_assert_int_eq(p.t_ns, 3 * S);
}
END_TEST

static Suite *history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_recent_lookup_boundaries);
	tcase_add_test(tc, test_recent_wraparound);
	tcase_add_test(tc, test_seconds_tier);
	tcase_add_test(tc, test_budget_and_coverage);
	tcase_add_test(tc, test_idle_group_small);
	tcase_add_test(tc, test_query_rows);
	tcase_add_test(tc, test_query_too_fine);
	tcase_add_test(tc, test_reset_rates);
	tcase_add_test(tc, test_wall_offset_cuts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(history_suite());
}
