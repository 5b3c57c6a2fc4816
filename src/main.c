/* main.c - options, mounting, and the lifetime of the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ctlproto.h"
#include "ctlsock.h"
#include "engine.h"
#include "fs.h"
#include "fuseconn.h"
#include "holder.h"
#include "log.h"
#include "memtune.h"
#include "sampler.h"

#define DEFAULT_MOUNTPOINT "/run/cpuacctfs"
#define MOUNT_OPTIONS                                                          \
	"-oallow_other,default_permissions,fsname=cpuacct,subtype=cpuacctfs"

struct options {
	unsigned int interval_ms;
	unsigned int perf_period_us;
	unsigned int history_len;
	int no_perf;
	int no_tracepoint;
	int no_taskstats;
	int cache;
	char *backend;
	unsigned int max_groups;
	char *ctl_group;
	char *pidfile;
	int no_restart;
	unsigned int max_descendants;
};

#define OPT(t, field, value)                                                   \
	{                                                                      \
		t, offsetof(struct options, field), value                      \
	}
static const struct fuse_opt option_spec[] = {
    OPT("--interval=%u", interval_ms, 0),
    OPT("--perf-period=%u", perf_period_us, 0),
    OPT("--history=%u", history_len, 0),
    OPT("--no-perf", no_perf, 1),
    OPT("--no-tracepoint", no_tracepoint, 1),
    OPT("--no-taskstats", no_taskstats, 1),
    OPT("--cache", cache, 1),
    OPT("--backend=%s", backend, 0),
    OPT("--max-groups=%u", max_groups, 0),
    OPT("--ctl-group=%s", ctl_group, 0),
    OPT("--pidfile=%s", pidfile, 0),
    OPT("--no-restart", no_restart, 1),
    OPT("--max-descendants=%u", max_descendants, 0),
    FUSE_OPT_END};

static void usage(const char *prog)
{
	printf(
	    "usage: %s [options] [MOUNTPOINT]\n"
	    "\n"
	    "Serve a cgroup v1 cpuacct hierarchy at MOUNTPOINT "
	    "(default " DEFAULT_MOUNTPOINT ").\n"
	    "\n"
	    "    --backend=NAME       where the counts come from: bpf (in the\n"
	    "                         kernel), tracepoint (the scheduler's\n"
	    "                         records through perf) or clock\n"
	    "                         (process clocks); default: the first\n"
	    "                         of these that works here\n"
	    "    --max-groups=N       groups the in-kernel counters have room\n"
	    "                         for (default 16384)\n"
	    "    --interval=MS        time between passes, which record\n"
	    "                         history and refresh --cache pages\n"
	    "                         (default 40; 100 with bpf and no\n"
	    "                         --cache, whose reads are always live)\n"
	    "    --perf-period=US     perf sampling period per CPU "
	    "(default 1000)\n"
	    "    --no-perf            split time per CPU from /proc only\n"
	    "    --no-tracepoint      the same as --backend=clock\n"
	    "    --no-taskstats       user/system time (stat) split by "
	    "samples,\n"
	    "                         not the tasks' own tick counts\n"
	    "    --history=KIB        history per busy group, KiB (default "
	    "64:\n"
	    "                         an hour of seconds, a day of minutes)\n"
	    "    --max-descendants=N  the limit `cpuacctctl limit PATH "
	    "default`\n"
	    "                         sets on a group (a container's root,\n"
	    "                         by the OCI hook): groups below it\n"
	    "                         (default 1000, 0: none)\n"
	    "    --ctl-group=GROUP    let GROUP use cpuacctctl (default: "
	    "root only)\n"
	    "    --cache              serve reads from the page cache "
	    "(faster;\n"
	    "                         files report their length, tasks show\n"
	    "                         host ids)\n"
	    "    --pidfile=FILE       write the pid of the process that "
	    "serves\n"
	    "                         requests to FILE (again after a "
	    "restart)\n"
	    "    --no-restart         serve from this process alone: no "
	    "holder\n"
	    "                         keeps the mount through a crash\n"
	    "    -f                   stay in the foreground, log to stderr\n"
	    "    -d                   debug: foreground and FUSE tracing\n"
	    "    -o OPT[,OPT...]      FUSE mount options\n"
	    "    -h, --help           this text\n"
	    "    -V, --version        the version\n",
	    prog);
}

static const char *const backend_names[] = {
    [BACKEND_AUTO] = "auto",
    [BACKEND_BPF] = "bpf",
    [BACKEND_TRACEPOINT] = "tracepoint",
    [BACKEND_CLOCK] = "clock",
};

/* --backend, or what the older --no-tracepoint asks for. */
static bool backend_of(const struct options *o, enum sampler_backend *b)
{
	*b = o->no_tracepoint ? BACKEND_CLOCK : BACKEND_AUTO;
	if (!o->backend)
		return true;
	for (unsigned int i = 0; i < G_N_ELEMENTS(backend_names); i++) {
		if (strcmp(o->backend, backend_names[i]) == 0) {
			*b = i;
			return true;
		}
	}
	fprintf(stderr, "cpuacctfs: --backend must be bpf, tracepoint, "
			"clock or auto\n");
	return false;
}

