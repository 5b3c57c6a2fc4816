/* ring.c - a group's sample history: fixed capacity, absolute times.
 *
 * Records are kept oldest to newest in a circular array. Because times
 * never decrease along that order, a lookup by time is a binary search
 * over logical positions, mapped onto the array by one modulo. The
 * array grows (doubling) up to the capacity as records come, so a ring
 * that is seldom written costs little: until it is full it never wraps,
 * and growing it is a realloc.
 */
#include "ring.h"

#include <glib.h>

struct ring {
	size_t capacity;
	size_t alloc;  /* records allocated, <= capacity */
	size_t oldest; /* array index of logical position 0 */
	size_t len;
	struct ring_rec *recs;
};

#define RING_FIRST_ALLOC 4

struct ring *ring_new(size_t capacity)
{
	struct ring *ring;

	g_return_val_if_fail(capacity >= 1, NULL);
	ring = g_new0(struct ring, 1);
	ring->capacity = capacity;
	return ring;
}

void ring_free(struct ring *ring)
{
	if (!ring)
		return;
	g_free(ring->recs);
	g_free(ring);
}

size_t ring_bytes(const struct ring *ring)
{
	return sizeof(*ring) + ring->alloc * sizeof(ring->recs[0]);
}

/* Room for one more record before the ring is full; it has not wrapped
 * yet (oldest == 0), so the records stay where they are. */
static void ring_grow(struct ring *ring)
{
	size_t alloc = MIN(MAX(ring->alloc * 2, (size_t)RING_FIRST_ALLOC),
			   ring->capacity);

	ring->recs = g_renew(struct ring_rec, ring->recs, alloc);
	ring->alloc = alloc;
}

size_t ring_capacity(const struct ring *ring)
{
	return ring->capacity;
}

size_t ring_len(const struct ring *ring)
{
	return ring->len;
}

/* Logical position (0 = oldest) to the record it names. */
static const struct ring_rec *ring_get(const struct ring *ring, size_t pos)
{
	return &ring->recs[(ring->oldest + pos) % ring->capacity];
}

static struct ring_rec *ring_slot(struct ring *ring, size_t pos)
{
	return &ring->recs[(ring->oldest + pos) % ring->capacity];
}

bool ring_push(struct ring *ring, const struct ring_rec *rec)
{
	if (ring->len > 0) {
		struct ring_rec *newest = ring_slot(ring, ring->len - 1);

		if (rec->t_ns < newest->t_ns)
			return false;
		if (rec->t_ns == newest->t_ns) {
			*newest = *rec;
			return true;
		}
	}
	if (ring->len < ring->capacity) {
		if (ring->len == ring->alloc)
			ring_grow(ring);
		*ring_slot(ring, ring->len++) = *rec;
		return true;
	}
	/* Full: the new record takes the oldest one's slot. */
	ring->recs[ring->oldest] = *rec;
	ring->oldest = (ring->oldest + 1) % ring->capacity;
	return true;
}

void ring_clear(struct ring *ring)
{
	ring->oldest = 0;
	ring->len = 0;
}

bool ring_oldest(const struct ring *ring, struct ring_rec *out)
{
	if (ring->len == 0)
		return false;
	*out = *ring_get(ring, 0);
	return true;
}

bool ring_latest(const struct ring *ring, struct ring_rec *out)
{
	if (ring->len == 0)
		return false;
	*out = *ring_get(ring, ring->len - 1);
	return true;
}

bool ring_nth(const struct ring *ring, size_t pos, struct ring_rec *out)
{
	if (pos >= ring->len)
		return false;
	*out = *ring_get(ring, pos);
	return true;
}

/* How many records have t_ns <= t; they are the oldest ones. */
static size_t count_at_or_before(const struct ring *ring, int64_t t)
{
	size_t lo = 0, hi = ring->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ring_get(ring, mid)->t_ns <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool ring_at(const struct ring *ring, int64_t t, struct ring_rec *out)
{
	size_t count = count_at_or_before(ring, t);

	if (count == 0)
		return false;
	*out = *ring_get(ring, count - 1);
	return true;
}

bool ring_rate(const struct ring *ring, int64_t t0, int64_t t1, double *cpus)
{
	struct ring_rec from, to;

	if (!ring_at(ring, t0, &from) || !ring_at(ring, t1, &to))
		return false;
	if (to.t_ns <= from.t_ns)
		return false;
	/* A reset between the two would make the difference negative. */
	if (to.usage_ns < from.usage_ns)
		return false;
	*cpus = (double)(to.usage_ns - from.usage_ns) /
		(double)(to.t_ns - from.t_ns);
	return true;
}
