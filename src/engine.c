/* engine.c - follow tasks, measure them, charge groups.
 *
 * Where the numbers come from:
 * - How much: the process CPU clock (the scheduler's exact runtime, the
 *   same sum cpuacct.usage adds up), read in every pass for processes
 *   perf saw running and once a second for the others, or each thread's
 *   schedstat while a process is split across groups.
 * - Where and in which mode: perf cpu-clock samples of each process split
 *   its exact runtime over CPUs and user/system (split.c), the way the
 *   kernel's tick samples split cpuacct.stat.
 * - Exits: the zombie's clock is read on the EXIT event; what could not
 *   be read is settled from the reaper's children time (settle.c).
 * - With runtime records (the scheduler's sched_stat_runtime tracepoint,
 *   see perfsplit.h), how much and where are exact: each record charges
 *   its task's group on its CPU, and none of the clock reading and
 *   settling above is needed; samples only split the mode.
 * - User and system time (usage_user, usage_sys, stat): each task's own
 *   tick counts where taskstats gives them (ticks.h), read for the tasks
 *   that ran in a pass; else the samples' split.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "kcount.h"
#include "nsjoin.h"
#include "settle.h"
#include "split.h"

/* A process perf never saw running is read only every this many passes. */
#define IDLE_READ_PASSES 25

/* The shortest tick there is (HZ=1000), in ns. */
#define TICK_MIN_NS 1000000ULL

/* Passes a light or root task that ran waits to have its ticks read. */
#define TICK_WAIT_PASSES 2

/* A thread that left the tables lately: its late samples and runtime
 * records still belong to its group. */
struct gone {
	unsigned int gid;
	int run_cpu;	   /* the thread's, see struct task */
	int last_cpu;	   /* its process's */
	struct proc *proc; /* NULL once the process is settled and freed */
	struct task_ticks ticks;
};

struct engine {
	const struct engine_sources *src;
	struct group_tree *tree;
	struct task_table *tasks;
	struct split *split;	 /* this pass's time, split, by group */
	struct settle *settle;	 /* exited processes */
	GHashTable *gone;	 /* tid -> struct gone, left in this pass */
	GHashTable *gone_old;	 /* those of the pass before, proc NULL */
	GArray *unmatched;	 /* runtime records of tasks not known yet */
	GArray *unmatched_ticks; /* exit records (struct ts_rec) of such */
	GArray *ran;		 /* tids whose ticks are to be read (pid_t) */
	engine_ticks_fn ticks;
	void *ticks_data;
	bool have_samples;
	bool have_runtime;
	bool rescan;
	bool runtime_lost; /* records lost since the last recovery */
	engine_drain_fn drain;
	void *drain_data;
	struct engine_kmembers km; /* all NULL without in-kernel counters */
	struct nsjoin *nsjoin;	   /* containers' pid namespaces (exec) */
	struct engine_stats stats;
	/* the table's groups_gen and the tree's gen at the last full pass
	 * (engine_work) */
	uint64_t passed_groups_gen;
	uint64_t passed_tree_gen;
};

struct engine *engine_new(const struct engine_sources *src, unsigned int ncpu,
			  size_t history_len, bool have_samples)
{
	struct engine *e = g_new0(struct engine, 1);

	e->src = src;
	e->tree = group_tree_new(ncpu, history_len);
	e->tasks = tasks_new();
	e->split = split_new(ncpu);
	e->settle = settle_new(src, e->tasks, e->split);
	e->gone = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	e->gone_old = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	e->unmatched = g_array_new(FALSE, FALSE, sizeof(struct perf_rec));
	e->unmatched_ticks = g_array_new(FALSE, FALSE, sizeof(struct ts_rec));
	e->ran = g_array_new(FALSE, FALSE, sizeof(pid_t));
	e->have_samples = have_samples;
	e->nsjoin = nsjoin_new();
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	settle_free(e->settle);
	split_free(e->split);
	g_hash_table_destroy(e->gone);
	g_hash_table_destroy(e->gone_old);
	g_array_unref(e->unmatched);
	g_array_unref(e->unmatched_ticks);
	g_array_unref(e->ran);
	nsjoin_free(e->nsjoin);
	tasks_free(e->tasks);
	group_tree_free(e->tree);
	g_free(e);
}

void engine_set_have_samples(struct engine *e, bool have_samples)
{
	e->have_samples = have_samples;
}

void engine_set_have_runtime(struct engine *e, bool have_runtime)
{
	e->have_runtime = have_runtime;
}

void engine_set_ticks(struct engine *e, engine_ticks_fn fn, void *data)
{
	e->ticks = fn;
	e->ticks_data = data;
	e->tree->modes_from_ticks = fn != NULL;
}

static int set_nsgroup(void *e, uint64_t ino, unsigned int gid)
{
	struct engine *en = e;

	return en->km.nsgroup(en->km.data, ino, gid);
}

void engine_set_kmembers(struct engine *e, const struct engine_kmembers *km)
{
	e->km = *km;
	if (km->nsgroup)
		nsjoin_set_kernel(e->nsjoin, set_nsgroup, e);
}

void engine_set_drain(struct engine *e, engine_drain_fn fn, void *data)
{
	e->drain = fn;
	e->drain_data = data;
}

struct group_tree *engine_tree(struct engine *e)
{
	return e->tree;
}

struct task_table *engine_tasks(struct engine *e)
{
	return e->tasks;
}

int engine_korigin(struct engine *e, pid_t tid, uint32_t *creator,
		   uint64_t *charged)
{
	if (!e->km.origin)
		return -ENOSYS;
	return e->km.origin(e->km.data, tid, creator, charged);
}

int engine_kchain(struct engine *e, uint32_t creator, uint64_t *ns)
{
	if (!e->km.chain)
		return -ENOSYS;
	return e->km.chain(e->km.data, creator, ns);
}

struct nsjoin *engine_nsjoin(struct engine *e)
{
	return e->nsjoin;
}

const struct engine_stats *engine_stats(const struct engine *e)
{
	return &e->stats;
}

/* ---- reading the sources ---- */