static bool options_valid(const struct options *o)
{
	if (o->interval_ms > 60000) {
		fprintf(stderr, "cpuacctfs: --interval must be 1..60000 ms\n");
		return false;
	}
	if (o->perf_period_us < 10 || o->perf_period_us > 1000000) {
		fprintf(stderr, "cpuacctfs: --perf-period must be "
				"10..1000000 us\n");
		return false;
	}
	if (o->max_groups < 1 || o->max_groups > 1000000) {
		fprintf(stderr, "cpuacctfs: --max-groups must be 1..1000000\n");
		return false;
	}
	if (o->max_descendants >= GROUP_NO_LIMIT) {
		fprintf(stderr, "cpuacctfs: --max-descendants is too large\n");
		return false;
	}
	if (o->history_len < 1 || o->history_len > 65536) {
		fprintf(stderr, "cpuacctfs: --history must be 1..65536 KiB\n");
		return false;
	}
	return true;
}

static struct ctlsock *open_ctl(struct sampler *s, const char *mount,
				const struct options *o)
{
	gid_t gid = 0;
	int err = 0;
	struct ctlsock *cs;

	if (o->ctl_group)
		ctl_parse_gid(o->ctl_group, &gid);
	cs = ctlsock_open(s, mount, o->interval_ms, gid, o->ctl_group != NULL,
			  &err);
	if (!cs)
		g_warning("no control socket for cpuacctctl at %s%s: %s", mount,
			  ".ctl", g_strerror(-err));
	return cs;
}

/* SIGHUP in a server: hand over to the binary now on disk. */
static struct fuse_session *reload_session;
static volatile sig_atomic_t reload_asked;

static void on_reload(int sig)
{
	(void)sig;
	reload_asked = 1;
	if (reload_session)
		fuse_session_exit(reload_session);
}

static void quiet_stdio(int which)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, which);
		close(fd);
	}
}

/* A server under a holder: the connection is there already, maybe
 * served before; the in-kernel counters are handed over to be kept. */
static int adopt(struct fuse_session *se, struct fs *fs, struct sampler *s,
		 const struct holder_env *env)
{
	struct kept_maps maps;
	int links[HOLDER_MAX_LINKS];
	unsigned int nlinks;
	int err =
	    fuseconn_adopt(se, env->fuse_fd, env->init_fd, env->generation > 1);

	if (err) {
		g_warning("cannot serve the connection: %s", g_strerror(-err));
		return err;
	}
	fs_set_first_fh(fs, (uint64_t)env->generation << 40);
	nlinks = sampler_kept(s, &maps, links, HOLDER_MAX_LINKS);
	if (nlinks)
		holder_send_kept(env->sock_fd, &maps, links, nlinks);
	/* no SA_RESTART: the loop's wait must end at the signal */
	reload_session = se;
	sigaction(SIGHUP, &(struct sigaction){.sa_handler = on_reload}, NULL);
	return 0;
}

