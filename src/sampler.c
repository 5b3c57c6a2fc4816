/* sampler.c - the sampling thread, its lock and snapshot publishing. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "evqueue.h"
#include "members.h"
#include "pace.h"
#include "release.h"
#include "sampler.h"
#include "stash.h"
#include "state.h"
#include "taskstats.h"
#ifdef HAVE_BPF
#include "bpfacct.h"
#endif

struct sampler {
	struct sampler_config cfg;
	struct engine *engine;
	struct procconn *pc;
	struct evqueue *events; /* between pc and the snapshots */
	uint64_t ev_seq;	/* last event the engine has handled */
	struct perfsplit *perf;
	struct perfsplit *runtime; /* sched_stat_runtime records, or NULL */
	struct ts_conn *ts;	   /* tick counts, or NULL */
	struct bpfacct *bpf;	   /* in-kernel counters, or NULL */
	GMutex engine_lock;
	GMutex snap_lock; /* guards only the pointer swap */
	struct snapshot *snap;
	uint64_t seq;
	int timer_fd;
	unsigned int period_ms; /* the timer's, see pace.h */
	struct pace pace;
	uint64_t pass_ev_seq; /* ev_seq at the last timer pass */
	/* the tree's removals at the last pass and at the last trim */
	uint64_t removals_seen, removals_trimmed;
	int stop_fd;
	/* Readers that need a pass (sampler_counters_snapshot) ask the
	 * sampler thread for it, since a pass may scan /proc, which must
	 * never run on a FUSE thread (see procfs_scan): asked counts the
	 * requests, served the last one a published pass answers. */
	int sync_fd;
	uint64_t sync_asked, sync_served;
	GCond synced; /* with engine_lock */
	GThread *thread;
	sampler_publish_fn on_publish;
	void *on_publish_data;
	/* The checkpoint (state.h), if a holder keeps one: the shape of
	 * the tree and membership it last saved, and when. */
	uint64_t saved_root_gen;
	uint64_t saved_groups_gen;
	int64_t saved_ns;
	int64_t save_cost_ns; /* what the last save took */
	bool save_pending;
	bool perf_opened;
	struct release *release; /* runs the release agent (release.h) */
};

/* When to save (state.h). After a write (mkdir, a move, a flag): at
 * once, unless saves come so often that they would take more than a
 * tenth of the time, then as soon as they would not (a mkdir storm costs
 * a checkpoint per batch, not per mkdir). Forks and exits need none: a
 * new server puts a task it does not know where its parent is, or where
 * the kernel's counters say. Counters alone: with in-kernel counters any
 * checkpoint gives them back exactly (its counters and the slot counts
 * they include go together), so only the history is at stake: saved
 * each second while groups are busy, every 10 s when only the root is.
 * Otherwise each second too: a new server reads the live tasks' clocks
 * (sampler_first_pass, before it serves), and only what tasks that
 * exited since ran is lost. A save in every pass would delay the
 * sampler's reads of exiting tasks, which must come before their
 * reaping. */
#define SAVE_GROUPS_BPF_NS (1 * 1000000000LL) /* groups other than the root */
#define SAVE_ROOT_BPF_NS (10 * 1000000000LL)  /* only the root counted */
#define SAVE_COST_SHARE 10

int64_t sampler_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_event(const struct pc_event *ev, void *data)
{
	engine_event(data, ev);
}

static void on_sample(const struct perf_rec *rec, void *data)
{
	engine_sample(data, rec);
}

static void on_runtime(const struct perf_rec *rec, void *data)
{
	engine_runtime(data, rec);
}

static void on_exit_ticks(const struct ts_rec *rec, void *data)
{
	engine_task_ticks(data, rec);
}

static int query_ticks(void *ts, pid_t tid, struct ts_rec *out)
{
	return taskstats_query(ts, tid, out);
}

static void drain_exit_ticks(struct sampler *s)
{
	uint64_t lost = 0;
	int rc = taskstats_drain(s->ts, on_exit_ticks, s->engine, &lost);

	if (lost)
		g_warning("taskstats: exit records lost: user/system time "
			  "estimates those tasks' last ticks");
	if (rc < 0)
		g_warning("taskstats: %s", g_strerror(-rc));
}

