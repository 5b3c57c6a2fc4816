/* test_engine.c - the engine against a scripted world.
 *
 * The engine's sources are replaced by a table of fake processes whose
 * clocks, zombie states and children times the tests move by hand, so
 * each test can stage exactly one race: exits before and after a pass,
 * children reaped before their exit event, lost events and pid reuse,
 * a thread moved without its process.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "state.h"

#include "unit.h"

#define MS 1000000ULL
#define TICK (10 * MS)
#define MAX_PROCS 32
#define MAX_THREADS 4

struct fake_proc {
	bool used;
	bool in_proc; /* /proc/PID exists (live or zombie) */
	bool zombie;
	pid_t tgid, ppid;
	uint64_t clock; /* process CPU clock */
	uint64_t cut;	/* reaped children's time, ns */
	uint64_t start_ticks;
	unsigned int flags;
	uid_t uid;
	uid_t suid; /* saved uid */
	int nthreads;
	pid_t tids[MAX_THREADS];
	uint64_t runtime[MAX_THREADS];
	uint64_t tick_user[MAX_THREADS]; /* taskstats' counts */
	uint64_t tick_sys[MAX_THREADS];
};

static struct fake_proc world[MAX_PROCS];
static struct engine *e;
static int64_t now_ns;

static struct fake_proc *fp(pid_t tgid)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (world[i].used && world[i].tgid == tgid)
			return &world[i];
	return NULL;
}

static struct fake_proc *spawn(pid_t tgid, pid_t ppid, uint64_t clock)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		struct fake_proc *p = &world[i];

		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = p->in_proc = true;
		p->tgid = tgid;
		p->ppid = ppid;
		p->clock = clock;
		p->start_ticks = 100 + tgid;
		p->nthreads = 1;
		p->tids[0] = tgid;
		return p;
	}
	ck_abort_msg("world full");
	return NULL;
}

static void vanish(pid_t tgid)
{
	struct fake_proc *p = fp(tgid);

	if (p)
		p->used = false;
}

static struct fake_proc *live(pid_t pid)
{
	struct fake_proc *p = fp(pid);

	return p && p->in_proc ? p : NULL;
}

static int f_clock(pid_t pid, uint64_t *ns)
{
	struct fake_proc *p = live(pid);

	if (!p)
		return -ESRCH;
	*ns = p->clock;
	return 0;
}

static int f_runtime(pid_t pid, pid_t tid, uint64_t *ns)
{
	struct fake_proc *p = live(pid);

	for (int i = 0; p && i < p->nthreads; i++)
		if (p->tids[i] == tid) {
			*ns = p->runtime[i];
			return 0;
		}
	return -ESRCH;
}

static int f_stat(pid_t pid, pid_t tid, struct proc_stat *st)
{
	struct fake_proc *p = live(pid);

	if (!p)
		return -ESRCH;
	memset(st, 0, sizeof(*st));
	st->pid = tid ? tid : pid;
	st->state = p->zombie ? 'Z' : 'S';
	st->ppid = p->ppid;
	st->flags = p->flags;
	st->cutime = p->cut / TICK; /* the kernel floors to ticks */
	st->start_time = p->start_ticks;
	st->processor = 0;
	return 0;
}

static int f_uids(pid_t pid, uid_t *ruid, uid_t *suid)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		struct fake_proc *p = &world[i];

		for (int t = 0; p->used && p->in_proc && t < p->nthreads; t++)
			if (p->tids[t] == pid) {
				*ruid = p->uid;
				*suid = p->suid;
				return 0;
			}
	}
	return -ESRCH;
}

static int f_tgid_of(pid_t tid, pid_t *tgid)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		struct fake_proc *p = &world[i];

		for (int t = 0; p->used && p->in_proc && t < p->nthreads; t++)
			if (p->tids[t] == tid) {
				*tgid = p->tgid;
				return 0;
			}
	}
	return -ESRCH;
}

static int f_scan(procfs_thread_fn fn, void *data)
{
	for (int i = 0; i < MAX_PROCS; i++)
		for (int t = 0;
		     world[i].used && world[i].in_proc && t < world[i].nthreads;
		     t++)
			fn(world[i].tgid, world[i].tids[t], data);
	return 0;
}

static int f_list_threads(pid_t pid, procfs_thread_fn fn, void *data)
{
	struct fake_proc *p = live(pid);

	for (int t = 0; p && t < p->nthreads; t++)
		fn(p->tgid, p->tids[t], data);
	return p ? 0 : -ESRCH;
}

static const struct engine_sources fake_sources = {
    .process_clock = f_clock,
    .thread_runtime = f_runtime,
    .read_stat = f_stat,
    .read_uids = f_uids,
    .tgid_of = f_tgid_of,
    .scan = f_scan,
    .list_threads = f_list_threads,
};

static const struct writer root_writer = {.pid = 1, .uid = 0};

static void setup(void)
{
	memset(world, 0, sizeof(world));
	now_ns = 1000;
	spawn(1, 0, 5000 * MS); /* init, with a past we must not charge */
	spawn(10, 1, 0);
	e = engine_new(&fake_sources, 2, 16, true);
	engine_scan(e);
}

static void teardown(void)
{
	engine_free(e);
}

static void pass(void)
{
	now_ns += 40 * MS;
	engine_pass(e, (int64_t)now_ns, true);
}

static void sample(pid_t tgid, pid_t tid, int cpu, bool user, uint64_t ns)
{
	struct perf_rec rec = {
	    .pid = tgid, .tid = tid, .cpu = cpu, .user = user, .period_ns = ns};

	engine_sample(e, &rec);
}

static void event(enum pc_kind kind, pid_t ppid, pid_t pid, pid_t tgid)
{
	struct pc_event ev = {.kind = kind,
			      .parent_pid = ppid,
			      .parent_tgid = ppid,
			      .pid = pid,
			      .tgid = tgid};

	/* a fork's time is its start time (/proc's, in ticks) */
	if (kind == PC_FORK && fp(tgid))
		ev.ts_ns = fp(tgid)->start_ticks * TICK;
	engine_event(e, &ev);
}

static struct group *mkgroup(const char *name)
{
	struct group *g = NULL;
	struct group_tree *tree = engine_tree(e);

	ck_assert_int_eq(group_mkdir(tree, group_root(tree), name, 0755, &g),
			 0);
	return g;
}

static uint64_t usage(const struct group *g)
{
	return group_sum(g, g->usage);
}

static struct group *root(void)
{
	return group_root(engine_tree(e));
}

START_TEST(test_scan_charges_nothing_of_the_past)
{
	pass();
	ck_assert_uint_eq(usage(root()), 0);
	fp(1)->clock += 100 * MS;
	sample(1, 1, 1, true, 1 * MS);
	pass();
	ck_assert_uint_eq(usage(root()), 100 * MS);
	ck_assert_uint_eq(root()->usage[1], 100 * MS);
	ck_assert_uint_eq(root()->user[1], 100 * MS);
	ck_assert_uint_eq(group_sum(root(), root()->sys), 0);
}
END_TEST