static int connect_session(struct fuse_session *se, struct fs *fs,
			   struct sampler *s, struct fuse_cmdline_opts *cli,
			   const struct holder_env *env)
{
	if (env)
		return adopt(se, fs, s, env);
	if (fuse_session_mount(se, cli->mountpoint) != 0)
		return -EIO;
	fuse_daemonize(cli->foreground);
	return 0;
}

static int serve(struct fuse_args *args, struct fuse_cmdline_opts *cli,
		 struct sampler *s, const struct options *o,
		 const struct holder_env *env)
{
	struct fs *fs = fs_new(s, o->cache);
	struct ctlsock *cs = NULL;
	struct group_tree *tree = engine_tree(sampler_lock(s));
	struct fuse_loop_config loop = {.clone_fd = 0, .max_idle_threads = 10};
	struct fuse_session *se;
	int rc = 1;

	tree->default_max_descendants =
	    o->max_descendants ? o->max_descendants : GROUP_NO_LIMIT;
	sampler_unlock(s);
	/* a shell starts background jobs with SIGINT ignored, and libfuse
	 * leaves ignored signals alone: asked to stop, we stop (SIGHUP keeps
	 * what nohup chose) */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	se = fuse_session_new(args, fs_ops(), sizeof(*fs_ops()), fs);
	if (!se) {
		fs_free(fs);
		return 1;
	}
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (connect_session(se, fs, s, cli, env) != 0)
		goto out_signals;
	if (sampler_start(s) != 0) {
		g_warning("cannot start the sampler");
		goto out_unmount;
	}
	if (env) /* a restart: the gap's time shows before any read */
		sampler_first_pass(s);
	fs_start(fs, se);
	cs = open_ctl(s, cli->mountpoint, o);
	g_message("serving %s", cli->mountpoint);
	if (env) {
		holder_send_ready(env->sock_fd);
		if (!cli->foreground)
			quiet_stdio(STDERR_FILENO);
	}
	rc = fuse_session_loop_mt(se, &loop) < 0 ? 1 : 0;
	if (reload_asked) {
		sampler_checkpoint(s);
		rc = HOLDER_EXIT_RESTART;
	}
	ctlsock_close(cs);
	fs_stop(fs);
out_unmount:
	if (!env) /* the holder unmounts, when it is time */
		fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	fs_free(fs);
	return rc;
}

/* The holder's side (holder.h): mount, detach from the shell once the
 * first server serves, and keep the mount through the servers' lives. */
static int hold(struct fuse_args *args, struct fuse_cmdline_opts *cli,
		const struct options *o, char **argv)
{
	static const struct fuse_lowlevel_ops none;
	struct fuse_session *se;
	struct holder_config hc = {.argv = argv,
				   .mountpoint = cli->mountpoint,
				   .foreground = cli->foreground,
				   .pidfile = o->pidfile};
	int ready[2] = {-1, -1}, rc;
	char status = 1;

	se = fuse_session_new(args, &none, sizeof(none), NULL);
	if (!se || fuse_session_mount(se, cli->mountpoint) != 0) {
		if (se)
			fuse_session_destroy(se);
		return 1;
	}
	hc.fuse_fd = fuse_session_fd(se);
	if (!cli->foreground) {
		if (pipe2(ready, O_CLOEXEC) != 0)
			return 1;
		if (fork() > 0) { /* the shell's child: waits for the server */
			close(ready[1]);
			if (read(ready[0], &status, 1) != 1)
				status = 1;
			_exit(status);
		}
		close(ready[0]);
		setsid();
		if (chdir("/") != 0)
			g_warning("cannot chdir to /: %s", g_strerror(errno));
		/* the shell's pipes must see their end (out=$(cpuacctfs
		 * ...)); stderr goes once the server serves: its errors
		 * until then are the command's */
		quiet_stdio(STDIN_FILENO);
		quiet_stdio(STDOUT_FILENO);
	}
	rc = holder_run(&hc, ready[1]);
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	return rc;
}

