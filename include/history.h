/* history.h - a group's usage over time, at three resolutions.
 *
 * The newest passes are kept as they were recorded (full resolution);
 * behind them the last record of every wall-clock second and of every
 * minute, delta-encoded in small blocks that are allocated as records
 * come in, so an idle group costs a few hundred bytes and a busy one at
 * most the byte budget given to history_new. With the default 64 KiB a
 * group busy on up to 16 CPUs keeps more than an hour of seconds and
 * more than a day of minutes (tests/bench/history.sh measures it).
 *
 * Records hold counters that never go down: a reset (echo 0 >
 * cpuacct.usage) is remembered as a moment and an offset, so a rate
 * across it is what the group really used, and the usage shown after it
 * starts again from 0. Times are CLOCK_MONOTONIC ns; seconds and minutes
 * are cut on the wall clock (history_set_wall_offset).
 *
 * Thread safety: one lock per history; the sampler pushes, control
 * threads query, each holds it for one call.
 */
#ifndef CPUACCTFS_HISTORY_H
#define CPUACCTFS_HISTORY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_DEFAULT_BYTES (64 * 1024)
#define HISTORY_MIN_BYTES 1024

/* One moment: counters that never go down (resets are added back). */
struct hist_point {
	int64_t t_ns;
	uint64_t usage_ns;
	uint64_t user_ns;
	uint64_t sys_ns;
};

/* One row of a query: the step ending at t_ns. Percentages as top
 * counts them (100 = one CPU busy), over the records that bracket the
 * step. */
struct hist_row {
	int64_t t_ns;
	uint64_t usage_ns; /* cpuacct.usage as it read at t_ns */
	double cpu_pct;
	double user_pct;
	double sys_pct;
	bool reset; /* usage was reset during the step */
};

enum hist_tier { HIST_RECENT, HIST_SECONDS, HIST_MINUTES, HIST_NTIERS };

struct history;

struct history *history_new(size_t bytes);
struct history *history_ref(struct history *h);
void history_unref(struct history *h);

/* Wall clock minus CLOCK_MONOTONIC, ns: where seconds and minutes are
 * cut. Set once at start (0 until then); tests set their own. */
void history_set_wall_offset(int64_t offset_ns);
int64_t history_wall_offset(void);

/* The group's counters as its files read them, at t_ns (times must not
 * go down; an older record is dropped). */
void history_push(struct history *h, int64_t t_ns, uint64_t usage,
		  uint64_t user, uint64_t sys);
/* A pass ran at t_ns (group_reset says so before a reset): a reset now
 * is placed there. */
void history_seen(struct history *h, int64_t t_ns);
/* The counters were zeroed; usage, user, sys: what they read just
 * before. */
void history_reset(struct history *h, uint64_t usage, uint64_t user,
		   uint64_t sys);

/* Newest record; false when empty. */
bool history_latest(struct history *h, struct hist_point *out);
/* Newest record at or before t_ns in one tier; false if none. */
bool history_at(struct history *h, enum hist_tier tier, int64_t t_ns,
		struct hist_point *out);
/* Oldest time a tier can answer for; false when it is empty. */
bool history_oldest(struct history *h, enum hist_tier tier, int64_t *t_ns);
/* Average CPUs used over [t0, t1] from the records at or before each,
 * finest tier that reaches t0 (0 when both are one record: nothing
 * changed); false if no tier reaches t0. */
bool history_rate(struct history *h, int64_t t0, int64_t t1, double *cpus);
size_t history_bytes(struct history *h);
size_t history_len(struct history *h, enum hist_tier tier);

/* Rows ending at first_end, first_end + step, ... <= until (monotonic
 * ns). 0, or -ERANGE when first_end - step is older than history goes
 * back (*oldest says how far it does), or -EINVAL when the tier that
 * reaches that far keeps coarser records than step (*oldest is then the
 * oldest time of the finer tier, *res its resolution). */
int history_query(struct history *h, int64_t first_end, int64_t until,
		  int64_t step, GArray *rows, int64_t *oldest, int64_t *res);

/* Append h's whole content (every tier, the resets, the bases, the last
 * pass) to out, in a form history_load reads back. Fixed-width little
 * endian; the caller's state format carries the version. */
void history_save(struct history *h, GByteArray *out);
/* Replace h's content with what history_save wrote at *pos in buf (len
 * bytes in all); *pos moves past it. 0, or -EINVAL when the bytes are
 * not a valid history (truncated, inconsistent lengths, times out of
 * order or below 0): h is then left empty, as new, and *pos unchanged.
 * h must have been made with history_new of the same byte budget or
 * larger; records beyond what h's budget holds are dropped oldest
 * first, as pushes would. */
int history_load(struct history *h, const uint8_t *buf, size_t len,
		 size_t *pos);

/* Rate arithmetic shared with clients: what a counter grew from a to b
 * when it may have been reset in between (then b is what it grew since
 * the reset). */
static inline uint64_t hist_growth(uint64_t a, uint64_t b)
{
	return b >= a ? b - a : b;
}

typedef struct history history_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(history_t, history_unref)

#endif
