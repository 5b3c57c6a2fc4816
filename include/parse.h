/* parse.h - the kernel's parsers for writes to cpuacct control files.
 *
 * Each function takes the bytes of one write() exactly as the caller
 * passed them (not NUL-terminated, may contain NULs) and returns 0 or
 * the negative errno the kernel's cgroup v1 handler returns for the
 * same bytes (see shared/reference/kernel-cpuacct.md).
 *
 * An empty write (len 0) succeeds in the kernel and changes nothing.
 * Every function returns 0 for it without touching its output, except
 * that parse_pid() sets -1 ("no task") and parse_release_agent() sets
 * NULL; a caller of parse_usage_reset() must check len itself. (FUSE
 * never forwards an empty write, so the daemon does not see one.)
 */
#ifndef CPUACCTFS_PARSE_H
#define CPUACCTFS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest write a cgroup file accepts (kernfs atomic_write_len). */
#define PARSE_MAX_WRITE 4096

/* The kernel's kstrtoull(s, 0, &v) on a NUL-terminated string:
 * optional '+', base by prefix (0x hex, 0 octal, else decimal), one
 * optional trailing '\n', nothing else. -EINVAL or -ERANGE. */
int parse_kstrtoull(const char *s, uint64_t *value);

/* cpuacct.usage: only zero is accepted (-EINVAL otherwise). */
int parse_usage_reset(const char *buf, size_t len);

/* notify_on_release, cgroup.clone_children: any u64, nonzero = true. */
int parse_flag(const char *buf, size_t len, bool *value);

/* tasks, cgroup.procs: kstrtoint(strstrip(buf), 0) and not negative;
 * every failure is -EINVAL, as in the kernel. 0 means the writer. */
int parse_pid(const char *buf, size_t len, int *pid);

/* release_agent: stripped path, newly allocated (g_free); -E2BIG when
 * len >= 4096 (its kernfs limit is PATH_MAX - 1). */
int parse_release_agent(const char *buf, size_t len, char **path);

/* A new group's name: -EINVAL if it holds a newline, -ENAMETOOLONG
 * past 4095 bytes. The kernel has no 255-byte limit for cgroup names;
 * only the whole path is limited (PATH_MAX). */
int parse_group_name(const char *name);

#endif