static int pull_events(void *pc, procconn_fn fn, void *data)
{
	return procconn_drain(pc, fn, data);
}

static void drain_events(struct sampler *s)
{
	int rc;

	s->ev_seq = evqueue_deliver(s->events, on_event, s->engine, &rc);
	if (rc < 0)
		g_warning("proc connector: %s", g_strerror(-rc));
}

/* With process clocks alone, an exit is read from the zombie, but the
 * proc connector tells of it only after the parent was woken, which
 * often reaps it first. The exit record of taskstats comes earlier in
 * do_exit (before the address space is torn down), so it is watched:
 * the process's clock read then leaves only the tear-down to settle. */
static int exits_fd(const struct sampler *s)
{
	return s->ts && !s->runtime && !s->bpf ? taskstats_fd(s->ts) : -1;
}

/* Events first: a sample or record can name a task only after its
 * fork (records of tasks not known yet are retried below). Except for
 * watched exits (exits_fd): an exit record is the last moment a
 * process's clock can be read, and its EXIT event, sent after the parent
 * was woken, is queued behind it: taken first, the exit read nothing
 * once the parent had reaped it. */
static void drain_all(void *data)
{
	struct sampler *s = data;
	uint64_t lost = 0, until;

	if (exits_fd(s) >= 0)
		drain_exit_ticks(s);
	drain_events(s);
	if (s->perf) {
		perfsplit_drain(s->perf, on_sample, s->engine, &lost);
		if (lost)
			g_debug("perf dropped %" G_GUINT64_FORMAT " samples",
				lost);
	}
	/* exit records before the runtime records made after them, which
	 * they tell apart (ticks.h) */
	until = (uint64_t)sampler_now_ns();
	if (s->ts)
		drain_exit_ticks(s);
	if (s->runtime) {
		/* samples first: they split the records' mode */
		perfsplit_drain_until(s->runtime, until, on_runtime, s->engine,
				      &lost);
		if (lost) {
			g_warning("perf dropped %" G_GUINT64_FORMAT
				  " runtime records: reading the tasks' "
				  "runtimes to count their time",
				  lost);
			engine_runtime_lost(s->engine);
		}
	}
	if (s->runtime || s->ts) {
		/* records of tasks born since the events above */
		drain_events(s);
		engine_runtime_retry(s->engine);
		engine_task_ticks_retry(s->engine);
	}
}

static void publish(struct sampler *s)
{
	struct snapshot *next, *old;

	/* s->snap is only replaced here, under the engine lock we hold */
	next = snapshot_build(engine_tree(s->engine), engine_tasks(s->engine),
			      s->snap, ++s->seq, sampler_now_ns());
	next->ev_seq = s->ev_seq;
	g_mutex_lock(&s->snap_lock);
	old = s->snap;
	s->snap = next;
	g_mutex_unlock(&s->snap_lock);
	/* after the swap: a reader holding the queue keeps what its
	 * (older) snapshot lacks until it is done */
	evqueue_trim(s->events, next->ev_seq);
	if (s->on_publish)
		s->on_publish(next, s->on_publish_data);
	snapshot_unref(old);
	/* only queues: the agents run on the release thread */
	release_collect(s->release, engine_tree(s->engine)->release_agent,
			engine_tasks(s->engine)->released);
}

void sampler_set_publish_hook(struct sampler *s, sampler_publish_fn fn,
			      void *data)
{
	g_mutex_lock(&s->engine_lock);
	s->on_publish = fn;
	s->on_publish_data = data;
	g_mutex_unlock(&s->engine_lock);
}

struct snapshot *sampler_snapshot(struct sampler *s)
{
	struct snapshot *snap;

	g_mutex_lock(&s->snap_lock);
	snap = snapshot_ref(s->snap);
	g_mutex_unlock(&s->snap_lock);
	return snap;
}

static bool has_exit(const GArray *events)
{
	for (unsigned int i = 0; i < events->len; i++)
		if (g_array_index(events, struct pc_event, i).kind == PC_EXIT)
			return true;
	return false;
}

