#!/bin/bash
# Soak: task and group churn against one daemon for a long time (an hour by
# default), logging the daemon's RSS, fds and threads once a minute.
#
#   tests/bench/soak.sh [SECONDS]        (from a build directory, or set
#                                         CPUACCTFS=/path/to/cpuacctfs)
#
# The churn: a shell that joins group a and runs ten /bin/true, a perl
# process with three threads moved into group b, and every tenth round a
# group made, given a task and removed. The churn runs at nice 10 so that it
# leaves the machine usable. Like make bench, it prints numbers and asserts
# no timing; it fails only when the daemon dies, leaks fds, or keeps growing
# (RSS in the last quarter above the second quarter's highest by more than
# SOAK_SLACK_KIB, 512 by default).
set -u
SECS=${1:-3600}
[[ $SECS =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
BIN=${CPUACCTFS:-$(pwd)/src/cpuacctfs}
[ -x "$BIN" ] || { echo "SKIP: no daemon at $BIN (run from a build dir)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v perl >/dev/null || { echo "SKIP: no perl"; exit 77; }

DIR=$(mktemp -d /tmp/cpuacctfs-soak.XXXXXX)
M=$DIR/mnt
mkdir "$M"
"$BIN" -f --no-restart "$M" 2>"$DIR/daemon.log" &
D=$!
cleanup() {
	[ -n "${C:-}" ] && kill "$C" 2>/dev/null && wait "$C" 2>/dev/null
	for g in "$M"/soak/*/ "$M"/soak/; do rmdir "$g" 2>/dev/null; done
	mountpoint -q "$M" && fusermount3 -u "$M"
	wait "$D" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -e "$M/cpuacct.usage" ] && break; sleep 0.05; done
[ -e "$M/cpuacct.usage" ] || { echo "daemon did not mount"; exit 1; }
mkdir -p "$M/soak/a" "$M/soak/b"

end=$(($(date +%s) + SECS))
churn() {
	local round=0
	while [ "$(date +%s)" -lt "$end" ]; do
		sh -c "echo \$\$ > $M/soak/a/cgroup.procs
			for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done"
		perl -e 'use threads; $_->join for map { threads->create(
			sub { my $x = 0; $x++ for 1..2000 }) } 1..3' &
		echo $! >"$M/soak/b/tasks" 2>/dev/null
		wait
		round=$((round + 1))
		if [ $((round % 10)) = 0 ]; then
			mkdir "$M/soak/g$round" &&
				sh -c "echo \$\$ > $M/soak/g$round/tasks" &&
				rmdir "$M/soak/g$round"
		fi
	done
}
nice -n 10 bash -c "$(declare -f churn); end=$end M=$M churn" &
C=$!

sample() {
	printf '%s rss_kib %s fds %s threads %s\n' "$(date +%T)" \
		"$(awk '/^VmRSS/ {print $2}' /proc/$D/status)" \
		"$(ls /proc/$D/fd | wc -l)" "$(ls /proc/$D/task | wc -l)"
}
: >"$DIR/samples"
while [ "$(date +%s)" -lt "$end" ] && kill -0 "$D" 2>/dev/null; do
	sample | tee -a "$DIR/samples"
	sleep $((SECS < 600 ? 10 : 60))
done
wait "$C"
C=
kill -0 "$D" 2>/dev/null || { echo "FAIL: the daemon died"; exit 1; }
sample | tee -a "$DIR/samples"
echo "tasks churned through group a: $(wc -l <"$M/soak/a/tasks") left"

awk -v slack="${SOAK_SLACK_KIB:-512}" '
	{ rss[NR] = $3; fds[NR] = $5 }
	END {
		q = int(NR / 4); if (q < 1) { print "too short to judge"; exit 0 }
		for (i = q + 1; i <= 2 * q; i++) if (rss[i] > hi2) hi2 = rss[i]
		for (i = 3 * q + 1; i <= NR; i++) if (rss[i] > hi4) hi4 = rss[i]
		printf "RSS first %d KiB, second-quarter max %d KiB, last-quarter max %d KiB; fds %d -> %d\n",
			rss[1], hi2, hi4, fds[1], fds[NR]
		bad = 0
		if (hi4 > hi2 + slack) { print "FAIL: RSS still growing"; bad = 1 }
		if (fds[NR] > fds[1]) { print "FAIL: fds grew"; bad = 1 }
		exit bad
	}' "$DIR/samples"
