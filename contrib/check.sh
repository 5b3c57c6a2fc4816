#!/bin/bash
# Install the dependencies, build, and run every test cpuacctfs has:
# unit tests (plain, ASan/UBSan, valgrind), the integration suite against
# the kernel's cpuacct (plain and ASan daemons), the daemon under
# valgrind, the accuracy harness, a quick benchmark run and distcheck.
# Every test prints "ok"/"not ok" lines; the last line counts them all.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=${CHECK_DIR:-$(mktemp -d /tmp/cpuacctfs-check.XXXXXX)}
mkdir -p "$work"
results="$work/results.tap"
: >"$results"
export top work

tap() { echo "$1" | tee -a "$results"; }
# stage NAME TIMEOUT CMD...: run CMD, keep its ok/not ok lines.
stage() {
	local name=$1 limit=$2 log="$work/$1.log" rc
	shift 2
	echo "== $name"
	# a fresh bash, so that a stage can be one of the functions below
	timeout --kill-after=30 "$limit" bash -c '"$@"' stage "$@" >"$log" 2>&1
	rc=$?
	grep -E '^(not )?ok ' "$log" | tee -a "$results"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		tap "not ok - $name: exited with status $rc"
		tail -n 30 "$log" | sed 's/^/# /'
	fi
	return 0
}

# Check's verbose lines ("file:line:P:case:test:0: Passed") as TAP.
unit_tap() {
	local label=$1 bin out rc
	shift
	for bin in "$@"; do
		out=$(CK_VERBOSITY=verbose "$bin" 2>&1)
		rc=$?
		sed -n -e "s/^[^:]*:[0-9]*:P:\([^:]*\):\([^:]*\):.*/ok - $label: \1 \2/p" \
		       -e "s/^[^:]*:[0-9]*:[FE]:\([^:]*\):\([^:]*\):[0-9]*: \(.*\)/not ok - $label: \1 \2: \3/p" \
			<<<"$out"
		# a crash before Check could report still fails
		if [ "$rc" -ne 0 ] && ! grep -qE ':[FE]:' <<<"$out"; then
			echo "not ok - $label: $(basename "$bin") exited with status $rc"
			tail -n 20 <<<"$out" | sed 's/^/# /'
		fi
	done
}

unit_valgrind() {
	local bin log
	for bin in "$@"; do
		log="$work/vg-$(basename "$bin").log"
		if CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$bin" >"$log" 2>&1; then
			echo "ok - valgrind: $(basename "$bin")"
		else
			echo "not ok - valgrind: $(basename "$bin")"
			sed 's/^/# /' "$log" | tail -n 40
		fi
	done
}

build() {
	local dir=$1
	shift
	mkdir -p "$dir" && cd "$dir" &&
		"$top/configure" -q "$@" && make -j"$(nproc)" all &&
		make -j"$(nproc)" check TESTS= &&
		echo "ok - build: $(basename "$dir")"
}

# Mounts a failed test left behind: only the tests' own (/tmp/cpuacctfs-*),
# never a cpuacctfs someone runs on this machine.
cleanup_leftovers() {
	awk '$3 == "fuse.cpuacctfs" && $2 ~ "^/tmp/cpuacctfs-" {print $2}' \
		/proc/mounts | while read -r m; do fusermount3 -uz "$m"; done
}

# README's first command, daemonized as a person would run it: the demo
# group's cpuacct.usage must show the 2 s burn (at least 0.5 s of it).
demo() {
	local mnt=/tmp/cpuacctfs-demo out usage rc
	out=$(MOUNTPOINT=$mnt BUILD_DIR=$1 bash "$top/contrib/demo.sh" 2>&1)
	rc=$?
	usage=$(awk 'f { print; exit } /demo\/cpuacct.usage$/ { f = 1 }' <<<"$out")
	fusermount3 -u "$mnt" 2>/dev/null
	if [ "$rc" -eq 0 ] && [ "${usage:-0}" -ge 500000000 ]; then
		echo "ok - demo: contrib/demo.sh mounts a daemonized cpuacctfs, usage $usage"
	else
		echo "not ok - demo: contrib/demo.sh (status $rc, usage '$usage')"
		tail -n 20 <<<"$out" | sed 's/^/# /'
	fi
}

export -f unit_tap unit_valgrind build demo

units() {
	find "$1/tests/unit" -maxdepth 1 -type f -name 'test_*' -perm -u+x | sort
}

sh "$top/contrib/deps.sh" || tap "not ok - deps: apt-get install failed"
(cd "$top" && autoreconf -fi >"$work/autoreconf.log" 2>&1) ||
	tap "not ok - autoreconf"

plain="$work/build"
asan="$work/build-asan"
stage build 900 build "$plain" CFLAGS="-O2 -g"
stage build-asan 900 build "$asan" CFLAGS="-O1 -g -fno-omit-frame-pointer \
-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	LDFLAGS="-fsanitize=address,undefined"

# shellcheck disable=SC2046
stage unit 300 unit_tap unit $(units "$plain")
# shellcheck disable=SC2046
stage unit-asan 600 env ASAN_OPTIONS=detect_leaks=1 \
	bash -c 'unit_tap "$@"' unit_tap unit-asan $(units "$asan")
# shellcheck disable=SC2046
stage unit-valgrind 900 unit_valgrind $(units "$plain")

