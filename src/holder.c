/* holder.c - keep the connection, run the server, start it again. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "holder.h"

/* A server that dies this soon after its start, this many times in a
 * row, may be dying of what it restores: the next one starts clean. */
#define QUICK_DEATH_NS (2 * 1000000000LL)
#define QUICK_DEATHS_BEFORE_CLEAN_START 3

/* The longest message: "kept" and the maps' names. */
#define KEPT_MSG_MAX (8 + HOLDER_MAX_MAPS * KEPT_NAME_MAX)

struct holder {
	const struct holder_config *cfg;
	char *exe; /* the binary on disk, read again at every start */
	int init_fd, state_fd, sock[2], sig_fd, ready_fd;
	struct kept_maps maps;
	int links[HOLDER_MAX_LINKS];
	unsigned int nlinks;
	unsigned int generation, quick_deaths;
	pid_t server;
	pid_t incoming; /* a reload's next server, preparing, or 0 */
	int64_t started_ns;
	bool stopping, ever_ready;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void write_pidfile(const struct holder *h)
{
	g_autofree char *tmp = NULL;
	g_autofree char *text = NULL;

	if (!h->cfg->pidfile)
		return;
	tmp = g_strdup_printf("%s.tmp", h->cfg->pidfile);
	text = g_strdup_printf("%d\n", (int)h->server);
	if (!g_file_set_contents(tmp, text, -1, NULL) ||
	    rename(tmp, h->cfg->pidfile) != 0)
		g_warning("cannot write %s: %s", h->cfg->pidfile,
			  g_strerror(errno));
}

static char *env_value(const struct holder *h, bool handover)
{
	GString *env = g_string_new(NULL);

	g_string_printf(env, "fuse=%d,init=%d,state=%d,sock=%d,gen=%u,handover=%d",
			h->cfg->fuse_fd, h->init_fd, h->state_fd, h->sock[1],
			h->generation, handover);
	for (unsigned int i = 0; i < h->maps.n; i++)
		g_string_append_printf(env, ",map=%s:%d", h->maps.name[i],
				       h->maps.fd[i]);
	return g_string_free(env, FALSE);
}

static void inherit(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, 0);
}

/* In the child: only what the server needs crosses exec. */
static void exec_server(const struct holder *h, const sigset_t *old_mask,
			bool handover)
{
	g_autofree char *env = env_value(h, handover);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) { /* the holder is shielded, the server is not */
		if (write(fd, "0", 1) < 0)
			perror("cpuacctfs: oom_score_adj");
		close(fd);
	}
	inherit(h->cfg->fuse_fd);
	inherit(h->sock[1]);
	for (unsigned int i = 0; i < h->maps.n; i++)
		inherit(h->maps.fd[i]);
	setenv(HOLDER_ENV, env, 1);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	execv(h->exe, h->cfg->argv);
	fprintf(stderr, "cpuacctfs: cannot run %s: %s\n", h->exe,
		strerror(errno));
	_exit(127);
}

/* A server; with handover, one that prepares beside the current one
 * and serves once told to (see reload). */
static pid_t start_server(struct holder *h, const sigset_t *old_mask,
			  bool handover)
{
	pid_t pid;

	h->generation++;
	pid = fork();
	if (pid == 0)
		exec_server(h, old_mask, handover);
	return pid;
}

static int spawn(struct holder *h, const sigset_t *old_mask)
{
	pid_t pid = start_server(h, old_mask, false);

	if (pid < 0)
		return -errno;
	h->server = pid;
	h->started_ns = now_ns();
	write_pidfile(h);
	return 0;
}

/* A reload: the next server loads and scans while this one serves; once
 * it says "prepared", this one saves and exits (HOLDER_EXIT_RESTART),
 * and then the next one is told to go: the pause readers see is only
 * its restore and the handing over of the connection. */
