/* histbench.c - what history costs: memory per group at each --history
 * setting, and the time `cpuacctctl history` takes the daemon over a
 * full day at 1,000 groups (the daemon's own code: ctlcmd_run on a
 * snapshot, without the socket). No root, no mount: the days are
 * simulated, pushed with the times a real day would have. */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctlcmd.h"
#include "history.h"
#include "snapshot.h"

#define S 1000000000LL
#define MS 1000000LL
#define DAY (86400 * S)

static double now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A day of passes every 40 ms with `cpus` CPUs busy (0: idle after the
 * first record); bytes, and how far back seconds and minutes reach. */
static void one_day(size_t kib, double cpus)
{
	g_autoptr(history_t) h = history_new(kib * 1024);
	int64_t end = DAY + 3600 * S, t, so = 0, mo = 0;
	uint64_t u = 0;

	for (t = 0; t <= end; t += 40 * MS) {
		if (cpus > 0 || t == 0)
			history_push(h, t, u, u * 9 / 10, u / 10);
		else
			history_seen(h, t);
		u += (uint64_t)(40 * MS * cpus);
	}
	history_oldest(h, HIST_SECONDS, &so);
	history_oldest(h, HIST_MINUTES, &mo);
	printf("%7zu KiB %5.0f CPUs %9zu B %8.1f min %8.1f h\n", kib, cpus,
	       history_bytes(h), (double)(end - so) / 60 / S,
	       (double)(end - mo) / 3600 / S);
}

/* 1,000 groups busy all day: every second for the last two hours, two
 * records a minute before (what the minutes keep). */
static struct group_tree *busy_groups(unsigned int n, int64_t end)
{
	struct group_tree *tree = group_tree_new(2, HISTORY_DEFAULT_BYTES);

	for (unsigned int i = 0; i < n; i++) {
		char name[32];
		struct group *g;
		uint64_t u = 0;

		snprintf(name, sizeof(name), "g%04u", i);
		group_mkdir(tree, group_root(tree), name, 0755, &g);
		for (int64_t t = 0; t <= end;
		     t += t < end - 7200 * S ? 30 * S : S) {
			u = (uint64_t)t / 2 + i;
			history_push(g->history, t, u, u / 2, u / 4);
		}
	}
	return tree;
}

static void query_cost(unsigned int n)
{
	int64_t end = DAY + 7200 * S;
	struct group_tree *tree = busy_groups(n, end);
	struct task_table *tt = tasks_new();
	struct snapshot *snap = snapshot_build(tree, tt, NULL, 1, end);
	struct ctl_info info = {
	    .backend = "bench", .interval_ms = 40, .mount = "/bench"};
	const struct {
		const char *what;
		int64_t since, step;
	} q[] = {{"a full day at 1 min", end - DAY, 60 * S},
		 {"the last hour at 1 s", end - 3600 * S, S}};
	size_t rows = 0;

	for (unsigned int k = 0; k < G_N_ELEMENTS(q); k++) {
		double t0 = now_ms(CLOCK_MONOTONIC), ms, cpu;
		double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);

		rows = 0;
		for (unsigned int i = 0; i < n; i++) {
			g_autoptr(GString) out = g_string_new(NULL);
			g_autofree char *line = g_strdup_printf(
			    "history g%04u %" PRId64 " %" PRId64 " %" PRId64, i,
			    q[k].since, end, q[k].step);

			ctlcmd_run(snap, &info, end, end, line, out);
			if (!g_str_has_prefix(out->str, "ok\n")) {
				fprintf(stderr, "histbench: %s", out->str);
				exit(1);
			}
			for (const char *p = out->str; *p; p++)
				rows += *p == '\n';
			rows -= 2;
		}
		ms = now_ms(CLOCK_MONOTONIC) - t0;
		cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
		printf("history over %s, %u groups: %.0f ms CPU, %.0f ms "
		       "wall (%.2f ms CPU a group, %zu rows each)\n",
		       q[k].what, n, cpu, ms, cpu / n, rows / n);
	}
	snapshot_unref(snap);
	tasks_free(tt);
	group_tree_free(tree);
}

int main(int argc, char **argv)
{
	unsigned int groups = argc > 1 ? (unsigned int)atoi(argv[1]) : 1000;
	const size_t kibs[] = {4, 16, 64, 256};
	const double loads[] = {0, 1, 8, 64};

	history_set_wall_offset(0);
	printf("memory and reach of one group's history after 25 h of passes "
	       "every 40 ms\n");
	printf("%11s %10s %11s %12s %10s\n", "--history", "busy", "bytes",
	       "seconds", "minutes");
	for (unsigned int i = 0; i < G_N_ELEMENTS(kibs); i++)
		for (unsigned int j = 0; j < G_N_ELEMENTS(loads); j++)
			one_day(kibs[i], loads[j]);
	query_cost(groups);
	return 0;
}
