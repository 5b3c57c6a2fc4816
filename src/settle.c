/* settle.c - the time of exited processes.
 *
 * An exit is read from the zombie's clock when the EXIT event comes in
 * time. When the parent reaped it first, the parent's children time
 * (cutime + cstime) grows by exactly the lost total, so what the children
 * we did read do not explain is charged to those we could not. The
 * reading is in 10 ms ticks: the rounding is carried from reading to
 * reading, so it does not accumulate.
 */
#include "settle.h"

#define TICK_NS NSEC_PER_USER_TICK
#define CARRY_LIMIT_NS (10 * (int64_t)TICK_NS)
#define HALF_TICK_NS ((int64_t)TICK_NS / 2)

/* Time of an exited task, charged in the next pass: samples of its last
 * moments are drained only then, and they say where that time went. */
struct later {
	unsigned int gid;
	struct proc *proc; /* kept until the end of that pass */
	uint64_t ns;
};

struct settle {
	const struct engine_sources *src;
	struct task_table *tasks;
	struct split *split;
	GArray *later;	    /* struct later */
	GPtrArray *orphans; /* exited procs nobody tracked will reap */
	GPtrArray *retired; /* settled procs, freed once no sample can name
			     * them (at the end of a pass) */
};

struct settle *settle_new(const struct engine_sources *src,
			  struct task_table *tasks, struct split *split)
{
	struct settle *s = g_new0(struct settle, 1);

	s->src = src;
	s->tasks = tasks;
	s->split = split;
	s->later = g_array_new(FALSE, FALSE, sizeof(struct later));
	s->orphans = g_ptr_array_new_with_free_func((GDestroyNotify)proc_free);
	s->retired = g_ptr_array_new_with_free_func((GDestroyNotify)proc_free);
	return s;
}

void settle_free(struct settle *s)
{
	if (!s)
		return;
	g_array_free(s->later, TRUE);
	g_ptr_array_free(s->orphans, TRUE);
	g_ptr_array_free(s->retired, TRUE);
	g_free(s);
}

uint64_t settle_children_ns(const struct proc_stat *st)
{
	return (st->cutime + st->cstime) * TICK_NS;
}

void settle_later(struct settle *s, unsigned int gid, struct proc *p,
		  uint64_t ns)
{
	struct later l = {gid, p, ns};

	if (ns)
		g_array_append_val(s->later, l);
}

/* What we already charged of an exited child (all of it if it was read
 * as a zombie). */
static uint64_t charged_of(const struct proc *c)
{
	/* its carry is children time it had seen but not charged */
	return (c->settled ? c->final_clock + c->final_cut_ns
			   : c->clock_last + c->cut_ns) -
	       c->cut_carry_ns;
}

static bool reaped(struct settle *s, const struct proc *c);

/* p was reaped before we could read it, so its reaper will see in one
 * sum p's rest and that of every child p reaped since we last looked.
 * Children read as zombies are fully charged: their totals count as
 * explained. Children we could not read either travel with p to its
 * reaper, which shares what is left over among all of them by their
 * samples (a shell's rest is its command's, not its own). */
/* p's exited children whose time is all charged: freed at pass end. */
static void retire_children(struct settle *s, struct proc *p)
{
	while (p->dying->len)
		g_ptr_array_add(s->retired,
				g_ptr_array_steal_index(p->dying, 0));
}

static void hand_over_children(struct settle *s, struct proc *p,
			       struct proc *reaper)
{
	while (p->dying->len) {
		struct proc *c = g_ptr_array_steal_index(p->dying, 0);

		if (!c->settled) {
			g_ptr_array_add(reaper ? reaper->dying : s->orphans, c);
			continue;
		}
		if (reaped(s, c))
			p->cut_ns += charged_of(c);
		g_ptr_array_add(s->retired, c);
	}
}

/* An exited process waits in its reaper's list until the reaper's
 * children time shows it; with no tracked reaper it is an orphan. */
void settle_exit(struct settle *s, struct proc *p)
{
	struct proc *reaper = tasks_find_proc(s->tasks, p->parent_tgid);

	if (reaper == p)
		reaper = NULL;
	if (!p->settled)
		hand_over_children(s, p, reaper);
	/* those left were read as zombies: charged in full */
	retire_children(s, p);
	if (reaper) {
		g_ptr_array_add(reaper->dying, p);
	} else {
		g_debug("exit %d: parent %d not tracked", p->tgid,
			p->parent_tgid);
		g_ptr_array_add(s->orphans, p);
	}
}

void settle_done(struct settle *s, struct proc *p)
{
	retire_children(s, p);
	g_ptr_array_add(s->retired, p);
}

static bool reaped(struct settle *s, const struct proc *c)
{
	struct proc_stat st;

	if (!c->settled)
		return true; /* its clock was gone at its exit event */
	if (s->src->read_stat(c->tgid, 0, &st))
		return true;
	return st.state != 'Z' && st.state != 'X';
}