START_TEST(test_attach_then_charge_split_by_samples)
{
	struct group *g = mkgroup("g");

	fp(10)->clock = 30 * MS; /* before the move: stays in the root */
	ck_assert_int_eq(engine_attach(e, g->id, 10, true, &root_writer, 1), 0);
	fp(10)->clock += 60 * MS;
	sample(10, 10, 0, false, 1 * MS);
	sample(10, 10, 1, true, 1 * MS);
	sample(10, 10, 1, true, 1 * MS);
	pass();
	ck_assert_uint_eq(usage(g), 60 * MS);
	ck_assert_uint_eq(g->sys[0], 20 * MS);
	ck_assert_uint_eq(g->user[1], 40 * MS);
	ck_assert_uint_eq(usage(root()), 90 * MS);
	ck_assert_uint_eq(g->usage[0] + g->usage[1], usage(g));
}
END_TEST

START_TEST(test_fork_inherits_group)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	event(PC_FORK, 10, 11, 11);
	spawn(11, 10, 0)->clock = 30 * MS;
	pass();
	ck_assert_uint_eq(usage(g), 30 * MS);
	ck_assert_uint_eq(g->ntasks, 2);
}
END_TEST

START_TEST(test_exit_read_as_zombie)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	event(PC_FORK, 10, 11, 11);
	spawn(11, 10, 0)->clock = 30 * MS;
	pass();
	fp(11)->clock = 40 * MS;
	fp(11)->zombie = true;
	event(PC_EXIT, 0, 11, 11);
	ck_assert_uint_eq(g->ntasks, 1);
	/* the parent reaps it: its children time grows by the total */
	vanish(11);
	fp(10)->cut += 40 * MS;
	pass();
	pass();
	ck_assert_uint_eq(usage(g), 40 * MS);
}
END_TEST

START_TEST(test_exit_reaped_before_event)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	event(PC_FORK, 10, 12, 12);
	spawn(12, 10, 0)->clock = 10 * MS;
	pass();
	/* it ran 15 ms more and was reaped before we heard of its exit:
	 * the parent's children time reads 20 ms (rounded down to a tick),
	 * so 10 ms plus half a tick are left over for it */
	vanish(12);
	fp(10)->cut += 25 * MS;
	event(PC_EXIT, 0, 12, 12);
	pass();
	ck_assert_uint_eq(usage(g), 25 * MS);
	ck_assert_uint_eq(engine_stats(e)->unsettled_exits, 1);
}
END_TEST

START_TEST(test_samples_place_rest_within_tick)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	event(PC_FORK, 10, 12, 12);
	spawn(12, 10, 0)->clock = 10 * MS;
	pass();
	/* it ran 13 ms more, perf saw them, and it was reaped unread: the
	 * reading (20 ms) leaves 10..20 ms, the samples say 13 */
	for (int i = 0; i < 13; i++)
		sample(12, 12, 1, true, 1 * MS);
	vanish(12);
	fp(10)->cut += 23 * MS;
	event(PC_EXIT, 0, 12, 12);
	pass();
	ck_assert_uint_eq(usage(g), 23 * MS);
	ck_assert_uint_eq(g->user[1], 13 * MS);
}
END_TEST

START_TEST(test_tick_rounding_is_carried)
{
	struct group *g = mkgroup("g");
	const uint64_t ran[2] = {15 * MS, 20 * MS};

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	/* two children lost to an early reap; the parent's children time
	 * reads 10 ms, then 30 ms: the half tick charged for the first
	 * reading is taken back from the second */
	for (pid_t pid = 20; pid <= 21; pid++) {
		event(PC_FORK, 10, pid, pid);
		spawn(pid, 10, 0);
		pass();
		vanish(pid);
		fp(10)->cut += ran[pid - 20];
		event(PC_EXIT, 0, pid, pid);
		pass();
	}
	ck_assert_uint_eq(usage(g), 35 * MS);
}
END_TEST

START_TEST(test_orphan_estimated_from_samples)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	event(PC_FORK, 10, 13, 13);
	spawn(13, 10, 0);
	pass();
	/* its parent is gone, so nobody we track will reap it */
	vanish(10);
	event(PC_EXIT, 0, 10, 10);
	fp(13)->ppid = 1;
	sample(13, 13, 1, false, 1 * MS);
	sample(13, 13, 1, false, 1 * MS);
	vanish(13);
	event(PC_EXIT, 0, 13, 13);
	pass();
	ck_assert_uint_eq(usage(g), 2 * MS);
	ck_assert_uint_eq(g->sys[1], 2 * MS);
}
END_TEST

START_TEST(test_pid_reuse_after_lost_events)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	fp(10)->clock = 20 * MS;
	pass();
	ck_assert_uint_eq(usage(g), 20 * MS);
	/* 10 exits, and another process gets pid 10, all unseen */
	vanish(10);
	spawn(10, 1, 7000 * MS)->start_ticks = 999;
	event(PC_LOST, 0, 0, 0);
	pass();
	pass();
	ck_assert_uint_eq(usage(g), 20 * MS);
	ck_assert_uint_eq(usage(root()), 20 * MS);
	ck_assert_uint_eq(g->ntasks, 0);
}
END_TEST

START_TEST(test_clock_backwards_means_reuse)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	fp(10)->clock = 50 * MS;
	pass();
	vanish(10);
	spawn(10, 1, 5 * MS)->start_ticks = 999;
	pass(); /* sees the clock go back: rescans */
	fp(10)->clock += 5 * MS;
	pass();
	ck_assert_uint_eq(usage(g), 50 * MS);
}
END_TEST

/* Process 30 in g, its second thread 31 moved alone to h. */
/* Process tgid with threads tgid and tgid + 1, seen being born, in g. */
static struct fake_proc *two_threads(pid_t tgid, struct group *g)
{
	struct fake_proc *p = spawn(tgid, 1, 0);

	p->nthreads = 2;
	p->tids[1] = tgid + 1;
	event(PC_FORK, 1, tgid, tgid);
	event(PC_FORK, 1, tgid + 1, tgid);
	ck_assert_int_eq(engine_attach(e, g->id, tgid, true, &root_writer, 1),
			 0);
	return p;
}

static struct fake_proc *split_process(struct group *g, struct group *h)
{
	struct fake_proc *p = two_threads(30, g);

	ck_assert_int_eq(engine_attach(e, h->id, 31, false, &root_writer, 1),
			 0);
	return p;
}

START_TEST(test_thread_moved_alone)
{
	struct group *g = mkgroup("g");
	struct group *h = mkgroup("h");
	struct fake_proc *p = split_process(g, h);

	p->runtime[0] += 10 * MS;
	p->runtime[1] += 40 * MS;
	p->clock += 50 * MS;
	pass();
	ck_assert_uint_eq(usage(g), 10 * MS);
	ck_assert_uint_eq(usage(h), 40 * MS);
	ck_assert_uint_eq(g->ntasks, 1);
	ck_assert_uint_eq(h->ntasks, 1);
}
END_TEST

