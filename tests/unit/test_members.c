/* test_members.c - the event queue in front of the proc connector, and
 * task lists brought up to date with the events a snapshot lacks. */
#include <check.h>
#include <glib.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/eventfd.h>

#include "evqueue.h"
#include "members.h"

#include "unit.h"

static struct pc_event fork_of(pid_t parent, pid_t pid, pid_t tgid)
{
	struct pc_event ev = {.kind = PC_FORK,
			      .parent_pid = parent,
			      .parent_tgid = parent,
			      .pid = pid,
			      .tgid = tgid};
	return ev;
}

static struct pc_event exit_of(pid_t pid, pid_t tgid)
{
	struct pc_event ev = {.kind = PC_EXIT, .pid = pid, .tgid = tgid};
	return ev;
}

/* ids(n, a, b, ...): a sorted list */
static GArray *ids(int n, ...)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(pid_t));
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		pid_t id = va_arg(ap, int);

		g_array_append_val(a, id);
	}
	va_end(ap);
	return a;
}

static void assert_ids(const GArray *got, const GArray *want)
{
	ck_assert_uint_eq(got->len, want->len);
	for (guint i = 0; i < got->len; i++)
		ck_assert_int_eq(g_array_index(got, pid_t, i),
				 g_array_index(want, pid_t, i));
}

/* ---- the fake source: events the test queued ---- */

struct fake {
	GArray *pending;
	int pulls;
	int err;
};

static int fake_pull(void *src, procconn_fn fn, void *data)
{
	struct fake *f = src;
	int n = f->pending->len;

	f->pulls++;
	for (guint i = 0; i < f->pending->len; i++)
		fn(&g_array_index(f->pending, struct pc_event, i), data);
	g_array_set_size(f->pending, 0);
	return f->err ? f->err : n;
}

static void fake_add(struct fake *f, struct pc_event ev)
{
	g_array_append_val(f->pending, ev);
}

static void collect(const struct pc_event *ev, void *data)
{
	g_array_append_val((GArray *)data, *ev);
}

/* Every evqueue test: a fake source f, its queue q, and got, what the
 * queue handed out. */
static struct fake f;
static struct evqueue *q;
static GArray *got;

static void setup(void)
{
	memset(&f, 0, sizeof(f));
	f.pending = g_array_new(FALSE, FALSE, sizeof(struct pc_event));
	q = evqueue_new(fake_pull, &f);
	got = g_array_new(FALSE, FALSE, sizeof(struct pc_event));
}

static void teardown(void)
{
	evqueue_free(q);
	g_array_free(f.pending, TRUE);
	g_array_free(got, TRUE);
}

/* What a reader holding the queue gets after seq. */
static GArray *since_of(uint64_t seq)
{
	GArray *out;

	evqueue_hold(q);
	out = evqueue_since(q, seq);
	evqueue_release(q);
	return out;
}

START_TEST(test_deliver_in_order_once)
{
	int err;

	ck_assert_uint_eq(evqueue_deliver(q, collect, got, &err), 0);
	fake_add(&f, fork_of(1, 10, 10));
	fake_add(&f, exit_of(10, 10));
	ck_assert_uint_eq(evqueue_deliver(q, collect, got, &err), 2);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(got->len, 2);
	ck_assert_int_eq(g_array_index(got, struct pc_event, 0).kind,
			 PC_FORK);
	ck_assert_int_eq(g_array_index(got, struct pc_event, 1).kind,
			 PC_EXIT);
	/* nothing new: nothing handed out again */
	ck_assert_uint_eq(evqueue_deliver(q, collect, got, &err), 2);
	ck_assert_uint_eq(got->len, 2);
}
END_TEST

/* Delivered events stay for readers until a snapshot shows them. */
START_TEST(test_since_keeps_until_trim)
{
	GArray *since;
	int err;

	fake_add(&f, fork_of(1, 10, 10));
	fake_add(&f, fork_of(1, 11, 11));
	fake_add(&f, exit_of(10, 10));
	ck_assert_uint_eq(evqueue_deliver(q, collect, got, &err), 3);

	since = since_of(1);
	ck_assert_uint_eq(since->len, 2);
	ck_assert_int_eq(g_array_index(since, struct pc_event, 0).pid, 11);
	g_array_free(since, TRUE);

	evqueue_trim(q, 2);
	since = since_of(0); /* an old snapshot: what is left */
	ck_assert_uint_eq(since->len, 1);
	ck_assert_int_eq(g_array_index(since, struct pc_event, 0).kind,
			 PC_EXIT);
	g_array_free(since, TRUE);

	evqueue_trim(q, 3);
	since = since_of(3);
	ck_assert_uint_eq(since->len, 0);
	g_array_free(since, TRUE);
}
END_TEST