static void read_reaper_baseline(struct engine *e, struct proc *p)
{
	struct proc_stat st;

	if (p->cut_known || e->src->read_stat(p->tgid, 0, &st))
		return;
	p->cut_ns = settle_children_ns(&st);
	p->cut_known = true;
}

static uint64_t start_ns(const struct proc_stat *st)
{
	return st->start_time * NSEC_PER_USER_TICK;
}

/* The group a process's time goes to. A process can lose its last
 * thread to a newer task with the same id when exit events were lost;
 * until a rescan sorts it out, its time stays where it last was. */
static struct group *group_of_proc(struct engine *e, struct proc *p)
{
	struct group *g = proc_group(p);

	if (g)
		p->exit_gid = g->id;
	else
		g = group_by_id(e->tree, p->exit_gid);
	return g ? g : group_root(e->tree);
}

/* Where a task's ticks are charged: the CPU of its last runtime record
 * or sample. Within a pass a task seldom runs on two. */
static unsigned int tick_cpu(int run_cpu, int last_cpu)
{
	if (run_cpu >= 0)
		return (unsigned int)run_cpu;
	return last_cpu >= 0 ? (unsigned int)last_cpu : 0;
}

/* run_cpu and last_cpu: the task's (or its gone entry's), for a gain
 * whose CPU is not known. */
static void charge_gain(struct engine *e, unsigned int gid, int run_cpu,
			int last_cpu, const struct tick_gain *gain)
{
	if (gain->user_ns || gain->sys_ns)
		split_add_ticks(e->split, gid, gain->cpu,
				tick_cpu(run_cpu, last_cpu), gain->user_ns,
				gain->sys_ns);
}

/* Read a live task's tick counts; the gain goes to its group now. */
static void read_ticks(struct engine *e, struct task *t)
{
	struct tick_gain gain;
	struct ts_rec rec;

	t->ticks.ran = false;
	if (!e->ticks || t->ticks.final)
		return;
	e->stats.tick_reads++;
	if (e->ticks(e->ticks_data, t->tid, &rec))
		return; /* exiting: its exit record will tell */
	ticks_read(&t->ticks, &rec, false, &gain);
	charge_gain(e, t->group->id, t->run_cpu, t->proc->last_cpu, &gain);
}

/* It ran (by ns, if runtime records say): read its ticks this pass. */
static void mark_ran(struct engine *e, struct task *t, uint64_t ns,
		     uint64_t end_ns, int cpu)
{
	if (!e->ticks)
		return;
	if (!t->ticks.ran)
		g_array_append_val(e->ran, t->tid);
	ticks_ran(&t->ticks, ns, end_ns, cpu);
}

static void mark_threads_ran(struct engine *e, struct proc *p)
{
	for (unsigned int i = 0; i < p->threads->len; i++)
		mark_ran(e, p->threads->pdata[i], 0, 0, -1);
}

/* Whether a task that ran is read in this pass. A reading costs a
 * netlink round trip, and one that ran less than the shortest tick
 * rarely gained a tick: it waits a pass (a move or its exit reads it at
 * once anyway). Tasks in the root, most tasks, always wait a pass. */
static bool ticks_due(struct engine *e, struct task *t, bool full)
{
	if (full || ++t->ticks.passes_waited >= TICK_WAIT_PASSES)
		return true;
	return t->group->parent &&
	       (!e->have_runtime || t->ticks.ran_ns >= TICK_MIN_NS);
}

static void read_ran_ticks(struct engine *e, bool full)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < e->ran->len; i++) {
		pid_t tid = g_array_index(e->ran, pid_t, i);
		struct task *t = tasks_find(e->tasks, tid);

		if (!t || !t->ticks.ran)
			continue;
		if (ticks_due(e, t, full))
			read_ticks(e, t);
		else
			g_array_index(e->ran, pid_t, kept++) = tid;
	}
	g_array_set_size(e->ran, kept);
}

/* ---- scanning /proc (start-up, and after lost events) ---- */

/* A zombie ('Z') or dying ('X') task: never a member, as on the kernel,
 * whose migration and lists skip exiting tasks. */
static bool state_dead(char state)
{
	return state == 'Z' || state == 'X';
}

static void count_thread(pid_t tgid, pid_t tid, void *data)
{
	(void)tgid;
	(void)tid;
	(*(unsigned int *)data)++;
}

/* A process whose leader has exited and that has no other thread left:
 * a zombie waiting for its parent, nothing left to count or move. */
static bool proc_dead(struct engine *e, pid_t tgid, const struct proc_stat *st)
{
	unsigned int n = 0;

	if (!state_dead(st->state))
		return false;
	e->src->list_threads(tgid, count_thread, &n);
	return n <= 1;
}

struct scan_ctx {
	struct engine *e;
	GHashTable *seen; /* tid set, or NULL (one process) */
};

static struct proc *adopt_process(struct engine *e, pid_t tgid)
{
	struct proc_stat st;
	struct proc *parent;
	struct group *g = group_root(e->tree);
	struct proc *p;

	if (e->src->read_stat(tgid, 0, &st) || proc_dead(e, tgid, &st))
		return NULL;
	parent = tasks_find_proc(e->tasks, st.ppid);
	if (parent)
		g = group_of_proc(e, parent);
	p = tasks_add_proc(e->tasks, tgid, g);
	p->parent_tgid = st.ppid;
	p->start_ns = start_ns(&st);
	p->cut_ns = settle_children_ns(&st);
	p->cut_known = true;
	p->last_cpu = st.processor;
	/* what it ran before we knew of it is not ours to charge */
	if (e->src->process_clock(tgid, &p->clock_last))
		p->clock_last = 0;
	read_ticks(e, p->threads->pdata[0]);
	return p;
}

