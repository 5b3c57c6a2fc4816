/* control.h - what writes and directory operations do to the model.
 *
 * Parses a write the way the kernel's handler does, then applies it
 * under the engine lock. Every function returns 0 or -errno, which the
 * FUSE layer hands back unchanged.
 */
#ifndef CPUACCTFS_CONTROL_H
#define CPUACCTFS_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "engine.h"
#include "files.h"
#include "owner.h"
#include "sampler.h"

int control_write(struct sampler *s, unsigned int gid, enum cg_file f,
		  const char *buf, size_t len, const struct writer *w);
/* w: the creator, whose fsuid and fsgid own the new group */
int control_mkdir(struct sampler *s, unsigned int parent, const char *name,
		  mode_t mode, const struct writer *w, unsigned int *gid);
int control_rmdir(struct sampler *s, unsigned int parent, const char *name);
int control_rename(struct sampler *s, unsigned int parent, const char *name,
		   unsigned int new_parent, const char *new_name);

/* chmod, chown, chgrp of a group's directory (CGF_DIR) or file; the
 * kernel has checked that the caller may (default_permissions). */
int control_setattr(struct sampler *s, unsigned int gid, enum cg_file f,
		    const struct owner_change *c);

#endif
