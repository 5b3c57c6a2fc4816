/* state.c - the engine's state into a checkpoint and back. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "nsjoin.h"
#include "parse.h"
#include "state.h"
#include "wire.h"

#define STATE_MAGIC 0x5441545341504353ULL /* "SCPASTAT" */
#define STATE_END 0x444e455441545341ULL
#define NO_PARENT 0xffffffffU
#define MAX_IDS (1U << 24)
#define MAX_AGENT 4096

struct saved_group {
	unsigned int id, parent;
	char *name;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct file_attr *files; /* GROUP_FILES, or NULL: the defaults */
	int64_t ctime_ns;
	uint64_t serial;
	unsigned int max_descendants; /* cpuacctctl limit */
	bool notify_on_release, clone_children;
	uint64_t *counters;  /* usage, user, sys: ncpu each */
	struct kslot *kseen; /* ncpu, or NULL */
	struct prev_cputime prev;
	struct history *history;
};

struct saved_state {
	unsigned int ncpu, by_id_len;
	uint64_t boot_ns, serials;
	char *release_agent;
	GArray *free_ids;  /* unsigned int */
	GPtrArray *groups; /* struct saved_group *, parents first */
	GArray *members;   /* struct engine_member */
	GArray *joins;	   /* struct nsjoin_saved: containers' namespaces */
};

static int64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- saving ---- */

static void save_group(GByteArray *out, const struct group *g, bool with_kseen)
{
	wire_u32(out, g->id);
	wire_u32(out, g->parent ? g->parent->id : NO_PARENT);
	wire_str(out, g->name);
	wire_u32(out, g->mode);
	wire_u32(out, g->uid);
	wire_u32(out, g->gid);
	wire_u32(out, g->files != NULL);
	for (unsigned int f = 0; g->files && f < GROUP_FILES; f++) {
		wire_u32(out, g->files[f].uid);
		wire_u32(out, g->files[f].gid);
		wire_u32(out, g->files[f].mode);
	}
	wire_u64(out, g->ctime_ns);
	wire_u64(out, g->serial); /* in its inode numbers */
	wire_u32(out, g->max_descendants);
	wire_u32(out, g->notify_on_release | g->clone_children << 1);
	for (unsigned int cpu = 0; cpu < g->ncpu; cpu++)
		wire_u64(out, g->usage[cpu]);
	for (unsigned int cpu = 0; cpu < g->ncpu; cpu++)
		wire_u64(out, g->user[cpu]);
	for (unsigned int cpu = 0; cpu < g->ncpu; cpu++)
		wire_u64(out, g->sys[cpu]);
	for (unsigned int cpu = 0; with_kseen && cpu < g->ncpu; cpu++) {
		wire_u64(out, g->kseen[cpu].usage);
		wire_u64(out, g->kseen[cpu].user);
		wire_u64(out, g->kseen[cpu].sys);
	}
	g_mutex_lock(&g->stat->lock);
	wire_u64(out, g->stat->prev.utime);
	wire_u64(out, g->stat->prev.stime);
	g_mutex_unlock(&g->stat->lock);
	history_save(g->history, out);
}

/* Parents before children, children in their order (readdir's). */
static void save_subtree(GByteArray *out, const struct group *g,
			 bool with_kseen, unsigned int *n)
{
	save_group(out, g, with_kseen);
	(*n)++;
	for (unsigned int i = 0; i < g->children->len; i++)
		save_subtree(out, g->children->pdata[i], with_kseen, n);
}

static void save_member(GByteArray *out, const struct engine_member *m)
{
	wire_u32(out, m->tid);
	wire_u32(out, m->tgid);
	wire_u64(out, m->start_ns);
	wire_u32(out, m->gid);
	wire_u64(out, m->clock_last);
	wire_u64(out, m->runtime_last);
	wire_u64(out, m->covered_ns);
	wire_u32(out, m->covered_known | m->ticks_known << 1);
	wire_u64(out, m->ticks_user_ns);
	wire_u64(out, m->ticks_sys_ns);
}

static void save_ids(GByteArray *out, const struct group_tree *tree)
{
	wire_u32(out, tree->by_id->len);
	wire_u64(out, tree->serials);
	wire_u32(out, group_free_id_count(tree));
	for (unsigned int i = 0; i < group_free_id_count(tree); i++)
		wire_u32(out, group_free_id(tree, i));
}

static void save_joins(GByteArray *out, struct engine *e)
{
	g_autoptr(GArray) joins =
	    g_array_new(FALSE, FALSE, sizeof(struct nsjoin_saved));

	nsjoin_save(engine_nsjoin(e), joins);
	wire_u32(out, joins->len);
	for (unsigned int i = 0; i < joins->len; i++) {
		const struct nsjoin_saved *j =
		    &g_array_index(joins, struct nsjoin_saved, i);

		wire_u32(out, j->init);
		wire_u32(out, j->gid);
	}
}

