/* cpuacctctl.c - ask a running cpuacctfs: ls, top, history, status,
 * metrics; and exec/move, which go through the mounted files as cgexec
 * and cgclassify go through cgroupfs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "config.h"
#include "ctlclient.h"
#include "ctlproto.h"
#include "ctltime.h"
#include "ctltop.h"
#include "promfmt.h"

#define DEFAULT_MOUNT "/run/cpuacctfs"
#define FUSE_MAGIC 0x65735546

static const char usage_text[] =
    "usage: cpuacctctl [-m MOUNT] COMMAND [ARGS]\n"
    "\n"
    "  ls [GROUP]                 groups with tasks, CPU seconds, %CPU\n"
    "  top [-b] [-n N] [-d SECONDS] [-s cpu|user|sys|tasks|name]\n"
    "  history GROUP [--since WHEN] [--until WHEN] [--step DURATION]\n"
    "          [--json|--csv]     usage over time (WHEN: RFC 3339 or an\n"
    "                             age like 90s, 5m, 2h)\n"
    "  status                     backend, interval, groups, memory, lag\n"
    "  metrics                    Prometheus text format\n"
    "  exec GROUP -- COMMAND [ARGS]   run COMMAND in GROUP\n"
    "  move GROUP PID...          move processes into GROUP\n"
    "  adopt GROUP PID            move a container's init into GROUP with\n"
    "                             the CPU time it ran so far (root only)\n"
    "  limit GROUP [N|max|default]   groups that may be made below GROUP\n"
    "                             (shown as MAX NOW; setting: root only)\n"
    "\n"
    "Every command takes -m MOUNT (default " DEFAULT_MOUNT ").\n"
    "See cpuacctctl(1).\n";

/* One line on stderr, then exit: 1 for errors, 2 for bad usage. */
static void G_GNUC_NORETURN vdie(int status, const char *fmt, va_list ap)
{
	fputs("cpuacctctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	exit(status);
}

static void die(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(1, fmt, ap);
}

static void G_GNUC_NORETURN bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(2, fmt, ap);
}

/* The mount as the daemon named it: absolute, no symlinks. */
static char *mount_path(const char *mount)
{
	char *real = realpath(mount, NULL);

	if (!real)
		die("no cpuacctfs daemon at %s (%s)", mount, g_strerror(errno));
	return real;
}

static GPtrArray *ask(const char *mount, const char *request)
{
	g_autofree char *error = NULL;
	GPtrArray *lines = ctl_request(mount, request, &error);

	if (!lines)
		die("%s", error);
	return lines;
}

static struct ctl_groups *ask_groups(const char *mount)
{
	g_autoptr(GPtrArray) lines = ask(mount, "groups");
	struct ctl_groups *gs = ctl_groups_parse(lines);

	if (!gs)
		die("the daemon at %s gave a malformed answer", mount);
	return gs;
}

/* "web/db", "/web/db/", "/" -> "web/db", "web/db", "" ; NULL for ".."
 * and "." components, which would leave or confuse the tree. */
static char *group_arg(const char *arg)
{
	g_auto(GStrv) parts = g_strsplit(arg, "/", -1);
	g_autoptr(GPtrArray) keep = g_ptr_array_new();

	for (int i = 0; parts[i]; i++) {
		if (!*parts[i])
			continue;
		if (!strcmp(parts[i], ".") || !strcmp(parts[i], ".."))
			return NULL;
		g_ptr_array_add(keep, parts[i]);
	}
	g_ptr_array_add(keep, NULL);
	return g_strjoinv("/", (char **)keep->pdata);
}

static char *group_or_die(const char *arg)
{
	char *g = group_arg(arg);

	if (!g)
		bad_usage("%s: a group is a path below the mount, without . "
			  "or ..",
			  arg);
	return g;
}

/* ---- ls ---- */

static const struct ctl_group *find_path(const struct ctl_groups *gs,
					 const char *path)
{
	for (guint i = 0; i < gs->groups->len; i++) {
		const struct ctl_group *g = gs->groups->pdata[i];

		if (strcmp(*path ? path : "/", g->path) == 0)
			return g;
	}
	return NULL;
}

