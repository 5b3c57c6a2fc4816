#!/bin/bash
# Accounting: a CPU burner's time shows in its group and every ancestor,
# stays after exit, resets with "0", sums add up. The same scenario runs on
# the kernel side and on the subject side; the kernel must satisfy every
# property too (an oracle failure is reported as such).
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIN_NS=200000000 # a 1 s burn must account at least 0.2 s, even on a busy host

# side DIR: "kernel" or "subject".
side() {
	if [[ -n $SROOT && $1 == "$SROOT"* ]]; then echo subject; else echo kernel; fi
}

# prop WHAT DIR CMD...: property CMD must hold on DIR's side.
prop() {
	local what=$1 dir=$2
	shift 2
	if ! "$@"; then
		if [[ $(side "$dir") == kernel ]]; then
			fail "ORACLE (kernel) violates: $what"
		else
			fail "subject violates: $what"
		fi
	fi
}

usage() { cat "$1/cpuacct.usage"; }
sum_words() { awk '{ for (i = 1; i <= NF; i++) s += $i } END { printf "%d\n", s }' "$1"; }
ge() { # ge A B: A is a number >= B
	if [[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2)); then return 0; fi
	diag "'$1' is not >= $2"
	return 1
}
eq() { [[ $1 == "$2" ]] || { diag "'$1' != '$2'"; return 1; }; }
near() { # near A B TOL: |A-B| <= TOL
	local d=$(($1 - $2))
	((d < 0)) && d=$((-d))
	((d <= $3)) || { diag "|$1 - $2| > $3"; return 1; }
}

# burn_in DIR MS: run a burner inside DIR for MS ms (in the background).
burn_in() {
	local var=$1
	start_in "$var" "$2" "$IT_HELPERS/spin" "$3"
}

# setup_tree: KG/KA and SG/SA (nested groups g/a on both sides).
setup_tree() {
	both_groups
	KG=$K SG=$S
	KA=$(new_group "$KG") SA=$(new_group "$SG")
}

test_grows() {
	local kr0 sr0 kp sp d
	setup_tree
	kr0=$(usage "$KROOT") sr0=$(usage "$SROOT")
	burn_in kp "$KA" 1000
	burn_in sp "$SA" 1000
	wait "$kp" "$sp"
	for d in "$KA" "$SA"; do
		prop "g/a usage grew by >= $MIN_NS ns" "$d" ge "$(usage "$d")" "$MIN_NS"
	done
	# the child first: the subject may still be charging the exited
	# burner's last moments (within its staleness), and a parent read
	# after its child must hold at least what the child held
	ge_child "g >= g/a" "$KG" "$KA" 0
	ge_child "g >= g/a" "$SG" "$SA" 0
	ge_child "root grew by >= g/a" "$KROOT" "$KA" "$kr0"
	ge_child "root grew by >= g/a" "$SROOT" "$SA" "$sr0"
	check_stays "$KA" "$KG"
	check_stays "$SA" "$SG"
}

# ge_child WHAT PARENT CHILD BASE: PARENT's usage minus BASE, read after
# CHILD's, is at least CHILD's.
ge_child() {
	local child
	child=$(usage "$3")
	prop "$1" "$2" ge "$(($(usage "$2") - $4))" "$child"
}

# check_stays A G: after the tasks exited, usage of A and G does not change.
check_stays() {
	local a0 g0
	a0=$(usage "$1") g0=$(usage "$2")
	sleep 0.5
	prop "usage of g/a stays after exit" "$1" eq "$(usage "$1")" "$a0"
	prop "usage of g stays after exit" "$2" eq "$(usage "$2")" "$g0"
}