GByteArray *state_save(struct engine *e)
{
	struct group_tree *tree = engine_tree(e);
	GByteArray *out = g_byte_array_new();
	g_autoptr(GArray) members =
	    g_array_new(FALSE, FALSE, sizeof(struct engine_member));
	unsigned int ngroups = 0;
	guint count_at;

	wire_u64(out, STATE_MAGIC);
	wire_u32(out, STATE_VERSION);
	wire_u32(out, tree->ncpu);
	wire_u32(out, tree->kseen != NULL);
	wire_u64(out, boottime_ns());
	wire_str(out, tree->release_agent);
	save_ids(out, tree);
	count_at = out->len;
	wire_u32(out, 0); /* the number of groups, filled in below */
	save_subtree(out, group_root(tree), tree->kseen != NULL, &ngroups);
	ngroups = GUINT32_TO_LE(ngroups);
	memcpy(out->data + count_at, &ngroups, sizeof(ngroups));
	engine_members_save(e, members);
	wire_u32(out, members->len);
	for (unsigned int i = 0; i < members->len; i++)
		save_member(out,
			    &g_array_index(members, struct engine_member, i));
	save_joins(out, e);
	wire_u64(out, STATE_END);
	return out;
}

/* ---- parsing ---- */

static void saved_group_free(gpointer data)
{
	struct saved_group *sg = data;

	g_free(sg->name);
	g_free(sg->files);
	g_free(sg->counters);
	g_free(sg->kseen);
	if (sg->history)
		history_unref(sg->history);
	g_free(sg);
}

void state_free(struct saved_state *st)
{
	if (!st)
		return;
	g_free(st->release_agent);
	if (st->free_ids)
		g_array_unref(st->free_ids);
	if (st->groups)
		g_ptr_array_unref(st->groups);
	if (st->members)
		g_array_unref(st->members);
	if (st->joins)
		g_array_unref(st->joins);
	g_free(st);
}

static bool parse_counters(struct wire_reader *r, struct saved_group *sg,
			   unsigned int ncpu, bool with_kseen)
{
	if (!wire_can_hold(r, (uint64_t)ncpu * (with_kseen ? 6 : 3), 8))
		return false;
	sg->counters = g_new(uint64_t, 3 * ncpu);
	for (unsigned int i = 0; i < 3 * ncpu; i++)
		sg->counters[i] = wire_get_u64(r);
	if (with_kseen) {
		sg->kseen = g_new(struct kslot, ncpu);
		for (unsigned int cpu = 0; cpu < ncpu; cpu++) {
			sg->kseen[cpu].usage = wire_get_u64(r);
			sg->kseen[cpu].user = wire_get_u64(r);
			sg->kseen[cpu].sys = wire_get_u64(r);
		}
	}
	sg->prev.utime = wire_get_u64(r);
	sg->prev.stime = wire_get_u64(r);
	return r->ok;
}

/* chown, chgrp and chmod of the directory and its files (owner.h). */
static bool parse_owners(struct wire_reader *r, struct saved_group *sg)
{
	sg->uid = wire_get_u32(r);
	sg->gid = wire_get_u32(r);
	if (!wire_get_u32(r))
		return r->ok;
	if (!wire_can_hold(r, GROUP_FILES, 12))
		return false;
	sg->files = g_new(struct file_attr, GROUP_FILES);
	for (unsigned int f = 0; f < GROUP_FILES; f++) {
		sg->files[f].uid = wire_get_u32(r);
		sg->files[f].gid = wire_get_u32(r);
		sg->files[f].mode = wire_get_u32(r) & 07777;
	}
	return r->ok;
}

/* One group, checked against those before it (seen: id -> its names'
 * set, for parents and duplicate names). */
