/* history.c - recent passes, seconds and minutes of a group's usage.
 *
 * The recent tier is a ring of whole records. The second and minute
 * tiers keep, for each slot of the wall clock, the last record made in
 * it: the newest slot's record waits in `tail` (a later pass of the same
 * slot replaces it), and is appended to the newest block when a record
 * of a later slot comes. A block starts with one exact record; the next
 * ones are LEB128 deltas of their time (us) and counters (ms), taken
 * between truncated values so rounding never accumulates: a value read
 * back is within one unit of what was recorded. Lookup by time is a
 * binary search over the blocks' first times, then a walk through at
 * most one block (512 bytes).
 */
#include <errno.h>
#include <string.h>

#include "history.h"
#include "ring.h"

#define BLOCK_MAX 512	 /* data bytes of a full block */
#define BLOCK_FIRST 16	 /* a new block's first allocation */
#define REC_MAX (4 * 10) /* four LEB128 numbers of 64 bits */
#define MS 1000000LL
#define US 1000LL
#define NS_PER_S 1000000000LL

struct block {
	struct hist_point first;
	uint16_t n;   /* records after first */
	uint16_t len; /* bytes of data used */
	uint16_t cap; /* bytes of data allocated */
	uint8_t *data;
};

struct tier {
	int64_t slot_ns;
	size_t budget; /* bytes of blocks */
	size_t bytes;
	GPtrArray *blocks;	/* struct block *, oldest first */
	struct hist_point last; /* newest appended, when blocks->len */
	struct hist_point tail;
	bool has_tail;
};

/* A reset at t_ns: records after it show usage - base. */
struct reset {
	int64_t t_ns;
	uint64_t base;
};

struct history {
	gint refs;
	GMutex lock;
	struct ring *recent;
	struct tier tiers[2]; /* seconds, minutes */
	uint64_t base[3];     /* counters before the resets, summed */
	uint64_t cur[3];      /* as the files read at the newest push */
	int64_t seen_ns;      /* the last pass, with or without a record */
	GArray *resets;	      /* struct reset, oldest first */
};

/* Set once before any thread starts (main, or a test's setup). */
static int64_t wall_offset;

void history_set_wall_offset(int64_t offset_ns)
{
	wall_offset = offset_ns;
}

int64_t history_wall_offset(void)
{
	return wall_offset;
}

static size_t recent_records(size_t bytes)
{
	return MAX(bytes / 32 / sizeof(struct ring_rec), 8);
}

static void tier_init(struct tier *tr, int64_t slot_ns, size_t budget)
{
	tr->slot_ns = slot_ns;
	tr->budget = budget;
	tr->blocks = g_ptr_array_new();
}

static void block_free(struct block *b)
{

	g_free(b->data);
	g_free(b);
}

struct history *history_new(size_t bytes)
{
	struct history *h = g_new0(struct history, 1);
	size_t avail;

	bytes = MAX(bytes, HISTORY_MIN_BYTES);
	h->refs = 1;
	g_mutex_init(&h->lock);
	h->recent = ring_new(recent_records(bytes));
	/* what is left after the recent tier and 1/32 for this struct and
	 * the block lists: 20 parts seconds, 11 minutes (an hour of busy
	 * seconds and a day of busy minutes at 64 KiB) */
	avail = bytes - recent_records(bytes) * sizeof(struct ring_rec) -
		bytes / 32;
	tier_init(&h->tiers[0], NS_PER_S, avail * 20 / 31);
	tier_init(&h->tiers[1], 60 * NS_PER_S, avail * 11 / 31);
	h->seen_ns = INT64_MIN;
	return h;
}

struct history *history_ref(struct history *h)
{
	g_atomic_int_inc(&h->refs);
	return h;
}

void history_unref(struct history *h)
{
	if (!h || !g_atomic_int_dec_and_test(&h->refs))
		return;
	ring_free(h->recent);
	for (int i = 0; i < 2; i++) {
		GPtrArray *blocks = h->tiers[i].blocks;

		for (unsigned int j = 0; j < blocks->len; j++)
			block_free(blocks->pdata[j]);
		g_ptr_array_free(blocks, TRUE);
	}
	if (h->resets)
		g_array_free(h->resets, TRUE);
	g_mutex_clear(&h->lock);
	g_free(h);
}