/* Whether a task exited after snap was built (events pulled now). */
static bool exited_since(struct sampler *s, const struct snapshot *snap)
{
	g_autoptr(GArray) pending = NULL;

	evqueue_hold(s->events);
	pending = evqueue_since(s->events, snap->ev_seq);
	evqueue_release(s->events);
	return has_exit(pending);
}

/* Asks the sampler thread for a pass and waits until it is published. */
static void ask_pass(struct sampler *s)
{
	uint64_t one = 1, ticket;

	g_mutex_lock(&s->engine_lock);
	/* a pass asked for after now covers the exit we saw */
	ticket = ++s->sync_asked;
	if (write(s->sync_fd, &one, sizeof(one)) < 0)
		g_warning("cannot ask for a pass: %s", g_strerror(errno));
	else
		while (s->sync_served < ticket)
			g_cond_wait(&s->synced, &s->engine_lock);
	g_mutex_unlock(&s->engine_lock);
}

struct snapshot *sampler_counters_snapshot(struct sampler *s)
{
	struct snapshot *snap = sampler_snapshot(s);

	if (s->bpf || s->sync_fd < 0 || !exited_since(s, snap))
		return snap;
	snapshot_unref(snap);
	ask_pass(s);
	return sampler_snapshot(s);
}

void sampler_first_pass(struct sampler *s)
{
	if (s->sync_fd >= 0)
		ask_pass(s);
}

struct snapshot *sampler_recent_snapshot(struct sampler *s)
{
	struct snapshot *snap = sampler_snapshot(s);
	int64_t age = sampler_now_ns() - snap->t_ns;

	/* other backends publish every pass; under bpf an idle pass
	 * publishes nothing (timer_pass) */
	if (!s->bpf || s->sync_fd < 0 ||
	    age <= (int64_t)s->cfg.interval_ms * 1000000)
		return snap;
	snapshot_unref(snap);
	ask_pass(s);
	return sampler_snapshot(s);
}

/* The sampler thread, for readers that asked: a pass that brings in
 * everything up to now, published. */
static void serve_sync(struct sampler *s)
{
	uint64_t n;

	if (read(s->sync_fd, &n, sizeof(n)) < 0)
		return;
	g_mutex_lock(&s->engine_lock);
	n = s->sync_asked;
	drain_all(s);
	engine_pass(s->engine, sampler_now_ns(), !s->runtime);
	publish(s);
	s->sync_served = n;
	g_cond_broadcast(&s->synced);
	g_mutex_unlock(&s->engine_lock);
}

/* Changes when any group but the root is charged: every charge walks
 * through one of the root's children. */
static uint64_t groups_gen(struct sampler *s)
{
	const struct group *root = group_root(engine_tree(s->engine));
	uint64_t sum = 0;

	for (unsigned int i = 0; i < root->children->len; i++)
		sum += ((const struct group *)root->children->pdata[i])->gen;
	return sum;
}

static void save_now(struct sampler *s, int64_t now)
{
	g_autoptr(GByteArray) bytes = state_save(s->engine);
	int err = stash_write(s->cfg.state_fd, bytes->data, bytes->len);

	if (err)
		g_warning("state: cannot save: %s", g_strerror(-err));
	s->saved_root_gen = group_root(engine_tree(s->engine))->gen;
	s->saved_groups_gen = groups_gen(s);
	s->saved_ns = sampler_now_ns();
	s->save_cost_ns = s->saved_ns - now;
	s->save_pending = false;
}

/* When a pending save may run. */
static int64_t save_due(const struct sampler *s)
{
	return s->saved_ns + SAVE_COST_SHARE * s->save_cost_ns;
}

/* Under the engine lock, after a change or a pass: save if due. */
/* With in-kernel counters, how old the checkpoint may grow: only the
 * history is at stake. */
static int64_t bpf_save_age(struct sampler *s)
{
	if (groups_gen(s) != s->saved_groups_gen)
		return SAVE_GROUPS_BPF_NS;
	if (group_root(engine_tree(s->engine))->gen != s->saved_root_gen)
		return SAVE_ROOT_BPF_NS;
	return INT64_MAX;
}

