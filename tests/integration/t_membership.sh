#!/bin/bash
# Membership: tasks and cgroup.procs after moves of processes and threads.
# Each side moves its own processes; lists are compared as roles.
# shellcheck source=lib.sh disable=SC2016 # eval'd code in single quotes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# listing DIR MAP...: "tasks: roles / procs: roles" of group DIR.
listing() {
	local dir=$1
	shift
	echo "tasks: $(roles "$dir/tasks" "$@" | tr '\n' ' ')"
	echo "procs: $(roles "$dir/cgroup.procs" "$@" | tr '\n' ' ')"
}

# check_lists WHAT KDIR SDIR KMAP SMAP: the role listings must be equal
# (the subject gets 2 s to catch up with exits), ids ascending.
check_lists() {
	local what=$1 kd=$2 sd=$3 km=$4 sm=$5
	# shellcheck disable=SC2086 # maps are lists of words
	wait_until 2 eval '[[ "$(listing "$kd" $km)" == "$(listing "$sd" $sm)" ]]' || true
	# shellcheck disable=SC2086
	check_same "$what" "$(listing "$kd" $km)" "$(listing "$sd" $sm)"
	check_ascending "$what: subject tasks" "$sd/tasks"
	check_ascending "$what: subject cgroup.procs" "$sd/cgroup.procs"
	check_ascending "$what: kernel tasks (oracle)" "$kd/tasks"
}

# thread_map PID: "tid=ROLE" words, the leader L and the others T1, T2...
thread_map() {
	local tid i=0
	for tid in $(tids_of "$1"); do
		if [[ $tid == "$1" ]]; then echo "$tid=L"; else i=$((i + 1)) && echo "$tid=T$i"; fi
	done | tr '\n' ' '
}

# nth_thread PID N: the N-th non-leader thread id of PID.
nth_thread() {
	tids_of "$1" | grep -vx "$1" | sed -n "${2}p"
}

test_sleeps() {
	local k1 k2 k3 s1 s2 s3
	both_groups
	start k1 sleep 60; start k2 sleep 60; start k3 sleep 60
	start s1 sleep 60; start s2 sleep 60; start s3 sleep 60
	for p in "$k3" "$k1" "$k2"; do echo "$p" >"$K/tasks"; done
	for p in "$s3" "$s1" "$s2"; do echo "$p" >"$S/tasks" || fail "echo $p > tasks failed"; done
	check_lists "three sleeps moved in reverse order" "$K" "$S" \
		"$k1=A $k2=B $k3=C" "$s1=A $s2=B $s3=C"
}

# mt_pair N: start an N-thread process on each side: MK, MS.
mt_pair() {
	start MK "$IT_HELPERS/mt" "$1"
	start MS "$IT_HELPERS/mt" "$1"
	wait_threads "$MK" "$1" || fail "kernel-side mt did not start $1 threads"
	wait_threads "$MS" "$1" || fail "subject-side mt did not start $1 threads"
}

test_procs_moves_threads() {
	both_groups
	mt_pair 4
	echo "$MK" >"$K/cgroup.procs"
	echo "$MS" >"$S/cgroup.procs" || fail "echo PID > cgroup.procs failed"
	check_lists "4-thread process moved via cgroup.procs" "$K" "$S" \
		"$(thread_map "$MK")" "$(thread_map "$MS")"
}

test_thread_to_tasks() {
	local k2 s2 kt st
	both_groups
	k2=$(new_group "$K") s2=$(new_group "$S")
	mt_pair 3
	echo "$MK" >"$K/cgroup.procs"
	echo "$MS" >"$S/cgroup.procs" || fail "echo PID > cgroup.procs failed"
	kt=$(nth_thread "$MK" 1) st=$(nth_thread "$MS" 1)
	echo "$kt" >"$k2/tasks"
	echo "$st" >"$s2/tasks" || fail "echo TID > tasks failed"
	check_lists "group 1 after one thread left" "$K" "$S" \
		"$(thread_map "$MK")" "$(thread_map "$MS")"
	check_lists "group 2 holding the non-leader thread" "$k2" "$s2" \
		"$(thread_map "$MK")" "$(thread_map "$MS")"
}

