/* owner.h - who owns a group's directory and files, and their modes.
 *
 * Groups are handed to users in cgroup v1 by chown and chmod (libcgroup's
 * cgcreate -t/-a): kernfs keeps an owner and a mode for the directory and
 * for each file, and so do we. A group made by a user is that user's,
 * directory and files alike (the creator's fsuid and fsgid, as cgroup_mkdir
 * does); chown of the directory leaves its files alone. The daemon only
 * stores and reports these: mounted with default_permissions, the kernel
 * checks every access, chown and chmod against what getattr reports.
 */
#ifndef CPUACCTFS_OWNER_H
#define CPUACCTFS_OWNER_H

#include <stdbool.h>
#include <sys/types.h>

#include "files.h"
#include "group.h"

/* What a setattr asks to change. */
struct owner_change {
	bool set_uid, set_gid, set_mode;
	uid_t uid;
	gid_t gid;
	mode_t mode; /* only the permission bits (07777) are kept */
};

/* A new group's directory and files belong to uid:gid (its creator). */
void owner_init(struct group *g, uid_t uid, gid_t gid);

/* Owner and mode of file f (or the directory: CGF_DIR) of a group whose
 * fields are these (a group's or a snapshot's). */
struct file_attr owner_of(uid_t uid, gid_t gid, mode_t mode,
			  const struct file_attr *files, enum cg_file f);

/* Apply a change to the directory (CGF_DIR) or a file of g. */
void owner_set(struct group *g, enum cg_file f, const struct owner_change *c);

#endif