static void scan_thread(pid_t tgid, pid_t tid, void *data)
{
	struct scan_ctx *ctx = data;
	struct engine *e = ctx->e;
	struct proc *p = tasks_find_proc(e->tasks, tgid);
	struct proc_stat st;
	struct task *t;

	if (ctx->seen)
		g_hash_table_add(ctx->seen, GINT_TO_POINTER(tid));
	if (!p)
		p = adopt_process(e, tgid);
	if (!p)
		return;
	t = tasks_find(e->tasks, tid);
	if (t && t->proc == p)
		return;
	if (tid != tgid &&
	    (e->src->read_stat(tgid, tid, &st) || state_dead(st.state)))
		return;
	t = tasks_add_thread(e->tasks, p, tid, group_of_proc(e, p));
	read_ticks(e, t);
	if (p->split)
		e->src->thread_runtime(tgid, tid, &t->runtime_last);
}

/* A process we track whose pid now names another process (its exit
 * event was lost): forget it; its unread tail is lost. */
static bool pid_reused(struct engine *e, struct proc *p)
{
	struct proc_stat st;
	int64_t diff;

	if (e->src->read_stat(p->tgid, 0, &st))
		return true;
	/* its exit event was lost: a zombie is gone for us */
	if (proc_dead(e, p->tgid, &st))
		return true;
	if (!p->start_ns)
		return false;
	diff = (int64_t)start_ns(&st) - (int64_t)p->start_ns;
	return diff > (int64_t)(2 * NSEC_PER_USER_TICK) ||
	       diff < -(int64_t)(2 * NSEC_PER_USER_TICK);
}

static void drop_vanished(struct engine *e)
{
	GHashTableIter it;
	gpointer value;
	g_autoptr(GPtrArray) gone = g_ptr_array_new();

	g_hash_table_iter_init(&it, e->tasks->procs);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (pid_reused(e, value))
			g_ptr_array_add(gone, value);
	for (unsigned int i = 0; i < gone->len; i++) {
		struct proc *p = gone->pdata[i];

		p->exit_gid = group_of_proc(e, p)->id;
		tasks_detach_proc(e->tasks, p);
		e->stats.unsettled_exits++;
		settle_exit(e->settle, p);
	}
}

static void drop_unseen_threads(struct engine *e, GHashTable *seen)
{
	GHashTableIter it;
	gpointer value;
	g_autoptr(GPtrArray) gone = g_ptr_array_new();

	g_hash_table_iter_init(&it, e->tasks->tasks);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct task *t = value;

		if (!g_hash_table_contains(seen, GINT_TO_POINTER(t->tid)) &&
		    t->proc->threads->len > 1)
			g_ptr_array_add(gone, t);
	}
	for (unsigned int i = 0; i < gone->len; i++)
		tasks_remove_thread(e->tasks, gone->pdata[i]);
}

/* Start-up, and recovery after lost events: make the tables match
 * /proc again. */
void engine_scan(struct engine *e)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
	struct scan_ctx ctx = {e, seen};

	e->stats.rescans++;
	drop_vanished(e);
	e->src->scan(scan_thread, &ctx);
	drop_unseen_threads(e, seen);
	e->rescan = false;
}

/* ---- lost runtime records ---- */

void engine_runtime_lost(struct engine *e)
{
	e->runtime_lost = true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Read t's runtime: what our charges do not cover was in lost records
 * (or, the first time for a task older than us, is only the baseline).
 * Records made before the reading are in it, so they are skipped. */
static void recover_task(struct engine *e, struct task *t)
{
	uint64_t read_ns, until = now_ns();
	int cpu = t->run_cpu >= 0 ? t->run_cpu : t->proc->last_cpu;

	if (e->src->thread_runtime(t->proc->tgid, t->tid, &read_ns))
		return;
	if (t->covered_known && read_ns > t->covered_ns) {
		e->stats.recovered_ns += read_ns - t->covered_ns;
		split_add_on_cpu(e->split, t->group->id, t->proc,
				 cpu >= 0 ? (unsigned int)cpu : 0,
				 read_ns - t->covered_ns);
	}
	t->covered_ns = read_ns;
	t->covered_known = true;
	t->covered_until = until;
}

static void recover_all(struct engine *e)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, e->tasks->procs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct proc *p = value;

		for (unsigned int i = 0; i < p->threads->len; i++)
			recover_task(e, p->threads->pdata[i]);
	}
	e->runtime_lost = false;
}

/* ---- events ---- */

static void remember_gone(struct engine *e, struct task *t)
{
	struct gone *gone = g_new(struct gone, 1);

	gone->gid = t->group->id;
	gone->run_cpu = t->run_cpu;
	gone->last_cpu = t->proc->last_cpu;
	gone->proc = t->proc;
	gone->ticks = t->ticks;
	g_hash_table_replace(e->gone, GINT_TO_POINTER(t->tid), gone);
}

/* A task we saw born: every nanosecond it ran is in our records. */
static void born(struct task *t, const struct pc_event *ev)
{
	ticks_born(&t->ticks, ev->ts_ns);
	t->covered_known = true;
}

/* An exec into a container: with in-kernel counters, the program moves
 * it when the runtime puts it in the container's kernel cgroups, as the
 * kernel's group counts it from then; else settled later. */
static void exec_joined(struct engine *e, pid_t pid, struct group *g)
{
	if (e->km.move)
		nsjoin_joined(e->nsjoin, g, pid);
}

static int kjoined(void *data, pid_t pid, unsigned int gid, bool force)
{
	struct engine *e = data;
	int now = e->km.group_of(e->km.data, pid);

	/* there, gone, or moved elsewhere by a write meanwhile */
	if (now != BPFACCT_ROOT_GID)
		return 1;
	if (!force)
		return 0;
	/* nobody put it in a kernel cgroup (nsenter): from now on */
	e->km.move(e->km.data, pid, gid);
	return 1;
}

