/* test_procfs.c - the /proc readers, the proc connector and perf
 * sampling, against this very process and its children. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>

#include "perfsplit.h"
#include "procconn.h"
#include "procfs.h"

#include "unit.h"

#define NS_PER_MS 1000000ull

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Spin until this thread has used ms of CPU time. The CPU-time clock
 * is a system call, so look at it rarely to stay in user mode. */
static void burn_ms(unsigned int ms)
{
	uint64_t end = now_ns(CLOCK_THREAD_CPUTIME_ID) + ms * NS_PER_MS;
	volatile unsigned int spin;

	while (now_ns(CLOCK_THREAD_CPUTIME_ID) < end)
		for (spin = 0; spin < 100000; spin++)
			;
}

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	printf("SKIP: needs root\n");
	return false;
}

/* ---- stat parsing ---- */

#define STAT_TAIL                                                              \
	" S 1 42 42 0 -1 4194560 100 0 0 0 11 22 33 44 20 0 1 0 555 "          \
	"1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 "     \
	"0 0 0 0 0 0 0 0 0 0\n"

static void check_tail(const struct proc_stat *st)
{
	ck_assert_int_eq(st->state, 'S');
	ck_assert_int_eq(st->ppid, 1);
	ck_assert_uint_eq(st->flags, 4194560u);
	ck_assert_uint_eq(st->utime, 11);
	ck_assert_uint_eq(st->stime, 22);
	ck_assert_uint_eq(st->cutime, 33);
	ck_assert_uint_eq(st->cstime, 44);
	ck_assert_uint_eq(st->start_time, 555);
	ck_assert_int_eq(st->processor, 1);
}

START_TEST(parse_space_comm)
{
	struct proc_stat st;

	ck_assert_int_eq(procfs_parse_stat("123 (a b)" STAT_TAIL, &st), 0);
	ck_assert_int_eq(st.pid, 123);
	check_tail(&st);
}
END_TEST

START_TEST(parse_paren_comm)
{
	struct proc_stat st;

	ck_assert_int_eq(procfs_parse_stat("7 (x) y (z)" STAT_TAIL, &st), 0);
	ck_assert_int_eq(st.pid, 7);
	check_tail(&st);
}
END_TEST

START_TEST(parse_empty_comm)
{
	struct proc_stat st;

	ck_assert_int_eq(procfs_parse_stat("9 ()" STAT_TAIL, &st), 0);
	ck_assert_int_eq(st.pid, 9);
	check_tail(&st);
}
END_TEST

START_TEST(parse_bad)
{
	static const char *const bad[] = {
	    "",
	    "garbage",
	    "12 (no close paren S 1 2",
	    "12 (short) S 1 2 3",
	    "x (c)" STAT_TAIL,
	    "12 (c) S x 42 42 0 -1 4194560 100 0 0 0 11 22 33 44 20 0 1 "
	    "0 555 1000 10 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n",
	    "12 (c)  S 1 42 42 0 -1 4194560 100 0 0 0 -11 22 33 44 20 0 1 "
	    "0 555 1000 10 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 17 1\n",
	};
	struct proc_stat st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(procfs_parse_stat(bad[i], &st) == -EINVAL,
			      "accepted bad stat #%zu", i);
}
END_TEST

/* ---- reading this process ---- */

START_TEST(read_self_stat)
{
	struct proc_stat st;

	ck_assert_int_eq(procfs_read_stat(getpid(), 0, &st), 0);
	ck_assert_int_eq(st.pid, getpid());
	ck_assert_int_eq(st.state, 'R');
	ck_assert_int_eq(st.ppid, getppid());
	ck_assert_int_lt(st.processor, (int)procfs_possible_cpus());
	ck_assert_int_eq(procfs_read_stat(getpid(), gettid(), &st), 0);
	ck_assert_int_eq(st.pid, gettid());
}
END_TEST

