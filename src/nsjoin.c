/* nsjoin.c - a container's pid namespace and the group its tasks join. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <sys/stat.h>

#include "nsjoin.h"
#include "pidns.h"

struct nsjoin;

struct nsentry {
	struct nsjoin *j;
	ino_t ino; /* of the pid namespace */
	unsigned int gid;
	uint64_t serial; /* of the group: a reused id is another group */
	pid_t init;	 /* the namespace dies with it */
};

/* An exec'd process the kernel's counters may not have in its group. */
struct nspending {
	pid_t pid;
	unsigned int gid;
	uint64_t serial;
	unsigned int passes; /* waited so far */
};

struct nsjoin {
	GHashTable *by_ino; /* ino_t * -> struct nsentry * */
	GArray *pending;    /* struct nspending */
	nsjoin_kernel_fn kernel;
	void *kernel_data;
};

static guint ino_hash(gconstpointer p)
{
	return g_int64_hash(p);
}

static gboolean ino_equal(gconstpointer a, gconstpointer b)
{
	return *(const ino_t *)a == *(const ino_t *)b;
}

/* Entries are freed on removal only: tell the kernel's counters. */
static void free_entry(gpointer p)
{
	struct nsentry *en = p;

	if (en->j->kernel)
		en->j->kernel(en->j->kernel_data, en->ino, 0);
	g_free(en);
}

struct nsjoin *nsjoin_new(void)
{
	struct nsjoin *j = g_new0(struct nsjoin, 1);

	G_STATIC_ASSERT(sizeof(ino_t) == sizeof(gint64));
	j->by_ino =
	    g_hash_table_new_full(ino_hash, ino_equal, NULL, free_entry);
	j->pending = g_array_new(FALSE, FALSE, sizeof(struct nspending));
	return j;
}

void nsjoin_free(struct nsjoin *j)
{
	if (!j)
		return;
	j->kernel = NULL; /* the counters may be closed already */
	g_hash_table_destroy(j->by_ino);
	g_array_unref(j->pending);
	g_free(j);
}

/* The pid namespace of pid: its inode alone, one stat (pidns_of also
 * reads the task's status outside our own namespace). */
static int ns_ino(pid_t pid, ino_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &st) < 0)
		return -ESRCH;
	*ino = st.st_ino;
	return 0;
}

/* Still the namespace of a live init, and its group still there. */
static struct group *entry_group(const struct nsentry *en,
				 const struct group_tree *tree)
{
	struct group *g = group_by_id(tree, en->gid);
	ino_t ino;

	if (!g || g->serial != en->serial)
		return NULL;
	if (ns_ino(en->init, &ino) || ino != en->ino)
		return NULL;
	return g;
}

static gboolean is_stale(gpointer key, gpointer value, gpointer tree)
{
	return !entry_group(value, tree);
}

int nsjoin_add(struct nsjoin *j, const struct group_tree *tree, pid_t init,
	       const struct group *g)
{
	struct nsentry *en;
	struct pidns ns = {0};
	int err = ns_ino(init, &ns.ino);

	if (err)
		return err;
	if (pidns_is_own(&ns))
		return -EINVAL;
	/* containers come and go without an exec: drop theirs here */
	g_hash_table_foreach_remove(j->by_ino, is_stale, (gpointer)tree);
	en = g_new0(struct nsentry, 1);
	en->j = j;
	en->ino = ns.ino;
	en->gid = g->id;
	en->serial = g->serial;
	en->init = init;
	g_hash_table_replace(j->by_ino, &en->ino, en);
	if (j->kernel)
		j->kernel(j->kernel_data, en->ino, g->id);
	return 0;
}

struct group *nsjoin_find(struct nsjoin *j, const struct group_tree *tree,
			  pid_t pid)
{
	struct nsentry *en;
	struct group *g;
	ino_t ino;

	if (!g_hash_table_size(j->by_ino) || ns_ino(pid, &ino))
		return NULL;
	en = g_hash_table_lookup(j->by_ino, &ino);
	if (!en)
		return NULL;
	g = entry_group(en, tree);
	if (!g)
		g_hash_table_remove(j->by_ino, &ino);
	return g;
}

void nsjoin_set_kernel(struct nsjoin *j, nsjoin_kernel_fn fn, void *data)
{
	j->kernel = fn;
	j->kernel_data = data;
}

void nsjoin_joined(struct nsjoin *j, const struct group *g, pid_t pid)
{
	struct nspending p = {.pid = pid, .gid = g->id, .serial = g->serial};

	g_array_append_val(j->pending, p);
}

/* true when p is done with */
static bool settle_one(struct nspending *p, const struct group_tree *tree,
		       nsjoin_check_fn check, void *data)
{
	struct group *g = group_by_id(tree, p->gid);
	bool force;

	if (!g || g->serial != p->serial)
		return true;
	force = ++p->passes >= NSJOIN_WAIT_PASSES;
	return check(data, p->pid, p->gid, force) != 0;
}

void nsjoin_settle(struct nsjoin *j, const struct group_tree *tree,
		   nsjoin_check_fn check, void *data)
{
	for (guint i = 0; i < j->pending->len;) {
		if (settle_one(&g_array_index(j->pending, struct nspending, i),
			       tree, check, data))
			g_array_remove_index_fast(j->pending, i);
		else
			i++;
	}
}

unsigned int nsjoin_count(const struct nsjoin *j)
{
	return g_hash_table_size(j->by_ino);
}

void nsjoin_save(struct nsjoin *j, GArray *out)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, j->by_ino);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const struct nsentry *en = value;
		struct nsjoin_saved saved = {en->init, en->gid};

		g_array_append_val(out, saved);
	}
}
