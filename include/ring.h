/* ring.h - a group's sample history: fixed capacity, absolute times.
 *
 * Every record carries absolute values (cumulative counters at an
 * absolute CLOCK_MONOTONIC time), never deltas, so the newest record,
 * the record at or before any time, and the rate between two times
 * are found by binary search without walking the history. When full,
 * the oldest record is overwritten. Memory: up to capacity * 32 bytes,
 * allocated as records come.
 */
#ifndef CPUACCTFS_RING_H
#define CPUACCTFS_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring_rec {
	int64_t t_ns;	   /* CLOCK_MONOTONIC time of the sample */
	uint64_t usage_ns; /* cumulative cpuacct.usage at t_ns */
	uint64_t user_ns;  /* cumulative usage_user at t_ns */
	uint64_t sys_ns;   /* cumulative usage_sys at t_ns */
};

struct ring;

struct ring *ring_new(size_t capacity); /* capacity >= 1 */
void ring_free(struct ring *ring);
size_t ring_capacity(const struct ring *ring);
size_t ring_len(const struct ring *ring);

/* Times must not decrease; a record with the same time as the newest
 * replaces it. A record with an older time is dropped (returns false). */
bool ring_push(struct ring *ring, const struct ring_rec *rec);

/* Forget everything (used by a usage reset). */
void ring_clear(struct ring *ring);

bool ring_latest(const struct ring *ring, struct ring_rec *out);
bool ring_oldest(const struct ring *ring, struct ring_rec *out);
/* The record at logical position pos (0 = oldest), so a caller can copy
 * the ring out in order; false when pos >= ring_len. */
bool ring_nth(const struct ring *ring, size_t pos, struct ring_rec *out);
/* Bytes allocated for the ring now. */
size_t ring_bytes(const struct ring *ring);
/* Newest record with t_ns <= t; false if all are newer or empty. */
bool ring_at(const struct ring *ring, int64_t t, struct ring_rec *out);
/* Average CPUs used between t0 and t1 (t0 < t1), from ring_at(t0) and
 * ring_at(t1) and their own times; false when either is missing, they
 * are the same record, or usage went down between them. */
bool ring_rate(const struct ring *ring, int64_t t0, int64_t t1, double *cpus);

#endif
