/* test_ctl.c - the control socket's address, escaping, who may ask, and
 * the answers built from a snapshot. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "ctlcmd.h"
#include "ctllimit.h"
#include "ctlproto.h"
#include "ctlsock.h"
#include "history.h"

#include "unit.h"

#define S 1000000000LL
#define MS 1000000LL

static struct group_tree *tree;
static struct task_table *tt;
static const struct ctl_info info = {
    .backend = "tracepoint", .interval_ms = 40, .mount = "/run/cpuacctfs"};

static void setup(void)
{
	history_set_wall_offset(0);
	tree = group_tree_new(2, HISTORY_DEFAULT_BYTES);
	tt = tasks_new();
}

static void teardown(void)
{
	tasks_free(tt);
	group_tree_free(tree);
}

START_TEST(test_socket_addr)
{
	struct sockaddr_un addr;
	g_autofree char *long_path = g_strnfill(120, 'x');

	ck_assert_int_eq(ctl_socket_addr("/run/cpuacctfs", &addr), 0);
	ck_assert_str_eq(addr.sun_path, "/run/cpuacctfs.ctl");
	ck_assert_int_eq(ctl_socket_addr("/tmp/m/", &addr), 0);
	ck_assert_str_eq(addr.sun_path, "/tmp/m.ctl");
	ck_assert_int_eq(ctl_socket_addr(long_path, &addr), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_escape)
{
	g_autofree char *e = ctl_escape("web/a b%\n\x7f/é");
	g_autofree char *back = ctl_unescape(e);

	ck_assert_str_eq(e, "web/a%20b%25%0A%7F/é");
	ck_assert_str_eq(back, "web/a b%\n\x7f/é");
	ck_assert_ptr_null(ctl_unescape("a%2"));
	ck_assert_ptr_null(ctl_unescape("a%zz"));
	ck_assert_ptr_null(ctl_unescape("a%00b"));
}
END_TEST

START_TEST(test_limit_parse)
{
	unsigned int max = 7;

	ck_assert(ctllimit_is_request("limit /"));
	ck_assert(ctllimit_is_request("limit"));
	ck_assert(!ctllimit_is_request("limits /"));
	ck_assert_int_eq(ctllimit_parse("0", 1000, &max), 0);
	ck_assert_uint_eq(max, 0);
	ck_assert_int_eq(ctllimit_parse("default", 1000, &max), 0);
	ck_assert_uint_eq(max, 1000);
	ck_assert_int_eq(ctllimit_parse("max", 1000, &max), 0);
	ck_assert_uint_eq(max, GROUP_NO_LIMIT);
	ck_assert_int_eq(ctllimit_parse("4294967295", 1, &max), -EINVAL);
	ck_assert_int_eq(ctllimit_parse("-1", 1, &max), -EINVAL);
	ck_assert_int_eq(ctllimit_parse(" 1", 1, &max), -EINVAL);
	ck_assert_int_eq(ctllimit_parse("1x", 1, &max), -EINVAL);
	ck_assert_int_eq(ctllimit_parse("", 1, &max), -EINVAL);
}
END_TEST

START_TEST(test_allowed)
{
	gid_t groups[] = {27, 1000};

	ck_assert(ctlsock_allowed(0, 0, NULL, 0, 0, false));
	ck_assert(!ctlsock_allowed(1000, 1000, groups, 2, 0, false));
	ck_assert(ctlsock_allowed(1000, 1000, groups, 2, 27, true));
	ck_assert(ctlsock_allowed(1000, 50, NULL, 0, 50, true));
	ck_assert(!ctlsock_allowed(1000, 1000, groups, 2, 50, true));
}
END_TEST

static struct snapshot *busy_tree(struct group **web)
{
	struct group *db;

	ck_assert_int_eq(group_mkdir(tree, group_root(tree), "web", 0755, web),
			 0);
	ck_assert_int_eq(group_mkdir(tree, *web, "d b", 0755, &db), 0);
	for (int64_t t = 40 * MS; t <= 10 * S; t += 40 * MS) {
		group_charge(db, 1, 30 * MS, 10 * MS);
		for (unsigned int id = 0; id < tree->by_id->len; id++)
			group_record(group_by_id(tree, id), t);
	}
	return snapshot_build(tree, tt, NULL, 1, 10 * S);
}

static char *run(struct snapshot *snap, const char *line)
{
	GString *out = g_string_new(NULL);

	ctlcmd_run(snap, &info, 10 * S, 10 * S + 1000 * S, line, out);
	return g_string_free(out, FALSE);
}

START_TEST(test_groups_answer)
{
	struct group *web;
	g_autoptr(snapshot_t) snap = busy_tree(&web);
	g_autofree char *out = run(snap, "groups");

	ck_assert_str_eq(
	    out, "ok\nnow 1010000000000 2\n"
		 "group 0 1 0 0 100.0 10000000000 7500000000 2500000000 "
		 "0,10000000000 0,7500000000 0,2500000000 /\n"
		 "group 1 2 0 0 100.0 10000000000 7500000000 2500000000 "
		 "0,10000000000 0,7500000000 0,2500000000 web\n"
		 "group 2 3 0 0 100.0 10000000000 7500000000 2500000000 "
		 "0,10000000000 0,7500000000 0,2500000000 web/d%20b\n.\n");
	ck_assert_ptr_eq(ctlcmd_lookup(snap, "web/d b"),
			 snapshot_group(snap, 2));
	ck_assert_ptr_eq(ctlcmd_lookup(snap, "/web//d b/"),
			 snapshot_group(snap, 2));
	ck_assert_ptr_null(ctlcmd_lookup(snap, "web/db"));
}
END_TEST

START_TEST(test_history_answer)
{
	struct group *web;
	g_autoptr(snapshot_t) snap = busy_tree(&web);
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;

	/* wall = monotonic + 1000 s; rows end at 1008, 1009, 1010 s, from
	 * the seconds tier (7 s ago is older than the recent passes): each
	 * row's usage is its second's last pass */
	out = run(snap, "history web/d%20b 1007000000000 1010000000000 "
			"1000000000");
	lines = g_strsplit(out, "\n", -1);
	ck_assert_uint_eq(g_strv_length(lines), 6);
	ck_assert_str_eq(lines[0], "ok");
	ck_assert_str_eq(lines[1],
			 "1008000000000 7960000000 100.000 75.000 25.000 0");
	ck_assert_str_eq(lines[3],
			 "1010000000000 10000000000 100.000 75.000 25.000 0");
	ck_assert_str_eq(lines[4], ".");
}
END_TEST