START_TEST(test_new_thread_joins_leader)
{
	struct group *g = mkgroup("g");
	struct fake_proc *p = fp(10);

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	p->nthreads = 2;
	p->tids[1] = 14;
	event(PC_FORK, 1, 14, 10);
	ck_assert_uint_eq(g->ntasks, 2);
	/* a thread exit leaves the process's time where it is */
	p->clock += 25 * MS;
	p->nthreads = 1;
	event(PC_EXIT, 0, 14, 10);
	pass();
	ck_assert_uint_eq(usage(g), 25 * MS);
	ck_assert_uint_eq(g->ntasks, 1);
}
END_TEST

START_TEST(test_exit_racing_pass)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	event(PC_FORK, 10, 15, 15);
	spawn(15, 10, 0)->clock = 10 * MS;
	pass();
	/* gone from under the pass before its event is read */
	fp(15)->clock = 35 * MS;
	fp(15)->zombie = true;
	fp(15)->in_proc = false;
	pass();
	ck_assert_uint_eq(usage(g), 10 * MS);
	fp(10)->cut += 35 * MS;
	vanish(15);
	event(PC_EXIT, 0, 15, 15);
	pass();
	ck_assert_uint_eq(usage(g), 35 * MS);
}
END_TEST

START_TEST(test_attach_errors)
{
	struct group *g = mkgroup("g");
	struct writer user = {.pid = 10, .uid = 1000};

	spawn(2, 0, 0)->flags = PROCFS_PF_KTHREAD;
	spawn(40, 2, 0)->flags = PROCFS_PF_KTHREAD | PROCFS_PF_NO_SETAFFINITY;
	spawn(41, 2, 0)->flags = PROCFS_PF_KTHREAD;
	spawn(11, 1, 0);
	engine_scan(e);
	ck_assert_int_eq(engine_attach(e, g->id, 2, false, &root_writer, 1),
			 -EINVAL);
	ck_assert_int_eq(engine_attach(e, g->id, 40, false, &root_writer, 1),
			 -EINVAL);
	ck_assert_int_eq(engine_attach(e, g->id, 41, false, &root_writer, 1),
			 0);
	ck_assert_int_eq(engine_attach(e, g->id, 4242, false, &root_writer, 1),
			 -ESRCH);
	ck_assert_int_eq(engine_attach(e, g->id, 10, false, &user, 1), -EACCES);
	fp(10)->uid = 1000;
	ck_assert_int_eq(engine_attach(e, g->id, 10, false, &user, 1), 0);
	/* cgroup v1: the writer's euid against the real or saved uid */
	fp(11)->uid = 2000;
	fp(11)->suid = 1000;
	ck_assert_int_eq(engine_attach(e, g->id, 11, false, &user, 1), 0);
	fp(11)->suid = 2000;
	ck_assert_int_eq(engine_attach(e, g->id, 11, false, &user, 1), -EACCES);
	ck_assert_int_eq(engine_attach(e, 99, 10, false, &root_writer, 1),
			 -ENODEV);
}
END_TEST

/* Zombies are never members: not adopted by a scan, a write of their id
 * succeeds and moves nothing (as the kernel's), and one whose exit event
 * was lost leaves its group at the next scan. */
START_TEST(test_zombies_never_members)
{
	struct group *g = mkgroup("g");

	spawn(60, 1, 0)->zombie = true;
	spawn(61, 1, 0);
	engine_scan(e);
	ck_assert_ptr_null(tasks_find(engine_tasks(e), 60));
	ck_assert_int_eq(engine_attach(e, g->id, 60, false, &root_writer, 1),
			 0);
	ck_assert_int_eq(engine_attach(e, g->id, 60, true, &root_writer, 1),
			 0);
	ck_assert_ptr_null(tasks_find(engine_tasks(e), 60));
	ck_assert_int_eq(engine_attach(e, g->id, 61, true, &root_writer, 1),
			 0);
	fp(61)->zombie = true; /* exited; the event is lost */
	ck_assert_int_eq(engine_attach(e, g->id, 61, false, &root_writer, 1),
			 0);
	engine_scan(e);
	ck_assert_ptr_null(tasks_find(engine_tasks(e), 61));
}
END_TEST

/* A reset runs on a FUSE thread: it charges everything up to now but
 * leaves the rescan that lost events asked for to the sampler's pass. */
START_TEST(test_reset_never_scans)
{
	struct group *g = mkgroup("g");
	uint64_t rescans = engine_stats(e)->rescans;

	event(PC_LOST, 0, 0, 0);
	ck_assert_int_eq(engine_reset(e, g->id, (int64_t)now_ns), 0);
	ck_assert_uint_eq(engine_stats(e)->rescans, rescans);
	pass();
	ck_assert_uint_eq(engine_stats(e)->rescans, rescans + 1);
}
END_TEST

START_TEST(test_attach_zero_moves_writer)
{
	struct group *g = mkgroup("g");
	struct writer w = {.pid = 10, .uid = 0};

	ck_assert_int_eq(engine_attach(e, g->id, 0, false, &w, 1), 0);
	ck_assert_ptr_eq(tasks_find(engine_tasks(e), 10)->group, g);
}
END_TEST

/* A process born while we were not listening is taken on its own when
 * written; the full rescan waits for the sampler's pass (commands run on
 * FUSE threads, and libproc2 leaks a buffer per thread that scans). */
START_TEST(test_attach_finds_missed_process)
{
	struct group *g = mkgroup("g");
	struct fake_proc *p = spawn(50, 1, 0);
	uint64_t rescans = engine_stats(e)->rescans;

	p->nthreads = 2;
	p->tids[1] = 51;
	ck_assert_int_eq(engine_attach(e, g->id, 51, false, &root_writer, 1),
			 0);
	ck_assert_uint_eq(g->ntasks, 1);
	ck_assert_ptr_nonnull(tasks_find(engine_tasks(e), 50));
	ck_assert_uint_eq(engine_stats(e)->rescans, rescans);
	pass();
	ck_assert_uint_eq(engine_stats(e)->rescans, rescans + 1);
}
END_TEST

START_TEST(test_reset_keeps_parent)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	fp(10)->clock += 40 * MS;
	pass();
	ck_assert_int_eq(engine_reset(e, g->id, now_ns + 1), 0);
	ck_assert_uint_eq(usage(g), 0);
	ck_assert_uint_eq(usage(root()), 40 * MS);
	ck_assert_int_eq(engine_reset(e, 0, now_ns + 2), 0);
	ck_assert_uint_eq(usage(root()), 40 * MS);
}
END_TEST

