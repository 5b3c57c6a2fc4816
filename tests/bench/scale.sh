#!/bin/bash
# tests/bench/scale.sh - many groups: the kernel's hierarchy and cpuacctfs
# in the same run (issue 12's table; make bench).
#
# usage: scale.sh DAEMON_BINARY
#
# In one parent group of each hierarchy: read latency of one group's
# cpuacct.usage (open, read, close; median of SCALE_READS) with 1 group,
# the time to make N groups (mkdir/s), the same latency with N+1 groups,
# the daemon's CPU over SCALE_IDLE_SECONDS while they sit idle (its
# threads' schedstat), memory per group (the daemon's RSS; the kernel's
# Slab + Percpu from /proc/meminfo, roughly), the time to remove them
# (rmdir/s), and the daemon's RSS after that cycle against before it.
# Prints a table, never asserts timings; exits 1 only when something
# broke.
#
# Environment: SCALE_GROUPS (10000; 1000 with BENCH_QUICK=1), SCALE_READS
# (2000), SCALE_IDLE_SECONDS (10; 2 quick), BENCH_DAEMON_ARGS.

set -u
export LC_ALL=C

KHIER=/sys/fs/cgroup/cpuacct
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	N=${SCALE_GROUPS:-1000}
	IDLE=${SCALE_IDLE_SECONDS:-2}
else
	N=${SCALE_GROUPS:-10000}
	IDLE=${SCALE_IDLE_SECONDS:-10}
fi
READS=${SCALE_READS:-2000}

skip() {
	echo "SKIP: $*"
	exit 0
}

[ "$(id -u)" = 0 ] || skip "not root"
[ -c /dev/fuse ] || skip "no /dev/fuse"
[ -f $KHIER/cpuacct.usage ] || skip "no cgroup v1 cpuacct hierarchy at $KHIER"
[ $# -eq 1 ] && [ -x "$1" ] || {
	echo "usage: $0 DAEMON_BINARY" >&2
	exit 1
}
DAEMON=$1
MNT=""
DPID=""
KPARENT=$KHIER/scale$$

cleanup() {
	local d
	trap - EXIT INT TERM
	for d in "$KPARENT" "${MNT:+$MNT/scale}"; do
		[ -n "$d" ] && [ -d "$d" ] || continue
		find "$d" -mindepth 1 -maxdepth 1 -type d -exec rmdir {} + 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	if [ -n "$MNT" ]; then
		fusermount3 -u "$MNT" 2>/dev/null
		[ -n "$DPID" ] && wait "$DPID" 2>/dev/null
		rmdir "$MNT" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "scale: $*" >&2
	exit 1
}

# groups DIR make|remove N: mkdir or rmdir DIR/g1..gN; prints per second.
groups() {
	perl -MTime::HiRes=time -e '
		my ($dir, $op, $n) = @ARGV;
		my $t = time;
		for my $i (1 .. $n) {
			my $ok = $op eq "make" ? mkdir("$dir/g$i") : rmdir("$dir/g$i");
			$ok or die "$op $dir/g$i: $!\n";
		}
		printf "%.0f\n", $n / (time - $t);' "$1" "$2" "$3"
}

