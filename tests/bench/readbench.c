/* readbench - how many times per second small files can be read.
 *
 * usage: readbench [-p] [-l] [-v] -t THREADS -s SECONDS FILE...
 *
 * Each thread reads the files round-robin, thread i starting at file i.
 * By default one read of a file is what cat(1) does: open(O_RDONLY),
 * read() into a 4 KiB buffer until it returns 0, close(). With -p every
 * thread opens every file once beforehand and one read is a pread() at
 * offset 0 (continued at later offsets only while the buffer comes back
 * full). Prints one line, "reads_per_sec N", on stdout; with -l a second
 * one, "latency_us p50 N p99 N max N", over every read of every thread.
 *
 * Every file is read once before the clock starts, so that a missing or
 * unreadable file fails the run at once (exit 1) and lookups are warm.
 * A read that fails during the run is not counted; the first failure is
 * reported on stderr and the exit status is 2 (the rate is still printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 4096
#define MAX_THREADS 1024
#define LAT_BUCKETS 100000 /* 1 us each; the last one holds the rest */

struct worker {
	pthread_t thread;
	unsigned int index;
	int *fds; /* -p: this thread's own fd for each file */
	uint64_t reads;
	uint64_t errors;
	uint64_t bytes;
	int first_err; /* positive errno of the first failure */
	const char *first_path;
	uint32_t *lat;	 /* -l: reads per microsecond of latency */
	uint64_t lat_max_ns;
};

static const char *const *files;
static unsigned int nfiles;
static bool use_pread;
static bool want_latency;
static atomic_bool stop;
static pthread_barrier_t start_barrier;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: readbench [-p] [-l] [-v] -t THREADS -s SECONDS FILE...\n"
		"  -t N   reading threads (thread i starts at file i)\n"
		"  -s S   seconds to measure (may be fractional)\n"
		"  -p     keep files open, pread at offset 0 instead of\n"
		"         open/read/close\n"
		"  -l     also print read latency: p50, p99 and max\n"
		"  -v     details on stderr\n"
		"prints: reads_per_sec N\n");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void note_latency(struct worker *w, uint64_t ns)
{
	uint64_t us = ns / 1000;

	w->lat[us < LAT_BUCKETS ? us : LAT_BUCKETS - 1]++;
	if (ns > w->lat_max_ns)
		w->lat_max_ns = ns;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* cat(1): open, read until 0, close. Bytes read or -errno. */
static ssize_t read_whole(const char *path, char *buf)
{
	ssize_t total = 0, n;
	int fd, err = 0;

	do {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, buf, BUF_SIZE);
		if (n > 0) {
			total += n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		err = errno;
		break;
	}
	if (close(fd) < 0 && !err && errno != EINTR)
		err = errno;
	return err ? -err : total;
}

/* pread at offset 0; go on only while the buffer comes back full. */
static ssize_t pread_whole(int fd, char *buf)
{
	ssize_t total = 0, n;

	for (;;) {
		n = pread(fd, buf, BUF_SIZE, total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		total += n;
		if (n < BUF_SIZE)
			return total;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char *buf;
	unsigned int i = w->index % nfiles;
	ssize_t n;

	buf = aligned_alloc(BUF_SIZE, BUF_SIZE);
	if (!buf) {
		w->first_err = ENOMEM;
		w->errors++;
	}
	pthread_barrier_wait(&start_barrier);
	if (!buf)
		return NULL;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t t0 = want_latency ? now_ns() : 0;

		if (use_pread)
			n = pread_whole(w->fds[i], buf);
		else
			n = read_whole(files[i], buf);
		if (want_latency)
			note_latency(w, now_ns() - t0);
		if (n >= 0) {
			w->reads++;
			w->bytes += n;
		} else {
			if (!w->errors++) {
				w->first_err = -n;
				w->first_path = files[i];
			}
		}
		if (++i == nfiles)
			i = 0;
	}
	free(buf);
	return NULL;
}

/* Enough descriptors for -p: raise the soft limit up to the hard one. */
static int want_fds(uint64_t needed)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed) {
		rl.rlim_cur = rl.rlim_max;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < needed)
			return -EMFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
	}
	return 0;
}

/* Read every file once; open the -p descriptors. 0 or exit status. */
static int prepare(struct worker *workers, unsigned int nthreads, bool verbose)
{
	static char buf[BUF_SIZE];
	unsigned int f, t;
	ssize_t n;
	int err;

	for (f = 0; f < nfiles; f++) {
		n = read_whole(files[f], buf);
		if (n < 0) {
			fprintf(stderr, "readbench: %s: %s\n", files[f],
				strerror(-n));
			return 1;
		}
		if (verbose && f < 3)
			fprintf(stderr, "readbench: %s: %zd bytes\n", files[f],
				n);
	}
	for (t = 0; want_latency && t < nthreads; t++) {
		workers[t].lat = calloc(LAT_BUCKETS, sizeof(uint32_t));
		if (!workers[t].lat) {
			fprintf(stderr, "readbench: out of memory\n");
			return 1;
		}
	}
	if (!use_pread)
		return 0;

	err = want_fds((uint64_t)nthreads * nfiles + 16);
	if (err) {
		fprintf(stderr, "readbench: need %" PRIu64 " fds: %s\n",
			(uint64_t)nthreads * nfiles + 16, strerror(-err));
		return 1;
	}
	for (t = 0; t < nthreads; t++) {
		workers[t].fds = calloc(nfiles, sizeof(int));
		if (!workers[t].fds) {
			fprintf(stderr, "readbench: out of memory\n");
			return 1;
		}
		for (f = 0; f < nfiles; f++) {
			workers[t].fds[f] =
			    open(files[f], O_RDONLY | O_CLOEXEC);
			if (workers[t].fds[f] < 0) {
				fprintf(stderr, "readbench: %s: %s\n", files[f],
					strerror(errno));
				return 1;
			}
		}
	}
	return 0;
}

