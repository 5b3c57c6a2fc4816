/* test_history.c - tiers, by-time lookups, budgets and resets. */
#include <check.h>
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

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

/* ---- checkpoint: history_save / history_load ---- */

static GByteArray *saved(struct history *h)
{
	GByteArray *out = g_byte_array_new();

	history_save(h, out);
	return out;
}

/* Load all of blob into a fresh history of bytes; must succeed. */
static struct history *loaded(const GByteArray *blob, size_t bytes)
{
	struct history *h = history_new(bytes);
	size_t pos = 0;

	ck_assert_int_eq(history_load(h, blob->data, blob->len, &pos), 0);
	ck_assert_uint_eq(pos, blob->len);
	return h;
}

static void same_point(bool ok_a, const struct hist_point *a, bool ok_b,
		       const struct hist_point *b)
{
	ck_assert_int_eq(ok_a, ok_b);
	if (!ok_a)
		return;
	ck_assert_int_eq(a->t_ns, b->t_ns);
	ck_assert_uint_eq(a->usage_ns, b->usage_ns);
	ck_assert_uint_eq(a->user_ns, b->user_ns);
	ck_assert_uint_eq(a->sys_ns, b->sys_ns);
}

static void same_rows(const GArray *a, const GArray *b)
{
	ck_assert_uint_eq(a->len, b->len);
	for (unsigned int i = 0; i < a->len; i++) {
		const struct hist_row *x =
		    &g_array_index(a, struct hist_row, i);
		const struct hist_row *y =
		    &g_array_index(b, struct hist_row, i);

		ck_assert_int_eq(x->t_ns, y->t_ns);
		ck_assert_uint_eq(x->usage_ns, y->usage_ns);
		ck_assert(x->cpu_pct == y->cpu_pct);
		ck_assert(x->user_pct == y->user_pct);
		ck_assert(x->sys_pct == y->sys_pct);
		ck_assert_int_eq(x->reset, y->reset);
	}
}

static void same_query(struct history *a, struct history *b, int64_t end,
		       int64_t step)
{
	g_autoptr(GArray) ra =
	    g_array_new(FALSE, FALSE, sizeof(struct hist_row));
	g_autoptr(GArray) rb =
	    g_array_new(FALSE, FALSE, sizeof(struct hist_row));
	int64_t oa = 1, ob = 1, resa = 2, resb = 2;
	int ea = history_query(a, end, end + 8 * step, step, ra, &oa, &resa);
	int eb = history_query(b, end, end + 8 * step, step, rb, &ob, &resb);

	ck_assert_int_eq(ea, eb);
	ck_assert_int_eq(oa, ob);
	ck_assert_int_eq(resa, resb);
	same_rows(ra, rb);
}

static void same_at(struct history *a, struct history *b, int64_t t)
{
	static const int64_t steps[] = {40 * MS, S, 60 * S};
	struct hist_point pa, pb;
	double ca = -1, cb = -1;

	for (int tier = 0; tier < HIST_NTIERS; tier++)
		same_point(history_at(a, tier, t, &pa), &pa,
			   history_at(b, tier, t, &pb), &pb);
	ck_assert_int_eq(history_rate(a, t, t + 5 * S, &ca),
			 history_rate(b, t, t + 5 * S, &cb));
	ck_assert(ca == cb);
	for (size_t i = 0; i < G_N_ELEMENTS(steps); i++)
		same_query(a, b, t, steps[i]);
}

/* Every query answers alike, at every grid time in [from, to]. */
static void same_history(struct history *a, struct history *b, int64_t from,
			 int64_t to, int64_t grid)
{
	struct hist_point pa, pb;

	ck_assert_uint_eq(history_bytes(a), history_bytes(b));
	same_point(history_latest(a, &pa), &pa, history_latest(b, &pb), &pb);
	for (int tier = 0; tier < HIST_NTIERS; tier++) {
		int64_t oa = 1, ob = 1;

		ck_assert_uint_eq(history_len(a, tier), history_len(b, tier));
		ck_assert_int_eq(history_oldest(a, tier, &oa),
				 history_oldest(b, tier, &ob));
		ck_assert_int_eq(oa, ob);
	}
	for (int64_t t = from; t <= to; t += grid)
		same_at(a, b, t);
}

/* Saving what was loaded gives the same bytes: nothing was lost or
 * rebuilt differently. */
