#!/bin/bash
# Which backend counts: the best one by default, each one when asked, a
# fallback with a log line where bpf cannot load (no BTF, bpf(2) not
# allowed), and a clear failure when bpf is asked for and cannot load.
# usage: backends.sh DAEMON
set -u
daemon=$1
here=$(cd "$(dirname "$0")" && pwd)
n=0
result() {
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - backends: $2"; else
		echo "not ok $n - backends: $2"
		[ -n "${3:-}" ] && sed 's/^/# /' <<<"$3"
	fi
}
skip() {
	n=$((n + 1))
	echo "ok $n - backends: $1 # SKIP $2"
}
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] || {
	echo "ok 1 - backends # SKIP needs root and /dev/fuse"
	exit 0
}
work=$(mktemp -d /tmp/cpuacctfs-be.XXXXXX)
mnt=$work/mnt
mkdir "$mnt"
cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	pkill -f "$daemon -f .*$mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
cc -O1 -Wall -o "$work/nobpf" "$here/helpers/nobpf.c" || {
	result FAIL "helpers compile"
	exit 1
}
has_bpf=no
"$daemon" -V | grep -qw bpf && has_bpf=yes

# serve LOG CMD...: run CMD (a daemon in the foreground), wait for the
# mount, read a counter, unmount; prints what was read.
serve() {
	local log=$1 pid i
	shift
	"$@" >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -e "$mnt/cpuacct.usage" ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	cat "$mnt/cpuacct.usage" 2>/dev/null
	fusermount3 -u "$mnt" 2>/dev/null
	wait $pid
}

counts_with() { grep -q "counting with the $1 backend" "$2"; }

if [ $has_bpf = yes ]; then
	serve "$work/default.log" "$daemon" -f "$mnt" >/dev/null
	counts_with bpf "$work/default.log" &&
		result OK "default: bpf, logged" ||
		result FAIL "default: bpf, logged" "$(cat "$work/default.log")"
else
	skip "default: bpf" "built without bpf (configure --disable-bpf)"
fi

for b in tracepoint clock; do
	v=$(serve "$work/$b.log" "$daemon" -f --backend=$b "$mnt")
	counts_with $b "$work/$b.log" && [ -n "$v" ] &&
		result OK "--backend=$b: counts with it and serves" ||
		result FAIL "--backend=$b: counts with it and serves" \
			"$(cat "$work/$b.log")"
done

"$daemon" -f --backend=bogus "$mnt" >"$work/bogus.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q -- "--backend must be" "$work/bogus.log" &&
	result OK "--backend=bogus: refused" ||
	result FAIL "--backend=bogus: refused" "status $rc: $(cat "$work/bogus.log")"

if [ $has_bpf = no ]; then
	skip "no bpf(2): falls back" "built without bpf"
	skip "no bpf(2), --backend=bpf: fails clearly" "built without bpf"
	skip "no BTF: falls back" "built without bpf"
	exit 0
fi

# bpf(2) refused (as without CAP_BPF, or under a seccomp profile)
v=$(serve "$work/nobpf.log" "$work/nobpf" "$daemon" -f "$mnt")
grep -q "bpf backend unavailable (cannot load the program: Operation not permitted (needs root" "$work/nobpf.log" &&
	counts_with tracepoint "$work/nobpf.log" && [ -n "$v" ] &&
	result OK "no bpf(2): falls back to tracepoint with a log line, serves" ||
	result FAIL "no bpf(2): falls back to tracepoint with a log line, serves" \
		"$(cat "$work/nobpf.log")"

timeout 10 "$work/nobpf" "$daemon" -f --backend=bpf "$mnt" >"$work/force.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
	grep -q "backend=bpf cannot be used here" "$work/force.log" &&
	grep -q "Operation not permitted" "$work/force.log" &&
	! grep -q " $mnt fuse" /proc/mounts; then
	result OK "no bpf(2), --backend=bpf: exits $rc with the reason, mounts nothing"
else
	result FAIL "no bpf(2), --backend=bpf: exits with the reason" \
		"status $rc: $(cat "$work/force.log")"
fi

# no BTF: /sys/kernel/btf hidden in a private mount namespace
if unshare -m --propagation private true 2>/dev/null; then
	v=$(unshare -m --propagation private bash -c '
		mount -t tmpfs none /sys/kernel/btf || exit 1
		"$1" -f "$2" >"$3" 2>&1 & pid=$!
		for i in $(seq 100); do [ -e "$2/cpuacct.usage" ] && break; sleep 0.1; done
		cat "$2/cpuacct.usage"; fusermount3 -u "$2"; wait $pid' \
		nobtf "$daemon" "$mnt" "$work/nobtf.log")
	grep -q "bpf backend unavailable (the kernel has no BTF" "$work/nobtf.log" &&
		counts_with tracepoint "$work/nobtf.log" && [ -n "$v" ] &&
		result OK "no BTF: falls back to tracepoint with a log line, serves" ||
		result FAIL "no BTF: falls back to tracepoint with a log line, serves" \
			"$(cat "$work/nobtf.log")"
else
	skip "no BTF: falls back" "cannot make a mount namespace"
fi
