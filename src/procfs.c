/* procfs.c - per-task facts from /proc, sysfs and the process CPU clock.
 *
 * The sampler calls these for thousands of tasks every 40 ms, so each
 * read is one open/read/close into a stack buffer: no stdio, no heap.
 */
#include "procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <glib.h>

#define STAT_BUF 1024	/* stat is ~350 bytes; comm is at most 64 */
#define STATUS_BUF 4096 /* Uid and Tgid are in the first ~600 bytes */
#define PATH_BUF 64

/* A task that vanished between lookup and read shows up as ENOENT
 * (open) or ESRCH (read of a task being torn down): both mean gone. */
static int gone_errno(int err)
{
	return err == ENOENT ? -ESRCH : -err;
}

/* Read up to size-1 bytes of a small file and NUL-terminate them.
 * /proc files are generated in one go, so a single read() suffices. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return gone_errno(errno);
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (n < 0)
		return gone_errno(err);
	buf[n] = '\0';
	return n;
}

/* Skip blanks, then one whitespace-separated token; NULL at the end. */
static const char *next_field(const char *p)
{
	while (*p == ' ')
		p++;
	if (*p == '\0' || *p == '\n')
		return NULL;
	return p;
}

static const char *skip_field(const char *p)
{
	while (*p != '\0' && *p != ' ' && *p != '\n')
		p++;
	return p;
}

