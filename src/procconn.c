/* procconn.c - fork/exec/exit events from the netlink proc connector.
 *
 * Needs CAP_NET_ADMIN (-EPERM otherwise). Inside a new pid or user
 * namespace the subscription is silently ignored by the kernel: the
 * socket opens but no event ever arrives.
 */
#include "procconn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <glib.h>

/* A 40,000-fork burst fits in 16 MiB; the default buffer drops ~140. */
#define PROCCONN_RCVBUF (16 * 1024 * 1024)

struct procconn {
	int fd;
};

/* The control message the connector expects: header, then the op. */
struct mcast_msg {
	struct nlmsghdr nl;
	struct cn_msg cn;
	enum proc_cn_mcast_op op;
} __attribute__((packed));

static int send_op(int fd, enum proc_cn_mcast_op op)
{
	struct mcast_msg m;

	memset(&m, 0, sizeof(m));
	m.nl.nlmsg_len = sizeof(m);
	m.nl.nlmsg_type = NLMSG_DONE;
	m.nl.nlmsg_pid = 0;
	m.cn.id.idx = CN_IDX_PROC;
	m.cn.id.val = CN_VAL_PROC;
	m.cn.len = sizeof(m.op);
	m.op = op;
	if (send(fd, &m, sizeof(m), 0) < 0)
		return -errno;
	return 0;
}

static int setup_socket(int fd)
{
	struct sockaddr_nl sa = {
	    .nl_family = AF_NETLINK,
	    .nl_groups = CN_IDX_PROC,
	};
	const char *test_size = getenv("CPUACCTFS_TEST_CONN_RCVBUF");
	int size = PROCCONN_RCVBUF;

	/* tests make the connector lose events on purpose with a tiny
	 * buffer, to exercise the rescan that follows */
	if (test_size && atoi(test_size) > 0)
		size = atoi(test_size);
	/* FORCE needs CAP_NET_ADMIN, as does LISTEN; but the kernel refuses
	 * LISTEN without telling the sender, so fail here instead */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return send_op(fd, PROC_CN_MCAST_LISTEN);
}

struct procconn *procconn_open(int *err)
{
	struct procconn *pc;
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_CONNECTOR);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	ret = setup_socket(fd);
	if (ret < 0) {
		close(fd);
		*err = ret;
		return NULL;
	}
	pc = g_new0(struct procconn, 1);
	pc->fd = fd;
	*err = 0;
	return pc;
}

void procconn_close(struct procconn *pc)
{
	if (!pc)
		return;
	send_op(pc->fd, PROC_CN_MCAST_IGNORE);
	close(pc->fd);
	g_free(pc);
}

int procconn_fd(const struct procconn *pc)
{
	return pc->fd;
}

static bool translate(const struct proc_event *pe, struct pc_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->cpu = (int)pe->cpu;
	ev->ts_ns = pe->timestamp_ns;
	switch (pe->what) {
	case PROC_EVENT_FORK:
		ev->kind = PC_FORK;
		ev->parent_pid = pe->event_data.fork.parent_pid;
		ev->parent_tgid = pe->event_data.fork.parent_tgid;
		ev->pid = pe->event_data.fork.child_pid;
		ev->tgid = pe->event_data.fork.child_tgid;
		return true;
	case PROC_EVENT_EXEC:
		ev->kind = PC_EXEC;
		ev->pid = pe->event_data.exec.process_pid;
		ev->tgid = pe->event_data.exec.process_tgid;
		return true;
	case PROC_EVENT_EXIT:
		ev->kind = PC_EXIT;
		ev->pid = pe->event_data.exit.process_pid;
		ev->tgid = pe->event_data.exit.process_tgid;
		ev->exit_code = pe->event_data.exit.exit_code;
		return true;
	default:
		return false;
	}
}

/* One netlink message: deliver it if it is a proc event we track. */
static int handle_msg(const struct nlmsghdr *nh, procconn_fn fn, void *data)
{
	const struct cn_msg *cn = NLMSG_DATA(nh);
	size_t room = nh->nlmsg_len - NLMSG_HDRLEN;
	struct proc_event pe;
	struct pc_event ev;

	if (room < sizeof(*cn) || cn->id.idx != CN_IDX_PROC ||
	    cn->id.val != CN_VAL_PROC)
		return 0;
	room -= sizeof(*cn);
	if (cn->len < room)
		room = cn->len;
	/* the event sits at a 4-byte offset: copy it out to align it;
	 * older kernels send a shorter union, so zero-fill the rest */
	memset(&pe, 0, sizeof(pe));
	memcpy(&pe, cn->data, MIN(room, sizeof(pe)));
	if (!translate(&pe, &ev))
		return 0;
	fn(&ev, data);
	return 1;
}

static int handle_datagram(const void *buf, size_t len, procconn_fn fn,
			   void *data)
{
	const struct nlmsghdr *nh = buf;
	int n = 0;

	for (; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
		if (nh->nlmsg_type == NLMSG_ERROR ||
		    nh->nlmsg_type == NLMSG_NOOP)
			continue;
		n += handle_msg(nh, fn, data);
	}
	return n;
}

static void deliver_lost(procconn_fn fn, void *data)
{
	struct pc_event ev = {.kind = PC_LOST, .cpu = -1};

	fn(&ev, data);
}

/* Datagrams taken per system call: a storm of forks and exits is read a
 * batch at a time. */
#define DRAIN_BATCH 64
#define DATAGRAM_MAX 512 /* one event is ~100 bytes, one per datagram */

int procconn_drain(struct procconn *pc, procconn_fn fn, void *data)
{
	char bufs[DRAIN_BATCH][DATAGRAM_MAX]
	    __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl from[DRAIN_BATCH];
	struct iovec iov[DRAIN_BATCH];
	struct mmsghdr msgs[DRAIN_BATCH];
	int n = 0, got;

	for (int i = 0; i < DRAIN_BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], DATAGRAM_MAX};
		msgs[i] =
		    (struct mmsghdr){.msg_hdr = {.msg_name = &from[i],
						 .msg_namelen = sizeof(from[i]),
						 .msg_iov = &iov[i],
						 .msg_iovlen = 1}};
	}
	for (;;) {
		got = recvmmsg(pc->fd, msgs, DRAIN_BATCH, 0, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return n;
			if (errno != ENOBUFS)
				return -errno;
			deliver_lost(fn, data);
			n++;
			continue;
		}
		for (int i = 0; i < got; i++) {
			/* only the kernel (port 0) may speak for the
			 * connector */
			if (from[i].nl_pid == 0)
				n += handle_datagram(bufs[i], msgs[i].msg_len,
						     fn, data);
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		if (got < DRAIN_BATCH)
			return n;
	}
}
