/* split.c - split exact time over CPUs and modes by perf samples. */
#include <string.h>

#include "split.h"

#define USER 0
#define SYSTEM 1

/* A group's time of this pass, split, and what is still to be split. */
struct bucket {
	uint64_t *ns;	       /* [cpu * 2 + mode] */
	uint64_t *exit_weight; /* samples of sampled exited processes */
	uint64_t exit_weight_sum;
	uint64_t exit_unsampled; /* time of exited processes never sampled */
	int exit_cpu;		 /* where the last of those ran */
	uint64_t *unknown_mode;	 /* [cpu]: runtime of unsampled processes */
	uint64_t ticks[2];	 /* tick gains of the pass, by mode */
	unsigned int tick_cpu;	 /* where the last of them was made */
	uint64_t *ticks_on; /* [cpu * 2 + mode]: those whose CPU is known */
};

struct split {
	unsigned int ncpu;
	/* exact time of sampled live processes against their samples: how
	 * much time one sampled ns stands for (perf misses some ticks) */
	double exact_ns, sampled_ns;
	GPtrArray *buckets; /* struct bucket * by group id, or NULL */
	uint64_t *scratch;  /* [3 * ncpu], for spreading ticks */
};

static void bucket_free(gpointer data)
{
	struct bucket *b = data;

	if (!b)
		return;
	g_free(b->ns);
	g_free(b->exit_weight);
	g_free(b->unknown_mode);
	g_free(b->ticks_on);
	g_free(b);
}

struct split *split_new(unsigned int ncpu)
{
	struct split *s = g_new0(struct split, 1);

	s->ncpu = ncpu;
	s->buckets = g_ptr_array_new_with_free_func(bucket_free);
	s->scratch = g_new(uint64_t, 3 * ncpu);
	return s;
}

void split_free(struct split *s)
{
	if (!s)
		return;
	g_ptr_array_free(s->buckets, TRUE);
	g_free(s->scratch);
	g_free(s);
}

void split_sample(struct split *s, struct proc *p, unsigned int cpu, bool user,
		  uint64_t ns)
{
	if (cpu >= s->ncpu)
		return;
	if (!p->weight) {
		p->nweights = s->ncpu * 2;
		p->weight = g_new0(uint64_t, p->nweights);
	}
	p->weight[cpu * 2 + (user ? USER : SYSTEM)] += ns;
	p->sampled_ns += ns;
	p->last_cpu = cpu;
	p->last_user = user;
}

void split_forget(struct proc *p)
{
	if (p->weight && p->sampled_ns)
		memset(p->weight, 0, p->nweights * sizeof(uint64_t));
	p->sampled_ns = 0;
}

static struct bucket *bucket_of(struct split *s, unsigned int gid)
{
	struct bucket *b;

	if (gid >= s->buckets->len)
		g_ptr_array_set_size(s->buckets, gid + 1);
	b = s->buckets->pdata[gid];
	if (!b) {
		b = g_new0(struct bucket, 1);
		b->ns = g_new0(uint64_t, s->ncpu * 2);
		b->exit_weight = g_new0(uint64_t, s->ncpu * 2);
		b->unknown_mode = g_new0(uint64_t, s->ncpu);
		b->ticks_on = g_new0(uint64_t, s->ncpu * 2);
		s->buckets->pdata[gid] = b;
	}
	return b;
}

/* Add ns to out[] in the proportions of weight[] (which sums to sum). */
static void spread(uint64_t *out, const uint64_t *weight, uint64_t sum,
		   unsigned int n, uint64_t ns)
{
	uint64_t left = ns;
	unsigned int biggest = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t share = (unsigned __int128)ns * weight[i] / sum;

		if (weight[i] > weight[biggest])
			biggest = i;
		out[i] += share;
		left -= share;
	}
	/* rounding goes where most of the time was seen */
	out[biggest] += left;
}

static unsigned int last_bucket(const struct split *s, int cpu, bool user)
{
	return ((cpu > 0 ? (unsigned int)cpu : 0) % s->ncpu) * 2 +
	       (user ? USER : SYSTEM);
}

