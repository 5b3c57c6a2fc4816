/* ctlsock.c - accepting, checking and answering control connections. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "adopt.h"
#include "ctlcmd.h"
#include "ctllimit.h"
#include "ctlproto.h"
#include "ctlsock.h"

/* The lag is sampled this often; mean and max are kept per second for
 * the last minute. */
#define LAG_SAMPLE_MS 20
#define LAG_SECONDS 60

struct lag_second {
	int64_t second; /* CLOCK_MONOTONIC second it covers */
	double sum_ms, max_ms;
	unsigned int n;
};

struct ctlsock {
	struct sampler *sampler;
	char *mount;
	char *path;
	unsigned int interval_ms;
	gid_t ctl_gid;
	bool have_gid;
	int fd;
	int stop_fd;
	ino_t ino; /* of the socket we bound, so we unlink only ours */
	int64_t started_ns;
	GThread *thread;
	gint clients;
	GMutex lag_lock;
	struct lag_second lag[LAG_SECONDS];
};

struct client {
	struct ctlsock *cs;
	int fd;
};

bool ctlsock_allowed(uid_t uid, gid_t gid, const gid_t *groups, int ngroups,
		     gid_t ctl_gid, bool have_gid)
{
	if (uid == 0)
		return true;
	if (!have_gid)
		return false;
	if (gid == ctl_gid)
		return true;
	for (int i = 0; i < ngroups; i++)
		if (groups[i] == ctl_gid)
			return true;
	return false;
}

/* The peer's supplementary groups, from /proc (SO_PEERGROUPS needs a
 * newer kernel than we assume). */
static int peer_groups(pid_t pid, gid_t *groups, int max)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
	g_autofree char *text = NULL;
	const char *line;
	int n = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	line = strstr(text, "\nGroups:");
	if (!line)
		return 0;
	line += strlen("\nGroups:");
	while (n < max && *line && *line != '\n') {
		char *end;
		unsigned long v = strtoul(line, &end, 10);

		if (end == line)
			break;
		groups[n++] = (gid_t)v;
		line = end;
	}
	return n;
}

static bool peer_allowed(const struct ctlsock *cs, int fd, bool *root)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	int n = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*root = cred.uid == 0;
	if (cred.uid != 0 && cs->have_gid)
		n = peer_groups(cred.pid, groups, G_N_ELEMENTS(groups));
	return ctlsock_allowed(cred.uid, cred.gid, groups, n, cs->ctl_gid,
			       cs->have_gid);
}

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void lag_sample(struct ctlsock *cs)
{
	int64_t now = sampler_now_ns();
	double ms = (double)sampler_lag_ns(cs->sampler, now) / 1e6;
	int64_t sec = now / 1000000000LL;
	struct lag_second *l = &cs->lag[sec % LAG_SECONDS];

	g_mutex_lock(&cs->lag_lock);
	if (l->second != sec)
		*l = (struct lag_second){.second = sec};
	l->sum_ms += ms;
	l->max_ms = MAX(l->max_ms, ms);
	l->n++;
	g_mutex_unlock(&cs->lag_lock);
}

static void lag_summary(struct ctlsock *cs, double *mean, double *max)
{
	int64_t sec = sampler_now_ns() / 1000000000LL;
	double sum = 0;
	unsigned int n = 0;

	*max = 0;
	g_mutex_lock(&cs->lag_lock);
	for (int i = 0; i < LAG_SECONDS; i++) {
		const struct lag_second *l = &cs->lag[i];

		if (!l->n || sec - l->second >= LAG_SECONDS)
			continue;
		sum += l->sum_ms;
		n += l->n;
		*max = MAX(*max, l->max_ms);
	}
	g_mutex_unlock(&cs->lag_lock);
	*mean = n ? sum / n : 0;
}

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static bool read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return true;
		}
		len++;
	}
	return false;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= n;
	}
}

static bool peer_is_root(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	       cred.uid == 0;
}

/* "adopt PATH PID" (adopt.h): the one request that changes the model,
 * so root's alone, never --ctl-group's. */
