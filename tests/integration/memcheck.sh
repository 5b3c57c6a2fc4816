#!/bin/bash
# The daemon under valgrind while groups and tasks come and go: no
# memory errors, no leaks, no file descriptors left behind.
# usage: memcheck.sh DAEMON [daemon args...]   (label: MC_LABEL)
set -u
daemon=$1
shift
label=${MC_LABEL:-memcheck}
here=$(cd "$(dirname "$0")" && pwd)
n=0
result() { # result OK|FAIL name [diagnostics]
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - $label: $2"; else
		echo "not ok $n - $label: $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
	fi
}
skip() { echo "ok 1 - $label # SKIP $1"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v valgrind >/dev/null || skip "valgrind is not installed"

work=$(mktemp -d /tmp/cpuacctfs-mc.XXXXXX)
chmod 755 "$work" # nobody works in a group below it
mnt="$work/mnt"
mkdir -p "$mnt"
vpid=""
cleanup() {
	grep -q " $mnt fuse" /proc/mounts && fusermount3 -u "$mnt" 2>/dev/null
	[ -n "$vpid" ] && kill "$vpid" 2>/dev/null
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

valgrind -q --log-file="$work/vg.log" --leak-check=full \
	--suppressions="$here/libbpf.supp" \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--track-fds=no "$daemon" -f --no-restart "$@" "$mnt" \
	2>"$work/daemon.log" &
vpid=$!
for _ in $(seq 300); do [ -e "$mnt/cpuacct.usage" ] && break; sleep 0.1; done
if [ ! -e "$mnt/cpuacct.usage" ]; then
	result FAIL "daemon mounts under valgrind" "$(tail -n 20 "$work/daemon.log")"
	exit 1
fi
fds() { ls "/proc/$vpid/fd" | wc -l; }

# one round: groups, moves, forks, exits, threads, reads of every file,
# a group handed to nobody, the release agent run for sub and u
round() {
	local g="$mnt/mc$1" i
	mkdir "$g"
	echo 1 >"$g/notify_on_release"
	mkdir "$g/sub"
	chown 65534:65534 "$g" "$g/tasks"
	chmod 0750 "$g"
	# shellcheck disable=SC2016 # the inner shell expands them
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
		'mkdir "$1/u" && echo $$ >"$1/u/tasks" && echo $$ >"$1/tasks" &&
		rmdir "$1/u"' sh "$g"
	sh -c 'echo 0 > "$1/cgroup.procs"; i=0
		while [ $i -lt 40 ]; do sh -c "i=0; while [ \$i -lt 100 ]; do i=\$((i+1)); done"; i=$((i+1)); done' sh "$g/sub"
	sleep 600 & local s=$!
	echo "$s" >"$g/tasks"
	perl -e 'use POSIX; for (1..20) { my $p = fork; if (!$p) { POSIX::_exit(0) } waitpid($p, 0) }' &
	echo $! >"$g/cgroup.procs" 2>/dev/null
	wait $!
	for i in "$g"/* "$g"/sub/* "$mnt"/*; do [ -f "$i" ] && cat "$i" >/dev/null; done
	echo 0 >"$g/cpuacct.usage"
	kill "$s"; wait "$s" 2>/dev/null
	sleep 0.2
	rmdir "$g/sub" "$g"
}
echo /bin/true >"$mnt/release_agent"
round warm
before=$(fds)
for r in 1 2 3; do round "$r"; done
# enough groups made and removed that ids come back (group.h), and a
# group on a reused id given a task
for i in $(seq 1100); do mkdir "$mnt/id$i" && rmdir "$mnt/id$i"; done
mkdir "$mnt/reused"
sh -c 'echo $$ > "$1/tasks"; cat "$1/tasks" "$1/cpuacct.stat" >/dev/null' sh "$mnt/reused"
rmdir "$mnt/reused"
sleep 0.5
after=$(fds)
if [ "$after" -le "$before" ]; then
	result OK "no file descriptors left behind ($before before, $after after)"
else
	result FAIL "no file descriptors left behind" "before $before, after $after: $(ls -l /proc/$vpid/fd)"
fi
cat "$mnt/cpuacct.usage" >/dev/null && result OK "still serving after churn" ||
	result FAIL "still serving after churn"

fusermount3 -u "$mnt"
wait "$vpid"
rc=$?
vpid=""
if [ "$rc" -eq 0 ]; then result OK "daemon exits 0 on unmount"; else
	result FAIL "daemon exits 0 on unmount" "exit status $rc; $(tail -n 20 "$work/daemon.log")"
fi
if grep -qE 'Invalid|uninitialised|Mismatched|Syscall param|overlap' "$work/vg.log"; then
	result FAIL "no memory errors" "$(head -n 60 "$work/vg.log")"
else
	result OK "no memory errors"
fi
if grep -q 'definitely lost' "$work/vg.log"; then
	result FAIL "no leaks" "$(grep -B2 -A20 'definitely lost' "$work/vg.log" | head -n 60)"
else
	result OK "no leaks"
fi
