/* mt N [wait]: a process with N threads (leader included) that sleep until
 * killed. With "wait", the extra threads are created only after a line is
 * read from stdin. Prints "ready" on stdout once all N threads exist. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	char line[64];
	pthread_t t;

	if (n < 1) {
		fprintf(stderr, "usage: mt N [wait]\n");
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "wait") == 0 &&
	    !fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 1; i < n; i++)
		if (pthread_create(&t, NULL, idle, NULL) != 0)
			return 1;
	printf("ready\n");
	fflush(stdout);
	idle(NULL);
	return 0;
}