# latency FILE: median microseconds of READS open+read+close of FILE.
latency() {
	perl -MTime::HiRes=time -e '
		my ($f, $n) = @ARGV;
		my @t;
		for (1 .. $n) {
			my $t0 = time;
			open(my $fh, "<", $f) or die "$f: $!\n";
			sysread($fh, my $buf, 4096);
			close $fh;
			push @t, time - $t0;
		}
		@t = sort { $a <=> $b } @t;
		printf "%.1f\n", $t[$#t / 2] * 1e6;' "$1" "$READS"
}

rss_kib() {
	awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status"
}

# cpu_ns: the daemon's threads' time on CPU so far.
cpu_ns() {
	cat /proc/"$DPID"/task/*/schedstat 2>/dev/null |
		awk '{ s += $1 } END { printf "%.0f\n", s }'
}

kernel_kib() {
	awk '/^(Slab|Percpu):/ { s += $2 } END { print s }' /proc/meminfo
}

start_daemon() {
	local i
	MNT=$(mktemp -d /tmp/cpuacctfs-scale.XXXXXX)
	# shellcheck disable=SC2086 # a list of words
	"$DAEMON" -f --no-restart ${BENCH_DAEMON_ARGS:-} "$MNT" 2>"$MNT.log" &
	DPID=$!
	for ((i = 0; i < 100; i++)); do
		[ -e "$MNT/cpuacct.usage" ] && return 0
		sleep 0.1
	done
	die "the daemon did not mount: $(cat "$MNT.log")"
}

# measure NAME PARENT: the rows of one hierarchy into R_NAME_*.
measure() {
	local name=$1 p=$2 before after c0 c1
	mkdir "$p" "$p/g0" || die "mkdir $p"
	sleep 1
	eval "R_${name}_lat1=$(latency "$p/g0/cpuacct.usage")"
	if [ "$name" = ours ]; then before=$(rss_kib); else before=$(kernel_kib); fi
	eval "R_${name}_mkdir=$(groups "$p" make "$N")" || die "mkdir in $p"
	sleep 2 # a pass or two with every group in it
	eval "R_${name}_latn=$(latency "$p/g0/cpuacct.usage")"
	if [ "$name" = ours ]; then
		after=$(rss_kib)
		c0=$(cpu_ns)
		sleep "$IDLE"
		c1=$(cpu_ns)
		R_ours_idle=$(awk -v a="$c0" -v b="$c1" -v s="$IDLE" \
			'BEGIN { printf "%.2f", (b - a) / s / 1e7 }')
	else
		after=$(kernel_kib)
		R_kernel_idle="-"
	fi
	eval "R_${name}_kib=$(awk -v a="$before" -v b="$after" -v n="$N" \
		'BEGIN { printf "%.2f", (b - a) / n }')"
	eval "R_${name}_rmdir=$(groups "$p" remove "$N")" || die "rmdir in $p"
	rmdir "$p/g0" "$p"
	if [ "$name" = ours ]; then
		sleep 2
		R_ours_cycle=$(awk -v a="$before" -v b="$(rss_kib)" \
			'BEGIN { printf "%.1f MiB, start %.1f MiB (%+.0f %%)", b / 1024, a / 1024, (b - a) * 100 / a }')
	fi
}

start_daemon
measure kernel "$KPARENT"
measure ours "$MNT/scale"
kill -0 "$DPID" 2>/dev/null || die "the daemon died"

row() {
	printf '%-36s %14s %14s\n' "$@"
}
echo "scale: $N idle groups in one parent, kernel and cpuacctfs" \
	"(${BENCH_DAEMON_ARGS:-default options})"
row "" kernel cpuacctfs
row "mkdir/s" "$R_kernel_mkdir" "$R_ours_mkdir"
row "rmdir/s" "$R_kernel_rmdir" "$R_ours_rmdir"
row "read median, 1 group (us)" "$R_kernel_lat1" "$R_ours_lat1"
row "read median, $N groups (us)" "$R_kernel_latn" "$R_ours_latn"
row "read latency ratio N/1" \
	"$(awk -v a="$R_kernel_lat1" -v b="$R_kernel_latn" 'BEGIN { printf "%.2fx", b / a }')" \
	"$(awk -v a="$R_ours_lat1" -v b="$R_ours_latn" 'BEGIN { printf "%.2fx", b / a }')"
row "idle daemon CPU, $N groups (%)" "$R_kernel_idle" "$R_ours_idle"
row "KiB per group (kernel: slab)" "$R_kernel_kib" "$R_ours_kib"
echo "daemon RSS after the create/remove cycle: $R_ours_cycle"