START_TEST(test_samples_of_exited_thread_still_count)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	fp(10)->clock = 30 * MS;
	fp(10)->zombie = true;
	event(PC_EXIT, 0, 10, 10);
	/* samples drained after the exit event */
	sample(10, 10, 1, true, 1 * MS);
	pass();
	ck_assert_uint_eq(usage(g), 30 * MS);
	ck_assert_uint_eq(g->user[1], 30 * MS);
}
END_TEST

START_TEST(test_parent_equals_children)
{
	struct group *p = mkgroup("p");
	struct group *c1, *c2;
	struct group_tree *tree = engine_tree(e);

	group_mkdir(tree, p, "c1", 0755, &c1);
	group_mkdir(tree, p, "c2", 0755, &c2);
	spawn(60, 1, 0);
	spawn(61, 1, 0);
	engine_scan(e);
	engine_attach(e, c1->id, 60, true, &root_writer, 1);
	engine_attach(e, c2->id, 61, true, &root_writer, 1);
	for (int i = 0; i < 10; i++) {
		fp(60)->clock += 7 * MS + i;
		fp(61)->clock += 3 * MS + 2 * i;
		sample(60, 60, i % 2, i % 3, 1 * MS);
		sample(61, 61, (i + 1) % 2, i % 2, 1 * MS);
		pass();
	}
	for (int cpu = 0; cpu < 2; cpu++)
		ck_assert_uint_eq(p->usage[cpu],
				  c1->usage[cpu] + c2->usage[cpu]);
	ck_assert_uint_eq(usage(c1), 70 * MS + 45);
	ck_assert_uint_eq(usage(c2), 30 * MS + 90);
}
END_TEST

START_TEST(test_thread_id_reused_after_lost_exit)
{
	struct group *g = mkgroup("g");
	struct fake_proc *a = two_threads(20, g);

	a->clock = 10 * MS;
	pass();
	/* the leader exits; the last thread's exit event is lost, and a new
	 * process gets its id: the old process is left with no threads */
	a->tids[0] = 21;
	a->nthreads = 1;
	event(PC_EXIT, 0, 20, 20);
	vanish(20);
	event(PC_FORK, 1, 21, 21);
	spawn(21, 1, 5 * MS);
	pass();
	event(PC_LOST, 0, 0, 0);
	pass();
	pass();
	ck_assert_uint_eq(usage(g), 10 * MS);
	ck_assert_uint_eq(g->ntasks, 0);
	ck_assert_ptr_eq(tasks_find(engine_tasks(e), 21)->group, root());
}
END_TEST

START_TEST(test_idle_process_read_later)
{
	struct group *g = mkgroup("g");
	uint64_t reads;

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	reads = engine_stats(e)->clock_reads;
	fp(10)->clock += 3 * MS; /* too short for perf to have seen it */
	now_ns += 40 * MS;
	engine_pass(e, (int64_t)now_ns, false);
	ck_assert_uint_eq(usage(g), 0);
	ck_assert_uint_eq(engine_stats(e)->clock_reads, reads);
	for (int i = 0; i < 30; i++) {
		now_ns += 40 * MS;
		engine_pass(e, (int64_t)now_ns, false);
	}
	ck_assert_uint_eq(usage(g), 3 * MS);
	/* a sampled process is read in the very next pass */
	fp(10)->clock += 5 * MS;
	sample(10, 10, 0, true, 1 * MS);
	now_ns += 40 * MS;
	engine_pass(e, (int64_t)now_ns, false);
	ck_assert_uint_eq(usage(g), 8 * MS);
}
END_TEST

/* ---- runtime records (sched_stat_runtime) ---- */

static void setup_runtime(void)
{
	setup();
	engine_set_have_runtime(e, true);
}

static void runtime(pid_t tid, int cpu, uint64_t ns, bool remote)
{
	struct perf_rec rec = {.pid = remote ? 0 : tid,
			       .tid = tid,
			       .cpu = cpu,
			       .remote = remote,
			       .period_ns = ns};

	engine_runtime(e, &rec);
}

/* Records say how much and where; samples only the mode; the process
 * clock is never read (it says something else here on purpose). */
START_TEST(test_runtime_charges_exactly)
{
	struct group *g = mkgroup("g");

	ck_assert_int_eq(engine_attach(e, g->id, 10, true, &root_writer, 1), 0);
	fp(10)->clock += 999 * MS;
	sample(10, 10, 1, true, 1 * MS);
	sample(10, 10, 1, false, 1 * MS);
	runtime(10, 1, 30 * MS, false);
	runtime(10, 0, 7 * MS, false); /* not sampled on 0: mode as on 1 */
	pass();
	ck_assert_uint_eq(usage(g), 37 * MS);
	ck_assert_uint_eq(g->usage[1], 30 * MS);
	ck_assert_uint_eq(g->user[1], 15 * MS);
	ck_assert_uint_eq(g->usage[0], 7 * MS);
	ck_assert_uint_eq(usage(root()), 37 * MS);
}
END_TEST

/* A record made on another CPU (a wakeup updating a running task) is
 * charged where the task was last seen running. */
START_TEST(test_runtime_remote_goes_to_tasks_cpu)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	runtime(10, 1, 2 * MS, false);
	runtime(10, 0, 3 * MS, true);
	pass();
	ck_assert_uint_eq(g->usage[1], 5 * MS);
	ck_assert_uint_eq(g->usage[0], 0);
}
END_TEST

/* The last moments of a task come after its exit event, even a pass
 * later; they belong to its group, in system mode. */
START_TEST(test_runtime_after_exit)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	event(PC_FORK, 10, 11, 11);
	spawn(11, 10, 0);
	sample(11, 11, 0, true, 1 * MS);
	runtime(11, 0, 4 * MS, false);
	event(PC_EXIT, 0, 11, 11);
	vanish(11);
	runtime(11, 0, 1 * MS, false);
	pass();
	ck_assert_uint_eq(usage(g), 5 * MS);
	ck_assert_uint_eq(g->user[0], 5 * MS);
	runtime(11, 0, 2 * MS, false);
	/* a wakeup on CPU 1 updates it, still running on CPU 0 */
	runtime(11, 1, 1 * MS, true);
	pass();
	ck_assert_uint_eq(usage(g), 8 * MS);
	ck_assert_uint_eq(g->sys[0], 3 * MS);
	ck_assert_uint_eq(g->usage[1], 0);
	/* two passes later nobody knows it: the root keeps it */
	runtime(11, 1, 1 * MS, false);
	engine_runtime_retry(e);
	pass();
	ck_assert_uint_eq(usage(g), 8 * MS);
	ck_assert_uint_eq(usage(root()), 9 * MS);
	ck_assert_uint_eq(engine_stats(e)->unmatched_runtime_ns, 1 * MS);
}
END_TEST

/* A record can come before the fork event of its task: it waits for the
 * retry, after the events are in. */