static bool under(const struct ctl_group *g, const char *top)
{
	size_t n = strlen(top);

	if (!*top)
		return true;
	return strncmp(g->path, top, n) == 0 &&
	       (g->path[n] == '\0' || g->path[n] == '/');
}

/* Whether a later group in tree order is a sibling of g or of one of
 * its ancestors at depth d: that decides "├─" or "└─" and "│". */
static bool more_at(const struct ctl_groups *gs, guint i, int d)
{
	for (guint j = i + 1; j < gs->groups->len; j++) {
		const struct ctl_group *h = gs->groups->pdata[j];

		if (h->depth < d)
			return false;
		if (h->depth == d)
			return true; /* in tree order: a later sibling */
	}
	return false;
}

static void ls_line(const struct ctl_groups *gs, guint i, int base)
{
	const struct ctl_group *g = gs->groups->pdata[i];
	g_autoptr(GString) name = g_string_new(NULL);
	const char *leaf = strrchr(g->path, '/');
	char pct[32] = "-";
	int d = g->depth - base;

	for (int k = 1; k < d; k++)
		g_string_append(name, more_at(gs, i, base + k) ? "│ " : "  ");
	if (d > 0)
		g_string_append(name, more_at(gs, i, g->depth) ? "├─" : "└─");
	g_string_append(name, d == 0 ? g->path : leaf ? leaf + 1 : g->path);
	if (!isnan(g->pct1s))
		snprintf(pct, sizeof(pct), "%.1f", g->pct1s);
	/* pad by characters, not bytes: the tree lines are 3 bytes each */
	printf("%s%*s %6u %12.3f %7s\n", name->str,
	       (int)MAX(0, 40 - (long)g_utf8_strlen(name->str, -1)), "",
	       g->threads, (double)g->usage / 1e9, pct);
}

static int cmd_ls(const char *mount, int argc, char **argv)
{
	g_autoptr(ctl_groups_t) gs = NULL;
	g_autofree char *top = NULL;
	const struct ctl_group *root;

	if (argc > 2)
		bad_usage("ls takes one GROUP at most");
	top = argc == 2 ? group_or_die(argv[1]) : g_strdup("");
	gs = ask_groups(mount);
	root = find_path(gs, top);
	if (!root)
		die("no group %s at %s", top, mount);
	ctl_groups_sort_tree(gs);
	printf("%-40s %6s %12s %7s\n", "GROUP", "TASKS", "CPU-SECONDS", "%CPU");
	for (guint i = 0; i < gs->groups->len; i++) {
		const struct ctl_group *g = gs->groups->pdata[i];

		if (under(g, top))
			ls_line(gs, i, root->depth);
	}
	return 0;
}

/* ---- history ---- */

enum hist_format { HF_TEXT, HF_JSON, HF_CSV };

static void history_row(enum hist_format f, const char *line)
{
	int64_t t;
	uint64_t usage;
	double cpu, user, sys;
	int reset;
	g_autofree char *when = NULL;

	if (sscanf(line, "%" SCNd64 " %" SCNu64 " %lf %lf %lf %d", &t, &usage,
		   &cpu, &user, &sys, &reset) != 6)
		die("the daemon gave a malformed history row");
	when = ctl_format_time(t);
	switch (f) {
	case HF_JSON:
		printf("{\"time\":\"%s\",\"usage_ns\":%" PRIu64
		       ",\"cpu_pct\":%.2f,\"user_pct\":%.2f,\"sys_pct\":%.2f%s}"
		       "\n",
		       when, usage, cpu, user, sys,
		       reset ? ",\"reset\":true" : "");
		break;
	case HF_CSV:
		printf("%s,%" PRIu64 ",%.2f,%.2f,%.2f\n", when, usage, cpu,
		       user, sys);
		break;
	default:
		printf("%-24s %20" PRIu64 " %7.1f %7.1f %7.1f%s\n", when, usage,
		       cpu, user, sys, reset ? "  reset" : "");
	}
}

static int64_t when_or_die(const char *opt, const char *text, int64_t now)
{
	int64_t t;

	if (ctl_parse_when(text, now, &t) < 0)
		bad_usage("%s %s: not an RFC 3339 time (2026-12-04T14:02:00Z) "
			  "or an age (90s, 5m, 2h)",
			  opt, text);
	return t;
}