static int field_u64(const char *p, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*v = strtoull(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	return 0;
}

static int field_int(const char *p, int *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(p, &end, 10);
	if (errno || end == p || x < INT_MIN || x > INT_MAX ||
	    (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	*v = (int)x;
	return 0;
}

/* Store field number n (1-based as in proc(5)) if it is one we keep. */
static int store_field(int n, const char *p, struct proc_stat *st)
{
	uint64_t u;
	int ret = 0;

	switch (n) {
	case 4:
		return field_int(p, &st->ppid);
	case 9:
		ret = field_u64(p, &u);
		st->flags = (unsigned int)u;
		return ret;
	case 14:
		return field_u64(p, &st->utime);
	case 15:
		return field_u64(p, &st->stime);
	case 16:
		return field_u64(p, &st->cutime);
	case 17:
		return field_u64(p, &st->cstime);
	case 22:
		return field_u64(p, &st->start_time);
	case 39:
		return field_int(p, &st->processor);
	}
	return 0;
}

#define STAT_LAST_FIELD 39

int procfs_parse_stat(const char *text, struct proc_stat *st)
{
	/* comm is free text; only the last ')' surely closes it */
	const char *close = strrchr(text, ')');
	const char *p;
	int n, ret;

	memset(st, 0, sizeof(*st));
	if (!close || field_int(text, &st->pid) < 0 || !strchr(text, '('))
		return -EINVAL;
	p = next_field(close + 1);
	if (!p || !isalpha((unsigned char)*p))
		return -EINVAL;
	st->state = *p;
	p = skip_field(p);
	for (n = 4; n <= STAT_LAST_FIELD; n++) {
		p = next_field(p);
		if (!p)
			return -EINVAL;
		ret = store_field(n, p, st);
		if (ret < 0)
			return ret;
		p = skip_field(p);
	}
	return 0;
}

int procfs_read_stat(pid_t pid, pid_t tid, struct proc_stat *st)
{
	char path[PATH_BUF];
	char buf[STAT_BUF];
	ssize_t n;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return procfs_parse_stat(buf, st);
}

/* The kernel answers EINVAL for a clock of a pid that no longer names
 * a thread group (glibc turns that into ESRCH in clock_getcpuclockid,
 * but clock_gettime passes it through). */
static int clock_errno(int err)
{
	if (err == EINVAL || err == ESRCH || err == ENOENT)
		return -ESRCH;
	return -err;
}

int procfs_process_clock(pid_t pid, uint64_t *ns)
{
	struct timespec ts;
	clockid_t cid;
	int err;

	err = clock_getcpuclockid(pid, &cid);
	if (err)
		return clock_errno(err);
	if (clock_gettime(cid, &ts) < 0)
		return clock_errno(errno);
	*ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return 0;
}

int procfs_thread_runtime(pid_t pid, pid_t tid, uint64_t *ns)
{
	char path[PATH_BUF];
	char buf[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return field_u64(buf, ns);
}

/* Find "\n<key>" in a status text and return what follows it. */
static const char *status_line(const char *text, const char *key)
{
	size_t len = strlen(key);
	const char *p = text;

	while (p) {
		if (strncmp(p, key, len) == 0)
			return p + len;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int read_status(pid_t pid, char *buf, size_t size)
{
	char path[PATH_BUF];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	n = read_small(path, buf, size);
	return n < 0 ? (int)n : 0;
}

/* Parse one unsigned decimal after optional blanks; advance *pp. */
static int status_ulong(const char **pp, unsigned long *v)
{
	const char *p = *pp;
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*v = strtoul(p, &end, 10);
	if (errno)
		return -EINVAL;
	*pp = end;
	return 0;
}

/* The Uid: line's real, effective and saved uids. */
static int read_uid_line(pid_t pid, unsigned long ids[3])
{
	char buf[STATUS_BUF];
	const char *p;
	int ret;

	ret = read_status(pid, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	p = status_line(buf, "Uid:");
	for (int i = 0; i < 3; i++)
		if (!p || status_ulong(&p, &ids[i]) < 0)
			return -EINVAL;
	return 0;
}

int procfs_read_uids(pid_t pid, uid_t *ruid, uid_t *suid)
{
	unsigned long ids[3];
	int ret = read_uid_line(pid, ids);

	if (ret < 0)
		return ret;
	*ruid = (uid_t)ids[0];
	*suid = (uid_t)ids[2];
	return 0;
}

int procfs_read_euid(pid_t pid, uid_t *euid)
{
	unsigned long ids[3];
	int ret = read_uid_line(pid, ids);

	if (ret < 0)
		return ret;
	*euid = (uid_t)ids[1];
	return 0;
}

/* CapEff is hex; the line is present on every kernel we run on */
static bool status_cap(const char *buf, int cap)
{
	const char *p = status_line(buf, "CapEff:");
	unsigned long long caps;

	if (!p)
		return false;
	errno = 0;
	caps = strtoull(p, NULL, 16);
	return !errno && cap >= 0 && cap < 64 && (caps >> cap) & 1;
}

/* The initial user namespace has a fixed inode number (the kernel's
 * PROC_USER_INIT_INO); /proc/1/ns/user may not be ours to stat. */
#define USER_NS_INIT_INO 0xEFFFFFFDu

static bool in_init_userns(pid_t pid)
{
	char path[PATH_BUF];
	struct stat ns;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	return !stat(path, &ns) && ns.st_ino == USER_NS_INIT_INO;
}

bool procfs_capable_init_ns(pid_t pid, int cap)
{
	char buf[STATUS_BUF];

	return !read_status(pid, buf, sizeof(buf)) && status_cap(buf, cap) &&
	       in_init_userns(pid);
}

int procfs_read_nspids(pid_t tid, pid_t *ids, int max)
{
	char buf[STATUS_BUF];
	unsigned long v;
	const char *p;
	int ret, n = 0;

	ret = read_status(tid, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	p = status_line(buf, "NSpid:");
	if (!p)
		return -ESRCH;
	while (n < max && status_ulong(&p, &v) == 0)
		ids[n++] = (pid_t)v;
	return n ? n : -ESRCH;
}

int procfs_tgid_of(pid_t tid, pid_t *tgid)
{
	char buf[STATUS_BUF];
	unsigned long v;
	const char *p;
	int ret;

	ret = read_status(tid, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	p = status_line(buf, "Tgid:");
	if (!p || status_ulong(&p, &v) < 0)
		return -EINVAL;
	/* a task being reaped can show Tgid 0 (pid detached): gone */
	if (v == 0)
		return -ESRCH;
	*tgid = (pid_t)v;
	return 0;
}

/* Highest CPU number in a sysfs cpu list ("0-3", "0,2-5,7") plus one;
 * 0 when the text is not such a list. */
static unsigned int cpulist_count(const char *p)
{
	unsigned long v, top = 0;
	char *end;
	bool any = false;

	for (;;) {
		if (!isdigit((unsigned char)*p))
			break;
		v = strtoul(p, &end, 10);
		any = true;
		if (v > top)
			top = v;
		p = end;
		if (*p != ',' && *p != '-')
			break;
		p++;
	}
	return any ? (unsigned int)top + 1 : 0;
}

unsigned int procfs_possible_cpus(void)
{
	/* fixed at boot; racing first callers compute the same value */
	static unsigned int cached;
	unsigned int n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	char buf[256];
	long conf;

	if (n)
		return n;
	if (read_small("/sys/devices/system/cpu/possible", buf, sizeof(buf)) >
	    0)
		n = cpulist_count(buf);
	if (!n) {
		conf = sysconf(_SC_NPROCESSORS_CONF);
		n = conf > 0 ? (unsigned int)conf : 1;
	}
	__atomic_store_n(&cached, n, __ATOMIC_RELAXED);
	return n;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int procfs_list_threads(pid_t pid, procfs_thread_fn fn, void *data)
{
	char path[PATH_BUF];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return gone_errno(errno);
	while ((de = readdir(dir)))
		if (all_digits(de->d_name))
			fn(pid, (pid_t)atoi(de->d_name), data);
	closedir(dir);
	return 0;
}

/* readdir of /proc and of each process's task directory: no library
 * state, so any thread may call it and nothing outlives the call (the
 * libproc2 reader kept two 128 KiB buffers per calling thread). */
int procfs_scan(procfs_thread_fn fn, void *data)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (all_digits(de->d_name))
			/* a process gone since readdir is simply not listed */
			procfs_list_threads((pid_t)atoi(de->d_name), fn, data);
	closedir(dir);
	return 0;
}