# zero_check A G FRESH: zero A's usage, compare its files with FRESH's.
zero_check() {
	local a=$1 g=$2 fresh=$3 g0 stat0 f
	g0=$(usage "$g")
	stat0=$(awk '{ s += $2 } END { print s }' "$a/cpuacct.stat")
	prop "echo 0 > g/a/cpuacct.usage" "$a" eq "$(errno_of_write "$a/cpuacct.usage" 0)" OK
	for f in cpuacct.usage cpuacct.usage_user cpuacct.usage_sys cpuacct.usage_percpu \
		cpuacct.usage_percpu_user cpuacct.usage_percpu_sys cpuacct.usage_all; do
		prop "$f reads as in a fresh kernel group after reset" "$a" \
			eq "$(cat -A "$a/$f")" "$(cat -A "$fresh/$f")"
	done
	prop "parent usage not reset" "$g" eq "$(usage "$g")" "$g0"
	prop "stat stays monotonic after reset" "$a" \
		ge "$(awk '{ s += $2 } END { print s }' "$a/cpuacct.stat")" "$stat0"
}

test_zero() {
	local kp sp fresh
	setup_tree
	fresh=$(kgroup)
	burn_in kp "$KA" 500
	burn_in sp "$SA" 500
	wait "$kp" "$sp"
	zero_check "$KA" "$KG" "$fresh"
	zero_check "$SA" "$SG" "$fresh"
}

# sums_check DIR: per-CPU sums equal the totals, usage_all agrees.
sums_check() {
	local d=$1
	prop "usage > 0 after a burn" "$d" ge "$(usage "$d")" 1
	prop "sum of usage_percpu == usage" "$d" \
		eq "$(sum_words "$d/cpuacct.usage_percpu")" "$(usage "$d")"
	prop "sum of usage_percpu_user == usage_user" "$d" \
		eq "$(sum_words "$d/cpuacct.usage_percpu_user")" "$(cat "$d/cpuacct.usage_user")"
	prop "sum of usage_percpu_sys == usage_sys" "$d" \
		eq "$(sum_words "$d/cpuacct.usage_percpu_sys")" "$(cat "$d/cpuacct.usage_sys")"
	prop "usage_all user column == usage_percpu_user" "$d" \
		eq "$(awk 'NR > 1 { printf "%s ", $2 }' "$d/cpuacct.usage_all")" \
		"$(cat "$d/cpuacct.usage_percpu_user")"
	prop "usage_all system column == usage_percpu_sys" "$d" \
		eq "$(awk 'NR > 1 { printf "%s ", $3 }' "$d/cpuacct.usage_all")" \
		"$(cat "$d/cpuacct.usage_percpu_sys")"
}

test_percpu_sums() {
	local kp sp
	setup_tree
	burn_in kp "$KA" 600
	burn_in sp "$SA" 600
	wait "$kp" "$sp"
	sleep 0.2 # cpuacctfs settles exits within a pass or two
	sums_check "$KA"
	sums_check "$SA"
	sums_check "$KG"
	sums_check "$SG"
}

# leaves_check G A B: G's counters are the sums of A's and B's, per CPU too.
leaves_check() {
	local g=$1 a=$2 b=$3 f
	prop "usage > 0 after a burn" "$g" ge "$(usage "$g")" 1
	for f in cpuacct.usage cpuacct.usage_user cpuacct.usage_sys; do
		prop "$f of parent == sum of children" "$g" \
			eq "$(cat "$g/$f")" "$(($(cat "$a/$f") + $(cat "$b/$f")))"
	done
	for f in cpuacct.usage_percpu cpuacct.usage_percpu_user cpuacct.usage_percpu_sys; do
		prop "$f of parent == per-CPU sum of children" "$g" \
			eq "$(cat "$g/$f")" "$(paste -d' ' "$a/$f" "$b/$f" |
				awk '{ n = NF / 2; for (i = 1; i <= n; i++) printf "%d ", $i + $(i + n); print "" }')"
	done
}

test_parent_is_sum() {
	local kb sb k1 k2 s1 s2
	setup_tree
	kb=$(new_group "$KG") sb=$(new_group "$SG")
	burn_in k1 "$KA" 500
	burn_in k2 "$kb" 300
	burn_in s1 "$SA" 500
	burn_in s2 "$sb" 300
	wait "$k1" "$k2" "$s1" "$s2"
	sleep 0.2 # cpuacctfs settles exits within a pass or two
	leaves_check "$KG" "$KA" "$kb"
	leaves_check "$SG" "$SA" "$sb"
}

