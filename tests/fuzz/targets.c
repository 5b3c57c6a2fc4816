/* targets.c - see targets.h. A failed check prints the target and the
 * check and aborts, so libFuzzer keeps the input and a unit test run
 * fails with it. */
#include "targets.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlclient.h"
#include "ctlcmd.h"
#include "ctllimit.h"
#include "ctlproto.h"
#include "ctltime.h"
#include "group.h"
#include "parse.h"
#include "procfs.h"
#include "snapshot.h"
#include "tasks.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz: %s:%d: %s\n", __func__,         \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* The input as a C string (up to its first NUL, as kernfs and a request
 * line end there). */
static char *cstr(const uint8_t *data, size_t len)
{
	return g_strndup(data ? (const char *)data : "", len);
}

static bool is_errno(int rc, const int *allowed)
{
	for (; *allowed; allowed++)
		if (rc == -*allowed)
			return true;
	return false;
}

static const int number_errs[] = {EINVAL, ERANGE, E2BIG, 0};

/* ---- writable files: each write's parser ---- */

static void t_usage(const uint8_t *d, size_t n)
{
	int rc = parse_usage_reset((const char *)d, n);

	CHECK(rc == 0 || is_errno(rc, number_errs));
}

static void t_flag(const uint8_t *d, size_t n)
{
	bool v = false;
	int rc = parse_flag((const char *)d, n, &v);

	CHECK(rc == 0 || is_errno(rc, number_errs));
	CHECK(v == false || v == true);
}

static void t_pid(const uint8_t *d, size_t n)
{
	int pid = -2;
	int rc = parse_pid((const char *)d, n, &pid);

	CHECK(rc == 0 || is_errno(rc, number_errs));
	if (rc == 0)
		CHECK(pid >= 0 || (n == 0 && pid == -1));
}

static bool kspace(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == '\xa0';
}

static void t_release_agent(const uint8_t *d, size_t n)
{
	char *path = NULL;
	int rc = parse_release_agent((const char *)d, n, &path);
	size_t len;

	CHECK(rc == 0 || is_errno(rc, number_errs));
	if (rc || !path)
		return;
	len = strlen(path);
	CHECK(len <= n && len < PARSE_MAX_WRITE);
	CHECK(!len || (!kspace(path[0]) && !kspace(path[len - 1])));
	g_free(path);
}

static void t_kstrtoull(const uint8_t *d, size_t n)
{
	g_autofree char *s = cstr(d, n);
	uint64_t v;
	int rc = parse_kstrtoull(s, &v);

	CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
}

/* ---- mkdir, rename and rmdir names, and the tree they change ---- */

static unsigned int count_below(const struct group *g)
{
	unsigned int n = 0;

	for (guint i = 0; i < g->children->len; i++)
		n += 1 + count_below(g->children->pdata[i]);
	return n;
}

static void check_tree(const struct group_tree *tree)
{
	for (guint id = 0; id < tree->by_id->len; id++) {
		const struct group *g = tree->by_id->pdata[id];

		if (!g)
			continue;
		CHECK(g->id == id);
		CHECK(g->ndescendants == count_below(g));
		CHECK(!g->parent || group_child(g->parent, g->name) == g);
		for (unsigned int c = 0; c < g->ncpu; c++) {
			uint64_t sum = 0;

			for (guint i = 0; i < g->children->len; i++)
				sum += ((struct group *)g->children->pdata[i])
					   ->usage[c];
			CHECK(g->usage[c] >= sum);
		}
	}
}

/* The input is a program: each byte an operation on the group it picks,
 * names cut from the bytes that follow. */
