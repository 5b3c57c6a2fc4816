/* test_ctlclient.c - cpuacctctl's parsing and formatting: durations,
 * times, rates across resets, the groups answer, metrics, top. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ctlclient.h"
#include "ctltime.h"
#include "ctltop.h"
#include "promfmt.h"

#include "unit.h"

#define S 1000000000LL

START_TEST(test_durations)
{
	int64_t ns;

	ck_assert_int_eq(ctl_parse_duration("90s", &ns), 0);
	ck_assert_int_eq(ns, 90 * S);
	ck_assert_int_eq(ctl_parse_duration("5m", &ns), 0);
	ck_assert_int_eq(ns, 300 * S);
	ck_assert_int_eq(ctl_parse_duration("2h", &ns), 0);
	ck_assert_int_eq(ns, 7200 * S);
	ck_assert_int_eq(ctl_parse_duration("1d", &ns), 0);
	ck_assert_int_eq(ns, 86400 * S);
	ck_assert_int_eq(ctl_parse_duration("250ms", &ns), 0);
	ck_assert_int_eq(ns, 250000000);
	ck_assert_int_eq(ctl_parse_duration("1.5s", &ns), 0);
	ck_assert_int_eq(ns, 1500000000);
	ck_assert_int_eq(ctl_parse_duration("7", &ns), 0);
	ck_assert_int_eq(ns, 7 * S);
	ck_assert_int_eq(ctl_parse_duration("0s", &ns), 0);
	ck_assert_int_eq(ns, 0);
	ck_assert_int_eq(ctl_parse_duration("", &ns), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration("-5s", &ns), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration(" 5s", &ns), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration("5x", &ns), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration("5 s", &ns), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration("s", &ns), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration("inf", &ns), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration("99999999999d", &ns), -EINVAL);
}
END_TEST

START_TEST(test_when)
{
	int64_t now = 1796400000 * S, t;

	ck_assert_int_eq(ctl_parse_when("90s", now, &t), 0);
	ck_assert_int_eq(t, now - 90 * S);
	ck_assert_int_eq(ctl_parse_when("2026-12-04T14:02:00Z", now, &t), 0);
	ck_assert_int_eq(t, 1796392920 * S);
	ck_assert_int_eq(
	    ctl_parse_when("2026-12-04T15:02:00.250+01:00", now, &t), 0);
	ck_assert_int_eq(t, 1796392920 * S + 250000000);
	ck_assert_int_eq(ctl_parse_when("2026-12-04T14:02:00-00:30", now, &t),
			 0);
	ck_assert_int_eq(t, 1796394720 * S);
	/* no offset: ambiguous, refused */
	ck_assert_int_eq(ctl_parse_when("2026-12-04T14:02:00", now, &t),
			 -EINVAL);
	ck_assert_int_eq(ctl_parse_when("2026-12-04", now, &t), -EINVAL);
	ck_assert_int_eq(ctl_parse_when("yesterday", now, &t), -EINVAL);
	ck_assert_int_eq(ctl_parse_when("2026-13-04T14:02:00Z", now, &t),
			 -EINVAL);
}
END_TEST

START_TEST(test_format_time)
{
	g_autofree char *a = ctl_format_time(1796392920 * S + 123456789);
	g_autofree char *b = ctl_format_time(0);

	ck_assert_str_eq(a, "2026-12-04T14:02:00.123Z");
	ck_assert_str_eq(b, "1970-01-01T00:00:00.000Z");
}
END_TEST

/* A counter read at a and b: reset in between means b is the growth. */
START_TEST(test_pct_across_reset)
{
	ck_assert_double_eq_tol(ctl_pct(1 * S, 2 * S, S), 100.0, 1e-9);
	ck_assert_double_eq_tol(ctl_pct(5 * S, S / 2, S), 50.0, 1e-9);
	ck_assert_double_eq_tol(ctl_pct(5 * S, 0, S), 0.0, 1e-9);
	ck_assert_double_eq_tol(ctl_pct(0, S, 0), 0.0, 1e-9);
	ck_assert_double_eq_tol(ctl_pct(0, 3 * S, 2 * S), 150.0, 1e-9);
}
END_TEST

static GPtrArray *answer(const char *const *lines)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

	for (; *lines; lines++)
		g_ptr_array_add(a, g_strdup(*lines));
	return a;
}

