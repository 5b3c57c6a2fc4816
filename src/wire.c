/* wire.c - little-endian fields in and out. */
#include <string.h>

#include "wire.h"

void wire_u32(GByteArray *out, uint32_t v)
{
	uint32_t le = GUINT32_TO_LE(v);

	g_byte_array_append(out, (const guint8 *)&le, sizeof(le));
}

void wire_u64(GByteArray *out, uint64_t v)
{
	uint64_t le = GUINT64_TO_LE(v);

	g_byte_array_append(out, (const guint8 *)&le, sizeof(le));
}

void wire_str(GByteArray *out, const char *s)
{
	size_t n = strlen(s);

	wire_u32(out, n);
	g_byte_array_append(out, (const guint8 *)s, n);
}

void wire_reader_init(struct wire_reader *r, const void *buf, size_t len)
{
	*r = (struct wire_reader){.buf = buf, .len = len, .ok = true};
}

/* The next n bytes, or NULL (and the reader failed). */
static const uint8_t *take(struct wire_reader *r, size_t n)
{
	const uint8_t *p;

	if (!r->ok || r->len - r->pos < n) {
		r->ok = false;
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

uint32_t wire_get_u32(struct wire_reader *r)
{
	const uint8_t *p = take(r, sizeof(uint32_t));
	uint32_t le;

	if (!p)
		return 0;
	memcpy(&le, p, sizeof(le));
	return GUINT32_FROM_LE(le);
}

uint64_t wire_get_u64(struct wire_reader *r)
{
	const uint8_t *p = take(r, sizeof(uint64_t));
	uint64_t le;

	if (!p)
		return 0;
	memcpy(&le, p, sizeof(le));
	return GUINT64_FROM_LE(le);
}

char *wire_get_str(struct wire_reader *r, size_t max)
{
	uint32_t n = wire_get_u32(r);
	const uint8_t *p;

	if (n > max) {
		r->ok = false;
		return NULL;
	}
	p = take(r, n);
	if (!p || memchr(p, 0, n)) {
		r->ok = false;
		return NULL;
	}
	return g_strndup((const char *)p, n);
}

bool wire_can_hold(struct wire_reader *r, uint64_t n, size_t item_bytes)
{
	if (r->ok && item_bytes && n > (r->len - r->pos) / item_bytes)
		r->ok = false;
	return r->ok;
}
