/* procfs.h - what the sampler reads about tasks from /proc and clocks.
 *
 * Every function returns 0 or a negative errno; -ESRCH means the task
 * is gone (also when /proc says ENOENT).
 */
#ifndef CPUACCTFS_PROCFS_H
#define CPUACCTFS_PROCFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* PF_* bits of /proc/PID/stat field 9 that matter to moves. */
#define PROCFS_PF_KTHREAD 0x00200000u
#define PROCFS_PF_NO_SETAFFINITY 0x04000000u

/* The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) we use. */
struct proc_stat {
	int pid;
	char state; /* 'R', 'S', 'Z', ... */
	int ppid;
	unsigned int flags; /* PF_* */
	uint64_t utime;	    /* USER_HZ ticks, fields 14-17 */
	uint64_t stime;
	uint64_t cutime;
	uint64_t cstime;
	uint64_t start_time; /* field 22, USER_HZ ticks since boot */
	int processor;	     /* field 39, last CPU */
};

/* Parse the text of a stat file (comm may hold spaces and ')'). Pure. */
int procfs_parse_stat(const char *text, struct proc_stat *st);

/* /proc/PID/stat when tid == 0, else /proc/PID/task/TID/stat. */
int procfs_read_stat(pid_t pid, pid_t tid, struct proc_stat *st);

/* Whole-process CPU time in ns (all threads, exited ones included),
 * from the process CPU clock; works on zombies until they are reaped.
 * pid must be a thread group leader: any other tid gives -ESRCH. */
int procfs_process_clock(pid_t pid, uint64_t *ns);

/* One thread's runtime in ns: /proc/PID/task/TID/schedstat field 1. */
int procfs_thread_runtime(pid_t pid, pid_t tid, uint64_t *ns);

/* Real and saved uid, from /proc/PID/status "Uid:": those cgroup v1
 * compares a writer's euid with. */
int procfs_read_uids(pid_t pid, uid_t *ruid, uid_t *suid);

/* Effective uid: what an open file keeps of its opener (fs.c). */
int procfs_read_euid(pid_t pid, uid_t *euid);

/* Whether task pid has capability cap (CAP_*) in its effective set and
 * lives in the initial user namespace: the kernel's capable(). */
bool procfs_capable_init_ns(pid_t pid, int cap);

/* NSpid of /proc/TID/status: the task's id in each pid namespace it is
 * in, the daemon's first. Returns how many (>= 1) or -errno. */
int procfs_read_nspids(pid_t tid, pid_t *ids, int max);

/* Thread group id of a thread (its Tgid), -ESRCH if none. */
int procfs_tgid_of(pid_t tid, pid_t *tgid);

/* Number of possible CPUs (/sys/devices/system/cpu/possible): what the
 * per-CPU files list, whether or not a CPU is online. */
unsigned int procfs_possible_cpus(void);

/* Every thread of every process, as (tgid, tid) pairs, from /proc's
 * directories. The callback runs once per thread, leaders included. */
typedef void (*procfs_thread_fn)(pid_t tgid, pid_t tid, void *data);
int procfs_scan(procfs_thread_fn fn, void *data);

/* The threads of one process (leader included). */
int procfs_list_threads(pid_t pid, procfs_thread_fn fn, void *data);

#endif
