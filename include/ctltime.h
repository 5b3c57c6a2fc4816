/* ctltime.h - durations and moments as cpuacctctl reads and writes them. */
#ifndef CPUACCTFS_CTLTIME_H
#define CPUACCTFS_CTLTIME_H

#include <stdint.h>

/* "90s", "5m", "2h", "1d", "250ms", "1.5s"; a bare number is seconds.
 * 0 or -EINVAL (empty, negative, unknown unit, too large). */
int ctl_parse_duration(const char *text, int64_t *ns);

/* WHEN: an age ("90s" = 90 s before now) or an RFC 3339 time
 * ("2026-12-04T14:02:00Z", "2026-12-04T15:02:00.5+01:00"). Wall ns. */
int ctl_parse_when(const char *text, int64_t now_wall_ns, int64_t *wall_ns);

/* RFC 3339, UTC, milliseconds: "2026-12-04T14:02:00.000Z". */
char *ctl_format_time(int64_t wall_ns);

/* CPU % (100 = one CPU) from a counter read a and later b, dt_ns
 * apart; b < a means it was reset in between: b is what it grew. */
double ctl_pct(uint64_t a, uint64_t b, int64_t dt_ns);

#endif
