#!/bin/bash
# Zombies: a task that has exited but is not reaped is never a member, on
# whatever path it comes (a write of its id, the start-up scan, the rescan
# after lost proc connector events), and never keeps a group from going.
# shellcheck source=lib.sh disable=SC2016 # eval'd code in single quotes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# zombie PVAR ZVAR [DIR]: a parent that never reaps (it execs sleep) and its
# exited child; with DIR, the parent moves itself into group DIR first.
zombie() {
	local pvar=$1 zvar=$2 dir=${3:-} zp zz i
	if [[ -n $dir ]]; then
		start zp sh -c 'echo $$ >"$0/tasks" && { sleep 0 & exec sleep 60; }' "$dir"
	else
		start zp sh -c 'sleep 0 & exec sleep 60'
	fi
	for ((i = 0; i < 100; i++)); do
		zz=$(pgrep -P "$zp" | head -n1)
		[[ -n $zz && $(awk '{print $3}' "/proc/$zz/stat" 2>/dev/null) == Z ]] && break
		sleep 0.05
	done
	[[ -n $zz ]] || fail "no zombie child of $zp"
	printf -v "$pvar" '%s' "$zp"
	printf -v "$zvar" '%s' "$zz"
}

# reap PID: kill a zombie's parent, so that init reaps the zombie.
reap() {
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# lists DIR: "tasks: N procs: N", the number of ids of group DIR.
lists() {
	echo "tasks: $(wc -l <"$1/tasks") procs: $(wc -l <"$1/cgroup.procs")"
}

test_write_zombie() {
	local kp kz sp sz f
	both_groups
	zombie kp kz
	zombie sp sz
	for f in tasks cgroup.procs; do
		check_same "write of a zombie's id to $f" \
			"$(errno_of_write "$K/$f" "$kz")" "$(errno_of_write "$S/$f" "$sz")"
	done
	check_same "lists after writing zombies" "$(lists "$K")" "$(lists "$S")"
	reap "$kp"
	reap "$sp"
	check_same "rmdir once the zombie is reaped" \
		"$(rmdir "$K" 2>&1 && echo OK)" "$(rmdir "$S" 2>&1 && echo OK)"
}

# A child that exited in a group (its exit already seen) and is written to
# another group before its parent reaps it.
test_child_between_exit_and_reap() {
	local k2 s2 kp kz sp sz
	both_groups
	k2=$(new_group "$KROOT") s2=$(new_group "$SROOT")
	zombie kp kz "$K"
	zombie sp sz "$S"
	sleep 0.2 # the daemon has seen the exit
	check_same "write of the exited child to another group" \
		"$(errno_of_write "$k2/tasks" "$kz")" "$(errno_of_write "$s2/tasks" "$sz")"
	check_same "the other group's lists" "$(lists "$k2")" "$(lists "$s2")"
	check_same "the first group's lists (the parent only)" \
		"$(roles "$K/tasks" "$kp=P") / $(roles "$K/cgroup.procs" "$kp=P")" \
		"$(roles "$S/tasks" "$sp=P") / $(roles "$S/cgroup.procs" "$sp=P")"
	check_same "rmdir of the other group" \
		"$(rmdir "$k2" 2>&1 && echo OK)" "$(rmdir "$s2" 2>&1 && echo OK)"
	reap "$kp"
	reap "$sp"
	wait_until 2 rmdir "$S" 2>/dev/null
	check_same "rmdir of the first group after the reap" \
		"$(rmdir "$K" 2>&1 && echo OK)" "$([[ ! -d $S ]] && echo OK)"
}

# in_list ID FILE: 1 if ID is listed in FILE, else 0.
in_list() {
	grep -cx "$1" "$2"
}

test_startup_zombies() {
	local p z
	[[ $IT_MODE == daemon ]] || skip "needs the daemon binary"
	zombie p z
	own_daemon || return
	check_same "zombie in the root's tasks after start-up" \
		"$(in_list "$z" "$KROOT/tasks")" "$(in_list "$z" "$OWN/tasks")"
	check_same "zombie in the root's cgroup.procs after start-up" \
		"$(in_list "$z" "$KROOT/cgroup.procs")" "$(in_list "$z" "$OWN/cgroup.procs")"
	reap "$p"
}

# A fork burst of children nobody reaps, against a connector with a tiny
# receive buffer: events are lost, the daemon rescans /proc, and the
# zombies it finds there must not come back as members.
test_rescan_after_lost_events() {
	local g kp sp burst='for (1..400) { my $c = fork; exit 0 if defined $c && !$c } sleep 60'
	[[ $IT_MODE == daemon ]] || skip "needs the daemon binary"
	K=$(kgroup) || skip "cannot create a kernel group under $KROOT"
	own_daemon CPUACCTFS_TEST_CONN_RCVBUF=1 || return
	g=$OWN/$(new_name)
	mkdir "$g" || fail "mkdir in the own mount"
	start kp sh -c 'echo $$ >"$0/tasks" && exec perl -e "$1"' "$K" "$burst"
	start sp sh -c 'echo $$ >"$0/tasks" && exec perl -e "$1"' "$g" "$burst"
	wait_until 10 eval '[[ $(pgrep -P "$sp" | wc -l) -ge 400 && $(pgrep -P "$kp" | wc -l) -ge 400 ]]' ||
		fail "the bursts did not leave 400 zombies"
	wait_until 5 grep -q 'lost events' "$OWN_LOG" ||
		skip "the connector lost no events"
	sleep 0.5 # the rescan runs on the next pass
	wait_until 3 eval '[[ "$(lists "$K")" == "$(lists "$g")" ]]'
	check_same "lists after the rescan (the parent only)" "$(lists "$K")" "$(lists "$g")"
	reap "$kp"
	reap "$sp"
	wait_until 3 rmdir "$g" 2>/dev/null
	check_same "rmdir after the reap" "OK" "$([[ ! -d $g ]] && echo OK)"
	rmdir "$g" 2>/dev/null
}

run_test "zombies: a write of a zombie's id succeeds and moves nothing" test_write_zombie
run_test "zombies: a child written between its exit and its reaping" test_child_between_exit_and_reap
run_test "zombies: not members after the start-up scan" test_startup_zombies
run_test "zombies: not members after a rescan that follows lost events" test_rescan_after_lost_events
