#!/bin/bash
# Read after reap (issue 10): a shell starts one short process in each of N
# subgroups of a parent, waits for them all, then reads every subgroup's
# and the parent's cpuacct.usage. Once a task has been reaped its time must
# show in every read, and once nothing runs the parent (no tasks of its own)
# must equal the sum of its subgroups in every read, as on the kernel. Each
# trial runs on the kernel (the control, which must never fail) and on the
# subject, one after the other, so both see the same load.
# FRESH_RUNS="25 25 4" sets the trials for N = 1, 10 and 100.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r RUNS_1 RUNS_10 RUNS_100 <<<"${FRESH_RUNS:-25 25 4}"
BURN_MS=3 # each process burns this much wall time, then exits

# trial TOP N: a new parent under TOP (a removed subgroup's time stays in
# its parent, so every trial needs a fresh one), one process in each of N
# new subgroups of it, reaped, then the reads. Prints "zero G" and
# "sum PARENT SUM" for what went wrong, "ok" when nothing did; removes the
# groups.
trial() {
	local parent=$1/t$2.$RANDOM n=$2 i g sum=0 v p bad=0
	local -a groups=()
	mkdir "$parent" || { echo "mkdir ${parent##*/} failed"; return 1; }
	for ((i = 0; i < n; i++)); do
		g=$parent/g$i
		mkdir "$g" || { echo "mkdir ${g##*/} failed"; return 1; }
		groups+=("$g")
	done
	for g in "${groups[@]}"; do
		# shellcheck disable=SC2016 # $$ and $0 belong to the inner shell
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$1" "$2"' \
			"$g" "$IT_HELPERS/spin" "$BURN_MS" </dev/null &
	done
	wait
	for g in "${groups[@]}"; do
		v=$(<"$g/cpuacct.usage")
		if [[ ! $v =~ ^[0-9]+$ || $v == 0 ]]; then
			echo "zero ${g##*/} '$v'"
			bad=1
		fi
		sum=$((sum + ${v:-0}))
	done
	p=$(<"$parent/cpuacct.usage")
	if [[ $p != "$sum" ]]; then
		echo "sum $p $sum"
		bad=1
	fi
	((bad)) || echo ok
	remove_tree "$parent" >/dev/null
}

# tally SIDE N TOP: one trial under TOP; count a failed one in FAILS[SIDE]
# (and ZEROS, SUMS; ZERO_GROUPS counts the subgroups that read 0), keep
# the first few explanations in WHY[SIDE].
declare -A FAILS WHY ZEROS SUMS ZERO_GROUPS
tally() {
	local side=$1 n=$2 parent=$3 out
	out=$(trial "$parent" "$n")
	[[ $out == ok ]] && return 0
	FAILS[$side]=$((FAILS[$side] + 1))
	ZERO_GROUPS[$side]=$((ZERO_GROUPS[$side] + $(grep -c '^zero' <<<"$out")))
	grep -q '^zero' <<<"$out" && ZEROS[$side]=$((ZEROS[$side] + 1))
	grep -q '^sum' <<<"$out" && SUMS[$side]=$((SUMS[$side] + 1))
	if ((FAILS[$side] <= 3)); then
		WHY[$side]+="$(awk '
			$1 == "zero" { z = z " " $2 }
			$1 == "sum" { s = sprintf(" parent %s != sum of subgroups %s (%+.0f ns)", $2, $3, $2 - $3) }
			END { if (z != "") printf " read 0 in%s;", z; printf "%s", s }' <<<"$out")
"
	fi
}

