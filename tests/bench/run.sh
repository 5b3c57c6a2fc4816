#!/bin/bash
# tests/bench/run.sh - cpuacctfs benchmarks (make bench).
#
# usage: run.sh DAEMON_BINARY READBENCH_BINARY
#
# Prints tables, never asserts timings:
#   1. read path: reads/s of cpuacct.usage, usage_percpu and stat of one
#      group, kernel cgroupfs vs cpuacctfs, 1 and 4 threads, open/read/close
#      (1a) and pread on kept-open files (1b); then N groups round-robin.
#   2. sampler cost: daemon CPU per task per sample and RSS per task, with
#      sleeping processes spread over cpuacctfs groups.
#   3. churn: short processes forked in a group; daemon RSS and fds before
#      and after (they should be flat).
#   4. lxcfs, when installed, on the same kernel group.
# Exits 1 only when something broke (daemon died, reads failed, tasks
# never showed up in the group), 0 with "SKIP: ..." when it cannot run.
#
# Environment:
#   BENCH_QUICK=1          tiny sizes for CI: 100 groups, 200 tasks, 0.5 s
#   BENCH_SELFTEST=1       no daemon: a second kernel group plays cpuacctfs
#   BENCH_INTERVAL_MS=40   sampling interval, passed as --interval=N
#   BENCH_DAEMON_ARGS      more daemon arguments (word-split)
#   BENCH_CHURN_SECONDS    churn duration (default 20; 2 when quick)
#   BENCH_SECONDS          seconds per read measurement (2; 0.5 when quick)
#   BENCH_GROUPS           groups read round-robin (1000; 100 when quick)
#   BENCH_TASKS="N1 N2"    sleeping tasks (1000 10000; 100 200 when quick)
#   BENCH_SAMPLE_SECONDS   daemon CPU window (10; 1 when quick)
#   BENCH_CHURN_TASKS      churn processes (10000; 200 when quick)
#   BENCH_ONLY             sections to run, a subset of
#                          "read pread many sampler churn lxcfs"
#   CC                     compiler for the helper (default cc)

# shellcheck disable=SC2317 # functions run from traps look unreachable

set -u
export LC_ALL=C

KHIER=/sys/fs/cgroup/cpuacct

skip() {
	echo "SKIP: $*"
	exit 0
}

[ "$(id -u)" = 0 ] || skip "not root"
[ -c /dev/fuse ] || skip "no /dev/fuse"
if ! [ -f "$KHIER/cpuacct.usage" ] || ! [ -f "$KHIER/cgroup.procs" ]; then
	skip "no cgroup v1 cpuacct hierarchy at $KHIER"
fi

