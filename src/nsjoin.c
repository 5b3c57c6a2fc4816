/* nsjoin.c - a container's pid namespace and the group its tasks join. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <sys/stat.h>

#include "nsjoin.h"
#include "pidns.h"

struct nsentry {
	ino_t ino; /* of the pid namespace */
	unsigned int gid;
	uint64_t serial; /* of the group: a reused id is another group */
	pid_t init;	 /* the namespace dies with it */
};

struct nsjoin {
	GHashTable *by_ino; /* ino_t * -> struct nsentry * */
};

static guint ino_hash(gconstpointer p)
{
	return g_int64_hash(p);
}

static gboolean ino_equal(gconstpointer a, gconstpointer b)
{
	return *(const ino_t *)a == *(const ino_t *)b;
}

struct nsjoin *nsjoin_new(void)
{
	struct nsjoin *j = g_new0(struct nsjoin, 1);

	G_STATIC_ASSERT(sizeof(ino_t) == sizeof(gint64));
	j->by_ino = g_hash_table_new_full(ino_hash, ino_equal, NULL, g_free);
	return j;
}

void nsjoin_free(struct nsjoin *j)
{
	if (!j)
		return;
	g_hash_table_destroy(j->by_ino);
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
	en->ino = ns.ino;
	en->gid = g->id;
	en->serial = g->serial;
	en->init = init;
	g_hash_table_replace(j->by_ino, &en->ino, en);
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

unsigned int nsjoin_count(const struct nsjoin *j)
{
	return g_hash_table_size(j->by_ino);
}