/* Under the engine lock, after a write or a pass: save if due. */
static void maybe_save(struct sampler *s, bool pass)
{
	int64_t now = sampler_now_ns(), since = now - s->saved_ns;

	if (s->cfg.state_fd < 0)
		return;
	if (s->save_pending && now >= save_due(s))
		save_now(s, now);
	else if (pass && s->bpf && since >= bpf_save_age(s))
		save_now(s, now);
	else if (pass && !s->bpf && since >= SAVE_GROUPS_BPF_NS &&
		 group_root(engine_tree(s->engine))->gen != s->saved_root_gen)
		save_now(s, now);
}


void sampler_checkpoint(struct sampler *s)
{
	g_mutex_lock(&s->engine_lock);
	if (s->cfg.state_fd >= 0)
		save_now(s, sampler_now_ns());
	g_mutex_unlock(&s->engine_lock);
}

struct engine *sampler_lock(struct sampler *s)
{
	g_mutex_lock(&s->engine_lock);
	return s->engine;
}

static void set_period(struct sampler *s, unsigned int ms);

void sampler_unlock(struct sampler *s)
{
	publish(s);
	s->save_pending = true; /* a write changed something */
	maybe_save(s, false);
	/* a command changed a group: its history starts within a period
	 * (cpuacctctl history of a group just made), not a stretched one */
	if (s->timer_fd >= 0)
		set_period(s, pace_after_command(&s->pace));
	g_mutex_unlock(&s->engine_lock);
}

/* ms until a pending save is due (for poll), or -1. */
static int save_timeout_ms(struct sampler *s)
{
	int64_t left;
	int ms = -1;

	g_mutex_lock(&s->engine_lock);
	if (s->save_pending && s->cfg.state_fd >= 0) {
		left = save_due(s) - sampler_now_ns();
		ms = left > 0 ? (int)(left / 1000000) + 1 : 0;
	}
	g_mutex_unlock(&s->engine_lock);
	return ms;
}

bool sampler_members(struct sampler *s, unsigned int gid, GArray **tids,
		     GArray **tgids)
{
	g_autoptr(snapshot_t) snap = NULL;
	g_autoptr(GArray) pending = NULL;
	const struct snap_group *g;

	evqueue_hold(s->events);
	snap = sampler_snapshot(s);
	pending = evqueue_since(s->events, snap->ev_seq);
	evqueue_release(s->events);
	g = snapshot_group(snap, gid);
	if (!g)
		return false;
	if (!members_now(g->tids, g->tgids, pending, tids, tgids)) {
		*tids = g_array_ref(g->tids);
		*tgids = g_array_ref(g->tgids);
	}
	return true;
}

