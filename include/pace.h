/* pace.h - how often the sampler passes, with in-kernel counters.
 *
 * Under the bpf backend reads are live, so a pass only records history
 * and publishes what changed (engine_work). A pass costs little when
 * nothing changed, but the wakeup itself is tens of microseconds of
 * system calls on a VM, ten times a second. So once a second has gone
 * by with nothing new outside the root, the timer is stretched to
 * PACE_IDLE_MS; a command (mkdir, a move) or the first pass that finds
 * a group changed brings it back to the interval, and so do fork and
 * exit events coming faster than PACE_QUIET_EVENTS a second (the proc
 * connector socket stays watched while stretched, so a burst of more
 * than PACE_BURST_EVENTS ends it at once); the host's own trickle of
 * events (processes in no group) does not. Records hold counters that
 * never go down, so fewer of them for an idle group lose nothing; the
 * root (the tasks in no group) is recorded once a second meanwhile, one
 * record per wall-clock second as the seconds tier keeps anyway
 * (history.h).
 */
#ifndef CPUACCTFS_PACE_H
#define CPUACCTFS_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

/* The stretched period, and how long it takes to stretch. */
#define PACE_IDLE_MS 1000
#define PACE_QUIET_MS 1000
/* Events a second that are still quiet, and in one batch. */
#define PACE_QUIET_EVENTS 1000
#define PACE_BURST_EVENTS 256

struct pace {
	unsigned int interval_ms; /* the configured period */
	unsigned int quiet_ms;	  /* of passes in a row with nothing new */
};

void pace_init(struct pace *p, unsigned int interval_ms);

/* After a pass that did work, with the number of events taken since
 * the pass before, period_ms ago: the timer's period from now on. */
unsigned int pace_after_pass(struct pace *p, enum engine_work work,
			     uint64_t events, unsigned int period_ms);

/* After a command (mkdir, a move...): the interval, so the group it
 * changed is recorded within one. */
unsigned int pace_after_command(struct pace *p);

/* After n events taken between passes: the period from now on. */
unsigned int pace_after_events(struct pace *p, uint64_t n);

/* Whether the timer is stretched (the sampler then watches the proc
 * connector socket, so the first event brings the interval back). */
bool pace_stretched(const struct pace *p);

#endif
