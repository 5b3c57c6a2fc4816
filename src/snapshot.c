/* snapshot.c - build, share and query immutable views of the tree. */
#include <string.h>

#include "cputime.h"
#include "snapshot.h"

static uint64_t *copy_percpu(const uint64_t *src, unsigned int ncpu)
{
	return g_memdup2(src, ncpu * sizeof(uint64_t));
}

static struct snap_group *snap_group_new(const struct group *g)
{
	struct snap_group *sg = g_new0(struct snap_group, 1);

	sg->refs = 1;
	sg->gen = g->gen;
	sg->members_gen = g->members_gen;
	sg->id = g->id;
	sg->serial = g->serial;
	sg->parent_id = g->parent ? g->parent->id : g->id;
	sg->name = g_strdup(g->name);
	sg->uid = g->uid;
	sg->gid = g->gid;
	sg->mode = g->mode;
	if (g->files)
		sg->files =
		    g_memdup2(g->files, GROUP_FILES * sizeof(*g->files));
	sg->ctime_ns = g->ctime_ns;
	sg->notify_on_release = g->notify_on_release;
	sg->clone_children = g->clone_children;
	/* one copy of contiguous ids: a parent of 10,000 is copied at every
	 * mkdir and rmdir in it */
	sg->children = g_array_sized_new(FALSE, FALSE, sizeof(unsigned int),
					 g->child_ids->len);
	g_array_append_vals(sg->children, g->child_ids->data,
			    g->child_ids->len);
	sg->usage = copy_percpu(g->usage, g->ncpu);
	sg->user = copy_percpu(g->user, g->ncpu);
	sg->sys = copy_percpu(g->sys, g->ncpu);
	sg->stat = stat_state_ref(g->stat);
	if (g->kseen)
		sg->kseen = g_memdup2(g->kseen, g->ncpu * sizeof(*g->kseen));
	sg->history = history_ref(g->history);
	return sg;
}

static void snap_group_unref(struct snap_group *sg)
{
	if (!sg || !g_atomic_int_dec_and_test(&sg->refs))
		return;
	g_free(sg->name);
	g_free(sg->files);
	g_array_free(sg->children, TRUE);
	g_free(sg->usage);
	g_free(sg->user);
	g_free(sg->sys);
	stat_state_unref(sg->stat);
	g_free(sg->kseen);
	history_unref(sg->history);
	g_array_unref(sg->tids);
	g_array_unref(sg->tgids);
	g_free(sg);
}

/* Member lists for the groups copied anew (those shared keep theirs). */
static void build_members(struct snapshot *snap, GPtrArray *fresh,
			  const struct task_table *tasks)
{
	g_autofree GArray **tids = NULL;
	g_autofree GArray **tgids = NULL;
	bool any = false;

	for (unsigned int i = 0; i < fresh->len; i++) {
		struct snap_group *sg = fresh->pdata[i];

		if (sg->tids)
			continue;
		if (!tids) {
			tids = g_new0(GArray *, snap->ngroups);
			tgids = g_new0(GArray *, snap->ngroups);
		}
		tids[sg->id] = sg->tids =
		    g_array_new(FALSE, FALSE, sizeof(pid_t));
		tgids[sg->id] = sg->tgids =
		    g_array_new(FALSE, FALSE, sizeof(pid_t));
		any = true;
	}
	if (any)
		tasks_members(tasks, snap->ngroups, tids, tgids);
}

static struct snap_group *snap_group_of(const struct group *g,
					const struct snapshot *prev)
{
	struct snap_group *old =
	    prev ? (struct snap_group *)snapshot_group(prev, g->id) : NULL;

	struct snap_group *sg;

	if (old && old->serial == g->serial && old->gen == g->gen) {
		g_atomic_int_inc(&old->refs);
		return old;
	}
	sg = snap_group_new(g);
	/* only its counters changed, or it has no tasks: its lists need
	 * no walk of every task */
	if (old && old->serial == g->serial &&
	    old->members_gen == g->members_gen) {
		sg->tids = g_array_ref(old->tids);
		sg->tgids = g_array_ref(old->tgids);
	} else if (!g->ntasks) {
		sg->tids = g_array_new(FALSE, FALSE, sizeof(pid_t));
		sg->tgids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	}
	return sg;
}