static int open_timer(unsigned int interval_ms)
{
	struct itimerspec its = {0};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	its.it_interval.tv_sec = interval_ms / 1000;
	its.it_interval.tv_nsec = (interval_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void open_perf(struct sampler *s)
{
	int err = 0;

	if (!s->cfg.use_perf || s->bpf)
		return;
	s->perf = perfsplit_open(s->cfg.perf_period_us, &err);
	if (!s->perf) {
		g_message("perf sampling unavailable (%s): splitting per CPU "
			  "from /proc",
			  g_strerror(-err));
		return;
	}
	if (s->cfg.backend == BACKEND_CLOCK)
		return;
	s->runtime = perfsplit_open_runtime(&err);
	if (!s->runtime)
		g_message("sched_stat_runtime unavailable (%s): counting time "
			  "from process clocks",
			  g_strerror(-err));
}

/* Before the first scan, so the tasks found there get their baseline. */
static void open_taskstats(struct sampler *s)
{
	int err = 0;

	if (!s->cfg.use_taskstats || s->bpf)
		return;
	s->ts = taskstats_open(procfs_possible_cpus(), &err);
	if (!s->ts) {
		g_message("taskstats unavailable (%s): user and system time "
			  "split by samples",
			  g_strerror(-err));
		return;
	}
	engine_set_ticks(s->engine, query_ticks, s->ts);
}

#ifdef HAVE_BPF
static int move_in_kernel(void *bpf, pid_t tid, unsigned int gid)
{
	return bpfacct_set_group(bpf, tid, gid);
}

static int group_in_kernel(void *bpf, pid_t tid)
{
	return bpfacct_group_of(bpf, tid);
}

static int origin_in_kernel(void *bpf, pid_t tid, uint32_t *creator,
			    uint64_t *charged)
{
	return bpfacct_origin(bpf, tid, creator, charged);
}

static int chain_in_kernel(void *bpf, uint32_t creator, uint64_t *ns)
{
	return bpfacct_chain(bpf, creator, ns);
}

static int nsgroup_in_kernel(void *bpf, uint64_t ino, unsigned int gid)
{
	return bpfacct_set_nsgroup(bpf, ino, gid);
}

/* The in-kernel counters, where asked for or best: before the scan, so
 * every task the scan finds is counted (in the root) from now on. */
static int open_bpf(struct sampler *s)
{
	g_autofree char *why = NULL;
	struct group_tree *tree = engine_tree(s->engine);
	/* ids run up to the most groups alive plus those waiting for reuse */
	unsigned int kmax = s->cfg.max_groups + GROUP_ID_REUSE_AFTER + 1;

	if (s->cfg.backend != BACKEND_AUTO && s->cfg.backend != BACKEND_BPF)
		return 0;
	s->bpf = bpfacct_open(tree->ncpu, kmax, s->cfg.kept, &why);
	if (!s->bpf) {
		if (s->cfg.backend == BACKEND_BPF) {
			g_warning("bpf backend: %s", why);
			return -ENOTSUP;
		}
		g_message("bpf backend unavailable (%s): counting with the "
			  "scheduler's tracepoint through perf",
			  why);
		return 0;
	}
	group_tree_set_kslots(tree, bpfacct_slots(s->bpf), kmax);
	tree->modes_from_ticks = true; /* the program counts ticks */
	engine_set_kmembers(
	    s->engine, &(struct engine_kmembers){.move = move_in_kernel,
						 .group_of = group_in_kernel,
						 .origin = origin_in_kernel,
						 .chain = chain_in_kernel,
						 .nsgroup = nsgroup_in_kernel,
						 .data = s->bpf});
	engine_set_have_runtime(s->engine, true);
	return 0;
}
#else
static int open_bpf(struct sampler *s)
{
	if (s->cfg.backend != BACKEND_BPF)
		return 0;
	g_warning("bpf backend: cpuacctfs was built without it "
		  "(configure --disable-bpf)");
	return -ENOTSUP;
}
#endif

unsigned int sampler_kept(struct sampler *s, struct kept_maps *maps, int *links,
			  unsigned int max_links)
{
#ifdef HAVE_BPF
	if (s->bpf)
		return bpfacct_kept(s->bpf, maps, links, max_links);
#endif
	(void)s, (void)maps, (void)links, (void)max_links;
	return 0;
}

static bool kernel_kept(struct sampler *s)
{
#ifdef HAVE_BPF
	return s->bpf && bpfacct_reused(s->bpf);
#else
	(void)s;
	return false;
#endif
}

/* What the last server left, if it can be used. */
static struct saved_state *load_state(struct sampler *s)
{
	g_autoptr(GBytes) bytes = NULL;
	int err;

	if (s->cfg.state_fd < 0)
		return NULL;
	bytes = stash_read(s->cfg.state_fd, &err);
	if (!bytes)
		return NULL;
	return state_parse(bytes, procfs_possible_cpus(), s->cfg.history_len);
}

/* After the scan found the tasks. */
static void apply_state(struct sampler *s, const struct saved_state *st)
{
	struct group_tree *tree = engine_tree(s->engine);

	if (!st || !state_apply_groups(st, s->engine, kernel_kept(s)))
		return;
	state_apply_members(st, s->engine, kernel_kept(s));
	g_message("state: %u groups back, counting on %s",
		  tree->by_id->len - group_free_id_count(tree),
		  kernel_kept(s) ? "from the kernel's counters"
				 : "from the tasks' clocks");
}

static void sampler_restore_from(struct sampler *s,
				 const struct saved_state *st)
{
	g_mutex_lock(&s->engine_lock);
	apply_state(s, st);
	publish(s);
	if (s->cfg.state_fd >= 0)
		save_now(s, sampler_now_ns());
	g_mutex_unlock(&s->engine_lock);
}

void sampler_restore(struct sampler *s)
{
	struct saved_state *st = load_state(s);

	sampler_restore_from(s, st);
	state_free(st);
}

bool sampler_can_bpf(void)
{
#ifdef HAVE_BPF
	return true;
#else
	return false;
#endif
}

int64_t sampler_lag_ns(struct sampler *s, int64_t now)
{
	g_autoptr(snapshot_t) snap = NULL;

	if (s->bpf)
		return 0;
	snap = sampler_snapshot(s);
	return now > snap->t_ns ? now - snap->t_ns : 0;
}

const char *sampler_backend_name(const struct sampler *s)
{
	if (s->bpf)
		return "bpf";
	return s->runtime ? "tracepoint" : "clock";
}

struct sampler *sampler_new(const struct sampler_config *cfg, int *err)
{
	struct sampler *s = g_new0(struct sampler, 1);
	struct saved_state *st;

	s->cfg = *cfg;
	s->timer_fd = s->stop_fd = s->sync_fd = -1;
	g_cond_init(&s->synced);
	g_mutex_init(&s->engine_lock);
	g_mutex_init(&s->snap_lock);
	s->pc = procconn_open(err);
	if (!s->pc) {
		g_warning("cannot open the proc connector: %s",
			  g_strerror(-*err));
		sampler_free(s);
		return NULL;
	}
	s->events = evqueue_new(pull_events, s->pc);
	if (!s->events) {
		*err = -errno;
		sampler_free(s);
		return NULL;
	}
	s->engine = engine_new(&engine_procfs_sources, procfs_possible_cpus(),
			       cfg->history_len, false);
	engine_set_drain(s->engine, drain_all, s);
	/* a reload's state is saved only once we are prepared, and with
	 * the maps counting on in the meantime */
	st = cfg->defer_restore ? NULL : load_state(s);
	if (!st && !cfg->defer_restore) /* memberships of unknown groups */
		s->cfg.kept = NULL;
	*err = open_bpf(s);
	if (*err) {
		state_free(st);
		sampler_free(s);
		return NULL;
	}
	open_taskstats(s);
	engine_scan(s->engine);
	if (!cfg->defer_restore)
		sampler_restore_from(s, st);
	else
		publish(s);
	state_free(st);
	return s;
}

/* The fixed fds, then one per runtime ring: those wake us only when a
 * ring is half full, long before it could overflow. */
enum { FD_EVENTS, FD_TIMER, FD_STOP, FD_WAKE, FD_SYNC, FD_EXITS, FD_RINGS };

/* Watching exits is a race with the parents: a sampler that waits behind
 * busy tasks for its turn loses it. Its work per exit is a clock read. */
#define EXITS_NICE (-10)

static void watch_exits(const struct sampler *s)
{
	if (exits_fd(s) >= 0 &&
	    setpriority(PRIO_PROCESS, (id_t)gettid(), EXITS_NICE) < 0)
		g_debug("cannot raise the sampler's priority: %s",
			g_strerror(errno));
}

static struct pollfd *poll_set(struct sampler *s, nfds_t *n)
{
	int rings = s->runtime ? perfsplit_nfds(s->runtime) : 0;
	struct pollfd *fds = g_new0(struct pollfd, FD_RINGS + rings);

	fds[FD_EVENTS].fd = procconn_fd(s->pc);
	fds[FD_TIMER].fd = s->timer_fd;
	fds[FD_STOP].fd = s->stop_fd;
	fds[FD_WAKE].fd = evqueue_wake_fd(s->events);
	fds[FD_SYNC].fd = s->sync_fd;
	fds[FD_EXITS].fd = exits_fd(s);
	for (int i = 0; i < rings; i++)
		fds[FD_RINGS + i].fd = perfsplit_fd(s->runtime, i);
	*n = FD_RINGS + rings;
	for (nfds_t i = 0; i < *n; i++)
		fds[i].events = POLLIN;
	return fds;
}

static bool any_ring_ready(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = FD_RINGS; i < n; i++)
		if (fds[i].revents)
			return true;
	return false;
}

/* With the in-kernel counters no event is needed at once (readers of
 * task lists take theirs from the socket). While passes come often, the
 * socket is left to them (they drain it: a fork storm of one period fits
 * the 16 MiB socket buffer many times over), so events cost no wakeup
 * of their own; with a longer period (stretched, or a long --interval)
 * it is watched, and after events are handled left alone for a batch,
 * so a fork storm costs a wakeup per batch instead of one per event
 * (each is a few microseconds of system calls), and the host's trickle
 * of events a few wakeups a second while stretched. */
#define EVENT_BATCH_MS 50
#define EVENT_STRETCHED_BATCH_MS 250
#define EVENT_PASS_MAX_MS 250

static bool events_to_passes(const struct sampler *s)
{
	return s->bpf && s->period_ms <= EVENT_PASS_MAX_MS;
}

static int events_batch_ms(const struct sampler *s)
{
	return pace_stretched(&s->pace) ? EVENT_STRETCHED_BATCH_MS
					: EVENT_BATCH_MS;
}

static void set_period(struct sampler *s, unsigned int ms)
{
	struct itimerspec its = {0};

	if (ms == s->period_ms)
		return;
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(s->timer_fd, 0, &its, NULL) < 0) {
		g_warning("cannot set the timer: %s", g_strerror(errno));
		return;
	}
	s->period_ms = ms;
}