# split_check DIR: user+sys and stat are close to usage.
split_check() {
	local d=$1 u us st
	u=$(usage "$d")
	us=$(($(cat "$d/cpuacct.usage_user") + $(cat "$d/cpuacct.usage_sys")))
	st=$(awk '{ s += $2 } END { print s * 10000000 }' "$d/cpuacct.stat")
	prop "usage_user + usage_sys within 50% + 30 ms of usage" "$d" near "$us" "$u" $((u / 2 + 30000000))
	prop "stat (user + system) * 10 ms within 50% + 30 ms of usage" "$d" near "$st" "$u" $((u / 2 + 30000000))
	prop "usage_user dominates for a busy loop" "$d" \
		ge "$(cat "$d/cpuacct.usage_user")" "$(cat "$d/cpuacct.usage_sys")"
}

test_split() {
	local kp sp
	setup_tree
	burn_in kp "$KA" 1000
	burn_in sp "$SA" 1000
	wait "$kp" "$sp"
	split_check "$KA"
	split_check "$SA"
}

# move_checks M1 M2 AT_MOVE: after the task moved from M1 to M2 and exited,
# M1 kept its past time and froze, M2 counted the rest.
move_checks() {
	local m1=$1 m2=$2 at_move=$3
	prop "M1 keeps its past time (> 0)" "$m1" ge "$at_move" 1
	prop "M1 does not grow after the move (20 ms slack)" "$m1" near "$(usage "$m1")" "$at_move" 20000000
	prop "M2 counts what ran after the move (> 0)" "$m2" ge "$(usage "$m2")" 1
}

test_move() {
	local kp sp k2 s2 k_at s_at
	both_groups
	k2=$(kgroup) s2=$(sgroup)
	burn_in kp "$K" 1000
	burn_in sp "$S" 1000
	sleep 0.4
	echo "$kp" >"$k2/tasks"
	k_at=$(usage "$K")
	echo "$sp" >"$s2/tasks" || fail "cannot move the burner to M2"
	s_at=$(usage "$S")
	wait "$kp" "$sp"
	move_checks "$K" "$k2" "$k_at"
	move_checks "$S" "$s2" "$s_at"
}

test_rmdir_keeps() {
	local kp sp kg0 sg0
	setup_tree
	burn_in kp "$KA" 400
	burn_in sp "$SA" 400
	wait "$kp" "$sp"
	sleep 0.2
	kg0=$(usage "$KG") sg0=$(usage "$SG")
	rmdir "$KA"
	rmdir "$SA" || fail "rmdir of the subject child failed"
	prop "parent keeps the removed child's usage" "$KG" eq "$(usage "$KG")" "$kg0"
	prop "parent keeps the removed child's usage" "$SG" eq "$(usage "$SG")" "$sg0"
	prop "a new group starts at 0" "$SG" eq "$(usage "$(new_group "$SG")")" 0
}

test_root_reset() {
	check_same "echo 0 > root cpuacct.usage" "$(errno_of_write "$KROOT/cpuacct.usage" 0)" \
		"$(errno_of_write "$SROOT/cpuacct.usage" 0)"
	check_same "echo 5 > root cpuacct.usage" "$(errno_of_write "$KROOT/cpuacct.usage" 5)" \
		"$(errno_of_write "$SROOT/cpuacct.usage" 5)"
}

run_test "accounting: burner in g/a grows g/a, g and root; stays after exit" test_grows
run_test "accounting: echo 0 > usage zeroes the group, not its parent" test_zero
run_test "accounting: per-CPU sums equal totals; usage_all agrees" test_percpu_sums
run_test "accounting: parent == sum of children (leaves only)" test_parent_is_sum
run_test "accounting: user/system split and stat close to usage" test_split
run_test "accounting: a moved task leaves its past time behind" test_move
run_test "accounting: parent keeps a removed child's usage" test_rmdir_keeps
run_test "accounting: root echo 0 > cpuacct.usage" test_root_reset
