/* observer - what watching costs the watched: two workloads that make
 * the scheduler update a task's runtime as often as possible.
 *
 * usage: observer | observer sleepers N
 * Prints "clock_ns N" (one clock_gettime(CLOCK_THREAD_CPUTIME_ID): each
 * updates the caller's runtime) and "pingpong_us N" (one round trip
 * between two processes over pipes: two switches, two wakeups) and
 * "forkexit_us N" (a child forked, exiting at once, reaped: one exit
 * record and a few runtime records).
 *
 * "observer sleepers N" forks N children that sleep until they are killed
 * (the idle load of many tasks), prints their pids one a line, then waits
 * for end of file on stdin and kills them all.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define CALLS 1000000
#define ROUNDS 100000
#define FORKS 5000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double clock_calls(void)
{
	struct timespec ts;
	double t0 = now();

	for (int i = 0; i < CALLS; i++)
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (now() - t0) / CALLS * 1e9;
}

static double ping_pong(void)
{
	int ping[2], pong[2];
	char c = 0;
	double t0;

	if (pipe(ping) || pipe(pong))
		return -1;
	if (fork() == 0) {
		for (int i = 0; i < ROUNDS; i++)
			if (read(ping[0], &c, 1) != 1 ||
			    write(pong[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	t0 = now();
	for (int i = 0; i < ROUNDS; i++)
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			return -1;
	t0 = now() - t0;
	wait(NULL);
	return t0 / ROUNDS * 1e6;
}

static double fork_exit(void)
{
	double t0 = now();

	for (int i = 0; i < FORKS; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			return -1;
	}
	return (now() - t0) / FORKS * 1e6;
}

/* The children die with their parent however it ends. */
static int sleepers(int n)
{
	pid_t *pids = calloc(n, sizeof(*pids));
	char c;
	int made = 0;

	if (!pids)
		return 1;
	for (; made < n; made++) {
		pids[made] = fork();
		if (pids[made] < 0)
			break;
		if (pids[made] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0);
			for (;;)
				pause();
		}
		printf("%d\n", (int)pids[made]);
	}
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	for (int i = 0; i < made; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	free(pids);
	return made == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "sleepers"))
		return sleepers(atoi(argv[2]));
	if (argc != 1) {
		fprintf(stderr, "usage: observer | observer sleepers N\n");
		return 2;
	}
	printf("clock_ns %.0f\n", clock_calls());
	printf("pingpong_us %.2f\n", ping_pong());
	printf("forkexit_us %.1f\n", fork_exit());
	return 0;
}