test_thread_to_procs() {
	local kt st
	both_groups
	mt_pair 3
	kt=$(nth_thread "$MK" 2) st=$(nth_thread "$MS" 2)
	echo "$kt" >"$K/cgroup.procs"
	echo "$st" >"$S/cgroup.procs" || fail "echo TID > cgroup.procs failed"
	check_lists "non-leader tid written to cgroup.procs" "$K" "$S" \
		"$(thread_map "$MK")" "$(thread_map "$MS")"
}

test_echo_zero() {
	local kp sp
	both_groups
	# shellcheck disable=SC2016 # $0 belongs to the inner shell
	start kp sh -c 'echo 0 >"$0/tasks"; exec sleep 60' "$K"
	# shellcheck disable=SC2016
	start sp sh -c 'echo 0 >"$0/tasks"; exec sleep 60' "$S"
	wait_until 2 grep -qx "$kp" "$K/tasks"
	wait_until 2 grep -qx "$sp" "$S/tasks"
	check_lists "sh -c 'echo 0 > tasks; exec sleep'" "$K" "$S" "$kp=SH" "$sp=SH"
}

# forker DIR FIFO: a shell that, once moved and told, forks a sleep and an
# N-thread process.
forker() {
	local var=$1 fifo=$2
	# shellcheck disable=SC2016 # inner shell code
	start_fifo "$var" "$fifo" sh -c 'read -r go; sleep 60 & "$0" 3 & wait' "$IT_HELPERS/mt"
}

# family PID: role map of a forker shell and its descendants' threads.
family() {
	local child tid i=0
	echo -n "$1=SH "
	for child in $(pgrep -P "$1" | sort -n); do
		i=$((i + 1))
		for tid in $(tids_of "$child"); do echo -n "$tid=C$i "; done
	done
}

test_fork_inherit() {
	local kf sf kp sp
	both_groups
	kf=$IT_TMP/kfifo sf=$IT_TMP/sfifo
	mkfifo "$kf" "$sf"
	forker kp "$kf"
	forker sp "$sf"
	echo "$kp" >"$K/tasks"
	echo "$sp" >"$S/tasks" || fail "echo PID > tasks failed"
	echo go >"$kf"
	echo go >"$sf"
	wait_until 3 eval '[[ $(family "$kp" | wc -w) -ge 5 && $(family "$sp" | wc -w) -ge 5 ]]' ||
		fail "forked children did not appear"
	check_lists "children forked after the move" "$K" "$S" "$(family "$kp")" "$(family "$sp")"
}

test_threads_after_move() {
	local kf sf
	both_groups
	kf=$IT_TMP/kfifo sf=$IT_TMP/sfifo
	mkfifo "$kf" "$sf"
	start_fifo MK "$kf" "$IT_HELPERS/mt" 4 wait
	start_fifo MS "$sf" "$IT_HELPERS/mt" 4 wait
	echo "$MK" >"$K/tasks"
	echo "$MS" >"$S/tasks" || fail "echo PID > tasks failed"
	echo go >"$kf"
	echo go >"$sf"
	wait_threads "$MK" 4 || fail "kernel-side threads did not start"
	wait_threads "$MS" 4 || fail "subject-side threads did not start"
	check_lists "threads created after the move" "$K" "$S" \
		"$(thread_map "$MK")" "$(thread_map "$MS")"
}

test_exit_disappears() {
	local k1 k2 s1 s2
	both_groups
	start k1 sleep 60; start k2 sleep 60; start s1 sleep 60; start s2 sleep 60
	echo "$k1" >"$K/tasks"; echo "$k2" >"$K/tasks"
	echo "$s1" >"$S/tasks"; echo "$s2" >"$S/tasks"
	kill "$k1" "$s1"
	wait_gone "$k1"; wait_gone "$s1"
	check_lists "one of two tasks exited" "$K" "$S" "$k1=GONE $k2=B" "$s1=GONE $s2=B"
	mt_pair 3
	echo "$MK" >"$K/cgroup.procs"; echo "$MS" >"$S/cgroup.procs"
	kill -KILL "$MK" "$MS"
	wait_gone "$MK"; wait_gone "$MS"
	check_lists "a killed 3-thread process" "$K" "$S" "$k2=B" "$s2=B"
}

