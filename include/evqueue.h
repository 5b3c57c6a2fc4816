/* evqueue.h - fork and exit events between the socket and a snapshot.
 *
 * The sampler applies events to the engine at once, but a snapshot
 * shows them only from the next publish. Readers of tasks and
 * cgroup.procs must not wait for that publish (it may come after a
 * pass), nor list a task that already exited: so every event stays
 * here, numbered, from its arrival until a published snapshot includes
 * it, and a reader lays the ones its snapshot lacks over its lists.
 *
 * One mutex guards the queue; it is held only to move events, never
 * while the engine handles them.
 */
#ifndef CPUACCTFS_EVQUEUE_H
#define CPUACCTFS_EVQUEUE_H

#include <stdint.h>

#include <glib.h>

#include "procconn.h"

/* Where events come from: procconn_drain, or a fake in tests. Delivers
 * whatever is queued now without blocking; returns < 0 on errors. */
typedef int (*evqueue_pull_fn)(void *src, procconn_fn fn, void *data);

struct evqueue;

/* NULL when no eventfd can be made. */
struct evqueue *evqueue_new(evqueue_pull_fn pull, void *src);
void evqueue_free(struct evqueue *q);

/* Readable when a reader took events off the socket that the sampler
 * has not had: poll it beside the socket. evqueue_deliver clears it. */
int evqueue_wake_fd(const struct evqueue *q);

/* The sampler: hand every event not handed out yet to fn, outside the
 * lock, in order. Returns the number of the last event handed out
 * (0 if none ever was) and stores a pull error in *err (0 if none). */
uint64_t evqueue_deliver(struct evqueue *q, procconn_fn fn, void *data,
			 int *err);

/* The sampler, once a snapshot with every event up to seq is public. */
void evqueue_trim(struct evqueue *q, uint64_t seq);

/* A reader: take the lock (pulling what the socket holds), so that no
 * trim runs while it picks a snapshot and copies what the snapshot
 * lacks with evqueue_since. */
void evqueue_hold(struct evqueue *q);
void evqueue_release(struct evqueue *q);
GArray *evqueue_since(struct evqueue *q, uint64_t seq); /* pc_event */

#endif
