/* wire.h - fixed-width little-endian fields, for the state checkpoint.
 *
 * Writers append to a GByteArray; a reader walks a buffer and, once any
 * read would pass its end, fails that read and every later one, so a
 * parser checks ok once at the end instead of after every field.
 */
#ifndef CPUACCTFS_WIRE_H
#define CPUACCTFS_WIRE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void wire_u32(GByteArray *out, uint32_t v);
void wire_u64(GByteArray *out, uint64_t v);
void wire_str(GByteArray *out, const char *s); /* length, then bytes */

struct wire_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool ok;
};

void wire_reader_init(struct wire_reader *r, const void *buf, size_t len);
uint32_t wire_get_u32(struct wire_reader *r);
uint64_t wire_get_u64(struct wire_reader *r);
/* A new string (g_free), or NULL once the reader failed; strings longer
 * than max or holding a NUL fail it. */
char *wire_get_str(struct wire_reader *r, size_t max);
/* Fail the reader unless n items of item_bytes each can still follow:
 * a count read from the file is checked before anything is allocated. */
bool wire_can_hold(struct wire_reader *r, uint64_t n, size_t item_bytes);

#endif