static struct saved_group *parse_group(struct wire_reader *r,
				       struct saved_state *st, bool with_kseen,
				       GHashTable *seen, size_t history_len)
{
	struct saved_group *sg = g_new0(struct saved_group, 1);
	uint32_t flags;

	sg->id = wire_get_u32(r);
	sg->parent = wire_get_u32(r);
	sg->name = wire_get_str(r, 255);
	sg->mode = wire_get_u32(r) & 07777;
	if (!parse_owners(r, sg))
		goto bad;
	sg->ctime_ns = wire_get_u64(r);
	sg->serial = wire_get_u64(r);
	sg->max_descendants = wire_get_u32(r);
	flags = wire_get_u32(r);
	sg->notify_on_release = flags & 1;
	sg->clone_children = flags & 2;
	if (!r->ok || sg->id >= st->by_id_len || sg->serial > st->serials ||
	    g_hash_table_contains(seen, GUINT_TO_POINTER(sg->id)))
		goto bad;
	if (st->groups->len == 0
		? sg->id != 0 || sg->parent != NO_PARENT || sg->name[0]
		: parse_group_name(sg->name) ||
		      !g_hash_table_contains(seen,
					     GUINT_TO_POINTER(sg->parent)))
		goto bad;
	if (sg->parent != NO_PARENT &&
	    !g_hash_table_add(
		g_hash_table_lookup(seen, GUINT_TO_POINTER(sg->parent)),
		g_strdup(sg->name)))
		goto bad; /* two children of one name */
	if (!parse_counters(r, sg, st->ncpu, with_kseen))
		goto bad;
	sg->history = history_new(history_len);
	if (history_load(sg->history, r->buf, r->len, &r->pos) != 0)
		goto bad;
	g_hash_table_insert(
	    seen, GUINT_TO_POINTER(sg->id),
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL));
	return sg;
bad:
	saved_group_free(sg);
	return NULL;
}

static bool parse_groups(struct wire_reader *r, struct saved_state *st,
			 bool with_kseen, size_t history_len)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(
	    NULL, NULL, NULL, (GDestroyNotify)g_hash_table_unref);
	uint32_t n = wire_get_u32(r);

	if (!wire_can_hold(r, n, 32) || n == 0)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct saved_group *sg =
		    parse_group(r, st, with_kseen, seen, history_len);

		if (!sg)
			return false;
		g_ptr_array_add(st->groups, sg);
	}
	for (unsigned int i = 0; i < st->free_ids->len; i++)
		if (g_hash_table_contains(
			seen, GUINT_TO_POINTER(g_array_index(st->free_ids,
							     unsigned int, i))))
			return false; /* free and in use */
	return true;
}

static bool parse_ids(struct wire_reader *r, struct saved_state *st)
{
	uint32_t n;

	st->by_id_len = wire_get_u32(r);
	st->serials = wire_get_u64(r);
	n = wire_get_u32(r);
	if (st->by_id_len == 0 || st->by_id_len > MAX_IDS ||
	    n >= st->by_id_len || !wire_can_hold(r, n, 4))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		unsigned int id = wire_get_u32(r);

		if (id >= st->by_id_len || id == 0)
			return false;
		g_array_append_val(st->free_ids, id);
	}
	return r->ok;
}

static bool parse_members(struct wire_reader *r, struct saved_state *st)
{
	uint32_t n = wire_get_u32(r);

	if (!wire_can_hold(r, n, 64))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct engine_member m = {0};
		uint32_t flags;

		m.tid = wire_get_u32(r);
		m.tgid = wire_get_u32(r);
		m.start_ns = wire_get_u64(r);
		m.gid = wire_get_u32(r);
		m.clock_last = wire_get_u64(r);
		m.runtime_last = wire_get_u64(r);
		m.covered_ns = wire_get_u64(r);
		flags = wire_get_u32(r);
		m.covered_known = flags & 1;
		m.ticks_known = flags & 2;
		m.ticks_user_ns = wire_get_u64(r);
		m.ticks_sys_ns = wire_get_u64(r);
		if (!r->ok || m.tid <= 0 || m.tgid <= 0 ||
		    m.gid >= st->by_id_len)
			return false;
		g_array_append_val(st->members, m);
	}
	return true;
}

static bool parse_joins(struct wire_reader *r, struct saved_state *st)
{
	uint32_t n = wire_get_u32(r);

	if (!wire_can_hold(r, n, 8))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct nsjoin_saved j = {.init = wire_get_u32(r),
					 .gid = wire_get_u32(r)};

		if (j.init <= 0 || j.gid == 0 || j.gid >= st->by_id_len)
			return false;
		g_array_append_val(st->joins, j);
	}
	return r->ok;
}

/* The header; false (with why) if this server cannot use it. */
static bool parse_header(struct wire_reader *r, struct saved_state *st,
			 unsigned int ncpu, bool *with_kseen, const char **why)
{
	uint32_t version, saved_ncpu;

	if (wire_get_u64(r) != STATE_MAGIC) {
		*why = "not a cpuacctfs state";
		return false;
	}
	version = wire_get_u32(r);
	saved_ncpu = wire_get_u32(r);
	*with_kseen = wire_get_u32(r);
	st->boot_ns = wire_get_u64(r);
	if (version != STATE_VERSION) {
		*why = "written by another version";
		return false;
	}
	if (saved_ncpu != ncpu) {
		*why = "made for another number of CPUs";
		return false;
	}
	st->release_agent = wire_get_str(r, MAX_AGENT);
	return r->ok;
}