# current_lists DIR: from a shell in DIR, fork and reap a child 100 times;
# each time the child must be listed at once after the fork and gone at
# once after the reap. Prints "ok" or the first miss.
current_lists() {
	sh -c 'echo $$ >"$1/cgroup.procs"
	for i in $(seq 100); do
		sleep 30 & c=$!
		grep -qx "$c" "$1/tasks" || { echo "round $i: new child missing from tasks"; exit; }
		grep -qx "$c" "$1/cgroup.procs" || { echo "round $i: new child missing from cgroup.procs"; exit; }
		kill "$c"; wait "$c"
		grep -qx "$c" "$1/tasks" && { echo "round $i: reaped child still in tasks"; exit; }
		grep -qx "$c" "$1/cgroup.procs" && { echo "round $i: reaped child still in cgroup.procs"; exit; }
	done
	echo ok' sh "$1"
}

test_lists_current() {
	both_groups
	check_same "fork, list, reap, list: 100 rounds, no waiting" \
		"$(current_lists "$K")" "$(current_lists "$S")"
}

test_many_sorted() {
	local i p kp=() sp=() km="" sm=""
	both_groups
	for ((i = 0; i < 8; i++)); do
		start p sleep 60; kp+=("$p"); km+="$p=P$i "
		start p sleep 60; sp+=("$p"); sm+="$p=P$i "
	done
	for i in 5 2 7 0 3 6 1 4; do
		echo "${kp[i]}" >"$K/tasks"
		echo "${sp[i]}" >"$S/cgroup.procs"
	done
	check_lists "eight sleeps moved in shuffled order" "$K" "$S" "$km" "$sm"
}

# A thread other than the leader calls exec: the kernel ends the other
# threads and gives it the process's id; the process stays in its group,
# and so does the time it runs after the exec.
test_thread_exec() {
	local fk fs ku su
	both_groups
	fk=$IT_TMP/exec.kernel fs=$IT_TMP/exec.subject
	start XK "$IT_HELPERS/execthr" "$fk" "$IT_HELPERS/spin" 1500
	start XS "$IT_HELPERS/execthr" "$fs" "$IT_HELPERS/spin" 1500
	wait_threads "$XK" 2 || fail "kernel-side execthr did not start its thread"
	wait_threads "$XS" 2 || fail "subject-side execthr did not start its thread"
	echo "$XK" >"$K/cgroup.procs"
	echo "$XS" >"$S/cgroup.procs" || fail "echo PID > cgroup.procs failed"
	touch "$fk" "$fs"
	wait_until 5 eval '[[ $(tids_of "$XK") == "$XK" && $(tids_of "$XS") == "$XS" ]]' ||
		fail "the exec did not leave one thread with the process's id"
	check_lists "after the exec" "$K" "$S" "$XK=L" "$XS=L"
	wait_until 5 eval '! kill -0 "$XK" 2>/dev/null && ! kill -0 "$XS" 2>/dev/null' ||
		fail "spin did not end"
	check_lists "after the process ended" "$K" "$S" "" ""
	ku=$(cat "$K/cpuacct.usage") su=$(cat "$S/cpuacct.usage")
	((su * 10 >= ku * 8)) ||
		fail "usage after the exec: kernel $ku ns, subject only $su ns"
}

run_test "membership: sleeps moved via tasks, sorted" test_sleeps
run_test "membership: cgroup.procs moves all threads" test_procs_moves_threads
run_test "membership: non-leader tid to tasks moves only that thread" test_thread_to_tasks
run_test "membership: non-leader tid to cgroup.procs moves the process" test_thread_to_procs
run_test "membership: echo 0 > tasks moves the writing shell" test_echo_zero
run_test "membership: children forked after the move start in the group" test_fork_inherit
run_test "membership: threads created after the move start in the group" test_threads_after_move
run_test "membership: exited tasks disappear" test_exit_disappears
run_test "membership: ids listed ascending" test_many_sorted
run_test "membership: lists show forks and reaps at once" test_lists_current
run_test "membership: a thread that calls exec keeps the process in its group" test_thread_exec