static struct ctl_groups *two_groups(uint64_t web_usage, int64_t t)
{
	g_autofree char *now = g_strdup_printf("now %" G_GINT64_FORMAT " 2", t);
	g_autofree char *web = g_strdup_printf(
	    "group 1 2 3 1 50.0 %" G_GUINT64_FORMAT " 1500000000 500000000 "
	    "%" G_GUINT64_FORMAT ",0 1500000000,0 500000000,0 a%%22b",
	    web_usage, web_usage);
	const char *lines[] = {
	    now,
	    "group 0 1 5 2 - 4000000001 3000000000 1000000000 "
	    "3000000000,1000000001 2000000000,1000000000 500000000,500000000 "
	    "/",
	    web, NULL};
	g_autoptr(GPtrArray) a = answer(lines);

	return ctl_groups_parse(a);
}

START_TEST(test_groups_parse)
{
	g_autoptr(ctl_groups_t) gs = two_groups(2000000000, 10 * S);
	const struct ctl_group *root, *web;
	const char *bad[] = {"now 1 2", "group 0 1 5 2 - 1 1 1 1 1,1 1,1 /",
			     NULL};
	g_autoptr(GPtrArray) b = answer(bad);

	ck_assert_ptr_nonnull(gs);
	ck_assert_uint_eq(gs->ncpu, 2);
	ck_assert_int_eq(gs->t_wall_ns, 10 * S);
	root = gs->groups->pdata[0];
	web = gs->groups->pdata[1];
	ck_assert(isnan(root->pct1s));
	ck_assert_str_eq(root->path, "/");
	ck_assert_int_eq(root->depth, 0);
	ck_assert_uint_eq(root->cpu_usage[1], 1000000001);
	ck_assert_str_eq(web->path, "a\"b");
	ck_assert_int_eq(web->depth, 1);
	ck_assert_double_eq_tol(web->pct1s, 50.0, 1e-9);
	ck_assert_ptr_eq(ctl_groups_find(gs, 1, 2), web);
	ck_assert_ptr_null(ctl_groups_find(gs, 1, 3));
	ck_assert_ptr_null(ctl_groups_parse(b)); /* a per-CPU list short */
}
END_TEST

START_TEST(test_tree_order)
{
	const char *lines[] = {"now 1 1",
			       "group 3 4 0 0 - 0 0 0 0 0 0 web2",
			       "group 2 3 0 0 - 0 0 0 0 0 0 web/db",
			       "group 1 2 0 0 - 0 0 0 0 0 0 web",
			       "group 4 5 0 0 - 0 0 0 0 0 0 web/db/x",
			       "group 0 1 0 0 - 0 0 0 0 0 0 /",
			       "group 5 6 0 0 - 0 0 0 0 0 0 web.a",
			       NULL};
	g_autoptr(GPtrArray) a = answer(lines);
	g_autoptr(ctl_groups_t) gs = ctl_groups_parse(a);
	const char *want[] = {"/",	  "web",   "web/db",
			      "web/db/x", "web.a", "web2"};

	ctl_groups_sort_tree(gs);
	for (unsigned int i = 0; i < G_N_ELEMENTS(want); i++)
		ck_assert_str_eq(
		    ((struct ctl_group *)gs->groups->pdata[i])->path, want[i]);
}
END_TEST

