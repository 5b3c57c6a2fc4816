/* evqueue.c - fork and exit events kept until a snapshot shows them. */
#include <stdbool.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evqueue.h"

struct evqueue {
	GMutex lock;
	evqueue_pull_fn pull;
	void *src;
	GArray *events;	 /* struct pc_event, oldest first */
	uint64_t first;	 /* number of events->data[0] */
	uint64_t handed; /* last number handed to the sampler */
	int pull_err;	 /* kept for the sampler to report */
	int wake_fd;	 /* eventfd: a reader pulled events */
	bool woken;	 /* wake_fd was written since it was last read */
};

struct evqueue *evqueue_new(evqueue_pull_fn pull, void *src)
{
	struct evqueue *q = g_new0(struct evqueue, 1);

	g_mutex_init(&q->lock);
	q->pull = pull;
	q->src = src;
	q->events = g_array_new(FALSE, FALSE, sizeof(struct pc_event));
	q->first = 1;
	q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->wake_fd < 0) {
		evqueue_free(q);
		return NULL;
	}
	return q;
}

void evqueue_free(struct evqueue *q)
{
	if (!q)
		return;
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	g_array_unref(q->events);
	g_mutex_clear(&q->lock);
	g_free(q);
}

static void on_pulled(const struct pc_event *ev, void *data)
{
	struct evqueue *q = data;

	g_array_append_val(q->events, *ev);
}

/* Called with the lock held; returns how many events came in. */
static int pull_locked(struct evqueue *q)
{
	int rc = q->pull(q->src, on_pulled, q);

	if (rc < 0)
		q->pull_err = rc;
	return rc;
}

int evqueue_wake_fd(const struct evqueue *q)
{
	return q->wake_fd;
}

static uint64_t last_seq(const struct evqueue *q)
{
	return q->first + q->events->len - 1;
}

uint64_t evqueue_deliver(struct evqueue *q, procconn_fn fn, void *data,
			 int *err)
{
	g_autoptr(GArray) batch = NULL;
	uint64_t upto, handed;

	g_mutex_lock(&q->lock);
	pull_locked(q);
	/* a system call saved per pass when no reader pulled */
	if (q->woken)
		eventfd_read(q->wake_fd, &(eventfd_t){0});
	q->woken = false;
	upto = last_seq(q);
	if (upto > q->handed) {
		guint from = q->handed + 1 - q->first;

		batch = g_array_sized_new(FALSE, FALSE, sizeof(struct pc_event),
					  q->events->len - from);
		g_array_append_vals(
		    batch, &g_array_index(q->events, struct pc_event, from),
		    q->events->len - from);
		q->handed = upto;
	}
	handed = q->handed;
	*err = q->pull_err;
	q->pull_err = 0;
	g_mutex_unlock(&q->lock);
	for (guint i = 0; batch && i < batch->len; i++)
		fn(&g_array_index(batch, struct pc_event, i), data);
	return handed;
}

void evqueue_trim(struct evqueue *q, uint64_t seq)
{
	g_mutex_lock(&q->lock);
	if (seq >= q->first) {
		guint n = MIN(seq - q->first + 1, q->events->len);

		g_array_remove_range(q->events, 0, n);
		q->first += n;
		/* a burst grew the array: give the memory back */
		if (!q->events->len && n > 4096) {
			g_array_unref(q->events);
			q->events =
			    g_array_new(FALSE, FALSE, sizeof(struct pc_event));
		}
	}
	g_mutex_unlock(&q->lock);
}

void evqueue_hold(struct evqueue *q)
{
	g_mutex_lock(&q->lock);
	/* the socket is empty now, so poll would not tell the sampler:
	 * exits must reach it while the zombies can still be read */
	if (pull_locked(q) > 0) {
		eventfd_write(q->wake_fd, 1);
		q->woken = true;
	}
}

void evqueue_release(struct evqueue *q)
{
	g_mutex_unlock(&q->lock);
}

GArray *evqueue_since(struct evqueue *q, uint64_t seq)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct pc_event));
	guint from = seq >= q->first ? seq + 1 - q->first : 0;

	if (from < q->events->len)
		g_array_append_vals(
		    out, &g_array_index(q->events, struct pc_event, from),
		    q->events->len - from);
	return out;
}