static void on_fork_process(struct engine *e, const struct pc_event *ev)
{
	struct task *creator = tasks_find(e->tasks, ev->parent_pid);
	struct proc *parent = tasks_find_proc(e->tasks, ev->parent_tgid);
	struct group *g = group_root(e->tree), *joined = NULL;
	struct proc *p = tasks_find_proc(e->tasks, ev->pid);

	if (p) {
		/* its exit event was lost and the pid is reused already */
		p->exit_gid = group_of_proc(e, p)->id;
		tasks_detach_proc(e->tasks, p);
		settle_exit(e->settle, p);
	}
	if (creator)
		g = creator->group;
	else if (parent)
		g = group_of_proc(e, parent);
	if (!g->parent)
		joined = nsjoin_find(e->nsjoin, e->tree, ev->pid);
	if (joined)
		g = joined;
	p = tasks_add_proc(e->tasks, ev->pid, g);
	if (joined)
		exec_joined(e, ev->pid, g);
	born(tasks_find(e->tasks, ev->pid), ev);
	p->parent_tgid = ev->parent_tgid;
	p->start_ns = ev->ts_ns;
	p->last_cpu = ev->cpu;
	p->cut_known = true; /* a new process has reaped nobody */
	if (parent && !e->have_runtime)
		read_reaper_baseline(e, parent);
}

/* Where the in-kernel counters put a new thread of a split process;
 * else, or if they cannot say, its leader's group. */
static struct group *kernel_group_of(struct engine *e, pid_t tid,
				     const struct task *leader)
{
	int gid = e->km.group_of ? e->km.group_of(e->km.data, tid) : -ENOSYS;
	struct group *g = gid >= 0 ? group_by_id(e->tree, gid) : NULL;

	if (g)
		return g;
	return leader ? leader->group : group_root(e->tree);
}

static void on_fork_thread(struct engine *e, const struct pc_event *ev)
{
	struct proc *p = tasks_find_proc(e->tasks, ev->tgid);
	struct task *leader, *t;

	if (!p)
		p = adopt_process(e, ev->tgid);
	if (!p)
		return;
	/* the connector names the process's parent, not the creating
	 * thread, so a new thread joins its leader's group, unless the
	 * kernel's counters know better */
	leader = tasks_find(e->tasks, ev->tgid);
	t = tasks_add_thread(e->tasks, p, ev->pid,
			     p->split ? kernel_group_of(e, ev->pid, leader)
			     : leader ? leader->group
				      : group_of_proc(e, p));
	born(t, ev);
}

static void on_exit_thread(struct engine *e, struct task *t)
{
	struct proc *p = t->proc;
	uint64_t rt;

	if (p->split && !e->have_runtime &&
	    !e->src->thread_runtime(p->tgid, t->tid, &rt) &&
	    rt > t->runtime_last)
		settle_later(e->settle, t->group->id, p, rt - t->runtime_last);
	remember_gone(e, t);
	tasks_remove_thread(e->tasks, t);
	if (proc_update_split(p) && !p->split && !e->have_runtime)
		e->src->process_clock(p->tgid, &p->clock_last);
}

/* The last thread of a process exited: read what the zombie ran. */
static void on_exit_process(struct engine *e, struct task *t)
{
	struct proc *p = t->proc;
	struct group *g = t->group;
	struct proc_stat st;
	uint64_t final;

	p->exit_gid = g->id;
	if (!e->src->process_clock(p->tgid, &final)) {
		p->settled = true;
		p->final_clock = final;
		if (!p->split && final > p->clock_last)
			settle_later(e->settle, g->id, p,
				     final - p->clock_last);
		p->clock_last = final;
		if (!e->src->read_stat(p->tgid, 0, &st))
			p->final_cut_ns = settle_children_ns(&st);
	} else {
		e->stats.unsettled_exits++;
	}
	g_debug("exit %d: %s, final %" G_GUINT64_FORMAT
		" charged up to %" G_GUINT64_FORMAT,
		p->tgid, p->settled ? "read" : "reaped first", p->final_clock,
		p->clock_last);
	/* children it reaped before dying show in the zombie's cutime */
	if (p->dying->len)
		settle_reaped(e->settle, p);
	remember_gone(e, t);
	tasks_detach_proc(e->tasks, p);
	settle_exit(e->settle, p);
}

/* With runtime records the process's time is charged already. */
static void on_exit_charged(struct engine *e, struct task *t)
{
	struct proc *p = t->proc;

	p->exit_gid = t->group->id;
	p->settled = true;
	remember_gone(e, t);
	tasks_detach_proc(e->tasks, p);
	settle_done(e->settle, p);
}

static void on_task_exit(struct engine *e, const struct pc_event *ev)
{
	struct task *t = tasks_find(e->tasks, ev->pid);

	if (!t)
		return;
	/* where an unsampled task ran last: the CPU it exited on */
	if (!t->proc->sampled_ns && ev->cpu >= 0)
		t->proc->last_cpu = ev->cpu;
	if (e->runtime_lost)
		recover_task(e, t); /* its records may be among the lost */
	if (t->proc->threads->len > 1)
		on_exit_thread(e, t);
	else if (e->have_runtime)
		on_exit_charged(e, t);
	else
		on_exit_process(e, t);
}

/* A thread other than the leader called exec: the kernel ended every
 * other thread first (their EXIT events came before this one) and gave
 * it the process's id. */
static void on_exec(struct engine *e, const struct pc_event *ev)
{
	struct proc *p = tasks_find_proc(e->tasks, ev->tgid);
	struct task *t;

	if (!p || p->threads->len != 1)
		return;
	t = p->threads->pdata[0];
	if (t->tid == ev->tgid)
		return;
	tasks_renumber(e->tasks, t, ev->tgid);
	if (t->ticks.ran) /* listed under its old id: list it anew */
		g_array_append_val(e->ran, t->tid);
}

void engine_event(struct engine *e, const struct pc_event *ev)
{
	switch (ev->kind) {
	case PC_FORK:
		if (ev->pid == ev->tgid)
			on_fork_process(e, ev);
		else
			on_fork_thread(e, ev);
		break;
	case PC_EXIT:
		on_task_exit(e, ev);
		break;
	case PC_LOST:
		g_warning("proc connector lost events; rescanning /proc");
		e->rescan = true;
		break;
	case PC_EXEC:
		on_exec(e, ev);
		break;
	}
}