START_TEST(read_gone)
{
	struct proc_stat st;
	uint64_t ns;
	uid_t r, e;
	pid_t t;

	/* pid_max is at most 2^22: this pid never exists */
	ck_assert_int_eq(procfs_read_stat(99999999, 0, &st), -ESRCH);
	ck_assert_int_eq(procfs_process_clock(99999999, &ns), -ESRCH);
	ck_assert_int_eq(procfs_thread_runtime(99999999, 1, &ns), -ESRCH);
	ck_assert_int_eq(procfs_read_uids(99999999, &r, &e), -ESRCH);
	ck_assert_int_eq(procfs_tgid_of(99999999, &t), -ESRCH);
}
END_TEST

START_TEST(clock_self_grows)
{
	uint64_t a, b;

	ck_assert_int_eq(procfs_process_clock(getpid(), &a), 0);
	burn_ms(20);
	ck_assert_int_eq(procfs_process_clock(getpid(), &b), 0);
	ck_assert_uint_ge(b - a, 20 * NS_PER_MS);
}
END_TEST

START_TEST(clock_of_zombie)
{
	siginfo_t si;
	uint64_t ns;
	pid_t child;

	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		burn_ms(50);
		_exit(0);
	}
	/* wait for the zombie but leave it unreaped */
	memset(&si, 0, sizeof(si));
	ck_assert_int_eq(waitid(P_PID, child, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(procfs_process_clock(child, &ns), 0);
	ck_assert_uint_ge(ns, 50 * NS_PER_MS);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_int_eq(procfs_process_clock(child, &ns), -ESRCH);
}
END_TEST

START_TEST(thread_runtime_self)
{
	uint64_t a, b;

	ck_assert_int_eq(procfs_thread_runtime(getpid(), gettid(), &a), 0);
	burn_ms(10);
	ck_assert_int_eq(procfs_thread_runtime(getpid(), gettid(), &b), 0);
	ck_assert_uint_ge(b - a, 10 * NS_PER_MS);
}
END_TEST

START_TEST(uids_self)
{
	uid_t r = 12345, s = 12345, e = 12345, rr, ee, ss;

	ck_assert_int_eq(getresuid(&rr, &ee, &ss), 0);
	ck_assert_int_eq(procfs_read_uids(getpid(), &r, &s), 0);
	ck_assert_uint_eq(r, rr);
	ck_assert_uint_eq(s, ss);
	ck_assert_int_eq(procfs_read_euid(getpid(), &e), 0);
	ck_assert_uint_eq(e, ee);
	ck_assert_int_eq(procfs_read_euid(99999999, &e), -ESRCH);
}
END_TEST

START_TEST(possible_cpus)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);

	ck_assert_uint_ge(procfs_possible_cpus(), 1);
	ck_assert_uint_ge(procfs_possible_cpus(), (unsigned int)conf);
	ck_assert_uint_eq(procfs_possible_cpus(), procfs_possible_cpus());
}
END_TEST

/* ---- thread enumeration, with a second thread parked on a pipe ---- */

