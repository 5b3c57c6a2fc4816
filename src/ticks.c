/* ticks.c - a task's tick counts, gain by gain. */
#include <glib.h>

#include "ticks.h"

void ticks_born(struct task_ticks *tk, uint64_t born_ns)
{
	*tk = (struct task_ticks){.known = true,
				  .run_known = true,
				  .born_ns = born_ns,
				  .ran_cpu = TICKS_CPU_NONE};
}

static void take_baseline(struct task_ticks *tk, const struct ts_rec *rec)
{
	tk->user_ns = rec->user_ns;
	tk->sys_ns = rec->sys_ns;
	tk->run_read = tk->run_seen = rec->run_ns;
	tk->run_known = rec->run_ns != 0;
	tk->known = true;
}

static void take_final(struct task_ticks *tk, const struct ts_rec *rec)
{
	tk->final = true;
	if (tk->born_ns && rec->age_ns)
		tk->exit_ns = tk->born_ns + rec->age_ns;
}

bool ticks_read(struct task_ticks *tk, const struct ts_rec *rec, bool final,
		struct tick_gain *gain)
{
	bool same_task = true;

	*gain = (struct tick_gain){.cpu = MAX(tk->ran_cpu, -1)};
	tk->ran = false;
	tk->ran_ns = 0;
	tk->ran_cpu = TICKS_CPU_NONE;
	tk->passes_waited = 0;
	if (!tk->known) {
		take_baseline(tk, rec);
	} else if (rec->user_ns < tk->user_ns || rec->sys_ns < tk->sys_ns) {
		/* counts never go down: from now on, follow the new task */
		take_baseline(tk, rec);
		tk->born_ns = 0;
		same_task = false;
	} else {
		gain->user_ns = rec->user_ns - tk->user_ns;
		gain->sys_ns = rec->sys_ns - tk->sys_ns;
		tk->user_ns = rec->user_ns;
		tk->sys_ns = rec->sys_ns;
		tk->run_read = rec->run_ns;
		tk->run_known = rec->run_ns != 0;
	}
	if (final)
		take_final(tk, rec);
	return same_task;
}

void ticks_ran(struct task_ticks *tk, uint64_t ns, uint64_t end_ns, int cpu)
{
	tk->run_seen += ns;
	tk->ran_ns += ns;
	tk->ran = true;
	if (tk->ran_cpu == TICKS_CPU_NONE && cpu >= 0)
		tk->ran_cpu = cpu;
	else if (tk->ran_cpu != cpu)
		tk->ran_cpu = TICKS_CPU_MANY;
	/* the part of [end - ns, end] after the exit record */
	if (tk->exit_ns && end_ns > tk->exit_ns)
		tk->tail_ns += MIN(ns, end_ns - tk->exit_ns);
}

/* What the task ran after its last reading, as far as it is known. */
static uint64_t unread_ns(const struct task_ticks *tk)
{
	if (tk->exit_ns)
		return tk->tail_ns;
	if (!tk->run_known || tk->run_seen <= tk->run_read)
		return 0;
	return tk->run_seen - tk->run_read; /* includes a lag: too much */
}

/* Without its exit record the task's last moments are of no known
 * mode: they are split the way its own ticks were. */
static uint64_t user_share(const struct task_ticks *tk, uint64_t ns)
{
	uint64_t total = tk->user_ns + tk->sys_ns;

	if (tk->final || !total)
		return 0;
	return (unsigned __int128)ns * tk->user_ns / total;
}

void ticks_finish(struct task_ticks *tk, struct tick_gain *gain)
{
	uint64_t tail;

	*gain = (struct tick_gain){.cpu = MAX(tk->ran_cpu, -1)};
	if (!tk->known)
		return;
	tail = unread_ns(tk);
	gain->user_ns = user_share(tk, tail);
	gain->sys_ns = tail - gain->user_ns;
	tk->run_read = tk->run_seen;
	tk->tail_ns = 0;
}