START_TEST(test_runtime_before_fork_event)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	spawn(12, 10, 0);
	runtime(12, 1, 6 * MS, false);
	event(PC_FORK, 10, 12, 12);
	engine_runtime_retry(e);
	pass();
	ck_assert_uint_eq(usage(g), 6 * MS);
	ck_assert_uint_eq(engine_stats(e)->unmatched_runtime_ns, 0);
}
END_TEST

/* Records were lost: each thread's runtime is read, and what no record
 * charged is charged to its group. A task older than the daemon is only
 * given its baseline by the first reading. */
START_TEST(test_lost_records_read_back)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	fp(10)->runtime[0] = 100 * MS; /* ran before we looked */
	engine_runtime_lost(e);
	pass();
	ck_assert_uint_eq(usage(g), 0);
	runtime(10, 1, 5 * MS, false);
	fp(10)->runtime[0] += 5 * MS + 20 * MS; /* 20 ms of records lost */
	engine_runtime_lost(e);
	pass();
	ck_assert_uint_eq(usage(g), 25 * MS);
	ck_assert_uint_eq(engine_stats(e)->recovered_ns, 20 * MS);
	/* nothing is read again without a new loss */
	fp(10)->runtime[0] += 9 * MS;
	pass();
	ck_assert_uint_eq(usage(g), 25 * MS);
}
END_TEST

/* A record made before a reading is in it already; one made after is
 * not. */
START_TEST(test_records_before_reading_skipped)
{
	struct group *g = mkgroup("g");
	struct perf_rec rec = {.pid = 10, .tid = 10, .cpu = 0};

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	engine_runtime_lost(e);
	pass();
	fp(10)->runtime[0] += 3 * MS;
	engine_runtime_lost(e);
	pass();
	ck_assert_uint_eq(usage(g), 3 * MS);
	rec.time_ns = 1; /* made before that reading */
	rec.period_ns = 3 * MS;
	engine_runtime(e, &rec);
	rec.time_ns = UINT64_MAX / 2; /* after it */
	rec.period_ns = 1 * MS;
	engine_runtime(e, &rec);
	pass();
	ck_assert_uint_eq(usage(g), 4 * MS);
}
END_TEST

/* A task born while we watch ran nothing before its fork event, and one
 * that exits while records are being lost is read on its way out. */
START_TEST(test_lost_records_of_new_and_exiting_tasks)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	spawn(11, 10, 0);
	event(PC_FORK, 10, 11, 11);
	spawn(12, 10, 0);
	event(PC_FORK, 10, 12, 12);
	fp(11)->runtime[0] = 7 * MS;
	fp(12)->runtime[0] = 2 * MS;
	engine_runtime_lost(e);
	event(PC_EXIT, 0, 12, 12);
	vanish(12);
	pass();
	ck_assert_uint_eq(usage(g), 9 * MS);
}
END_TEST

/* The in-kernel counters' membership, scripted: who moved where, and
 * where a new thread was put. */
static unsigned int kgroup[64];
static int kmove(void *data, pid_t tid, unsigned int gid)
{
	kgroup[tid] = gid;
	return 0;
}
static int kgroup_of(void *data, pid_t tid)
{
	return (int)kgroup[tid];
}

/* Every move reaches the kernel's membership; a new thread of a process
 * split across groups starts where the kernel put it (its creator's
 * group), which the fork event does not say. */
START_TEST(test_kernel_membership)
{
	struct group *g = mkgroup("g");
	struct group *h = mkgroup("h");
	struct fake_proc *p;

	memset(kgroup, 0, sizeof(kgroup));
	engine_set_kmembers(
	    e, &(struct engine_kmembers){.move = kmove, .group_of = kgroup_of});
	p = split_process(g, h);
	ck_assert_uint_eq(kgroup[30], g->id);
	ck_assert_uint_eq(kgroup[31], h->id);
	/* thread 31, in h, creates 32 */
	p->tids[p->nthreads++] = 32;
	kgroup[32] = h->id;
	event(PC_FORK, 1, 32, 30);
	ck_assert_uint_eq(h->ntasks, 2);
	ck_assert_uint_eq(g->ntasks, 1);
}
END_TEST

/* Threads of one process in two groups: each record goes to its own
 * thread's group, no schedstat reading needed. */
START_TEST(test_runtime_threads_in_two_groups)
{
	struct group *g = mkgroup("g");
	struct group *h = mkgroup("h");
	struct fake_proc *p = split_process(g, h);

	runtime(30, 0, 10 * MS, false);
	runtime(31, 1, 40 * MS, false);
	pass();
	ck_assert_uint_eq(usage(g), 10 * MS);
	ck_assert_uint_eq(usage(h), 40 * MS);
	/* the thread exits: the rest stays where it was */
	p->nthreads = 1;
	event(PC_EXIT, 0, 31, 30);
	runtime(31, 1, 1 * MS, false);
	pass();
	ck_assert_uint_eq(usage(h), 41 * MS);
}
END_TEST

/* Thread 31 calls exec: the leader's exit event comes first, then the
 * exec, after which the kernel calls the thread 30. Its time stays in
 * its group, and its exit empties the group. */
START_TEST(test_exec_by_thread)
{
	struct group *g = mkgroup("g");
	struct fake_proc *p = two_threads(30, g);

	event(PC_EXIT, 0, 30, 30);
	event(PC_EXEC, 0, 30, 30);
	p->nthreads = 1;
	p->tids[0] = 30;
	ck_assert_ptr_null(tasks_find(engine_tasks(e), 31));
	ck_assert_ptr_eq(tasks_find(engine_tasks(e), 30)->group, g);
	ck_assert_uint_eq(g->ntasks, 1);
	runtime(30, 0, 5 * MS, false);
	pass();
	ck_assert_uint_eq(usage(g), 5 * MS);
	event(PC_EXIT, 0, 30, 30);
	ck_assert_uint_eq(g->ntasks, 0);
}
END_TEST

/* ---- tick counts (taskstats) ---- */

static int f_ticks(void *data, pid_t tid, struct ts_rec *out)
{
	(void)data;
	for (int i = 0; i < MAX_PROCS; i++) {
		struct fake_proc *p = &world[i];

		for (int j = 0; p->used && p->in_proc && j < p->nthreads; j++)
			if (p->tids[j] == tid) {
				*out =
				    (struct ts_rec){.tid = tid,
						    .user_ns = p->tick_user[j],
						    .sys_ns = p->tick_sys[j],
						    .run_ns = p->runtime[j]};
				return 0;
			}
	}
	return -ESRCH;
}

static void setup_ticks(void)
{
	setup_runtime();
	engine_set_ticks(e, f_ticks, NULL);
}

static void fork_at(pid_t ppid, pid_t pid, uint64_t ts_ns)
{
	struct pc_event ev = {.kind = PC_FORK,
			      .parent_pid = ppid,
			      .parent_tgid = ppid,
			      .pid = pid,
			      .tgid = pid,
			      .ts_ns = ts_ns};

	spawn(pid, ppid, 0);
	engine_event(e, &ev);
}

