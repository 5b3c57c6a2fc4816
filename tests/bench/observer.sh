#!/bin/bash
# What the daemon costs the workloads it measures: tests/bench/observer
# (CPU clock reads and pipe ping-pong, both pinned to one CPU) with no
# daemon, with the default daemon (sched_stat_runtime records) and with
# --no-tracepoint (process clocks). Best of 3 each; prints, never asserts.
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

# best KEY: the lowest of 3 runs of the observer's KEY line
best() {
	for _ in 1 2 3; do taskset -c 0 "$observer"; done |
		awk -v k="$1" '$1 == k && (m == "" || $2 < m) { m = $2 } END { print m }'
}

row() {
	printf '%-34s %12s %14s\n' "$1" "$(best clock_ns)" "$(best pingpong_us)"
}

with_daemon() {
	"$daemon" -f "$@" "$mnt" 2>/dev/null &
	pid=$!
	for _ in $(seq 50); do [ -e "$mnt/cpuacct.usage" ] && break; sleep 0.1; done
	sleep 0.5
	row "cpuacctfs $*"
	fusermount3 -u "$mnt"
	wait "$pid"
	pid=
}

echo "== observer cost: what the daemon adds to the measured workloads (best of 3, CPU 0) =="
printf '%-34s %12s %14s\n' "" "clock_ns" "pingpong_us"
row "no daemon"
with_daemon
with_daemon --no-tracepoint
