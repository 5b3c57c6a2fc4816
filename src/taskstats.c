/* taskstats.c - tick counts per task over generic netlink.
 *
 * Two sockets: the listener gets the exit records the kernel pushes
 * (non-blocking, drained by the sampler), the other sends requests and
 * waits for their answers, so an answer is never mixed with records.
 */
#include <errno.h>
#include <glib.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "taskstats.h"

/* Exit records are about 500 bytes; a storm of short processes between
 * two passes fits many times over. */
#define TS_RCVBUF (8 << 20)
#define TS_REPLY_TIMEOUT_MS 1000
#define TS_BUF 8192

struct ts_conn {
	int listen_fd;
	int query_fd;
	uint16_t family;
	uint32_t seq;
	char cpumask[64];
};

struct nl_request {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[128];
};

static const struct nlattr *nla_next(const struct nlattr *na, size_t *left)
{
	size_t step = NLA_ALIGN(na->nla_len);

	*left = step < *left ? *left - step : 0;
	return (const struct nlattr *)((const char *)na + step);
}

static bool nla_ok(const struct nlattr *na, size_t left)
{
	return left >= sizeof(*na) && na->nla_len >= sizeof(*na) &&
	       na->nla_len <= left;
}

static const void *nla_data(const struct nlattr *na)
{
	return (const char *)na + NLA_HDRLEN;
}

static size_t nla_len(const struct nlattr *na)
{
	return na->nla_len - NLA_HDRLEN;
}

/* ack: ask for an acknowledgement after the answer (an error is always
 * answered). A query goes without: its answer is the end. */
static int send_request(int fd, uint16_t type, uint8_t cmd, uint16_t attr,
			const void *payload, size_t size, uint32_t seq,
			bool ack)
{
	struct nl_request req = {0};
	struct nlattr *na = (struct nlattr *)req.attrs;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	if (size > sizeof(req.attrs) - NLA_HDRLEN)
		return -EINVAL;
	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0);
	req.nh.nlmsg_seq = seq;
	req.gh.cmd = cmd;
	req.gh.version = 1;
	na->nla_type = attr;
	na->nla_len = NLA_HDRLEN + size;
	memcpy(req.attrs + NLA_HDRLEN, payload, size);
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(na->nla_len);
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

/* Wait for the messages answering request seq; fn sees each data
 * message. Returns 0 once the kernel acknowledged (or, with until_ack
 * false, answered), or its -errno. */
typedef void (*reply_fn)(const struct nlmsghdr *nh, void *data);

static int await_reply(int fd, uint32_t seq, reply_fn fn, void *data,
		       bool until_ack)
{
	char buf[TS_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		/* the kernel answers while it handles the request, so the
		 * answer is usually there already */
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN) {
			if (poll(&pfd, 1, TS_REPLY_TIMEOUT_MS) == 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		     NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != seq)
				continue; /* a late answer to an older one */
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error;
			}
			if (fn)
				fn(nh, data);
			if (!until_ack)
				return 0;
		}
	}
}

static void take_family(const struct nlmsghdr *nh, void *data)
{
	const struct nlattr *na =
	    (const void *)((const char *)NLMSG_DATA(nh) + GENL_HDRLEN);
	size_t left = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	for (; nla_ok(na, left); na = nla_next(na, &left))
		if (na->nla_type == CTRL_ATTR_FAMILY_ID &&
		    nla_len(na) >= sizeof(uint16_t))
			memcpy(data, nla_data(na), sizeof(uint16_t));
}

static int resolve_family(struct ts_conn *ts)
{
	int err = send_request(ts->query_fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
			       CTRL_ATTR_FAMILY_NAME, TASKSTATS_GENL_NAME,
			       sizeof(TASKSTATS_GENL_NAME), ++ts->seq, true);

	if (!err)
		err = await_reply(ts->query_fd, ts->seq, take_family,
				  &ts->family, true);
	return err ? err : ts->family ? 0 : -ENOENT;
}

static void read_possible_cpus(struct ts_conn *ts, unsigned int ncpu)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");

	if (!f || !fgets(ts->cpumask, sizeof(ts->cpumask), f))
		snprintf(ts->cpumask, sizeof(ts->cpumask), "0-%u",
			 ncpu ? ncpu - 1 : 0);
	if (f)
		fclose(f);
	ts->cpumask[strcspn(ts->cpumask, "\n")] = '\0';
}

