#!/bin/bash
# netdata's cgroups plugin reading a cpuacctfs mount (issue 13): Debian's
# netdata runs in the foreground with a private configuration pointing its
# cgroup v1 cpuacct path at our mount, and must chart a subgroup that has
# a busy loop in it, with the CPU share the group's own files show.
# usage: netdata.sh DAEMON
set -u
daemon=$1
n=0 passed=0 failed=0 skipped=0
result() {
	n=$((n + 1))
	case $1 in
	OK) passed=$((passed + 1)); echo "ok $n - netdata: $2" ;;
	SKIP) skipped=$((skipped + 1)); echo "ok $n - netdata: $2 # SKIP $3" ;;
	*) failed=$((failed + 1)); echo "not ok $n - netdata: $2"
	   [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /' ;;
	esac
}
summary() { echo "$passed passed, $failed failed, $skipped skipped"; }
skip_all() {
	result SKIP "the cgroups plugin charts a cpuacctfs group" "$1"
	result SKIP "its CPU share is the group's" "$1"
	summary
	exit 0
}
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] || skip_all "needs root and /dev/fuse"
command -v netdata >/dev/null || skip_all "no netdata (Debian's netdata-core)"
command -v curl >/dev/null || skip_all "no curl"

work=$(mktemp -d /tmp/cpuacctfs-netdata.XXXXXX)
mnt=$work/mnt
dpid="" npid="" busy=""
cleanup() {
	[ -n "$npid" ] && kill -TERM -- "-$npid" 2>/dev/null
	[ -n "$busy" ] && kill "$busy" 2>/dev/null
	sleep 0.5
	[ -n "$npid" ] && kill -KILL -- "-$npid" 2>/dev/null
	fusermount3 -u "$mnt" 2>/dev/null # the daemon then exits
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$mnt" "$work"/{cache,lib,log,run}

"$daemon" -f "$mnt" 2>"$work/daemon.log" &
dpid=$!
for _ in $(seq 100); do [ -e "$mnt/cpuacct.usage" ] && break; sleep 0.1; done
[ -e "$mnt/cpuacct.usage" ] || skip_all "cpuacctfs did not mount: $(cat "$work/daemon.log")"
mkdir "$mnt/web"
sh -c 'while :; do :; done' &
busy=$!
echo "$busy" >"$mnt/web/cgroup.procs"

# What makes netdata 1.37 chart a group at once: a discovery every second
# (default 10 s), and no rename script for it: by default every group but
# the root waits for two runs of cgroup-name.sh first. The other v1
# controllers point nowhere (there is only cpuacct here), and so does the
# network helper, which otherwise takes a long time per group.
port=$((20000 + RANDOM % 20000))
cat >"$work/netdata.conf" <<EOF
[global]
	run as user = root
	update every = 1
	memory mode = ram
	process scheduling policy = keep
[directories]
	cache = $work/cache
	lib = $work/lib
	log = $work/log
	run = $work/run
[web]
	bind to = 127.0.0.1:$port
[logs]
	debug log = none
	error log = $work/log/error.log
	access log = none
[plugins]
	enable running new plugins = no
	proc = no
	diskspace = no
	tc = no
	idlejitter = no
	timex = no
	cgroups = yes
[plugin:cgroups]
	update every = 1
	check for new cgroups every = 1
	use unified cgroups = no
	path to /sys/fs/cgroup/cpuacct = $mnt
	path to /sys/fs/cgroup/cpuset = /nonexistent
	path to /sys/fs/cgroup/blkio = /nonexistent
	path to /sys/fs/cgroup/memory = /nonexistent
	path to /sys/fs/cgroup/devices = /nonexistent
	enable by default cgroups matching = *
	run script to rename cgroups matching = !*
	script to get cgroup network interfaces = /nonexistent
EOF
setsid netdata -D -c "$work/netdata.conf" >"$work/netdata.out" 2>&1 &
npid=$!

api() { curl -sf --max-time 5 "http://127.0.0.1:$port/api/v1/$1"; }
chart=""
for _ in $(seq 60); do
	if api charts | grep -q '"cgroup_web.cpu"'; then chart=cgroup_web.cpu; break; fi
	kill -0 "$npid" 2>/dev/null || break
	sleep 1
done
if [ -n "$chart" ]; then
	result OK "the cgroups plugin charts a cpuacctfs group ($chart)"
else
	result FAIL "the cgroups plugin charts a cpuacctfs group" \
		"charts: $(api charts | grep -o '"cgroup[^"]*"' | sort -u | tr '\n' ' ')
$(tail -5 "$work/log/error.log" 2>/dev/null; tail -5 "$work/netdata.out")"
	summary
	exit 0
fi

# the group's share of a CPU over 6 s, from cpuacct.usage, against what
# netdata charted (user + system, % of a CPU) over the same seconds, once
# the new chart's first (partial) seconds are behind
sleep 3
u0=$(cat "$mnt/web/cpuacct.usage") t0=$(date +%s%N)
sleep 6
u1=$(cat "$mnt/web/cpuacct.usage") t1=$(date +%s%N)
ours=$(awk -v u="$((u1 - u0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.1f", 100 * u / t }')
rows=$(api "data?chart=$chart&after=-6&points=6&format=csv")
# the newest row may still be filling: the five before it
theirs=$(awk -F, 'NR > 2 && NR <= 7 { s += $2 + $3; k++ }
	END { if (k) printf "%.1f", s / k }' <<<"$rows")
echo "# cpuacct.usage: $ours % of a CPU; netdata's $chart (user + system): ${theirs:-none} %"
sed 's/^/#   /' <<<"$rows"
if [ -n "$theirs" ] && awk -v a="$ours" -v b="$theirs" \
	'BEGIN { d = a - b; exit !(a > 20 && d < 15 && d > -15) }'; then
	result OK "its CPU share is the group's ($theirs % against $ours %)"
else
	result FAIL "its CPU share is the group's" \
		"netdata ${theirs:-nothing}, cpuacct.usage $ours % (within 15 points)"
fi
summary
