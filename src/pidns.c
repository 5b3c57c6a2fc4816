/* pidns.c - translate task ids between pid namespaces through /proc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidns.h"
#include "procfs.h"
#include "tasks.h"

#define MAX_LEVELS 32

static int ns_ino_of_fd(int fd, ino_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

int pidns_of(pid_t pid, struct pidns *ns)
{
	char path[64];
	struct stat st;
	pid_t ids[MAX_LEVELS];
	int n;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &st) < 0)
		return -ESRCH;
	ns->ino = st.st_ino;
	ns->level = 0;
	/* the daemon's own namespace is the common case: no more reading */
	if (pidns_is_own(ns))
		return 0;
	n = procfs_read_nspids(pid, ids, MAX_LEVELS);
	if (n < 0)
		return n;
	ns->level = n - 1;
	return 0;
}

bool pidns_is_own(const struct pidns *ns)
{
	static ino_t own;
	struct stat st;

	if (!own && stat("/proc/self/ns/pid", &st) == 0)
		own = st.st_ino;
	return ns->ino == own;
}

/* Is the namespace of tid, whose depth is task_level, ns or inside it? */
static bool ns_contains(pid_t tid, int task_level, const struct pidns *ns)
{
	char path[64];
	ino_t ino = 0;
	int fd, up;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	for (up = task_level - ns->level; up > 0; up--) {
		int parent = ioctl(fd, NS_GET_PARENT);

		close(fd);
		if (parent < 0)
			return false;
		fd = parent;
	}
	if (ns_ino_of_fd(fd, &ino))
		ino = 0;
	close(fd);
	return ino == ns->ino;
}

int pidns_to_ns(pid_t tid, const struct pidns *ns, pid_t *id)
{
	pid_t ids[MAX_LEVELS];
	int n = procfs_read_nspids(tid, ids, MAX_LEVELS);

	if (n < 0)
		return n;
	if (n - 1 < ns->level || !ns_contains(tid, n - 1, ns))
		return -ESRCH;
	*id = ids[ns->level];
	return 0;
}

/* Every thread on the system, until fn returns true. */
static bool each_thread(bool (*fn)(pid_t tid, void *data), void *data)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;
	bool found = false;

	if (!proc)
		return false;
	while (!found && (d = readdir(proc))) {
		char path[300];
		DIR *tasks;
		struct dirent *t;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", d->d_name);
		tasks = opendir(path);
		while (tasks && !found && (t = readdir(tasks)))
			if (t->d_name[0] >= '1' && t->d_name[0] <= '9')
				found = fn(atoi(t->d_name), data);
		if (tasks)
			closedir(tasks);
	}
	closedir(proc);
	return found;
}

struct resolve {
	pid_t id;
	const struct pidns *ns;
	pid_t tid;
};

static bool matches(pid_t tid, void *data)
{
	struct resolve *r = data;
	pid_t id;

	if (pidns_to_ns(tid, r->ns, &id) || id != r->id)
		return false;
	r->tid = tid;
	return true;
}

int pidns_from_ns(pid_t id, const struct pidns *ns, pid_t *tid)
{
	struct resolve r = {id, ns, 0};

	if (pidns_is_own(ns)) {
		*tid = id;
		return 0;
	}
	if (!each_thread(matches, &r))
		return -ESRCH;
	*tid = r.tid;
	return 0;
}

GArray *pidns_translate(const GArray *host_ids, const struct pidns *ns)
{
	GArray *out =
	    g_array_sized_new(FALSE, FALSE, sizeof(pid_t), host_ids->len);

	for (unsigned int i = 0; i < host_ids->len; i++) {
		pid_t id;

		if (!pidns_to_ns(g_array_index(host_ids, pid_t, i), ns, &id))
			g_array_append_val(out, id);
	}
	tasks_sort_ids(out, true);
	return out;
}