void split_add(struct split *s, unsigned int gid, const struct proc *p,
	       uint64_t ns, bool exited)
{
	struct bucket *b;
	unsigned int n = s->ncpu * 2;

	if (!ns)
		return;
	b = bucket_of(s, gid);
	if (p->sampled_ns && !exited) {
		/* a decaying average over the last few thousand processes */
		s->exact_ns = s->exact_ns * 0.999 + ns;
		s->sampled_ns = s->sampled_ns * 0.999 + p->sampled_ns;
	}
	if (p->sampled_ns) {
		spread(b->ns, p->weight, p->sampled_ns, n, ns);
		if (exited) {
			for (unsigned int i = 0; i < n; i++)
				b->exit_weight[i] += p->weight[i];
			b->exit_weight_sum += p->sampled_ns;
		}
	} else if (exited) {
		/* short-lived processes that perf missed ran like the ones
		 * it caught: split them together at the flush */
		b->exit_unsampled += ns;
		b->exit_cpu = p->last_cpu;
	} else {
		b->ns[last_bucket(s, p->last_cpu, p->last_user)] += ns;
	}
}

/* p's samples in user and in system mode: on cpu if it was seen there,
 * else anywhere; false if it was not seen at all. */
static bool mode_weights(const struct split *s, const struct proc *p,
			 unsigned int cpu, uint64_t *user, uint64_t *sys)
{
	if (!p->sampled_ns)
		return false;
	*user = p->weight[cpu * 2 + USER];
	*sys = p->weight[cpu * 2 + SYSTEM];
	if (*user + *sys)
		return true;
	for (unsigned int c = 0; c < s->ncpu; c++) {
		*user += p->weight[c * 2 + USER];
		*sys += p->weight[c * 2 + SYSTEM];
	}
	return true;
}

void split_add_on_cpu(struct split *s, unsigned int gid, const struct proc *p,
		      unsigned int cpu, uint64_t ns)
{
	struct bucket *b;
	uint64_t user, sys, user_ns;

	if (!ns || cpu >= s->ncpu)
		return;
	b = bucket_of(s, gid);
	if (!p) {
		b->ns[cpu * 2 + SYSTEM] += ns;
	} else if (mode_weights(s, p, cpu, &user, &sys)) {
		user_ns = (unsigned __int128)ns * user / (user + sys);
		b->ns[cpu * 2 + USER] += user_ns;
		b->ns[cpu * 2 + SYSTEM] += ns - user_ns;
	} else {
		b->unknown_mode[cpu] += ns;
	}
}

/* Runtime of processes perf did not see ran in the modes the group's
 * other time of the pass ran in; with none, in the kernel. */
static void split_unknown_mode(struct split *s, struct bucket *b)
{
	uint64_t user = 0, sys = 0, user_ns;

	for (unsigned int cpu = 0; cpu < s->ncpu; cpu++) {
		user += b->ns[cpu * 2 + USER];
		sys += b->ns[cpu * 2 + SYSTEM];
	}
	for (unsigned int cpu = 0; cpu < s->ncpu; cpu++) {
		uint64_t ns = b->unknown_mode[cpu];

		user_ns = user + sys
			      ? (unsigned __int128)ns * user / (user + sys)
			      : 0;
		b->ns[cpu * 2 + USER] += user_ns;
		b->ns[cpu * 2 + SYSTEM] += ns - user_ns;
		b->unknown_mode[cpu] = 0;
	}
}

static void charge(struct group *g, unsigned int cpu, uint64_t user,
		   uint64_t sys, bool modes_from_ticks)
{
	if (modes_from_ticks)
		group_charge_usage(g, cpu, user + sys);
	else
		group_charge(g, cpu, user, sys);
}

