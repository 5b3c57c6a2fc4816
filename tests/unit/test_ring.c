/* test_ring.c - history ring: order, wraparound, lookups and rates. */
#include <check.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

#include "ring.h"

#include "unit.h"

/* g_autoptr() needs a type name without "struct". */
typedef struct ring Ring;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Ring, ring_free)

/* A record whose counters encode its time, so any mix-up shows. */
static struct ring_rec rec_at(int64_t t)
{
	struct ring_rec rec = {
	    .t_ns = t,
	    .usage_ns = (uint64_t)t * 2,
	    .user_ns = (uint64_t)t,
	    .sys_ns = (uint64_t)t / 2,
	};
	return rec;
}

static void push_ok(struct ring *ring, int64_t t)
{
	struct ring_rec rec = rec_at(t);

	ck_assert(ring_push(ring, &rec));
}

static int64_t at(const struct ring *ring, int64_t t)
{
	struct ring_rec out;

	ck_assert(ring_at(ring, t, &out));
	ck_assert_uint_eq(out.usage_ns, (uint64_t)out.t_ns * 2);
	return out.t_ns;
}

START_TEST(test_empty)
{
	g_autoptr(Ring) ring = ring_new(4);
	struct ring_rec out;
	double cpus;

	ck_assert_uint_eq(ring_capacity(ring), 4);
	ck_assert_uint_eq(ring_len(ring), 0);
	ck_assert(!ring_latest(ring, &out));
	ck_assert(!ring_at(ring, 0, &out));
	ck_assert(!ring_at(ring, INT64_MAX, &out));
	ck_assert(!ring_rate(ring, 0, 100, &cpus));
}
END_TEST

START_TEST(test_one_record)
{
	g_autoptr(Ring) ring = ring_new(4);
	struct ring_rec out;
	double cpus;

	push_ok(ring, 100);
	ck_assert_uint_eq(ring_len(ring), 1);
	ck_assert(ring_latest(ring, &out));
	ck_assert_int_eq(out.t_ns, 100);
	ck_assert_uint_eq(out.user_ns, 100);
	ck_assert_uint_eq(out.sys_ns, 50);
	ck_assert(!ring_at(ring, 99, &out));
	ck_assert_int_eq(at(ring, 100), 100);
	ck_assert_int_eq(at(ring, INT64_MAX), 100);
	/* Both ends resolve to the same record: no interval to measure. */
	ck_assert(!ring_rate(ring, 100, 200, &cpus));
}
END_TEST

START_TEST(test_capacity_one)
{
	g_autoptr(Ring) ring = ring_new(1);

	for (int64_t t = 1; t <= 10; t++) {
		push_ok(ring, t);
		ck_assert_uint_eq(ring_len(ring), 1);
		ck_assert_int_eq(at(ring, t), t);
	}
	ck_assert(!ring_at(ring, 9, &(struct ring_rec){0}));
}
END_TEST

START_TEST(test_full)
{
	g_autoptr(Ring) ring = ring_new(4);
	struct ring_rec out;

	for (int64_t t = 10; t <= 40; t += 10)
		push_ok(ring, t);
	ck_assert_uint_eq(ring_len(ring), 4);
	ck_assert(ring_latest(ring, &out));
	ck_assert_int_eq(out.t_ns, 40);
	ck_assert_int_eq(at(ring, 10), 10);
	push_ok(ring, 50);
	ck_assert_uint_eq(ring_len(ring), 4);
	/* The oldest record made room for the newest. */
	ck_assert(!ring_at(ring, 19, &out));
	ck_assert_int_eq(at(ring, 20), 20);
	ck_assert_int_eq(at(ring, 55), 50);
}
END_TEST

