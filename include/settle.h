/* settle.h - the time of exited processes, whoever reaps them.
 *
 * The engine hands every exited process here, read as a zombie or not.
 * A process waits in its reaper's list until the reaper's children time
 * shows it (settle_reaped, called for every reaper in each pass); with no
 * tracked reaper it is an orphan, estimated from its samples. Charges go
 * through the split at the next flush, once that pass's samples are in.
 */
#ifndef CPUACCTFS_SETTLE_H
#define CPUACCTFS_SETTLE_H

#include <stdint.h>

#include "engine.h"
#include "split.h"
#include "tasks.h"

struct settle;

struct settle *settle_new(const struct engine_sources *src,
			  struct task_table *tasks, struct split *split);
void settle_free(struct settle *s);

/* cutime + cstime of a stat, in ns (the kernel rounds it down to ticks). */
uint64_t settle_children_ns(const struct proc_stat *st);

/* ns of p's time for group gid, charged at the next settle_flush. */
void settle_later(struct settle *s, unsigned int gid, struct proc *p,
		  uint64_t ns);

/* p has exited and left the task table (exit_gid set, settled if its
 * zombie was read): queue it for its reaper. */
void settle_exit(struct settle *s, struct proc *p);

/* p has exited with all its time charged already (runtime records): it
 * is freed at the end of the pass, like its exited children. */
void settle_done(struct settle *s, struct proc *p);

/* Explain r's children time by the exited children it reaped. */
void settle_reaped(struct settle *s, struct proc *r);

/* In a pass, after the samples are in: charge what is waiting. */
void settle_flush(struct settle *s);

/* At the end of a pass: free what no sample can name any more. */
void settle_retire(struct settle *s);

#endif