static void same_blob(struct history *h, const GByteArray *blob)
{
	g_autoptr(GByteArray) again = saved(h);

	ck_assert_uint_eq(again->len, blob->len);
	ck_assert(memcmp(again->data, blob->data, blob->len) == 0);
}

static void is_empty(struct history *h, size_t bytes)
{
	g_autoptr(history_t) fresh = history_new(bytes);

	same_history(h, fresh, -S, S, S);
	ck_assert_uint_eq(history_len(h, HIST_SECONDS), 0);
	ck_assert_uint_eq(history_len(h, HIST_MINUTES), 0);
}

START_TEST(test_save_load_empty)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	g_autoptr(GByteArray) blob = saved(h);
	g_autoptr(history_t) back = loaded(blob, HISTORY_DEFAULT_BYTES);

	is_empty(back, HISTORY_DEFAULT_BYTES);
	same_blob(back, blob);
	/* a reset before any pass goes to the same place in both */
	history_reset(h, 0, 0, 0);
	history_reset(back, 0, 0, 0);
	history_push(h, 5 * S, 1, 1, 0);
	history_push(back, 5 * S, 1, 1, 0);
	same_history(h, back, 0, 10 * S, S / 3);
}
END_TEST

/* Counters of busy_with_resets, carried from one call to the next. */
struct counters {
	uint64_t usage, sys;
};

/* 40 ms passes from from to to, half a CPU before 6 minutes and one and
 * a half after, idle (passes, no change) 80 to 90 s of every 90; resets
 * at 175 s (idle: the counters read what the last push said) and at
 * 500.04 s (busy); 805 s when going on past 800 s. Wall seconds
 * are cut at mono .3. */
static void busy_with_resets(struct history *h, struct counters *c,
			     int64_t from, int64_t to)
{
	history_set_wall_offset(300 * MS);
	for (int64_t t = from; t <= to; t += 40 * MS) {
		if (t % (90 * S) > 80 * S) {
			history_seen(h, t);
		} else {
			c->usage += t < 360 * S ? 20 * MS : 60 * MS;
			c->sys += 7 * MS + t % 3;
			history_push(h, t, c->usage, c->usage - c->sys, c->sys);
		}
		if (t == 175 * S || t == 500 * S + 40 * MS || t == 805 * S) {
			history_reset(h, c->usage, c->usage - c->sys, c->sys);
			c->usage = c->sys = 0;
		}
	}
}

START_TEST(test_save_load_busy)
{
	/* ends on the last push before an idle spell and its reset */
	int64_t end = 800 * S;
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	g_autoptr(history_t) back = history_new(HISTORY_DEFAULT_BYTES);
	g_autoptr(GByteArray) blob = NULL;
	g_autoptr(GByteArray) framed = g_byte_array_new();
	static const uint8_t junk[3] = {0xde, 0xad, 0xff};
	size_t pos = sizeof(junk);
	struct counters c = {0}, cb;

	busy_with_resets(h, &c, 40 * MS, end);
	ck_assert_uint_gt(history_len(h, HIST_SECONDS), 600);
	ck_assert_uint_gt(history_len(h, HIST_MINUTES), 10);
	blob = saved(h);
	/* inside a caller's format: starts at *pos, leaves what follows */
	g_byte_array_append(framed, junk, sizeof(junk));
	g_byte_array_append(framed, blob->data, blob->len);
	g_byte_array_append(framed, junk, sizeof(junk));
	/* back held other records first: they are replaced, not merged */
	busy(back, 0, 30 * S, S / 4);
	ck_assert_int_eq(history_load(back, framed->data, framed->len, &pos),
			 0);
	ck_assert_uint_eq(pos, sizeof(junk) + blob->len);
	same_history(h, back, -S, end + 2 * S, 1370 * MS);
	same_blob(back, blob);
	/* and they go on alike: tails, last records, blocks' room, and
	 * the counters a reset compares with */
	cb = c;
	busy_with_resets(h, &c, end + 40 * MS, end + 3 * 60 * S);
	busy_with_resets(back, &cb, end + 40 * MS, end + 3 * 60 * S);
	same_history(h, back, end - 60 * S, end + 3 * 60 * S, 1930 * MS);
}
END_TEST

/* Pass times are not whole microseconds: a block decodes its records to
 * the microsecond only, so the newest record (kept exact) may lie a
 * fraction of one behind its decoded copy. Found by a restart test. */