static void cmd_adopt(struct ctlsock *cs, int fd, const char *line,
		      GString *out)
{
	g_auto(GStrv) argv = g_strsplit(line, " ", -1);
	g_autofree char *path = NULL;
	g_autoptr(snapshot_t) snap = NULL;
	const struct snap_group *g;
	struct adopt_result res;
	gint64 pid;
	int err;

	if (!peer_is_root(fd)) {
		g_string_printf(out, "err permission denied: only root may "
				     "adopt a process\n");
		return;
	}
	if (g_strv_length(argv) != 3 || !(path = ctl_unescape(argv[1])) ||
	    !g_ascii_string_to_signed(argv[2], 10, 1, G_MAXINT, &pid, NULL)) {
		g_string_printf(out, "err usage: adopt GROUP PID\n");
		return;
	}
	snap = sampler_snapshot(cs->sampler);
	g = ctlcmd_lookup(snap, path);
	err = g ? adopt_process(cs->sampler, g->id, g->serial, pid, &res)
		: -ENOENT;
	if (err) {
		g_string_printf(
		    out, "err cannot adopt %" G_GINT64_FORMAT " into %s: %s\n",
		    pid, *path ? path : "/", g_strerror(-err));
		return;
	}
	g_message("adopted process %" G_GINT64_FORMAT " into %s with %.3f ms "
		  "run before (%.3f ms of it by its exited creators)%s",
		  pid, path, res.ns / 1e6, res.before_ns / 1e6,
		  res.exec_join ? "; exec'd processes join it" : "");
	g_string_printf(
	    out, "ok\nadopted %" G_GINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n",
	    pid, res.ns, res.exec_join ? "exec-join" : "-");
}

static void answer(struct ctlsock *cs, int fd)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(snapshot_t) snap = NULL;
	char line[CTL_LINE_MAX];
	struct ctl_info info;
	bool root = false;

	/* the request is read first even from a caller we refuse, so its
	 * send never meets a closed socket and it gets our reason */
	if (!read_line(fd, line, sizeof(line)))
		return;
	if (!peer_allowed(cs, fd, &root)) {
		g_string_printf(out,
				"err permission denied: only root may ask "
				"cpuacctfs%s\n" CTL_END "\n",
				cs->have_gid
				    ? " or members of its --ctl-group"
				    : " (start it with --ctl-group=GID "
				      "to let a group in)");
		write_all(fd, out->str, out->len);
		return;
	}
	if (g_str_has_prefix(line, "adopt ")) {
		cmd_adopt(cs, fd, line, out);
		g_string_append(out, CTL_END "\n");
		write_all(fd, out->str, out->len);
		return;
	}
	if (ctllimit_is_request(line)) {
		ctllimit_run(cs->sampler, line, root, out);
		write_all(fd, out->str, out->len);
		return;
	}
	info = (struct ctl_info){.backend = sampler_backend_name(cs->sampler),
				 .interval_ms = cs->interval_ms,
				 .mount = cs->mount,
				 .started_ns = cs->started_ns,
				 .rss_bytes = rss_bytes()};
	lag_summary(cs, &info.lag_mean_ms, &info.lag_max_ms);
	snap = sampler_recent_snapshot(cs->sampler);
	ctlcmd_run(snap, &info, sampler_now_ns(), clock_ns(CLOCK_REALTIME),
		   line, out);
	write_all(fd, out->str, out->len);
}

static gpointer client_main(gpointer data)
{
	struct client *c = data;

	answer(c->cs, c->fd);
	close(c->fd);
	g_atomic_int_dec_and_test(&c->cs->clients);
	g_free(c);
	return NULL;
}

static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = 5};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void accept_one(struct ctlsock *cs)
{
	struct client *c;
	GThread *t;
	int fd = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* too many at once: drop it rather than queue behind them */
	if (g_atomic_int_add(&cs->clients, 1) >= CTLSOCK_MAX_CLIENTS) {
		g_atomic_int_dec_and_test(&cs->clients);
		close(fd);
		return;
	}
	set_timeouts(fd);
	c = g_new0(struct client, 1);
	c->cs = cs;
	c->fd = fd;
	t = g_thread_try_new("ctl-client", client_main, c, NULL);
	if (!t) {
		g_atomic_int_dec_and_test(&cs->clients);
		close(fd);
		g_free(c);
		return;
	}
	g_thread_unref(t);
}

