/* ctlclient.c - one request over MOUNT.ctl, and the groups answer. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctlclient.h"
#include "ctlproto.h"

static int connect_to(const char *mount, char **error)
{
	struct sockaddr_un addr;
	int fd, err = ctl_socket_addr(mount, &addr);

	if (err) {
		*error =
		    g_strdup_printf("%s: path too long for a socket", mount);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error = g_strdup_printf("socket: %s", g_strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	err = errno;
	close(fd);
	if (err == EACCES || err == EPERM)
		*error = g_strdup_printf(
		    "permission denied: only root may ask the cpuacctfs "
		    "daemon at %s (its --ctl-group option lets a group in)",
		    mount);
	else if (err == ENOENT || err == ECONNREFUSED)
		*error = g_strdup_printf("no cpuacctfs daemon at %s (nothing "
					 "listens on %s)",
					 mount, addr.sun_path);
	else
		*error =
		    g_strdup_printf("%s: %s", addr.sun_path, g_strerror(err));
	return -1;
}

static bool send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

/* The whole answer, up to the end line. */
static GString *receive(int fd)
{
	GString *in = g_string_new(NULL);
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_string_append_len(in, buf, n);
	}
	return in;
}

GPtrArray *ctl_request(const char *mount, const char *request, char **error)
{
	g_autofree char *line = g_strconcat(request, "\n", NULL);
	g_autoptr(GString) in = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *data;
	int fd = connect_to(mount, error), send_err = 0;
	guint n;

	if (fd < 0)
		return NULL;
	/* a daemon that refuses us may answer before reading it all: read
	 * its answer even when sending failed */
	if (!send_all(fd, line, strlen(line)))
		send_err = errno;
	in = receive(fd);
	close(fd);
	lines = g_strsplit(in->str, "\n", -1);
	n = g_strv_length(lines);
	/* "ok"/"err", data, ".", and the empty string after the last \n */
	if (n < 3 || strcmp(lines[n - 2], CTL_END) != 0 || *lines[n - 1]) {
		*error = send_err ? g_strdup_printf("cannot ask the daemon at "
						    "%s: %s",
						    mount, g_strerror(send_err))
				  : g_strdup_printf("the daemon at %s gave no "
						    "complete answer",
						    mount);
		return NULL;
	}
	if (g_str_has_prefix(lines[0], "err ")) {
		*error = g_strdup(lines[0] + 4);
		return NULL;
	}
	if (strcmp(lines[0], "ok") != 0) {
		*error = g_strdup_printf("the daemon at %s answered %s", mount,
					 lines[0]);
		return NULL;
	}
	data = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 1; i + 2 < n; i++)
		g_ptr_array_add(data, g_strdup(lines[i]));
	return data;
}

static void group_free(gpointer p)
{
	struct ctl_group *g = p;

	g_free(g->cpu_usage);
	g_free(g->cpu_user);
	g_free(g->cpu_sys);
	g_free(g->path);
	g_free(g);
}

void ctl_groups_free(struct ctl_groups *gs)
{
	if (!gs)
		return;
	g_ptr_array_free(gs->groups, TRUE);
	g_free(gs);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!g_ascii_isdigit(*s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

static uint64_t *parse_list(const char *s, unsigned int n)
{
	g_auto(GStrv) parts = g_strsplit(s, ",", -1);
	uint64_t *v;

	if (g_strv_length(parts) != n)
		return NULL;
	v = g_new0(uint64_t, n);
	for (unsigned int i = 0; i < n; i++)
		if (!parse_u64(parts[i], &v[i])) {
			g_free(v);
			return NULL;
		}
	return v;
}

static struct ctl_group *parse_group(const char *line, unsigned int ncpu)
{
	g_auto(GStrv) f = g_strsplit(line, " ", -1);
	g_autofree char *path = NULL;
	struct ctl_group *g;
	uint64_t v[4];

	if (g_strv_length(f) != 13 || strcmp(f[0], "group") != 0)
		return NULL;
	path = ctl_unescape(f[12]);
	if (!path || !parse_u64(f[1], &v[0]) || !parse_u64(f[2], &v[1]) ||
	    !parse_u64(f[3], &v[2]) || !parse_u64(f[4], &v[3]))
		return NULL;
	g = g_new0(struct ctl_group, 1);
	g->id = (unsigned int)v[0];
	g->serial = v[1];
	g->threads = (unsigned int)v[2];
	g->procs = (unsigned int)v[3];
	g->pct1s = strcmp(f[5], "-") == 0 ? NAN : g_ascii_strtod(f[5], NULL);
	g->cpu_usage = parse_list(f[9], ncpu);
	g->cpu_user = parse_list(f[10], ncpu);
	g->cpu_sys = parse_list(f[11], ncpu);
	g->path = g_steal_pointer(&path);
	if (!parse_u64(f[6], &g->usage) || !parse_u64(f[7], &g->user) ||
	    !parse_u64(f[8], &g->sys) || !g->cpu_usage || !g->cpu_user ||
	    !g->cpu_sys) {
		group_free(g);
		return NULL;
	}
	if (strcmp(g->path, "/") != 0) {
		g->depth = 1;
		for (const char *p = g->path; *p; p++)
			g->depth += *p == '/';
	}
	return g;
}

struct ctl_groups *ctl_groups_parse(GPtrArray *lines)
{
	g_autoptr(ctl_groups_t) gs = g_new0(struct ctl_groups, 1);
	uint64_t t, ncpu;
	g_auto(GStrv) head = NULL;

	gs->groups = g_ptr_array_new_with_free_func(group_free);
	if (!lines->len)
		return NULL;
	head = g_strsplit(lines->pdata[0], " ", -1);
	if (g_strv_length(head) != 3 || strcmp(head[0], "now") != 0 ||
	    !parse_u64(head[1], &t) || !parse_u64(head[2], &ncpu) || !ncpu ||
	    ncpu > 65536)
		return NULL;
	gs->t_wall_ns = (int64_t)t;
	gs->ncpu = (unsigned int)ncpu;
	for (guint i = 1; i < lines->len; i++) {
		struct ctl_group *g = parse_group(lines->pdata[i], gs->ncpu);

		if (!g)
			return NULL;
		g_ptr_array_add(gs->groups, g);
	}
	return g_steal_pointer(&gs);
}

struct ctl_group *ctl_groups_find(const struct ctl_groups *gs, unsigned int id,
				  uint64_t serial)
{
	for (guint i = 0; i < gs->groups->len; i++) {
		struct ctl_group *g = gs->groups->pdata[i];

		if (g->id == id && g->serial == serial)
			return g;
	}
	return NULL;
}

/* Paths compared component by component: the end of a name sorts
 * first, then "/", then any other byte. */
static int rank(unsigned char c)
{
	return c == 0 ? 0 : c == '/' ? 1 : c + 2;
}

static gint tree_order(gconstpointer a, gconstpointer b)
{
	const struct ctl_group *x = *(struct ctl_group *const *)a;
	const struct ctl_group *y = *(struct ctl_group *const *)b;
	const unsigned char *p = (const unsigned char *)x->path;
	const unsigned char *q = (const unsigned char *)y->path;

	if (x->depth == 0 || y->depth == 0)
		return x->depth - y->depth;
	for (;; p++, q++) {
		int d = rank(*p) - rank(*q);

		if (d || !*p)
			return d;
	}
}

void ctl_groups_sort_tree(struct ctl_groups *gs)
{
	g_ptr_array_sort(gs->groups, tree_order);
}