START_TEST(test_save_load_odd_times)
{
	g_autoptr(history_t) h = history_new(HISTORY_DEFAULT_BYTES);
	g_autoptr(history_t) back = NULL;
	g_autoptr(GByteArray) blob = NULL;
	int64_t t = 13505120148587LL;

	for (int i = 0; i < 200; i++, t += 40 * MS + 914 - 13 * (i % 7))
		history_push(h, t, (uint64_t)i * 7 * MS + 311, i * MS,
			     (uint64_t)i * 3 * MS);
	blob = saved(h);
	back = loaded(blob, HISTORY_DEFAULT_BYTES);
	same_history(h, back, t - 10 * S, t + S, 730 * MS);
}
END_TEST

/* Tiers that dropped their oldest blocks come back as they were, into
 * the same budget or a larger one; a smaller one keeps the newest. */
START_TEST(test_save_load_full_tiers)
{
	int64_t end = 4 * 3600 * S;
	g_autoptr(history_t) h = history_new(2048);
	g_autoptr(GByteArray) blob = NULL;
	g_autoptr(history_t) same = NULL;
	g_autoptr(history_t) larger = NULL;
	g_autoptr(history_t) big = history_new(HISTORY_DEFAULT_BYTES);
	g_autoptr(history_t) small = history_new(2048);
	g_autoptr(GByteArray) big_blob = NULL;
	struct hist_point pa, pb;
	int64_t oldest;
	size_t pos = 0;

	busy(h, 0, end, S / 2);
	ck_assert(history_oldest(h, HIST_MINUTES, &oldest));
	ck_assert_int_gt(oldest, 60 * S); /* minutes were dropped */
	blob = saved(h);
	same = loaded(blob, 2048);
	same_history(h, same, 0, end + S, 7 * S + 1);
	same_blob(same, blob);
	larger = loaded(blob, HISTORY_DEFAULT_BYTES);
	for (int tier = HIST_SECONDS; tier < HIST_NTIERS; tier++)
		ck_assert_uint_eq(history_len(h, tier),
				  history_len(larger, tier));
	/* 64 KiB of history into 2 KiB: the newest records, in budget */
	busy(big, 0, end, S / 2);
	big_blob = saved(big);
	ck_assert_int_eq(
	    history_load(small, big_blob->data, big_blob->len, &pos), 0);
	ck_assert_uint_le(history_bytes(small), history_bytes(h));
	ck_assert_uint_eq(history_len(small, HIST_RECENT),
			  history_len(h, HIST_RECENT));
	same_point(history_latest(big, &pa), &pa, history_latest(small, &pb),
		   &pb);
	ck_assert(history_oldest(small, HIST_SECONDS, &oldest));
	ck_assert(history_at(small, HIST_SECONDS, end, &pa));
	ck_assert(history_at(big, HIST_SECONDS, end, &pb));
	same_point(true, &pa, true, &pb);
}
END_TEST

/* A small but complete history: every tier has blocks, a reset. */
static GByteArray *small_blob(void)
{
	g_autoptr(history_t) h = history_new(HISTORY_MIN_BYTES);
	struct counters c = {0};

	busy_with_resets(h, &c, 40 * MS, 15 * 60 * S);
	return saved(h);
}

/* Query by query as a new history, and no last pass left over either:
 * a reset places nothing. */
static void refused_fully(struct history *h)
{
	g_autoptr(history_t) fresh = history_new(HISTORY_MIN_BYTES);

	is_empty(h, HISTORY_MIN_BYTES);
	history_reset(h, 5, 5, 0);
	history_reset(fresh, 5, 5, 0);
	same_history(h, fresh, -S, S, S);
}

/* A refused load leaves h empty, *pos where it was, and h goes on as a
 * new one would; the cheap checks for every length, all of them for
 * some. */
static void refused(struct history *h, size_t pos, size_t fresh_bytes,
		    bool fully)
{
	struct hist_point p;

	ck_assert_uint_eq(pos, 1);
	ck_assert(!history_latest(h, &p));
	ck_assert_uint_eq(
	    history_len(h, HIST_SECONDS) + history_len(h, HIST_MINUTES), 0);
	ck_assert_uint_eq(history_bytes(h), fresh_bytes);
	if (fully)
		refused_fully(h);
	history_push(h, 2 * S, 1, 1, 0);
	ck_assert(history_latest(h, &p));
	ck_assert_int_eq(p.t_ns, 2 * S);
	/* no base left over: only refused_fully's reset of 5 */
	ck_assert_uint_eq(p.usage_ns, fully ? 6 : 1);
}

