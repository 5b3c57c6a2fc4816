/* group.c - the group tree and its one charge path to the root. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "group.h"
#include "parse.h"

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct stat_state *stat_state_new(void)
{
	struct stat_state *st = g_new0(struct stat_state, 1);

	st->refs = 1;
	g_mutex_init(&st->lock);
	return st;
}

struct stat_state *stat_state_ref(struct stat_state *st)
{
	g_atomic_int_inc(&st->refs);
	return st;
}

void stat_state_unref(struct stat_state *st)
{
	if (!st || !g_atomic_int_dec_and_test(&st->refs))
		return;
	g_mutex_clear(&st->lock);
	g_free(st);
}

/* The counts the kernel holds now for id: a group on that id starts
 * from them (a removed group's late charges never show). */
static void take_kseen(const struct group_tree *tree, struct group *g)
{
	const struct kslot *src;

	if (!tree->kslots)
		return;
	src = tree->kslots + (size_t)g->id * tree->ncpu;
	g->kseen = tree->kseen + (size_t)g->id * tree->ncpu;
	for (unsigned int cpu = 0; cpu < tree->ncpu; cpu++) {
		g->kseen[cpu].usage =
		    __atomic_load_n(&src[cpu].usage, __ATOMIC_RELAXED);
		g->kseen[cpu].user =
		    __atomic_load_n(&src[cpu].user, __ATOMIC_RELAXED);
		g->kseen[cpu].sys =
		    __atomic_load_n(&src[cpu].sys, __ATOMIC_RELAXED);
	}
}

/* A new group on id, which must be free (by_id long enough, NULL). */
static struct group *group_new_at(struct group_tree *tree, const char *name,
				  struct group *parent, mode_t mode,
				  unsigned int id)
{
	struct group *g = g_new0(struct group, 1);

	g->id = id;
	g->tree = tree;
	g->serial = ++tree->serials;
	g->gen = 1; /* recorded_gen 0: not in the history yet */
	g->name = g_strdup(name);
	g->parent = parent;
	g->children = g_ptr_array_new();
	g->child_ids = g_array_new(FALSE, FALSE, sizeof(unsigned int));
	g->mode = mode;
	g->ctime_ns = realtime_ns();
	g->max_descendants = GROUP_NO_LIMIT;
	g->ncpu = tree->ncpu;
	g->usage = g_new0(uint64_t, tree->ncpu);
	g->user = g_new0(uint64_t, tree->ncpu);
	g->sys = g_new0(uint64_t, tree->ncpu);
	g->stat = stat_state_new();
	g->history = history_new(tree->history_len);
	tree->by_id->pdata[id] = g;
	take_kseen(tree, g);
	g->dirty = g->unrecorded = true;
	g_array_append_val(tree->dirty, g->id);
	g_array_append_val(tree->unrecorded, g->id);
	if (parent) {
		/* children inherit both flags, as cgroup v1 does */
		g->notify_on_release = parent->notify_on_release;
		g->clone_children = parent->clone_children;
		g_ptr_array_add(parent->children, g);
		g_array_append_val(parent->child_ids, g->id);
		nameidx_add(tree->names, parent->id, name, g->id);
	}
	tree->gen++;
	return g;
}

unsigned int group_free_id_count(const struct group_tree *tree)
{
	return tree->free_ids->len - tree->free_head;
}

unsigned int group_free_id(const struct group_tree *tree, unsigned int i)
{
	return g_array_index(tree->free_ids, unsigned int, tree->free_head + i);
}

/* The oldest free id; the array sheds its taken head once that is half
 * of it, so each id is moved at most once on average. */
static unsigned int pop_free_id(struct group_tree *tree)
{
	unsigned int id = group_free_id(tree, 0);

	if (++tree->free_head * 2 >= tree->free_ids->len) {
		g_array_remove_range(tree->free_ids, 0, tree->free_head);
		tree->free_head = 0;
	}
	return id;
}

static struct group *group_new(struct group_tree *tree, const char *name,
			       struct group *parent, mode_t mode)
{
	unsigned int id;

