#!/bin/bash
# What the daemon costs, for each backend (bpf, tracepoint, clock) in the
# same run: the issue 10 figures.
#   - tests/bench/observer (CPU clock reads, pipe ping-pong, fork/exit/wait,
#     pinned to CPU 0) with the daemon, as a ratio to no daemon (best of 3);
#   - the daemon's CPU while those run;
#   - the daemon's CPU idle with 1,000 empty groups, and with 10,000
#     sleeping processes spread over 100 groups.
# Daemon CPU is the sum of its threads' runtimes (/proc/PID/task/*/schedstat,
# ns) over wall time. A backend that does not load here gets a row saying
# why. Prints, never asserts.
# usage: observer.sh DAEMON OBSERVER
# BENCH_QUICK=1: one run per row, 2 s idle windows and 2,000 sleeping
# processes (CI's smoke test, a minute);
# OBSERVER_BACKENDS="bpf tracepoint clock" picks the backends.
set -u
daemon=${1:?usage: $0 DAEMON OBSERVER} observer=${2:?usage: $0 DAEMON OBSERVER}
backends=${OBSERVER_BACKENDS:-bpf tracepoint clock}
runs=3 idle=5 ngroups=1000 ntasks=10000 taskgroups=100
[ "${BENCH_QUICK:-0}" = 1 ] && runs=1 idle=2 ntasks=2000
mnt=$(mktemp -d /tmp/cpuacctfs-observer.XXXXXX)
log=$(mktemp /tmp/cpuacctfs-observer-log.XXXXXX)
pid=
sleepers=
cleanup() {
	[ -n "$sleepers" ] && kill "$sleepers" 2>/dev/null
	[ -n "$pid" ] && mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	rmdir "$mnt"
	rm -f "$log"
}
trap cleanup EXIT

# best KEY: the lowest of the KEY lines in $runs_out
best() {
	awk -v k="$1" '$1 == k && (m == "" || $2 < m) { m = $2 } END { print m }' \
		<<<"$runs_out"
}

# measure: run the observer $runs times on CPU 0; sets CLOCK, PING, FORK
measure() {
	local runs_out

	runs_out=$(for ((i = 0; i < runs; i++)); do taskset -c 0 "$observer"; done)
	CLOCK=$(best clock_ns) PING=$(best pingpong_us) FORK=$(best forkexit_us)
}

# cpu_ns PID: CPU time of PID's live threads, in ns
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
		awk '{ s += $1 } END { printf "%.0f\n", s }'
}

now_ns() { date +%s%N; }

# pct C0 T0: the daemon's CPU since (C0, T0) as % of one CPU
pct() {
	awk -v c="$(($(cpu_ns "$pid") - $1))" -v t="$(($(now_ns) - $2))" \
		'BEGIN { printf "%.2f%%", 100 * c / t }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

# idle_pct: the daemon's CPU over $idle s of nothing
idle_pct() {
	local c0 t0

	sleep 1 # what a change set off has settled
	c0=$(cpu_ns "$pid") t0=$(now_ns)
	sleep "$idle"
	pct "$c0" "$t0"
}

# start BACKEND: mount the daemon with that backend; false (and the
# reason in WHY) when it does not run it
start() {
	local b
	# --no-restart: the pid measured is the one that serves (the holder
	# only sleeps)
	"$daemon" -f --no-restart --backend="$1" "$mnt" >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ -e "$mnt/cpuacct.usage" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	b=$(sed -n 's/.*counting with the \([a-z]*\) backend.*/\1/p' "$log" |
		head -n 1)
	if [ -e "$mnt/cpuacct.usage" ] && [ "$b" = "$1" ]; then
		return 0
	fi
	WHY=$(grep -v '^$' "$log" | tail -n 1)
	stop
	return 1
}

stop() {
	mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	wait "$pid" 2>/dev/null
	pid=
}

# tasks_pct: $ntasks sleeping processes in $taskgroups groups, idle; sets
# TASKS
tasks_pct() {
	local i=0 p
	coproc SLEEP { "$observer" sleepers "$ntasks"; }
	sleepers=$SLEEP_PID
	mkdir $(seq -f "$mnt/t%g" 1 "$taskgroups")
	while read -r p <&"${SLEEP[0]}"; do
		echo "$p" >"$mnt/t$((i % taskgroups + 1))/cgroup.procs" 2>/dev/null
		i=$((i + 1))
		((i == ntasks)) && break
	done
	TASKS=$(idle_pct)
	[ "$i" -lt "$ntasks" ] && TASKS="$TASKS (only $i tasks)"
	eval "exec ${SLEEP[1]}>&-"
	wait "$sleepers" 2>/dev/null
	sleepers=
}

# prog_stats: "name run_time_ns run_cnt" of each of our programs
prog_stats() {
	bpftool prog show 2>/dev/null |
		awk '/ name on_/ { t = 0; c = 0; for (i = 1; i < NF; i++) {
			if ($i == "name") n = $(i + 1)
			if ($i == "run_time_ns") t = $(i + 1)
			if ($i == "run_cnt") c = $(i + 1) }
			print n, t + 0, c + 0 }'
}

# bpf_cost: the in-kernel programs' own time per call over one more run
# of the workloads (kernel.bpf_stats_enabled, which adds two clock reads
# per call, so not during the runs above)
bpf_cost() {
	local was a b

	command -v bpftool >/dev/null || { echo "(no bpftool: no per-call cost)"; return; }
	was=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) || return
	sysctl -qw kernel.bpf_stats_enabled=1
	a=$(prog_stats)
	taskset -c 0 "$observer" >/dev/null
	b=$(prog_stats)
	sysctl -qw kernel.bpf_stats_enabled="$was"
	join <(sort <<<"$a") <(sort <<<"$b") | awk '$5 > $3 {
		printf "  %-12s %8d calls %6.0f ns each\n", $1, $5 - $3,
			($4 - $2) / ($5 - $3) }'
}

row() {
	printf '%-11s %9s %9s %9s %12s %13s %13s\n' "$@"
}

echo "== observer cost by backend: the workloads with the daemon against" \
	"without (best of $runs, CPU 0), and the daemon's CPU =="
measure
printf '%-11s %9s %9s %9s\n' "" clock_ns pingpong forkexit
printf '%-11s %9s %9s %9s\n' "no daemon" "$CLOCK" "${PING}us" "${FORK}us"
none_clock=$CLOCK none_ping=$PING none_fork=$FORK
echo
row backend clock ping-pong fork+exit "daemon busy" "idle ${ngroups}g" \
	"idle ${ntasks}t"
for b in $backends; do
	if ! start "$b"; then
		echo "$b: not available here: ${WHY:-no log}"
		continue
	fi
	sleep 0.5
	c0=$(cpu_ns "$pid") t0=$(now_ns)
	measure
	busy=$(pct "$c0" "$t0")
	mkdir $(seq -f "$mnt/g%g" 1 "$ngroups")
	groups=$(idle_pct)
	rmdir $(seq -f "$mnt/g%g" 1 "$ngroups")
	tasks_pct
	row "$b" "$(ratio "$CLOCK" "$none_clock")" "$(ratio "$PING" "$none_ping")" \
		"$(ratio "$FORK" "$none_fork")" "$busy" "$groups" "$TASKS"
	[ "$b" = bpf ] && BPF_COST=$(bpf_cost)
	stop
done
row goal "<=1.05x" "<=1.05x" "<=1.05x" "<=0.5%" "<=0.2%" "<=0.2%"
if [ -n "${BPF_COST:-}" ]; then
	echo "bpf programs, time per call over one more run of the workloads:"
	echo "$BPF_COST"
fi