void engine_sample(struct engine *e, const struct perf_rec *rec)
{
	struct task *t;
	struct gone *gone;
	unsigned int gid;
	struct proc *p;

	if (rec->pid <= 0 || rec->tid <= 0)
		return; /* the idle task */
	t = tasks_find(e->tasks, rec->tid);
	if (t) {
		gid = t->group->id;
		p = t->proc;
		mark_ran(e, t, 0, 0, rec->cpu);
	} else if ((gone = g_hash_table_lookup(e->gone,
					       GINT_TO_POINTER(rec->tid)))) {
		gid = gone->gid;
		p = gone->proc;
	} else {
		return;
	}
	if (group_by_id(e->tree, gid))
		split_sample(e->split, p, rec->cpu, rec->user, rec->period_ns);
}

static struct gone *find_gone(struct engine *e, pid_t tid)
{
	struct gone *gone = g_hash_table_lookup(e->gone, GINT_TO_POINTER(tid));

	return gone ? gone
		    : g_hash_table_lookup(e->gone_old, GINT_TO_POINTER(tid));
}

/* A remote record was made on another CPU than the task's (an exiting
 * task's too): the task runs where it last made a record of its own, or
 * where it was last sampled, as long as that is not here. */
static unsigned int cpu_of_record(const struct engine *e, int run_cpu,
				  int last_cpu, const struct perf_rec *rec)
{
	int here = rec->cpu, ncpu = (int)e->tree->ncpu;

	if (!rec->remote)
		return (unsigned int)here;
	if (run_cpu >= 0 && run_cpu != here)
		return (unsigned int)run_cpu;
	if (ncpu == 2)
		return (unsigned int)!here;
	if (last_cpu >= 0 && last_cpu != here)
		return (unsigned int)last_cpu;
	return (unsigned int)here;
}

/* false if the task is not known (yet) */
static bool charge_runtime(struct engine *e, const struct perf_rec *rec)
{
	struct task *t = tasks_find(e->tasks, rec->tid);
	struct gone *gone;
	unsigned int cpu;

	if (t) {
		/* a reading after lost records counted it already */
		if (rec->time_ns && rec->time_ns <= t->covered_until)
			return true;
		t->covered_ns += rec->period_ns;
		if (!rec->remote)
			t->run_cpu = rec->cpu;
		cpu = cpu_of_record(e, t->run_cpu, t->proc->last_cpu, rec);
		mark_ran(e, t, rec->period_ns, rec->time_ns, (int)cpu);
		split_add_on_cpu(e->split, t->group->id, t->proc, cpu,
				 rec->period_ns);
		return true;
	}
	gone = find_gone(e, rec->tid);
	if (!gone)
		return false;
	cpu = cpu_of_record(e, gone->run_cpu, gone->last_cpu, rec);
	ticks_ran(&gone->ticks, rec->period_ns, rec->time_ns, (int)cpu);
	if (group_by_id(e->tree, gone->gid))
		split_add_on_cpu(e->split, gone->gid, gone->proc, cpu,
				 rec->period_ns);
	return true;
}

void engine_runtime(struct engine *e, const struct perf_rec *rec)
{
	if (rec->tid <= 0 || rec->cpu < 0)
		return; /* the idle task */
	if (!charge_runtime(e, rec))
		g_array_append_val(e->unmatched, *rec);
}

void engine_runtime_retry(struct engine *e)
{
	for (guint i = 0; i < e->unmatched->len; i++) {
		const struct perf_rec *rec =
		    &g_array_index(e->unmatched, struct perf_rec, i);

		if (charge_runtime(e, rec))
			continue;
		/* never seen: a task we do not track, in the root */
		e->stats.unmatched_runtime_ns += rec->period_ns;
		split_add_on_cpu(e->split, 0, NULL, (unsigned int)rec->cpu,
				 rec->period_ns);
	}
	g_array_set_size(e->unmatched, 0);
}

/* ---- exit records ---- */

static void measure_now(struct engine *e, struct proc *p);

/* The runtime in the exit record of p's last thread is a floor of what
 * p ran: when p was reaped before its clock could be read, its group
 * shows that much at once, not only its reaper's 10 ms ticks later
 * (settle.c counts it as charged, through clock_last). */
static void charge_exit_floor(struct engine *e, struct proc *p,
			      uint64_t run_ns)
{
	if (p->split || run_ns <= p->clock_last)
		return;
	g_debug("exit record of %d: reaped first, %" G_GUINT64_FORMAT
		" ns from the record",
		p->tgid, run_ns - p->clock_last);
	split_add(e->split, group_of_proc(e, p)->id, p,
		  run_ns - p->clock_last, false);
	p->clock_last = run_ns;
}

/* The exit record of a gone thread comes before its EXIT event, so one
 * whose gone entry is not final yet is the entry's, even if the tid
 * names a newer task already. false if the task is not known (yet). */
static bool take_exit_ticks(struct engine *e, const struct ts_rec *rec)
{
	struct gone *gone = find_gone(e, rec->tid);
	struct task *t = tasks_find(e->tasks, rec->tid);
	struct tick_gain gain;

	if (gone && !gone->ticks.final) {
		ticks_read(&gone->ticks, rec, true, &gain);
		charge_gain(e, gone->gid, gone->run_cpu, gone->last_cpu, &gain);
		return true;
	}
	if (!t)
		return gone != NULL;
	/* process clocks alone: a last thread on its way out (taskstats
	 * reports it before the parent can reap it) */
	if (!e->have_runtime && !e->tree->kslots && t->proc->threads->len == 1) {
		measure_now(e, t->proc);
		charge_exit_floor(e, t->proc, rec->run_ns);
		g_debug("exit record of %d: clock %" G_GUINT64_FORMAT,
			t->proc->tgid, t->proc->clock_last);
	}
	ticks_read(&t->ticks, rec, true, &gain);
	charge_gain(e, t->group->id, t->run_cpu, t->proc->last_cpu, &gain);
	return true;
}

void engine_task_ticks(struct engine *e, const struct ts_rec *rec)
{
	if (!take_exit_ticks(e, rec))
		g_array_append_val(e->unmatched_ticks, *rec);
}

