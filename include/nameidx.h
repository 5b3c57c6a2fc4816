/* nameidx.h - children by name: (parent id, name) -> group id.
 *
 * A mkdir, a lookup and a rmdir each find one child among their parent's;
 * with a walk over the children that cost grew with every group made in
 * one parent. The index is written under the engine lock and read by
 * FUSE threads through snapshots, so it has a lock of its own; it holds
 * the newest tree's names, and a snapshot checks what it finds against
 * its own groups.
 */
#ifndef CPUACCTFS_NAMEIDX_H
#define CPUACCTFS_NAMEIDX_H

#include <stdbool.h>

struct nameidx;

struct nameidx *nameidx_new(void);
struct nameidx *nameidx_ref(struct nameidx *ix);
void nameidx_unref(struct nameidx *ix);

void nameidx_add(struct nameidx *ix, unsigned int parent, const char *name,
		 unsigned int id);
void nameidx_remove(struct nameidx *ix, unsigned int parent, const char *name);
bool nameidx_find(struct nameidx *ix, unsigned int parent, const char *name,
		  unsigned int *id);

#endif