/* Runs before any library's constructor (memtune.h). */
static void (*const preinit_memtune)(void)
    __attribute__((section(".preinit_array"), used)) = memtune_preinit;

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = {.perf_period_us = 1000,
			    .history_len = 64,
			    .max_groups = 16384,
			    .max_descendants = 1000};
	enum sampler_backend backend;
	struct fuse_cmdline_opts cli = {0};
	struct sampler_config cfg;
	struct holder_env env;
	bool served; /* by this process under a holder */
	struct sampler *s;
	int err = 0, rc = 1;

	memtune_reexec(argv);
	if (fuse_opt_parse(&args, &o, option_spec, NULL) != 0 ||
	    fuse_parse_cmdline(&args, &cli) != 0)
		return 1;
	if (cli.show_help) {
		usage(argv[0]);
		rc = 0;
		goto out;
	}
	if (cli.show_version) {
		printf("cpuacctfs %s (backends: %stracepoint clock)\n",
		       PACKAGE_VERSION, sampler_can_bpf() ? "bpf " : "");
		rc = 0;
		goto out;
	}
	if (!options_valid(&o) || !backend_of(&o, &backend))
		goto out;
	if (o.ctl_group && !ctl_parse_gid(o.ctl_group, &(gid_t){0})) {
		fprintf(stderr, "cpuacctfs: --ctl-group: no group %s\n",
			o.ctl_group);
		goto out;
	}
	if (!cli.mountpoint) {
		cli.mountpoint = strdup(DEFAULT_MOUNTPOINT);
		if (mkdir(DEFAULT_MOUNTPOINT, 0755) && errno != EEXIST)
			perror("cpuacctfs: " DEFAULT_MOUNTPOINT);
	}
	log_setup(!cli.foreground, cli.debug);
	fuse_opt_add_arg(&args, MOUNT_OPTIONS);
	if (o.pidfile && o.pidfile[0] != '/') { /* the holder leaves the cwd */
		char *abs = g_canonicalize_filename(o.pidfile, NULL);

		free(o.pidfile);
		o.pidfile = strdup(abs);
		g_free(abs);
	}
	served = holder_env_parse(&env);
	if (!served && !o.no_restart) {
		rc = hold(&args, &cli, &o, argv);
		goto out;
	}
	cfg = (struct sampler_config){.backend = backend,
				      .max_groups = o.max_groups,
				      .interval_ms = o.interval_ms,
				      .perf_period_us = o.perf_period_us,
				      .use_perf = !o.no_perf,
				      .use_taskstats = !o.no_taskstats,
				      .history_len = o.history_len * 1024,
				      .state_fd = env.state_fd,
				      .defer_restore = env.handover};
	cfg.kept = served ? &env.maps : NULL;
	history_set_wall_offset(g_get_real_time() * 1000 - sampler_now_ns());
	s = sampler_new(&cfg, &err);
	if (!s && err == -ENOTSUP) {
		fprintf(stderr, "cpuacctfs: --backend=bpf cannot be used "
				"here (the reason is logged above)\n");
		goto out;
	}
	if (!s) {
		fprintf(stderr,
			"cpuacctfs: cannot watch processes: %s "
			"(run as root)\n",
			g_strerror(-err));
		goto out;
	}
	if (!o.interval_ms) /* reads of in-kernel counters never wait */
		o.interval_ms =
		    !strcmp(sampler_backend_name(s), "bpf") && !o.cache ? 100
									: 40;
	sampler_set_interval(s, o.interval_ms);
	if (served) /* detached already: nothing of what follows forks */
		sampler_open_perf(s);
	if (served && env.handover) {
		if (!holder_wait_go(env.sock_fd)) {
			rc = 0; /* the reload was called off */
			goto out_sampler;
		}
		sampler_restore(s);
	}
	rc = serve(&args, &cli, s, &o, served ? &env : NULL);
out_sampler:
	sampler_free(s);
out:
	free(cli.mountpoint);
	free(o.backend);
	free(o.ctl_group);
	free(o.pidfile);
	fuse_opt_free_args(&args);
	return rc;
}