void engine_task_ticks_retry(struct engine *e)
{
	for (guint i = 0; i < e->unmatched_ticks->len; i++) {
		const struct ts_rec *rec =
		    &g_array_index(e->unmatched_ticks, struct ts_rec, i);

		/* never seen: a task we do not track, in the root */
		if (!take_exit_ticks(e, rec))
			split_add_ticks(e->split, 0, -1, 0, rec->user_ns,
					rec->sys_ns);
	}
	g_array_set_size(e->unmatched_ticks, 0);
}

/* ---- the pass ---- */

static void weigh_by_stat(struct engine *e, struct proc *p, uint64_t ns)
{
	struct proc_stat st;
	uint64_t user;

	/* without perf: the last CPU and the process's own user share */
	if (e->src->read_stat(p->tgid, 0, &st))
		return;
	user = st.utime + st.stime
		   ? (unsigned __int128)ns * st.utime / (st.utime + st.stime)
		   : ns;
	split_sample(e->split, p, st.processor, true, user);
	split_sample(e->split, p, st.processor, false, ns - user);
}

static void measure_threads(struct engine *e, struct proc *p)
{
	for (unsigned int i = 0; i < p->threads->len; i++) {
		struct task *t = p->threads->pdata[i];
		uint64_t rt;

		if (e->src->thread_runtime(p->tgid, t->tid, &rt))
			continue;
		if (rt > t->runtime_last) {
			split_add(e->split, t->group->id, p,
				  rt - t->runtime_last, false);
			mark_ran(e, t, 0, 0, -1);
		}
		t->runtime_last = rt;
	}
}

/* Charge what p ran since the last read; false if it could not be read
 * (then its samples wait for its exit to be settled). */
static bool measure_process(struct engine *e, struct proc *p)
{
	uint64_t now;

	e->stats.clock_reads++;
	if (e->src->process_clock(p->tgid, &now))
		return false; /* exiting: its EXIT event settles it */
	if (now < p->clock_last) {
		/* a clock cannot go back: the pid is someone else's now */
		g_debug("clock of %d went back: rescanning /proc", p->tgid);
		e->rescan = true;
		return false;
	}
	if (now > p->clock_last) {
		mark_threads_ran(e, p);
		if (!e->have_samples)
			weigh_by_stat(e, p, now - p->clock_last);
		split_add(e->split, group_of_proc(e, p)->id, p,
			  now - p->clock_last, false);
	}
	p->clock_last = now;
	return true;
}

static void measure_now(struct engine *e, struct proc *p)
{
	if (e->have_runtime) {
		split_forget(p); /* its records are charged as they come */
	} else if (p->split) {
		measure_threads(e, p);
		split_forget(p);
	} else if (measure_process(e, p)) {
		p->unread_passes = 0;
		split_forget(p);
	}
}

static void measure_live(struct engine *e, bool full)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, e->tasks->procs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct proc *p = value;

		/* not sampled: it ran less than a sampling period on any
		 * CPU, its clock can wait */
		bool idle = !full && !p->split && e->have_samples &&
			    !p->sampled_ns &&
			    ++p->unread_passes < IDLE_READ_PASSES;

		if (!p->threads->len)
			e->rescan = true; /* lost its threads: ask /proc */
		if (!idle)
			measure_now(e, p);
		if (p->dying->len)
			settle_reaped(e->settle, p);
	}
}

static void record_groups(struct engine *e, int64_t t_ns)
{
	group_record_changed(e->tree, t_ns);
}

/* What gone threads ran after their exit record, as far as their
 * runtime records are in: most of it in the pass of their exit, a last
 * record sometimes in the next (finishing is incremental). */
static void finish_table(struct engine *e, GHashTable *table)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, table);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct gone *gone = value;
		struct tick_gain gain;

		ticks_finish(&gone->ticks, &gain);
		charge_gain(e, gone->gid, gone->run_cpu, gone->last_cpu, &gain);
	}
}

static void finish_gone_ticks(struct engine *e)
{
	if (!e->ticks)
		return;
	finish_table(e, e->gone);
	finish_table(e, e->gone_old);
}

/* The processes of this pass's gone threads are freed now; the runtime
 * record of a thread's very last moment can come a pass later. */
static void age_gone(struct engine *e)
{
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_remove_all(e->gone_old);
	g_hash_table_iter_init(&it, e->gone);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		struct gone *gone = value;

		gone->proc = NULL;
		g_hash_table_iter_steal(&it);
		g_hash_table_insert(e->gone_old, key, gone);
	}
}

void engine_pass(struct engine *e, int64_t t_ns, bool full)
{
	if (e->rescan)
		engine_scan(e);
	if (e->runtime_lost && e->have_runtime)
		recover_all(e);
	/* with in-kernel counters nothing is measured here: no walk of
	 * every process each pass */
	if (!e->tree->kslots)
		measure_live(e, full);
	read_ran_ticks(e, full);
	finish_gone_ticks(e);
	settle_flush(e->settle);
	split_flush(e->split, e->tree);
	kcount_charge(e->tree);
	if (e->km.move && e->km.group_of)
		nsjoin_settle(e->nsjoin, e->tree, kjoined, e);
	record_groups(e, t_ns);
	age_gone(e);
	settle_retire(e->settle);
	e->passed_groups_gen = e->tasks->groups_gen;
	e->passed_tree_gen = e->tree->gen;
	e->stats.passes++;
}

static bool groups_changed(const struct engine *e)
{
	const struct group_tree *tree = e->tree;

	return !tree->kslots || e->rescan || e->runtime_lost ||
	       e->passed_tree_gen != tree->gen ||
	       e->passed_groups_gen != e->tasks->groups_gen ||
	       kcount_groups_gained(tree);
}

static bool root_changed(const struct engine *e)
{
	const struct group *root = group_root(e->tree);

	return kcount_root_gained(e->tree) || root->gen != root->recorded_gen;
}

/* Events kept for readers' task lists (evqueue.h) since the snapshot,
 * which only a new snapshot lets go. */