START_TEST(test_load_truncated)
{
	g_autoptr(GByteArray) blob = small_blob();
	g_autoptr(GByteArray) framed = g_byte_array_new();
	g_autoptr(history_t) back = NULL;
	g_autoptr(history_t) fresh = history_new(HISTORY_MIN_BYTES);
	size_t fresh_bytes = history_bytes(fresh);

	/* one byte before, so *pos is seen not to move */
	g_byte_array_append(framed, (const guint8 *)"x", 1);
	g_byte_array_append(framed, blob->data, blob->len);
	for (size_t len = 0; len < framed->len; len++) {
		g_autoptr(history_t) h = history_new(HISTORY_MIN_BYTES);
		size_t pos = 1;

		busy(h, 0, 3 * S, S / 4); /* replaced even when refused */
		ck_assert_int_eq(history_load(h, framed->data, len, &pos),
				 -EINVAL);
		refused(h, pos, fresh_bytes,
			len % 16 == 0 || len + 40 > framed->len);
	}
	back = loaded(blob, HISTORY_MIN_BYTES);
	same_blob(back, blob);
}
END_TEST

/* Blobs made by hand, field by field as history.c lays them out, to
 * reach each check of history_load on its own. */
static void le(GByteArray *b, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		g_byte_array_append(b, (const guint8[]){(v >> (8 * i)) & 0xff},
				    1);
}

static void hand_point(GByteArray *b, int64_t t, uint64_t usage)
{
	le(b, (uint64_t)t, 8);
	le(b, usage, 8);
	le(b, usage / 2, 8);
	le(b, usage / 2, 8);
}

/* seen_ns, base[3], cur[3], no resets, and the recent records: one at
 * each of t[0..n) */
static void hand_head(GByteArray *b, const int64_t *t, int n)
{
	le(b, (uint64_t)t[n - 1], 8);
	for (int i = 0; i < 6; i++)
		le(b, 0, 8);
	le(b, 0, 4);
	le(b, n, 4);
	for (int i = 0; i < n; i++)
		hand_point(b, t[i], (uint64_t)t[i]);
}

/* A tier with no tail, last at last_t, and one block from 1 s whose
 * data is len bytes of data holding n records. */
static void hand_tier(GByteArray *b, int64_t last_t, int n, const void *data,
		      size_t len)
{
	le(b, 0, 1);
	hand_point(b, 0, 0);
	hand_point(b, last_t, (uint64_t)last_t);
	le(b, 1, 4);
	hand_point(b, S, S);
	le(b, n, 2);
	le(b, len, 2);
	g_byte_array_append(b, data, len);
}

/* One delta of 1 s (1000000 us = c0 84 3d) and 1000 ms of usage
 * (e8 07), 500 ms user and sys (f4 03). */
static const uint8_t one_second[] = {0xc0, 0x84, 0x3d, 0xe8, 0x07,
				     0xf4, 0x03, 0xf4, 0x03};

static void hand_no_tier(GByteArray *b)
{
	le(b, 0, 1);
	hand_point(b, 0, 0);
	hand_point(b, 0, 0);
	le(b, 0, 4);
}

/* The blob of test_load_by_hand with the seconds tier's tail and its
 * second block (from first_t, no records after it) as given. */
static void hand_tail_blocks(GByteArray *b, int has_tail, int64_t tail_t,
			     int64_t first_t)
{
	static const int64_t t[] = {S, 2 * S};

	hand_head(b, t, 2);
	le(b, has_tail, 1);
	hand_point(b, tail_t, (uint64_t)tail_t);
	hand_point(b, first_t, (uint64_t)first_t);
	le(b, 2, 4);
	hand_point(b, S, S);
	le(b, 1, 2);
	le(b, sizeof(one_second), 2);
	g_byte_array_append(b, one_second, sizeof(one_second));
	hand_point(b, first_t, (uint64_t)first_t);
	le(b, 0, 4);
	hand_no_tier(b);
}

static int hand_load(const GByteArray *b)
{
	g_autoptr(history_t) h = history_new(HISTORY_MIN_BYTES);
	size_t pos = 0;
	int err = history_load(h, b->data, b->len, &pos);

	if (err)
		is_empty(h, HISTORY_MIN_BYTES);
	return err;
}

/* The layout is the one the other tests go through: a blob made by
 * hand loads and reads back as written. */