	if (group_free_id_count(tree) > GROUP_ID_REUSE_AFTER) {
		id = pop_free_id(tree);
	} else {
		id = tree->by_id->len;
		g_ptr_array_add(tree->by_id, NULL);
	}
	return group_new_at(tree, name, parent, mode, id);
}

static void count_below(struct group *parent, int delta);

struct group *group_restore(struct group_tree *tree, struct group *parent,
			    const char *name, unsigned int id, mode_t mode)
{
	if (id >= tree->by_id->len)
		g_ptr_array_set_size(tree->by_id, id + 1);
	count_below(parent, 1);
	return group_new_at(tree, name, parent, mode, id);
}

void group_restore_free_ids(struct group_tree *tree, const GArray *ids,
			    unsigned int by_id_len)
{
	if (by_id_len > tree->by_id->len)
		g_ptr_array_set_size(tree->by_id, by_id_len);
	g_array_set_size(tree->free_ids, 0);
	tree->free_head = 0;
	g_array_append_vals(tree->free_ids, ids->data, ids->len);
}

static void group_free(struct group *g)
{
	g_free(g->name);
	g_free(g->files);
	g_ptr_array_free(g->children, TRUE);
	g_array_free(g->child_ids, TRUE);
	g_free(g->usage);
	g_free(g->user);
	g_free(g->sys);
	stat_state_unref(g->stat);
	history_unref(g->history);
	g_free(g);
}

struct group_tree *group_tree_new(unsigned int ncpu, size_t history_len)
{
	struct group_tree *tree = g_new0(struct group_tree, 1);

	tree->by_id = g_ptr_array_new();
	tree->dirty = g_array_new(FALSE, FALSE, sizeof(unsigned int));
	tree->unrecorded = g_array_new(FALSE, FALSE, sizeof(unsigned int));
	tree->names = nameidx_new();
	tree->free_ids = g_array_new(FALSE, FALSE, sizeof(unsigned int));
	tree->ncpu = ncpu;
	tree->history_len = history_len;
	tree->release_agent = g_strdup("");
	tree->default_max_descendants = GROUP_NO_LIMIT;
	group_new(tree, "", NULL, 0555);
	return tree;
}

static void kseen_unmap(struct group_tree *tree)
{
	if (tree->kseen)
		munmap(tree->kseen, tree->kseen_bytes);
	tree->kseen = NULL;
}

void group_tree_free(struct group_tree *tree)
{
	if (!tree)
		return;
	for (unsigned int i = 0; i < tree->by_id->len; i++) {
		struct group *g = tree->by_id->pdata[i];

		if (g)
			group_free(g);
	}
	g_ptr_array_free(tree->by_id, TRUE);
	g_array_free(tree->free_ids, TRUE);
	nameidx_unref(tree->names);
	g_array_free(tree->dirty, TRUE);
	g_array_free(tree->unrecorded, TRUE);
	g_free(tree->release_agent);
	kseen_unmap(tree);
	g_free(tree);
}

void group_tree_set_kslots(struct group_tree *tree, const struct kslot *slots,
			   unsigned int kmax)
{
	tree->kslots = slots;
	tree->kmax = kmax;
	kseen_unmap(tree);
	tree->kseen_bytes = (size_t)kmax * tree->ncpu * sizeof(struct kslot);
	tree->kseen = mmap(NULL, tree->kseen_bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tree->kseen == MAP_FAILED)
		g_error("kernel counters: no memory for %zu bytes",
			tree->kseen_bytes);
	for (unsigned int id = 0; id < tree->by_id->len; id++) {
		struct group *g = tree->by_id->pdata[id];

		if (g)
			take_kseen(tree, g);
	}
}

/* Whether no group holds an id whose kseen slots lie in [off, end). */
static bool kseen_unused(const struct group_tree *tree, size_t off, size_t end)
{
	size_t per_id = tree->ncpu * sizeof(struct kslot);
	unsigned int last = MIN((end - 1) / per_id + 1, tree->by_id->len);

	for (unsigned int id = off / per_id; id < last; id++)
		if (tree->by_id->pdata[id])
			return false;
	return true;
}

