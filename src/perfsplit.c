/* perfsplit.c - system-wide perf rings, one per CPU: cpu-clock samples
 * and the scheduler's sched_stat_runtime tracepoint.
 *
 * The reader drains the rings on its own timer, so a ring holds about
 * a second of samples and wakes a poller only when half full.
 * Busy CPUs are sampled every period; idle ones (pid 0) more sparsely,
 * so sample counts give shares of a task's time, not wall time.
 */
#include "perfsplit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include <linux/perf_event.h>

#include <glib.h>

#include "procfs.h"

#define SAMPLE_TYPE                                                            \
	(PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU |                \
	 PERF_SAMPLE_PERIOD)

/* The record PERF_SAMPLE_* above produce, in the kernel's order. */
struct sample_rec {
	struct perf_event_header h;
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu, res;
	uint64_t period;
};

/* The tracepoint counts its runtime argument as the event's count, so
 * with PERF_SAMPLE_PERIOD (and a period of 1) perf writes one sample per
 * hit whose period is the runtime, instead of one per nanosecond. The
 * ring says the CPU; the time places the runtime, which ends then, next
 * to a task's exit record (ticks.h). */
#define RUNTIME_SAMPLE_TYPE                                                    \
	(PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_PERIOD |             \
	 PERF_SAMPLE_RAW)

/* What RUNTIME_SAMPLE_TYPE produces: the tracepoint's record follows. */
struct raw_rec {
	struct perf_event_header h;
	uint32_t pid, tid;
	uint64_t time;
	uint64_t period;
	uint32_t raw_size;
	unsigned char raw[];
} __attribute__((packed));

/* PERF_RECORD_LOST and PERF_RECORD_LOST_SAMPLES both end in a count. */
struct lost_rec {
	struct perf_event_header h;
	uint64_t id;
	uint64_t lost;
};

struct lost_samples_rec {
	struct perf_event_header h;
	uint64_t lost;
};

struct ring {
	int fd;
	void *base;	  /* metadata page, then the data pages */
	size_t len;	  /* whole mapping */
	const char *data; /* base + one page */
	uint64_t mask;	  /* data size - 1 (a power of two) */
	int cpu;
};

/* Where sched_stat_runtime keeps the charged task and the ns. */
struct runtime_format {
	unsigned int id;
	unsigned int pid_off, runtime_off;
};

struct perfsplit {
	int n;
	struct ring *rings;
	bool runtime; /* sched_stat_runtime records, not cpu-clock samples */
	struct runtime_format fmt;
};

#define MIN_DATA_PAGES 8
#define MAX_DATA_PAGES 256

/* Data pages for one second of samples (a power of two, as perf
 * requires): 25 drain periods of margin at the sampler's 40 ms. */
static unsigned int data_pages(unsigned int period_us, size_t page)
{
	uint64_t bytes = (uint64_t)sizeof(struct sample_rec) * 1000000u /
			 (period_us ? period_us : 1);
	unsigned int pages = MIN_DATA_PAGES;

	while (pages < MAX_DATA_PAGES && (uint64_t)pages * page < bytes)
		pages *= 2;
	return pages;
}

/* One runtime record per scheduler update; a busy CPU makes tens of
 * thousands a second, ~80 bytes each. 8 MiB in all, at most 1 MiB and at
 * least 128 KiB a CPU: several passes' worth, and a poll wakes the
 * sampler at half full. */
#define RUNTIME_PAGES_TOTAL 2048
#define RUNTIME_MIN_PAGES 32
#define RUNTIME_MAX_PAGES 256

static unsigned int runtime_pages(void)
{
	unsigned int ncpu = procfs_possible_cpus();
	unsigned int pages = RUNTIME_MIN_PAGES;

	while (pages < RUNTIME_MAX_PAGES &&
	       pages * 2 * (ncpu ? ncpu : 1) <= RUNTIME_PAGES_TOTAL)
		pages *= 2;
	return pages;
}

