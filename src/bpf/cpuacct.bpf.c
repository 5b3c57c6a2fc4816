// SPDX-License-Identifier: GPL-2.0
/* cpuacct.bpf.c - count each group's CPU time in the kernel, as cpuacct.
 *
 * The kernel's cpuacct adds every runtime delta of a task to its group
 * (cpuacct_charge, from update_curr) and every tick to its group's user
 * or system counter (cpuacct_account_field). The same numbers are on the
 * task itself: se.sum_exec_runtime, utime and stime (with tick-based
 * accounting they grow by exactly what cpustat gets). So the program
 * keeps, per task, the values it last charged, and charges the growth to
 * the task's group on the CPU it ran on:
 *
 * - at every switch-out (prev is what ran on this CPU since its switch-in;
 *   a dying task's last slice is charged at its final switch);
 * - at the end of every timer interrupt, for the interrupted task: the
 *   tick has just charged it, so a task that runs for long without a
 *   switch is never more than one tick behind, as the kernel's own
 *   counters are.
 *
 * Membership lives in task storage set by the daemon (through a pidfd)
 * and copied to every new task at task_newtask, which also sees io_uring
 * and vhost workers. Tasks without it are in the root group.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpfacct_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the daemon before loading. */
const volatile __u32 ncpu = 1;
const volatile __u32 max_groups = 1;
/* The cgroup v1 hierarchy of the kernel's cpuacct, if mounted: only
 * attaches there are the moments its groups count from (0: any). */
const volatile __u32 cpuacct_hierarchy = 0;

struct seen {
	__u64 runtime;
	__u64 utime;
	__u64 stime;
	/* a thread of the root group born in a container's pid namespace:
	 * it joins its process's group once a runtime attached the process
	 * (joined), at its next charge */
	__u32 cand;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct kslot);
	__uint(max_entries, 1); /* max_groups * ncpu, set at load */
} slots SEC(".maps");

/* The task's group, when not the root: written by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} member SEC(".maps");

/* What was last charged of each task. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct seen);
} charged SEC(".maps");

/* Where a task came from, for a container's init adopted late (see
 * bpfacct_lineage): the thread that created it, and its runtime when it
 * was last attached to a kernel cgroup (since), from which a kernel
 * group would count it. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct korigin);
} origin SEC(".maps");

/* Threads that exited lately, by id: what a kernel group would have
 * counted of them, and their creator, so the creation chain of a live
 * task can be followed through the dead. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct kexited);
} exited SEC(".maps");

/* Containers' pid namespaces (by inode number) and their groups: a task
 * of the root group in one joins that group when a runtime puts it in a
 * kernel cgroup, as runc exec puts its process in the container's
 * (nsjoin.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} nsgroup SEC(".maps");

/* Processes a runtime attached to a kernel cgroup in a container's pid
 * namespace, the group they joined and when: their other threads follow
 * at their next charge (the attach tracepoint names the leader alone). */
struct joined_at {
	__u32 gid;
	__u32 tid;     /* the task the attach named */
	__u64 t_ns;    /* bpf_ktime_get_ns() of the attach */
	__u64 runtime; /* that task's sum_exec_runtime then */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct joined_at);
} joined SEC(".maps");

#define CLONE_THREAD_FLAG 0x00010000 /* CLONE_THREAD */

#define MAX_PIDNS_LEVEL 32 /* the kernel's MAX_PID_NS_LEVEL */

#define TASK_DEAD_STATE 0x80 /* TASK_DEAD: the final switch of a task */

static __always_inline __u32 group_of(struct task_struct *p)
{
	__u32 *gid = bpf_task_storage_get(&member, p, 0, 0);

	return gid ? *gid : BPFACCT_ROOT_GID;
}

static __always_inline void charge(__u32 gid, __u64 run, __u64 user, __u64 sys)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u32 idx;
	struct kslot *slot;

	/* the daemon never sets an id out of range (mkdir: ENOSPC) */
	if (gid >= max_groups || cpu >= ncpu)
		return;
	idx = gid * ncpu + cpu;
	slot = bpf_map_lookup_elem(&slots, &idx);
	if (!slot)
		return;
	if (run)
		__sync_fetch_and_add(&slot->usage, run);
	if (user)
		__sync_fetch_and_add(&slot->user, user);
	if (sys)
		__sync_fetch_and_add(&slot->sys, sys);
}

static __always_inline struct seen now_of(struct task_struct *p)
{
	struct seen s = {
	    .runtime = p->se.sum_exec_runtime,
	    .utime = p->utime,
	    .stime = p->stime,
	};

	return s;
}

#define NOT_JOINED (~0ULL)

/* A candidate thread (see struct seen): if its process joined a group,
 * it joins too, and the most of its run since its last charge that the
 * new group gets is returned (what it ran before belongs where it was);
 * else NOT_JOINED. For the task the attach named, that is what it ran
 * past the runtime its last update had then, as the kernel's cpuacct
 * charges a task moved while running; for the others, the time since. */