static void reload(struct holder *h, const sigset_t *old_mask)
{
	if (h->incoming || h->server <= 0)
		return;
	h->incoming = start_server(h, old_mask, true);
	if (h->incoming < 0) {
		g_warning("reload: cannot start a server: %s",
			  g_strerror(errno));
		h->incoming = 0;
	}
}

/* The current server is gone and the next one is prepared: go. */
static void hand_over(struct holder *h)
{
	if (send(h->sock[0], "go", 3, MSG_NOSIGNAL) < 0)
		g_warning("reload: cannot reach the next server: %s",
			  g_strerror(errno));
	h->server = h->incoming;
	h->incoming = 0;
	h->started_ns = now_ns();
	write_pidfile(h);
}

static void close_kept(struct holder *h)
{
	for (unsigned int i = 0; i < h->maps.n; i++)
		close(h->maps.fd[i]);
	for (unsigned int i = 0; i < h->nlinks; i++)
		close(h->links[i]);
	h->maps.n = h->nlinks = 0;
}

/* The server's in-kernel objects: the new set replaces the old one only
 * now, after the new links are attached, so counting never pauses (two
 * sets of programs attached for a moment count nothing twice: each
 * charges a task only what grew since its last charge, which they
 * share). */
static void take_kept(struct holder *h, char *names, const int *fds,
		      unsigned int n)
{
	g_auto(GStrv) words = g_strsplit(names, " ", -1);
	unsigned int nmaps = g_strv_length(words) - 1; /* after "kept" */

	if (nmaps > HOLDER_MAX_MAPS || nmaps > n ||
	    n - nmaps > HOLDER_MAX_LINKS) {
		for (unsigned int i = 0; i < n; i++)
			close(fds[i]);
		return;
	}
	close_kept(h);
	for (unsigned int i = 0; i < n; i++)
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	for (unsigned int i = 0; i < nmaps; i++) {
		g_strlcpy(h->maps.name[i], words[i + 1], KEPT_NAME_MAX);
		h->maps.fd[i] = fds[i];
	}
	h->maps.n = nmaps;
	for (unsigned int i = nmaps; i < n; i++)
		h->links[h->nlinks++] = fds[i];
}