/* period_us 0: the runtime tracepoint (fmt), else cpu-clock sampling. */
static int open_event(unsigned int period_us, const struct runtime_format *fmt,
		      int cpu, size_t data_size)
{
	struct perf_event_attr attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	if (period_us) {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		attr.sample_period = (uint64_t)period_us * 1000u;
		attr.sample_type = SAMPLE_TYPE;
	} else {
		attr.type = PERF_TYPE_TRACEPOINT;
		attr.config = fmt->id;
		attr.sample_period = 1;
		attr.sample_type = RUNTIME_SAMPLE_TYPE;
	}
	attr.disabled = 1;
	attr.use_clockid = 1;
	attr.clockid = CLOCK_MONOTONIC;
	/* the reader drains on a timer; poll only wakes at half full */
	attr.watermark = 1;
	attr.wakeup_watermark = (uint32_t)(data_size / 2);
	fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
		     PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

static int ring_map(struct ring *r, size_t page)
{
	r->base =
	    mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED) {
		r->base = NULL;
		return -errno;
	}
	r->data = (const char *)r->base + page;
	return 0;
}

static void ring_close(struct ring *r)
{
	if (r->base)
		munmap(r->base, r->len);
	if (r->fd >= 0)
		close(r->fd);
}

/* Open and map CPU cpu's event; -ENODEV means the CPU is offline. */
static int ring_open(struct ring *r, const struct perfsplit *ps,
		     unsigned int period_us, int cpu)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size =
	    (ps->runtime ? runtime_pages() : data_pages(period_us, page)) *
	    page;
	int ret;

	r->base = NULL;
	r->len = page + size;
	r->mask = size - 1;
	r->fd = open_event(ps->runtime ? 0 : period_us, &ps->fmt, cpu, size);
	if (r->fd < 0)
		return r->fd;
	ret = ring_map(r, page);
	if (ret < 0) {
		ring_close(r);
		r->fd = -1;
	}
	return ret;
}

void perfsplit_close(struct perfsplit *ps)
{
	int i;

	if (!ps)
		return;
	for (i = 0; i < ps->n; i++)
		ring_close(&ps->rings[i]);
	g_free(ps->rings);
	g_free(ps);
}

static int enable_all(struct perfsplit *ps)
{
	int i;

	for (i = 0; i < ps->n; i++)
		if (ioctl(ps->rings[i].fd, PERF_EVENT_IOC_ENABLE, 0) < 0)
			return -errno;
	return 0;
}

static int open_rings(struct perfsplit *ps, unsigned int period_us)
{
	unsigned int cpu, ncpu = procfs_possible_cpus();
	int ret;

	ps->rings = g_new0(struct ring, ncpu);
	for (cpu = 0; cpu < ncpu; cpu++) {
		ps->rings[ps->n].cpu = (int)cpu;
		ret = ring_open(&ps->rings[ps->n], ps, period_us, (int)cpu);
		if (ret == -ENODEV) /* offline now: not counted */
			continue;
		if (ret < 0)
			return ret;
		ps->n++;
	}
	return ps->n ? 0 : -ENODEV;
}

/* Open, map and enable every CPU's ring; ps is freed on failure. */
static struct perfsplit *start_rings(struct perfsplit *ps,
				     unsigned int period_us, int *err)
{
	int ret = open_rings(ps, period_us);

	if (!ret)
		ret = enable_all(ps);
	if (ret < 0) {
		perfsplit_close(ps);
		*err = ret;
		return NULL;
	}
	*err = 0;
	return ps;
}

struct perfsplit *perfsplit_open(unsigned int period_us, int *err)
{
	if (!period_us) {
		*err = -EINVAL;
		return NULL;
	}
	return start_rings(g_new0(struct perfsplit, 1), period_us, err);
}

/* "field:u64 runtime;\toffset:16;" -> 16, from a tracepoint's format. */
static int field_offset(const char *format, const char *decl)
{
	const char *field = strstr(format, decl);
	const char *off = field ? strstr(field, "offset:") : NULL;
	int value;

	if (!off || sscanf(off, "offset:%d", &value) != 1)
		return -1;
	return value;
}