# fresh N RUNS [ZERO_PERMILLE]: RUNS trials of N subgroups on each side;
# the subject may have that many subgroups in 1,000 read 0 (default none).
test_fresh() {
	local n=$1 runs=$2 zero_max=${3:-0} r side
	[[ -x $IT_HELPERS/spin ]] || skip "no spin helper"
	both_groups
	FAILS=([kernel]=0 [subject]=0) ZEROS=([kernel]=0 [subject]=0)
	SUMS=([kernel]=0 [subject]=0) WHY=([kernel]="" [subject]="")
	ZERO_GROUPS=([kernel]=0 [subject]=0)
	for ((r = 0; r < runs; r++)); do
		tally kernel "$n" "$K"
		tally subject "$n" "$S"
	done
	note "N=$n: subject failed ${FAILS[subject]}/$runs runs" \
		"(${ZEROS[subject]} with a subgroup reading 0, ${SUMS[subject]}" \
		"with parent != sum); kernel (control) ${FAILS[kernel]}/$runs"
	# a race the subject may lose now and then: zeros within the bound,
	# and nothing else, pass
	if ((zero_max && SUMS[subject] == 0 &&
		ZERO_GROUPS[subject] * 1000 <= zero_max * n * runs)); then
		note "subgroups that read 0: ${ZERO_GROUPS[subject]} of" \
			"$((n * runs)) (at most $zero_max in 1,000 allowed)"
		FAILS[subject]=0
	fi
	for side in kernel subject; do
		((FAILS[$side] == 0)) && continue
		if [[ $side == kernel ]]; then
			fail "ORACLE (kernel) failed ${FAILS[kernel]}/$runs runs:" \
				"the test itself is wrong"
		else
			fail "subject failed ${FAILS[subject]}/$runs runs"
		fi
		diag "first failures:"$'\n'"${WHY[$side]%$'\n'}"
	done
}

# test_fresh_clock N RUNS: the same on a daemon of our own with process
# clocks alone (--backend=clock), which reads an exiting process's clock
# when taskstats reports its exit, before its parent can reap it, and
# takes that record before the EXIT event queued behind it. When the
# parent wins anyway (a slow daemon), the record's runtime of the last
# thread is charged at once, as a floor: only a process whose runtime was
# never updated before its exit (no tick, no switch) can still read 0.
# Here: none of 6,000 subgroups (130 of them charged from the record);
# before the record came first and counted, 1 to 4 in 1,000 read 0, and
# without the watch 5 to 40. Up to 10 in 1,000 may read 0, so a lost
# watch or floor fails where the race is lost often; parent = sum always
# holds. N = 1 runs 4 times as often, for a bound that allows one.
test_fresh_clock() {
	[[ $IT_MODE == daemon ]] || skip "needs a daemon of our own"
	own_daemon --no-restart --backend=clock || return
	grep -q "taskstats unavailable" "$OWN_LOG" &&
		skip "no taskstats here: $(grep -m1 taskstats "$OWN_LOG")"
	SROOT=$OWN test_fresh "$1" "$2" 10
}

# With neither tracepoints nor taskstats (--no-taskstats, or a container)
# only the proc connector tells of an exit, and only after the parent was
# woken: a process reaped before it is read is charged from its reaper's
# children time, which /proc gives in 10 ms ticks (README, "Backends").
if [[ " ${IT_DAEMON_ARGS:-} " == *" --backend=clock "* &&
	" ${IT_DAEMON_ARGS:-} " == *" --no-taskstats "* ]]; then
	for n in 1 10 100; do
		skip_all "fresh: $n subgroups, read after reap (clock backend, no taskstats)" \
			"an exit reaped before its event is known to the 10 ms tick only"
	done
	exit 0
fi

run_test "fresh: 1 subgroup, read after reap shows its time; parent = sum ($RUNS_1 runs)" \
	test_fresh 1 "$RUNS_1"
run_test "fresh: 10 subgroups, read after reap shows their time; parent = sum ($RUNS_10 runs)" \
	test_fresh 10 "$RUNS_10"
run_test "fresh: 100 subgroups, read after reap shows their time; parent = sum ($RUNS_100 runs)" \
	test_fresh 100 "$RUNS_100"
# the clock backend with taskstats, once (in the default stage)
if [[ -z ${IT_DAEMON_ARGS:-} ]]; then
	run_test "fresh: clock backend, 1 subgroup, read after reap; parent = sum ($((RUNS_1 * 4)) runs)" \
		test_fresh_clock 1 "$((RUNS_1 * 4))"
	run_test "fresh: clock backend, 10 subgroups, read after reap; parent = sum ($RUNS_10 runs)" \
		test_fresh_clock 10 "$RUNS_10"
	run_test "fresh: clock backend, 100 subgroups, read after reap; parent = sum ($RUNS_100 runs)" \
		test_fresh_clock 100 "$RUNS_100"
fi
