#!/bin/bash
# What fresh reads cost: read latency of one group's cpuacct.usage, with
# and without tasks exiting on the host, for each backend, against the
# kernel's cgroupfs in the same run. With tracepoint and clock a read
# that follows an exit runs a pass first (sampler_counters_snapshot);
# with bpf a read adds the kernel's counters and never waits.
# usage: fresh.sh DAEMON READBENCH   (BENCH_QUICK=1: 1 s per row)
set -u
daemon=${1:?usage: $0 DAEMON READBENCH} readbench=${2:?usage: $0 DAEMON READBENCH}
secs=3
[ -n "${BENCH_QUICK:-}" ] && secs=1
K=/sys/fs/cgroup/cpuacct
mnt=$(mktemp -d /tmp/cpuacctfs-fresh.XXXXXX)
kg=$K/fresh$$
churn_pid=
cleanup() {
	[ -n "$churn_pid" ] && kill "$churn_pid" 2>/dev/null
	fusermount3 -u "$mnt" 2>/dev/null
	rmdir "$mnt" "$kg" 2>/dev/null
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && [ -e $K/cpuacct.usage ] || {
	echo "# fresh reads: SKIP (needs root, /dev/fuse and $K)"
	exit 0
}
mkdir "$kg"

# churn: about a thousand short processes a second, in the root
churn() {
	while :; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done
		sleep 0.01
	done
}

lat() { # lat FILE: p50/p99/max in us
	"$readbench" -l -t 1 -s "$secs" "$1" |
		awk '/^latency_us/ { print $3 "/" $5 "/" $7 }'
}

row() { # row LABEL FILE
	local quiet busy
	quiet=$(lat "$2")
	churn &
	churn_pid=$!
	sleep 0.2
	busy=$(lat "$2")
	kill "$churn_pid"
	wait "$churn_pid" 2>/dev/null
	churn_pid=
	printf '%-12s %-20s %-20s\n' "$1" "$quiet" "$busy"
}

echo "== fresh reads: cpuacct.usage read latency in us (p50/p99/max, 1 thread, ${secs} s)"
printf '%-12s %-20s %-20s\n' backend "no exits" "~1,000 exits/s"
row kernel "$kg/cpuacct.usage"
for b in bpf tracepoint clock; do
	if [ $b = bpf ] && ! "$daemon" -V | grep -qw bpf; then
		echo "$b          (not built)"
		continue
	fi
	"$daemon" --backend=$b "$mnt" 2>/dev/null || {
		echo "$b          (cannot start)"
		continue
	}
	for _ in $(seq 50); do [ -e "$mnt/cpuacct.usage" ] && break; sleep 0.1; done
	mkdir "$mnt/g"
	echo $$ >"$mnt/g/cgroup.procs"
	row "$b" "$mnt/g/cpuacct.usage"
	echo $$ >"$mnt/cgroup.procs"
	# the churn's last children may still be on their way out
	for _ in $(seq 50); do rmdir "$mnt/g" 2>/dev/null && break; sleep 0.1; done
	fusermount3 -u "$mnt"
	sleep 0.3
done
