#!/bin/bash
# The daemon's lifetime: SIGINT, SIGTERM, SIGHUP and fusermount3 -u each
# unmount it and make it exit 0, in the foreground and daemonized.
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

for how in INT TERM HUP unmount; do
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

# daemonized: the process that serves is not our child
"$daemon" "$mnt" 2>/dev/null
wait_mount && pid=$(pgrep -f "$daemon $mnt" | head -n 1)
if [ -z "${pid:-}" ]; then
	result FAIL "daemonized: mounts and keeps serving"
else
	sleep 0.2 # a few passes: the sampler runs in the detached process
	mkdir "$mnt/g" && echo 0 >"$mnt/g/cgroup.procs" && cat "$mnt/g/cpuacct.usage" >/dev/null &&
		echo $$ >"$mnt/cgroup.procs" && rmdir "$mnt/g" &&
		result OK "daemonized: serves mkdir, moves, reads" ||
		result FAIL "daemonized: serves mkdir, moves, reads"
	kill -TERM "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if ! kill -0 "$pid" 2>/dev/null && ! mounted; then
		result OK "daemonized, TERM: unmounted and gone"
	else
		result FAIL "daemonized, TERM: unmounted and gone"
	fi
fi