/* Every position of the oldest record in the array gets exercised. */
START_TEST(test_wraparound_many_times)
{
	const size_t capacity = 7;
	g_autoptr(Ring) ring = ring_new(capacity);

	for (int64_t n = 1; n <= 1000; n++) {
		int64_t first = n > (int64_t)capacity ? n - capacity + 1 : 1;
		struct ring_rec out;

		push_ok(ring, n * 10);
		ck_assert_uint_eq(ring_len(ring), MIN((size_t)n, capacity));
		ck_assert(!ring_at(ring, first * 10 - 1, &out));
		for (int64_t k = first; k <= n; k++) {
			ck_assert_int_eq(at(ring, k * 10), k * 10);
			ck_assert_int_eq(at(ring, k * 10 + 9), k * 10);
		}
		ck_assert(ring_latest(ring, &out));
		ck_assert_int_eq(out.t_ns, n * 10);
	}
}
END_TEST

START_TEST(test_lookups)
{
	g_autoptr(Ring) ring = ring_new(8);
	struct ring_rec out;

	push_ok(ring, -500);
	push_ok(ring, 0);
	push_ok(ring, 1000);
	push_ok(ring, 1001);
	push_ok(ring, 5000);
	ck_assert(!ring_at(ring, -501, &out));
	ck_assert(!ring_at(ring, INT64_MIN, &out));
	ck_assert_int_eq(at(ring, -500), -500);
	ck_assert_int_eq(at(ring, -1), -500);
	ck_assert_int_eq(at(ring, 0), 0);
	ck_assert_int_eq(at(ring, 999), 0);
	ck_assert_int_eq(at(ring, 1000), 1000);
	ck_assert_int_eq(at(ring, 1001), 1001);
	ck_assert_int_eq(at(ring, 4999), 1001);
	ck_assert_int_eq(at(ring, 5000), 5000);
	ck_assert_int_eq(at(ring, INT64_MAX), 5000);
}
END_TEST

START_TEST(test_equal_time_replaces_newest)
{
	g_autoptr(Ring) ring = ring_new(4);
	struct ring_rec newer = rec_at(200);
	struct ring_rec out;

	push_ok(ring, 100);
	push_ok(ring, 200);
	newer.usage_ns = 999;
	ck_assert(ring_push(ring, &newer));
	ck_assert_uint_eq(ring_len(ring), 2);
	ck_assert(ring_latest(ring, &out));
	ck_assert_uint_eq(out.usage_ns, 999);
	ck_assert(ring_at(ring, 150, &out));
	ck_assert_uint_eq(out.usage_ns, 200);
}
END_TEST

START_TEST(test_equal_time_replaces_when_full)
{
	g_autoptr(Ring) ring = ring_new(2);
	struct ring_rec newer = rec_at(30);
	struct ring_rec out;

	push_ok(ring, 10);
	push_ok(ring, 20);
	push_ok(ring, 30);
	newer.sys_ns = 7;
	ck_assert(ring_push(ring, &newer));
	ck_assert_uint_eq(ring_len(ring), 2);
	ck_assert_int_eq(at(ring, 25), 20);
	ck_assert(ring_latest(ring, &out));
	ck_assert_uint_eq(out.sys_ns, 7);
}
END_TEST

START_TEST(test_older_time_dropped)
{
	g_autoptr(Ring) ring = ring_new(4);
	struct ring_rec old = rec_at(150);
	struct ring_rec out;

	push_ok(ring, 100);
	push_ok(ring, 200);
	ck_assert(!ring_push(ring, &old));
	ck_assert_uint_eq(ring_len(ring), 2);
	ck_assert_int_eq(at(ring, 199), 100);
	ck_assert(ring_latest(ring, &out));
	ck_assert_int_eq(out.t_ns, 200);
}
END_TEST

START_TEST(test_clear)
{
	g_autoptr(Ring) ring = ring_new(3);
	struct ring_rec out;

	for (int64_t t = 1; t <= 5; t++)
		push_ok(ring, t);
	ring_clear(ring);
	ck_assert_uint_eq(ring_len(ring), 0);
	ck_assert_uint_eq(ring_capacity(ring), 3);
	ck_assert(!ring_latest(ring, &out));
	ck_assert(!ring_at(ring, 5, &out));
	/* After a reset, earlier times are accepted again. */
	push_ok(ring, 2);
	push_ok(ring, 3);
	ck_assert_int_eq(at(ring, 100), 3);
	ck_assert(!ring_at(ring, 1, &out));
}
END_TEST

