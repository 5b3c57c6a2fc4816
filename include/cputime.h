/* cputime.h - the kernel's cputime_adjust(), used by cpuacct.stat.
 *
 * cpuacct.stat scales the tick-sampled user/system split so that it
 * sums to the exact runtime, and never lets either value go backwards.
 */
#ifndef CPUACCTFS_CPUTIME_H
#define CPUACCTFS_CPUTIME_H

#include <stdint.h>

#define USER_HZ 100
#define NSEC_PER_USER_TICK (1000000000ULL / USER_HZ)

/* What was last reported; starts zeroed. */
struct prev_cputime {
	uint64_t utime;
	uint64_t stime;
};

/* Same arithmetic and monotonic clamping as kernel/sched/cputime.c:
 * utime/stime are the sampled split (ns), rtime the exact runtime (ns). */
void cputime_adjust(uint64_t utime, uint64_t stime, uint64_t rtime,
		    struct prev_cputime *prev, uint64_t *ut, uint64_t *st);

/* nsec_to_clock_t() for USER_HZ 100. */
uint64_t cputime_ns_to_ticks(uint64_t ns);

#endif