static void charge_unsettled(struct settle *s, GPtrArray *unsettled,
			     uint64_t total)
{
	uint64_t weight_sum = 0, left = total;

	for (unsigned int i = 0; i < unsettled->len; i++)
		weight_sum +=
		    ((struct proc *)unsettled->pdata[i])->sampled_ns + 1;
	for (unsigned int i = 0; i < unsettled->len; i++) {
		struct proc *c = unsettled->pdata[i];
		uint64_t share =
		    (unsigned __int128)total * (c->sampled_ns + 1) / weight_sum;

		if (i == unsettled->len - 1)
			share = left;
		left -= share;
		g_debug("unread %d: %" G_GUINT64_FORMAT " to group %u", c->tgid,
			share, c->exit_gid);
		settle_later(s, c->exit_gid, c, share);
	}
}

/* How much in [lo, lo + tick) the unread children most likely ran: the
 * samples perf took of them since we last read them (unbiased over many
 * children), else the middle of the window if the reading moved. */
static int64_t likely_rest(const struct settle *s, GPtrArray *unsettled,
			   int64_t lo, bool grew)
{
	uint64_t sampled = 0;
	int64_t rest;

	for (unsigned int i = 0; i < unsettled->len; i++) {
		const struct proc *c = unsettled->pdata[i];

		if (!c->settled)
			sampled += c->sampled_ns;
	}
	if (sampled)
		rest = (int64_t)split_time_of_samples(s->split, sampled);
	else
		rest = grew ? lo + HALF_TICK_NS : lo;
	return CLAMP(rest, MAX(lo, 0), lo + (int64_t)TICK_NS);
}

/* The reaper's children time grew by exactly the totals of the
 * children it reaped; what the children we read do not explain
 * belongs to those we could not read. Tick rounding is carried. */
void settle_reaped(struct settle *s, struct proc *r)
{
	g_autoptr(GPtrArray) done = g_ptr_array_new();
	g_autoptr(GPtrArray) unsettled = g_ptr_array_new();
	struct proc_stat st;
	uint64_t known = 0;
	int64_t left;
	bool grew;

	for (unsigned int i = 0; i < r->dying->len; i++) {
		struct proc *c = r->dying->pdata[i];

		if (!reaped(s, c))
			continue;
		g_ptr_array_add(done, c);
		known += charged_of(c);
		/* a child read as a zombie still hides the tick rounding of
		 * its own children time */
		if (!c->settled || c->final_cut_ns)
			g_ptr_array_add(unsettled, c);
	}
	if (!done->len || s->src->read_stat(r->tgid, 0, &st))
		return;
	left = (int64_t)(settle_children_ns(&st) - r->cut_ns) +
	       r->cut_carry_ns - (int64_t)known;
	g_debug("reaper %d: %u reaped (%u unread), children time "
		"+%" G_GUINT64_FORMAT ", left over %" G_GINT64_FORMAT,
		r->tgid, done->len, unsettled->len,
		settle_children_ns(&st) - r->cut_ns, left);
	grew = settle_children_ns(&st) > r->cut_ns;
	r->cut_ns = settle_children_ns(&st);
	if (unsettled->len && left + (int64_t)TICK_NS > 0) {
		/* the reading is rounded down to a tick: what is really left
		 * is in [left, left + tick); whatever of it is charged now
		 * is taken back from the next reading */
		int64_t charge = likely_rest(s, unsettled, left, grew);

		charge_unsettled(s, unsettled, charge);
		left -= charge;
	}
	r->cut_carry_ns = CLAMP(left, -1000000000LL, CARRY_LIMIT_NS);
	for (unsigned int i = 0; i < done->len; i++) {
		g_ptr_array_remove_fast(r->dying, done->pdata[i]);
		g_ptr_array_add(s->retired, done->pdata[i]);
	}
}

/* Nobody we track reaps these: their unread tail is estimated from
 * their samples. */
static void settle_orphans(struct settle *s)
{
	for (unsigned int i = 0; i < s->orphans->len; i++) {
		struct proc *c = s->orphans->pdata[i];

		if (c->settled)
			continue;
		g_debug("orphan %d (parent %d): estimated %" G_GUINT64_FORMAT,
			c->tgid, c->parent_tgid, c->sampled_ns);
		split_add(s->split, c->exit_gid, c, c->sampled_ns, true);
	}
	g_ptr_array_set_size(s->orphans, 0);
}

void settle_flush(struct settle *s)
{
	for (unsigned int i = 0; i < s->later->len; i++) {
		struct later *l = &g_array_index(s->later, struct later, i);

		split_add(s->split, l->gid, l->proc, l->ns, true);
	}
	g_array_set_size(s->later, 0);
	settle_orphans(s);
}

void settle_retire(struct settle *s)
{
	g_ptr_array_set_size(s->retired, 0);
}
