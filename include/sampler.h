/* sampler.h - the thread that owns the engine and publishes snapshots.
 *
 * One thread waits on the proc connector and a timer: events are
 * handled as they arrive (so exiting processes are read while they are
 * zombies), and every interval it runs a pass and publishes a new
 * snapshot. Filesystem writes take the same lock for a moment; readers
 * never take it, they only grab the current snapshot (and, for task
 * lists, the events it does not show yet: evqueue.h).
 */
#ifndef CPUACCTFS_SAMPLER_H
#define CPUACCTFS_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "holder.h"
#include "snapshot.h"

/* Where the counts come from, best first (see sampler_backend_name). */
enum sampler_backend {
	BACKEND_AUTO,	    /* the best that works here */
	BACKEND_BPF,	    /* in-kernel counters (bpfacct.h) */
	BACKEND_TRACEPOINT, /* sched_stat_runtime records through perf */
	BACKEND_CLOCK,	    /* process CPU clocks */
};

struct sampler_config {
	enum sampler_backend backend;
	unsigned int max_groups;     /* room in the kernel's counters */
	unsigned int interval_ms;    /* between passes */
	unsigned int perf_period_us; /* perf sampling period per CPU */
	bool use_perf;
	bool use_taskstats; /* tick counts for user/system time */
	size_t history_len; /* bytes of history per group at most */
	/* Left by an earlier server (holder.h), or -1: the in-kernel maps
	 * to count on in, and the checkpoint file to start from and to
	 * keep up to date. */
	const struct kept_maps *kept; /* or NULL */
	int state_fd;
	bool defer_restore; /* until sampler_restore (a reload's server) */
};

struct sampler;

/* Opens the sources and scans /proc; NULL and *err = -errno when the
 * proc connector cannot be opened, or the backend asked for cannot be
 * had (perf is optional when none is asked for). */
struct sampler *sampler_new(const struct sampler_config *cfg, int *err);
/* Before sampler_start: the time between passes, if not the config's. */
void sampler_set_interval(struct sampler *s, unsigned int interval_ms);
/* perf rings are not inherited by fork: opened by sampler_start, after
 * the daemon detached, or earlier by a process that will not fork. */
void sampler_open_perf(struct sampler *s);
int sampler_start(struct sampler *s);
void sampler_free(struct sampler *s); /* stops the thread */

/* The engine, under the lock; sampler_unlock publishes what changed. */
struct engine *sampler_lock(struct sampler *s);
void sampler_unlock(struct sampler *s);

/* Group gid's threads and processes as of now, without waiting for
 * the engine: the current snapshot's lists with the fork and exit
 * events it does not show yet, so a listing never shows a task that
 * already exited. Both referenced (g_array_unref); false if no group. */
bool sampler_members(struct sampler *s, unsigned int gid, GArray **tids,
		     GArray **tgids);

/* The current snapshot, referenced: snapshot_unref() when done. */
struct snapshot *sampler_snapshot(struct sampler *s);

/* A snapshot no older than one interval, for those that read its counters
 * and its time as they are (cpuacctctl's answers: rates between two of
 * them): with the bpf backend, where passes that find nothing new publish
 * nothing, one is made for the asker if the last is older. Referenced. */
struct snapshot *sampler_recent_snapshot(struct sampler *s);

/* A snapshot to read counters from: one that shows the time of every
 * task that has exited by now. With the in-kernel counters any snapshot
 * does (reads add the kernel's counts, kcount.h); otherwise, when a task
 * exited since the current one, a pass is run first. */
struct snapshot *sampler_counters_snapshot(struct sampler *s);

/* The fds that keep in-kernel counting alive after this process (see
 * bpfacct_kept); 0 without the bpf backend. */
unsigned int sampler_kept(struct sampler *s, struct kept_maps *maps, int *links,
			  unsigned int max_links);

/* With defer_restore: take the state the last server saved, now. */
void sampler_restore(struct sampler *s);

/* After sampler_start: run a pass and wait for it, so that what the
 * restored tasks ran while no server was there shows before the first
 * read (a restart). */
void sampler_first_pass(struct sampler *s);

/* Save the state to the checkpoint file now (a reload's last act). */
void sampler_checkpoint(struct sampler *s);

/* Whether this build has the bpf backend. */
bool sampler_can_bpf(void);

/* How far behind the kernel a counter read at now can be: the age of
 * the current snapshot, or 0 with in-kernel counters, whose reads add
 * what the kernel counted up to that moment. */
int64_t sampler_lag_ns(struct sampler *s, int64_t now);

/* "bpf", "tracepoint" or "clock": what counts now. */
const char *sampler_backend_name(const struct sampler *s);

int64_t sampler_now_ns(void); /* CLOCK_MONOTONIC */

/* Called after every publish, with the engine lock held, so calls never
 * overlap: it must only queue work, never wait for a reader. */
typedef void (*sampler_publish_fn)(struct snapshot *snap, void *data);
void sampler_set_publish_hook(struct sampler *s, sampler_publish_fn fn,
			      void *data);

#endif
