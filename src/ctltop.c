/* ctltop.c - cpuacctctl top, batch (-b) or on a terminal.
 *
 * Each refresh asks for the groups once; rates are the growth between
 * two answers over the time between their snapshots (not between the
 * requests), so a late answer does not inflate them. On a terminal the
 * screen is redrawn with ANSI sequences (no curses needed): keys c, u,
 * s, t, n sort, q quits, a resize redraws at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctltime.h"
#include "ctltop.h"

static const char *const sort_names[] = {"cpu", "user", "sys", "tasks", "name"};
static const char *const sort_titles[] = {"%CPU", "%USER", "%SYS", "TASKS",
					  "GROUP"};

bool top_sort_parse(const char *name, enum top_sort *sort)
{
	for (unsigned int i = 0; i < G_N_ELEMENTS(sort_names); i++)
		if (strcmp(name, sort_names[i]) == 0) {
			*sort = i;
			return true;
		}
	return false;
}

struct row {
	const struct ctl_group *g;
	double cpu, user, sys;
	double *percpu;
};

static int sort_by;

static int cmp_double(double a, double b)
{
	return a < b ? 1 : a > b ? -1 : 0; /* biggest first */
}

static gint row_order(gconstpointer a, gconstpointer b)
{
	const struct row *x = a, *y = b;
	int d = 0;

	switch (sort_by) {
	case TOP_CPU:
		d = cmp_double(x->cpu, y->cpu);
		break;
	case TOP_USER:
		d = cmp_double(x->user, y->user);
		break;
	case TOP_SYS:
		d = cmp_double(x->sys, y->sys);
		break;
	case TOP_TASKS:
		d = x->g->threads < y->g->threads   ? 1
		    : x->g->threads > y->g->threads ? -1
						    : 0;
		break;
	default:
		break;
	}
	return d ? d : strcmp(x->g->path, y->g->path);
}

static GArray *rows_of(const struct ctl_groups *prev,
		       const struct ctl_groups *cur)
{
	GArray *rows = g_array_new(FALSE, TRUE, sizeof(struct row));
	int64_t dt = prev ? cur->t_wall_ns - prev->t_wall_ns : 0;

	for (guint i = 0; i < cur->groups->len; i++) {
		const struct ctl_group *g = cur->groups->pdata[i];
		const struct ctl_group *p =
		    prev ? ctl_groups_find(prev, g->id, g->serial) : NULL;
		struct row r = {.g = g};

		r.percpu = g_new0(double, cur->ncpu);
		if (p && prev->ncpu == cur->ncpu) {
			r.cpu = ctl_pct(p->usage, g->usage, dt);
			r.user = ctl_pct(p->user, g->user, dt);
			r.sys = ctl_pct(p->sys, g->sys, dt);
			for (unsigned int c = 0; c < cur->ncpu; c++)
				r.percpu[c] = ctl_pct(p->cpu_usage[c],
						      g->cpu_usage[c], dt);
		}
		g_array_append_val(rows, r);
	}
	return rows;
}

static void put_line(GString *out, GString *line, unsigned int width)
{
	if (width && line->len > width)
		g_string_truncate(line, width);
	g_string_append_len(out, line->str, line->len);
	g_string_append_c(out, '\n');
	g_string_truncate(line, 0);
}

void top_render(const struct ctl_groups *prev, const struct ctl_groups *cur,
		const struct top_head *head, enum top_sort sort,
		unsigned int width, unsigned int max_rows, GString *out)
{
	g_autoptr(GArray) rows = rows_of(prev, cur);
	g_autoptr(GString) line = g_string_new(NULL);
	g_autofree char *when = ctl_format_time(cur->t_wall_ns);
	int name_w = 5;

	sort_by = sort;
	g_array_sort(rows, row_order);
	for (guint i = 0; i < rows->len; i++)
		name_w = MAX(
		    name_w,
		    (int)strlen(g_array_index(rows, struct row, i).g->path));
	name_w = MIN(name_w, 48);
	g_string_printf(line,
			"cpuacctctl top - %.8s  backend %s  interval %u ms  "
			"lag %.0f ms  refresh %.1f s",
			when + 11, head->backend, head->interval_ms,
			head->lag_ms, (double)head->delay_ns / 1e9);
	put_line(out, line, width);
	g_string_printf(line, "%u groups, %u CPUs, sorted by %s", rows->len,
			cur->ncpu, sort_titles[sort]);
	put_line(out, line, width);
	g_string_printf(line, "%-*s %6s %7s %7s %7s", name_w, "GROUP", "TASKS",
			"%CPU", "%USER", "%SYS");
	for (unsigned int c = 0; c < cur->ncpu; c++)
		g_string_append_printf(line, " %6s%u", "CPU", c);
	put_line(out, line, width);
	for (guint i = 0; i < rows->len; i++) {
		const struct row *r = &g_array_index(rows, struct row, i);

		if (!max_rows || i < max_rows) {
			g_string_printf(line, "%-*s %6u %7.1f %7.1f %7.1f",
					name_w, r->g->path, r->g->threads,
					r->cpu, r->user, r->sys);
			for (unsigned int c = 0; c < cur->ncpu; c++)
				g_string_append_printf(line, " %*.1f",
						       c < 10 ? 7 : 8,
						       r->percpu[c]);
			put_line(out, line, width);
		}
		g_free(r->percpu);
	}
}

static struct ctl_groups *fetch(const char *mount)
{
	g_autoptr(GPtrArray) lines = NULL;
	g_autofree char *error = NULL;
	struct ctl_groups *gs;