static int cmd_history(const char *mount, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"since", required_argument, NULL, 'S'},
	    {"until", required_argument, NULL, 'U'},
	    {"step", required_argument, NULL, 'T'},
	    {"json", no_argument, NULL, 'j'},
	    {"csv", no_argument, NULL, 'c'},
	    {"mount", required_argument, NULL, 'm'},
	    {0}};
	int64_t now = g_get_real_time() * 1000, since = now - 60000000000LL;
	int64_t until = now, step = 1000000000LL;
	enum hist_format f = HF_TEXT;
	g_autofree char *group = NULL, *esc = NULL, *req = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			since = when_or_die("--since", optarg, now);
			break;
		case 'U':
			until = when_or_die("--until", optarg, now);
			break;
		case 'T':
			if (ctl_parse_duration(optarg, &step) < 0 || !step)
				bad_usage("--step %s: not a duration (1s, 30s, "
					  "1m, 250ms)",
					  optarg);
			break;
		case 'j':
			f = HF_JSON;
			break;
		case 'c':
			f = HF_CSV;
			break;
		case 'm':
			break; /* read before the command */
		default:
			exit(2);
		}
	}
	if (optind + 1 != argc)
		bad_usage("history takes one GROUP");
	if (until <= since)
		bad_usage("--until must be later than --since");
	group = group_or_die(argv[optind]);
	esc = ctl_escape(*group ? group : "/");
	req = g_strdup_printf("history %s %" PRId64 " %" PRId64 " %" PRId64,
			      esc, since, until, step);
	rows = ask(mount, req);
	if (f == HF_CSV)
		puts("time,usage_ns,cpu_pct,user_pct,sys_pct");
	else if (f == HF_TEXT)
		printf("%-24s %20s %7s %7s %7s\n", "TIME", "USAGE_NS", "%CPU",
		       "%USER", "%SYS");
	for (guint i = 0; i < rows->len; i++)
		history_row(f, rows->pdata[i]);
	return 0;
}

/* ---- status, metrics ---- */

static const char *field(GPtrArray *lines, const char *key)
{
	size_t n = strlen(key);

	for (guint i = 0; i < lines->len; i++) {
		const char *l = lines->pdata[i];

		if (strncmp(l, key, n) == 0 && l[n] == ' ')
			return l + n + 1;
	}
	return "?";
}

static char *bytes_text(const char *v)
{
	return g_format_size_full(g_ascii_strtoull(v, NULL, 10),
				  G_FORMAT_SIZE_IEC_UNITS);
}

/* limit GROUP [N|max|default]: how many groups may be made below GROUP
 * (the daemon refuses more with EAGAIN); prints "MAX NOW". */
static int cmd_limit(const char *mount, int argc, char **argv)
{
	g_autofree char *group = NULL, *esc = NULL, *req = NULL;
	g_autoptr(GPtrArray) l = NULL;
	const char *v;

	if (argc < 2 || argc > 3)
		bad_usage("limit takes a GROUP and, to set it, N, max or "
			  "default");
	group = group_or_die(argv[1]);
	esc = ctl_escape(*group ? group : "/");
	req = g_strdup_printf("limit %s%s%s", esc, argc == 3 ? " " : "",
			      argc == 3 ? argv[2] : "");
	l = ask(mount, req);
	v = field(l, "limit");
	printf("%s\n", v ? v : "?");
	return 0;
}

static int cmd_status(const char *mount, int argc)
{
	g_autoptr(GPtrArray) l = NULL;
	g_autofree char *rss = NULL, *hist = NULL;

	if (argc > 1)
		bad_usage("status takes no arguments");
	l = ask(mount, "status");
	rss = bytes_text(field(l, "rss_bytes"));
	hist = bytes_text(field(l, "history_bytes"));
	printf("mount      %s\n", field(l, "mount"));
	printf("version    %s\n", field(l, "version"));
	printf("backend    %s\n", field(l, "backend"));
	printf("interval   %s ms\n", field(l, "interval_ms"));
	printf("cpus       %s\n", field(l, "cpus"));
	printf("groups     %s\n", field(l, "groups"));
	printf("tasks      %s (%s processes)\n", field(l, "tasks"),
	       field(l, "processes"));
	printf("memory     %s resident, of which %s history\n", rss, hist);
	printf("uptime     %s s\n", field(l, "uptime_s"));
	printf("lag        %s ms now; last minute: mean %s ms, max %s ms\n",
	       field(l, "lag_ms"), field(l, "lag_mean_ms"),
	       field(l, "lag_max_ms"));
	return 0;
}