/* ---- encoding ---- */

static size_t put_leb(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n] = v & 0x7f;
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

static size_t get_leb(const uint8_t *p, uint64_t *v)
{
	size_t n = 0;
	int shift = 0;

	*v = 0;
	do {
		*v |= (uint64_t)(p[n] & 0x7f) << shift;
		shift += 7;
	} while (p[n++] & 0x80);
	return n;
}

/* Truncated units, so deltas of them never accumulate rounding. */
static uint64_t q_t(int64_t t)
{
	return (uint64_t)(t / US);
}

static uint64_t q_v(uint64_t v)
{
	return v / MS;
}

static size_t encode(const struct hist_point *prev, const struct hist_point *p,
		     uint8_t *out)
{
	size_t n = 0;

	n += put_leb(out + n, q_t(p->t_ns) - q_t(prev->t_ns));
	n += put_leb(out + n, q_v(p->usage_ns) - q_v(prev->usage_ns));
	n += put_leb(out + n, q_v(p->user_ns) - q_v(prev->user_ns));
	n += put_leb(out + n, q_v(p->sys_ns) - q_v(prev->sys_ns));
	return n;
}

/* Walks a block's records; q holds the truncated values of the last. */
struct cursor {
	const struct block *b;
	size_t off;
	uint64_t q[4];
	struct hist_point p;
};

static void cursor_start(struct cursor *c, const struct block *b)
{
	c->b = b;
	c->off = 0;
	c->p = b->first;
	c->q[0] = q_t(b->first.t_ns);
	c->q[1] = q_v(b->first.usage_ns);
	c->q[2] = q_v(b->first.user_ns);
	c->q[3] = q_v(b->first.sys_ns);
}

/* Decode the next record without moving; false at the end. */
static bool cursor_peek(const struct cursor *c, struct hist_point *out,
			uint64_t q[4], size_t *len)
{
	size_t off = c->off;
	const struct block *b = c->b;

	if (off >= b->len)
		return false;
	for (int i = 0; i < 4; i++) {
		uint64_t d;

		off += get_leb(b->data + off, &d);
		q[i] = c->q[i] + d;
	}
	/* back from units: the first record is exact, the rest within one
	 * unit (below it) */
	out->t_ns = b->first.t_ns + (int64_t)(q[0] - q_t(b->first.t_ns)) * US;
	out->usage_ns =
	    b->first.usage_ns + (q[1] - q_v(b->first.usage_ns)) * MS;
	out->user_ns = b->first.user_ns + (q[2] - q_v(b->first.user_ns)) * MS;
	out->sys_ns = b->first.sys_ns + (q[3] - q_v(b->first.sys_ns)) * MS;
	*len = off - c->off;
	return true;
}

/* Move onto the record cursor_peek decoded. */
static void cursor_take(struct cursor *c, const struct hist_point *p,
			const uint64_t q[4], size_t len)
{
	c->p = *p;
	memcpy(c->q, q, sizeof(c->q));
	c->off += len;
}

/* ---- tiers ---- */

static size_t block_bytes(const struct block *b)
{
	return sizeof(*b) + b->cap;
}

static struct block *block_new(const struct hist_point *p)
{
	struct block *b = g_new0(struct block, 1);

	b->first = *p;
	return b;
}

static void tier_drop_oldest(struct tier *tr)
{
	struct block *b = tr->blocks->pdata[0];

	tr->bytes -= block_bytes(b);
	block_free(b);
	g_ptr_array_remove_index(tr->blocks, 0);
}

static bool block_append(struct block *b, const uint8_t *rec, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = MAX((size_t)b->cap * 2, (size_t)BLOCK_FIRST);

		while (cap < b->len + len)
			cap *= 2;
		if (cap > BLOCK_MAX)
			return false;
		b->data = g_realloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, rec, len);
	b->len += len;
	b->n++;
	return true;
}

