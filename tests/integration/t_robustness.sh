#!/bin/bash
# Robustness: binary garbage, huge writes, concurrent mkdir/rmdir races; the
# subject must still answer correctly afterwards.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WRITABLE="cpuacct.usage notify_on_release cgroup.clone_children tasks cgroup.procs"

# binary_errnos DIR: errno of fixed binary payloads written to each file.
binary_errnos() {
	local f
	for f in $WRITABLE cpuacct.stat; do
		echo "$f all bytes: $(errno_of_write -e "$1/$f" "$(perl -e 'print map { sprintf "\\x%02x", $_ } 1 .. 255')")"
		echo "$f nul: $(errno_of_write -e "$1/$f" '\0\0\0\0')"
		echo "$f 0xff: $(errno_of_write -e -r 100 "$1/$f" '\xff')"
		echo "$f utf8: $(errno_of_write "$1/$f" 'é0')"
		echo "$f long digits: $(errno_of_write -r 300 "$1/$f" 9)"
		echo "$f 1 MiB: $(errno_of_write -r 1048576 "$1/$f" 0)"
		echo "$f 1 MiB newlines: $(errno_of_write -r 1048576 -e "$1/$f" '\n')"
	done
}

test_binary() {
	both_groups
	check_same "errnos of binary and huge writes" "$(binary_errnos "$K")" "$(binary_errnos "$S")"
	check_same "group still reads as fresh" "$(cat "$K"/cpuacct.* "$K/tasks" | mask)" \
		"$(cat "$S"/cpuacct.* "$S/tasks" | mask)"
}

# race DIR SECONDS: 4 shells mkdir/rmdir the same 3 names under DIR.
race() {
	local dir=$1 secs=$2 i pids=()
	for ((i = 0; i < 4; i++)); do
		(
			end=$((SECONDS + secs))
			while ((SECONDS < end)); do
				for n in r1 r2 r3; do
					mkdir "$dir/$n" 2>/dev/null
					cat "$dir/$n/cpuacct.usage" >/dev/null 2>&1
					rmdir "$dir/$n" 2>/dev/null
				done
			done
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# answers DIR: what a healthy group answers after the race.
answers() {
	local p
	echo "children: $(find "$1" -mindepth 1 -type d | wc -l)"
	echo "usage: $(mask <"$1/cpuacct.usage")"
	mkdir "$1/after" && echo "mkdir after ok"
	start p sleep 60
	echo "$p" >"$1/after/tasks" && echo "move ok"
	echo "tasks: $(roles "$1/after/tasks" "$p=P" | tr '\n' ' ')"
	kill "$p"
	wait_gone "$p"
	wait_until 2 test ! -s "$1/after/tasks"
	rmdir "$1/after" && echo "rmdir after ok"
}

test_race() {
	both_groups
	race "$K" 3 &
	race "$S" 3
	wait
	rmdir "$K"/r? "$S"/r? 2>/dev/null
	check_same "answers after 3 s of concurrent mkdir/rmdir" "$(answers "$K" 2>&1)" \
		"$(answers "$S" 2>&1)"
	check_same "root usage format" "$(mask <"$KROOT/cpuacct.usage")" \
		"$(mask <"$SROOT/cpuacct.usage")"
	check_true "root tasks listing works" test -r "$SROOT/tasks"
	cat "$SROOT/tasks" >/dev/null || fail "cannot read $SROOT/tasks"
}

names() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort; }

test_many_groups() {
	local i
	both_groups
	for ((i = 0; i < 200; i++)); do mkdir "$K/m$i" "$S/m$i" || break; done
	check_same "200 subgroups: link count" "$(stat -c %h "$K")" "$(stat -c %h "$S")"
	check_same "200 subgroups: listing" "$(names "$K")" "$(names "$S")"
	for ((i = 0; i < 200; i++)); do rmdir "$K/m$i" "$S/m$i" || break; done
	check_same "after removing them" "$(names "$K")" "$(names "$S")"
}

# daemon_pids: the daemon's processes serving this mount (holder, server).
daemon_pids() {
	local p exe
	exe=$(readlink -f "$IT_DAEMON")
	for p in $(pgrep -f -- "$SROOT"); do
		[[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$exe" ]] && echo "$p"
	done
}

# server_pid: the one of them that serves: the holder's child, or the
# only one (--no-restart).
server_pid() {
	local pids p
	pids=$(daemon_pids)
	for p in $pids; do
		grep -qx "$(awk '/^PPid/ { print $2 }' "/proc/$p/status")" \
			<<<"$pids" && echo "$p" && return
	done
	[[ $(wc -w <<<"$pids") == 1 ]] && echo "$pids"
}

rss_kib() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}

# Issue 12: what 10,000 groups took goes back once they are removed.
test_memory_back() {
	local pid p before after i
	[[ $IT_MODE == daemon ]] || skip "needs the daemon's process"
	pid=$(server_pid)
	[[ -n $pid ]] || skip "no process of $IT_DAEMON serves $SROOT"
	if ldd "$IT_DAEMON" | grep -q libasan; then
		skip "AddressSanitizer's allocator keeps freed memory on purpose"
	fi
	for p in $(daemon_pids); do
		check_true "glibc's per-thread cache is off in $p" \
			grep -qz '^GLIBC_TUNABLES=.*glibc.malloc.tcache_count=0' \
			"/proc/$p/environ"
	done
	S=$(sgroup)
	before=$(rss_kib "$pid")
	perl -e 'for (1 .. 10000) { mkdir "$ARGV[0]/m$_" or die "mkdir: $!\n" }' "$S" ||
		fail "mkdir of 10,000 groups"
	perl -e 'for (1 .. 10000) { rmdir "$ARGV[0]/m$_" or die "rmdir: $!\n" }' "$S" ||
		fail "rmdir of 10,000 groups"
	# the sampler hands memory back once removals pause for a pass
	for ((i = 0; i < 50; i++)); do
		after=$(rss_kib "$pid")
		((after * 100 <= before * 115)) && break
		sleep 0.1
	done
	note "RSS $before KiB before 10,000 groups, $after KiB after them"
	check_true "RSS after 10,000 groups came and went within 15 % of before" \
		test $((after * 100)) -le $((before * 115))
}

run_test "robustness: binary, garbage and 1 MiB writes" test_binary
run_test "robustness: concurrent mkdir/rmdir from 4 shells for 3 s" test_race
run_test "robustness: 200 subgroups" test_many_groups
run_test "robustness: memory back after 10,000 groups" test_memory_back