static void chunk_unref(struct snap_chunk *c)
{
	if (!c || !g_atomic_int_dec_and_test(&c->refs))
		return;
	for (unsigned int i = 0; i < SNAP_CHUNK; i++)
		snap_group_unref(c->g[i]);
	g_free(c);
}

/* Chunk i of snap, its own to change: a shared one is copied first. */
static struct snap_chunk *own_chunk(struct snapshot *snap, unsigned int i,
				    GHashTable *owned)
{
	struct snap_chunk *c = snap->chunks[i], *copy;

	if (c && g_hash_table_contains(owned, c))
		return c;
	copy = g_new0(struct snap_chunk, 1);
	copy->refs = 1;
	if (c) {
		copy->used = c->used;
		memcpy(copy->g, c->g, sizeof(copy->g));
		for (unsigned int k = 0; k < SNAP_CHUNK; k++)
			if (copy->g[k])
				g_atomic_int_inc(&copy->g[k]->refs);
		chunk_unref(c);
	}
	snap->chunks[i] = copy;
	g_hash_table_add(owned, copy);
	return copy;
}

/* Put id's group as of now (or nothing, once removed) in snap. */
static void set_group(struct snapshot *snap, const struct group_tree *tree,
		      unsigned int id, const struct snapshot *prev,
		      GHashTable *owned, GPtrArray *fresh)
{
	struct group *g = group_by_id(tree, id);
	struct snap_chunk *c = own_chunk(snap, id / SNAP_CHUNK, owned);
	struct snap_group **slot = &c->g[id % SNAP_CHUNK];

	c->used -= *slot != NULL;
	snap_group_unref(*slot);
	*slot = g ? snap_group_of(g, prev) : NULL;
	c->used += *slot != NULL;
	if (*slot && *slot != snapshot_group(prev, id))
		g_ptr_array_add(fresh, *slot);
	if (g)
		g->dirty = false;
	if (!c->used) {
		/* an empty chunk made while groups went would outlive them,
		 * scattered, and keep the pages they were freed from */
		g_hash_table_remove(owned, c);
		chunk_unref(c);
		snap->chunks[id / SNAP_CHUNK] = NULL;
	}
}

static struct snapshot *snapshot_new(const struct group_tree *tree,
				     uint64_t seq, int64_t t_ns)
{
	struct snapshot *snap = g_new0(struct snapshot, 1);
	unsigned int n = tree->by_id->len;

	snap->refs = 1;
	snap->seq = seq;
	snap->t_ns = t_ns;
	snap->ncpu = tree->ncpu;
	snap->ngroups = n;
	snap->nchunks = (n + SNAP_CHUNK - 1) / SNAP_CHUNK;
	snap->chunks = g_new0(struct snap_chunk *, snap->nchunks);
	snap->release_agent = g_strdup(tree->release_agent);
	snap->kslots = tree->kslots;
	snap->names = nameidx_ref(tree->names);
	snap->tree = tree;
	return snap;
}

/* prev was the last snapshot built from tree: share its chunks and redo
 * the groups the tree listed as changed since. Otherwise every group. */
struct snapshot *snapshot_build(const struct group_tree *tree,
				const struct task_table *tasks,
				const struct snapshot *prev, uint64_t seq,
				int64_t t_ns)
{
	struct snapshot *snap = snapshot_new(tree, seq, t_ns);
	struct group_tree *t = (struct group_tree *)tree;
	g_autoptr(GHashTable) owned = g_hash_table_new(NULL, NULL);
	g_autoptr(GPtrArray) fresh = g_ptr_array_new();
	bool incremental =
	    prev && prev->tree == tree && prev->epoch == tree->snap_epoch;

	if (incremental) {
		for (unsigned int i = 0; i < MIN(snap->nchunks, prev->nchunks);
		     i++) {
			snap->chunks[i] = prev->chunks[i];
			if (snap->chunks[i])
				g_atomic_int_inc(&snap->chunks[i]->refs);
		}
		/* an id can be listed twice (a group removed and its id
		 * given to a new one): redone once, or the second would drop
		 * what the first made */
		g_autoptr(GHashTable) done = g_hash_table_new(NULL, NULL);

		for (unsigned int i = 0; i < tree->dirty->len; i++) {
			unsigned int id =
			    g_array_index(tree->dirty, unsigned int, i);

			if (id < snap->ngroups &&
			    g_hash_table_add(done, GUINT_TO_POINTER(id + 1)))
				set_group(snap, tree, id, prev, owned, fresh);
		}
	} else {
		for (unsigned int id = 0; id < snap->ngroups; id++)
			if (group_by_id(tree, id))
				set_group(snap, tree, id, prev, owned, fresh);
	}
	g_array_set_size(t->dirty, 0);
	snap->epoch = ++t->snap_epoch;
	build_members(snap, fresh, tasks);
	return snap;
}