START_TEST(test_rate_uses_record_times)
{
	g_autoptr(Ring) ring = ring_new(8);
	struct ring_rec a = {.t_ns = 1000000000, .usage_ns = 5000000000};
	struct ring_rec b = {.t_ns = 2000000000, .usage_ns = 6500000000};
	struct ring_rec c = {.t_ns = 4000000000, .usage_ns = 6500000000};
	double cpus;

	ck_assert(ring_push(ring, &a));
	ck_assert(ring_push(ring, &b));
	ck_assert(ring_push(ring, &c));
	ck_assert(ring_rate(ring, 1000000000, 2000000000, &cpus));
	ck_assert_double_eq_tol(cpus, 1.5, 1e-12);
	/* Asked for [1.5 s, 2.5 s]: the records at 1 s and 2 s answer. */
	ck_assert(ring_rate(ring, 1500000000, 2500000000, &cpus));
	ck_assert_double_eq_tol(cpus, 1.5, 1e-12);
	ck_assert(ring_rate(ring, 1000000000, 4000000000, &cpus));
	ck_assert_double_eq_tol(cpus, 0.5, 1e-12);
	ck_assert(ring_rate(ring, 2000000000, 9000000000, &cpus));
	ck_assert_double_eq_tol(cpus, 0.0, 1e-12);
}
END_TEST

START_TEST(test_rate_missing_or_same)
{
	g_autoptr(Ring) ring = ring_new(8);
	double cpus = -1;

	push_ok(ring, 100);
	push_ok(ring, 200);
	ck_assert(!ring_rate(ring, 50, 200, &cpus));
	ck_assert(!ring_rate(ring, 120, 180, &cpus));
	ck_assert(!ring_rate(ring, 200, 100, &cpus));
	ck_assert_double_eq(cpus, -1);
	ck_assert(ring_rate(ring, 100, 200, &cpus));
	ck_assert_double_eq_tol(cpus, 2.0, 1e-12);
}
END_TEST

START_TEST(test_rate_refuses_counter_going_back)
{
	g_autoptr(Ring) ring = ring_new(4);
	struct ring_rec before = {.t_ns = 10, .usage_ns = 1000};
	struct ring_rec after = {.t_ns = 20, .usage_ns = 10};
	double cpus;

	ck_assert(ring_push(ring, &before));
	ck_assert(ring_push(ring, &after));
	ck_assert(!ring_rate(ring, 10, 20, &cpus));
}
END_TEST

/* ring_nth walks oldest to newest across the wrap, and stops at len. */
START_TEST(test_nth_in_order)
{
	g_autoptr(Ring) ring = ring_new(5);
	struct ring_rec out;

	ck_assert(!ring_nth(ring, 0, &out));
	for (int64_t t = 1; t <= 12; t++)
		push_ok(ring, t * 10);
	for (size_t i = 0; i < 5; i++) {
		ck_assert(ring_nth(ring, i, &out));
		ck_assert_int_eq(out.t_ns, (int64_t)(8 + i) * 10);
		ck_assert_uint_eq(out.usage_ns, (uint64_t)out.t_ns * 2);
	}
	ck_assert(!ring_nth(ring, 5, &out));
	ck_assert(!ring_nth(ring, SIZE_MAX, &out));
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *suite = suite_create("ring");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_one_record);
	tcase_add_test(tc, test_capacity_one);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_wraparound_many_times);
	tcase_add_test(tc, test_lookups);
	tcase_add_test(tc, test_equal_time_replaces_newest);
	tcase_add_test(tc, test_equal_time_replaces_when_full);
	tcase_add_test(tc, test_older_time_dropped);
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_rate_uses_record_times);
	tcase_add_test(tc, test_rate_missing_or_same);
	tcase_add_test(tc, test_rate_refuses_counter_going_back);
	tcase_add_test(tc, test_nth_in_order);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	return unit_run(ring_suite());
}