static bool events_piled_up(const struct engine_shown *shown)
{
	return shown->events_since >= ENGINE_ROOT_PUBLISH_EVENTS ||
	       (shown->events_since && shown->age_ns >= ENGINE_ROOT_PUBLISH_NS);
}

enum engine_work engine_work(const struct engine *e,
			     const struct engine_shown *shown)
{
	if (groups_changed(e) || events_piled_up(shown))
		return ENGINE_WORK_ALL;
	if (!root_changed(e))
		return ENGINE_WORK_NONE;
	/* cached pages have no live reads to make up for the root */
	return shown->cached_pages ? ENGINE_WORK_ALL : ENGINE_WORK_ROOT;
}

/* Nothing but the root changed: its own tasks' time, its members. The
 * exited tasks of the table go as in any pass, so memory stays flat. */
void engine_pass_root(struct engine *e, int64_t t_ns)
{
	struct group *root = group_root(e->tree);

	kcount_charge_root(e->tree);
	group_record(root, t_ns);
	age_gone(e);
	settle_retire(e->settle);
	e->stats.root_passes++;
}

void engine_drain(struct engine *e)
{
	if (e->drain)
		e->drain(e->drain_data);
}

/* Runs on FUSE threads (engine_reset): a pending rescan of /proc stays for
 * the sampler's next pass, so a write never pays for a full scan. */
void engine_sync(struct engine *e, int64_t t_ns)
{
	bool rescan;

	engine_drain(e);
	rescan = e->rescan;
	e->rescan = false;
	engine_pass(e, t_ns, true);
	e->rescan = rescan;
}

/* ---- commands ---- */

/* 0 to move, 1 to succeed moving nothing (a zombie), or -errno */
static int check_movable(struct engine *e, struct task *t, bool whole,
			 const struct writer *w)
{
	struct proc_stat st;
	uid_t ruid, suid;

	if (e->src->read_stat(t->proc->tgid, t->tid, &st))
		return -ESRCH;
	/* the kernel accepts a zombie's id and moves nothing; a dead leader
	 * of a live process still takes its threads along */
	if (state_dead(st.state) &&
	    (!whole || proc_dead(e, t->proc->tgid, &st)))
		return 1;
	if ((st.flags & PROCFS_PF_NO_SETAFFINITY) ||
	    ((st.flags & PROCFS_PF_KTHREAD) && t->tid == 2))
		return -EINVAL;
	/* cgroup v1's rule: the opener's euid is root, or the target's
	 * real or saved uid */
	if (w->uid == 0)
		return 0;
	if (e->src->read_uids(t->tid, &ruid, &suid))
		return -ESRCH;
	return w->uid == ruid || w->uid == suid ? 0 : -EACCES;
}

static struct task *find_or_rescan(struct engine *e, pid_t tid)
{
	struct task *t = tasks_find(e->tasks, tid);
	struct scan_ctx ctx = {e, NULL};
	pid_t tgid;

	if (t || e->src->tgid_of(tid, &tgid))
		return t;
	/* it exists but we missed its birth: take its process now, and
	 * leave a full rescan to the sampler's next pass (commands run on
	 * FUSE threads, which come and go: see procfs_scan) */
	e->rescan = true;
	e->src->list_threads(tgid, scan_thread, &ctx);
	return tasks_find(e->tasks, tid);
}

/* An id we do not track that names a task which exited but is not reaped
 * yet: the kernel's write succeeds and moves nothing. */
static bool pid_is_zombie(struct engine *e, pid_t tid)
{
	struct proc_stat st;
	pid_t tgid;

	if (e->src->tgid_of(tid, &tgid) || e->src->read_stat(tgid, tid, &st))
		return false;
	return state_dead(st.state);
}

static void rebaseline(struct engine *e, struct proc *p)
{
	if (!p->split) {
		e->src->process_clock(p->tgid, &p->clock_last);
		return;
	}
	for (unsigned int i = 0; i < p->threads->len; i++) {
		struct task *t = p->threads->pdata[i];

		e->src->thread_runtime(p->tgid, t->tid, &t->runtime_last);
	}
}

static void move_task(struct engine *e, struct task *t, struct group *g)
{
	int err;

	read_ticks(e, t);
	tasks_move(e->tasks, t, g);
	if (!e->km.move)
		return;
	err = e->km.move(e->km.data, t->tid, g->id);
	if (err && err != -ESRCH)
		g_warning("cannot move task %d in the kernel's counters: %s",
			  t->tid, g_strerror(-err));
}

int engine_attach(struct engine *e, unsigned int gid, pid_t pid,
		  bool whole_process, const struct writer *w, int64_t t_ns)
{
	struct group *g = group_by_id(e->tree, gid);
	struct task *t;
	struct proc *p;
	int err;

	if (!g)
		return -ENODEV;
	if (pid == 0)
		pid = w->pid;
	engine_drain(e);
	t = find_or_rescan(e, pid);
	if (!t)
		return pid_is_zombie(e, pid) ? 0 : -ESRCH;
	err = check_movable(e, t, whole_process, w);
	if (err)
		return err < 0 ? err : 0;
	p = t->proc;
	/* time run so far stays where it was run, and shows there before the
	 * write returns: only this process needs reading now, the rest waits
	 * for the next pass */
	measure_now(e, p);
	split_flush(e->split, e->tree);
	if (whole_process) {
		for (unsigned int i = 0; i < p->threads->len; i++)
			move_task(e, p->threads->pdata[i], g);
	} else {
		move_task(e, t, g);
	}
	if (proc_update_split(p) && !e->have_runtime)
		rebaseline(e, p);
	return 0;
}

int engine_reset(struct engine *e, unsigned int gid, int64_t t_ns)
{
	struct group *g = group_by_id(e->tree, gid);

	if (!g)
		return -ENODEV;
	if (!g->parent)
		return 0; /* the root is never reset, as in the kernel */
	engine_sync(e, t_ns);
	group_reset(g, t_ns);
	return 0;
}

/* ---- the real sources ---- */

