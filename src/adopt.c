/* adopt.c - move a process into a group with the runtime it ran so far. */
#include <errno.h>
#include <unistd.h>

#include "adopt.h"
#include "nsjoin.h"
#include "procfs.h"

/* Whether pid's process runs in the root group now. A process we do
 * not track yet (its birth event is still to come) is in the root. */
static bool in_root(struct engine *e, pid_t pid)
{
	struct task *t = tasks_find(engine_tasks(e), pid);

	return !t || !t->group->parent;
}

/* The CPU to put the past runtime on: the one pid ran on last (where it
 * ran before is not recorded anywhere). */
static unsigned int last_cpu(pid_t pid, unsigned int ncpu)
{
	struct proc_stat st;

	if (procfs_read_stat(pid, 0, &st) || st.processor < 0 ||
	    (unsigned int)st.processor >= ncpu)
		return 0;
	return st.processor;
}

int adopt_locked(struct engine *e, unsigned int gid, uint64_t serial, pid_t pid,
		 int64_t t_ns, struct adopt_result *res)
{
	struct group_tree *tree = engine_tree(e);
	struct group *g = group_by_id(tree, gid);
	struct writer root = {.pid = getpid(), .uid = 0};
	struct task *t;
	bool past;
	uint64_t ns = 0, before = 0, charged;
	uint32_t creator;
	int err;

	*res = (struct adopt_result){0};
	if (!g || (serial && g->serial != serial))
		return -ENODEV;
	if (!g->parent || pid <= 0)
		return -EINVAL;
	engine_drain(e);
	past = in_root(e, pid);
	/* everything up to now is charged to the root first, then moves */
	err = engine_attach(e, gid, pid, true, &root, t_ns);
	if (err)
		return err;
	t = tasks_find(engine_tasks(e), pid);
	if (!t || t->group != g)
		return 0; /* a zombie: the kernel moves nothing either */
	if (past && !procfs_process_clock(pid, &ns)) {
		/* and what its dead creators ran in the kernel's group */
		if (engine_korigin(e, pid, &creator, &charged) == 0 &&
		    engine_kchain(e, creator, &before) == 1)
			ns += before;
		group_transfer_usage(g, last_cpu(pid, tree->ncpu), ns);
		res->ns = ns;
		res->before_ns = before;
	}
	res->exec_join = nsjoin_add(engine_nsjoin(e), tree, pid, g) == 0;
	return 0;
}

int adopt_process(struct sampler *s, unsigned int gid, uint64_t serial,
		  pid_t pid, struct adopt_result *res)
{
	int err = adopt_locked(sampler_lock(s), gid, serial, pid,
			       sampler_now_ns(), res);

	sampler_unlock(s);
	return err;
}