static int cmd_metrics(const char *mount, int argc)
{
	g_autoptr(ctl_groups_t) gs = NULL;
	g_autoptr(GString) out = g_string_new(NULL);

	if (argc > 1)
		bad_usage("metrics takes no arguments");
	gs = ask_groups(mount);
	promfmt_groups(
	    gs, (double)(g_get_real_time() * 1000 - gs->t_wall_ns) / 1e9, out);
	fputs(out->str, stdout);
	return 0;
}

/* ---- exec, move: through the mounted files ---- */

static char *procs_file(const char *mount, const char *group)
{
	g_autofree char *usage = g_build_filename(mount, "cpuacct.usage", NULL);
	g_autofree char *dir = g_build_filename(mount, group, NULL);
	struct statfs sf;
	struct stat st;

	if (statfs(mount, &sf) < 0 || sf.f_type != FUSE_MAGIC ||
	    access(usage, F_OK) < 0)
		die("no cpuacctfs daemon at %s (no cpuacctfs mounted there)",
		    mount);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		die("no group %s at %s", group, mount);
	return g_build_filename(dir, "cgroup.procs", NULL);
}

/* One write per process, as cgclassify does; -errno. */
static int move_one(const char *file, pid_t pid)
{
	char text[32];
	int fd = open(file, O_WRONLY | O_CLOEXEC), rc = 0;
	int n = snprintf(text, sizeof(text), "%d\n", pid);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != n)
		rc = -errno;
	close(fd);
	return rc;
}

static const char *move_error(int err)
{
	switch (err) {
	case -ESRCH:
		return "no such process";
	case -EACCES:
	case -EPERM:
		return "permission denied (moving needs root)";
	default:
		return g_strerror(-err);
	}
}

