#!/bin/bash
# What the daemon costs the workloads it measures: tests/bench/observer
# (CPU clock reads, pipe ping-pong, fork/exit/wait, pinned to one CPU)
# with no daemon, with the default daemon (sched_stat_runtime records,
# taskstats exit records), with --no-taskstats and with --no-tracepoint
# (process clocks). Best of 3 each; prints, never asserts.
# usage: observer.sh DAEMON OBSERVER
set -u
daemon=${1:?usage: $0 DAEMON OBSERVER} observer=${2:?usage: $0 DAEMON OBSERVER}
mnt=$(mktemp -d /tmp/cpuacctfs-observer.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	rmdir "$mnt"
}
trap cleanup EXIT

# best KEY: the lowest of the KEY lines in $runs
best() {
	awk -v k="$1" '$1 == k && (m == "" || $2 < m) { m = $2 } END { print m }' \
		<<<"$runs"
}

row() {
	local runs

	runs=$(for _ in 1 2 3; do taskset -c 0 "$observer"; done)
	printf '%-42s %10s %12s %12s' "$1" "$(best clock_ns)" \
		"$(best pingpong_us)" "$(best forkexit_us)"
}

# cpu_ms PID: CPU time the process has used, in ms
cpu_ms() {
	awk '{ print ($14 + $15) * 1000 / ticks }' ticks="$(getconf CLK_TCK)" \
		"/proc/$1/stat"
}

with_daemon() {
	"$daemon" -f "$@" "$mnt" 2>/dev/null &
	pid=$!
	for _ in $(seq 50); do [ -e "$mnt/cpuacct.usage" ] && break; sleep 0.1; done
	sleep 0.5
	local c0 t0
	c0=$(cpu_ms "$pid") t0=$(date +%s%N)
	row "cpuacctfs $*"
	awk -v c="$(($(cpu_ms "$pid" | cut -d. -f1) - ${c0%.*}))" \
		-v t="$((($(date +%s%N) - t0) / 1000000))" \
		'BEGIN { printf "   %6d ms (%.1f%%)\n", c, 100 * c / t }'
	fusermount3 -u "$mnt"
	wait "$pid"
	pid=
}

echo "== observer cost: what the daemon adds to the measured workloads (best of 3, CPU 0) =="
printf '%-42s %10s %12s %12s   %s\n' "" "clock_ns" "pingpong_us" \
	"forkexit_us" "daemon CPU meanwhile"
row "no daemon"
echo
with_daemon
with_daemon --no-taskstats
with_daemon --no-tracepoint --no-taskstats