/* A reader that pulls events off the socket wakes the sampler, and the
 * sampler still gets them, in order, after the ones before. */
START_TEST(test_reader_pull_wakes_sampler)
{
	GArray *since;
	eventfd_t v;
	int err;

	ck_assert_int_lt(eventfd_read(evqueue_wake_fd(q), &v), 0);
	fake_add(&f, fork_of(1, 20, 20));
	since = since_of(0);
	ck_assert_uint_eq(since->len, 1);
	g_array_free(since, TRUE);
	ck_assert_int_eq(eventfd_read(evqueue_wake_fd(q), &v), 0);

	fake_add(&f, exit_of(20, 20));
	ck_assert_uint_eq(evqueue_deliver(q, collect, got, &err), 2);
	ck_assert_uint_eq(got->len, 2);
	ck_assert_int_eq(g_array_index(got, struct pc_event, 0).kind,
			 PC_FORK);
}
END_TEST

START_TEST(test_pull_error_reported_once)
{
	int err;

	f.err = -EIO;
	evqueue_deliver(q, collect, got, &err);
	ck_assert_int_eq(err, -EIO);
	f.err = 0;
	evqueue_deliver(q, collect, got, &err);
	ck_assert_int_eq(err, 0);
}
END_TEST

/* A burst far larger than usual is trimmed away completely. */
START_TEST(test_big_burst_trimmed)
{
	GArray *since;
	uint64_t last;
	int err;

	for (int i = 0; i < 10000; i++)
		fake_add(&f, fork_of(1, 100 + i, 100 + i));
	last = evqueue_deliver(q, collect, got, &err);
	ck_assert_uint_eq(last, 10000);
	evqueue_trim(q, last);
	fake_add(&f, exit_of(100, 100));
	ck_assert_uint_eq(evqueue_deliver(q, collect, got, &err), 10001);
	since = since_of(last);
	ck_assert_uint_eq(since->len, 1);
	g_array_free(since, TRUE);
}
END_TEST

/* ---- members_now ---- */

static GArray *events(int n, ...)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct pc_event));
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		struct pc_event ev = va_arg(ap, struct pc_event);

		g_array_append_val(a, ev);
	}
	va_end(ap);
	return a;
}