/* Handle the events that are there; with in-kernel counters, mute the
 * socket (see above) if there were any, and end a stretch. */
static void take_events(struct sampler *s, struct pollfd *events)
{
	uint64_t before = s->ev_seq;

	bool muted;

	drain_events(s);
	if (s->bpf && s->ev_seq != before)
		set_period(s, pace_after_events(&s->pace, s->ev_seq - before));
	muted = s->bpf && (s->ev_seq != before || events_to_passes(s));
	events->events = muted ? 0 : POLLIN;
}

/* A pass of the timer, under the engine lock: only what changed (see
 * engine_work); then the period of the next ones (pace.h). */
static void timer_pass(struct sampler *s, struct pollfd *events)
{
	int64_t now = sampler_now_ns();
	struct engine_shown shown = {.cached_pages = s->on_publish != NULL,
				     .events_since =
					 s->ev_seq - s->snap->ev_seq,
				     .age_ns = now - s->snap->t_ns};
	enum engine_work work = engine_work(s->engine, &shown);

	if (work == ENGINE_WORK_ROOT)
		engine_pass_root(s->engine, now);
	if (work == ENGINE_WORK_ALL) {
		engine_pass(s->engine, now, false);
		publish(s);
	}
	set_period(s,
		   pace_after_pass(&s->pace, work, s->ev_seq - s->pass_ev_seq,
				   s->period_ms));
	s->pass_ev_seq = s->ev_seq;
	events->events = events_to_passes(s) ? 0 : POLLIN;
}

