/* bpfacct.c - load the in-kernel counter program and talk to its maps. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfacct.h"
#include "holder.h"
#include "cpuacct.skel.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9 */
#endif

struct bpfacct {
	struct cpuacct_bpf *skel;
	struct kslot *slots;
	size_t slots_bytes;
	int member_fd;
	bool warned_threads;
	bool reused; /* counting went on in maps an earlier server made */
};

/* libbpf's own messages: kept for -d, the reason goes in *why. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	g_autofree char *msg = NULL;

	if (level == LIBBPF_DEBUG)
		return 0;
	msg = g_strdup_vprintf(fmt, ap);
	g_strchomp(msg);
	g_debug("libbpf: %s", msg);
	return 0;
}

static char *why_not(const char *step, int err)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return g_strdup(
		    "the kernel has no BTF "
		    "(/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF)");
	if (err == EPERM || err == EACCES)
		return g_strdup_printf("%s: %s (needs root, or CAP_BPF with "
				       "CAP_PERFMON, in the initial user "
				       "namespace)",
				       step, g_strerror(err));
	return g_strdup_printf("%s: %s", step, g_strerror(err));
}

static int map_slots(struct bpfacct *b, unsigned int n)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = bpf_map__fd(b->skel->maps.slots);

	b->slots_bytes =
	    ((size_t)n * sizeof(struct kslot) + page - 1) / page * page;
	b->slots = mmap(NULL, b->slots_bytes, PROT_READ, MAP_SHARED, fd, 0);
	if (b->slots == MAP_FAILED) {
		b->slots = NULL;
		return -errno;
	}
	return 0;
}

static int kept_fd(const struct kept_maps *kept, const char *name)
{
	for (unsigned int i = 0; i < kept->n; i++)
		if (!strcmp(kept->name[i], name))
			return kept->fd[i];
	return -1;
}

/* Whether every map of ours has a kept one of its name, and the counters
 * are of our size. */
static bool kept_fit(struct bpfacct *b, const struct kept_maps *kept,
		     unsigned int nslots)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	struct bpf_map *map;
	int fd = kept_fd(kept, "slots");

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.max_entries != nslots ||
	    info.value_size != sizeof(struct kslot)) {
		g_warning("bpf: the counters kept from the previous server "
			  "have another size (--max-groups changed?): "
			  "counting starts again in new ones");
		return false;
	}
	bpf_object__for_each_map(map, b->skel->obj) {
		if (!bpf_map__is_internal(map) &&
		    kept_fd(kept, bpf_map__name(map)) < 0) {
			g_warning("bpf: no map %s was kept (an upgrade?): "
				  "counting starts again in new ones",
				  bpf_map__name(map));
			return false;
		}
	}
	return true;
}

/* Count on in an earlier server's maps, if they fit this program: 1
 * reused, 0 not, -errno if only some are (the skeleton is spoilt). */
static int reuse_maps(struct bpfacct *b, const struct kept_maps *kept,
		      unsigned int nslots)
{
	struct bpf_map *map;

	if (!kept || !kept->n || !kept_fit(b, kept, nslots))
		return 0;
	bpf_object__for_each_map(map, b->skel->obj) {
		int err;

		if (bpf_map__is_internal(map))
			continue;
		err = bpf_map__reuse_fd(map, kept_fd(kept, bpf_map__name(map)));
		if (err) {
			g_warning("bpf: map %s kept from the previous server "
				  "does not fit (%s): counting starts again "
				  "in new ones",
				  bpf_map__name(map), g_strerror(-err));
			return err;
		}
	}
	return 1;
}

static int load(struct bpfacct *b, const struct kept_maps *kept,
		unsigned int nslots)
{
	int reuse = reuse_maps(b, kept, nslots), err;

	b->reused = reuse > 0;
	err = reuse < 0 ? reuse : cpuacct_bpf__load(b->skel);
	if (err && reuse) {
		/* maps of another shape (an upgrade): start afresh */
		g_warning("bpf: cannot load with the kept maps (%s): "
			  "counting starts again in new ones",
			  g_strerror(-err));
		cpuacct_bpf__destroy(b->skel);
		b->skel = cpuacct_bpf__open();
		if (!b->skel)
			return -errno;
		b->reused = false;
		return 1; /* the caller sets the new skeleton up again */
	}
	return err;
}

/* The hierarchy id of a cgroup v1 cpuacct from /proc/cgroups, or 0. */
static unsigned int cpuacct_hierarchy(void)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	unsigned int id = 0;

	if (!g_file_get_contents("/proc/cgroups", &text, NULL, NULL))
		return 0;
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++)
		if (sscanf(lines[i], "cpuacct %u", &id) == 1)
			return id;
	return 0;
}

struct bpfacct *bpfacct_open(unsigned int ncpu, unsigned int max_groups,
			     const struct kept_maps *kept, char **why)
{
	struct bpfacct *b = g_new0(struct bpfacct, 1);
	unsigned int n = ncpu * max_groups;
	int err;

	libbpf_set_print(libbpf_log);
	b->skel = cpuacct_bpf__open();
	for (int tries = 0; tries < 2; tries++, kept = NULL) {
		if (!b->skel) {
			*why = why_not("cannot open the program", errno);
			goto fail;
		}
		b->skel->rodata->ncpu = ncpu;
		b->skel->rodata->max_groups = max_groups;
		b->skel->rodata->cpuacct_hierarchy = cpuacct_hierarchy();
		bpf_map__set_max_entries(b->skel->maps.slots, n);
		err = load(b, kept, n);
		if (err != 1)
			break;
	}
	if (err) {
		*why = why_not("cannot load the program", -err);
		goto fail;
	}
	err = cpuacct_bpf__attach(b->skel);
	if (err) {
		*why = why_not("cannot attach to the scheduler's tracepoints",
			       -err);
		goto fail;
	}
	err = map_slots(b, n);
	if (err) {
		*why = why_not("cannot map the counters", -err);
		goto fail;
	}
	b->member_fd = bpf_map__fd(b->skel->maps.member);
	return b;
fail:
	bpfacct_close(b);
	return NULL;
}

