#!/bin/bash
# Crashes, reloads and a damaged state (issue 11). A reader in another
# mount namespace loops on a bind mount of one group while the serving
# process is killed with SIGKILL again and again, then reloaded: no read
# may fail or go down, and each pause is measured. A busy process counted
# in a kernel group and in ours at once gives the accuracy across the
# kills; groups, flags and members must all come back. Then a damaged
# state file must be refused with a log line and a clean start, and a
# deliberate unmount must still end everything.
#
# usage: restart.sh DAEMON [daemon args...]
# RESTART_KILLS (default 30) and RESTART_GAP (s between kills, default 1);
# RESTART_MAX_PAUSE_MS and RESTART_MAX_RELOAD_MS (1000 and 200, the goals;
# a sanitizer build starts slower).
set -u
daemon=$1
shift
kills=${RESTART_KILLS:-30}
gap=${RESTART_GAP:-1}
max_pause=${RESTART_MAX_PAUSE_MS:-1000}
max_reload=${RESTART_MAX_RELOAD_MS:-200}
label="restart${*:+ ($*)}"
n=0
failed=0
result() {
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - $label: $2"; else
		failed=$((failed + 1))
		echo "not ok $n - $label: $2"
		[ -n "${3:-}" ] && echo "$3" | sed 's/^/# /'
	fi
}
[ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] || {
	echo "ok 1 - $label # SKIP needs root and /dev/fuse"
	exit 0
}
kroot=/sys/fs/cgroup/cpuacct
[ -e $kroot/cpuacct.usage ] || {
	echo "ok 1 - $label # SKIP no kernel cgroup v1 cpuacct at $kroot"
	exit 0
}
command -v unshare >/dev/null || {
	echo "ok 1 - $label # SKIP no unshare"
	exit 0
}

