/* fuseconn.h - serve a FUSE connection that another process may have
 * opened, and that a process before us may have served.
 *
 * The kernel keeps a connection for as long as any process holds its
 * /dev/fuse file open, so the holder (holder.h) keeps it and the
 * process that serves it may die and be replaced. The kernel sends
 * INIT only once per connection: the first server records it (once
 * answered) in a file the holder keeps, and each later one replays it
 * to its own libfuse session, which negotiates exactly what the kernel
 * was told, and swallows the answer. Then it asks the kernel to queue
 * again the requests a dead server had read but not answered
 * (FUSE_NOTIFY_RESEND, Linux 6.9), so their callers see a pause, not an
 * error.
 */
#ifndef CPUACCTFS_FUSECONN_H
#define CPUACCTFS_FUSECONN_H

#include "fs.h"

/* Serve the connection on fuse_fd with session se; init_fd holds the
 * recorded INIT (empty: none was answered yet). after_another: a server
 * ran before us, whose unanswered requests are to be sent again. 0, or
 * -errno. */
int fuseconn_adopt(struct fuse_session *se, int fuse_fd, int init_fd,
		   bool after_another);

/* Whether the INIT was replayed (this process is not the first). */
bool fuseconn_replayed(void);

#endif