const struct engine_sources engine_procfs_sources = {
    .process_clock = procfs_process_clock,
    .thread_runtime = procfs_thread_runtime,
    .read_stat = procfs_read_stat,
    .read_uids = procfs_read_uids,
    .tgid_of = procfs_tgid_of,
    .scan = procfs_scan,
    .list_threads = procfs_list_threads,
};

/* ---- checkpoints (state.h) ---- */

static void save_task(const struct task *t, GArray *out)
{
	struct engine_member m = {
	    .tid = t->tid,
	    .tgid = t->proc->tgid,
	    .start_ns = t->proc->start_ns,
	    .gid = t->group->id,
	    .clock_last = t->proc->clock_last,
	    .runtime_last = t->runtime_last,
	    .covered_ns = t->covered_ns,
	    .covered_known = t->covered_known,
	    .ticks_known = t->ticks.known,
	    .ticks_user_ns = t->ticks.user_ns,
	    .ticks_sys_ns = t->ticks.sys_ns,
	};

	g_array_append_val(out, m);
}

void engine_members_save(struct engine *e, GArray *out)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, e->tasks->tasks);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct task *t = value;

		if (t->group->parent) /* the root is where a scan puts all */
			save_task(t, out);
	}
}

/* The saved task is this one, not a later task with its id. */
static bool same_task(const struct task *t, const struct engine_member *m)
{
	int64_t diff = (int64_t)t->proc->start_ns - (int64_t)m->start_ns;

	return t->proc->tgid == m->tgid &&
	       diff <= (int64_t)(2 * NSEC_PER_USER_TICK) &&
	       diff >= -(int64_t)(2 * NSEC_PER_USER_TICK);
}

/* Back where it was, counted from where the last server left it: what
 * it ran since is charged to its group at the next pass. */
static void restore_task(struct engine *e, struct task *t,
			 const struct engine_member *m, bool kernel_kept)
{
	struct group *g = group_by_id(e->tree, m->gid);

	if (!g || !same_task(t, m))
		return;
	tasks_move(e->tasks, t, g);
	if (e->km.move && !kernel_kept)
		e->km.move(e->km.data, t->tid, g->id);
	t->proc->clock_last = m->clock_last;
	t->runtime_last = m->runtime_last;
	t->covered_ns = m->covered_ns;
	t->covered_known = m->covered_known;
	if (m->ticks_known) {
		t->ticks.user_ns = m->ticks_user_ns;
		t->ticks.sys_ns = m->ticks_sys_ns;
	}
}

/* A process the last server never saw, started after its checkpoint:
 * in the group the kernel's counters put it in, if they went on, else
 * in its parent's (the rule of every fork). */
static void counted_from_birth(struct task *t)
{
	t->covered_ns = 0;
	t->covered_known = true;
	t->runtime_last = 0;
}

static void place_newcomer(struct engine *e, struct proc *p, bool kernel_kept)
{
	struct proc *parent = tasks_find_proc(e->tasks, p->parent_tgid);
	struct group *g = NULL;

	for (unsigned int i = 0; kernel_kept && i < p->threads->len; i++) {
		struct task *t = p->threads->pdata[i];

		g = kernel_group_of(e, t->tid, NULL);
		if (g != t->group)
			tasks_move(e->tasks, t, g);
	}
	if (kernel_kept || !parent || !proc_group(parent)->parent)
		return;
	g = proc_group(parent);
	p->clock_last = 0; /* all it ran, it ran in that group */
	for (unsigned int i = 0; i < p->threads->len; i++) {
		move_task(e, p->threads->pdata[i], g);
		counted_from_birth(p->threads->pdata[i]);
	}
}

/* Threads a restored process started since the checkpoint: in its
 * leader's group, where a new thread goes (or where the kernel's
 * counters put it), all their time with them. */
static void place_new_threads(struct engine *e, GHashTable *saved,
			      bool kernel_kept)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, e->tasks->procs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct proc *p = value;
		struct task *leader = p->threads->pdata[0];

		if (!leader->group->parent ||
		    !g_hash_table_contains(saved, GINT_TO_POINTER(leader->tid)))
			continue;
		for (unsigned int i = 1; i < p->threads->len; i++) {
			struct task *t = p->threads->pdata[i];

			if (g_hash_table_contains(saved, GINT_TO_POINTER(t->tid)))
				continue;
			if (kernel_kept) {
				tasks_move(e->tasks, t,
					   kernel_group_of(e, t->tid, leader));
				continue;
			}
			move_task(e, t, leader->group);
			counted_from_birth(t);
		}
	}
}

static gint by_start_time(gconstpointer a, gconstpointer b)
{
	const struct proc *pa = *(struct proc *const *)a;
	const struct proc *pb = *(struct proc *const *)b;

	return pa->start_ns < pb->start_ns ? -1 : pa->start_ns > pb->start_ns;
}

void engine_members_restore(struct engine *e, const GArray *members,
			    uint64_t saved_boot_ns, bool kernel_kept)
{
	g_autoptr(GPtrArray) procs = g_ptr_array_new();
	g_autoptr(GHashTable) saved = g_hash_table_new(NULL, NULL);
	GHashTableIter it;
	gpointer value;

	for (unsigned int i = 0; i < members->len; i++) {
		const struct engine_member *m =
		    &g_array_index(members, struct engine_member, i);
		struct task *t = tasks_find(e->tasks, m->tid);

		g_hash_table_add(saved, GINT_TO_POINTER(m->tid));
		if (t)
			restore_task(e, t, m, kernel_kept);
	}
	place_new_threads(e, saved, kernel_kept);
	g_hash_table_iter_init(&it, e->tasks->procs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct proc *p = value;

		if (p->start_ns + 2 * NSEC_PER_USER_TICK > saved_boot_ns)
			g_ptr_array_add(procs, p);
	}
	/* parents first: a child follows where its parent was put */
	g_ptr_array_sort(procs, by_start_time);
	for (unsigned int i = 0; i < procs->len; i++)
		place_newcomer(e, procs->pdata[i], kernel_kept);
	g_hash_table_iter_init(&it, e->tasks->procs);
	while (g_hash_table_iter_next(&it, NULL, &value))
		proc_update_split(value);
}
