/* memtune.c - how glibc and GLib keep the daemon's memory (memtune.h). */
#include <glib.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtune.h"

#define TCACHE_OFF "glibc.malloc.tcache_count=0"

void memtune_preinit(void)
{
	/* GLib before 2.76 keeps small blocks (array and hash table
	 * headers, list nodes) in slabs with per-thread caches that hand
	 * almost nothing back: 6 MiB after 10,000 groups came and went.
	 * Only a preinit function runs before GLib's constructor makes its
	 * first block. */
	G_GNUC_BEGIN_IGNORE_DEPRECATIONS
	g_slice_set_config(G_SLICE_CONFIG_ALWAYS_MALLOC, TRUE);
	G_GNUC_END_IGNORE_DEPRECATIONS
	/* a group made on one FUSE thread and removed on another would
	 * leave pages pinned in two arenas; the daemon's few allocations
	 * per request do not need one arena per thread */
	mallopt(M_ARENA_MAX, 1);
	/* glibc raises this threshold each time a large block is freed,
	 * after which the FUSE threads' 1 MiB buffers and the arrays by id
	 * land in the heap, where freeing them gives nothing back */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

/* Whether malloc is glibc's: not under ASan (its own allocator) nor
 * valgrind, whose exec would leave the new image unwatched. */
static bool malloc_is_glibc(void)
{
#ifdef __SANITIZE_ADDRESS__
	return false;
#else
	const char *preload = getenv("LD_PRELOAD");

	return !preload || !strstr(preload, "vgpreload");
#endif
}

void memtune_reexec(char **argv)
{
	const char *was = getenv("GLIBC_TUNABLES");
	g_autofree char *tunables = NULL;

	if (!malloc_is_glibc() ||
	    (was && strstr(was, "glibc.malloc.tcache_count=")))
		return;
	/* ours first: a later setting of the same tunable wins */
	tunables = was && *was ? g_strconcat(TCACHE_OFF, ":", was, NULL)
			       : g_strdup(TCACHE_OFF);
	if (setenv("GLIBC_TUNABLES", tunables, 1) != 0)
		return;
	execv("/proc/self/exe", argv);
	/* the daemon runs as it is, only keeping more memory */
	if (was)
		setenv("GLIBC_TUNABLES", was, 1);
	else
		unsetenv("GLIBC_TUNABLES");
}