static void runtime_at(pid_t tid, uint64_t ns, uint64_t end_ns)
{
	struct perf_rec rec = {
	    .pid = tid, .tid = tid, .period_ns = ns, .time_ns = end_ns};

	engine_runtime(e, &rec);
}

static void exit_record(pid_t tid, uint64_t user, uint64_t sys, uint64_t age)
{
	struct ts_rec rec = {
	    .tid = tid, .user_ns = user, .sys_ns = sys, .age_ns = age};

	engine_task_ticks(e, &rec);
}

/* A live task's counts are asked for in the passes it ran, and each
 * gain goes to the group it is in then; one that did not run is not
 * asked. */
START_TEST(test_ticks_read_when_task_ran)
{
	struct group *g = mkgroup("g");
	uint64_t reads;

	fp(10)->tick_user[0] = 400 * MS; /* before us: not ours */
	engine_attach(e, g->id, 10, true, &root_writer, 1);
	fp(10)->tick_user[0] += 8 * MS;
	fp(10)->tick_sys[0] += 4 * MS;
	runtime(10, 0, 12 * MS, false);
	pass();
	ck_assert_uint_eq(group_sum(g, g->user), 8 * MS);
	ck_assert_uint_eq(group_sum(g, g->sys), 4 * MS);
	reads = engine_stats(e)->tick_reads;
	fp(10)->tick_user[0] += 4 * MS;
	pass();
	ck_assert_uint_eq(engine_stats(e)->tick_reads, reads);
	ck_assert_uint_eq(group_sum(g, g->user), 8 * MS);
	ck_assert(engine_tree(e)->modes_from_ticks);
}
END_TEST

static void quick_pass(void)
{
	now_ns += 40 * MS;
	engine_pass(e, (int64_t)now_ns, false);
}

/* A task that ran less than a tick's worth, or is in the root, waits a
 * pass to be read; one that ran more is read in the pass it ran. */
START_TEST(test_light_tasks_read_a_pass_later)
{
	struct group *g = mkgroup("g");
	uint64_t reads;

	spawn(20, 1, 0);
	event(PC_FORK, 1, 20, 20);
	engine_attach(e, g->id, 20, true, &root_writer, 1);
	reads = engine_stats(e)->tick_reads;
	runtime(10, 0, 5 * MS, false); /* in the root */
	runtime(20, 0, 100000, false); /* 0.1 ms */
	quick_pass();
	ck_assert_uint_eq(engine_stats(e)->tick_reads, reads);
	quick_pass();
	ck_assert_uint_eq(engine_stats(e)->tick_reads, reads + 2);
	runtime(20, 0, 1 * MS, false);
	quick_pass();
	ck_assert_uint_eq(engine_stats(e)->tick_reads, reads + 3);
	pass();
	ck_assert_uint_eq(engine_stats(e)->tick_reads, reads + 3);
}
END_TEST

/* A thread that ran and then called exec goes on being read under the
 * process's id. */
START_TEST(test_ticks_read_after_exec_by_thread)
{
	struct group *g = mkgroup("g");
	struct fake_proc *p = two_threads(30, g);
	uint64_t reads;

	runtime(31, 0, 5 * MS, false);
	event(PC_EXIT, 0, 30, 30);
	event(PC_EXEC, 0, 30, 30);
	p->nthreads = 1;
	p->tick_user[0] = 8 * MS;
	reads = engine_stats(e)->tick_reads;
	pass();
	ck_assert_uint_eq(engine_stats(e)->tick_reads, reads + 1);
	ck_assert_uint_eq(group_sum(g, g->user), 8 * MS);
}
END_TEST

/* A move reads the task first: ticks so far stay in the old group. */
START_TEST(test_ticks_stay_with_old_group_on_move)
{
	struct group *g = mkgroup("g");
	struct group *h = mkgroup("h");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	fp(10)->tick_user[0] += 12 * MS;
	engine_attach(e, h->id, 10, true, &root_writer, 1);
	fp(10)->tick_sys[0] += 4 * MS;
	runtime(10, 0, 16 * MS, false);
	pass();
	ck_assert_uint_eq(group_sum(g, g->user), 12 * MS);
	ck_assert_uint_eq(group_sum(g, g->sys), 0);
	ck_assert_uint_eq(group_sum(h, h->sys), 4 * MS);
	ck_assert_uint_eq(group_sum(h, h->user), 0);
}
END_TEST

/* A child's exit record, then its last moments: the part of them after
 * the record is charged as system time once the child is gone. */
START_TEST(test_exit_record_then_tail)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	fork_at(10, 11, 100 * MS);
	runtime_at(11, 5 * MS, 105 * MS);
	exit_record(11, 4 * MS, 0, 6 * MS);
	runtime_at(11, 3 * MS, 108 * MS);
	event(PC_EXIT, 0, 11, 11);
	vanish(11);
	pass();
	runtime_at(11, 1 * MS, 109 * MS); /* its final switch, a pass late */
	pass();
	pass();
	ck_assert_uint_eq(group_sum(g, g->user), 4 * MS);
	ck_assert_uint_eq(group_sum(g, g->sys), 3 * MS);
	ck_assert_uint_eq(usage(g), 9 * MS);
}
END_TEST

/* Its exit event came first and its pid is someone else's already:
 * the record is the exited task's (it was made before that exit). */
START_TEST(test_exit_record_after_pid_reuse)
{
	struct group *g = mkgroup("g");
	struct group *h = mkgroup("h");

	spawn(20, 1, 0);
	event(PC_FORK, 1, 20, 20);
	engine_attach(e, g->id, 10, true, &root_writer, 1);
	engine_attach(e, h->id, 20, true, &root_writer, 1);
	fork_at(10, 11, 100 * MS);
	event(PC_EXIT, 0, 11, 11);
	vanish(11);
	fork_at(20, 11, 200 * MS);
	exit_record(11, 8 * MS, 4 * MS, 1 * MS);
	pass();
	ck_assert_uint_eq(group_sum(g, g->user), 8 * MS);
	ck_assert_uint_eq(group_sum(g, g->sys), 4 * MS);
	ck_assert_uint_eq(group_sum(h, h->user) + group_sum(h, h->sys), 0);
	/* the new task's own record goes to it */
	exit_record(11, 4 * MS, 0, 1 * MS);
	pass();
	ck_assert_uint_eq(group_sum(h, h->user), 4 * MS);
}
END_TEST

/* A record of a task whose fork event is not in yet waits for the
 * retry; one of a task never known goes to the root. */
START_TEST(test_exit_record_before_fork_event)
{
	struct group *g = mkgroup("g");

	engine_attach(e, g->id, 10, true, &root_writer, 1);
	exit_record(12, 8 * MS, 0, 1 * MS);
	exit_record(99, 0, 4 * MS, 1 * MS);
	fork_at(10, 12, 100 * MS);
	engine_task_ticks_retry(e);
	pass();
	ck_assert_uint_eq(group_sum(g, g->user), 8 * MS);
	ck_assert_uint_eq(group_sum(root(), root()->sys), 4 * MS);
	ck_assert_uint_eq(group_sum(root(), root()->user), 8 * MS);
}
END_TEST