static __always_inline __u64 join_late(struct task_struct *p, struct seen *last,
				       __u64 runtime)
{
	__u32 tgid = p->tgid;
	struct joined_at *j = bpf_map_lookup_elem(&joined, &tgid);
	__u64 now = bpf_ktime_get_ns();

	if (!j)
		return NOT_JOINED;
	last->cand = 0;
	if (!bpf_task_storage_get(&member, p, 0, 0))
		bpf_task_storage_get(&member, p, &j->gid,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (p->pid == j->tid)
		return runtime > j->runtime ? runtime - j->runtime : 0;
	return now > j->t_ns ? now - j->t_ns : 0;
}

/* p ran on this CPU until now: charge what it ran since last time. A
 * task seen for the first time (it was running when we attached) only
 * gets its baseline. */
static __always_inline void flush(struct task_struct *p)
{
	struct seen now = now_of(p);
	struct seen *last;
	__u64 run, since = NOT_JOINED;

	if (!p->pid)
		return; /* the idle task: never charged by cpuacct */
	last = bpf_task_storage_get(&charged, p, &now,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!last)
		return;
	if (last->cand)
		since = join_late(p, last, now.runtime);
	/* values only grow; anything else (a fresh entry) charges nothing */
	if (now.runtime <= last->runtime && now.utime <= last->utime &&
	    now.stime <= last->stime)
		return;
	run = now.runtime > last->runtime ? now.runtime - last->runtime : 0;
	/* the run since the last charge is one stretch up to now: what of
	 * it came before its process joined stays in the root */
	if (run > since) {
		charge(BPFACCT_ROOT_GID, run - since, 0, 0);
		run = since;
	}
	charge(group_of(p), run,
	       now.utime > last->utime ? now.utime - last->utime : 0,
	       now.stime > last->stime ? now.stime - last->stime : 0);
	last->runtime = now.runtime;
	last->utime = now.utime;
	last->stime = now.stime;
}

/* p is switched out for the last time: keep what it ran, for the
 * creation chains that pass through it. */
static __always_inline void record_exit(struct task_struct *p)
{
	struct korigin *o = bpf_task_storage_get(&origin, p, 0, 0);
	struct kexited rec = {};
	__u64 run = p->se.sum_exec_runtime;
	__u32 tid = p->pid;

	if (!o)
		return; /* far from any attach, or born before us: no chain */
	rec.ran = run > o->since ? run - o->since : 0;
	rec.creator = o->creator;
	rec.attached = o->attached;
	bpf_map_update_elem(&exited, &tid, &rec, BPF_ANY);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct seen now;

	flush(prev);
	if (!preempt && (prev_state & TASK_DEAD_STATE) && prev->pid)
		record_exit(prev);
	/* next has not run since these values: its baseline, if new */
	if (next->pid) {
		now = now_of(next);
		bpf_task_storage_get(&charged, next, &now,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	}
	return 0;
}

SEC("tp_btf/hrtimer_expire_exit")
int BPF_PROG(on_timer, struct hrtimer *timer)
{
	flush(bpf_get_current_task_btf());
	return 0;
}

static __always_inline __u32 group_of_pidns(struct task_struct *task)
{
	struct pid *pid = task->thread_pid;
	unsigned int level;
	struct upid up;
	__u32 inum, *gid;

	if (!pid)
		return BPFACCT_ROOT_GID;
	level = BPF_CORE_READ(pid, level);
	if (!level || level >= MAX_PIDNS_LEVEL)
		return BPFACCT_ROOT_GID; /* the host's own namespace */
	if (bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[level]))
		return BPFACCT_ROOT_GID;
	inum = BPF_CORE_READ(up.ns, ns.inum);
	gid = bpf_map_lookup_elem(&nsgroup, &inum);
	return gid && *gid < max_groups ? *gid : BPFACCT_ROOT_GID;
}

/* A runtime putting a task in a kernel cgroup (runc's Apply): a kernel
 * group counts it from here. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(on_attach, struct cgroup *dst, const char *path,
	     struct task_struct *task, bool threadgroup)
{
	struct korigin *o;
	struct joined_at j = {};
	struct seen *seen;
	__u32 gid, tgid;

	if (cpuacct_hierarchy &&
	    BPF_CORE_READ(dst, root, hierarchy_id) != cpuacct_hierarchy)
		return 0;
	o = bpf_task_storage_get(&origin, task, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (o) {
		o->since = task->se.sum_exec_runtime;
		o->attached = 1;
		o->depth = 0;
	}
	/* runc exec puts its process in the container's cgroups here, once
	 * it is in the container's namespaces: the kernel's group counts it
	 * from now, and so does the container's group */
	if (bpf_task_storage_get(&member, task, 0, 0))
		return 0;
	gid = group_of_pidns(task);
	if (gid == BPFACCT_ROOT_GID)
		return 0;
	seen = bpf_task_storage_get(&charged, task, 0, 0);
	if (!threadgroup || !seen) {
		bpf_task_storage_get(&member, task, &gid,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
		return 0;
	}
	/* the leader may be running on another CPU: it joins, like its
	 * other threads, at its next charge, which splits its stretch */
	j.gid = gid;
	j.tid = task->pid;
	j.t_ns = bpf_ktime_get_ns();
	j.runtime = task->se.sum_exec_runtime;
	tgid = task->tgid;
	bpf_map_update_elem(&joined, &tgid, &j, BPF_ANY);
	seen->cand = 1;
	return 0;
}

/* The group of task's pid namespace, if a container's; else root. */
SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, __u64 clone_flags)
{
	struct seen zero = {};
	struct task_struct *cur = bpf_get_current_task_btf();
	struct korigin *co = bpf_task_storage_get(&origin, cur, 0, 0);
	__u32 gid = group_of(cur);

	/* a new task has run nothing yet, and starts where its creator is */
	if (gid == BPFACCT_ROOT_GID && (clone_flags & CLONE_THREAD_FLAG) &&
	    group_of_pidns(task) != BPFACCT_ROOT_GID)
		zero.cand = 1;
	bpf_task_storage_get(&charged, task, &zero,
			     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (co && co->depth < KORIGIN_DEPTH) {
		struct korigin o = {.creator = cur->pid, .depth = co->depth + 1};

		bpf_task_storage_get(&origin, task, &o,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	}
	if (gid != BPFACCT_ROOT_GID)
		bpf_task_storage_get(&member, task, &gid,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	return 0;
}