static void t_tree(const uint8_t *d, size_t n)
{
	struct group_tree *tree = group_tree_new(2, 4096);
	struct task_table *tt = tasks_new();
	struct snapshot *snap = NULL, *next;
	size_t i = 0;

	while (i < n) {
		uint8_t op = d[i++];
		struct group *g = NULL, *out = NULL;
		unsigned int nids = tree->by_id->len;
		g_autofree char *name = NULL;
		size_t nl = 0;
		int rc;

		g = group_by_id(tree, i < n ? d[i++] % nids : 0);
		while (i + nl < n && nl < 8 && d[i + nl] != '/' &&
		       d[i + nl] != 0 && d[i + nl] != 0xff)
			nl++;
		name = g_strndup((const char *)d + i, nl);
		i += nl + (i + nl < n);
		if (!g)
			continue;
		switch (op % 6) {
		case 0:
		case 1:
			rc = group_mkdir(tree, g, name, 0755, &out);
			CHECK(rc == 0 || rc == -EEXIST || rc == -EINVAL ||
			      rc == -EAGAIN || rc == -ENAMETOOLONG);
			CHECK(rc || (out && out->parent == g));
			break;
		case 2:
			rc = group_rmdir(tree, g);
			CHECK(rc == 0 || rc == -EBUSY);
			break;
		case 3:
			rc = group_rename(tree, g, g->parent ? g->parent : g,
					  name);
			CHECK(rc == 0 || rc == -EEXIST || rc == -EINVAL ||
			      rc == -EBUSY || rc == -ENAMETOOLONG);
			break;
		case 4:
			group_set_max_descendants(g, op >> 3);
			break;
		default:
			group_charge(g, op & 1, op, nl);
			break;
		}
		check_tree(tree);
		next = snapshot_build(tree, tt, snap, i, (int64_t)i);
		CHECK(next->ngroups >= nids ||
		      next->ngroups == tree->by_id->len);
		snapshot_unref(snap);
		snap = next;
	}
	snapshot_unref(snap);
	tasks_free(tt);
	group_tree_free(tree);
}

/* ---- the control socket ---- */

static void t_escape(const uint8_t *d, size_t n)
{
	g_autofree char *s = cstr(d, n);
	g_autofree char *e = ctl_escape(s);
	g_autofree char *back = ctl_unescape(e);
	g_autofree char *any = ctl_unescape(s);

	CHECK(back && strcmp(back, s) == 0);
	for (const char *p = e; *p; p++)
		CHECK((unsigned char)*p > ' ' && *p != 0x7f);
	(void)any;
}

static void t_time(const uint8_t *d, size_t n)
{
	g_autofree char *s = cstr(d, n);
	int64_t v = 0;
	int rc = ctl_parse_duration(s, &v);

	CHECK(rc == 0 || rc < 0);
	CHECK(rc || v >= 0);
	rc = ctl_parse_when(s, 1764856920LL * 1000000000LL, &v);
	CHECK(rc <= 0);
}

static void t_limit(const uint8_t *d, size_t n)
{
	g_autofree char *s = cstr(d, n);
	unsigned int max = 0;
	int rc = ctllimit_parse(s, 1000, &max);

	CHECK(rc == 0 || rc == -EINVAL);
	(void)ctllimit_is_request(s);
}

static void t_groups_answer(const uint8_t *d, size_t n)
{
	g_autofree char *s = cstr(d, n);
	g_auto(GStrv) lines = g_strsplit(s, "\n", -1);
	g_autoptr(GPtrArray) arr = g_ptr_array_new();
	struct ctl_groups *gs;

	for (int i = 0; lines[i]; i++)
		g_ptr_array_add(arr, lines[i]);
	gs = ctl_groups_parse(arr);
	if (!gs)
		return;
	ctl_groups_sort_tree(gs);
	for (guint i = 0; i < gs->groups->len; i++) {
		const struct ctl_group *g = gs->groups->pdata[i];

		CHECK(g && g->path);
	}
	ctl_groups_free(gs);
}