if [ $# -ne 2 ]; then
	echo "usage: $0 DAEMON_BINARY READBENCH_BINARY" >&2
	exit 1
fi
DAEMON=$1
READBENCH=$2
SELFTEST=${BENCH_SELFTEST:-0}
QUICK=${BENCH_QUICK:-0}

die() {
	echo "bench: $*" >&2
	exit 1
}

[ -x "$READBENCH" ] || die "$READBENCH: not an executable"
[ "$SELFTEST" = 1 ] || [ -x "$DAEMON" ] || die "$DAEMON: not an executable"

num() { # num NAME VALUE: VALUE must be a positive number
	if ! [[ $2 =~ ^[0-9]+(\.[0-9]+)?$ && $2 =~ [1-9] ]]; then
		die "$1=$2: not a positive number"
	fi
}

if [ "$QUICK" = 1 ]; then
	SECS=${BENCH_SECONDS:-0.5}
	NGROUPS=${BENCH_GROUPS:-100}
	TASKS=${BENCH_TASKS:-100 200}
	SAMPLE_SECS=${BENCH_SAMPLE_SECONDS:-1}
	SAMPLER_GROUPS=10
	CHURN_N=${BENCH_CHURN_TASKS:-200}
	CHURN_SECS=${BENCH_CHURN_SECONDS:-2}
	TRACK_TIMEOUT=15
else
	SECS=${BENCH_SECONDS:-2}
	NGROUPS=${BENCH_GROUPS:-1000}
	TASKS=${BENCH_TASKS:-1000 10000}
	SAMPLE_SECS=${BENCH_SAMPLE_SECONDS:-10}
	SAMPLER_GROUPS=100
	CHURN_N=${BENCH_CHURN_TASKS:-10000}
	CHURN_SECS=${BENCH_CHURN_SECONDS:-20}
	TRACK_TIMEOUT=60
fi
INTERVAL_MS=${BENCH_INTERVAL_MS:-40}
ONLY=${BENCH_ONLY:-read pread many sampler churn lxcfs}
read -r N1 N2 EXTRA <<<"$TASKS"
if [ -z "${N2:-}" ] || [ -n "${EXTRA:-}" ]; then
	die "BENCH_TASKS=\"N1 N2\" wanted"
fi
for v in SECS NGROUPS N1 N2 SAMPLE_SECS CHURN_N CHURN_SECS INTERVAL_MS; do
	num "$v" "${!v}"
done
[[ $NGROUPS$N1$N2$CHURN_N$INTERVAL_MS =~ ^[0-9]+$ ]] ||
	die "group, task and interval counts must be integers"
[ "$N2" -gt "$N1" ] || die "BENCH_TASKS: N2 must be larger than N1"

want() { [[ " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------- cleanup

TMP=
MNT=
DPID=
LXMNT=
LXPID=
KROOT=
HELPERS=()
CLEANED=0
PROBLEMS=0

problem() {
	echo "PROBLEM: $*"
	PROBLEMS=$((PROBLEMS + 1))
}

# stop_helper PID: TERM its process group (helpers make their own), then KILL
stop_helper() {
	local pid=$1 i
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

stop_helpers() {
	local pid
	for pid in "${HELPERS[@]}"; do
		stop_helper "$pid"
	done
	HELPERS=()
}

forget_helper() {
	local pid keep=()
	for pid in "${HELPERS[@]}"; do
		[ "$pid" = "$1" ] || keep+=("$pid")
	done
	HELPERS=("${keep[@]}")
}

# unmount MNT PID: unmount a FUSE daemon's mount and end the daemon
unmount_fuse() {
	local mnt=$1 pid=$2 i
	if mountpoint -q "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null
	fi
	if [ -n "$pid" ]; then
		for ((i = 0; i < 30; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			[ "$i" = 10 ] && kill -TERM "$pid" 2>/dev/null
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if mountpoint -q "$mnt"; then
		umount -l "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null
	fi
	! mountpoint -q "$mnt"
}

# Move every task out of the kernel groups we made, then remove them.
remove_kernel_groups() {
	local d p i
	[ -n "$KROOT" ] && [ -d "$KROOT" ] || return 0
	for ((i = 0; i < 20; i++)); do
		while read -r d; do
			while read -r p; do
				echo "$p" >"$KHIER/cgroup.procs"
			done <"$d/cgroup.procs" 2>/dev/null
			rmdir "$d" 2>/dev/null
		done < <(find "$KROOT" -depth -type d 2>/dev/null)
		[ -d "$KROOT" ] || return 0
		sleep 0.1
	done
	echo "bench: could not remove $KROOT" >&2
	return 1
}

cleanup() {
	local rc=$? ok=1
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	trap '' INT TERM
	stop_helpers
	if [ -n "$LXMNT" ]; then
		unmount_fuse "$LXMNT" "$LXPID" || ok=0
	fi
	if [ -n "$MNT" ]; then
		if [ -n "$DPID" ] && ! kill -0 "$DPID" 2>/dev/null &&
		   [ -f "$TMP/daemon.log" ]; then
			echo "bench: daemon log (tail):" >&2
			tail -n 20 "$TMP/daemon.log" >&2
		fi
		unmount_fuse "$MNT" "$DPID" || ok=0
	fi
	remove_kernel_groups || ok=0
	if [ -n "$TMP" ]; then
		if [ "$ok" = 1 ]; then
			rm -rf --one-file-system "$TMP"
		else
			echo "bench: left $TMP behind (still mounted?)" >&2
		fi
	fi
	[ "$ok" = 1 ] || [ "$rc" != 0 ] || rc=1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d /tmp/cpuacctfs-bench.XXXXXX) || die "mktemp failed"

# ---------------------------------------------------------------- helper

# One small program for the processes the benchmark needs, compiled now:
#   spawn N [DIR...]      N children that pause(); child i is written to
#                         DIR[i % ndirs]/cgroup.procs; prints "placed I T"
#                         every 500 writes, then "ready N ERRORS SECONDS"
#   ticker DIR            joins DIR, wakes every 10 ms, spins ~100 us
#   churn N SECS DIR      joins DIR, forks N children that _exit(0) at
#                         once, paced evenly over SECS; prints "done ..."
#   cputime PID           the process's CPU time in ns, all its threads
#                         (what utime+stime count, at full resolution)
# Each makes its own process group; children die with their parent.
cat >"$TMP/benchhelper.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	quit = 1;
}

static int join_group(const char *dir, pid_t pid)
{
	char path[4096], buf[32];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	errno = 0;
	if (write(fd, buf, len) != len)
		ret = errno ? -errno : -EIO;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = {(time_t)t, (long)((t - (time_t)t) * 1e9)};
	int err;

	do
		err =
		    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	while (err == EINTR && !quit);
}

static int spawn(int n, char **dirs, int ndirs)
{
	pid_t parent = getpid(), pid, *kids;
	sigset_t block, old, waitmask;
	int i, ret, errors = 0, first = 0;
	double t0;

	kids = calloc(n, sizeof(*kids));
	if (!kids)
		return 1;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "spawn: fork %d: %s\n", i,
				strerror(errno));
			break;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			sigprocmask(SIG_SETMASK, &old, NULL);
			for (;;)
				pause();
		}
		kids[i] = pid;
	}
	n = i;
	t0 = now();
	for (i = 0; i < n && ndirs; i++) {
		ret = join_group(dirs[i % ndirs], kids[i]);
		if (ret && !errors++)
			first = -ret;
		if ((i + 1) % 500 == 0) {
			printf("placed %d %.3f\n", i + 1, now() - t0);
			fflush(stdout);
		}
	}
	printf("ready %d %d %.3f\n", n, errors, now() - t0);
	fflush(stdout);
	if (errors)
		fprintf(stderr, "spawn: %d cgroup.procs writes failed: %s\n",
			errors, strerror(first));
	waitmask = old;
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	while (!quit)
		sigsuspend(&waitmask);
	for (i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

static int ticker(const char *dir)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int ret = join_group(dir, getpid());
	double t;

	if (ret) {
		fprintf(stderr, "ticker: %s: %s\n", dir, strerror(-ret));
		return 1;
	}
	while (!quit) {
		t = now() + 100e-6;
		while (now() < t)
			;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int churn(int n, double secs, const char *dir)
{
	int ret = join_group(dir, getpid()), i, failed = 0;
	double t0 = now();
	pid_t pid;

	if (ret) {
		fprintf(stderr, "churn: %s: %s\n", dir, strerror(-ret));
		return 1;
	}
	for (i = 0; i < n && !quit; i++) {
		sleep_until(t0 + secs * i / n);
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			failed++;
			continue;
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	printf("done %d %d %.3f\n", i - failed, failed, now() - t0);
	return failed ? 1 : 0;
}

static int cputime(pid_t pid)
{
	struct timespec ts;
	clockid_t clk;
	int err = clock_getcpuclockid(pid, &clk);

	if (err || clock_gettime(clk, &ts) < 0) {
		fprintf(stderr, "cputime: %d: %s\n", (int)pid,
			strerror(err ? err : errno));
		return 1;
	}
	printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	if (argc == 3 && !strcmp(argv[1], "cputime"))
		return cputime(atoi(argv[2]));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	if (argc >= 3 && !strcmp(argv[1], "spawn"))
		return spawn(atoi(argv[2]), argv + 3, argc - 3);
	if (argc == 3 && !strcmp(argv[1], "ticker"))
		return ticker(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "churn"))
		return churn(atoi(argv[2]), atof(argv[3]), argv[4]);
	fprintf(stderr, "usage: benchhelper spawn N [DIR...] | ticker DIR | "
			"churn N SECS DIR | cputime PID\n");
	return 1;
}
EOF
HELPER=$TMP/benchhelper
"${CC:-cc}" -O2 -Wall -o "$HELPER" "$TMP/benchhelper.c" 2>"$TMP/cc.log" || {
	cat "$TMP/cc.log" >&2
	die "cannot compile the helper with ${CC:-cc}"
}

# start_helper OUTFILE ARGS...: run the helper in the background; sets HPID
start_helper() {
	local out=$1
	shift
	"$HELPER" "$@" >"$out" 2>&1 &
	HPID=$!
	HELPERS+=("$HPID")
}

# ---------------------------------------------------------------- setup

KROOT=$KHIER/cpuacctfs-bench.$$
mkdir "$KROOT" || die "mkdir $KROOT failed"

if [ "$SELFTEST" = 1 ]; then
	FSROOT=$KROOT/fsside
	mkdir "$FSROOT" || die "mkdir $FSROOT failed"
	FSNAME="cpuacctfs*"
else
	MNT=$TMP/mnt
	mkdir "$MNT"
	# shellcheck disable=SC2086 # BENCH_DAEMON_ARGS is a word list
	"$DAEMON" -f --no-restart --interval="$INTERVAL_MS" ${BENCH_DAEMON_ARGS:-} "$MNT" \
		>"$TMP/daemon.log" 2>&1 &
	DPID=$!
	for ((i = 0; i < 100; i++)); do
		[ -e "$MNT/cpuacct.usage" ] && break
		kill -0 "$DPID" 2>/dev/null || {
			cat "$TMP/daemon.log" >&2
			die "daemon exited before it was mounted"
		}
		sleep 0.1
	done
	[ -e "$MNT/cpuacct.usage" ] || {
		cat "$TMP/daemon.log" >&2
		die "$MNT/cpuacct.usage did not appear within 10 s"
	}
	FSROOT=$MNT
	FSNAME=cpuacctfs
fi

CLK_TCK=$(getconf CLK_TCK)

daemon_alive() {
	[ -z "$DPID" ] || kill -0 "$DPID" 2>/dev/null
}

# daemon_cpu_us: the daemon's CPU time (all its threads), microseconds:
# its process CPU clock, the exact sum behind utime+stime; those fields
# of /proc/PID/stat (10 ms ticks) when the clock cannot be read
daemon_cpu_us() {
	local s f
	[ -n "$DPID" ] || { echo n/a; return; }
	if s=$("$HELPER" cputime "$DPID" 2>/dev/null) && [[ $s =~ ^[0-9]+$ ]]; then
		echo $((s / 1000))
		return
	fi
	s=$(<"/proc/$DPID/stat") || { echo n/a; return; }
	s=${s##*) }
	read -ra f <<<"$s"
	echo $(((f[11] + f[12]) * 1000000 / CLK_TCK))
}

daemon_rss_kib() {
	[ -n "$DPID" ] || { echo n/a; return; }
	awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print "n/a" }' \
		"/proc/$DPID/status" 2>/dev/null || echo n/a
}

daemon_fds() {
	[ -n "$DPID" ] || { echo n/a; return; }
	find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

daemon_threads() {
	[ -n "$DPID" ] || { echo n/a; return; }
	awk '/^Threads:/ { print $2 }' "/proc/$DPID/status" 2>/dev/null
}

mono() { # seconds since boot, fractional
	local up
	read -r up _ </proc/uptime
	echo "$up"
}

# ratio A B: A/B with two decimals, "-" when either is missing or B is 0
ratio() {
	if [[ $1 =~ ^[0-9]+$ && $2 =~ ^[1-9][0-9]*$ ]]; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
	else
		echo -
	fi
}

# mkgroups ROOT N: ROOT/g0000 .. ROOT/g(N-1)
mkgroups() {
	local root=$1 n=$2 i
	mkdir -p "$root" || return 1
	for ((i = 0; i < n; i++)); do
		mkdir "$(printf '%s/g%04d' "$root" "$i")" || return 1
	done
}

# group_files ROOT N NAME: the NAME file of each of ROOT's N groups
group_files() {
	local root=$1 n=$2 name=$3 i
	for ((i = 0; i < n; i++)); do
		printf '%s/g%04d/%s\n' "$root" "$i" "$name"
	done
}

NOTES=$TMP/notes
: >"$NOTES"

# bench THREADS MODE FILE...: reads/s, "N!" when some reads failed, ERR
bench() {
	local threads=$1 mode=$2 out rc
	shift 2
	# shellcheck disable=SC2086 # MODE is empty or -p
	out=$("$READBENCH" -t "$threads" -s "$SECS" $mode "$@" 2>"$TMP/rb.err")
	rc=$?
	out=${out#reads_per_sec }
	if [ "$rc" = 0 ] && [[ $out =~ ^[0-9]+$ ]]; then
		echo "$out"
		return
	fi
	{
		echo "readbench -t $threads $mode ${1%/*}/... (exit $rc):"
		sed 's/^/    /' "$TMP/rb.err"
	} >>"$NOTES"
	if [[ $out =~ ^[0-9]+$ ]]; then
		echo "$out!"
	else
		echo ERR
	fi
}

flush_notes() {
	if [ -s "$NOTES" ]; then
		problem "failed reads:"
		cat "$NOTES"
		: >"$NOTES"
	fi
}

ROW="%-30s %7s %12s %12s %8s\n"
declare -A KRES

# ---------------------------------------------------------------- header

echo "cpuacctfs benchmark  $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$SELFTEST" = 1 ]; then
	echo "SELFTEST: no daemon; the \"$FSNAME\" column is a second kernel group"
else
	echo "daemon: $DAEMON -f --interval=$INTERVAL_MS ${BENCH_DAEMON_ARGS:-}"
	echo "daemon pid $DPID, $(daemon_threads) threads, VmRSS $(daemon_rss_kib) KiB at start"
fi
echo "mode: $([ "$QUICK" = 1 ] && echo quick || echo full), ${SECS} s per read measurement"

# The single group on each side holds a light ticker task (~1% CPU), so
# its values change all the time, as a live container's do.
K1=$KROOT/bench1
F1=$FSROOT/bench1
mkdir "$K1" || die "mkdir $K1 failed"
mkdir "$F1" || die "mkdir $F1 failed"
start_helper "$TMP/ticker-k.out" ticker "$K1"
TICK_K=$HPID
start_helper "$TMP/ticker-f.out" ticker "$F1"
TICK_F=$HPID
sleep 0.5
for p in "$TICK_K" "$TICK_F"; do
	kill -0 "$p" 2>/dev/null ||
		problem "ticker exited: $(cat "$TMP"/ticker-*.out)"
done

# What the files hold: the rates mean little if the content is wrong.
bad_format() { # bad_format FILE: true when FILE is empty or malformed
	local re text
	case ${1##*/} in
	cpuacct.usage) re='^[0-9]+$' ;;
	cpuacct.usage_percpu) re='^([0-9]+ )+$' ;;
	cpuacct.stat) re='^(user|system) [0-9]+$' ;;
	esac
	# cgroup files have size 0: look at what a read returns
	text=$(cat "$1" 2>/dev/null) || return 0
	[ -z "$text" ] || grep -qvE "$re" <<<"$text"
}
for f in cpuacct.usage cpuacct.usage_percpu cpuacct.stat; do
	if bad_format "$F1/$f"; then
		problem "$F1/$f does not look like the kernel's: $(head -c 200 "$F1/$f" 2>&1)"
	fi
done

FILES="cpuacct.usage cpuacct.usage_percpu cpuacct.stat"

read_table() { # read_table MODE TITLE
	local mode=$1 f t k c
	echo
	echo "== $2 (reads/s; one group holding one ~1% CPU task) =="
	# shellcheck disable=SC2059
	printf "$ROW" file threads kernel "$FSNAME" ratio
	for f in $FILES; do
		for t in 1 4; do
			k=$(bench "$t" "$mode" "$K1/$f")
			c=$(bench "$t" "$mode" "$F1/$f")
			KRES[$mode,$f,$t]=$k
			# shellcheck disable=SC2059
			printf "$ROW" "$f" "$t" "$k" "$c" "$(ratio "$c" "$k")"
		done
	done
	flush_notes
}

want read && read_table "" "1a. open/read/close, like cat"
want pread && read_table "-p" "1b. pread at offset 0 on kept-open files"

if want many; then
	echo
	echo "== 1c. $NGROUPS empty groups' cpuacct.usage read round-robin (reads/s) =="
	mkgroups "$KROOT/many" "$NGROUPS" || die "cannot make $NGROUPS kernel groups"
	mkgroups "$FSROOT/many" "$NGROUPS" || die "cannot make $NGROUPS $FSNAME groups"
	mapfile -t KF < <(group_files "$KROOT/many" "$NGROUPS" cpuacct.usage)
	mapfile -t FF < <(group_files "$FSROOT/many" "$NGROUPS" cpuacct.usage)
	# shellcheck disable=SC2059
	printf "$ROW" "mode" threads kernel "$FSNAME" ratio
	for mode in "" -p; do
		for t in 1 4; do
			k=$(bench "$t" "$mode" "${KF[@]}")
			c=$(bench "$t" "$mode" "${FF[@]}")
			# shellcheck disable=SC2059
			printf "$ROW" "${mode:-open/read/close}" "$t" "$k" "$c" \
				"$(ratio "$c" "$k")"
		done
	done
	flush_notes
fi

daemon_alive || problem "the daemon died during the read benchmarks"

# ---------------------------------------------------------------- sampler

# Room for N more tasks? Shrinks the request to what fits and says so.
fit_tasks() {
	local n=$1 total pidmax thrmax room
	total=$(cut -d' ' -f4 /proc/loadavg)
	total=${total#*/}
	pidmax=$(</proc/sys/kernel/pid_max)
	thrmax=$(</proc/sys/kernel/threads-max)
	room=$((pidmax - total - 1000))
	[ $((thrmax - total - 1000)) -lt "$room" ] && room=$((thrmax - total - 1000))
	if [ "$room" -lt "$n" ]; then
		echo "note: pid_max $pidmax / threads-max $thrmax leave room for" \
			"$room more tasks, not $n" >&2
		n=$((room > 0 ? room : 0))
	fi
	echo "$n"
}

# tracked DIR...: how many processes the groups list in cgroup.procs
# (no forks here: the daemon would have to track them too)
tracked() {
	local d n=0 ids
	for d in "$@"; do
		mapfile -t ids <"$d/cgroup.procs" 2>/dev/null || ids=()
		n=$((n + ${#ids[@]}))
	done
	echo "$n"
}

# wait_tracked WANT TIMEOUT DIR...: until the groups list WANT processes
wait_tracked() {
	local want=$1 timeout=$2 t0 n
	shift 2
	t0=$SECONDS
	while :; do
		n=$(tracked "$@")
		[ "$n" = "$want" ] && return 0
		if [ $((SECONDS - t0)) -ge "$timeout" ]; then
			echo "$n"
			return 1
		fi
		sleep 0.5
	done
}

# wait_ready FILE STALL: until the spawn helper's FILE says "ready"; fails
# when the file has not grown for STALL seconds
wait_ready() {
	local t0=$SECONDS size=-1 now
	until grep -q '^ready ' "$1" 2>/dev/null; do
		now=$(wc -c <"$1")
		if [ "$now" != "$size" ]; then
			size=$now
			t0=$SECONDS
		fi
		[ $((SECONDS - t0)) -ge "$2" ] && return 1
		sleep 0.2
	done
}

# sample_row TASKS: measure the daemon over SAMPLE_SECS and print a row
SROW="%7s %9s %11s %7s %14s %14s %11s\n"
IDLE_US=
IDLE_WALL=
declare -A RSS
# latency_row TASKS: read latency of one group's tasks and cpuacct.usage
# while the sampler follows TASKS tasks (readers must never wait for it).
declare -A LAT
latency_row() {
	local f out line=""
	for f in tasks cpuacct.usage; do
		out=$("$READBENCH" -l -t 1 -s 1 "${SG[0]}/$f" 2>/dev/null |
			awk '/^latency_us/ { print $3 "/" $5 "/" $7 }')
		line+=" $f ${out:-ERR}"
	done
	LAT[$1]=$line
}

sample_row() {
	local tasks=$1 c0 c1 w0 w1 cpu wall samples per marg pct rss
	c0=$(daemon_cpu_us)
	w0=$(mono)
	sleep "$SAMPLE_SECS"
	c1=$(daemon_cpu_us)
	w1=$(mono)
	rss=$(daemon_rss_kib)
	RSS[$tasks]=$rss
	wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }')
	if [[ $c0$c1 =~ ^[0-9]+$ ]]; then
		cpu=$((c1 - c0))
		samples=$(awk -v w="$wall" -v i="$INTERVAL_MS" 'BEGIN { print w * 1000 / i }')
		pct=$(awk -v c="$cpu" -v w="$wall" 'BEGIN { printf "%.1f", c / w / 1e4 }')
		if [ "$tasks" = 0 ]; then
			IDLE_US=$cpu
			IDLE_WALL=$wall
			per=-
			marg=-
		else
			per=$(awk -v c="$cpu" -v n="$tasks" -v s="$samples" \
				'BEGIN { printf "%.3f", c / (n * s) }')
			marg=$(awk -v c="$cpu" -v i="$IDLE_US" -v iw="$IDLE_WALL" \
				-v w="$wall" -v n="$tasks" -v s="$samples" \
				'BEGIN { printf "%.3f", (c - i * w / iw) / (n * s) }')
		fi
		cpu=$(awk -v c="$cpu" 'BEGIN { printf "%.1f", c / 1000 }')
	else
		cpu=n/a pct=n/a per=n/a marg=n/a
	fi
	# shellcheck disable=SC2059
	printf "$SROW" "$tasks" "$wall" "$cpu" "$pct" "$per" "$marg" "$rss"
}

SPIDS=()
if want sampler; then
	echo
	echo "== 2. sampler cost: sleeping tasks over $SAMPLER_GROUPS $FSNAME groups," \
		"interval ${INTERVAL_MS} ms, ${SAMPLE_SECS} s windows =="
	ulimit -u unlimited 2>/dev/null || ulimit -u "$(ulimit -Hu)" 2>/dev/null
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
	mkgroups "$FSROOT/samp" "$SAMPLER_GROUPS" || die "cannot make sampler groups"
	mapfile -t SG < <(for ((i = 0; i < SAMPLER_GROUPS; i++)); do
		printf '%s/samp/g%04d\n' "$FSROOT" "$i"
	done)
	echo "us/task/sample = daemon CPU / (tasks * window / interval);" \
		"marginal: idle CPU subtracted first"
	# shellcheck disable=SC2059
	printf "$SROW" tasks window_s daemon_ms cpu_% us/task/sample \
		marginal_us VmRSS_KiB
	sample_row 0
	latency_row 0
	have=0
	for want_n in "$N1" "$N2"; do
		add=$(fit_tasks $((want_n - have)))
		[ "$add" -gt 0 ] || break
		out=$TMP/spawn.$want_n
		t0=$SECONDS
		start_helper "$out" spawn "$add" "${SG[@]}"
		SPIDS+=("$HPID")
		if ! wait_ready "$out" "$TRACK_TIMEOUT"; then
			problem "placing $add tasks stalled for $TRACK_TIMEOUT s:" \
				"$(grep -c '^placed' "$out")/$((add / 500)) progress lines"
			tail -n 3 "$out"
			break
		fi
		read -r _ got errs took < <(grep '^ready ' "$out")
		[ "$errs" = 0 ] || problem "$(grep -v '^placed' "$out" | tail -n 1)"
		have=$((have + got))
		if ! n=$(wait_tracked "$have" "$TRACK_TIMEOUT" "${SG[@]}"); then
			problem "$FSNAME lists $n of $have tasks after $TRACK_TIMEOUT s"
			have=$n
		fi
		echo "  ($got cgroup.procs writes took $took s," \
			"$(awk -v n="$got" -v t="$took" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')/s;" \
			"$have tasks tracked $((SECONDS - t0)) s after the spawn began)"
		sleep 1
		sample_row "$have"
		latency_row "$have"
	done
	echo "read latency in us (p50/p99/max, 1 thread, 1 s) of one group's files" \
		"while the sampler follows the tasks (a pass takes the engine lock;" \
		"reads must not wait for it):"
	for n in $(printf '%s\n' "${!LAT[@]}" | sort -n); do
		echo "  $n tasks:${LAT[$n]}"
	done
	if [[ ${RSS[0]} =~ ^[0-9]+$ ]]; then
		for n in "${!RSS[@]}"; do
			[ "$n" = 0 ] && continue
			[[ ${RSS[$n]} =~ ^[0-9]+$ ]] || continue
			echo "marginal RSS at $n tasks: $(((RSS[$n] - RSS[0]) * 1024 / n)) bytes/task"
		done | sort -t' ' -k4n
	fi
	for p in "${SPIDS[@]}"; do
		stop_helper "$p"
		forget_helper "$p"
	done
	if ! n=$(wait_tracked 0 "$TRACK_TIMEOUT" "${SG[@]}"); then
		problem "$FSNAME still lists $n tasks $TRACK_TIMEOUT s after they were killed"
	fi
	daemon_alive || problem "the daemon died during the sampler benchmark"
fi

# ---------------------------------------------------------------- churn

if want churn; then
	echo
	echo "== 3. churn: $CHURN_N short processes (fork, _exit) in one group over ${CHURN_SECS} s =="
	CG=$FSROOT/churn
	mkdir "$CG" || die "mkdir $CG failed"
	sleep 1
	rss0=$(daemon_rss_kib)
	fd0=$(daemon_fds)
	cpu0=$(daemon_cpu_us)
	start_helper "$TMP/churn.out" churn "$CHURN_N" "$CHURN_SECS" "$CG"
	cpid=$HPID
	wait "$cpid"
	crc=$?
	forget_helper "$cpid"
	read -r _ done_n failed_n took <"$TMP/churn.out"
	[ "$crc" = 0 ] || problem "churn helper: exit $crc: $(cat "$TMP/churn.out")"
	# let the daemon see the last exits and drop them
	if ! n=$(wait_tracked 0 "$TRACK_TIMEOUT" "$CG"); then
		problem "$FSNAME still lists $n tasks in $CG after the churn"
	fi
	sleep 1
	cpu1=$(daemon_cpu_us)
	rss1=$(daemon_rss_kib)
	fd1=$(daemon_fds)
	echo "forked ${done_n:-?} (failed ${failed_n:-?}) in ${took:-?} s"
	printf "%-12s %10s %10s %10s\n" "" before after delta
	if [[ $rss0$rss1 =~ ^[0-9]+$ ]]; then
		drss=$((rss1 - rss0))
		dfd=$((fd1 - fd0))
		verdict=flat
		[ "$dfd" -gt 0 ] && verdict="NOT FLAT"
		[ "$drss" -gt 1024 ] && verdict="NOT FLAT"
		printf "%-12s %10s %10s %10s\n" "VmRSS KiB" "$rss0" "$rss1" "$drss"
		printf "%-12s %10s %10s %10s\n" "open fds" "$fd0" "$fd1" "$dfd"
		echo "RSS change per churned process: $((drss * 1024 / CHURN_N)) bytes;" \
			"verdict: $verdict (flat = no new fds, RSS within 1 MiB)"
		awk -v c="$((cpu1 - cpu0))" -v n="$CHURN_N" 'BEGIN {
			printf "daemon CPU during churn: %.0f ms, %.1f us per churned process\n",
				c / 1000, c / n }'
	else
		printf "%-12s %10s %10s %10s\n" "VmRSS KiB" "$rss0" "$rss1" -
		printf "%-12s %10s %10s %10s\n" "open fds" "$fd0" "$fd1" -
	fi
	daemon_alive || problem "the daemon died during the churn"
fi

# ---------------------------------------------------------------- lxcfs

if want lxcfs; then
	echo
	if ! command -v lxcfs >/dev/null; then
		echo "lxcfs: not installed, row skipped"
	else
		LXMNT=$TMP/lxcfs
		mkdir "$LXMNT"
		lxcfs -f -p "$TMP/lxcfs.pid" "$LXMNT" >"$TMP/lxcfs.log" 2>&1 &
		LXPID=$!
		for ((i = 0; i < 100; i++)); do
			[ -e "$LXMNT/proc/uptime" ] && break
			kill -0 "$LXPID" 2>/dev/null || break
			sleep 0.1
		done
		LX1=$LXMNT/cgroup/cpuacct/${K1#"$KHIER"/}
		if [ ! -e "$LXMNT/proc/uptime" ]; then
			problem "lxcfs did not mount: $(tail -n 3 "$TMP/lxcfs.log")"
		elif [ ! -e "$LX1/cpuacct.usage" ]; then
			echo "lxcfs: no cgroup view at $LX1, row skipped"
		else
			echo "== 4. lxcfs $(lxcfs --version 2>&1 | head -n 1) on the same kernel group (reads/s, open/read/close) =="
			# shellcheck disable=SC2059
			printf "$ROW" file threads kernel lxcfs ratio
			for f in $FILES; do
				for t in 1 4; do
					k=${KRES[,$f,$t]:-}
					[ -n "$k" ] || k=$(bench "$t" "" "$K1/$f")
					l=$(bench "$t" "" "$LX1/$f")
					# shellcheck disable=SC2059
					printf "$ROW" "$f" "$t" "$k" "$l" "$(ratio "$l" "$k")"
				done
			done
			flush_notes
		fi
		unmount_fuse "$LXMNT" "$LXPID" || problem "cannot unmount lxcfs"
		LXMNT=
	fi
fi

echo
if [ -n "$DPID" ]; then
	echo "daemon at the end: VmRSS $(daemon_rss_kib) KiB, $(daemon_fds) fds," \
		"$(daemon_threads) threads"
fi
if [ "$PROBLEMS" -gt 0 ]; then
	echo "bench: $PROBLEMS problem(s), see PROBLEM lines above"
	exit 1
fi
echo "bench: done"
exit 0