/* The exposition format, byte for byte. */
START_TEST(test_metrics_format)
{
	g_autoptr(ctl_groups_t) gs = two_groups(2000000000, 10 * S);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) label = g_string_new(NULL);

	promfmt_label(label, "a\\b\"c\nd");
	ck_assert_str_eq(label->str, "\"a\\\\b\\\"c\\nd\"");
	promfmt_groups(gs, 0.0125, out);
	ck_assert_str_eq(
	    out->str,
	    "# HELP cpuacct_usage_seconds_total CPU time of the group's tasks "
	    "on each CPU by mode, from their tick counts "
	    "(cpuacct.usage_percpu_user and _sys).\n"
	    "# TYPE cpuacct_usage_seconds_total counter\n"
	    "cpuacct_usage_seconds_total{group=\"/\",cpu=\"0\",mode=\"user\"} "
	    "2.000000000\n"
	    "cpuacct_usage_seconds_total{group=\"/\",cpu=\"1\",mode=\"user\"} "
	    "1.000000000\n"
	    "cpuacct_usage_seconds_total{group=\"a\\\"b\",cpu=\"0\","
	    "mode=\"user\"} 1.500000000\n"
	    "cpuacct_usage_seconds_total{group=\"a\\\"b\",cpu=\"1\","
	    "mode=\"user\"} 0.000000000\n"
	    "cpuacct_usage_seconds_total{group=\"/\",cpu=\"0\",mode=\"system\"}"
	    " 0.500000000\n"
	    "cpuacct_usage_seconds_total{group=\"/\",cpu=\"1\",mode=\"system\"}"
	    " 0.500000000\n"
	    "cpuacct_usage_seconds_total{group=\"a\\\"b\",cpu=\"0\","
	    "mode=\"system\"} 0.500000000\n"
	    "cpuacct_usage_seconds_total{group=\"a\\\"b\",cpu=\"1\","
	    "mode=\"system\"} 0.000000000\n"
	    "# HELP cpuacct_runtime_seconds_total CPU time the scheduler "
	    "charged to the group's tasks on each CPU (cpuacct.usage_percpu).\n"
	    "# TYPE cpuacct_runtime_seconds_total counter\n"
	    "cpuacct_runtime_seconds_total{group=\"/\",cpu=\"0\"} 3.000000000\n"
	    "cpuacct_runtime_seconds_total{group=\"/\",cpu=\"1\"} 1.000000001\n"
	    "cpuacct_runtime_seconds_total{group=\"a\\\"b\",cpu=\"0\"} "
	    "2.000000000\n"
	    "cpuacct_runtime_seconds_total{group=\"a\\\"b\",cpu=\"1\"} "
	    "0.000000000\n"
	    "# HELP cpuacct_tasks Threads in the group (its tasks file).\n"
	    "# TYPE cpuacct_tasks gauge\n"
	    "cpuacct_tasks{group=\"/\"} 5\n"
	    "cpuacct_tasks{group=\"a\\\"b\"} 3\n"
	    "# HELP cpuacct_processes Processes in the group (its cgroup.procs "
	    "file).\n"
	    "# TYPE cpuacct_processes gauge\n"
	    "cpuacct_processes{group=\"/\"} 2\n"
	    "cpuacct_processes{group=\"a\\\"b\"} 1\n"
	    "# HELP cpuacctfs_lag_seconds How old the daemon's newest numbers "
	    "were when read.\n"
	    "# TYPE cpuacctfs_lag_seconds gauge\n"
	    "cpuacctfs_lag_seconds 0.012500\n");
}
END_TEST

/* Two answers a second apart: web grew 1 s (100 %), then a reset. */
START_TEST(test_top_render)
{
	g_autoptr(ctl_groups_t) a = two_groups(2000000000, 10 * S);
	g_autoptr(ctl_groups_t) b = two_groups(3000000000, 11 * S);
	g_autoptr(ctl_groups_t) c = two_groups(500000000, 12 * S);
	g_autoptr(GString) out = g_string_new(NULL);
	struct top_head head = {.backend = "tracepoint",
				.interval_ms = 40,
				.lag_ms = 12,
				.delay_ns = S};
	g_auto(GStrv) lines = NULL;
	enum top_sort sort;

	top_render(a, b, &head, TOP_CPU, 0, 0, out);
	lines = g_strsplit(out->str, "\n", -1);
	ck_assert_str_eq(lines[0], "cpuacctctl top - 00:00:11  backend "
				   "tracepoint  interval 40 ms  lag 12 ms  "
				   "refresh 1.0 s");
	ck_assert_str_eq(lines[1], "2 groups, 2 CPUs, sorted by %CPU");
	ck_assert_str_eq(lines[2], "GROUP  TASKS    %CPU   %USER    %SYS "
				   "   CPU0    CPU1");
	ck_assert_str_eq(lines[3], "a\"b        3   100.0     0.0     0.0 "
				   "  100.0     0.0");
	ck_assert_str_eq(lines[4], "/          5     0.0     0.0     0.0 "
				   "    0.0     0.0");
	g_string_truncate(out, 0);
	top_render(b, c, &head, TOP_NAME, 20, 1, out);
	g_strfreev(lines);
	lines = g_strsplit(out->str, "\n", -1);
	ck_assert_str_eq(lines[1], "2 groups, 2 CPUs, so");
	/* by name, one row: "/"; a reset is growth since, not negative */
	ck_assert_str_eq(lines[3], "/          5     0.0");
	ck_assert_str_eq(lines[4], "");
	g_string_truncate(out, 0);
	top_render(b, c, &head, TOP_CPU, 0, 0, out);
	ck_assert(strstr(out->str, "\na\"b        3    50.0"));
	ck_assert(top_sort_parse("tasks", &sort) && sort == TOP_TASKS);
	ck_assert(!top_sort_parse("mem", &sort));
}
END_TEST

static Suite *ctlclient_suite(void)
{
	Suite *s = suite_create("ctlclient");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_when);
	tcase_add_test(tc, test_format_time);
	tcase_add_test(tc, test_pct_across_reset);
	tcase_add_test(tc, test_groups_parse);
	tcase_add_test(tc, test_tree_order);
	tcase_add_test(tc, test_metrics_format);
	tcase_add_test(tc, test_top_render);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(ctlclient_suite());
}