/* ---- checkpoints (state.h) ---- */

/* A new engine on the same world, from bytes, as a restarted server. */
static void restart_from(GByteArray *bytes, bool expect_ok)
{
	g_autoptr(GBytes) b = g_bytes_new(bytes->data, bytes->len);
	struct saved_state *st;

	engine_free(e);
	e = engine_new(&fake_sources, 2, 16, true);
	engine_scan(e);
	st = state_parse(b, 2, 16);
	ck_assert(expect_ok == (st != NULL));
	if (st) {
		ck_assert(state_apply_groups(st, e, false));
		state_apply_members(st, e, false);
	}
	state_free(st);
}

static struct group *by_path(const char *a, const char *b)
{
	struct group *g = group_child(root(), a);

	return g && b ? group_child(g, b) : g;
}

START_TEST(test_state_round_trip)
{
	struct group *a = mkgroup("a"), *b = NULL;
	struct group_tree *tree = engine_tree(e);
	g_autoptr(GByteArray) bytes = NULL;
	unsigned int a_id = a->id, b_id;

	ck_assert_int_eq(group_mkdir(tree, a, "b", 0700, &b), 0);
	b_id = b->id;
	b->uid = 1000;
	b->files = g_new0(struct file_attr, GROUP_FILES);
	b->files[3] = (struct file_attr){1000, 100, 0600};
	a->notify_on_release = true;
	g_free(tree->release_agent);
	tree->release_agent = g_strdup("/bin/agent");
	spawn(20, 10, 0);
	event(PC_FORK, 10, 20, 20);
	ck_assert_int_eq(engine_attach(e, b->id, 20, true, &root_writer, 0),
			 0);
	fp(20)->clock += 50 * MS;
	pass();
	bytes = state_save(e);
	fp(20)->clock += 30 * MS; /* ran while no server was there */
	restart_from(bytes, true);
	a = by_path("a", NULL);
	b = by_path("a", "b");
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(a->id, a_id);
	ck_assert_uint_eq(b->id, b_id);
	ck_assert(a->notify_on_release);
	ck_assert_uint_eq(b->mode, 0700);
	ck_assert_uint_eq(b->uid, 1000);
	ck_assert_ptr_nonnull(b->files);
	ck_assert_uint_eq(b->files[3].gid, 100);
	ck_assert_uint_eq(b->files[3].mode, 0600);
	ck_assert_ptr_null(a->files);
	ck_assert_str_eq(engine_tree(e)->release_agent, "/bin/agent");
	ck_assert_uint_eq(usage(b), 50 * MS);
	ck_assert_ptr_eq(tasks_find(engine_tasks(e), 20)->group, b);
	pass();
	ck_assert_uint_eq(usage(b), 80 * MS);
	ck_assert_uint_eq(usage(a), 80 * MS);
}
END_TEST

/* Process 20 (a child of 10) in group g, and the checkpoint of that. */
static GByteArray *saved_with_member(struct group *g)
{
	spawn(20, 10, 0);
	event(PC_FORK, 10, 20, 20);
	ck_assert_int_eq(engine_attach(e, g->id, 20, true, &root_writer, 0),
			 0);
	return state_save(e);
}

START_TEST(test_state_newcomer_follows_parent)
{
	g_autoptr(GByteArray) bytes = saved_with_member(mkgroup("a"));

	/* forked after the checkpoint, before the next server */
	spawn(30, 20, 0)->start_ticks = 1ULL << 40;
	restart_from(bytes, true);
	ck_assert_ptr_eq(tasks_find(engine_tasks(e), 30)->group,
			 by_path("a", NULL));
}
END_TEST

START_TEST(test_state_new_thread_joins_leader)
{
	g_autoptr(GByteArray) bytes = saved_with_member(mkgroup("a"));
	struct fake_proc *p = fp(20);
	struct group *a;

	p->tids[p->nthreads++] = 21; /* started while no server ran */
	p->clock += 20 * MS;
	restart_from(bytes, true);
	a = by_path("a", NULL);
	ck_assert_ptr_eq(tasks_find(engine_tasks(e), 21)->group, a);
	pass();
	ck_assert_uint_eq(usage(a), 20 * MS);
}
END_TEST

START_TEST(test_state_reused_pid_stays_out)
{
	g_autoptr(GByteArray) bytes = saved_with_member(mkgroup("a"));

	vanish(20);
	spawn(20, 1, 0)->start_ticks = 999; /* another process, same pid */
	restart_from(bytes, true);
	ck_assert_ptr_eq(tasks_find(engine_tasks(e), 20)->group, root());
}
END_TEST

START_TEST(test_state_refuses_damage)
{
	g_autoptr(GByteArray) bytes = NULL;
	g_autoptr(GByteArray) copy = g_byte_array_new();
	GRand *rand = g_rand_new_with_seed(11);

	mkgroup("a");
	bytes = state_save(e);
	/* every truncation is refused, none crashes */
	for (guint len = 0; len < bytes->len; len++) {
		g_autoptr(GBytes) b = g_bytes_new(bytes->data, len);

		ck_assert_ptr_null(state_parse(b, 2, 16));
	}
	/* another CPU count, another version */
	{
		g_autoptr(GBytes) b = g_bytes_new(bytes->data, bytes->len);

		ck_assert_ptr_null(state_parse(b, 4, 16));
	}
	g_byte_array_append(copy, bytes->data, bytes->len);
	copy->data[8]++; /* the version */
	restart_from(copy, false);
	ck_assert_ptr_null(by_path("a", NULL));
	/* random damage: refused or not, never a crash */
	for (int i = 0; i < 2000; i++) {
		g_autoptr(GBytes) b = NULL;

		g_byte_array_set_size(copy, 0);
		g_byte_array_append(copy, bytes->data, bytes->len);
		copy->data[g_rand_int_range(rand, 0, copy->len)] =
		    g_rand_int(rand);
		b = g_bytes_new(copy->data, copy->len);
		state_free(state_parse(b, 2, 16));
	}
	g_rand_free(rand);
}
END_TEST

/* ---- the timer's work under in-kernel counters (engine_work) ---- */

static struct kslot kslots[8 * 2]; /* what the program would write */

static enum engine_work work_now(void)
{
	static const struct engine_shown fresh = {0};

	return engine_work(e, &fresh);
}

