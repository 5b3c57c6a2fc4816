/* ctlcmd.h - the control socket's commands, answered from a snapshot.
 *
 * Requests never touch the engine: the tree comes from the published
 * snapshot, history from each group's own history (its own lock), so a
 * request waits for nothing but the one history it reads at a time.
 *
 *   status
 *   groups
 *   history PATH SINCE_WALL_NS UNTIL_WALL_NS STEP_NS
 */
#ifndef CPUACCTFS_CTLCMD_H
#define CPUACCTFS_CTLCMD_H

#include <glib.h>
#include <stdint.h>

#include "snapshot.h"

/* What the daemon knows about itself, for status. */
struct ctl_info {
	const char *backend;
	unsigned int interval_ms;
	const char *mount;
	int64_t started_ns; /* CLOCK_MONOTONIC */
	double lag_ms, lag_mean_ms, lag_max_ms;
	uint64_t rss_bytes;
};

/* Rows of one history answer at most. */
#define CTL_MAX_ROWS 200000

/* The answer to one request line (without its newline): "ok" or "err
 * MESSAGE", data lines, and the end line. now_ns: CLOCK_MONOTONIC,
 * wall_ns: CLOCK_REALTIME, read together. */
void ctlcmd_run(const struct snapshot *snap, const struct ctl_info *info,
		int64_t now_ns, int64_t wall_ns, const char *line,
		GString *out);

/* A group's path ("" for the root, "web/db") and back; lookup NULL if
 * no such group. */
char *ctlcmd_path(const struct snapshot *snap, const struct snap_group *g);
const struct snap_group *ctlcmd_lookup(const struct snapshot *snap,
				       const char *path);

#endif