static void tier_commit(struct tier *tr, const struct hist_point *p)
{
	struct block *b = NULL;
	uint8_t rec[REC_MAX];
	size_t len, before;

	if (tr->blocks->len)
		b = tr->blocks->pdata[tr->blocks->len - 1];
	if (b) {
		len = encode(&tr->last, p, rec);
		before = block_bytes(b);
		if (block_append(b, rec, len)) {
			tr->bytes += block_bytes(b) - before;
			goto out;
		}
	}
	b = block_new(p);
	g_ptr_array_add(tr->blocks, b);
	tr->bytes += block_bytes(b);
out:
	tr->last = *p;
	while (tr->bytes > tr->budget && tr->blocks->len > 1)
		tier_drop_oldest(tr);
}

static int64_t slot_of(const struct tier *tr, int64_t t_ns)
{
	int64_t wall = t_ns + history_wall_offset();

	return wall >= 0 ? wall / tr->slot_ns : (wall + 1) / tr->slot_ns - 1;
}

static void tier_push(struct tier *tr, const struct hist_point *p)
{
	if (tr->has_tail && slot_of(tr, p->t_ns) != slot_of(tr, tr->tail.t_ns))
		tier_commit(tr, &tr->tail);
	tr->tail = *p;
	tr->has_tail = true;
}

