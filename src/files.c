/* files.c - the table of control files and their renderers. */
#include <string.h>

#include "files.h"
#include "kcount.h"
#include "render.h"

#define RW 0644
#define RO 0444

static const struct cg_file_info file_table[CGF_COUNT] = {
    [CGF_DIR] = {"", 0, false},
    [CGF_CLONE_CHILDREN] = {"cgroup.clone_children", RW, false},
    [CGF_PROCS] = {"cgroup.procs", RW, false},
    [CGF_SANE_BEHAVIOR] = {"cgroup.sane_behavior", RO, true},
    [CGF_USAGE] = {"cpuacct.usage", RW, false},
    [CGF_USAGE_ALL] = {"cpuacct.usage_all", RO, false},
    [CGF_USAGE_PERCPU] = {"cpuacct.usage_percpu", RO, false},
    [CGF_USAGE_PERCPU_SYS] = {"cpuacct.usage_percpu_sys", RO, false},
    [CGF_USAGE_PERCPU_USER] = {"cpuacct.usage_percpu_user", RO, false},
    [CGF_USAGE_SYS] = {"cpuacct.usage_sys", RO, false},
    [CGF_USAGE_USER] = {"cpuacct.usage_user", RO, false},
    [CGF_STAT] = {"cpuacct.stat", RO, false},
    [CGF_NOTIFY_ON_RELEASE] = {"notify_on_release", RW, false},
    [CGF_RELEASE_AGENT] = {"release_agent", RW, true},
    [CGF_TASKS] = {"tasks", RW, false},
};

const struct cg_file_info *files_info(enum cg_file f)
{
	return &file_table[f];
}

bool files_exists(enum cg_file f, bool is_root)
{
	return f > CGF_DIR && f < CGF_COUNT &&
	       (is_root || !file_table[f].root_only);
}

bool files_is_counter(enum cg_file f)
{
	return f >= CGF_USAGE && f <= CGF_STAT;
}

enum cg_file files_lookup(const char *name, bool is_root)
{
	for (int f = CGF_DIR + 1; f < CGF_COUNT; f++)
		if (strcmp(file_table[f].name, name) == 0 &&
		    files_exists(f, is_root))
			return f;
	return CGF_DIR;
}

static uint64_t total(const uint64_t *percpu, unsigned int ncpu)
{
	uint64_t sum = 0;

	for (unsigned int cpu = 0; cpu < ncpu; cpu++)
		sum += percpu[cpu];
	return sum;
}

void files_render_ids(const GArray *ids, const struct pidns *reader,
		      GString *out)
{
	g_autoptr(GArray) seen = NULL;

	if (reader && !pidns_is_own(reader))
		ids = seen = pidns_translate(ids, reader);
	render_ids(out, (const int *)ids->data, ids->len);
}

/* The counter files, from g's counters as of now. */
static void render_counters(const struct snapshot *snap,
			    const struct snap_group *g, enum cg_file f,
			    GString *out)
{
	unsigned int n = snap->ncpu;
	g_autofree uint64_t *buf = g_new(uint64_t, 3 * n);
	uint64_t *usage = buf, *user = buf + n, *sys = buf + 2 * n;
	uint64_t ut, st;

	kcount_now(snap, g, usage, user, sys);
	switch (f) {
	case CGF_USAGE:
		return render_u64(out, total(usage, n));
	case CGF_USAGE_USER:
		return render_u64(out, total(user, n));
	case CGF_USAGE_SYS:
		return render_u64(out, total(sys, n));
	case CGF_USAGE_PERCPU:
		return render_percpu(out, usage, n);
	case CGF_USAGE_PERCPU_USER:
		return render_percpu(out, user, n);
	case CGF_USAGE_PERCPU_SYS:
		return render_percpu(out, sys, n);
	case CGF_USAGE_ALL:
		return render_usage_all(out, user, sys, n);
	default:
		snapshot_stat(snap, g, usage, user, sys, &ut, &st);
		return render_stat(out, ut, st);
	}
}

void files_render(const struct snapshot *snap, const struct snap_group *g,
		  enum cg_file f, const struct pidns *reader, GString *out)
{
	if (files_is_counter(f))
		return render_counters(snap, g, f, out);
	switch (f) {
	case CGF_TASKS:
		return files_render_ids(g->tids, reader, out);
	case CGF_PROCS:
		return files_render_ids(g->tgids, reader, out);
	case CGF_NOTIFY_ON_RELEASE:
		return render_flag(out, g->notify_on_release);
	case CGF_CLONE_CHILDREN:
		return render_flag(out, g->clone_children);
	case CGF_SANE_BEHAVIOR:
		return render_flag(out, false);
	case CGF_RELEASE_AGENT:
		return render_line(out, snap->release_agent);
	default:
		break;
	}
}