START_TEST(test_load_by_hand)
{
	g_autoptr(history_t) h = history_new(HISTORY_MIN_BYTES);
	g_autoptr(GByteArray) b = g_byte_array_new();
	static const int64_t t[] = {S, 2 * S};
	struct hist_point p;
	size_t pos = 0;

	hand_head(b, t, 2);
	hand_tier(b, 2 * S, 1, one_second, sizeof(one_second));
	hand_no_tier(b);
	ck_assert_int_eq(history_load(h, b->data, b->len, &pos), 0);
	ck_assert(history_at(h, HIST_SECONDS, 3 * S, &p));
	ck_assert_int_eq(p.t_ns, 2 * S);
	ck_assert_uint_eq(p.usage_ns, 2 * S);
	ck_assert_uint_eq(p.sys_ns, S);
	ck_assert_uint_eq(history_len(h, HIST_SECONDS), 2);
	ck_assert_uint_eq(history_len(h, HIST_RECENT), 2);
	ck_assert(!history_at(h, HIST_MINUTES, 3 * S, &p));
}
END_TEST

/* Recent records whose times go back, repeat, or are below 0. */
START_TEST(test_load_recent_out_of_order)
{
	static const int64_t bad[][2] = {{2 * S, S}, {S, S}, {-S, S}};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GByteArray) b = g_byte_array_new();

		hand_head(b, bad[i], 2);
		hand_no_tier(b);
		hand_no_tier(b);
		ck_assert_int_eq(hand_load(b), -EINVAL);
	}
}
END_TEST

/* Block data that does not decode into exactly n records, or decodes
 * into a last record other than the tier's last. */
START_TEST(test_load_bad_blocks)
{
	static const uint8_t cont[] = {0x80, 0x80, 0x80, 0x80};
	static const uint8_t eleven[] = {0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 0xff,
					 0x01, 0,    0,	   0};
	/* 2^62 us: past INT64_MAX ns */
	static const uint8_t huge[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
				       0x80, 0x80, 0x40, 0,    0,    0};
	uint8_t extra[sizeof(one_second) + 1] = {0};
	uint8_t big[600] = {0};
	static const int64_t t[] = {S};
	struct {
		const uint8_t *data;
		size_t len;
		int n;
		int64_t last;
	} bad[] = {
	    {cont, sizeof(cont), 1, S},	      /* LEB runs past len */
	    {eleven, sizeof(eleven), 1, S},   /* a LEB of 11 bytes */
	    {huge, sizeof(huge), 1, S},	      /* time overflows */
	    {extra, sizeof(extra), 1, 2 * S}, /* bytes after n records */
	    {one_second, 9, 2, 2 * S},	      /* fewer records than n */
	    {one_second, 9, 0, 2 * S},	      /* n 0, data there */
	    {one_second, 9, 1, 3 * S},	      /* last is not the block's */
	    {big, sizeof(big), 150, S},	      /* longer than a block */
	};

	memcpy(extra, one_second, sizeof(one_second));
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GByteArray) b = g_byte_array_new();

		hand_head(b, t, 1);
		hand_tier(b, bad[i].last, bad[i].n, bad[i].data, bad[i].len);
		hand_no_tier(b);
		ck_assert_msg(hand_load(b) == -EINVAL, "case %zu", i);
	}
}
END_TEST

/* No records, two resets at t0 and t1. */
static void hand_resets(GByteArray *b, int64_t t0, int64_t t1)
{
	le(b, (uint64_t)t1, 8);
	for (int i = 0; i < 6; i++)
		le(b, 0, 8);
	le(b, 2, 4);
	le(b, (uint64_t)t0, 8);
	le(b, 7, 8);
	le(b, (uint64_t)t1, 8);
	le(b, 9, 8);
	le(b, 0, 4);
	hand_no_tier(b);
	hand_no_tier(b);
}

/* Tails and blocks out of order, a has_tail that is no bool, resets
 * out of order; the valid variants load. */