static int open_socket(bool listener)
{
	struct sockaddr_nl self = {.nl_family = AF_NETLINK};
	int size = TS_RCVBUF;
	int fd =
	    socket(AF_NETLINK,
		   SOCK_RAW | SOCK_CLOEXEC | (listener ? SOCK_NONBLOCK : 0),
		   NETLINK_GENERIC);

	if (fd < 0)
		return -errno;
	if (listener &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)))
		g_message("taskstats: small receive buffer: %s",
			  g_strerror(errno));
	if (bind(fd, (struct sockaddr *)&self, sizeof(self)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Register (or with deregister, stop) the listener for exit records. */
static int set_listener(struct ts_conn *ts, bool deregister)
{
	uint16_t attr = deregister ? TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK
				   : TASKSTATS_CMD_ATTR_REGISTER_CPUMASK;
	int err =
	    send_request(ts->listen_fd, ts->family, TASKSTATS_CMD_GET, attr,
			 ts->cpumask, strlen(ts->cpumask) + 1, ++ts->seq, true);

	return err ? err
		   : await_reply(ts->listen_fd, ts->seq, NULL, NULL, true);
}

struct ts_conn *taskstats_open(unsigned int ncpu, int *err)
{
	struct ts_conn *ts = g_new0(struct ts_conn, 1);

	ts->listen_fd = open_socket(true);
	ts->query_fd = open_socket(false);
	read_possible_cpus(ts, ncpu);
	*err = ts->listen_fd < 0  ? ts->listen_fd
	       : ts->query_fd < 0 ? ts->query_fd
				  : resolve_family(ts);
	if (!*err)
		*err = set_listener(ts, false);
	if (*err) {
		if (ts->listen_fd >= 0)
			close(ts->listen_fd);
		if (ts->query_fd >= 0)
			close(ts->query_fd);
		g_free(ts);
		return NULL;
	}
	return ts;
}

int taskstats_fd(const struct ts_conn *ts)
{
	return ts->listen_fd;
}

void taskstats_close(struct ts_conn *ts)
{
	if (!ts)
		return;
	set_listener(ts, true);
	close(ts->listen_fd);
	close(ts->query_fd);
	g_free(ts);
}

/* ---- parsing ---- */

#define TS_END(field)                                                          \
	(offsetof(struct taskstats, field) +                                   \
	 sizeof(((struct taskstats *)0)->field))

/* Reads the fields one by one: the kernel's struct is newer and
 * longer than this header's, but only ever grows at the end. */
static bool take_stats(const struct nlattr *na, struct ts_rec *rec)
{
	const char *s = nla_data(na);
	uint64_t utime_us, stime_us, etime_us;

	if (nla_len(na) < TS_END(ac_stime))
		return false;
	memcpy(&etime_us, s + offsetof(struct taskstats, ac_etime), 8);
	memcpy(&utime_us, s + offsetof(struct taskstats, ac_utime), 8);
	memcpy(&stime_us, s + offsetof(struct taskstats, ac_stime), 8);
	memcpy(&rec->run_ns,
	       s + offsetof(struct taskstats, cpu_run_virtual_total), 8);
	rec->user_ns = utime_us * 1000;
	rec->sys_ns = stime_us * 1000;
	rec->age_ns = etime_us * 1000;
	return true;
}

/* One TASKSTATS_TYPE_AGGR_PID: the pid, then its stats. */
static bool take_aggr_pid(const struct nlattr *aggr, struct ts_rec *rec)
{
	const struct nlattr *na = nla_data(aggr);
	size_t left = nla_len(aggr);
	bool have_pid = false, have_stats = false;
	uint32_t pid;

	for (; nla_ok(na, left); na = nla_next(na, &left)) {
		if (na->nla_type == TASKSTATS_TYPE_PID &&
		    nla_len(na) >= sizeof(pid)) {
			memcpy(&pid, nla_data(na), sizeof(pid));
			rec->tid = (pid_t)pid;
			have_pid = true;
		} else if (na->nla_type == TASKSTATS_TYPE_STATS) {
			have_stats = take_stats(na, rec);
		}
	}
	return have_pid && have_stats && rec->tid > 0;
}

int taskstats_parse(const void *msg, size_t len, ts_rec_fn fn, void *data)
{
	const struct nlattr *na;
	size_t left;
	int n = 0;

	if (len < GENL_HDRLEN)
		return -EBADMSG;
	na = (const void *)((const char *)msg + GENL_HDRLEN);
	left = len - GENL_HDRLEN;
	for (; nla_ok(na, left); na = nla_next(na, &left)) {
		struct ts_rec rec = {0};

		if (na->nla_type != TASKSTATS_TYPE_AGGR_PID)
			continue;
		if (!take_aggr_pid(na, &rec))
			return -EBADMSG;
		fn(&rec, data);
		n++;
	}
	return n;
}

/* ---- the two uses ---- */

int taskstats_drain(struct ts_conn *ts, ts_rec_fn fn, void *data,
		    uint64_t *lost)
{
	char buf[TS_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	int total = 0;

	for (;;) {
		ssize_t n = recv(ts->listen_fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			(*lost)++;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN ? total : -errno;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		     NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			int got;

			if (nh->nlmsg_type != ts->family)
				continue;
			got = taskstats_parse(NLMSG_DATA(nh),
					      nh->nlmsg_len - NLMSG_HDRLEN, fn,
					      data);
			if (got > 0)
				total += got;
		}
	}
}

static void take_one(const struct ts_rec *rec, void *data)
{
	*(struct ts_rec *)data = *rec;
}

static void take_answer(const struct nlmsghdr *nh, void *data)
{
	taskstats_parse(NLMSG_DATA(nh), nh->nlmsg_len - NLMSG_HDRLEN, take_one,
			data);
}

int taskstats_query(struct ts_conn *ts, pid_t tid, struct ts_rec *out)
{
	uint32_t pid = (uint32_t)tid;
	int err;

	memset(out, 0, sizeof(*out));
	err = send_request(ts->query_fd, ts->family, TASKSTATS_CMD_GET,
			   TASKSTATS_CMD_ATTR_PID, &pid, sizeof(pid), ++ts->seq,
			   false);
	if (!err)
		err =
		    await_reply(ts->query_fd, ts->seq, take_answer, out, false);
	if (!err && out->tid != tid)
		err = -ESRCH;
	return err;
}
