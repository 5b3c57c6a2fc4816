/* files.h - the control files of a group, and what each one reads.
 *
 * The table names every file with its mode; files_render produces one
 * file's bytes from a snapshot. Inode numbers are built from a group id,
 * its serial and a slot here, slot 0 being the directory itself.
 */
#ifndef CPUACCTFS_FILES_H
#define CPUACCTFS_FILES_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "pidns.h"
#include "snapshot.h"

enum cg_file {
	CGF_DIR = 0,
	CGF_CLONE_CHILDREN,
	CGF_PROCS,
	CGF_SANE_BEHAVIOR,
	CGF_USAGE,
	CGF_USAGE_ALL,
	CGF_USAGE_PERCPU,
	CGF_USAGE_PERCPU_SYS,
	CGF_USAGE_PERCPU_USER,
	CGF_USAGE_SYS,
	CGF_USAGE_USER,
	CGF_STAT,
	CGF_NOTIFY_ON_RELEASE,
	CGF_RELEASE_AGENT,
	CGF_TASKS,
	CGF_COUNT
};

struct cg_file_info {
	const char *name;
	mode_t mode;
	bool root_only;
};

const struct cg_file_info *files_info(enum cg_file f);

/* The file called name in a group (root or not); CGF_DIR if none. */
enum cg_file files_lookup(const char *name, bool is_root);

bool files_exists(enum cg_file f, bool is_root);

/* Whether f shows CPU time (cpuacct.usage*, cpuacct.stat). */
bool files_is_counter(enum cg_file f);

/* Inode numbers: the group's id and slot in the low half (FUSE's root,
 * 1, is group 0's directory), the low half of the group's serial in the
 * high half, as kernfs puts a generation there: an id handed to a new
 * group never names a removed group's files, even to a kernel that
 * still caches them. */
#define FILES_INO_LOW 0xffffffffULL

static inline uint64_t files_ino(unsigned int gid, uint64_t serial,
				 enum cg_file f)
{
	uint64_t high = gid ? (serial & FILES_INO_LOW) << 32 : 0;

	return high | ((uint64_t)gid * CGF_COUNT + f + 1);
}

static inline unsigned int files_ino_gid(uint64_t ino)
{
	return ((ino & FILES_INO_LOW) - 1) / CGF_COUNT;
}

static inline enum cg_file files_ino_file(uint64_t ino)
{
	return (enum cg_file)(((ino & FILES_INO_LOW) - 1) % CGF_COUNT);
}

/* Whether ino names a file of this group, not of an earlier one that had
 * its id. */
static inline bool files_ino_current(uint64_t ino, unsigned int gid,
				     uint64_t serial)
{
	return ino == files_ino(gid, serial, files_ino_file(ino));
}

/* One file's bytes; ids in tasks and cgroup.procs as the reader's pid
 * namespace sees them (reader NULL: the daemon's own). */
void files_render(const struct snapshot *snap, const struct snap_group *g,
		  enum cg_file f, const struct pidns *reader, GString *out);

/* tasks or cgroup.procs from a sorted list of ids. */
void files_render_ids(const GArray *ids, const struct pidns *reader,
		      GString *out);

#endif