START_TEST(test_load_tiers_out_of_order)
{
	static const struct {
		int has_tail;
		int64_t tail, first;
		int err;
	} cases[] = {
	    {1, 3 * S, 2 * S, 0},	    /* valid */
	    {1, 2 * S - 1, 2 * S, -EINVAL}, /* tail before last */
	    {2, 3 * S, 2 * S, -EINVAL},	    /* has_tail 2 */
	    {0, 0, 2 * S - 1, -EINVAL},	    /* block before the last one */
	    {0, 0, 2 * S, 0},		    /* valid, no tail */
	};
	g_autoptr(GByteArray) r = g_byte_array_new();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GByteArray) b = g_byte_array_new();

		hand_tail_blocks(b, cases[i].has_tail, cases[i].tail,
				 cases[i].first);
		ck_assert_msg(hand_load(b) == cases[i].err, "case %zu", i);
	}
	/* two resets at one time: history_reset would have merged them */
	hand_resets(r, 5 * S, 5 * S);
	ck_assert_int_eq(hand_load(r), -EINVAL);
	g_byte_array_set_size(r, 0);
	hand_resets(r, 5 * S - 1, 5 * S);
	ck_assert_int_eq(hand_load(r), 0);
}
END_TEST

/* A count far beyond the bytes left is refused at once. */
START_TEST(test_load_huge_count)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	static const int64_t t[] = {S};

	hand_head(b, t, 1);
	/* the recent count, overwritten */
	memset(b->data + 8 + 48 + 4, 0xff, 4);
	hand_no_tier(b);
	hand_no_tier(b);
	ck_assert_int_eq(hand_load(b), -EINVAL);
}
END_TEST

/* Random bytes changed, with a fixed seed: a load is refused or gives
 * a history every query can be asked of. */
/* Every query at t, answers unchecked: what is asked of a history
 * loaded from corrupt bytes is that it answers without crashing (ASan,
 * UBSan and valgrind watch). No ck_assert here: each costs a write to
 * Check's pipe, and this runs for thousands of loads. */
static void ask_all(struct history *h, int64_t t)
{
	g_autoptr(GArray) rows =
	    g_array_new(FALSE, FALSE, sizeof(struct hist_row));
	struct hist_point p;
	int64_t oldest, res;
	double cpus;

	for (int tier = 0; tier < HIST_NTIERS; tier++) {
		history_at(h, tier, t, &p);
		history_oldest(h, tier, &oldest);
		history_len(h, tier);
	}
	history_latest(h, &p);
	history_rate(h, t, t + 5 * S, &cpus);
	history_query(h, t, t + 8 * S, S, rows, &oldest, &res);
	history_query(h, t, t + 8 * 60 * S, 60 * S, rows, &oldest, &res);
	history_bytes(h);
}

START_TEST(test_load_corrupt)
{
	g_autoptr(GByteArray) blob = small_blob();
	g_autoptr(GRand) rnd = g_rand_new_with_seed(20261204);
	int accepted = 0, refusals = 0;

	for (int i = 0; i < 3000; i++) {
		g_autoptr(history_t) h = history_new(HISTORY_MIN_BYTES);
		g_autoptr(GByteArray) bad = g_byte_array_new();
		int flips = g_rand_int_range(rnd, 1, 5);
		size_t pos = 0;

		g_byte_array_append(bad, blob->data, blob->len);
		for (int f = 0; f < flips; f++) {
			size_t at = g_rand_int_range(rnd, 0, bad->len);

			/* half the time only the top bit: LEB continuations */
			bad->data[at] ^= g_rand_boolean(rnd)
					     ? 0x80
					     : g_rand_int_range(rnd, 1, 256);
		}
		if (history_load(h, bad->data, bad->len, &pos)) {
			ck_assert_uint_eq(pos, 0);
			refusals++;
			continue;
		}
		accepted++;
		ck_assert_uint_eq(pos, bad->len);
		for (int64_t t = 0; t <= 16 * 60 * S; t += 13 * S)
			ask_all(h, t);
		history_push(h, 17 * 60 * S, 1, 1, 0);
	}
	/* both happen: counters and times are not all checked */
	ck_assert_int_gt(accepted, 0);
	ck_assert_int_gt(refusals, 0);
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
	tcase_add_test(tc, test_save_load_empty);
	tcase_add_test(tc, test_save_load_busy);
	tcase_add_test(tc, test_save_load_odd_times);
	tcase_add_test(tc, test_save_load_full_tiers);
	tcase_add_test(tc, test_load_truncated);
	tcase_add_test(tc, test_load_corrupt);
	tcase_add_test(tc, test_load_by_hand);
	tcase_add_test(tc, test_load_recent_out_of_order);
	tcase_add_test(tc, test_load_bad_blocks);
	tcase_add_test(tc, test_load_huge_count);
	tcase_add_test(tc, test_load_tiers_out_of_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(history_suite());
}