void group_tree_trim(struct group_tree *tree)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = tree->kseen_bytes;
	size_t run = 0; /* where the unused pages before off begin */

	if (!tree->kseen)
		return;
	for (size_t off = 0;; off += page) {
		bool done = off >= bytes;

		if (!done && kseen_unused(tree, off, MIN(off + page, bytes)))
			continue;
		/* their slots are written again when the id comes back */
		if (MIN(off, bytes) > run)
			madvise((char *)tree->kseen + run,
				MIN(off, bytes) - run, MADV_DONTNEED);
		if (done)
			return;
		run = off + page;
	}
}

/* The id the next group gets (see group_new). */
static unsigned int next_id(const struct group_tree *tree)
{
	if (group_free_id_count(tree) > GROUP_ID_REUSE_AFTER)
		return group_free_id(tree, 0);
	return tree->by_id->len;
}

struct group *group_root(const struct group_tree *tree)
{
	return tree->by_id->pdata[0];
}

struct group *group_by_id(const struct group_tree *tree, unsigned int id)
{
	if (id >= tree->by_id->len)
		return NULL;
	return tree->by_id->pdata[id];
}

struct group *group_child(const struct group *parent, const char *name)
{
	unsigned int id;

	if (!nameidx_find(parent->tree->names, parent->id, name, &id))
		return NULL;
	return group_by_id(parent->tree, id);
}

bool group_is_ancestor(const struct group *anc, const struct group *g)
{
	for (; g; g = g->parent)
		if (g == anc)
			return true;
	return false;
}

/* Whether one more group below parent stays within every ancestor's
 * limit: a walk to the root, as the kernel's cgroup_check_hierarchy_limits. */
static bool room_below(const struct group *parent)
{
	for (const struct group *a = parent; a; a = a->parent)
		if (a->ndescendants >= a->max_descendants)
			return false;
	return true;
}

static void count_below(struct group *parent, int delta)
{
	for (struct group *a = parent; a; a = a->parent)
		a->ndescendants += delta;
}

int group_mkdir(struct group_tree *tree, struct group *parent, const char *name,
		mode_t mode, struct group **out)
{
	int err = parse_group_name(name);

	if (err)
		return err;
	if (group_child(parent, name))
		return -EEXIST;
	if (!room_below(parent))
		return -EAGAIN;
	if (tree->kslots && next_id(tree) >= tree->kmax)
		return -ENOSPC;
	*out = group_new(tree, name, parent, mode & 07777);
	count_below(parent, 1);
	group_touch(parent);
	return 0;
}

void group_set_max_descendants(struct group *g, unsigned int max)
{
	g->max_descendants = max;
}

static void remove_child(struct group *parent, struct group *g)
{
	unsigned int at;

	if (!g_ptr_array_find(parent->children, g, &at))
		g_assert_not_reached();
	g_ptr_array_remove_index(parent->children, at);
	g_array_remove_index(parent->child_ids, at);
}

int group_rmdir(struct group_tree *tree, struct group *g)
{
	if (!g->parent)
		return -EBUSY;
	if (g->children->len || g->ntasks)
		return -EBUSY;
	remove_child(g->parent, g);
	nameidx_remove(tree->names, g->parent->id, g->name);
	count_below(g->parent, -1);
	group_touch(g->parent);
	tree->by_id->pdata[g->id] = NULL;
	g_array_append_val(tree->dirty, g->id);
	g_array_append_val(tree->free_ids, g->id);
	tree->removals++;
	tree->gen++;
	group_free(g);
	return 0;
}

bool group_releasable(const struct group *g)
{
	return g->notify_on_release && !g->ntasks && !g->children->len;
}

char *group_path(const struct group *g)
{
	GString *path = g_string_new(NULL);

	for (; g->parent; g = g->parent) {
		g_string_prepend(path, g->name);
		g_string_prepend_c(path, '/');
	}
	if (!path->len)
		g_string_append_c(path, '/');
	return g_string_free(path, FALSE);
}

