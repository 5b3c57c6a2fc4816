#!/bin/bash
# cpuacctctl against the mounted daemon: history and top of a busy loop,
# exec and move (checked in tasks), refusals and errors, metrics, and the
# interactive top driven in tmux.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CTL=${IT_CTL:-}

ctl() { "$CTL" -m "$SROOT" "$@"; }

# cpu_ns PID: the CPU time the kernel charged PID so far (schedstat).
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

# in_range LO HI VALUE: LO <= VALUE <= HI (decimals allowed).
in_range() { awk -v lo="$1" -v hi="$2" -v v="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

# start_busy VAR GROUP_DIR: a 1-CPU busy loop inside the group.
start_busy() {
	start_in "$1" "$2" sh -c 'while :; do :; done'
}

# kernel_seconds PID N: at N+1 whole wall seconds, "SECOND CPU_NS" of PID
# (each a few ms after the second begins, as history's rows end there).
kernel_seconds() {
	local i now
	for ((i = 0; i <= $2; i++)); do
		now=$(date +%s%N)
		sleep "$(awk -v n="${now: -9}" 'BEGIN { printf "%.3f", (1e9 - n) / 1e9 }')"
		echo "$(date +%s) $(cpu_ns "$1")"
	done
}

# kernel_every PID N SECONDS: N+1 samples "NS CPU_NS" of PID, SECONDS apart.
kernel_every() {
	local i
	for ((i = 0; i <= $2; i++)); do
		((i)) && sleep "$3"
		echo "$(date +%s%N) $(cpu_ns "$1")"
	done
}

# expect_pct WHAT GOT KERNEL: GOT within 10 points of what the kernel
# measured over the same second, and 100 +-10 whenever the kernel gave the
# loop 90 % of a CPU or more (on a machine that others keep busy it gets
# less, and so must the history).
expect_pct() {
	in_range "$(awk -v k="$3" 'BEGIN { print k - 10 }')" \
		"$(awk -v k="$3" 'BEGIN { print k + 10 }')" "$2" ||
		fail "$1: $2 %, the kernel says $3 %"
	if in_range 90 1000 "$3"; then
		in_range 90 110 "$2" || fail "$1: $2 %, expected 90..110 (kernel: $3 %)"
	else
		diag "$1: the loop got $3 % of a CPU from the kernel (machine busy)"
	fi
}

test_status() {
	local out
	out=$(ctl status) || fail "status failed"
	grep -qE '^backend +(tracepoint|clock|bpf)$' <<<"$out" || fail "no backend in: $out"
	grep -qE '^interval +[0-9]+ ms$' <<<"$out" || fail "no interval in: $out"
	grep -qE '^lag +[0-9.]+ ms now; last minute: mean [0-9.]+ ms, max [0-9.]+ ms$' <<<"$out" ||
		fail "no lag in: $out"
	grep -qE '^groups +[0-9]+$' <<<"$out" || fail "no group count in: $out"
}

test_history_busy() {
	local S pid out rows line pct t sec k n=0
	S=$(sgroup) || exit 1
	start_busy pid "$S"
	wait_until 5 grep -qx "$pid" "$S/tasks" || fail "the loop is not in the group"
	kernel_seconds "$pid" 4 >"$IT_TMP/k" # the group older than --since 4s
	out=$(ctl history "${S##*/}" --since 4s --step 1s --csv) || {
		fail "history failed"
		return
	}
	diag "$out"
	diag "kernel: $(tr '\n' ' ' <"$IT_TMP/k")"
	rows=$(tail -n +2 <<<"$out" | wc -l)
	[[ $rows -ge 3 ]] || fail "expected at least 3 rows of 1 s, got $rows"
	while IFS=, read -r t _ pct _ _; do
		sec=$(date -d "$t" +%s)
		k=$(awk -v s="$sec" '$1 == s - 1 { a = $2 } $1 == s { b = $2 }
			END { if (a != "" && b != "") printf "%.1f", (b - a) / 1e7 }' "$IT_TMP/k")
		[[ -n $k ]] || continue
		n=$((n + 1))
		expect_pct "history row $t" "$pct" "$k"
	done < <(tail -n +2 <<<"$out")
	[[ $n -ge 2 ]] || fail "only $n rows had kernel seconds to compare with"
	[[ $(head -1 <<<"$out") == "time,usage_ns,cpu_pct,user_pct,sys_pct" ]] ||
		fail "csv header: $(head -1 <<<"$out")"
	line=$(ctl history "${S##*/}" --since 2s --json | tail -1)
	[[ $line =~ ^\{\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\",\"usage_ns\":[0-9]+,\"cpu_pct\":[0-9.]+,\"user_pct\":[0-9.]+,\"sys_pct\":[0-9.]+\}$ ]] ||
		fail "json row: $line"
}

test_top_busy() {
	local S name pid out pct k n=0
	S=$(sgroup) || exit 1
	name=${S##*/}
	start_busy pid "$S"
	wait_until 5 grep -qx "$pid" "$S/tasks" || fail "the loop is not in the group"
	# the kernel's view of each frame, sampled alongside
	out=$(ctl top -b -n 2 -d 1 & kernel_every "$pid" 2 1 >"$IT_TMP/k"; wait) ||
		fail "top failed"
	diag "$out"
	grep -qE '^cpuacctctl top - .*backend [a-z]+ +interval [0-9]+ ms +lag [0-9]+ ms' <<<"$out" ||
		fail "no header"
	grep -qE '^GROUP +TASKS +%CPU +%USER +%SYS +CPU0' <<<"$out" || fail "no column titles"
	while read -r _ _ pct _; do
		n=$((n + 1))
		k=$(awk -v i="$n" 'NR == i { a = $2; ta = $1 } NR == i + 1 { b = $2; tb = $1 }
			END { printf "%.1f", (b - a) * 100 / (tb - ta) }' "$IT_TMP/k")
		expect_pct "top frame $n" "$pct" "$k"
	done < <(grep -E "^$name " <<<"$out")
	[[ $n == 2 ]] || fail "expected the group in 2 frames, saw $n"
}

# echo 0 > cpuacct.usage while a loop runs: history marks the step,
# usage starts again near 0, and no step is negative or doubled.
test_history_reset() {
	local S pid out before after
	S=$(sgroup) || exit 1
	start_busy pid "$S"
	wait_until 5 grep -qx "$pid" "$S/tasks" || fail "the loop is not in the group"
	sleep 3.5 # history long enough for a row before the reset
	echo 0 >"$S/cpuacct.usage" || fail "reset failed"
	sleep 2.2
	out=$(ctl history "${S##*/}" --since 5s --json) || {
		fail "history failed"
		return
	}
	diag "$out"
	[[ $(grep -c '"reset":true' <<<"$out") == 1 ]] || fail "expected one reset row"
	before=$(grep -B1 '"reset":true' <<<"$out" | head -1 | sed -E 's/.*"usage_ns":([0-9]+).*/\1/')
	after=$(grep '"reset":true' <<<"$out" | sed -E 's/.*"usage_ns":([0-9]+).*/\1/')
	[[ $after -lt 1100000000 && $after -lt $before ]] ||
		fail "usage after the reset $after, before $before"
	sed -E 's/.*"cpu_pct":([0-9.-]+).*/\1/' <<<"$out" | while read -r pct; do
		in_range 0 110 "$pct" || echo "bad $pct"
	done | grep -q bad && fail "a step outside 0..110 %"
	ctl history "${S##*/}" --since 5s | grep -qE ' reset$' || fail "no reset in the table"
	true
}

test_exec() {
	local S pid i
	S=$(sgroup) || exit 1
	"$CTL" -m "$SROOT" exec "${S##*/}" -- sleep 30 &
	pid=$!
	register pid "$pid"
	for ((i = 0; i < 50; i++)); do
		[[ $(readlink "/proc/$pid/exe") == */sleep ]] && break
		sleep 0.05
	done
	check_eq "exec: tasks of the group" "$pid" "$(cat "$S/tasks")"
	check_eq "exec: cgroup.procs of the group" "$pid" "$(cat "$S/cgroup.procs")"
	grep -qx "$pid" "$SROOT/tasks" && fail "exec: $pid still in the root"
	out=$("$CTL" -m "$SROOT" exec "${S##*/}" -- /nonexistent 2>&1)
	check_eq "exec of a missing command: status" 127 "$?"
	: "$out"
}

test_move() {
	local S a b want got out rc
	S=$(sgroup) || exit 1
	start a sleep 30
	start b sh -c 'sleep 30 & sleep 30; wait'
	wait_until 5 test -n "$(pgrep -P "$b")" || true
	ctl move "${S##*/}" "$a" "$b" || fail "move failed"
	want=$( (tids_of "$a"; tids_of "$b") | sort -n)
	got=$(sort -n "$S/tasks")
	check_eq "move: tasks" "$want" "$got"
	check_eq "move: cgroup.procs" "$(printf '%s\n' "$a" "$b" | sort -n)" "$(cat "$S/cgroup.procs")"
	out=$(ctl move "${S##*/}" 999999999 2>&1)
	rc=$?
	[[ $rc != 0 && $out == *"999999999"*"no such process"* ]] ||
		fail "move of a missing pid: rc $rc, '$out'"
}

is_sleep() { [[ $(cat "/proc/$1/comm" 2>/dev/null) == sleep ]]; }

# adopt: a process that burned in the root moves with what it ran (its
# CPU clock, all of it: nothing of its creators, who live), and the root,
# which counted it already, does not count it again.
test_adopt() {
	local S p past got r0 r1 t0 t1 ncpu out
	S=$(sgroup) || exit 1
	# shellcheck disable=SC2016 # the inner shell's
	start p sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; exec sleep 30'
	wait_until 10 is_sleep "$p" ||
		{ fail "the burner did not finish"; return; }
	past=$(cpu_ns "$p")
	ncpu=$(nproc)
	t0=$(date +%s%N) r0=$(cat "$SROOT/cpuacct.usage")
	out=$(ctl adopt "${S##*/}" "$p") || fail "adopt failed: $out"
	r1=$(cat "$SROOT/cpuacct.usage") t1=$(date +%s%N)
	got=$(cat "$S/cpuacct.usage")
	diag "adopt: '$out'; group $got ns, the process's clock $past ns; root +$((r1 - r0)) ns in $((t1 - t0)) ns"
	check_eq "adopt: the group's usage is the process's past" "$past" "$got"
	check_eq "adopt: cgroup.procs" "$p" "$(cat "$S/cgroup.procs")"
	((r1 - r0 <= (t1 - t0) * ncpu)) ||
		fail "the root grew by $((r1 - r0)) ns in $((t1 - t0)) ns on $ncpu CPUs: counted twice"
	expect_error "adopt: no such process" "cannot adopt 999999999 into ${S##*/}: No such process" \
		ctl adopt "${S##*/}" 999999999
	expect_error "adopt: no such group" "cannot adopt $p into it_nope: No such file or directory" \
		ctl adopt it_nope "$p"
	expect_error "adopt: the root" "the root holds every process already" ctl adopt / "$p"
}

test_nonroot() {
	local out rc
	out=$("${NOBODY[@]}" "$CTL" -m "$SROOT" status 2>&1)
	rc=$?
	[[ $rc != 0 ]] || fail "status as nobody succeeded"
	[[ $(wc -l <<<"$out") == 1 && $out == *"permission denied"*"root"* ]] ||
		fail "as nobody: '$out'"
	out=$("${NOBODY[@]}" "$CTL" -m "$SROOT" history / 2>&1)
	[[ $? != 0 && $out == *"permission denied"* ]] || fail "history as nobody: '$out'"
}

# A second daemon with --ctl-group: its members may ask (primary or
# supplementary group), others are stopped by the socket's mode, and the
# daemon itself refuses them (SO_PEERCRED) when that mode is loosened.
test_ctl_group() {
	local m2 pid out i
	m2=$(mktemp -d /tmp/cpuacctfs-mnt.XXXXXX)
	# shellcheck disable=SC2064 # expand now: this daemon's mount
	trap "fusermount3 -u '$m2' 2>/dev/null; rmdir '$m2'; it_cleanup" EXIT
	"$(dirname "$CTL")/cpuacctfs" -f --ctl-group=65534 "$m2" 2>"$IT_TMP/d2.log" &
	pid=$!
	register pid "$pid"
	for ((i = 0; i < 100; i++)); do
		[[ -S $m2.ctl ]] && break
		sleep 0.05
	done
	check_eq "socket mode and group" "srw-rw---- nogroup" \
		"$(stat -c '%A %G' "$m2.ctl" 2>&1)"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -m "$m2" status 2>&1) ||
		fail "member (primary group) refused: $out"
	out=$(setpriv --reuid=65533 --regid=65533 --groups=65534 "$CTL" -m "$m2" status 2>&1) ||
		fail "member (supplementary group) refused: $out"
	out=$(setpriv --reuid=65533 --regid=65533 --clear-groups "$CTL" -m "$m2" status 2>&1) &&
		fail "non-member allowed"
	[[ $out == *"permission denied"* ]] || fail "non-member: '$out'"
	chmod 0666 "$m2.ctl"
	out=$(setpriv --reuid=65533 --regid=65533 --clear-groups "$CTL" -m "$m2" status 2>&1) &&
		fail "non-member allowed through a loosened socket"
	[[ $out == "cpuacctctl: permission denied: only root may ask cpuacctfs or members of its --ctl-group" ]] ||
		fail "the daemon's refusal: '$out'"
	fusermount3 -u "$m2"
	wait "$pid"
	[[ -e $m2.ctl ]] && fail "the socket outlived its daemon"
	true
}

# one line on stderr, nonzero status, nothing on stdout
expect_error() {
	local what=$1 pattern=$2 rc
	shift 2
	"$@" >"$IT_TMP/out" 2>"$IT_TMP/err"
	rc=$?
	[[ $rc != 0 ]] || fail "$what: status 0"
	[[ -s $IT_TMP/out ]] && fail "$what: stdout: $(cat "$IT_TMP/out")"
	[[ $(wc -l <"$IT_TMP/err") == 1 ]] || fail "$what: stderr not one line: $(cat "$IT_TMP/err")"
	grep -qE -- "$pattern" "$IT_TMP/err" || fail "$what: stderr: $(cat "$IT_TMP/err")"
}

test_errors() {
	local empty
	empty=$(mktemp -d "$IT_TMP/nomount.XXXXXX")
	expect_error "no daemon" "no cpuacctfs daemon at $empty" "$CTL" -m "$empty" status
	expect_error "no daemon (move)" "no cpuacctfs daemon at $empty" "$CTL" -m "$empty" move x 1
	expect_error "no group (history)" "no group it_nope at" ctl history it_nope
	expect_error "no group (ls)" "no group it_nope at" ctl ls it_nope
	expect_error "no group (exec)" "no group it_nope at" ctl exec it_nope -- true
	expect_error "bad duration" "--step 5x: not a duration" ctl history / --step 5x
	expect_error "bad time" "--since yesterday: not an RFC 3339 time" ctl history / --since yesterday
	expect_error "too old" "history of / goes back to .* ago\\): use a later --since" \
		ctl history / --since 30d --step 1m
	expect_error "unknown command" "frob: no such command" ctl frob
}

test_ls_and_metrics() {
	local S pid out line
	S=$(sgroup) || exit 1
	start_in pid "$S" sleep 30
	wait_until 5 grep -qx "$pid" "$S/tasks" || fail "sleep is not in the group"
	out=$(ctl ls) || fail "ls failed"
	line=$(grep -E "${S##*/} " <<<"$out")
	[[ $line =~ ^[^[:alnum:]]*${S##*/}\ +1\ +[0-9.]+\ +([0-9.]+|-)$ ]] || fail "ls line: '$line' in: $out"
	out=$(ctl metrics) || fail "metrics failed"
	grep -q "^# TYPE cpuacct_usage_seconds_total counter$" <<<"$out" || fail "no TYPE line"
	grep -q "^# HELP cpuacct_usage_seconds_total " <<<"$out" || fail "no HELP line"
	grep -qE "^cpuacct_usage_seconds_total\\{group=\"${S##*/}\",cpu=\"0\",mode=\"user\"\\} [0-9]+\\.[0-9]{9}$" <<<"$out" ||
		fail "no user sample of the group"
	grep -qE "^cpuacct_tasks\\{group=\"${S##*/}\"\\} 1$" <<<"$out" || fail "no tasks gauge 1"
	# every sample line: name{labels} value
	grep -vE '^(# (HELP|TYPE) .*|[a-z_]+(\{[^}]*\})? [0-9.e+-]+)$' <<<"$out" | head -3 >"$IT_TMP/bad"
	[[ -s $IT_TMP/bad ]] && fail "malformed metrics lines: $(cat "$IT_TMP/bad")"
	true
}

# The interactive top in a real terminal: tmux plays the user.
test_top_tmux() {
	local sock=it$$ S pid screen i
	command -v tmux >/dev/null || skip "no tmux"
	S=$(sgroup) || exit 1
	start_busy pid "$S"
	tmux -L "$sock" new-session -d -x 150 -y 30 "$CTL -m $SROOT top -d 0.5" || {
		fail "tmux did not start"
		return
	}
	register pid "$(tmux -L "$sock" display -p '#{pid}')"
	screen_has() { tmux -L "$sock" capture-pane -p | grep -qE "$1"; }
	wait_until 5 screen_has "sorted by %CPU" || fail "no first screen"
	wait_until 5 screen_has "^${S##*/} " || fail "the busy group is not shown"
	tmux -L "$sock" send-keys n
	wait_until 3 screen_has "sorted by GROUP" || fail "key n did not sort by name"
	screen=$(tmux -L "$sock" capture-pane -p)
	diag "$screen"
	# rows (below the titles) in name order
	sed -n '/^GROUP /,/^keys/p' <<<"$screen" | sed '1d;$d' | awk '{print $1}' >"$IT_TMP/names"
	LC_ALL=C sort -c "$IT_TMP/names" 2>/dev/null || fail "rows not sorted by name: $(tr '\n' ' ' <"$IT_TMP/names")"
	tmux -L "$sock" send-keys t
	wait_until 3 screen_has "sorted by TASKS" || fail "key t did not sort by tasks"
	tmux -L "$sock" send-keys c
	wait_until 3 screen_has "sorted by %CPU" || fail "key c did not sort by cpu"
	tmux -L "$sock" resize-window -x 50 -y 12
	wait_until 3 eval '[[ $(tmux -L '"$sock"' capture-pane -p | awk "length > 50" | wc -l) == 0 ]]' ||
		fail "lines wider than the resized window"
	screen_has "^keys: " || fail "no key line after the resize"
	tmux -L "$sock" send-keys q
	for ((i = 0; i < 40; i++)); do
		tmux -L "$sock" has-session 2>/dev/null || break
		sleep 0.05
	done
	tmux -L "$sock" has-session 2>/dev/null && fail "q did not quit"
	tmux -L "$sock" kill-server 2>/dev/null
	true
}

if [[ $IT_MODE != daemon ]]; then
	skip_all "ctl" "cpuacctctl needs the daemon (subject mode)"
	exit 0
fi
if [[ ! -x $CTL ]]; then
	skip_all "ctl" "no cpuacctctl next to the daemon ($CTL)"
	exit 0
fi
run_test "ctl: status shows backend, interval, lag" test_status
run_test "ctl: a busy loop is 100 % in history --step 1s" test_history_busy
run_test "ctl: a busy loop is 100 % in top -b -n 2" test_top_busy
run_test "ctl: a reset shows as a reset in history" test_history_reset
run_test "ctl: exec runs the command in the group (tasks)" test_exec
run_test "ctl: move puts processes in the group (tasks)" test_move
run_test "ctl: adopt moves a process with its past, the root counts it once" test_adopt
run_test "ctl: a non-root caller is refused" test_nonroot
run_test "ctl: --ctl-group lets its members in, the daemon refuses others" test_ctl_group
run_test "ctl: errors are one line and a nonzero status" test_errors
run_test "ctl: ls and metrics" test_ls_and_metrics
run_test "ctl: interactive top in tmux (sort keys, resize, quit)" test_top_tmux
