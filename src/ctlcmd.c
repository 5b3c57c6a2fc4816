/* ctlcmd.c - status, groups and history, answered from a snapshot. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctlcmd.h"
#include "ctlproto.h"
#include "history.h"

#define NS_PER_S ((int64_t)1000000000)

char *ctlcmd_path(const struct snapshot *snap, const struct snap_group *g)
{
	GPtrArray *names = g_ptr_array_new();
	GString *path = g_string_new(NULL);

	for (; g && g->parent_id != g->id;
	     g = snapshot_group(snap, g->parent_id))
		g_ptr_array_add(names, g->name);
	for (guint i = names->len; i > 0; i--) {
		if (path->len)
			g_string_append_c(path, '/');
		g_string_append(path, names->pdata[i - 1]);
	}
	g_ptr_array_free(names, TRUE);
	return g_string_free(path, FALSE);
}

const struct snap_group *ctlcmd_lookup(const struct snapshot *snap,
				       const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	const struct snap_group *g = snapshot_group(snap, 0);

	for (int i = 0; g && parts[i]; i++) {
		/* "", "." and doubled slashes name the same group */
		if (!*parts[i] || strcmp(parts[i], ".") == 0)
			continue;
		g = snapshot_child(snap, g, parts[i]);
	}
	return g;
}