static void report_ready(struct holder *h, int status)
{
	char c = status;
	int fd;

	if (h->ready_fd < 0)
		return;
	if (write(h->ready_fd, &c, 1) < 0)
		g_warning("cannot tell the starting shell: %s",
			  g_strerror(errno));
	close(h->ready_fd);
	h->ready_fd = -1;
	/* detached: the shell's stderr is no longer ours (logs: syslog) */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

static void take_message(struct holder *h)
{
	char buf[KEPT_MSG_MAX] = {0};
	union {
		char space[CMSG_SPACE(sizeof(int) *
				      (HOLDER_MAX_MAPS + HOLDER_MAX_LINKS))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.space,
			     .msg_controllen = sizeof(ctl.space)};
	struct cmsghdr *c;
	ssize_t n = recvmsg(h->sock[0], &msg, MSG_DONTWAIT);

	if (n <= 0)
		return;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		take_kept(h, buf, (int *)CMSG_DATA(c),
			  (c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	if (g_str_has_prefix(buf, "kept"))
		return;
	if (strcmp(buf, "ready") == 0) {
		h->ever_ready = true;
		h->quick_deaths = 0;
		report_ready(h, 0);
	} else if (strcmp(buf, "prepared") == 0 && h->incoming > 0 &&
		   h->server > 0) {
		kill(h->server, SIGHUP);
	}
}

/* A server died without being asked to: what the next one starts from. */
static void after_crash(struct holder *h, int status)
{
	if (WIFSIGNALED(status))
		g_warning("the server (pid %d) was killed by signal %d: "
			  "starting it again",
			  (int)h->server, WTERMSIG(status));
	else
		g_warning("the server (pid %d) exited with status %d: "
			  "starting it again",
			  (int)h->server, WEXITSTATUS(status));
	if (now_ns() - h->started_ns > QUICK_DEATH_NS) {
		h->quick_deaths = 0;
		return;
	}
	if (++h->quick_deaths < QUICK_DEATHS_BEFORE_CLEAN_START)
		return;
	g_warning("the server died %u times within %lld s of its start: the "
		  "next one starts without the saved state",
		  h->quick_deaths, QUICK_DEATH_NS / 1000000000LL);
	if (ftruncate(h->state_fd, 0) != 0)
		g_warning("cannot clear the state: %s", g_strerror(errno));
	h->quick_deaths = 0;
	g_usleep(G_USEC_PER_SEC); /* not a tight loop, whatever kills it */
}

/* The server is gone: -1 to start another, else the holder's status. */
static int server_ended(struct holder *h, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0; /* unmounted, or stopped as asked */
	if (h->stopping)
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == HOLDER_EXIT_RESTART)
		return -1;
	if (!h->ever_ready) /* it never served: no point in retrying */
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	after_crash(h, status);
	h->server = 0;
	return -1;
}

static void stop(struct holder *h)
{
	h->stopping = true;
	if (h->incoming > 0)
		kill(h->incoming, SIGTERM);
	if (h->server > 0)
		kill(h->server, SIGTERM);
}

/* The next server of a reload died before it served. */
static void incoming_ended(struct holder *h, int status)
{
	h->incoming = 0;
	if (!h->stopping)
		g_warning("reload: the new server failed (status %d): the "
			  "current one goes on serving",
			  WIFEXITED(status) ? WEXITSTATUS(status)
					    : 128 + WTERMSIG(status));
}

/* One signal: -1 to go on, else the holder's exit status. */
static int take_signal(struct holder *h, const sigset_t *old_mask)
{
	struct signalfd_siginfo si;
	int status, rc;
	pid_t pid;

	if (read(h->sig_fd, &si, sizeof(si)) != sizeof(si))
		return -1;
	if (si.ssi_signo == SIGHUP)
		reload(h, old_mask);
	else if (si.ssi_signo != SIGCHLD)
		stop(h);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == h->incoming) {
			incoming_ended(h, status);
			continue;
		}
		if (pid != h->server)
			continue;
		take_message(h); /* a "ready" it sent before dying */
		if (h->incoming > 0 && !h->stopping) {
			hand_over(h);
			continue;
		}
		rc = server_ended(h, status);
		if (rc >= 0)
			return rc;
		if (spawn(h, old_mask) != 0)
			return 1;
	}
	return -1;
}

static int serve_loop(struct holder *h, const sigset_t *old_mask)
{
	struct pollfd fds[2] = {{.fd = h->sig_fd, .events = POLLIN},
				{.fd = h->sock[0], .events = POLLIN}};
	int rc = -1;

	if (spawn(h, old_mask) != 0)
		return 1;
	while (rc < 0) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (fds[1].revents)
			take_message(h);
		if (fds[0].revents)
			rc = take_signal(h, old_mask);
	}
	return rc;
}

static int open_files(struct holder *h)
{
	h->init_fd = memfd_create("cpuacctfs-init", 0);
	h->state_fd = memfd_create("cpuacctfs-state", 0);
	if (h->init_fd < 0 || h->state_fd < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, h->sock))
		return -errno;
	return 0;
}

static void shield_from_oom(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "-1000", 5) != 5)
		g_message("the holder cannot shield itself from the OOM "
			  "killer: %s",
			  g_strerror(errno));
	if (fd >= 0)
		close(fd);
}