static int cmd_exec(const char *mount, int argc, char **argv)
{
	g_autofree char *group = NULL, *file = NULL;
	int i = 1, rc;

	if (argc < 2)
		bad_usage("exec takes GROUP -- COMMAND [ARGS]");
	group = group_or_die(argv[i++]);
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		bad_usage("exec: no COMMAND after GROUP --");
	file = procs_file(mount, group);
	rc = move_one(file, getpid());
	if (rc < 0)
		die("cannot move into %s: %s", *group ? group : "/",
		    move_error(rc));
	execvp(argv[i], argv + i);
	fprintf(stderr, "cpuacctctl: %s: %s\n", argv[i], g_strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int cmd_move(const char *mount, int argc, char **argv)
{
	g_autofree char *group = NULL, *file = NULL;
	int failed = 0;

	if (argc < 3)
		bad_usage("move takes GROUP PID...");
	group = group_or_die(argv[1]);
	file = procs_file(mount, group);
	for (int i = 2; i < argc; i++) {
		char *end;
		long pid = strtol(argv[i], &end, 10);
		int rc;

		if (*end || end == argv[i] || pid <= 0 || pid > INT32_MAX) {
			fprintf(stderr, "cpuacctctl: %s: not a process id\n",
				argv[i]);
			failed = 1;
			continue;
		}
		rc = move_one(file, (pid_t)pid);
		if (rc < 0) {
			fprintf(stderr, "cpuacctctl: cannot move %ld: %s\n",
				pid, move_error(rc));
			failed = 1;
		}
	}
	return failed;
}

/* ---- adopt ---- */

static int cmd_adopt(const char *mount, int argc, char **argv)
{
	g_autofree char *group = NULL, *esc = NULL, *req = NULL;
	g_autoptr(GPtrArray) l = NULL;
	g_auto(GStrv) f = NULL;
	char *end;
	long pid;

	if (argc != 3)
		bad_usage("adopt takes GROUP PID");
	group = group_or_die(argv[1]);
	if (!*group)
		bad_usage("adopt: the root holds every process already");
	pid = strtol(argv[2], &end, 10);
	if (*end || end == argv[2] || pid <= 0 || pid > INT32_MAX)
		bad_usage("%s: not a process id", argv[2]);
	esc = ctl_escape(group);
	req = g_strdup_printf("adopt %s %ld", esc, pid);
	l = ask(mount, req);
	f = l->len ? g_strsplit(l->pdata[0], " ", -1) : NULL;
	if (!f || g_strv_length(f) != 4 || strcmp(f[0], "adopted"))
		die("the daemon at %s gave a malformed answer", mount);
	printf("%ld adopted into %s with %.3f ms run before%s\n", pid, group,
	       g_ascii_strtod(f[2], NULL) / 1e6,
	       strcmp(f[3], "exec-join") ? ""
					 : "; processes entering its pid "
					   "namespace join it");
	return 0;
}

/* ---- top ---- */

static int cmd_top(const char *mount, int argc, char **argv)
{
	struct top_opts o = {.mount = mount, .delay_ns = 1000000000LL};
	char *end;
	double d;
	long n;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "bn:d:s:m:")) != -1) {
		switch (c) {
		case 'b':
			o.batch = true;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1000000)
				bad_usage("-n %s: a count of refreshes (1 or "
					  "more)",
					  optarg);
			o.frames = (unsigned int)n;
			break;
		case 'd':
			d = g_ascii_strtod(optarg, &end);
			if (*end || !(d >= 0.1 && d <= 3600))
				bad_usage("-d %s: seconds between refreshes "
					  "(0.1 to 3600)",
					  optarg);
			o.delay_ns = (int64_t)(d * 1e9);
			break;
		case 's':
			if (!top_sort_parse(optarg, &o.sort))
				bad_usage("-s %s: sort by cpu, user, sys, "
					  "tasks or name",
					  optarg);
			break;
		case 'm':
			break;
		default:
			exit(2);
		}
	}
	if (optind != argc)
		bad_usage("top takes no GROUP");
	return ctl_top(&o);
}

/* -m MOUNT anywhere before the command's own arguments end (and before
 * "--" of exec): taken out, so commands see only their own. */
static const char *take_mount(int *argc, char **argv)
{
	const char *mount = NULL;
	int j = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-m") == 0 ||
		    strcmp(argv[i], "--mount") == 0) {
			if (i + 1 >= *argc)
				bad_usage("-m needs a MOUNT");
			mount = argv[++i];
			continue;
		}
		if (g_str_has_prefix(argv[i], "-m") && argv[i][2]) {
			mount = argv[i] + 2;
			continue;
		}
		argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
	return mount ? mount : DEFAULT_MOUNT;
}

int main(int argc, char **argv)
{
	g_autofree char *mount = NULL;
	const char *cmd;

	if (argc > 1 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc > 1 &&
	    (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
		printf("cpuacctctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	{
		const char *m = take_mount(&argc, argv);

		if (argc < 2) {
			fputs(usage_text, stderr);
			return 2;
		}
		mount = mount_path(m);
	}
	cmd = argv[1];
	argc--;
	argv++;
	if (!strcmp(cmd, "ls"))
		return cmd_ls(mount, argc, argv);
	if (!strcmp(cmd, "top"))
		return cmd_top(mount, argc, argv);
	if (!strcmp(cmd, "history"))
		return cmd_history(mount, argc, argv);
	if (!strcmp(cmd, "status"))
		return cmd_status(mount, argc);
	if (!strcmp(cmd, "metrics"))
		return cmd_metrics(mount, argc);
	if (!strcmp(cmd, "limit"))
		return cmd_limit(mount, argc, argv);
	if (!strcmp(cmd, "exec"))
		return cmd_exec(mount, argc, argv);
	if (!strcmp(cmd, "move"))
		return cmd_move(mount, argc, argv);
	if (!strcmp(cmd, "adopt"))
		return cmd_adopt(mount, argc, argv);
	bad_usage("%s: no such command", cmd);
}