void split_add_ticks(struct split *s, unsigned int gid, int cpu,
		     unsigned int hint_cpu, uint64_t user_ns, uint64_t sys_ns)
{
	struct bucket *b = bucket_of(s, gid);

	if (cpu >= 0 && (unsigned int)cpu < s->ncpu) {
		b->ticks_on[cpu * 2 + USER] += user_ns;
		b->ticks_on[cpu * 2 + SYSTEM] += sys_ns;
		return;
	}
	b->ticks[USER] += user_ns;
	b->ticks[SYSTEM] += sys_ns;
	b->tick_cpu = hint_cpu < s->ncpu ? hint_cpu : 0;
}

/* out[cpu] += the bucket's ticks of one mode, spread (split_add_ticks) */
static void spread_ticks(struct split *s, const struct bucket *b,
			 unsigned int mode, uint64_t *out)
{
	uint64_t *weight = s->scratch + 2 * s->ncpu, in_mode = 0, sum = 0;

	for (unsigned int cpu = 0; cpu < s->ncpu; cpu++)
		in_mode += b->ns[cpu * 2 + mode];
	for (unsigned int cpu = 0; cpu < s->ncpu; cpu++) {
		weight[cpu] =
		    in_mode ? b->ns[cpu * 2 + mode]
			    : b->ns[cpu * 2 + USER] + b->ns[cpu * 2 + SYSTEM];
		sum += weight[cpu];
	}
	if (sum)
		spread(out, weight, sum, s->ncpu, b->ticks[mode]);
	else
		out[b->tick_cpu] += b->ticks[mode];
}

static void charge_ticks(struct split *s, struct bucket *b, struct group *g)
{
	uint64_t *user = s->scratch, *sys = s->scratch + s->ncpu;

	for (unsigned int cpu = 0; cpu < s->ncpu; cpu++) {
		user[cpu] = b->ticks_on[cpu * 2 + USER];
		sys[cpu] = b->ticks_on[cpu * 2 + SYSTEM];
	}
	spread_ticks(s, b, USER, user);
	spread_ticks(s, b, SYSTEM, sys);
	for (unsigned int cpu = 0; g && cpu < s->ncpu; cpu++)
		group_charge_ticks(g, cpu, user[cpu], sys[cpu]);
	b->ticks[USER] = b->ticks[SYSTEM] = 0;
	memset(b->ticks_on, 0, s->ncpu * 2 * sizeof(uint64_t));
}

static void flush_bucket(struct split *s, struct bucket *b, struct group *g,
			 bool modes_from_ticks)
{
	unsigned int n = s->ncpu * 2;

	split_unknown_mode(s, b);
	if (b->exit_unsampled && b->exit_weight_sum)
		spread(b->ns, b->exit_weight, b->exit_weight_sum, n,
		       b->exit_unsampled);
	else if (b->exit_unsampled)
		b->ns[last_bucket(s, b->exit_cpu, false)] += b->exit_unsampled;
	for (unsigned int cpu = 0; g && cpu < s->ncpu; cpu++)
		if (b->ns[cpu * 2 + USER] || b->ns[cpu * 2 + SYSTEM])
			charge(g, cpu, b->ns[cpu * 2 + USER],
			       b->ns[cpu * 2 + SYSTEM], modes_from_ticks);
	charge_ticks(s, b, g);
	memset(b->ns, 0, n * sizeof(uint64_t));
	memset(b->exit_weight, 0, n * sizeof(uint64_t));
	b->exit_weight_sum = 0;
	b->exit_unsampled = 0;
}

uint64_t split_time_of_samples(const struct split *s, uint64_t sampled_ns)
{
	double ratio = s->sampled_ns > 0 ? s->exact_ns / s->sampled_ns : 1.0;

	return (uint64_t)(sampled_ns * CLAMP(ratio, 0.5, 2.0));
}

void split_flush(struct split *s, struct group_tree *tree)
{
	for (unsigned int gid = 0; gid < s->buckets->len; gid++) {
		struct group *g = group_by_id(tree, gid);

		if (!s->buckets->pdata[gid])
			continue;
		flush_bucket(s, s->buckets->pdata[gid], g,
			     tree->modes_from_ticks);
		if (!g) { /* removed: a group given its id gets a new one */
			bucket_free(s->buckets->pdata[gid]);
			s->buckets->pdata[gid] = NULL;
		}
	}
}
