#!/bin/bash
# The daemon's lifetime: SIGINT, SIGTERM and fusermount3 -u each unmount
# it and make it exit 0, in the foreground and daemonized; SIGHUP reloads
# (a new server, the mount and its groups kept), except with --no-restart,
# where it stops like the others.
# usage: signals.sh DAEMON
set -u
daemon=$1
n=0
result() {
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - signals: $2"; else
		echo "not ok $n - signals: $2"
		[ -n "${3:-}" ] && echo "# $3"
	fi
}
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] || {
	echo "ok 1 - signals # SKIP needs root and /dev/fuse"
	exit 0
}
mnt=$(mktemp -d /tmp/cpuacctfs-sig.XXXXXX)
trap 'fusermount3 -uz "$mnt" 2>/dev/null; rmdir "$mnt"' EXIT

mounted() { grep -q " $mnt fuse.cpuacctfs " /proc/mounts; }
wait_mount() {
	for _ in $(seq 100); do [ -e "$mnt/cpuacct.usage" ] && return 0; sleep 0.1; done
	return 1
}

for how in INT TERM unmount; do
	"$daemon" -f "$mnt" 2>/dev/null &
	pid=$!
	wait_mount || { result FAIL "foreground, $how" "never mounted"; kill $pid; continue; }
	if [ $how = unmount ]; then fusermount3 -u "$mnt"; else kill -$how $pid; fi
	wait $pid
	rc=$?
	if [ $rc -eq 0 ] && ! mounted; then
		result OK "foreground, $how: unmounted, exit 0"
	else
		result FAIL "foreground, $how" "exit $rc, mounted: $(mounted && echo yes || echo no)"
	fi
done

# --no-restart: one process, and SIGHUP stops it as libfuse does
"$daemon" -f --no-restart "$mnt" 2>/dev/null &
pid=$!
if wait_mount; then
	kill -HUP $pid
	wait $pid
	rc=$?
	[ $rc -eq 0 ] && ! mounted &&
		result OK "--no-restart, HUP: unmounted, exit 0" ||
		result FAIL "--no-restart, HUP" "exit $rc"
else
	result FAIL "--no-restart: mounts"
	kill $pid
fi

# SIGHUP to the holder: the binary on disk serves on, with the tree
"$daemon" -f --pidfile="$mnt.pid" "$mnt" 2>/dev/null &
pid=$!
if wait_mount && mkdir "$mnt/kept"; then
	old=$(cat "$mnt.pid")
	kill -HUP $pid
	for _ in $(seq 100); do
		new=$(cat "$mnt.pid" 2>/dev/null)
		[ -n "$new" ] && [ "$new" != "$old" ] && break
		sleep 0.05
	done
	if [ "$new" != "$old" ] && kill -0 $pid && [ -d "$mnt/kept" ] &&
		! kill -0 "$old" 2>/dev/null; then
		result OK "foreground, HUP: reloaded (server $old -> $new), tree kept"
	else
		result FAIL "foreground, HUP: reloaded" "server $old -> $new"
	fi
	rmdir "$mnt/kept"
	# stopping the server itself is a deliberate stop too
	kill -TERM "$new"
	wait $pid
	rc=$?
	[ $rc -eq 0 ] && ! mounted && [ ! -e "$mnt.pid" ] &&
		result OK "TERM to the server: unmounted, exit 0, no pid file" ||
		result FAIL "TERM to the server" "exit $rc"
else
	result FAIL "foreground, HUP: mounts"
	kill $pid
fi

# daemonized: the process that serves is not our child
"$daemon" "$mnt" 2>/dev/null
wait_mount && pid=$(pgrep -o -f "$daemon $mnt")
if [ -z "${pid:-}" ]; then
	result FAIL "daemonized: mounts and keeps serving"
else
	sleep 0.2 # a few passes: the sampler runs in the detached process
	mkdir "$mnt/g" && echo 0 >"$mnt/g/cgroup.procs" && cat "$mnt/g/cpuacct.usage" >/dev/null &&
		echo $$ >"$mnt/cgroup.procs" && rmdir "$mnt/g" &&
		result OK "daemonized: serves mkdir, moves, reads" ||
		result FAIL "daemonized: serves mkdir, moves, reads"
	# the server dies; the daemonized holder starts another
	mkdir "$mnt/kept"
	kill -KILL "$(pgrep -P "$pid")"
	if cat "$mnt/cpuacct.usage" >/dev/null && [ -d "$mnt/kept" ] &&
		kill -0 "$pid"; then
		result OK "daemonized: a SIGKILLed server is replaced, tree kept"
	else
		result FAIL "daemonized: a SIGKILLed server is replaced, tree kept"
	fi
	rmdir "$mnt/kept"
	kill -TERM "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if ! kill -0 "$pid" 2>/dev/null && ! mounted; then
		result OK "daemonized, TERM: unmounted and gone"
	else
		result FAIL "daemonized, TERM: unmounted and gone"
	fi
fi