struct helper {
	pthread_t thread;
	int pipe[2];
	pid_t tid;
};

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	char c;

	__atomic_store_n(&h->tid, gettid(), __ATOMIC_RELEASE);
	while (read(h->pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void helper_start(struct helper *h)
{
	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(pipe(h->pipe), 0);
	ck_assert_int_eq(pthread_create(&h->thread, NULL, helper_main, h), 0);
	while (!__atomic_load_n(&h->tid, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void helper_stop(struct helper *h)
{
	ck_assert_int_eq(write(h->pipe[1], "x", 1), 1);
	pthread_join(h->thread, NULL);
	close(h->pipe[0]);
	close(h->pipe[1]);
}

struct seen {
	pid_t tgid, main_tid, other_tid;
	int main_hits, other_hits, bad_tgid, total;
};

static void count_thread(pid_t tgid, pid_t tid, void *data)
{
	struct seen *s = data;

	s->total++;
	if (tid == s->main_tid || tid == s->other_tid) {
		if (tgid != s->tgid)
			s->bad_tgid++;
		if (tid == s->main_tid)
			s->main_hits++;
		else
			s->other_hits++;
	}
}

static void check_seen(const struct seen *s)
{
	ck_assert_int_eq(s->main_hits, 1);
	ck_assert_int_eq(s->other_hits, 1);
	ck_assert_int_eq(s->bad_tgid, 0);
}

START_TEST(scan_finds_threads)
{
	struct helper h;
	struct seen s = {0};

	helper_start(&h);
	s.tgid = getpid();
	s.main_tid = getpid();
	s.other_tid = h.tid;
	ck_assert_int_eq(procfs_scan(count_thread, &s), 0);
	check_seen(&s);
	ck_assert_int_gt(s.total, 2);
	helper_stop(&h);
}
END_TEST

START_TEST(list_threads)
{
	struct helper h;
	struct seen s = {0};

	helper_start(&h);
	s.tgid = getpid();
	s.main_tid = getpid();
	s.other_tid = h.tid;
	ck_assert_int_eq(procfs_list_threads(getpid(), count_thread, &s), 0);
	check_seen(&s);
	ck_assert_int_eq(s.total, 2);
	ck_assert_int_eq(procfs_list_threads(99999999, count_thread, &s),
			 -ESRCH);
	helper_stop(&h);
}
END_TEST

START_TEST(tgid_of_thread)
{
	struct helper h;
	pid_t tgid = 0;
	uint64_t ns;

	helper_start(&h);
	ck_assert_int_eq(procfs_tgid_of(h.tid, &tgid), 0);
	ck_assert_int_eq(tgid, getpid());
	/* a process clock needs the leader's pid, not any tid */
	ck_assert_int_eq(procfs_process_clock(h.tid, &ns), -ESRCH);
	ck_assert_int_eq(procfs_tgid_of(getpid(), &tgid), 0);
	ck_assert_int_eq(tgid, getpid());
	helper_stop(&h);
}
END_TEST

/* ---- proc connector (root) ---- */

struct conn_seen {
	pid_t child;
	int fork_at, exit_at, n; /* order of arrival, 0 = not seen */
	int lost;
};

static void on_event(const struct pc_event *ev, void *data)
{
	struct conn_seen *s = data;

	s->n++;
	if (ev->kind == PC_LOST)
		s->lost++;
	if (ev->kind == PC_FORK && ev->pid == s->child &&
	    ev->tgid == s->child && ev->parent_tgid == getpid() && !s->fork_at)
		s->fork_at = s->n;
	if (ev->kind == PC_EXIT && ev->pid == s->child &&
	    ev->tgid == s->child && !s->exit_at)
		s->exit_at = s->n;
}

static void drain_until_exit(struct procconn *pc, struct conn_seen *s)
{
	struct pollfd pfd = {.fd = procconn_fd(pc), .events = POLLIN};
	uint64_t end = now_ns(CLOCK_MONOTONIC) + 2000 * NS_PER_MS;

	while (!s->exit_at && now_ns(CLOCK_MONOTONIC) < end) {
		poll(&pfd, 1, 100);
		ck_assert_int_ge(procconn_drain(pc, on_event, s), 0);
	}
}

START_TEST(procconn_fork_exit)
{
	struct conn_seen s = {0};
	struct procconn *pc;
	int err;

	if (!need_root())
		return;
	pc = procconn_open(&err);
	ck_assert_msg(pc != NULL, "procconn_open: %s", strerror(-err));
	s.child = fork();
	ck_assert_int_ge(s.child, 0);
	if (s.child == 0)
		_exit(3);
	ck_assert_int_eq(waitpid(s.child, NULL, 0), s.child);
	drain_until_exit(pc, &s);
	procconn_close(pc);
	ck_assert_int_gt(s.fork_at, 0);
	ck_assert_int_gt(s.exit_at, s.fork_at);
}
END_TEST

/* ---- perf sampling (root) ---- */

struct perf_seen {
	pid_t pid;
	int ours, ours_user, total;
};

static void on_sample(const struct perf_rec *rec, void *data)
{
	struct perf_seen *s = data;

	s->total++;
	if (rec->pid != s->pid)
		return;
	s->ours++;
	if (rec->user)
		s->ours_user++;
}

/* A loop of cheap system calls: most of its time is in the kernel. */
static void syscalls_ms(unsigned int ms)
{
	uint64_t end = now_ns(CLOCK_THREAD_CPUTIME_ID) + ms * NS_PER_MS;
	char c;
	int fd = open("/dev/zero", O_RDONLY);

	while (now_ns(CLOCK_THREAD_CPUTIME_ID) < end)
		for (int i = 0; i < 100; i++)
			if (read(fd, &c, 1) != 1)
				break;
	close(fd);
}

/* Sample `work` for 100 ms of our CPU time; returns our samples. */
static struct perf_seen sample_work(void (*work)(unsigned int))
{
	struct perf_seen s = {.pid = getpid()};
	struct perfsplit *ps;
	uint64_t lost = 1;
	int err, n;

	ps = perfsplit_open(1000, &err);
	ck_assert_msg(ps != NULL, "perfsplit_open: %s", strerror(-err));
	ck_assert_int_ge(perfsplit_nfds(ps), 1);
	ck_assert_int_ge(perfsplit_fd(ps, 0), 0);
	work(100);
	n = perfsplit_drain(ps, on_sample, &s, &lost);
	perfsplit_close(ps);
	ck_assert_int_eq(n, s.total);
	ck_assert_uint_eq(lost, 0);
	/* 100 ms of our CPU time at 1 ms: allow for timer slack */
	ck_assert_msg(s.ours >= 70, "only %d samples of ours", s.ours);
	return s;
}

/* The mode of each sample is decoded: a busy loop is sampled in user
 * mode far more often than a loop of system calls. Compared with each
 * other, so that a loaded machine (more kernel time for both) cannot
 * make it fail. */
START_TEST(perfsplit_busy_loop)
{
	struct perf_seen user, kernel;

	if (!need_root())
		return;
	user = sample_work(burn_ms);
	kernel = sample_work(syscalls_ms);
	ck_assert_msg(user.ours_user * 2 > user.ours,
		      "busy loop: %d of %d samples in user mode",
		      user.ours_user, user.ours);
	ck_assert_msg(user.ours_user * kernel.ours >
			  kernel.ours_user * user.ours +
			      user.ours * kernel.ours / 4,
		      "user share: busy loop %d/%d, system calls %d/%d",
		      user.ours_user, user.ours, kernel.ours_user, kernel.ours);
}
END_TEST

static Suite *procfs_suite(void)
{
	Suite *s = suite_create("procfs");
	TCase *parse = tcase_create("parse");
	TCase *self = tcase_create("self");
	TCase *events = tcase_create("events");

	tcase_add_test(parse, parse_space_comm);
	tcase_add_test(parse, parse_paren_comm);
	tcase_add_test(parse, parse_empty_comm);
	tcase_add_test(parse, parse_bad);
	tcase_add_test(self, read_self_stat);
	tcase_add_test(self, read_gone);
	tcase_add_test(self, clock_self_grows);
	tcase_add_test(self, clock_of_zombie);
	tcase_add_test(self, thread_runtime_self);
	tcase_add_test(self, uids_self);
	tcase_add_test(self, possible_cpus);
	tcase_add_test(self, scan_finds_threads);
	tcase_add_test(self, list_threads);
	tcase_add_test(self, tgid_of_thread);
	tcase_add_test(events, procconn_fork_exit);
	tcase_add_test(events, perfsplit_busy_loop);
	/* valgrind makes the CPU burners many times slower */
	tcase_set_timeout(self, 60);
	tcase_set_timeout(events, 60);
	suite_add_tcase(s, parse);
	suite_add_tcase(s, self);
	suite_add_tcase(s, events);
	return s;
}

int main(void)
{
	return unit_run(procfs_suite());
}