int holder_run(const struct holder_config *cfg, int ready_fd)
{
	struct holder h = {.cfg = cfg, .ready_fd = ready_fd, .sig_fd = -1};
	sigset_t mask, old_mask;
	int rc, err;

	h.exe = g_file_read_link("/proc/self/exe", NULL);
	err = open_files(&h);
	if (!h.exe || err) {
		g_warning("cannot set up the holder: %s", g_strerror(-err));
		report_ready(&h, 1);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	h.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	shield_from_oom();
	rc = serve_loop(&h, &old_mask);
	report_ready(&h, rc ? rc : 1);
	if (h.server > 0) { /* we are going: so is it */
		kill(h.server, SIGTERM);
		waitpid(h.server, NULL, 0);
	}
	close_kept(&h);
	if (cfg->pidfile)
		unlink(cfg->pidfile);
	g_free(h.exe);
	return rc;
}

static bool parse_map(const char *item, struct kept_maps *maps)
{
	char name[KEPT_NAME_MAX];
	int fd;

	if (maps->n >= HOLDER_MAX_MAPS ||
	    sscanf(item, "map=%15[^:]:%d", name, &fd) != 2)
		return false;
	g_strlcpy(maps->name[maps->n], name, KEPT_NAME_MAX);
	maps->fd[maps->n++] = fd;
	return true;
}

static bool parse_pair(const char *item, struct holder_env *env)
{
	char key[16];
	int value;

	if (g_str_has_prefix(item, "map="))
		return parse_map(item, &env->maps);
	if (sscanf(item, "%15[a-z]=%d", key, &value) != 2)
		return false;
	if (!strcmp(key, "fuse"))
		env->fuse_fd = value;
	else if (!strcmp(key, "init"))
		env->init_fd = value;
	else if (!strcmp(key, "state"))
		env->state_fd = value;
	else if (!strcmp(key, "sock"))
		env->sock_fd = value;
	else if (!strcmp(key, "gen"))
		env->generation = value;
	else if (!strcmp(key, "handover"))
		env->handover = value;
	else
		return false;
	return true;
}

bool holder_env_parse(struct holder_env *env)
{
	const char *value = getenv(HOLDER_ENV);
	g_auto(GStrv) items = NULL;

	*env = (struct holder_env){
	    .fuse_fd = -1, .init_fd = -1, .state_fd = -1, .sock_fd = -1};
	if (!value)
		return false;
	items = g_strsplit(value, ",", -1);
	unsetenv(HOLDER_ENV);
	for (char **i = items; *i; i++)
		if (!parse_pair(*i, env))
			g_warning("holder: ignoring %s", *i);
	/* ours alone: nothing this server runs inherits them */
	for (int fd = 3; fd < 1024; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return env->fuse_fd >= 0 && env->init_fd >= 0 && env->sock_fd >= 0;
}

static void send_with_fds(int sock, const char *text, const int *fds,
			  unsigned int n)
{
	union {
		char space[CMSG_SPACE(sizeof(int) *
				      (HOLDER_MAX_MAPS + HOLDER_MAX_LINKS))];
		struct cmsghdr align;
	} ctl = {0};
	struct iovec iov = {.iov_base = (void *)text,
			    .iov_len = strlen(text) + 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	if (n) {
		msg.msg_control = ctl.space;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	if (sock >= 0 && sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		g_warning("cannot talk to the holder: %s", g_strerror(errno));
}

void holder_send_ready(int sock)
{
	send_with_fds(sock, "ready", NULL, 0);
}

bool holder_wait_go(int sock)
{
	char buf[8] = {0};

	send_with_fds(sock, "prepared", NULL, 0);
	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		return n > 0 && strcmp(buf, "go") == 0;
	}
}

void holder_send_kept(int sock, const struct kept_maps *maps,
		      const int *links, unsigned int nlinks)
{
	int fds[HOLDER_MAX_MAPS + HOLDER_MAX_LINKS];
	GString *text = g_string_new("kept");

	if (maps->n > HOLDER_MAX_MAPS || nlinks > HOLDER_MAX_LINKS)
		return;
	for (unsigned int i = 0; i < maps->n; i++) {
		g_string_append_printf(text, " %s", maps->name[i]);
		fds[i] = maps->fd[i];
	}
	memcpy(fds + maps->n, links, sizeof(int) * nlinks);
	send_with_fds(sock, text->str, fds, maps->n + nlinks);
	g_string_free(text, TRUE);
}
