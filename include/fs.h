/* fs.h - the FUSE low-level layer: requests in, snapshots and control
 * calls out. No accounting logic lives here. */
#ifndef CPUACCTFS_FS_H
#define CPUACCTFS_FS_H

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

#include "sampler.h"

/* The operations table; the session's userdata is a struct sampler. */
const struct fuse_lowlevel_ops *fs_ops(void);

#endif