static uint64_t sum(const uint64_t *v, unsigned int n)
{
	uint64_t s = 0;

	for (unsigned int i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void append_percpu(GString *out, const uint64_t *v, unsigned int n)
{
	g_string_append_c(out, ' ');
	for (unsigned int i = 0; i < n; i++)
		g_string_append_printf(out, "%s%" PRIu64, i ? "," : "", v[i]);
}

static void err(GString *out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void err(GString *out, const char *fmt, ...)
{
	va_list ap;

	g_string_truncate(out, 0);
	g_string_append(out, "err ");
	va_start(ap, fmt);
	g_string_append_vprintf(out, fmt, ap);
	va_end(ap);
	g_string_append_c(out, '\n');
}

/* groups: "now SNAPSHOT_WALL_NS NCPU", then per group "group ID SERIAL THREADS
 * PROCS PCT1S USAGE USER SYS U0,U1.. US0,.. SY0,.. PATH" with PCT1S the
 * CPU % over the last second ("-" when history is shorter). */
static void cmd_groups(const struct snapshot *snap, int64_t offset,
		       GString *out)
{
	/* the snapshot's own time: rates between two answers are then
	 * between two passes, not two requests */
	g_string_append_printf(out, "ok\nnow %" PRId64 " %u\n",
			       snap->t_ns + offset, snap->ncpu);
	for (unsigned int id = 0; id < snap->ngroups; id++) {
		const struct snap_group *g = snapshot_group(snap, id);
		g_autofree char *path = NULL, *esc = NULL;
		double cpus = 0;

		if (!g)
			continue;
		path = ctlcmd_path(snap, g);
		esc = ctl_escape(*path ? path : "/");
		g_string_append_printf(out, "group %u %" PRIu64 " %u %u ", id,
				       g->serial, g->tids->len, g->tgids->len);
		if (history_rate(g->history, snap->t_ns - NS_PER_S, snap->t_ns,
				 &cpus))
			g_string_append_printf(out, "%.1f", cpus * 100.0);
		else
			g_string_append_c(out, '-');
		g_string_append_printf(out, " %" PRIu64 " %" PRIu64 " %" PRIu64,
				       sum(g->usage, snap->ncpu),
				       sum(g->user, snap->ncpu),
				       sum(g->sys, snap->ncpu));
		append_percpu(out, g->usage, snap->ncpu);
		append_percpu(out, g->user, snap->ncpu);
		append_percpu(out, g->sys, snap->ncpu);
		g_string_append_printf(out, " %s\n", esc);
	}
}

static uint64_t total_history(const struct snapshot *snap)
{
	uint64_t bytes = 0;

	for (unsigned int id = 0; id < snap->ngroups; id++) {
		const struct snap_group *g = snapshot_group(snap, id);

		if (g)
			bytes += history_bytes(g->history);
	}
	return bytes;
}

static void cmd_status(const struct snapshot *snap, const struct ctl_info *info,
		       int64_t now_ns, GString *out)
{
	unsigned int groups = 0, threads = 0, procs = 0;

	for (unsigned int id = 0; id < snap->ngroups; id++) {
		const struct snap_group *g = snapshot_group(snap, id);

		if (!g)
			continue;
		groups++;
		threads += g->tids->len;
		procs += g->tgids->len;
	}
	g_string_append_printf(
	    out,
	    "ok\nversion %s\nmount %s\nbackend %s\ninterval_ms %u\n"
	    "cpus %u\ngroups %u\ntasks %u\nprocesses %u\n"
	    "rss_bytes %" PRIu64 "\nhistory_bytes %" PRIu64 "\n"
	    "uptime_s %.1f\nlag_ms %.1f\nlag_mean_ms %.1f\nlag_max_ms %.1f\n",
	    PACKAGE_VERSION, info->mount, info->backend, info->interval_ms,
	    snap->ncpu, groups, threads, procs, info->rss_bytes,
	    total_history(snap), (double)(now_ns - info->started_ns) / 1e9,
	    (double)(now_ns - snap->t_ns) / 1e6, info->lag_mean_ms,
	    info->lag_max_ms);
}

static bool parse_i64(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return !errno && end != s && !*end;
}

static char *wall_text(int64_t wall_ns)
{
	g_autoptr(GDateTime) dt =
	    g_date_time_new_from_unix_utc(wall_ns / NS_PER_S);

	if (!dt)
		return g_strdup("?");
	return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static char *duration_text(int64_t ns)
{
	if (ns >= 60 * NS_PER_S)
		return g_strdup_printf("%" PRId64 " min", ns / 60 / NS_PER_S);
	return g_strdup_printf("%" PRId64 " s", ns / NS_PER_S);
}

static void history_rows(const GArray *rows, int64_t offset, GString *out)
{
	g_string_append(out, "ok\n");
	for (guint i = 0; i < rows->len; i++) {
		const struct hist_row *r =
		    &g_array_index(rows, struct hist_row, i);

		g_string_append_printf(out,
				       "%" PRId64 " %" PRIu64 " %.3f %.3f "
				       "%.3f %d\n",
				       r->t_ns + offset, r->usage_ns,
				       r->cpu_pct, r->user_pct, r->sys_pct,
				       r->reset);
	}
}

/* Wall times from 1970 to 2116 and steps up to 3 years: the sums below
 * then never overflow (a fuzzed request found they could). */
#define MAX_STEP_NS (3 * 365 * 86400 * NS_PER_S)

static bool time_sane(int64_t wall_ns)
{
	return wall_ns >= 0 && wall_ns <= INT64_MAX / 2;
}

/* Rows end on whole steps of the wall clock: since 14:02:00.5 with a
 * 1 s step gives (14:02:01, 14:02:02], ... up to until. */
static void cmd_history(const struct snapshot *snap,
			const struct ctl_info *info, int64_t offset,
			char **argv, GString *out)
{
	g_autofree char *path = ctl_unescape(argv[0]);
	g_autoptr(GArray) rows = NULL;
	g_autofree char *when = NULL, *ago = NULL;
	const struct snap_group *g;
	int64_t since, until, step, first, oldest = 0, res = 0;
	int rc;

	if (!path || !parse_i64(argv[1], &since) ||
	    !parse_i64(argv[2], &until) || !parse_i64(argv[3], &step) ||
	    step <= 0 || !time_sane(since) || !time_sane(until) ||
	    step > MAX_STEP_NS) {
		err(out, "malformed history request");
		return;
	}
	g = ctlcmd_lookup(snap, path);
	if (!g) {
		err(out, "no group %s at %s", path, info->mount);
		return;
	}
	if (step < (int64_t)info->interval_ms * 1000000LL) {
		err(out,
		    "a step must be at least the daemon's interval "
		    "(%u ms)",
		    info->interval_ms);
		return;
	}
	/* the first row starts at since, or the next whole step after */
	first = (since + step - 1) / step * step + step;
	if (until < first) {
		err(out, "nothing between --since and --until at that "
			 "--step");
		return;
	}
	if ((until - first) / step >= CTL_MAX_ROWS) {
		err(out, "more than %d rows: use a larger --step",
		    CTL_MAX_ROWS);
		return;
	}
	rows = g_array_new(FALSE, FALSE, sizeof(struct hist_row));
	rc = history_query(g->history, first - offset, until - offset, step,
			   rows, &oldest, &res);
	if (rc == 0) {
		history_rows(rows, offset, out);
		return;
	}
	if (oldest == INT64_MAX) {
		err(out, "no history of %s yet", *path ? path : "/");
		return;
	}
	when = wall_text(oldest + offset);
	ago = duration_text(snap->t_ns - oldest);
	if (rc == -ERANGE) {
		err(out,
		    "history of %s goes back to %s (%s ago): use a "
		    "later --since",
		    *path ? path : "/", when, ago);
		return;
	}
	err(out,
	    "history of %s before %s is kept at %" PRId64 " s steps: use "
	    "--step %" PRId64 "s or more, or a later --since",
	    *path ? path : "/", when, res / NS_PER_S, res / NS_PER_S);
}

void ctlcmd_run(const struct snapshot *snap, const struct ctl_info *info,
		int64_t now_ns, int64_t wall_ns, const char *line, GString *out)
{
	g_auto(GStrv) argv = g_strsplit(line, " ", -1);
	int argc = g_strv_length(argv);
	int64_t offset = wall_ns - now_ns;

	if (argc == 1 && strcmp(argv[0], "status") == 0)
		cmd_status(snap, info, now_ns, out);
	else if (argc == 1 && strcmp(argv[0], "groups") == 0)
		cmd_groups(snap, offset, out);
	else if (argc == 5 && strcmp(argv[0], "history") == 0)
		cmd_history(snap, info, offset, argv + 1, out);
	else
		err(out, "unknown request (this cpuacctfs is version %s)",
		    PACKAGE_VERSION);
	g_string_append(out, CTL_END "\n");
}
