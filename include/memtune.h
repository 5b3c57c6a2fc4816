/* memtune.h - how glibc and GLib keep the daemon's memory.
 *
 * Groups come and go by the thousand; their memory must go back to the
 * system when they do (issue 12: the RSS after 10,000 groups came and
 * went is within 10 % of the start). glibc's defaults keep it: each
 * FUSE thread allocates in an arena of its own, and each thread's cache
 * of freed blocks pins the pages they sit on, so that malloc_trim can
 * hand back little. These two calls set what can only be set at start.
 */
#ifndef CPUACCTFS_MEMTUNE_H
#define CPUACCTFS_MEMTUNE_H

/* Before any library's constructor (the executable's .preinit_array):
 * GLib's slab allocator off, one malloc arena, a fixed mmap threshold. */
void memtune_preinit(void);

/* First thing in main: glibc's per-thread cache can only be turned off
 * through GLIBC_TUNABLES, read by the dynamic loader, so this execs the
 * daemon again with it set (the same pid; what the environment already
 * sets wins). Returns when there is nothing to do: the setting is
 * there, a sanitizer or valgrind owns malloc, or the exec failed. */
void memtune_reexec(char **argv);

#endif
