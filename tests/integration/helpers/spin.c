/* spin MS [THREADS]: burn CPU in THREADS threads (default 1) for MS ms of
 * wall-clock time each, then exit 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long duration_ms;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *burn(void *arg)
{
	long long end = now_ns() + duration_ms * 1000000LL;
	volatile unsigned long x = 0;

	(void)arg;
	while (now_ns() < end)
		for (int i = 0; i < 10000; i++)
			x += i;
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 1;
	pthread_t t[64];

	if (argc < 2 || n < 1 || n > 64) {
		fprintf(stderr, "usage: spin MS [THREADS<=64]\n");
		return 2;
	}
	duration_ms = atol(argv[1]);
	for (int i = 1; i < n; i++)
		pthread_create(&t[i], NULL, burn, NULL);
	burn(NULL);
	for (int i = 1; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
