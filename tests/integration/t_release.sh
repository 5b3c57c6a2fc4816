#!/bin/bash
# The release agent: when a group with notify_on_release becomes empty of
# tasks and has no subgroups, the hierarchy's release_agent runs, as root,
# with HOME=/ and PATH only, the group's path as its one argument. Both the
# kernel's hierarchy and the subject run an agent that logs what it got.
# The kernel's release_agent is host-global: it is saved and restored.
# shellcheck source=lib.sh disable=SC2016 # shell code in single quotes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SAVED_AGENT=""

# agent ROOT LOG: an agent script for ROOT that appends a line to LOG.
agent() {
	local script=$IT_TMP/agent.${2##*.}.sh
	cat >"$script" <<-AGENT
		#!/bin/sh
		printf 'argc=%s arg=%s uid=%s cwd=%s env=%s\n' "\$#" "\$1" "\$(id -u)" \\
			"\$(pwd)" "\$(tr '\0' ' ' </proc/\$\$/environ)" >>"$2"
		echo "\$PPID" >>"$2.ppid"
	AGENT
	chmod 755 "$script"
	echo "$script" >"$1/release_agent"
}

restore_agent() {
	printf '%s\n' "$SAVED_AGENT" >"$KROOT/release_agent"
}

# setup: fresh groups K and S with notify_on_release, agents logging to
# $IT_TMP/log.k and log.s.
setup() {
	have_root_only_files "$SROOT" || skip "subject is not a root (no release_agent)"
	SAVED_AGENT=$(cat "$KROOT/release_agent")
	trap 'restore_agent; it_cleanup' EXIT
	: >"$IT_TMP/log.k"
	: >"$IT_TMP/log.s"
	agent "$KROOT" "$IT_TMP/log.k"
	agent "$SROOT" "$IT_TMP/log.s"
	both_groups
	echo 1 >"$K/notify_on_release"
	echo 1 >"$S/notify_on_release"
}

# runs LOG DIR: the agent's lines for group DIR and its subgroups (other
# people's groups may run the kernel's agent too), with DIR's own name as G.
runs() {
	local name=${2##*/}
	grep -F "arg=/$name" "$1" | sed "s|arg=/$name|arg=/G|"
}

# settle WANT: wait until both logs have WANT lines (or 15 s pass: a loaded
# machine), then a little longer, for runs that should not come.
settle() {
	wait_until 15 both_logged "$1"
	sleep 0.5
}

both_logged() {
	[[ $(runs "$IT_TMP/log.k" "$K" | wc -l) -ge $1 &&
		$(runs "$IT_TMP/log.s" "$S" | wc -l) -ge $1 ]]
}

compare_runs() {
	local k s
	k=$(runs "$IT_TMP/log.k" "$K") s=$(runs "$IT_TMP/log.s" "$S")
	check_same "$1" "$k" "$s"
	check_eq "$1: how many" "$2" "$(printf '%s' "$k" | grep -c .)"
	[[ -z $k ]] || diag "kernel: $k"
}

# In a subgroup: its path is the argument, and its parent, which keeps
# the subgroup, is not released.
test_last_exit() {
	local kp sp
	setup
	mkdir "$K/c" "$S/c" || fail "mkdir c"
	start_in kp "$K/c" sleep 0.3
	start_in sp "$S/c" sleep 0.3
	settle 1
	compare_runs "after the last task's exit" 1
	check_eq "the subgroup's path" "arg=/G/c" \
		"$(runs "$IT_TMP/log.s" "$S" | grep -o 'arg=[^ ]*')"
	no_zombies "$(tail -n 1 "$IT_TMP/log.s.ppid")"
}

# no_zombies PID: the agents PID started were reaped (within a second).
no_zombies() {
	[[ -n $1 ]] || return
	wait_until 1 eval "! ps -o stat= --ppid $1 | grep -q Z" ||
		fail "zombie children of the agent's parent $1: $(ps -o pid=,stat=,comm= --ppid "$1")"
}

test_moved_out() {
	local kp sp
	setup
	start_in kp "$K" sleep 60
	start_in sp "$S" sleep 60
	wait_until 5 grep -qx "$kp" "$K/tasks"
	wait_until 5 grep -qx "$sp" "$S/tasks"
	echo "$kp" >"$KROOT/tasks"
	echo "$sp" >"$SROOT/tasks"
	settle 1
	compare_runs "after the last task moved out" 1
}

test_child_rmdir() {
	local kc sc
	setup
	kc=$(new_group "$K") sc=$(new_group "$S")
	echo 0 >"$kc/notify_on_release"
	echo 0 >"$sc/notify_on_release"
	rmdir "$kc" "$sc"
	settle 1
	compare_runs "after the last child's rmdir" 1
}

# Nothing runs for a group that keeps a task, one without
# notify_on_release, or a parent whose last task leaves or whose child
# goes while another child stays.
test_no_run() {
	# shellcheck disable=SC2034 # kq, sq: started for their exits only
	local kc sc kd sd kp sp kq sq ka sa
	setup
	kc=$(new_group "$K") sc=$(new_group "$S")
	kd=$(new_group "$K") sd=$(new_group "$S")
	echo 0 >"$kd/notify_on_release"
	echo 0 >"$sd/notify_on_release"
	start_in kp "$kc" sleep 60
	start_in sp "$sc" sleep 60
	start_in kq "$kd" sleep 0.2
	start_in sq "$sd" sleep 0.2
	start_in ka "$K" sleep 60
	start_in sa "$S" sleep 60
	start_in kp "$K" sleep 0.2
	start_in sp "$S" sleep 0.2
	wait_until 5 grep -qx "$ka" "$K/tasks"
	wait_until 5 grep -qx "$sa" "$S/tasks"
	echo "$ka" >"$KROOT/tasks"
	echo "$sa" >"$SROOT/tasks"
	sleep 0.5
	rmdir "$kd" "$sd"
	settle 0
	compare_runs "none while a child or a task stays" 0
}

test_agent_unset() {
	local kp sp
	setup
	echo >"$KROOT/release_agent"
	echo >"$SROOT/release_agent"
	start_in kp "$K" sleep 0.2
	start_in sp "$S" sleep 0.2
	settle 0
	compare_runs "none without a release_agent" 0
}

run_test "release: agent after the last task's exit" test_last_exit
run_test "release: agent after the last task moved out" test_moved_out
run_test "release: agent after a child's rmdir" test_child_rmdir
run_test "release: no agent while tasks or children stay" test_no_run
run_test "release: no agent when release_agent is empty" test_agent_unset