START_TEST(test_untouched_lists_kept)
{
	g_autoptr(GArray) tids = ids(2, 5, 7);
	g_autoptr(GArray) tgids = ids(2, 5, 7);
	/* strangers fork and exit: not our business */
	g_autoptr(GArray) evs =
	    events(3, fork_of(9, 30, 30), exit_of(30, 30), exit_of(8, 8));
	GArray *a = NULL, *b = NULL;

	ck_assert(!members_now(tids, tgids, evs, &a, &b));
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(test_child_joins_creator)
{
	g_autoptr(GArray) tids = ids(2, 5, 7);
	g_autoptr(GArray) tgids = ids(2, 5, 7);
	g_autoptr(GArray) evs = events(2, fork_of(7, 40, 40),
				       fork_of(40, 3, 3)); /* and its child */
	g_autoptr(GArray) a = NULL;
	g_autoptr(GArray) b = NULL;
	g_autoptr(GArray) want = ids(5, 3, 5, 7, 40, 40);

	ck_assert(members_now(tids, tgids, evs, &a, &b));
	g_array_remove_index(want, 4);
	assert_ids(a, want);
	assert_ids(b, want);
}
END_TEST

/* Thread 6 of process 5 calls exec: the kernel ends the leader (an exit
 * event for 5) and gives 6 the id 5; the process is still listed. */
START_TEST(test_exec_by_thread_keeps_process)
{
	g_autoptr(GArray) tids = ids(2, 5, 6);
	g_autoptr(GArray) tgids = ids(1, 5);
	struct pc_event exec = {.kind = PC_EXEC, .pid = 5, .tgid = 5};
	g_autoptr(GArray) evs = events(2, exit_of(5, 5), exec);
	g_autoptr(GArray) a = NULL;
	g_autoptr(GArray) b = NULL;
	g_autoptr(GArray) procs = ids(1, 5);

	ck_assert(members_now(tids, tgids, evs, &a, &b));
	ck_assert(g_array_index(a, pid_t, 0) == 5);
	assert_ids(b, procs);
}
END_TEST

START_TEST(test_thread_joins_leader)
{
	g_autoptr(GArray) tids = ids(1, 5);
	g_autoptr(GArray) tgids = ids(1, 5);
	g_autoptr(GArray) evs =
	    events(2, fork_of(1, 6, 5), fork_of(1, 90, 88)); /* 88: not ours */
	g_autoptr(GArray) a = NULL;
	g_autoptr(GArray) b = NULL;
	g_autoptr(GArray) want_tids = ids(2, 5, 6);
	g_autoptr(GArray) want_tgids = ids(1, 5);

	ck_assert(members_now(tids, tgids, evs, &a, &b));
	assert_ids(a, want_tids);
	assert_ids(b, want_tgids);
}
END_TEST

START_TEST(test_exited_are_gone)
{
	g_autoptr(GArray) tids = ids(4, 5, 6, 7, 8);
	g_autoptr(GArray) tgids = ids(2, 5, 7);
	/* thread 6 of 5 exits, then process 7 with its thread 8 */
	g_autoptr(GArray) evs = events(3, exit_of(6, 5), exit_of(8, 7),
				       exit_of(7, 7));
	g_autoptr(GArray) a = NULL;
	g_autoptr(GArray) b = NULL;
	g_autoptr(GArray) want = ids(1, 5);

	ck_assert(members_now(tids, tgids, evs, &a, &b));
	assert_ids(a, want);
	assert_ids(b, want);
}
END_TEST

/* A child born and gone before the snapshot: never listed; a pid that
 * is reused by another member's child: listed again. */
START_TEST(test_born_gone_and_reused)
{
	g_autoptr(GArray) tids = ids(1, 5);
	g_autoptr(GArray) tgids = ids(1, 5);
	g_autoptr(GArray) evs = events(4, fork_of(5, 50, 50), exit_of(50, 50),
				       fork_of(5, 51, 51), exit_of(51, 51));
	g_autoptr(GArray) more = events(1, fork_of(5, 50, 50));
	g_autoptr(GArray) a = NULL;
	g_autoptr(GArray) b = NULL;
	g_autoptr(GArray) c = NULL;
	g_autoptr(GArray) d = NULL;
	g_autoptr(GArray) want = ids(1, 5);
	g_autoptr(GArray) want2 = ids(2, 5, 50);

	ck_assert(members_now(tids, tgids, evs, &a, &b));
	assert_ids(a, want);
	assert_ids(b, want);
	g_array_append_vals(evs, more->data, more->len);
	ck_assert(members_now(tids, tgids, evs, &c, &d));
	assert_ids(c, want2);
	assert_ids(d, want2);
}
END_TEST

static Suite *members_suite(void)
{
	Suite *suite = suite_create("members");
	TCase *eq = tcase_create("evqueue");
	TCase *m = tcase_create("members_now");

	tcase_add_checked_fixture(eq, setup, teardown);
	tcase_add_test(eq, test_deliver_in_order_once);
	tcase_add_test(eq, test_since_keeps_until_trim);
	tcase_add_test(eq, test_reader_pull_wakes_sampler);
	tcase_add_test(eq, test_pull_error_reported_once);
	tcase_add_test(eq, test_big_burst_trimmed);
	suite_add_tcase(suite, eq);
	tcase_add_test(m, test_untouched_lists_kept);
	tcase_add_test(m, test_child_joins_creator);
	tcase_add_test(m, test_thread_joins_leader);
	tcase_add_test(m, test_exec_by_thread_keeps_process);
	tcase_add_test(m, test_exited_are_gone);
	tcase_add_test(m, test_born_gone_and_reused);
	suite_add_tcase(suite, m);
	return suite;
}

int main(void)
{
	return unit_run(members_suite());
}