static bool tier_at(const struct tier *tr, int64_t t, struct hist_point *out)
{
	GPtrArray *blocks = tr->blocks;
	size_t lo = 0, hi = blocks->len;
	struct cursor c;
	struct hist_point next;
	uint64_t q[4];
	size_t len;

	if (tr->has_tail && tr->tail.t_ns <= t) {
		*out = tr->tail;
		return true;
	}
	/* blocks whose first record is at or before t are the oldest ones */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct block *b = blocks->pdata[mid];

		if (b->first.t_ns <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	cursor_start(&c, blocks->pdata[lo - 1]);
	while (cursor_peek(&c, &next, q, &len) && next.t_ns <= t)
		cursor_take(&c, &next, q, len);
	*out = c.p;
	return true;
}

static bool tier_oldest(const struct tier *tr, int64_t *t)
{
	if (tr->blocks->len) {
		const struct block *b = tr->blocks->pdata[0];

		*t = b->first.t_ns;
		return true;
	}
	if (tr->has_tail) {
		*t = tr->tail.t_ns;
		return true;
	}
	return false;
}

/* ---- the history ---- */

static void to_point(const struct ring_rec *r, struct hist_point *p)
{
	p->t_ns = r->t_ns;
	p->usage_ns = r->usage_ns;
	p->user_ns = r->user_ns;
	p->sys_ns = r->sys_ns;
}

static void push_locked(struct history *h, const struct hist_point *p)
{
	struct ring_rec r = {p->t_ns, p->usage_ns, p->user_ns, p->sys_ns};

	if (!ring_push(h->recent, &r))
		return; /* older than the newest: out of order */
	tier_push(&h->tiers[0], p);
	tier_push(&h->tiers[1], p);
}

void history_push(struct history *h, int64_t t_ns, uint64_t usage,
		  uint64_t user, uint64_t sys)
{
	struct hist_point p = {t_ns, h->base[0] + usage, h->base[1] + user,
			       h->base[2] + sys};

	g_mutex_lock(&h->lock);
	h->cur[0] = usage;
	h->cur[1] = user;
	h->cur[2] = sys;
	h->seen_ns = MAX(h->seen_ns, t_ns);
	push_locked(h, &p);
	g_mutex_unlock(&h->lock);
}

void history_seen(struct history *h, int64_t t_ns)
{
	/* seen_ns is only touched by the engine, under its lock */
	h->seen_ns = MAX(h->seen_ns, t_ns);
}

void history_reset(struct history *h, uint64_t usage, uint64_t user,
		   uint64_t sys)
{
	struct reset r;

	g_mutex_lock(&h->lock);
	/* the reset is placed at the last pass: a record of what the files
	 * read just before it (when it differs from the newest), then the
	 * counters go on from there */
	if (h->seen_ns != INT64_MIN &&
	    (usage != h->cur[0] || user != h->cur[1] || sys != h->cur[2] ||
	     !ring_len(h->recent))) {
		struct hist_point p = {h->seen_ns, h->base[0] + usage,
				       h->base[1] + user, h->base[2] + sys};

		push_locked(h, &p);
	}
	h->base[0] += usage;
	h->base[1] += user;
	h->base[2] += sys;
	memset(h->cur, 0, sizeof(h->cur));
	/* after that pass: the record made at it is the old usage */
	r = (struct reset){h->seen_ns + 1, h->base[0]};
	if (!h->resets)
		h->resets = g_array_new(FALSE, FALSE, sizeof(struct reset));
	/* two resets in one pass are one */
	if (h->resets->len &&
	    g_array_index(h->resets, struct reset, h->resets->len - 1).t_ns ==
		r.t_ns)
		g_array_index(h->resets, struct reset, h->resets->len - 1) = r;
	else
		g_array_append_val(h->resets, r);
	/* resets older than every record are never asked for */
	if (h->resets->len > 64)
		g_array_remove_index(h->resets, 0);
	g_mutex_unlock(&h->lock);
}

bool history_latest(struct history *h, struct hist_point *out)
{
	struct ring_rec r;
	bool ok;

	g_mutex_lock(&h->lock);
	ok = ring_latest(h->recent, &r);
	g_mutex_unlock(&h->lock);
	if (ok)
		to_point(&r, out);
	return ok;
}

static bool at_locked(struct history *h, enum hist_tier tier, int64_t t,
		      struct hist_point *out)
{
	struct ring_rec r;

	if (tier != HIST_RECENT)
		return tier_at(&h->tiers[tier - 1], t, out);
	if (!ring_at(h->recent, t, &r))
		return false;
	to_point(&r, out);
	return true;
}

static bool oldest_locked(struct history *h, enum hist_tier tier, int64_t *t)
{
	struct ring_rec r;

	if (tier != HIST_RECENT)
		return tier_oldest(&h->tiers[tier - 1], t);
	if (!ring_oldest(h->recent, &r))
		return false;
	*t = r.t_ns;
	return true;
}

bool history_at(struct history *h, enum hist_tier tier, int64_t t_ns,
		struct hist_point *out)
{
	bool ok;

	g_mutex_lock(&h->lock);
	ok = at_locked(h, tier, t_ns, out);
	g_mutex_unlock(&h->lock);
	return ok;
}

bool history_oldest(struct history *h, enum hist_tier tier, int64_t *t_ns)
{
	bool ok;

	g_mutex_lock(&h->lock);
	ok = oldest_locked(h, tier, t_ns);
	g_mutex_unlock(&h->lock);
	return ok;
}

/* The finest tier with a record at or before t. */
static int tier_reaching(struct history *h, int64_t t)
{
	for (int tier = 0; tier < HIST_NTIERS; tier++) {
		int64_t oldest;

		if (oldest_locked(h, tier, &oldest) && oldest <= t)
			return tier;
	}
	return -1;
}

static double pct(uint64_t a, uint64_t b, int64_t dt)
{
	return dt > 0 ? (double)(b - a) * 100.0 / (double)dt : 0.0;
}

bool history_rate(struct history *h, int64_t t0, int64_t t1, double *cpus)
{
	struct hist_point a, b;
	bool ok = false;
	int tier;

	g_mutex_lock(&h->lock);
	tier = tier_reaching(h, t0);
	/* one record for both ends: nothing changed in between */
	if (tier >= 0 && at_locked(h, tier, t0, &a) &&
	    at_locked(h, tier, t1, &b)) {
		*cpus = pct(a.usage_ns, b.usage_ns, b.t_ns - a.t_ns) / 100.0;
		ok = true;
	}
	g_mutex_unlock(&h->lock);
	return ok;
}

size_t history_len(struct history *h, enum hist_tier tier)
{
	size_t n = 0;

	g_mutex_lock(&h->lock);
	if (tier == HIST_RECENT) {
		n = ring_len(h->recent);
	} else {
		const struct tier *tr = &h->tiers[tier - 1];

		for (unsigned int i = 0; i < tr->blocks->len; i++)
			n += 1 + ((struct block *)tr->blocks->pdata[i])->n;
		n += tr->has_tail;
	}
	g_mutex_unlock(&h->lock);
	return n;
}

size_t history_bytes(struct history *h)
{
	size_t n;

	g_mutex_lock(&h->lock);
	n = sizeof(*h) + ring_bytes(h->recent) + h->tiers[0].bytes +
	    h->tiers[1].bytes +
	    (h->tiers[0].blocks->len + h->tiers[1].blocks->len) *
		sizeof(gpointer) +
	    (h->resets ? h->resets->len * sizeof(struct reset) : 0);
	g_mutex_unlock(&h->lock);
	return n;
}

/* What was subtracted from usage in the files at time t. */
static uint64_t base_at(const struct history *h, int64_t t)
{
	uint64_t base = 0;

	if (!h->resets)
		return 0;
	for (unsigned int i = 0; i < h->resets->len; i++) {
		const struct reset *r =
		    &g_array_index(h->resets, struct reset, i);

		if (r->t_ns >= t)
			break;
		base = r->base;
	}
	return base;
}

static bool reset_within(const struct history *h, int64_t from, int64_t to)
{
	if (!h->resets)
		return false;
	for (unsigned int i = 0; i < h->resets->len; i++) {
		int64_t t = g_array_index(h->resets, struct reset, i).t_ns;

		if (t > from && t <= to)
			return true;
	}
	return false;
}

static const int64_t tier_res[HIST_NTIERS] = {0, NS_PER_S, 60 * NS_PER_S};

static void query_rows(struct history *h, int tier, int64_t end, int64_t until,
		       int64_t step, GArray *rows)
{
	struct hist_point a, b;

	at_locked(h, tier, end - step, &a);
	for (; end <= until; end += step) {
		struct hist_row row = {.t_ns = end};
		int64_t dt;

		if (!at_locked(h, tier, end, &b))
			b = a;
		dt = b.t_ns - a.t_ns;
		row.usage_ns = b.usage_ns - base_at(h, b.t_ns);
		row.cpu_pct = pct(a.usage_ns, b.usage_ns, dt);
		row.user_pct = pct(a.user_ns, b.user_ns, dt);
		row.sys_pct = pct(a.sys_ns, b.sys_ns, dt);
		row.reset = reset_within(h, end - step, end);
		g_array_append_val(rows, row);
		a = b;
	}
}

int history_query(struct history *h, int64_t first_end, int64_t until,
		  int64_t step, GArray *rows, int64_t *oldest, int64_t *res)
{
	int tier, err = 0;

	if (step <= 0 || until < first_end)
		return -EINVAL;
	g_mutex_lock(&h->lock);
	tier = tier_reaching(h, first_end - step);
	if (tier < 0) {
		*oldest = INT64_MAX;
		for (int i = 0; i < HIST_NTIERS; i++) {
			int64_t t;

			if (oldest_locked(h, i, &t))
				*oldest = MIN(*oldest, t);
		}
		err = -ERANGE;
	} else if (tier_res[tier] > step) {
		oldest_locked(h, tier - 1, oldest);
		*res = tier_res[tier];
		err = -EINVAL;
	} else {
		query_rows(h, tier, first_end, until, step, rows);
	}
	g_mutex_unlock(&h->lock);
	return err;
}

/* ---- checkpoint ----
 *
 * Layout, all fixed-width little endian: seen_ns, base[3], cur[3], the
 * resets (count, then time and base), the recent records oldest first
 * (count, then points), then per tier: has_tail, tail, last and the
 * blocks (count, then first, n, len and len data bytes). The caller's
 * state format carries the version. Loading trusts nothing: every count
 * is checked against the bytes left before anything is allocated, and a
 * block's data is decoded in full, so a lookup never walks off its end.
 */

#define POINT_BYTES 32
#define RESET_BYTES 16
#define RESETS_MAX 64

static void put_u8(GByteArray *out, uint8_t v)
{
	g_byte_array_append(out, &v, 1);
}

static void put_u16(GByteArray *out, uint16_t v)
{
	v = GUINT16_TO_LE(v);
	g_byte_array_append(out, (const guint8 *)&v, sizeof(v));
}

static void put_u32(GByteArray *out, uint32_t v)
{
	v = GUINT32_TO_LE(v);
	g_byte_array_append(out, (const guint8 *)&v, sizeof(v));
}

static void put_u64(GByteArray *out, uint64_t v)
{
	v = GUINT64_TO_LE(v);
	g_byte_array_append(out, (const guint8 *)&v, sizeof(v));
}

static void put_i64(GByteArray *out, int64_t v)
{
	put_u64(out, (uint64_t)v);
}

static void put_point(GByteArray *out, const struct hist_point *p)
{
	put_i64(out, p->t_ns);
	put_u64(out, p->usage_ns);
	put_u64(out, p->user_ns);
	put_u64(out, p->sys_ns);
}

static void save_resets(const struct history *h, GByteArray *out)
{
	unsigned int n = h->resets ? h->resets->len : 0;

	put_u32(out, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct reset *r =
		    &g_array_index(h->resets, struct reset, i);

		put_i64(out, r->t_ns);
		put_u64(out, r->base);
	}
}

static void save_recent(const struct history *h, GByteArray *out)
{
	size_t n = ring_len(h->recent);
	struct ring_rec r;
	struct hist_point p;

	put_u32(out, n);
	for (size_t i = 0; ring_nth(h->recent, i, &r); i++) {
		to_point(&r, &p);
		put_point(out, &p);
	}
}

static void save_tier(const struct tier *tr, GByteArray *out)
{
	put_u8(out, tr->has_tail);
	put_point(out, &tr->tail);
	put_point(out, &tr->last);
	put_u32(out, tr->blocks->len);
	for (unsigned int i = 0; i < tr->blocks->len; i++) {
		const struct block *b = tr->blocks->pdata[i];

		put_point(out, &b->first);
		put_u16(out, b->n);
		put_u16(out, b->len);
		g_byte_array_append(out, b->data, b->len);
	}
}

void history_save(struct history *h, GByteArray *out)
{
	g_mutex_lock(&h->lock);
	put_i64(out, h->seen_ns);
	for (int i = 0; i < 3; i++)
		put_u64(out, h->base[i]);
	for (int i = 0; i < 3; i++)
		put_u64(out, h->cur[i]);
	save_resets(h, out);
	save_recent(h, out);
	save_tier(&h->tiers[0], out);
	save_tier(&h->tiers[1], out);
	g_mutex_unlock(&h->lock);
}

/* Reads fixed-width fields; the first short read makes it bad, and
 * every read after that gives 0, so callers check once at the end of a
 * run of fields instead of after each. */
struct reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool bad;
};