/* Removals between two trims while groups keep going. */
#define TRIM_AFTER_REMOVALS 4096

/* glibc keeps the memory of removed groups in its heaps, freed but
 * resident, until asked to give it back, and so does the tree's array
 * of kernel counts. Asked here, off the FUSE threads (and glibc off
 * the engine lock), once removals pause for a pass. */
static void trim_after_removals(struct sampler *s, uint64_t removals)
{
	bool burst = removals - s->removals_trimmed >= TRIM_AFTER_REMOVALS;

	if (removals == s->removals_trimmed ||
	    (removals != s->removals_seen && !burst)) {
		s->removals_seen = removals;
		return;
	}
	s->removals_seen = s->removals_trimmed = removals;
	g_mutex_lock(&s->engine_lock);
	group_tree_trim(engine_tree(s->engine));
	g_mutex_unlock(&s->engine_lock);
	malloc_trim(0);
}

/* poll's timeout for the nearer of two (-1: none). */
static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	return b < 0 ? a : MIN(a, b);
}

static gpointer sampler_main(gpointer data)
{
	struct sampler *s = data;
	nfds_t n;
	g_autofree struct pollfd *fds = poll_set(s, &n);
	uint64_t ticks;
	bool pass, events;
	int rc, timeout = -1;
	uint64_t removals;

	watch_exits(s);
	for (;;) {
		rc = poll(fds, n, min_timeout(timeout, save_timeout_ms(s)));
		if (rc < 0 && errno != EINTR)
			break;
		if (fds[FD_STOP].revents)
			break;
		if (fds[FD_SYNC].revents)
			serve_sync(s);
		pass = fds[FD_TIMER].revents &&
		       read(s->timer_fd, &ticks, sizeof(ticks)) > 0;
		events = fds[FD_EVENTS].revents || fds[FD_WAKE].revents ||
			 (rc == 0 && !fds[FD_EVENTS].events);
		g_mutex_lock(&s->engine_lock);
		if (pass || any_ring_ready(fds, n) || fds[FD_EXITS].revents)
			drain_all(s);
		else if (events)
			take_events(s, &fds[FD_EVENTS]);
		if (pass)
			timer_pass(s, &fds[FD_EVENTS]);
		maybe_save(s, pass);
		/* under the lock: commands change the period too */
		timeout = fds[FD_EVENTS].events || events_to_passes(s)
			      ? -1
			      : events_batch_ms(s);
		removals = engine_tree(s->engine)->removals;
		g_mutex_unlock(&s->engine_lock);
		if (pass)
			trim_after_removals(s, removals);
	}
	return NULL;
}

