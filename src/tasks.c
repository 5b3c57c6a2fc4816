/* tasks.c - the thread and process tables and group membership. */
#include "tasks.h"

static void task_free(gpointer data)
{
	g_free(data);
}

struct task_table *tasks_new(void)
{
	struct task_table *tt = g_new0(struct task_table, 1);

	tt->tasks = g_hash_table_new_full(NULL, NULL, NULL, task_free);
	tt->procs =
	    g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)proc_free);
	tt->released = g_ptr_array_new_with_free_func(g_free);
	return tt;
}

void tasks_free(struct task_table *tt)
{
	if (!tt)
		return;
	/* procs first: proc_free only drops its thread array, the tasks
	 * themselves are owned by the task hash */
	g_hash_table_destroy(tt->procs);
	g_hash_table_destroy(tt->tasks);
	g_ptr_array_free(tt->released, TRUE);
	g_free(tt);
}

struct task *tasks_find(const struct task_table *tt, pid_t tid)
{
	return g_hash_table_lookup(tt->tasks, GINT_TO_POINTER(tid));
}

struct proc *tasks_find_proc(const struct task_table *tt, pid_t tgid)
{
	return g_hash_table_lookup(tt->procs, GINT_TO_POINTER(tgid));
}

/* g gained or lost a task: readers of it and of the table see anew. */
static void members_changed(struct task_table *tt, struct group *g)
{
	group_touch(g);
	g->members_gen++;
	if (g->parent)
		tt->groups_gen++;
}

struct proc *tasks_add_proc(struct task_table *tt, pid_t tgid, struct group *g)
{
	struct proc *p = g_new0(struct proc, 1);

	p->tgid = tgid;
	p->threads = g_ptr_array_new();
	p->dying = g_ptr_array_new();
	p->last_cpu = -1;
	g_hash_table_replace(tt->procs, GINT_TO_POINTER(tgid), p);
	tasks_add_thread(tt, p, tgid, g);
	return p;
}

struct task *tasks_add_thread(struct task_table *tt, struct proc *p, pid_t tid,
			      struct group *g)
{
	struct task *t = tasks_find(tt, tid);

	if (t)
		tasks_remove_thread(tt, t);
	t = g_new0(struct task, 1);
	t->tid = tid;
	t->proc = p;
	t->group = g;
	t->run_cpu = -1;
	g->ntasks++;
	members_changed(tt, g);
	g_ptr_array_add(p->threads, t);
	g_hash_table_insert(tt->tasks, GINT_TO_POINTER(tid), t);
	tt->gen++;
	return t;
}

/* t leaves its group: the last task to leave may release it. */
static void leave(struct task_table *tt, struct task *t)
{
	struct group *g = t->group;

	g->ntasks--;
	members_changed(tt, g);
	if (group_releasable(g))
		g_ptr_array_add(tt->released, group_path(g));
}

void tasks_remove_thread(struct task_table *tt, struct task *t)
{
	if (t->group)
		leave(tt, t);
	if (t->proc)
		g_ptr_array_remove(t->proc->threads, t);
	tt->gen++;
	g_hash_table_remove(tt->tasks, GINT_TO_POINTER(t->tid));
}

void tasks_detach_proc(struct task_table *tt, struct proc *p)
{
	while (p->threads->len)
		tasks_remove_thread(tt, p->threads->pdata[0]);
	g_hash_table_steal(tt->procs, GINT_TO_POINTER(p->tgid));
}

void proc_free(struct proc *p)
{
	if (!p)
		return;
	/* exited children still waiting for settlement are owned here */
	for (unsigned int i = 0; i < p->dying->len; i++)
		proc_free(p->dying->pdata[i]);
	g_ptr_array_free(p->dying, TRUE);
	g_ptr_array_free(p->threads, TRUE);
	g_free(p->weight);
	g_free(p);
}

void tasks_move(struct task_table *tt, struct task *t, struct group *g)
{
	if (t->group == g)
		return;
	leave(tt, t);
	t->group = g;
	g->ntasks++;
	members_changed(tt, g);
	tt->gen++;
}

void tasks_renumber(struct task_table *tt, struct task *t, pid_t tid)
{
	struct task *other = tasks_find(tt, tid);

	if (other == t)
		return;
	if (other)
		tasks_remove_thread(tt, other);
	g_hash_table_steal(tt->tasks, GINT_TO_POINTER(t->tid));
	t->tid = tid;
	g_hash_table_insert(tt->tasks, GINT_TO_POINTER(tid), t);
	members_changed(tt, t->group);
	tt->gen++;
}

struct group *proc_group(const struct proc *p)
{
	if (p->threads->len == 0)
		return NULL;
	return ((struct task *)p->threads->pdata[0])->group;
}

bool proc_update_split(struct proc *p)
{
	bool split = false;
	struct group *first = proc_group(p);

	for (unsigned int i = 1; i < p->threads->len; i++) {
		struct task *t = p->threads->pdata[i];

		if (t->group != first)
			split = true;
	}
	if (split == p->split)
		return false;
	p->split = split;
	return true;
}

static gint pid_cmp(gconstpointer a, gconstpointer b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

void tasks_sort_ids(GArray *ids, bool unique)
{
	unsigned int out = 0;

	g_array_sort(ids, pid_cmp);
	for (unsigned int i = 0; unique && i < ids->len; i++) {
		pid_t id = g_array_index(ids, pid_t, i);

		if (out && g_array_index(ids, pid_t, out - 1) == id)
			continue;
		g_array_index(ids, pid_t, out++) = id;
	}
	if (unique)
		g_array_set_size(ids, out);
}

void tasks_members(const struct task_table *tt, unsigned int ngroups,
		   GArray **tids, GArray **tgids)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, tt->tasks);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct task *t = value;
		unsigned int id = t->group->id;

		if (id >= ngroups || !tids[id])
			continue;
		g_array_append_val(tids[id], t->tid);
		g_array_append_val(tgids[id], t->proc->tgid);
	}
	for (unsigned int id = 0; id < ngroups; id++) {
		if (!tids[id])
			continue;
		tasks_sort_ids(tids[id], false);
		tasks_sort_ids(tgids[id], true);
	}
}