stage demo 600 demo "$plain"
cleanup_leftovers
stage signals 300 bash "$top/tests/integration/signals.sh" "$plain/src/cpuacctfs"
cleanup_leftovers
# which backend counts, fallbacks without BTF or bpf(2), --backend=bpf refused
stage backends 300 bash "$top/tests/integration/backends.sh" "$plain/src/cpuacctfs"
cleanup_leftovers
# the default backend (bpf where it loads), then each fallback
stage integration 900 bash "$top/tests/integration/run.sh" \
	"$plain/src/cpuacctfs"
cleanup_leftovers
stage integration-tracepoint 900 env IT_LABEL=integration-tracepoint \
	IT_DAEMON_ARGS=--backend=tracepoint \
	bash "$top/tests/integration/run.sh" "$plain/src/cpuacctfs"
cleanup_leftovers
# where no tracepoint and no taskstats are (containers): time from process
# clocks, cpuacct.stat split by samples
stage integration-clocks 900 env IT_LABEL=integration-clocks \
	IT_DAEMON_ARGS="--backend=clock --no-taskstats" \
	bash "$top/tests/integration/run.sh" "$plain/src/cpuacctfs"
cleanup_leftovers
stage integration-asan 900 env IT_LABEL=integration-asan \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	bash "$top/tests/integration/run.sh" "$asan/src/cpuacctfs"
cleanup_leftovers
stage memcheck 900 bash "$top/tests/integration/memcheck.sh" \
	"$plain/src/cpuacctfs"
cleanup_leftovers
# crashes, reloads, a damaged state: 30 SIGKILLs with the default backend,
# fewer with each fallback and under the sanitizers
stage restart 600 bash "$top/tests/integration/restart.sh" \
	"$plain/src/cpuacctfs"
grep -E '^# (pause|busy)' "$work/restart.log" || true
cleanup_leftovers
for b in tracepoint clock; do
	stage "restart-$b" 300 env RESTART_KILLS=8 \
		bash "$top/tests/integration/restart.sh" "$plain/src/cpuacctfs" \
		--backend=$b
	grep -E '^# (pause|busy)' "$work/restart-$b.log" || true
	cleanup_leftovers
done
stage restart-asan 300 env RESTART_KILLS=5 RESTART_MAX_PAUSE_MS=5000 \
	RESTART_MAX_RELOAD_MS=3000 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	bash "$top/tests/integration/restart.sh" "$asan/src/cpuacctfs"
cleanup_leftovers
stage containers 600 bash "$top/tests/containers/run.sh" \
	"$plain/src/cpuacctfs"
cleanup_leftovers
stage containers-podman 300 bash "$top/tests/containers/engine.sh" podman \
	"$plain/src/cpuacctfs"
cleanup_leftovers
stage containers-docker 300 bash "$top/tests/containers/engine.sh" docker \
	"$plain/src/cpuacctfs"
cleanup_leftovers
# netdata's cgroups plugin charting a group of the mount
stage netdata 300 bash "$top/tests/integration/netdata.sh" "$plain/src/cpuacctfs"
cleanup_leftovers
# the gate under the in-kernel backend (exact targets) and the tracepoint
# one (the 0.5 % targets, dropped records recovered)
for b in bpf tracepoint; do
	stage "accuracy-$b" 1200 env ACC_LABEL="accuracy-$b" ACC_BACKEND=$b \
		ACC_DAEMON_ARGS="--backend=$b" bash "$top/tests/accuracy/gate.sh" \
		"$plain/src/cpuacctfs" "$plain/tests/accuracy/burn"
	# the measured deviations, live lag and the kernel's own spread
	grep -E '^# (attempt [0-9]: ([a-z]+ +(cpuacct|live)|workload|backend|staleness|overload)|kernel against|  )' \
		"$work/accuracy-$b.log" || true
	cleanup_leftovers
done
# the workloads again while the server is SIGKILLed every 2 s (issue 11)
stage accuracy-kills 1200 env ACC_LABEL=accuracy-kills ACC_BACKEND=bpf \
	ACC_KILLS=30 ACC_KILL_EVERY=2 bash "$top/tests/accuracy/gate.sh" "$plain/src/cpuacctfs" \
	"$plain/tests/accuracy/burn"
grep -E '^# attempt [0-9]: (killer|[a-z]+ +cpuacct.usage )' \
	"$work/accuracy-kills.log" || true
cleanup_leftovers
stage bench 600 sh -c "BENCH_QUICK=1 bash '$top/tests/bench/run.sh' \
	'$plain/src/cpuacctfs' '$plain/tests/bench/readbench' && \
	BENCH_QUICK=1 bash '$top/tests/bench/observer.sh' '$plain/src/cpuacctfs' \
		'$plain/tests/bench/observer' && \
	bash '$top/tests/bench/history.sh' '$plain/tests/bench/histbench' 100 && \
	BENCH_QUICK=1 bash '$top/tests/bench/fresh.sh' '$plain/src/cpuacctfs' \
		'$plain/tests/bench/readbench' && \
	! grep -q ' /tmp/cpuacctfs-[^ ]* fuse.cpuacctfs ' /proc/mounts && \
	echo 'ok - bench: the harness ran against the kernel and cleaned up'"
cleanup_leftovers
stage distcheck 1200 sh -c "cd '$plain' && make -j$(nproc) distcheck \
	DISTCHECK_CONFIGURE_FLAGS= >/dev/null && echo 'ok - distcheck'"

passed=$(grep -E '^ok ' "$results" | grep -vc '# SKIP')
skipped=$(grep -E '^ok ' "$results" | grep -c '# SKIP')
failed=$(grep -cE '^not ok ' "$results")
echo "logs: $work"
echo "$skipped skipped (not counted below: they did not run)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