static const uint8_t *get_bytes(struct reader *rd, size_t n)
{
	const uint8_t *p;

	if (rd->bad || n > rd->len - rd->pos) {
		rd->bad = true;
		return NULL;
	}
	p = rd->buf + rd->pos;
	rd->pos += n;
	return p;
}

static uint64_t get_le(struct reader *rd, size_t n)
{
	const uint8_t *p = get_bytes(rd, n);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static size_t left(const struct reader *rd)
{
	return rd->bad ? 0 : rd->len - rd->pos;
}

static void get_point(struct reader *rd, struct hist_point *p)
{
	p->t_ns = (int64_t)get_le(rd, 8);
	p->usage_ns = get_le(rd, 8);
	p->user_ns = get_le(rd, 8);
	p->sys_ns = get_le(rd, 8);
}

/* A count of items of at least min bytes each: never more than the
 * bytes left can hold, so a corrupt count cannot make us loop or
 * allocate for long. */
static bool get_count(struct reader *rd, size_t min, uint32_t *n)
{
	*n = (uint32_t)get_le(rd, 4);
	return !rd->bad && *n <= left(rd) / min;
}

static int64_t last_reset_t(const struct history *h)
{
	return g_array_index(h->resets, struct reset, h->resets->len - 1).t_ns;
}

static int load_resets(struct history *h, struct reader *rd)
{
	uint32_t n;

	if (!get_count(rd, RESET_BYTES, &n))
		return -EINVAL;
	if (n)
		h->resets = g_array_sized_new(
		    FALSE, FALSE, sizeof(struct reset), MIN(n, RESETS_MAX));
	for (uint32_t i = 0; i < n; i++) {
		struct reset r;

		r.t_ns = (int64_t)get_le(rd, 8);
		r.base = get_le(rd, 8);
		/* history_reset merges two resets of one pass */
		if (i && r.t_ns <= last_reset_t(h))
			return -EINVAL;
		g_array_append_val(h->resets, r);
		/* as history_reset keeps them */
		if (h->resets->len > RESETS_MAX)
			g_array_remove_index(h->resets, 0);
	}
	return 0;
}

static int load_recent(struct history *h, struct reader *rd)
{
	int64_t prev_t = -1;
	struct hist_point p;
	uint32_t n;

	if (!get_count(rd, POINT_BYTES, &n))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		struct ring_rec r;

		get_point(rd, &p);
		/* ring_push would merge equal times and drop older ones;
		 * below 0 is no CLOCK_MONOTONIC time, and would let the
		 * queries' time differences overflow */
		if (p.t_ns <= prev_t)
			return -EINVAL;
		r = (struct ring_rec){p.t_ns, p.usage_ns, p.user_ns, p.sys_ns};
		ring_push(h->recent, &r);
		prev_t = p.t_ns;
	}
	return 0;
}