int group_rename(struct group_tree *tree, struct group *g,
		 struct group *new_parent, const char *new_name)
{
	int err = parse_group_name(new_name);

	if (err)
		return err;
	if (!g->parent)
		return -EBUSY;
	if (new_parent != g->parent)
		return -EIO; /* cgroup v1 renames only within a parent */
	if (strcmp(g->name, new_name) == 0)
		return 0;
	if (group_child(new_parent, new_name))
		return -EEXIST;
	nameidx_remove(tree->names, g->parent->id, g->name);
	g_free(g->name);
	g->name = g_strdup(new_name);
	nameidx_add(tree->names, g->parent->id, g->name, g->id);
	group_touch(g);
	group_touch(g->parent);
	tree->gen++;
	return 0;
}

void group_touch(struct group *g)
{
	g->gen++;
	if (!g->dirty) {
		g->dirty = true;
		g_array_append_val(g->tree->dirty, g->id);
	}
	if (!g->unrecorded) {
		g->unrecorded = true;
		g_array_append_val(g->tree->unrecorded, g->id);
	}
}

/* The one walk to the root that every charge takes. */
static void charge_to_root(struct group *g, unsigned int cpu, uint64_t usage,
			   uint64_t user, uint64_t sys)
{
	for (; g; g = g->parent) {
		g->usage[cpu] += usage;
		g->user[cpu] += user;
		g->sys[cpu] += sys;
		group_touch(g);
	}
}

void group_charge(struct group *g, unsigned int cpu, uint64_t user_ns,
		  uint64_t sys_ns)
{
	charge_to_root(g, cpu, user_ns + sys_ns, user_ns, sys_ns);
}

void group_charge_usage(struct group *g, unsigned int cpu, uint64_t ns)
{
	charge_to_root(g, cpu, ns, 0, 0);
}

void group_charge_ticks(struct group *g, unsigned int cpu, uint64_t user_ns,
			uint64_t sys_ns)
{
	if (user_ns || sys_ns)
		charge_to_root(g, cpu, 0, user_ns, sys_ns);
}

void group_transfer_usage(struct group *g, unsigned int cpu, uint64_t ns)
{
	/* the root holds every task's time already: only the chain below
	 * it learns where this time belonged */
	for (; g && g->parent; g = g->parent) {
		g->usage[cpu] += ns;
		group_touch(g);
	}
}

void group_reset(struct group *g, int64_t t_ns)
{
	size_t bytes = g->ncpu * sizeof(uint64_t);

	/* the reset shows at the pass that brought the counters up to now */
	history_seen(g->history, t_ns);
	history_reset(g->history, group_sum(g, g->usage), group_sum(g, g->user),
		      group_sum(g, g->sys));
	memset(g->usage, 0, bytes);
	memset(g->user, 0, bytes);
	memset(g->sys, 0, bytes);
	group_touch(g);
}

uint64_t group_sum(const struct group *g, const uint64_t *percpu)
{
	uint64_t sum = 0;

	for (unsigned int cpu = 0; cpu < g->ncpu; cpu++)
		sum += percpu[cpu];
	return sum;
}

void group_record(struct group *g, int64_t t_ns)
{
	/* unchanged: the newest record still answers, and touching every
	 * idle group's history each pass would cost a cache miss apiece */
	if (g->recorded_gen == g->gen)
		return;
	g->recorded_gen = g->gen;
	history_push(g->history, t_ns, group_sum(g, g->usage),
		     group_sum(g, g->user), group_sum(g, g->sys));
}

void group_record_changed(struct group_tree *tree, int64_t t_ns)
{
	for (unsigned int i = 0; i < tree->unrecorded->len; i++) {
		struct group *g = group_by_id(
		    tree, g_array_index(tree->unrecorded, unsigned int, i));

		/* removed since, or its id already given to a new group
		 * listed again below */
		if (!g || !g->unrecorded)
			continue;
		g->unrecorded = false;
		group_record(g, t_ns);
	}
	g_array_set_size(tree->unrecorded, 0);
}
