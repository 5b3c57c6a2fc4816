/* members.c - membership lists brought up to date with queued events. */
#include <stdlib.h>

#include "members.h"
#include "procconn.h"
#include "tasks.h"

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static bool in_sorted(const GArray *ids, pid_t id)
{
	/* an empty GArray may have no data at all */
	return ids->len &&
	       bsearch(&id, ids->data, ids->len, sizeof(pid_t), cmp_pid);
}

/* Whether ev changes lists holding exactly these ids. */
static bool touches(const GArray *tids, const GArray *tgids,
		    const struct pc_event *ev)
{
	switch (ev->kind) {
	case PC_FORK:
		return in_sorted(tids, ev->pid == ev->tgid ? ev->parent_pid
							   : ev->tgid);
	case PC_EXIT:
		return in_sorted(tids, ev->pid);
	case PC_EXEC:
		return in_sorted(tgids, ev->tgid);
	default:
		return false;
	}
}

static GHashTable *set_of(const GArray *ids)
{
	GHashTable *set = g_hash_table_new(NULL, NULL);

	for (guint i = 0; i < ids->len; i++)
		g_hash_table_add(set,
				 GINT_TO_POINTER(g_array_index(ids, pid_t, i)));
	return set;
}

static void apply(GHashTable *tids, GHashTable *tgids, const GArray *was_tgids,
		  const struct pc_event *ev)
{
	bool process = ev->pid == ev->tgid;

	switch (ev->kind) {
	case PC_FORK:
		if (!g_hash_table_contains(
			tids,
			GINT_TO_POINTER(process ? ev->parent_pid : ev->tgid)))
			return;
		g_hash_table_add(tids, GINT_TO_POINTER(ev->pid));
		if (process)
			g_hash_table_add(tgids, GINT_TO_POINTER(ev->pid));
		return;
	case PC_EXIT:
		if (!g_hash_table_remove(tids, GINT_TO_POINTER(ev->pid)))
			return;
		/* the leader's exit is, nearly always, the process's */
		if (process)
			g_hash_table_remove(tgids, GINT_TO_POINTER(ev->pid));
		return;
	case PC_EXEC:
		/* a thread other than the leader called exec: the leader's
		 * exit above was not the process's, whose one thread now has
		 * its id (its old id stays listed until the next snapshot) */
		if (!in_sorted(was_tgids, ev->tgid))
			return;
		g_hash_table_add(tids, GINT_TO_POINTER(ev->tgid));
		g_hash_table_add(tgids, GINT_TO_POINTER(ev->tgid));
		return;
	default:
		return;
	}
}

static GArray *sorted_of(GHashTable *set)
{
	GArray *ids = g_array_sized_new(FALSE, FALSE, sizeof(pid_t),
					g_hash_table_size(set));
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, set);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		pid_t id = GPOINTER_TO_INT(key);

		g_array_append_val(ids, id);
	}
	tasks_sort_ids(ids, true);
	return ids;
}

bool members_now(const GArray *tids, const GArray *tgids, const GArray *events,
		 GArray **tids_now, GArray **tgids_now)
{
	g_autoptr(GHashTable) tid_set = NULL;
	g_autoptr(GHashTable) tgid_set = NULL;
	guint i = 0;

	/* most events concern other groups: look before copying */
	while (
	    i < events->len &&
	    !touches(tids, tgids, &g_array_index(events, struct pc_event, i)))
		i++;
	if (i == events->len)
		return false;
	tid_set = set_of(tids);
	tgid_set = set_of(tgids);
	for (; i < events->len; i++)
		apply(tid_set, tgid_set, tgids,
		      &g_array_index(events, struct pc_event, i));
	*tids_now = sorted_of(tid_set);
	*tgids_now = sorted_of(tgid_set);
	return true;
}