static char *read_text(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, NULL);
	return text;
}

static int runtime_format_in(const char *tracefs, struct runtime_format *fmt)
{
	g_autofree char *dir =
	    g_build_filename(tracefs, "events/sched/sched_stat_runtime", NULL);
	g_autofree char *id = read_text(dir, "id");
	g_autofree char *format = read_text(dir, "format");
	int pid_off, rt_off;

	if (!id || !format)
		return -ENOENT;
	pid_off = field_offset(format, " pid;");
	rt_off = field_offset(format, " runtime;");
	if (pid_off < 0 || rt_off < 0 || !strstr(format, "u64 runtime;"))
		return -EPROTO;
	fmt->id = (unsigned int)atoi(id);
	fmt->pid_off = (unsigned int)pid_off;
	fmt->runtime_off = (unsigned int)rt_off;
	return 0;
}

/* The tracepoint's id and layout, from tracefs wherever it is mounted,
 * else from a private mount of it made for the moment. */
static int runtime_format(struct runtime_format *fmt)
{
	char dir[] = "/tmp/cpuacctfs-tracefs.XXXXXX";
	int ret;

	if (!runtime_format_in("/sys/kernel/tracing", fmt) ||
	    !runtime_format_in("/sys/kernel/debug/tracing", fmt))
		return 0;
	if (!mkdtemp(dir))
		return -errno;
	ret = mount("tracefs", dir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    NULL)
		  ? -errno
		  : runtime_format_in(dir, fmt);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	return ret;
}

struct perfsplit *perfsplit_open_runtime(int *err)
{
	struct perfsplit *ps = g_new0(struct perfsplit, 1);
	int ret;

	ps->runtime = true;
	ret = runtime_format(&ps->fmt);
	if (ret < 0) {
		perfsplit_close(ps);
		*err = ret;
		return NULL;
	}
	return start_rings(ps, 0, err);
}

int perfsplit_nfds(const struct perfsplit *ps)
{
	return ps->n;
}

int perfsplit_fd(const struct perfsplit *ps, int i)
{
	if (i < 0 || i >= ps->n)
		return -EINVAL;
	return ps->rings[i].fd;
}

/* Copy len bytes at ring position pos, which may wrap past the end. */
static void ring_copy(const struct ring *r, uint64_t pos, void *dst, size_t len)
{
	size_t off = pos & r->mask;
	size_t first = MIN(len, r->mask + 1 - off);

	memcpy(dst, r->data + off, first);
	if (first < len)
		memcpy((char *)dst + first, r->data, len - first);
}

static void deliver_sample(const struct sample_rec *s, perfsplit_fn fn,
			   void *data)
{
	unsigned int mode = s->h.misc & PERF_RECORD_MISC_CPUMODE_MASK;
	struct perf_rec rec = {
	    .pid = (pid_t)s->pid,
	    .tid = (pid_t)s->tid,
	    .cpu = (int)s->cpu,
	    .user = mode == PERF_RECORD_MISC_USER,
	    .period_ns = s->period,
	    .time_ns = s->time,
	};

	fn(&rec, data);
}

/* A sched_stat_runtime record: ns the scheduler just charged to a task
 * (the one named in the record, normally the one running). */
