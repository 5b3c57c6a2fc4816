/*
 * burn - CPU workloads for the cpuacctfs accuracy harness (run.sh).
 *
 * Usage: burn MODE [ARGS]
 *
 *   threads [N [SECONDS]]  N threads (default 4) burning SECONDS (default
 *                          1.5) of CPU time in total, SECONDS/N each
 *   mixed                  2 threads burning 0.5 s of CPU each, while the
 *                          main thread runs 200 sh -c loops and 500 short
 *                          forks (0.5 ms of CPU each, then _exit)
 *   forkstorm [N]          N (default 3000) fork/_exit, each child doing a
 *                          tiny bit of work, the parent waiting for each
 *   spin [SECONDS]         one thread burning SECONDS (default 2) of CPU
 *   busysleep BUSY_MS SLEEP_MS
 *                          forever: BUSY_MS of CPU, then SLEEP_MS asleep
 *                          (the load beside the overload workload; it is
 *                          killed, never reaped by itself)
 *
 * burn starts paused: it prints its pid and a newline on stdout, then
 * blocks until it reads one byte from stdin (a fifo, in run.sh), so that
 * the driver can put it into its groups first.  End of file on stdin
 * aborts without doing any work.  All children are reaped before exit;
 * the exit status is 0 on success.
 *
 * Work is measured on the thread's own CPU clock, so a workload costs the
 * same CPU time however busy or stolen the machine is.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SH_SCRIPT "i=0; while [ $i -lt 200 ]; do i=$((i+1)); done"

static volatile unsigned long sink;

static double thread_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A few microseconds of pure CPU work. */
static void work_chunk(unsigned int loops)
{
	unsigned long x = sink;
	unsigned int i;

	for (i = 0; i < loops; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

/* Burn @seconds of this thread's CPU time. */
static void burn_cpu(double seconds)
{
	double end = thread_cpu_seconds() + seconds;

	while (thread_cpu_seconds() < end)
		work_chunk(20000);
}

static void *burn_thread(void *arg)
{
	burn_cpu(*(double *)arg);
	return NULL;
}

static int run_threads(int n, double total)
{
	pthread_t *tids;
	double each;
	int i, err = 0;

	if (n < 1 || total <= 0) {
		fprintf(stderr, "threads: bad N or SECONDS\n");
		return 2;
	}
	each = total / n;
	tids = calloc(n, sizeof(*tids));
	if (!tids) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < n; i++) {
		err = pthread_create(&tids[i], NULL, burn_thread, &each);
		if (err) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			n = i;
			break;
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return err ? 1 : 0;
}

/* Reap every child; count the ones that did not exit with status 0. */
static int reap_all(void)
{
	int status, bad = 0;

	while (waitpid(-1, &status, 0) > 0) {
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	return bad;
}

static int wait_one(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			return 1;
		}
	}
	return !WIFEXITED(status) || WEXITSTATUS(status);
}

static pid_t spawn_sh(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", SH_SCRIPT, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		perror("fork");
	return pid;
}

static pid_t spawn_short(double seconds)
{
	pid_t pid = fork();

	if (pid == 0) {
		burn_cpu(seconds);
		_exit(0);
	}
	if (pid < 0)
		perror("fork");
	return pid;
}

static int run_mixed(void)
{
	pthread_t tids[2];
	double each = 0.5;
	int i, t, bad = 0;
	pid_t pid;

	for (t = 0; t < 2; t++) {
		if (pthread_create(&tids[t], NULL, burn_thread, &each)) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}
	/*
	 * 500 short forks, reaped five at a time, and between them 200 sh
	 * execs (two per five forks), each waited for.
	 */
	for (i = 0; i < 500; i++) {
		if (spawn_short(0.0005) < 0)
			bad++;
		if (i % 5 == 1 || i % 5 == 3) {
			pid = spawn_sh();
			if (pid < 0 || wait_one(pid))
				bad++;
		}
		if (i % 5 == 4)
			bad += reap_all();
	}
	bad += reap_all();
	for (t = 0; t < 2; t++)
		pthread_join(tids[t], NULL);
	if (bad)
		fprintf(stderr, "mixed: %d children failed\n", bad);
	return bad ? 1 : 0;
}

static int run_forkstorm(int n)
{
	int i, bad = 0;
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid == 0) {
			work_chunk(5000);
			_exit(0);
		}
		if (pid < 0 || wait_one(pid))
			bad++;
	}
	if (bad)
		fprintf(stderr, "forkstorm: %d children failed\n", bad);
	return bad ? 1 : 0;
}

/* Runnable most of the time, switching often: a load average of about
 * the number of such processes, and many scheduler records. */
static int run_busysleep(double busy_ms, double sleep_ms)
{
	struct timespec nap = {.tv_sec = 0, .tv_nsec = sleep_ms * 1e6};

	if (busy_ms <= 0 || sleep_ms <= 0 || sleep_ms >= 1000) {
		fprintf(stderr, "busysleep: bad BUSY_MS or SLEEP_MS\n");
		return 2;
	}
	for (;;) {
		burn_cpu(busy_ms / 1e3);
		nanosleep(&nap, NULL);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: burn threads [N [SECONDS]] | mixed | "
			"forkstorm [N] | spin [SECONDS] | "
			"busysleep BUSY_MS SLEEP_MS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode;
	ssize_t r;
	char c;

	if (argc < 2)
		usage();
	mode = argv[1];
	if (strcmp(mode, "threads") && strcmp(mode, "mixed") &&
	    strcmp(mode, "forkstorm") && strcmp(mode, "spin") &&
	    strcmp(mode, "busysleep"))
		usage();
	if (!strcmp(mode, "busysleep") && argc != 4)
		usage();

	printf("%d\n", (int)getpid());
	fflush(stdout);
	do
		r = read(STDIN_FILENO, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1) {
		fprintf(stderr, "burn: not released (%s), no work done\n",
			r < 0 ? strerror(errno) : "end of file");
		return 3;
	}

	if (!strcmp(mode, "threads"))
		return run_threads(argc > 2 ? atoi(argv[2]) : 4,
				   argc > 3 ? atof(argv[3]) : 1.5);
	if (!strcmp(mode, "mixed"))
		return run_mixed();
	if (!strcmp(mode, "forkstorm"))
		return run_forkstorm(argc > 2 ? atoi(argv[2]) : 3000);
	if (!strcmp(mode, "busysleep"))
		return run_busysleep(atof(argv[2]), atof(argv[3]));
	burn_cpu(argc > 2 ? atof(argv[2]) : 2.0);
	return 0;
}
