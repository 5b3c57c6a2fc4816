/* pace.c - stretch the sampler's timer while nothing changes. */
#include "pace.h"

void pace_init(struct pace *p, unsigned int interval_ms)
{
	p->interval_ms = interval_ms;
	p->quiet_ms = 0;
}

bool pace_stretched(const struct pace *p)
{
	/* an interval of a second or more is long enough as it is */
	return p->interval_ms < PACE_IDLE_MS && p->quiet_ms >= PACE_QUIET_MS;
}

static unsigned int period(const struct pace *p)
{
	return pace_stretched(p) ? PACE_IDLE_MS : p->interval_ms;
}

unsigned int pace_after_pass(struct pace *p, enum engine_work work,
			     uint64_t events, unsigned int period_ms)
{
	/* more events than the host's trickle: tasks come and go */
	if (work == ENGINE_WORK_ALL ||
	    events * 1000 > (uint64_t)PACE_QUIET_EVENTS * period_ms)
		p->quiet_ms = 0;
	else if (p->quiet_ms < PACE_QUIET_MS)
		p->quiet_ms += p->interval_ms;
	return period(p);
}

unsigned int pace_after_command(struct pace *p)
{
	p->quiet_ms = 0;
	return period(p);
}

unsigned int pace_after_events(struct pace *p, uint64_t n)
{
	if (n > PACE_BURST_EVENTS)
		p->quiet_ms = 0;
	return period(p);
}