/* A request line against a small tree: every answer is whole. */
static void t_request(const uint8_t *d, size_t n)
{
	static const struct ctl_info info = {
	    .backend = "clock", .interval_ms = 40, .mount = "/m"};
	g_autofree char *line = cstr(d, n);
	struct group_tree *tree = group_tree_new(2, 4096);
	struct task_table *tt = tasks_new();
	struct group *web = NULL, *db = NULL;
	struct snapshot *snap;
	GString *out = g_string_new(NULL);

	group_mkdir(tree, group_root(tree), "web", 0755, &web);
	group_mkdir(tree, web, "d b", 0755, &db);
	group_charge(db, 1, 5000000, 7000000);
	group_record(db, 1000000000LL);
	snap = snapshot_build(tree, tt, NULL, 1, 2000000000LL);
	ctlcmd_run(snap, &info, 3000000000LL, 5000000000LL, line, out);
	CHECK(g_str_has_prefix(out->str, "ok\n") ||
	      g_str_has_prefix(out->str, "err "));
	CHECK(g_str_has_suffix(out->str, "\n" CTL_END "\n"));
	g_string_free(out, TRUE);
	snapshot_unref(snap);
	tasks_free(tt);
	group_tree_free(tree);
}

/* ---- /proc ---- */

static void t_proc_stat(const uint8_t *d, size_t n)
{
	g_autofree char *s = cstr(d, n);
	struct proc_stat st;
	int rc = procfs_parse_stat(s, &st);

	CHECK(rc <= 0);
}

/* ---- the table ---- */

static const char *const s_numbers[] = {"0",
					"0\n",
					"1",
					"0x10",
					"077",
					" 12 \n",
					"+5",
					"-0",
					"18446744073709551615",
					"18446744073709551616",
					"0x",
					"1\n\n",
					"\xa0"
					"3",
					NULL};
static const char *const s_paths[] = {"/sbin/agent", " /x y \n", "",
				      "\n",	     "/a\0b",	 NULL};
/* m, r: mkdir; h: rmdir; i: rename; d: limit; e: charge (byte % 6),
 * then the group (byte % ids) and a name up to '/' */
static const char *const s_tree[] = {"m0web/m1db/h1/d1/m0x/e1/i2y/m2z/",
				     "r0a\n/i1b/m0a/h0/d0/m0q/", NULL};
static const char *const s_escape[] = {"web/a b%\n\x7f", "%41%2", NULL};
static const char *const s_time[] = {"90s",
				     "5m",
				     "2h",
				     "250ms",
				     "2026-12-04T14:02:00Z",
				     "2026-12-04T14:02:00.5+01:00",
				     "1d",
				     NULL};
static const char *const s_limit[] = {"max", "default", "12", "4294967294",
				      NULL};
static const char *const s_groups[] = {
    "now 5000000000 2\n"
    "group 0 1 3 2 12.5 100 60 40 50,50 30,30 20,20 /\n"
    "group 1 2 1 1 - 10 6 4 5,5 3,3 2,2 web\n"
    "group 2 3 0 0 0.0 0 0 0 0,0 0,0 0,0 web/d%20b",
    NULL};
static const char *const s_request[] = {
    "status",
    "groups",
    "history web%2Fd%20b 0 9000000000 1000000000",
    "history / 4000000000 5000000000 40000000",
    "history web 1 0 0",
    NULL};
static const char *const s_stat[] = {
    "42 (a b) c)) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 "
    "12345 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 "
    "0 0 0",
    "1 (x) Z 0", NULL};

const struct fuzz_target fuzz_targets[] = {
    {"write cpuacct.usage", t_usage, s_numbers},
    {"write notify_on_release, cgroup.clone_children", t_flag, s_numbers},
    {"write tasks, cgroup.procs", t_pid, s_numbers},
    {"write release_agent", t_release_agent, s_paths},
    {"kstrtoull", t_kstrtoull, s_numbers},
    {"mkdir, rmdir, rename and limits on the tree", t_tree, s_tree},
    {"control protocol escapes", t_escape, s_escape},
    {"cpuacctctl times and durations", t_time, s_time},
    {"limit values", t_limit, s_limit},
    {"groups answers", t_groups_answer, s_groups},
    {"control requests", t_request, s_request},
    {"/proc/PID/stat", t_proc_stat, s_stat},
};
const unsigned int fuzz_ntargets = G_N_ELEMENTS(fuzz_targets);

void fuzz_one(const uint8_t *data, size_t len)
{
	if (len == 0)
		return;
	fuzz_targets[data[0] % fuzz_ntargets].run(data + 1, len - 1);
}
