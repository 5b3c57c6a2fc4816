/* stash.c - two slots and a header that points at the newest. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "stash.h"

#define STASH_MAGIC 0x4853415453414350ULL /* "PCASTASH" */
#define HEADER_BYTES 4096
#define MAX_CHECKPOINT (1ULL << 32)

struct slot {
	uint64_t seq; /* 0: empty */
	uint64_t offset;
	uint64_t len;
	uint64_t sum;
};

struct header {
	uint64_t magic;
	struct slot slot[2];
};

uint64_t stash_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool read_header(int fd, struct header *h)
{
	if (pread(fd, h, sizeof(*h), 0) != sizeof(*h) ||
	    h->magic != STASH_MAGIC) {
		memset(h, 0, sizeof(*h));
		h->magic = STASH_MAGIC;
		return false;
	}
	return true;
}

/* The newer slot, 0 or 1; -1 if both are empty. */
static int newest(const struct header *h)
{
	if (!h->slot[0].seq && !h->slot[1].seq)
		return -1;
	return h->slot[1].seq > h->slot[0].seq;
}

int stash_write(int fd, const void *data, size_t len)
{
	struct header h;
	int cur, next;
	uint64_t offset = HEADER_BYTES;

	read_header(fd, &h);
	cur = newest(&h);
	next = cur == 0 ? 1 : 0;
	/* before the current one if it fits there, else after it */
	if (cur >= 0 && h.slot[cur].offset < offset + len)
		offset = h.slot[cur].offset + h.slot[cur].len;
	if (pwrite(fd, data, len, offset) != (ssize_t)len)
		return -errno;
	h.slot[next] = (struct slot){
	    .seq = (cur >= 0 ? h.slot[cur].seq : 0) + 1,
	    .offset = offset,
	    .len = len,
	    .sum = stash_checksum(data, len),
	};
	if (pwrite(fd, &h, sizeof(h), 0) != sizeof(h))
		return -errno;
	/* what lies past both slots is garbage now */
	if (cur >= 0 && h.slot[cur].offset > offset)
		return ftruncate(fd, h.slot[cur].offset + h.slot[cur].len)
			   ? -errno
			   : 0;
	return ftruncate(fd, offset + len) ? -errno : 0;
}

static GBytes *read_slot(int fd, const struct slot *s)
{
	g_autofree uint8_t *buf = NULL;
	off_t end = lseek(fd, 0, SEEK_END);

	if (s->len > MAX_CHECKPOINT || s->offset < HEADER_BYTES || end < 0 ||
	    s->offset + s->len > (uint64_t)end)
		return NULL;
	buf = g_malloc(s->len ? s->len : 1);
	if (pread(fd, buf, s->len, s->offset) != (ssize_t)s->len ||
	    stash_checksum(buf, s->len) != s->sum)
		return NULL;
	return g_bytes_new_take(g_steal_pointer(&buf), s->len);
}

GBytes *stash_read(int fd, int *err)
{
	struct header h;
	int cur;
	GBytes *b;

	*err = 0;
	if (lseek(fd, 0, SEEK_END) <= 0)
		return NULL; /* nothing was ever saved */
	if (!read_header(fd, &h)) {
		g_warning("state: not a cpuacctfs checkpoint (bad header)");
		*err = -EBADMSG;
		return NULL;
	}
	cur = newest(&h);
	if (cur < 0)
		return NULL;
	b = read_slot(fd, &h.slot[cur]);
	if (!b) {
		g_warning("state: the newest checkpoint is damaged "
			  "(length or checksum)");
		*err = -EBADMSG;
	}
	return b;
}