void bpfacct_close(struct bpfacct *b)
{
	if (!b)
		return;
	if (b->slots)
		munmap(b->slots, b->slots_bytes);
	cpuacct_bpf__destroy(b->skel);
	g_free(b);
}

bool bpfacct_reused(const struct bpfacct *b)
{
	return b->reused;
}

unsigned int bpfacct_kept(const struct bpfacct *b, struct kept_maps *maps,
			  int *links, unsigned int max_links)
{
	const struct bpf_object_skeleton *sk = b->skel->skeleton;
	struct bpf_map *map;
	unsigned int n = 0;

	maps->n = 0;
	bpf_object__for_each_map(map, b->skel->obj) {
		if (bpf_map__is_internal(map) || maps->n >= HOLDER_MAX_MAPS)
			continue;
		g_strlcpy(maps->name[maps->n], bpf_map__name(map),
			  KEPT_NAME_MAX);
		maps->fd[maps->n++] = bpf_map__fd(map);
	}
	for (int i = 0; i < sk->prog_cnt && n < max_links; i++)
		if (*sk->progs[i].link)
			links[n++] = bpf_link__fd(*sk->progs[i].link);
	return n;
}

const struct kslot *bpfacct_slots(const struct bpfacct *b)
{
	return b->slots;
}

/* A pidfd of the thread itself: task storage is per thread. Before Linux
 * 6.9 only a process's leader has one. */
static int thread_pidfd(struct bpfacct *b, pid_t tid)
{
	int fd = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);

	if (fd >= 0 || errno != EINVAL)
		return fd;
	fd = syscall(SYS_pidfd_open, tid, 0);
	if (fd < 0 && errno == EINVAL && !b->warned_threads) {
		g_warning("bpf: this kernel has no pidfd for a thread "
			  "(Linux 6.9): threads other than a leader can only "
			  "move with their process");
		b->warned_threads = true;
	}
	return fd;
}

int bpfacct_set_group(struct bpfacct *b, pid_t tid, unsigned int gid)
{
	__u32 value = gid;
	int fd = thread_pidfd(b, tid), err = 0;

	if (fd < 0)
		return -errno;
	if (gid == BPFACCT_ROOT_GID) {
		if (bpf_map_delete_elem(b->member_fd, &fd) && errno != ENOENT)
			err = -errno;
	} else if (bpf_map_update_elem(b->member_fd, &fd, &value, BPF_ANY)) {
		err = -errno;
	}
	close(fd);
	return err;
}

int bpfacct_group_of(struct bpfacct *b, pid_t tid)
{
	__u32 gid = BPFACCT_ROOT_GID;
	int fd = thread_pidfd(b, tid), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(b->member_fd, &fd, &gid) && errno != ENOENT)
		err = -errno;
	close(fd);
	return err ? err : (int)gid;
}

/* Creation chains are short (runc: init, its creator, theirs). */
#define CHAIN_MAX 8

int bpfacct_origin(struct bpfacct *b, pid_t tid, uint32_t *creator,
		   uint64_t *charged)
{
	struct korigin o;
	struct { /* struct seen of cpuacct.bpf.c */
		__u64 runtime, utime, stime;
		__u32 cand, pad;
	} seen = {0};
	int fd = thread_pidfd(b, tid), err = 0;

	*creator = 0;
	*charged = 0;
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.origin), &fd, &o))
		err = errno == ENOENT ? 0 : -errno;
	else if (!o.attached)
		*creator = o.creator; /* else counted from its own attach */
	if (!err &&
	    bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.charged), &fd, &seen))
		err = errno == ENOENT ? 0 : -errno;
	*charged = seen.runtime;
	close(fd);
	return err;
}

int bpfacct_chain(struct bpfacct *b, uint32_t creator, uint64_t *ns)
{
	int fd = bpf_map__fd(b->skel->maps.exited);
	struct kexited rec;
	uint64_t sum = 0;

	*ns = 0;
	for (int i = 0; i < CHAIN_MAX && creator; i++) {
		/* a live creator, or one we never saw, ends the chain */
		if (bpf_map_lookup_elem(fd, &creator, &rec))
			return 0;
		sum += rec.ran;
		if (rec.attached) {
			*ns = sum; /* where a kernel group began */
			return 1;
		}
		creator = rec.creator;
	}
	return 0;
}

int bpfacct_set_nsgroup(struct bpfacct *b, uint64_t ino, unsigned int gid)
{
	int fd = bpf_map__fd(b->skel->maps.nsgroup);
	__u32 key = ino, value = gid;

	if (key != ino)
		return -EOVERFLOW; /* nsfs inode numbers are 32 bits */
	if (gid == BPFACCT_ROOT_GID) {
		if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
			return -errno;
		return 0;
	}
	return bpf_map_update_elem(fd, &key, &value, BPF_ANY) ? -errno : 0;
}
