/* cputime.c - the kernel's cputime_adjust(), used by cpuacct.stat.
 *
 * The tick-sampled user/system split is only a ratio; the scheduler's
 * runtime is the exact total. Scaling the split to the runtime gives
 * values that sum to the runtime, and the clamps against what was last
 * reported keep each of them from going backwards between reads.
 */
#include "cputime.h"

/* stime * rtime / total without losing the high bits of the product;
 * the result never exceeds rtime because stime <= total. */
static uint64_t scale_stime(uint64_t stime, uint64_t rtime, uint64_t total)
{
	return (uint64_t)((unsigned __int128)stime * rtime / total);
}

/* With no sample on one side, the whole runtime goes to the other. */
static uint64_t split_stime(uint64_t utime, uint64_t stime, uint64_t rtime)
{
	if (stime == 0)
		return 0;
	if (utime == 0)
		return rtime;
	return scale_stime(stime, rtime, stime + utime);
}

void cputime_adjust(uint64_t utime, uint64_t stime, uint64_t rtime,
		    struct prev_cputime *prev, uint64_t *ut, uint64_t *st)
{
	uint64_t new_stime, new_utime;

	/* Runtime did not grow (or went back): repeat the last answer. */
	if (prev->stime + prev->utime >= rtime)
		goto out;

	new_stime = split_stime(utime, stime, rtime);
	/* Raising stime to its previous value only shrinks utime's share,
	 * which still cannot fall below its previous value because rtime
	 * grew; the second clamp covers the symmetric case. */
	if (new_stime < prev->stime)
		new_stime = prev->stime;
	new_utime = rtime - new_stime;
	if (new_utime < prev->utime) {
		new_utime = prev->utime;
		new_stime = rtime - new_utime;
	}
	prev->stime = new_stime;
	prev->utime = new_utime;
out:
	*ut = prev->utime;
	*st = prev->stime;
}

uint64_t cputime_ns_to_ticks(uint64_t ns)
{
	return ns / NSEC_PER_USER_TICK;
}