START_TEST(test_history_errors)
{
	struct group *web;
	g_autoptr(snapshot_t) snap = busy_tree(&web);
	g_autofree char *nogroup = run(snap, "history nope 0 1 1000000000");
	g_autofree char *fine = run(snap, "history web 1009000000000 "
					  "1010000000000 1000000");
	g_autofree char *old = run(snap, "history web 900000000000 "
					 "1010000000000 1000000000");
	g_autofree char *bad = run(snap, "history web x 1 1");
	g_autofree char *unknown = run(snap, "frobnicate");
	/* found by the fuzz target: the row arithmetic overflowed */
	g_autofree char *huge = run(snap, "history web 9223372036854775000 "
					  "9223372036854775807 1000000000");
	g_autofree char *neg = run(snap, "history web -9223372036854775808 "
					 "1 1000000000");

	ck_assert_str_eq(nogroup, "err no group nope at /run/cpuacctfs\n.\n");
	ck_assert_str_eq(fine, "err a step must be at least the daemon's "
			       "interval (40 ms)\n.\n");
	ck_assert_str_eq(old, "err history of web goes back to "
			      "1970-01-01T00:16:40Z (9 s ago): use a later "
			      "--since\n.\n");
	ck_assert_str_eq(bad, "err malformed history request\n.\n");
	ck_assert(g_str_has_prefix(unknown, "err unknown request"));
	ck_assert_str_eq(huge, "err malformed history request\n.\n");
	ck_assert_str_eq(neg, "err malformed history request\n.\n");
}
END_TEST

START_TEST(test_status_answer)
{
	struct group *web;
	g_autoptr(snapshot_t) snap = busy_tree(&web);
	g_autofree char *out = run(snap, "status");

	ck_assert(g_str_has_prefix(out, "ok\nversion "));
	ck_assert(strstr(out, "\nbackend tracepoint\ninterval_ms 40\ncpus 2\n"
			      "groups 3\n"));
	ck_assert(strstr(out, "\nlag_ms 0.0\n"));
	ck_assert(g_str_has_suffix(out, "\n.\n"));
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_socket_addr);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_limit_parse);
	tcase_add_test(tc, test_allowed);
	tcase_add_test(tc, test_groups_answer);
	tcase_add_test(tc, test_history_answer);
	tcase_add_test(tc, test_history_errors);
	tcase_add_test(tc, test_status_answer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(ctl_suite());
}