/* get_leb, but it stops at end instead of reading on, and refuses more
 * than 64 bits. */
static size_t get_leb_within(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	size_t n = 0;

	*v = 0;
	while (p + n < end && n < 10) {
		*v |= (uint64_t)(p[n] & 0x7f) << (7 * n);
		if (!(p[n++] & 0x80))
			return n;
	}
	return 0;
}

/* A record's time as cursor_peek computes it from its truncated time
 * q0; false when that would overflow (only corrupt data gets there). */
static bool rec_time(const struct block *b, uint64_t q0, int64_t *t)
{
	uint64_t units = q0 - q_t(b->first.t_ns);

	return units <= INT64_MAX / US &&
	       !__builtin_add_overflow(b->first.t_ns, (int64_t)units * US, t);
}

/* Decode a block as tier_at will: exactly n records in exactly len
 * bytes, times not going back. q: the truncated values of its last
 * record, *last_t its time. */
static bool block_valid(const struct block *b, uint64_t q[4], int64_t *last_t)
{
	const uint8_t *p = b->data, *end = b->data + b->len;
	int64_t t = b->first.t_ns, next;

	q[0] = q_t(b->first.t_ns);
	q[1] = q_v(b->first.usage_ns);
	q[2] = q_v(b->first.user_ns);
	q[3] = q_v(b->first.sys_ns);
	for (unsigned int i = 0; i < b->n; i++) {
		for (int j = 0; j < 4; j++) {
			uint64_t d;
			size_t k = get_leb_within(p, end, &d);

			if (!k)
				return false;
			p += k;
			q[j] += d;
		}
		if (!rec_time(b, q[0], &next) || next < t)
			return false;
		t = next;
	}
	*last_t = t;
	return p == end;
}