struct saved_state *state_parse(GBytes *bytes, unsigned int ncpu,
				size_t history_len)
{
	struct saved_state *st = g_new0(struct saved_state, 1);
	struct wire_reader r;
	const char *why = "damaged";
	bool with_kseen = false;
	size_t len;
	const void *buf = g_bytes_get_data(bytes, &len);

	st->ncpu = ncpu;
	st->free_ids = g_array_new(FALSE, FALSE, sizeof(unsigned int));
	st->groups = g_ptr_array_new_with_free_func(saved_group_free);
	st->members = g_array_new(FALSE, FALSE, sizeof(struct engine_member));
	st->joins = g_array_new(FALSE, FALSE, sizeof(struct nsjoin_saved));
	wire_reader_init(&r, buf, len);
	if (!parse_header(&r, st, ncpu, &with_kseen, &why))
		goto refuse;
	why = "damaged group ids";
	if (!parse_ids(&r, st))
		goto refuse;
	why = "a damaged group";
	if (!parse_groups(&r, st, with_kseen, history_len))
		goto refuse;
	why = "a damaged member";
	if (!parse_members(&r, st))
		goto refuse;
	why = "damaged containers' namespaces";
	if (!parse_joins(&r, st))
		goto refuse;
	why = "damaged at its end";
	if (wire_get_u64(&r) == STATE_END && r.pos == len)
		return st;
refuse:
	g_warning("state: refusing the saved state (%s at byte %zu of %zu): "
		  "starting with an empty tree",
		  why, r.pos, len);
	if (g_getenv("CPUACCTFS_STATE_DUMP"))
		g_file_set_contents(g_getenv("CPUACCTFS_STATE_DUMP"), buf, len,
				    NULL);
	state_free(st);
	return NULL;
}

/* ---- applying ---- */

static void apply_group(const struct saved_group *sg, struct group *g,
			bool kernel_kept)
{
	size_t bytes = g->ncpu * sizeof(uint64_t);

	g->ctime_ns = sg->ctime_ns;
	g->serial = sg->serial; /* the kernel caches inodes by it */
	group_set_max_descendants(g, sg->max_descendants);
	g->uid = sg->uid;
	g->gid = sg->gid;
	g->mode = sg->mode;
	g_free(g->files);
	g->files = sg->files ? g_memdup2(sg->files, GROUP_FILES *
						       sizeof(*sg->files))
			     : NULL;
	g->notify_on_release = sg->notify_on_release;
	g->clone_children = sg->clone_children;
	memcpy(g->usage, sg->counters, bytes);
	memcpy(g->user, sg->counters + g->ncpu, bytes);
	memcpy(g->sys, sg->counters + 2 * g->ncpu, bytes);
	if (kernel_kept && sg->kseen && g->kseen)
		memcpy(g->kseen, sg->kseen, g->ncpu * sizeof(struct kslot));
	g->stat->prev = sg->prev;
	history_unref(g->history);
	g->history = history_ref(sg->history);
	group_touch(g);
}

bool state_apply_groups(const struct saved_state *st, struct engine *e,
			bool kernel_kept)
{
	struct group_tree *tree = engine_tree(e);

	if (tree->kslots && st->by_id_len > tree->kmax) {
		g_warning(
		    "state: %u group ids do not fit the in-kernel "
		    "counters (--max-groups): starting with an empty tree",
		    st->by_id_len);
		return false;
	}

	for (unsigned int i = 0; i < st->groups->len; i++) {
		const struct saved_group *sg = st->groups->pdata[i];
		struct group *g = group_root(tree);

		if (sg->parent != NO_PARENT)
			g = group_restore(tree, group_by_id(tree, sg->parent),
					  sg->name, sg->id, sg->mode);
		apply_group(sg, g, kernel_kept);
	}
	group_restore_free_ids(tree, st->free_ids, st->by_id_len);
	tree->serials = MAX(tree->serials, st->serials);
	g_free(tree->release_agent);
	tree->release_agent = g_strdup(st->release_agent);
	return true;
}

void state_apply_members(const struct saved_state *st, struct engine *e,
			 bool kernel_kept)
{
	struct group_tree *tree = engine_tree(e);

	engine_members_restore(e, st->members, st->boot_ns, kernel_kept);
	/* exec into containers goes on: their inits, if still alive */
	for (unsigned int i = 0; i < st->joins->len; i++) {
		const struct nsjoin_saved *j =
		    &g_array_index(st->joins, struct nsjoin_saved, i);
		struct group *g = group_by_id(tree, j->gid);

		if (g)
			nsjoin_add(engine_nsjoin(e), tree, j->init, g);
	}
}
