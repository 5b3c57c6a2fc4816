/* fs.h - the FUSE low-level layer: requests in, snapshots and control
 * calls out. No accounting logic lives here. */
#ifndef CPUACCTFS_FS_H
#define CPUACCTFS_FS_H

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

#include "sampler.h"

struct fs;

/* cache: serve reads from the kernel's page cache (open answered with
 * ENOSYS, sizes reported, pages invalidated when a snapshot changes
 * them); otherwise every read reaches the daemon (direct I/O, size 0,
 * as cgroupfs reports). */
struct fs *fs_new(struct sampler *s, bool cache);
void fs_free(struct fs *fs);

/* Once the session exists: cache mode starts invalidating from here. */
void fs_start(struct fs *fs, struct fuse_session *se);
void fs_stop(struct fs *fs);

/* File handles start after fh: the kernel still holds those an earlier
 * server of the connection handed out, which must not name ours. */
void fs_set_first_fh(struct fs *fs, uint64_t fh);

/* The operations table; the session's userdata is the struct fs. */
const struct fuse_lowlevel_ops *fs_ops(void);

#endif