/* The capacity block_append would have grown to for len bytes, so the
 * byte count (and later appends) match the saved history's. */
static uint16_t block_cap(size_t len)
{
	size_t cap = BLOCK_FIRST;

	if (!len)
		return 0;
	while (cap < len)
		cap *= 2;
	return cap;
}

static struct block *load_block(struct reader *rd)
{
	struct block *b = g_new0(struct block, 1);
	const uint8_t *data;

	get_point(rd, &b->first);
	b->n = (uint16_t)get_le(rd, 2);
	b->len = (uint16_t)get_le(rd, 2);
	data = b->len <= BLOCK_MAX ? get_bytes(rd, b->len) : NULL;
	if (!data || rd->bad) {
		g_free(b);
		return NULL;
	}
	b->cap = block_cap(b->len);
	if (b->cap) {
		b->data = g_malloc(b->cap);
		memcpy(b->data, data, b->len);
	}
	return b;
}

static bool q_equal(const struct hist_point *p, const uint64_t q[4])
{
	return q[0] == q_t(p->t_ns) && q[1] == q_v(p->usage_ns) &&
	       q[2] == q_v(p->user_ns) && q[3] == q_v(p->sys_ns);
}

/* Add one block from rd to tr; *prev_t: the previous block's last time
 * (0 before the first: no time is below it), moved to this one's. */
