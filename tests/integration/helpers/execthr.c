/* execthr FLAG PROG [ARGS...]: a second thread waits until the file FLAG
 * exists, then calls execv(PROG, [PROG, ARGS...]); the leader sleeps.
 * The kernel then ends every other thread and gives the exec'ing thread
 * the process's id. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static char **args;

static void *exec_later(void *flag)
{
	while (access(flag, F_OK) != 0)
		usleep(10000);
	execv(args[0], args);
	perror("execv");
	_exit(127);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 3) {
		fprintf(stderr, "usage: execthr FLAG PROG [ARGS...]\n");
		return 2;
	}
	args = argv + 2;
	if (pthread_create(&t, NULL, exec_later, argv[1]))
		return 1;
	for (;;)
		pause();
}