/* The microsecond by which a share q of all reads had finished. */
static unsigned int percentile(const uint64_t *all, uint64_t total, double q)
{
	uint64_t want = (uint64_t)(total * q), seen = 0;

	for (unsigned int us = 0; us < LAT_BUCKETS; us++) {
		seen += all[us];
		if (seen > want)
			return us;
	}
	return LAT_BUCKETS;
}

static void print_latency(const struct worker *workers, unsigned int n)
{
	uint64_t *all = calloc(LAT_BUCKETS, sizeof(uint64_t));
	uint64_t total = 0, max_ns = 0;

	if (!all)
		return;
	for (unsigned int t = 0; t < n; t++) {
		for (unsigned int us = 0; us < LAT_BUCKETS; us++)
			all[us] += workers[t].lat[us];
		if (workers[t].lat_max_ns > max_ns)
			max_ns = workers[t].lat_max_ns;
	}
	for (unsigned int us = 0; us < LAT_BUCKETS; us++)
		total += all[us];
	printf("latency_us p50 %u p99 %u max %.0f\n",
	       percentile(all, total, 0.5), percentile(all, total, 0.99),
	       max_ns / 1000.0);
	free(all);
}

int main(int argc, char **argv)
{
	struct worker *workers;
	unsigned long nthreads = 0;
	double seconds = 0, t0, t1, rate;
	uint64_t reads = 0, errors = 0, bytes = 0;
	struct timespec ts;
	const struct worker *failed = NULL;
	bool verbose = false;
	char *end;
	unsigned int t;
	int opt, ret;

	while ((opt = getopt(argc, argv, "t:s:plvh")) != -1) {
		switch (opt) {
		case 't':
			errno = 0;
			nthreads = strtoul(optarg, &end, 10);
			if (errno || *end || !nthreads ||
			    nthreads > MAX_THREADS) {
				fprintf(stderr, "readbench: bad -t %s\n",
					optarg);
				return 1;
			}
			break;
		case 's':
			errno = 0;
			seconds = strtod(optarg, &end);
			if (errno || *end || !(seconds > 0) ||
			    seconds > 86400) {
				fprintf(stderr, "readbench: bad -s %s\n",
					optarg);
				return 1;
			}
			break;
		case 'p':
			use_pread = true;
			break;
		case 'l':
			want_latency = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (!nthreads || !seconds || optind >= argc) {
		usage(stderr);
		return 1;
	}
	files = (const char *const *)&argv[optind];
	nfiles = argc - optind;

	workers = calloc(nthreads, sizeof(*workers));
	if (!workers) {
		fprintf(stderr, "readbench: out of memory\n");
		return 1;
	}
	ret = prepare(workers, nthreads, verbose);
	if (ret)
		return ret;

	pthread_barrier_init(&start_barrier, NULL, nthreads + 1);
	for (t = 0; t < nthreads; t++) {
		workers[t].index = t;
		ret = pthread_create(&workers[t].thread, NULL, worker_main,
				     &workers[t]);
		if (ret) {
			/* the barrier would never open: give up now */
			fprintf(stderr, "readbench: pthread_create: %s\n",
				strerror(ret));
			_exit(1);
		}
	}
	pthread_barrier_wait(&start_barrier);
	t0 = now();
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
	atomic_store(&stop, true);
	for (t = 0; t < nthreads; t++) {
		pthread_join(workers[t].thread, NULL);
		reads += workers[t].reads;
		errors += workers[t].errors;
		bytes += workers[t].bytes;
		if (workers[t].errors && !failed)
			failed = &workers[t];
	}
	t1 = now();

	rate = reads / (t1 - t0);
	printf("reads_per_sec %.0f\n", rate);
	if (want_latency)
		print_latency(workers, nthreads);
	fflush(stdout);
	if (verbose)
		fprintf(stderr,
			"readbench: %s, %lu threads, %u files, %.3f s, "
			"%" PRIu64 " reads (%.1f bytes each), %" PRIu64
			" errors\n",
			use_pread ? "pread" : "open/read/close", nthreads,
			nfiles, t1 - t0, reads,
			reads ? (double)bytes / reads : 0.0, errors);
	if (errors) {
		fprintf(stderr,
			"readbench: %" PRIu64 " failed reads, first: %s: %s\n",
			errors, failed->first_path ? failed->first_path : "-",
			strerror(failed->first_err));
		return 2;
	}
	return 0;
}