struct snapshot *snapshot_ref(struct snapshot *snap)
{
	g_atomic_int_inc(&snap->refs);
	return snap;
}

void snapshot_unref(struct snapshot *snap)
{
	if (!snap || !g_atomic_int_dec_and_test(&snap->refs))
		return;
	for (unsigned int i = 0; i < snap->nchunks; i++)
		chunk_unref(snap->chunks[i]);
	g_free(snap->chunks);
	g_free(snap->release_agent);
	nameidx_unref(snap->names);
	g_free(snap);
}

const struct snap_group *snapshot_group(const struct snapshot *snap,
					unsigned int id)
{
	const struct snap_chunk *c;

	if (!snap || id >= snap->ngroups)
		return NULL;
	c = snap->chunks[id / SNAP_CHUNK];
	return c ? c->g[id % SNAP_CHUNK] : NULL;
}

const struct snap_group *snapshot_child(const struct snapshot *snap,
					const struct snap_group *parent,
					const char *name)
{
	const struct snap_group *c;
	unsigned int id;

	/* the index has the newest tree's names: what it finds must be
	 * this snapshot's child of that name too */
	if (snap->names) {
		if (!nameidx_find(snap->names, parent->id, name, &id))
			return NULL;
		c = snapshot_group(snap, id);
		if (c && c != parent && c->parent_id == parent->id &&
		    strcmp(c->name, name) == 0)
			return c;
		return NULL;
	}
	for (unsigned int i = 0; i < parent->children->len; i++) {
		unsigned int id =
		    g_array_index(parent->children, unsigned int, i);
		const struct snap_group *c = snapshot_group(snap, id);

		if (c && strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

static uint64_t sum(const uint64_t *v, unsigned int n)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < n; i++)
		total += v[i];
	return total;
}

void snapshot_stat(const struct snapshot *snap, const struct snap_group *g,
		   const uint64_t *usage, const uint64_t *user,
		   const uint64_t *sys, uint64_t *user_ticks,
		   uint64_t *sys_ticks)
{
	uint64_t ut, st;

	g_mutex_lock(&g->stat->lock);
	cputime_adjust(sum(user, snap->ncpu), sum(sys, snap->ncpu),
		       sum(usage, snap->ncpu), &g->stat->prev, &ut, &st);
	g_mutex_unlock(&g->stat->lock);
	*user_ticks = cputime_ns_to_ticks(ut);
	*sys_ticks = cputime_ns_to_ticks(st);
}

static bool ids_same(const GArray *a, const GArray *b)
{
	return a->len == b->len &&
	       (!a->len ||
		memcmp(a->data, b->data, a->len * sizeof(pid_t)) == 0);
}

bool snapshot_group_same(const struct snapshot *a, const struct snapshot *b,
			 unsigned int id)
{
	const struct snap_group *x = snapshot_group(a, id);
	const struct snap_group *y = snapshot_group(b, id);
	size_t bytes = a->ncpu * sizeof(uint64_t);

	if (x == y)
		return id != 0 ||
		       strcmp(a->release_agent, b->release_agent) == 0;
	if (!x || !y || x->serial != y->serial)
		return false;
	return memcmp(x->usage, y->usage, bytes) == 0 &&
	       memcmp(x->user, y->user, bytes) == 0 &&
	       memcmp(x->sys, y->sys, bytes) == 0 &&
	       x->notify_on_release == y->notify_on_release &&
	       x->clone_children == y->clone_children &&
	       ids_same(x->tids, y->tids) && ids_same(x->tgids, y->tgids) &&
	       (id != 0 || strcmp(a->release_agent, b->release_agent) == 0);
}