static int load_tier_block(struct tier *tr, struct reader *rd,
			   uint64_t lastq[4], int64_t *prev_t)
{
	struct block *b = load_block(rd);

	if (!b)
		return -EINVAL;
	if (b->first.t_ns < *prev_t || !block_valid(b, lastq, prev_t)) {
		block_free(b);
		return -EINVAL;
	}
	g_ptr_array_add(tr->blocks, b);
	tr->bytes += block_bytes(b);
	/* as tier_commit does: a smaller budget than the saved one keeps
	 * the newest blocks, and memory never goes over it meanwhile */
	while (tr->bytes > tr->budget && tr->blocks->len > 1)
		tier_drop_oldest(tr);
	return 0;
}

static int load_tier(struct tier *tr, struct reader *rd)
{
	int64_t prev_t = 0;
	uint64_t lastq[4];
	uint8_t has_tail = (uint8_t)get_le(rd, 1);
	uint32_t n;

	get_point(rd, &tr->tail);
	get_point(rd, &tr->last);
	if (has_tail > 1 || !get_count(rd, POINT_BYTES + 4, &n))
		return -EINVAL;
	tr->has_tail = has_tail;
	for (uint32_t i = 0; i < n; i++)
		if (load_tier_block(tr, rd, lastq, &prev_t))
			return -EINVAL;
	/* last is what the next record's delta is taken from: it must be
	 * the record the newest block ends with (as far as the block can
	 * say: to the unit, so no finer time comparison) */
	if (n && !q_equal(&tr->last, lastq))
		return -EINVAL;
	if (tr->has_tail && tr->tail.t_ns < (n ? tr->last.t_ns : 0))
		return -EINVAL;
	return 0;
}

/* Back to what history_new made, keeping the budget. */
static void clear_locked(struct history *h)
{
	size_t cap = ring_capacity(h->recent);

	ring_free(h->recent);
	h->recent = ring_new(cap);
	for (int i = 0; i < 2; i++) {
		struct tier *tr = &h->tiers[i];

		while (tr->blocks->len)
			tier_drop_oldest(tr);
		tr->bytes = 0;
		tr->has_tail = false;
		memset(&tr->tail, 0, sizeof(tr->tail));
		memset(&tr->last, 0, sizeof(tr->last));
	}
	memset(h->base, 0, sizeof(h->base));
	memset(h->cur, 0, sizeof(h->cur));
	h->seen_ns = INT64_MIN;
	if (h->resets)
		g_array_free(h->resets, TRUE);
	h->resets = NULL;
}

static int load_locked(struct history *h, struct reader *rd)
{
	int err;

	h->seen_ns = (int64_t)get_le(rd, 8);
	for (int i = 0; i < 3; i++)
		h->base[i] = get_le(rd, 8);
	for (int i = 0; i < 3; i++)
		h->cur[i] = get_le(rd, 8);
	err = load_resets(h, rd);
	if (!err)
		err = load_recent(h, rd);
	if (!err)
		err = load_tier(&h->tiers[0], rd);
	if (!err)
		err = load_tier(&h->tiers[1], rd);
	return err || rd->bad ? -EINVAL : 0;
}

int history_load(struct history *h, const uint8_t *buf, size_t len, size_t *pos)
{
	struct reader rd = {buf, len, *pos, *pos > len};
	int err;

	g_mutex_lock(&h->lock);
	clear_locked(h);
	err = load_locked(h, &rd);
	if (err)
		clear_locked(h);
	else
		*pos = rd.pos;
	g_mutex_unlock(&h->lock);
	return err;
}
