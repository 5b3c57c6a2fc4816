/* stash.h - a checkpoint that survives the process that wrote it.
 *
 * The holder (holder.h) keeps a memory file; servers write their state
 * into it and the next server reads the newest complete one. A server
 * can be killed at any instruction, so a checkpoint is written beside
 * the previous one and only then made current, by a one-page write of
 * the header that names it (with its length, sequence number and
 * checksum): a reader finds either the old or the new one whole, never
 * a mix.
 */
#ifndef CPUACCTFS_STASH_H
#define CPUACCTFS_STASH_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* Make data the current checkpoint in fd. 0, or -errno. */
int stash_write(int fd, const void *data, size_t len);

/* The current checkpoint of fd, or NULL: none (*err 0), or none that is
 * whole (*err -EBADMSG, with the reason logged). */
GBytes *stash_read(int fd, int *err);

/* FNV-1a, 64 bits: a checksum against torn or damaged files, not
 * against anyone who means harm (they would need root anyway). */
uint64_t stash_checksum(const void *data, size_t len);

#endif
