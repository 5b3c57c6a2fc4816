/* procconn.h - fork/exit events from the netlink proc connector.
 *
 * The socket gets a 16 MiB receive buffer (SO_RCVBUFFORCE) so bursts
 * are not lost; when they are anyway (ENOBUFS), a PC_LOST event tells
 * the caller to rescan /proc.
 */
#ifndef CPUACCTFS_PROCCONN_H
#define CPUACCTFS_PROCCONN_H

#include <stdint.h>
#include <sys/types.h>

enum pc_kind {
	PC_FORK, /* parent_* created child_* (a process or a thread) */
	PC_EXEC, /* pid/tgid exec'ed */
	PC_EXIT, /* pid/tgid exited; for a leader, the process may be a zombie
		  */
	PC_LOST, /* events were dropped: rescan */
};

struct pc_event {
	enum pc_kind kind;
	int cpu;	  /* CPU the event was emitted on */
	uint64_t ts_ns;	  /* kernel timestamp (CLOCK_MONOTONIC ns) */
	pid_t parent_pid; /* PC_FORK: creating thread, its tgid */
	pid_t parent_tgid;
	pid_t pid; /* PC_FORK: child; else the task */
	pid_t tgid;
	uint32_t exit_code; /* PC_EXIT */
};

struct procconn;

/* Open, subscribe; NULL and *err = -errno on failure (-EPERM without
 * CAP_NET_ADMIN, which the kernel would otherwise ignore silently). */
struct procconn *procconn_open(int *err);
void procconn_close(struct procconn *pc);
int procconn_fd(const struct procconn *pc); /* non-blocking, for poll */

/* Deliver every event queued now, without blocking. Returns the number
 * delivered or a negative errno other than EAGAIN/ENOBUFS. */
typedef void (*procconn_fn)(const struct pc_event *ev, void *data);
int procconn_drain(struct procconn *pc, procconn_fn fn, void *data);

#endif