static gpointer ctl_main(gpointer data)
{
	struct ctlsock *cs = data;
	struct pollfd fds[2] = {{.fd = cs->fd, .events = POLLIN},
				{.fd = cs->stop_fd, .events = POLLIN}};

	/* with live reads (bpf) there is no lag to watch at all: no wakeup
	 * but for clients */
	bool live = !strcmp(sampler_backend_name(cs->sampler), "bpf");

	for (;;) {
		int n = poll(fds, 2,
			     live ? -1
			     : sampler_lag_ns(cs->sampler, sampler_now_ns())
				 ? LAG_SAMPLE_MS
				 : 1000);

		if (n < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (n > 0 && fds[0].revents)
			accept_one(cs);
		lag_sample(cs);
	}
	return NULL;
}

/* A stale socket of a daemon that died is in the way; a live one's is
 * too (this mount point is being mounted again): ours replaces it. */
static int bind_socket(struct ctlsock *cs, const struct sockaddr_un *addr)
{
	struct stat st;

	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cs->fd < 0)
		return -errno;
	if (lstat(addr->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(addr->sun_path);
	if (bind(cs->fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		return -errno;
	if (cs->have_gid) {
		if (chown(addr->sun_path, 0, cs->ctl_gid) < 0 ||
		    chmod(addr->sun_path, 0660) < 0)
			return -errno;
	} else if (chmod(addr->sun_path, 0600) < 0) {
		return -errno;
	}
	if (stat(addr->sun_path, &st) == 0)
		cs->ino = st.st_ino;
	if (listen(cs->fd, 64) < 0)
		return -errno;
	return 0;
}

struct ctlsock *ctlsock_open(struct sampler *s, const char *mount,
			     unsigned int interval_ms, gid_t ctl_gid,
			     bool have_gid, int *err)
{
	struct ctlsock *cs = g_new0(struct ctlsock, 1);
	struct sockaddr_un addr;

	cs->sampler = s;
	cs->mount = g_strdup(mount);
	cs->interval_ms = interval_ms;
	cs->ctl_gid = ctl_gid;
	cs->have_gid = have_gid;
	cs->fd = cs->stop_fd = -1;
	cs->started_ns = sampler_now_ns();
	g_mutex_init(&cs->lag_lock);
	*err = ctl_socket_addr(mount, &addr);
	if (*err == 0) {
		cs->path = g_strdup(addr.sun_path);
		*err = bind_socket(cs, &addr);
	}
	if (*err == 0) {
		cs->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (cs->stop_fd < 0)
			*err = -errno;
	}
	if (*err) {
		ctlsock_close(cs);
		return NULL;
	}
	cs->thread = g_thread_new("ctl", ctl_main, cs);
	return cs;
}

void ctlsock_close(struct ctlsock *cs)
{
	uint64_t one = 1;
	struct stat st;

	if (!cs)
		return;
	if (cs->thread) {
		if (write(cs->stop_fd, &one, sizeof(one)) < 0)
			g_warning("cannot stop the control thread: %s",
				  g_strerror(errno));
		g_thread_join(cs->thread);
	}
	/* client threads still answering hold the sampler: wait for them */
	while (g_atomic_int_get(&cs->clients) > 0)
		g_usleep(10000);
	if (cs->fd >= 0)
		close(cs->fd);
	if (cs->stop_fd >= 0)
		close(cs->stop_fd);
	if (cs->path && cs->ino && stat(cs->path, &st) == 0 &&
	    st.st_ino == cs->ino)
		unlink(cs->path);
	g_mutex_clear(&cs->lag_lock);
	g_free(cs->path);
	g_free(cs->mount);
	g_free(cs);
}
