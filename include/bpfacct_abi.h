/* bpfacct_abi.h - what the in-kernel counter program and the daemon share.
 *
 * Included by the BPF program (src/bpf/cpuacct.bpf.c) and by user space,
 * so it uses plain C types only.
 */
#ifndef CPUACCTFS_BPFACCT_ABI_H
#define CPUACCTFS_BPFACCT_ABI_H

/* One group's counters on one CPU, as the kernel's cpuacct keeps them:
 * the scheduler's runtime, and the ticks charged in user and system
 * mode (user + nice, system + irq + softirq). The program adds to them
 * atomically; the daemon only reads. Slot gid * ncpu + cpu of an
 * mmapable array holds them, charged to the task's own group only: the
 * daemon adds each group's slots to its ancestors. */
struct kslot {
	unsigned long long usage;
	unsigned long long user;
	unsigned long long sys;
};

/* A task's creation, for following chains of creators (bpfacct_lineage):
 * the creating thread's id, and the task's runtime when it was last put
 * in a kernel cgroup (attached = 1), else 0 (counted from birth). Kept
 * only for tasks a few generations from such a put (KORIGIN_DEPTH): a
 * runtime's chain is short, and the host's other forks and exits then
 * pay for nothing of it. */
#define KORIGIN_DEPTH 4
struct korigin {
	unsigned long long since;
	unsigned int creator;
	unsigned int attached;
	unsigned int depth; /* generations since the last attach */
	unsigned int pad;
};

/* A thread that exited: what it ran since its origin's since, and the
 * same creator and attached. */
struct kexited {
	unsigned long long ran;
	unsigned int creator;
	unsigned int attached;
};

/* Group 0 is the root, the group of every task no one moved. */
#define BPFACCT_ROOT_GID 0

#endif