	lines = ctl_request(mount, "groups", &error);
	if (!lines) {
		fprintf(stderr, "cpuacctctl: %s\n", error);
		return NULL;
	}
	gs = ctl_groups_parse(lines);
	if (!gs)
		fprintf(stderr,
			"cpuacctctl: the daemon at %s gave a "
			"malformed answer\n",
			mount);
	return gs;
}

static bool head_of(const char *mount, struct top_head *head, char **backend)
{
	g_autoptr(GPtrArray) lines = NULL;
	g_autofree char *error = NULL;

	lines = ctl_request(mount, "status", &error);
	if (!lines) {
		fprintf(stderr, "cpuacctctl: %s\n", error);
		return false;
	}
	for (guint i = 0; i < lines->len; i++) {
		const char *l = lines->pdata[i];

		if (g_str_has_prefix(l, "backend "))
			*backend = g_strdup(l + 8);
		else if (g_str_has_prefix(l, "interval_ms "))
			head->interval_ms = (unsigned int)atoi(l + 12);
	}
	head->backend = *backend ? *backend : "?";
	return true;
}

static int64_t wall_now(void)
{
	return g_get_real_time() * 1000;
}

static int64_t mono_now(void)
{
	return g_get_monotonic_time() * 1000;
}

/* ---- batch ---- */

static int top_batch(const struct top_opts *o, struct top_head *head)
{
	g_autoptr(ctl_groups_t) prev = fetch(o->mount);

	if (!prev)
		return 1;
	for (unsigned int n = 0; !o->frames || n < o->frames; n++) {
		g_autoptr(GString) out = g_string_new(NULL);
		struct ctl_groups *cur;

		g_usleep(o->delay_ns / 1000);
		cur = fetch(o->mount);
		if (!cur)
			return 1;
		head->lag_ms = (double)(wall_now() - cur->t_wall_ns) / 1e6;
		top_render(prev, cur, head, o->sort, 0, 0, out);
		if (n)
			fputc('\n', stdout);
		fputs(out->str, stdout);
		fflush(stdout);
		ctl_groups_free(prev);
		prev = cur;
	}
	return 0;
}

/* ---- on a terminal ---- */

static volatile sig_atomic_t resized, quit;
static struct termios saved;

static void on_winch(int sig)
{
	resized = 1;
}

static void on_quit(int sig)
{
	quit = 1;
}

static void term_restore(void)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
}

static bool term_setup(void)
{
	struct termios raw;
	struct sigaction sa = {0};

	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return false;
	raw = saved;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return false;
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = on_quit;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fputs("\033[?1049h\033[?25l", stdout);
	return true;
}

static void term_size(unsigned int *w, unsigned int *h)
{
	struct winsize ws;

	*w = 80;
	*h = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col &&
	    ws.ws_row) {
		*w = ws.ws_col;
		*h = ws.ws_row;
	}
}

static void draw(const struct ctl_groups *prev, const struct ctl_groups *cur,
		 const struct top_head *head, enum top_sort sort)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GString) screen = g_string_new("\033[H");
	unsigned int w, h;

	term_size(&w, &h);
	/* three header lines, the table's title, a line for the keys */
	top_render(prev, cur, head, sort, w, h > 5 ? h - 5 : 1, text);
	for (char *p = text->str, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		g_string_append_len(screen, p, nl - p);
		g_string_append(screen, "\033[K\r\n");
	}
	g_string_append(screen, "\033[Jkeys: c u s t n sort, q quit");
	fputs(screen->str, stdout);
	fflush(stdout);
}

/* Keys until the next refresh; false when asked to quit. */
static bool wait_keys(int64_t until, enum top_sort *sort, bool *redraw)
{
	const char *keys = "custn";

	*redraw = false;
	while (!quit) {
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
		int64_t left = until - mono_now();
		char c;

		if (resized) {
			resized = 0;
			*redraw = true;
			return true;
		}
		if (left <= 0)
			return true;
		if (poll(&pfd, 1, (int)MIN(left / 1000000 + 1, 1000)) <= 0)
			continue;
		if (read(STDIN_FILENO, &c, 1) != 1)
			continue;
		if (c == 'q' || c == 'Q' || c == 3)
			return false;
		if (strchr(keys, c)) {
			*sort = (enum top_sort)(strchr(keys, c) - keys);
			*redraw = true;
			return true;
		}
	}
	return false;
}

static int top_tty(const struct top_opts *o, struct top_head *head)
{
	g_autoptr(ctl_groups_t) prev = fetch(o->mount);
	g_autoptr(ctl_groups_t) cur = NULL;
	enum top_sort sort = o->sort;
	int64_t next = mono_now();
	unsigned int n = 0;
	bool redraw;
	int rc = 0;

	if (!prev || !term_setup())
		return prev ? 0 : 1;
	/* a first screen at once, with the last second's rates to come */
	cur = g_steal_pointer(&prev);
	draw(NULL, cur, head, sort);
	next += o->delay_ns;
	while (wait_keys(next, &sort, &redraw)) {
		struct ctl_groups *fresh;

		if (redraw) {
			draw(prev, cur, head, sort);
			continue;
		}
		fresh = fetch(o->mount);
		if (!fresh) {
			rc = 1;
			break;
		}
		ctl_groups_free(prev);
		prev = g_steal_pointer(&cur);
		cur = fresh;
		head->lag_ms = (double)(wall_now() - cur->t_wall_ns) / 1e6;
		draw(prev, cur, head, sort);
		next += o->delay_ns;
		if (++n == o->frames && o->frames)
			break;
	}
	term_restore();
	return rc;
}

int ctl_top(const struct top_opts *o)
{
	g_autofree char *backend = NULL;
	struct top_head head = {.delay_ns = o->delay_ns};

	if (!head_of(o->mount, &head, &backend))
		return 1;
	if (o->batch || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return top_batch(o, &head);
	return top_tty(o, &head);
}