static int deliver_runtime(const struct perfsplit *ps, int cpu,
			   const struct raw_rec *r, perfsplit_fn fn, void *data)
{
	struct perf_rec rec = {.cpu = cpu, .time_ns = r->time};
	int32_t tid;

	if (r->h.size < sizeof(*r) || r->raw_size > r->h.size - sizeof(*r) ||
	    ps->fmt.runtime_off + sizeof(uint64_t) > r->raw_size ||
	    ps->fmt.pid_off + sizeof(tid) > r->raw_size)
		return 0;
	memcpy(&tid, r->raw + ps->fmt.pid_off, sizeof(tid));
	memcpy(&rec.period_ns, r->raw + ps->fmt.runtime_off,
	       sizeof(rec.period_ns));
	if (rec.period_ns != r->period)
		return 0; /* not the layout we know */
	rec.tid = tid;
	/* a wakeup can update the clock of another CPU's running task:
	 * then cpu is where the update ran, not where the task did */
	rec.remote = (pid_t)r->tid != tid;
	rec.pid = rec.remote ? 0 : (pid_t)r->pid;
	fn(&rec, data);
	return 1;
}

/* One record already copied out of the ring: 1 if it was a sample. */
static int handle_record(const struct perfsplit *ps, int cpu, const void *buf,
			 perfsplit_fn fn, void *data, uint64_t *lost)
{
	const struct perf_event_header *h = buf;

	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		if (ps->runtime)
			return deliver_runtime(ps, cpu, buf, fn, data);
		if (h->size < sizeof(struct sample_rec))
			return 0;
		deliver_sample(buf, fn, data);
		return 1;
	case PERF_RECORD_LOST:
		if (h->size >= sizeof(struct lost_rec))
			*lost += ((const struct lost_rec *)buf)->lost;
		return 0;
	case PERF_RECORD_LOST_SAMPLES:
		if (h->size >= sizeof(struct lost_samples_rec))
			*lost += ((const struct lost_samples_rec *)buf)->lost;
		return 0;
	}
	return 0; /* throttling and the like: nothing to split */
}

/* Both kinds of sample start with pid, tid and time. */
static bool made_after(const void *buf, uint64_t until_ns)
{
	const struct perf_event_header *h = buf;
	uint64_t time;

	if (h->type != PERF_RECORD_SAMPLE ||
	    h->size < sizeof(*h) + 2 * sizeof(uint32_t) + sizeof(time))
		return false;
	memcpy(&time, (const char *)buf + sizeof(*h) + 2 * sizeof(uint32_t),
	       sizeof(time));
	return time > until_ns;
}

/* Every record between our tail and the kernel's head, up to the first
 * one made after until_ns (a ring is in time order). */
static int ring_drain(const struct perfsplit *ps, struct ring *r,
		      uint64_t until_ns, perfsplit_fn fn, void *data,
		      uint64_t *lost)
{
	struct perf_event_mmap_page *meta = r->base;
	/* our records are 40-100 bytes; larger ones are skipped uncopied */
	union {
		struct perf_event_header h;
		char bytes[256];
	} buf;
	uint64_t head, tail;
	int n = 0;

	/* acquire: the records before head are visible once we see it */
	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&meta->data_tail, __ATOMIC_RELAXED);
	while (tail + sizeof(buf.h) <= head) {
		ring_copy(r, tail, &buf.h, sizeof(buf.h));
		if (buf.h.size < sizeof(buf.h)) {
			tail = head; /* cannot happen; do not spin on it */
			break;
		}
		if (buf.h.size <= sizeof(buf)) {
			ring_copy(r, tail, &buf, buf.h.size);
			if (made_after(&buf, until_ns))
				break;
			n += handle_record(ps, r->cpu, &buf, fn, data, lost);
		}
		tail += buf.h.size;
	}
	/* release: our reads are done before the kernel may overwrite */
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

int perfsplit_drain_until(struct perfsplit *ps, uint64_t until_ns,
			  perfsplit_fn fn, void *data, uint64_t *lost)
{
	uint64_t dropped = 0;
	int i, n = 0;

	for (i = 0; i < ps->n; i++)
		n +=
		    ring_drain(ps, &ps->rings[i], until_ns, fn, data, &dropped);
	if (lost)
		*lost = dropped;
	return n;
}

int perfsplit_drain(struct perfsplit *ps, perfsplit_fn fn, void *data,
		    uint64_t *lost)
{
	return perfsplit_drain_until(ps, UINT64_MAX, fn, data, lost);
}
