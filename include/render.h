/* render.h - the kernel's cpuacct text formats, byte for byte.
 *
 * Pure functions: each appends one file's whole content to a GString.
 * Nothing here knows about groups, snapshots or FUSE.
 */
#ifndef CPUACCTFS_RENDER_H
#define CPUACCTFS_RENDER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cpuacct.usage, usage_user, usage_sys: "%llu\n" */
void render_u64(GString *out, uint64_t value);

/* usage_percpu*: "%llu " for each of n CPUs, then "\n" */
void render_percpu(GString *out, const uint64_t *values, unsigned n);

/* usage_all: "cpu user system\n", then "%u %llu %llu\n" per CPU */
void render_usage_all(GString *out, const uint64_t *user, const uint64_t *sys,
		      unsigned n);

/* cpuacct.stat: "user %llu\nsystem %llu\n" (USER_HZ ticks) */
void render_stat(GString *out, uint64_t user_ticks, uint64_t system_ticks);

/* tasks, cgroup.procs: "%d\n" per id; ids must already be sorted */
void render_ids(GString *out, const int *ids, size_t n);

/* notify_on_release, cgroup.clone_children, cgroup.sane_behavior */
void render_flag(GString *out, bool value);

/* release_agent: the path, then "\n" */
void render_line(GString *out, const char *text);

#endif