void sampler_set_interval(struct sampler *s, unsigned int interval_ms)
{
	s->cfg.interval_ms = interval_ms;
}

void sampler_open_perf(struct sampler *s)
{
	g_mutex_lock(&s->engine_lock);
	if (s->perf_opened) {
		g_mutex_unlock(&s->engine_lock);
		return;
	}
	s->perf_opened = true;
	open_perf(s);
	engine_set_have_samples(s->engine, s->perf != NULL);
	engine_set_have_runtime(s->engine, s->runtime || s->bpf);
	/* the tasks found before the records began: what their runtime is
	 * now, should records ever be lost */
	if (s->runtime)
		engine_runtime_lost(s->engine);
	g_mutex_unlock(&s->engine_lock);
}

int sampler_start(struct sampler *s)
{
	sampler_open_perf(s);
	g_message("counting with the %s backend", sampler_backend_name(s));
	engine_set_have_runtime(s->engine, s->runtime || s->bpf);
	/* the tasks found before the records began: what their runtime is
	 * now, should records ever be lost */
	s->timer_fd = open_timer(s->cfg.interval_ms);
	if (s->timer_fd < 0)
		return s->timer_fd;
	s->period_ms = s->cfg.interval_ms;
	pace_init(&s->pace, s->cfg.interval_ms);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0)
		return -errno;
	s->sync_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->sync_fd < 0)
		return -errno;
	s->release = release_new();
	s->thread = g_thread_new("sampler", sampler_main, s);
	return 0;
}

void sampler_free(struct sampler *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->thread) {
		if (write(s->stop_fd, &one, sizeof(one)) < 0)
			g_warning("cannot stop the sampler: %s",
				  g_strerror(errno));
		g_thread_join(s->thread);
	}
	release_free(s->release);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->sync_fd >= 0)
		close(s->sync_fd);
	g_cond_clear(&s->synced);
	snapshot_unref(s->snap);
	engine_free(s->engine);
	evqueue_free(s->events);
	if (s->perf)
		perfsplit_close(s->perf);
	if (s->runtime)
		perfsplit_close(s->runtime);
	taskstats_close(s->ts);
#ifdef HAVE_BPF
	bpfacct_close(s->bpf);
#endif
	if (s->pc)
		procconn_close(s->pc);
	g_mutex_clear(&s->engine_lock);
	g_mutex_clear(&s->snap_lock);
	g_free(s);
}
