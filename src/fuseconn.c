/* fuseconn.c - serve a connection across restarts of the server. */
#include <errno.h>
#include <glib.h>
#include <linux/fuse.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuseconn.h"

/* Not in Debian 12's headers yet (Linux 6.9). */
#define NOTIFY_RESEND 7

/* The unique of the replayed INIT: the kernel counts its own up from 0
 * in steps of 2 and marks resent ones with the top bit, so it never
 * hands this one out; its answer stays here. */
#define REPLAY_UNIQUE 0x7ffffffffffffffeULL

static struct {
	int init_fd;
	GMutex lock;
	void *pending; /* the kernel's INIT, until our answer went out */
	size_t pending_len;
	uint64_t pending_unique;
	bool replayed;
} conn;

static void remember_init(const void *buf, ssize_t len)
{
	const struct fuse_in_header *in = buf;

	if (len < (ssize_t)sizeof(*in) || in->opcode != FUSE_INIT)
		return;
	g_mutex_lock(&conn.lock);
	g_free(conn.pending);
	conn.pending = g_memdup2(buf, len);
	conn.pending_len = len;
	conn.pending_unique = in->unique;
	g_mutex_unlock(&conn.lock);
}

static ssize_t conn_read(int fd, void *buf, size_t len, void *data)
{
	ssize_t n = read(fd, buf, len);

	(void)data;
	if (n > 0)
		remember_init(buf, n);
	return n;
}

/* Once the kernel has our answer to its INIT, later servers may replay
 * it: recorded only then, so a server that dies before answering leaves
 * the INIT to be sent again (resend) and answered for real. */
static void commit_init(uint64_t unique)
{
	g_mutex_lock(&conn.lock);
	if (conn.pending && unique == conn.pending_unique) {
		if (pwrite(conn.init_fd, conn.pending, conn.pending_len, 0) !=
			(ssize_t)conn.pending_len ||
		    ftruncate(conn.init_fd, conn.pending_len) != 0)
			g_warning("cannot record the connection's INIT: %s "
				  "(a restart will not find it)",
				  g_strerror(errno));
		g_clear_pointer(&conn.pending, g_free);
	}
	g_mutex_unlock(&conn.lock);
}

static ssize_t iov_len(const struct iovec *iov, int count)
{
	ssize_t n = 0;

	for (int i = 0; i < count; i++)
		n += iov[i].iov_len;
	return n;
}

static ssize_t conn_writev(int fd, struct iovec *iov, int count, void *data)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	ssize_t n;

	(void)data;
	if (out->unique == REPLAY_UNIQUE)
		return iov_len(iov, count); /* the kernel knows it already */
	n = writev(fd, iov, count);
	if (n >= 0 && conn.pending)
		commit_init(out->unique);
	return n;
}

static const struct fuse_custom_io conn_io = {
    .read = conn_read,
    .writev = conn_writev,
};

/* The recorded INIT, or NULL if none was recorded. */
static void *read_init(int fd, size_t *len)
{
	struct fuse_in_header *in;
	off_t end = lseek(fd, 0, SEEK_END);
	void *buf;

	if (end < (off_t)(sizeof(*in) + sizeof(struct fuse_init_in)) ||
	    end > 4096)
		return NULL;
	buf = g_malloc(end);
	if (pread(fd, buf, end, 0) != end) {
		g_free(buf);
		return NULL;
	}
	in = buf;
	if (in->opcode != FUSE_INIT || in->len != (uint32_t)end) {
		g_free(buf);
		return NULL;
	}
	*len = end;
	return buf;
}

static void replay_init(struct fuse_session *se, void *init, size_t len)
{
	struct fuse_in_header *in = init;
	struct fuse_buf buf = {.size = len, .mem = init};

	in->unique = REPLAY_UNIQUE;
	fuse_session_process_buf(se, &buf);
	conn.replayed = true;
}

/* Requests a dead server read but never answered go back in the queue. */
static void ask_resend(int fd)
{
	struct fuse_out_header out = {.len = sizeof(out),
				      .error = NOTIFY_RESEND};

	if (write(fd, &out, sizeof(out)) != sizeof(out))
		g_warning("the kernel cannot send again what the previous "
			  "server had not answered (%s; FUSE_NOTIFY_RESEND "
			  "needs Linux 6.9): those callers wait until "
			  "interrupted",
			  g_strerror(errno));
}

int fuseconn_adopt(struct fuse_session *se, int fuse_fd, int init_fd,
		   bool after_another)
{
	g_autofree void *init = NULL;
	size_t len = 0;
	int err;

	conn.init_fd = init_fd;
	err = fuse_session_custom_io(se, &conn_io, fuse_fd);
	if (err)
		return err;
	/* before any thread reads, so no request meets a session that has
	 * not seen INIT */
	init = read_init(init_fd, &len);
	if (init)
		replay_init(se, init, len);
	if (after_another)
		ask_resend(fuse_fd);
	return 0;
}

bool fuseconn_replayed(void)
{
	return conn.replayed;
}