START_TEST(test_work_only_what_changed)
{
	struct group_tree *tree = engine_tree(e);
	struct hist_point last;
	struct group *g;

	/* the fallbacks measure tasks in every pass */
	ck_assert_int_eq(work_now(), ENGINE_WORK_ALL);
	memset(kslots, 0, sizeof(kslots));
	group_tree_set_kslots(tree, kslots, 8);
	pass();
	ck_assert_int_eq(work_now(), ENGINE_WORK_NONE);
	/* the root's own tasks ran: the root alone, recorded */
	kslots[1].usage += 5;
	ck_assert_int_eq(work_now(), ENGINE_WORK_ROOT);
	engine_pass_root(e, (int64_t)now_ns + 7);
	ck_assert_uint_eq(root()->usage[1], 5);
	ck_assert(history_latest(root()->history, &last));
	ck_assert_int_eq(last.t_ns, (int64_t)now_ns + 7);
	ck_assert_uint_eq(last.usage_ns, 5);
	ck_assert_int_eq(work_now(), ENGINE_WORK_NONE);
	/* a process comes and goes in the root */
	event(PC_FORK, 10, 11, 11);
	ck_assert_int_eq(work_now(), ENGINE_WORK_ROOT);
	engine_pass_root(e, (int64_t)now_ns + 8);
	ck_assert_int_eq(work_now(), ENGINE_WORK_NONE);
	/* a new group, a task moved in, its slots: each needs a pass */
	g = mkgroup("g");
	ck_assert_int_eq(work_now(), ENGINE_WORK_ALL);
	pass();
	ck_assert_int_eq(work_now(), ENGINE_WORK_NONE);
	engine_attach(e, g->id, 10, true, &root_writer, 1);
	ck_assert_int_eq(work_now(), ENGINE_WORK_ALL);
	pass();
	event(PC_FORK, 10, 12, 12); /* born in g */
	ck_assert_int_eq(work_now(), ENGINE_WORK_ALL);
	pass();
	kslots[g->id * 2].sys += 4000000;
	ck_assert_int_eq(work_now(), ENGINE_WORK_ALL);
	pass();
	ck_assert_uint_eq(g->sys[0], 4000000);
	ck_assert_uint_eq(root()->sys[0], 4000000);
	ck_assert_int_eq(work_now(), ENGINE_WORK_NONE);
}
END_TEST

START_TEST(test_work_root_published_when_needed)
{
	struct engine_shown shown = {.age_ns = 0};

	memset(kslots, 0, sizeof(kslots));
	group_tree_set_kslots(engine_tree(e), kslots, 8);
	pass();
	kslots[0].usage += 5;
	ck_assert_int_eq(engine_work(e, &shown), ENGINE_WORK_ROOT);
	/* pages in the kernel's cache have no live reads */
	shown.cached_pages = true;
	ck_assert_int_eq(engine_work(e, &shown), ENGINE_WORK_ALL);
	shown.cached_pages = false;
	/* events kept for task lists: let go when many, or old */
	shown.events_since = ENGINE_ROOT_PUBLISH_EVENTS - 1;
	ck_assert_int_eq(engine_work(e, &shown), ENGINE_WORK_ROOT);
	shown.events_since = ENGINE_ROOT_PUBLISH_EVENTS;
	ck_assert_int_eq(engine_work(e, &shown), ENGINE_WORK_ALL);
	shown.events_since = 1;
	shown.age_ns = ENGINE_ROOT_PUBLISH_NS;
	ck_assert_int_eq(engine_work(e, &shown), ENGINE_WORK_ALL);
	/* an old snapshot that lacks nothing needs no new one */
	shown.events_since = 0;
	engine_pass_root(e, (int64_t)now_ns + 1);
	ck_assert_int_eq(engine_work(e, &shown), ENGINE_WORK_NONE);
	/* nor do cached pages while nothing changed */
	shown.cached_pages = true;
	ck_assert_int_eq(engine_work(e, &shown), ENGINE_WORK_NONE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("world");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_scan_charges_nothing_of_the_past);
	tcase_add_test(tc, test_attach_then_charge_split_by_samples);
	tcase_add_test(tc, test_fork_inherits_group);
	tcase_add_test(tc, test_exit_read_as_zombie);
	tcase_add_test(tc, test_exit_reaped_before_event);
	tcase_add_test(tc, test_tick_rounding_is_carried);
	tcase_add_test(tc, test_samples_place_rest_within_tick);
	tcase_add_test(tc, test_orphan_estimated_from_samples);
	tcase_add_test(tc, test_pid_reuse_after_lost_events);
	tcase_add_test(tc, test_clock_backwards_means_reuse);
	tcase_add_test(tc, test_thread_moved_alone);
	tcase_add_test(tc, test_new_thread_joins_leader);
	tcase_add_test(tc, test_exit_racing_pass);
	tcase_add_test(tc, test_attach_errors);
	tcase_add_test(tc, test_attach_zero_moves_writer);
	tcase_add_test(tc, test_zombies_never_members);
	tcase_add_test(tc, test_reset_never_scans);
	tcase_add_test(tc, test_attach_finds_missed_process);
	tcase_add_test(tc, test_reset_keeps_parent);
	tcase_add_test(tc, test_samples_of_exited_thread_still_count);
	tcase_add_test(tc, test_parent_equals_children);
	tcase_add_test(tc, test_idle_process_read_later);
	tcase_add_test(tc, test_thread_id_reused_after_lost_exit);
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_test(tc, test_state_newcomer_follows_parent);
	tcase_add_test(tc, test_state_reused_pid_stays_out);
	tcase_add_test(tc, test_state_new_thread_joins_leader);
	tcase_add_test(tc, test_state_refuses_damage);
	suite_add_tcase(s, tc);
	tc = tcase_create("runtime records");
	tcase_add_checked_fixture(tc, setup_runtime, teardown);
	tcase_add_test(tc, test_runtime_charges_exactly);
	tcase_add_test(tc, test_runtime_remote_goes_to_tasks_cpu);
	tcase_add_test(tc, test_runtime_after_exit);
	tcase_add_test(tc, test_runtime_before_fork_event);
	tcase_add_test(tc, test_lost_records_read_back);
	tcase_add_test(tc, test_kernel_membership);
	tcase_add_test(tc, test_records_before_reading_skipped);
	tcase_add_test(tc, test_lost_records_of_new_and_exiting_tasks);
	tcase_add_test(tc, test_runtime_threads_in_two_groups);
	tcase_add_test(tc, test_exec_by_thread);
	suite_add_tcase(s, tc);
	tc = tcase_create("tick counts");
	tcase_add_checked_fixture(tc, setup_ticks, teardown);
	tcase_add_test(tc, test_ticks_read_when_task_ran);
	tcase_add_test(tc, test_light_tasks_read_a_pass_later);
	tcase_add_test(tc, test_ticks_stay_with_old_group_on_move);
	tcase_add_test(tc, test_ticks_read_after_exec_by_thread);
	tcase_add_test(tc, test_exit_record_then_tail);
	tcase_add_test(tc, test_exit_record_after_pid_reuse);
	tcase_add_test(tc, test_exit_record_before_fork_event);
	tcase_add_test(tc, test_work_only_what_changed);
	tcase_add_test(tc, test_work_root_published_when_needed);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
