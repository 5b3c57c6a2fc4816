/* nameidx.c - see nameidx.h. */
#include "nameidx.h"

#include <glib.h>
#include <string.h>

struct nameidx {
	gint refs;
	GRWLock lock;
	GHashTable *map; /* struct key * -> id + 1 */
};

struct key {
	unsigned int parent;
	const char *name; /* owned when stored */
};

static guint key_hash(gconstpointer p)
{
	const struct key *k = p;

	return g_str_hash(k->name) ^ (k->parent * 2654435761u);
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	const struct key *x = a, *y = b;

	return x->parent == y->parent && strcmp(x->name, y->name) == 0;
}

static void key_free(gpointer p)
{
	struct key *k = p;

	g_free((char *)k->name);
	g_free(k);
}

struct nameidx *nameidx_new(void)
{
	struct nameidx *ix = g_new0(struct nameidx, 1);

	ix->refs = 1;
	g_rw_lock_init(&ix->lock);
	ix->map = g_hash_table_new_full(key_hash, key_equal, key_free, NULL);
	return ix;
}

struct nameidx *nameidx_ref(struct nameidx *ix)
{
	g_atomic_int_inc(&ix->refs);
	return ix;
}

void nameidx_unref(struct nameidx *ix)
{
	if (!ix || !g_atomic_int_dec_and_test(&ix->refs))
		return;
	g_hash_table_destroy(ix->map);
	g_rw_lock_clear(&ix->lock);
	g_free(ix);
}

void nameidx_add(struct nameidx *ix, unsigned int parent, const char *name,
		 unsigned int id)
{
	struct key *k = g_new(struct key, 1);

	k->parent = parent;
	k->name = g_strdup(name);
	g_rw_lock_writer_lock(&ix->lock);
	g_hash_table_replace(ix->map, k, GUINT_TO_POINTER(id + 1));
	g_rw_lock_writer_unlock(&ix->lock);
}

void nameidx_remove(struct nameidx *ix, unsigned int parent, const char *name)
{
	struct key k = {parent, name};

	g_rw_lock_writer_lock(&ix->lock);
	g_hash_table_remove(ix->map, &k);
	g_rw_lock_writer_unlock(&ix->lock);
}

bool nameidx_find(struct nameidx *ix, unsigned int parent, const char *name,
		  unsigned int *id)
{
	struct key k = {parent, name};
	gpointer v;

	g_rw_lock_reader_lock(&ix->lock);
	v = g_hash_table_lookup(ix->map, &k);
	g_rw_lock_reader_unlock(&ix->lock);
	if (v)
		*id = GPOINTER_TO_UINT(v) - 1;
	return v != NULL;
}