work=$(mktemp -d /tmp/cpuacctfs-restart.XXXXXX)
mnt=$work/mnt
kg=$kroot/restart$$
mkdir -p "$mnt" "$work/bind"
holder=""
burn=""
sleeper=""
cleanup() {
	[ -n "$burn" ] && kill "$burn" 2>/dev/null
	[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
	touch "$work/stop"
	wait 2>/dev/null
	grep -q " $mnt fuse" /proc/mounts && fusermount3 -u "$mnt" 2>/dev/null
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	[ -d "$kg" ] && rmdir "$kg"
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

server() { cat "$work/pid" 2>/dev/null; }
wait_server_change() { # old pid: wait until a new server runs
	for _ in $(seq 100); do
		p=$(server)
		[ -n "$p" ] && [ "$p" != "$1" ] && kill -0 "$p" 2>/dev/null &&
			return 0
		sleep 0.05
	done
	return 1
}

"$daemon" -f --pidfile="$work/pid" "$@" "$mnt" 2>"$work/log" &
holder=$!
for _ in $(seq 100); do [ -e "$mnt/cpuacct.usage" ] && break; sleep 0.1; done
[ -e "$mnt/cpuacct.usage" ] || {
	result FAIL "mounts" "$(tail "$work/log")"
	exit 1
}

# what must come back: a nested tree, flags, the release agent, members
mkdir -p "$mnt/a/b" "$mnt/c" "$kg"
echo 1 >"$mnt/a/notify_on_release"
echo 1 >"$mnt/c/cgroup.clone_children"
echo /bin/true >"$mnt/release_agent"
chown -R nobody "$mnt/a/b"
chmod 0750 "$mnt/c"
sleep 1000 &
sleeper=$!
echo "$sleeper" >"$mnt/a/b/tasks"
# stopped until it is in both groups, so both count the same time
sh -c 'kill -STOP $$; while :; do :; done' &
burn=$!
for _ in $(seq 50); do
	grep -q '^State:.*T' /proc/$burn/status 2>/dev/null && break
	sleep 0.02
done
echo "$burn" >"$kg/tasks"
echo "$burn" >"$mnt/c/tasks"
kill -CONT "$burn"
shape() {
	(cd "$mnt" && find . -type d | sort &&
		stat -c '%n %i %U %G %a' a a/b a/b/tasks c c/tasks &&
		cat a/notify_on_release a/b/notify_on_release \
			c/cgroup.clone_children release_agent a/b/tasks c/tasks)
}
before=$(shape)

# the reader: another mount namespace, a bind mount of group c
cat >"$work/reader.pl" <<'EOF'
use strict;
use Time::HiRes qw(time sleep);
my ($file, $stop, $out) = @ARGV;
my ($reads, $fails, $downs, $prev) = (0, 0, 0, 0);
my @lat;
my $why = "";
while (!-e $stop) {
	my $t0 = time;
	my $v;
	if (open(my $fh, '<', $file)) { $v = <$fh>; close $fh }
	else { $why = "$!" }
	push @lat, [$t0, time - $t0];
	$reads++;
	if (!defined $v || $v !~ /^(\d+)\n$/) { $fails++; $why ||= "bad text"; }
	else { $downs++ if $1 < $prev; $prev = $1; }
	sleep 0.002;
}
open(my $o, '>', $out) or die;
print $o "$reads $fails $downs $why\n";
printf $o "%.6f %.3f\n", $_->[0], $_->[1] * 1000 for @lat;
EOF
unshare -m --propagation private sh -c \
	'mount --bind "$1/c" "$2" && exec perl "$3" "$2/cpuacct.usage" "$4" "$5"' \
	sh "$mnt" "$work/bind" "$work/reader.pl" "$work/stop" "$work/reads" &
reader=$!
sleep 0.5

# the kills
ctl=$(dirname "$daemon")/cpuacctctl
sleep 1.2
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
lost=0
for i in $(seq "$kills"); do
	old=$(server)
	date +"%s.%N kill" >>"$work/events"
	kill -KILL "$old"
	wait_server_change "$old" || lost=$((lost + 1))
	sleep "$gap"
done
[ $lost -eq 0 ] && result OK "$kills SIGKILLs: a new server each time" ||
	result FAIL "$kills SIGKILLs: a new server each time" "$lost never came"
after=$(shape)
if [ -x "$ctl" ]; then
	rows=$("$ctl" -m "$mnt" history c --since "$since" --step 1s 2>&1 |
		awk 'NR > 1 && $2 > 0' | wc -l)
	[ "$rows" -ge $((kills * ${gap%.*} / 2)) ] &&
		result OK "history from before the kills kept ($rows busy seconds)" ||
		result FAIL "history from before the kills kept" \
			"$("$ctl" -m "$mnt" history c --since "$since" --step 1s 2>&1 | head -5)"
fi
[ "$before" = "$after" ] &&
	result OK "groups, flags, release agent and members kept" ||
	result FAIL "groups, flags, release agent and members kept" \
		"$(diff <(echo "$before") <(echo "$after"))"

# the reload, during the same read loop
old=$(server)
date +"%s.%N reload" >>"$work/events"
kill -HUP "$holder"
wait_server_change "$old" && [ "$(shape)" = "$before" ] &&
	result OK "SIGHUP reloads: a new server, the same tree" ||
	result FAIL "SIGHUP reloads: a new server, the same tree"
sleep 1

kill "$burn"
wait "$burn" 2>/dev/null
burn=""
sleep 0.3
touch "$work/stop"
wait "$reader"
read -r reads fails downs why <"$work/reads"
[ "$fails" = 0 ] && [ "$downs" = 0 ] && [ "$reads" -gt 100 ] &&
	result OK "reader in another mount namespace: $reads reads, none failed or went down" ||
	result FAIL "reader in another mount namespace" \
		"$reads reads, $fails failed ($why), $downs went down"
# each event's pause: the longest read among those that began from just
# before it until the next event
pauses() { # KIND: the pauses of that kind (ms), sorted
	awk -v kind="$1" 'NR == FNR { t[++n] = $1; k[n] = $2; next }
		FNR > 1 { rs[++m] = $1; rl[m] = $2 }
		END {
			for (i = 1; i <= n; i++) {
				if (k[i] != kind) continue
				end = i < n ? t[i + 1] : t[i] + 5; worst = 0
				for (j = 1; j <= m; j++)
					if (rs[j] >= t[i] - 0.5 && rs[j] < end &&
					    rl[j] > worst) worst = rl[j]
				print int(worst + 0.5)
			}
		}' "$work/events" "$work/reads" | sort -n
}
kp=$(pauses kill)
p99=$(echo "$kp" | awk '{ a[NR] = $1 } END { i = int(NR * 0.99 + 0.99); print a[i] }')
p50=$(echo "$kp" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
rp=$(pauses reload)
echo "# pause seen by the reader after a SIGKILL (ms, $kills kills): median $p50, p99 $p99; after a reload: $rp"
[ "${p99:-99999}" -le "$max_pause" ] &&
	result OK "pause after a SIGKILL <= $max_pause ms (p99 $p99 ms)" ||
	result FAIL "pause after a SIGKILL <= $max_pause ms" "p99 $p99 ms"
[ "${rp:-99999}" -le "$max_reload" ] &&
	result OK "pause across a reload <= $max_reload ms ($rp ms)" ||
	result FAIL "pause across a reload <= $max_reload ms" "$rp ms"

k=$(cat "$kg/cpuacct.usage")
o=$(cat "$mnt/c/cpuacct.usage")
pct=$(echo "$k $o" | awk '{ d = $2 - $1; if (d < 0) d = -d; printf "%.4f", 100 * d / $1 }')
echo "# busy group after $kills kills: kernel $k ns, ours $o ns ($pct % apart)"
awk "BEGIN { exit !($pct <= 0.5) }" &&
	result OK "usage across the kills within 0.5 % of the kernel group ($pct %)" ||
	result FAIL "usage across the kills within 0.5 % of the kernel group" "$pct %"

# a damaged state is refused, with a clean start
state=""
for f in /proc/"$holder"/fd/*; do
	case $(readlink "$f") in *cpuacctfs-state*) state=$f ;; esac
done
if [ -z "$state" ]; then
	result FAIL "damaged state: refused, clean start" "no state file held"
else
	# stopped first, so no checkpoint of its own repairs the damage
	old=$(server)
	kill -STOP "$old"
	size=$(stat -L -c %s "$state")
	head -c "$size" /dev/urandom |
		dd of="$state" bs=4096 seek=1 conv=notrunc 2>/dev/null
	kill -KILL "$old"
	wait_server_change "$old"
	sleep 0.3
	if grep -q "state: .*damaged\|state: refusing" "$work/log" &&
		[ ! -e "$mnt/a" ] && [ -e "$mnt/cpuacct.usage" ] &&
		mkdir "$mnt/fresh" && rmdir "$mnt/fresh"; then
		result OK "damaged state: refused with a log line, clean start"
	else
		result FAIL "damaged state: refused with a log line, clean start" \
			"$(tail -n 5 "$work/log")"
	fi
fi

# a deliberate stop still ends everything
kill "$sleeper"
sleeper=""
fusermount3 -u "$mnt"
for _ in $(seq 50); do kill -0 "$holder" 2>/dev/null || break; sleep 0.1; done
if ! kill -0 "$holder" 2>/dev/null && ! grep -q " $mnt fuse" /proc/mounts; then
	wait "$holder"
	result OK "fusermount3 -u: unmounted, holder and server gone (status $?)"
	holder=""
else
	result FAIL "fusermount3 -u: unmounted, holder and server gone"
fi
# every death was one of ours: no crash, no sanitizer report
deaths=$(grep -c "starting it again" "$work/log")
ours=$(grep -c "killed by signal 9" "$work/log")
if [ "$deaths" -eq $((kills + 1)) ] && [ "$ours" -eq "$deaths" ] &&
	! grep -q "Sanitizer\|runtime error" "$work/log"; then
	result OK "the server died only when killed ($ours times)"
else
	result FAIL "the server died only when killed" \
		"$(grep -E "starting it again|Sanitizer|runtime error" "$work/log" | sort | uniq -c | head)"
fi
echo "$((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
