#!/bin/bash
# Container tests of cpuacctfs: real runc containers on a busybox rootfs,
# wired to a cpuacctfs mount with contrib/oci/cpuacctfs-oci-hook.
#
#   bash tests/containers/run.sh DAEMON_BINARY
#
# Needs root, runc, a static busybox, /dev/fuse and the kernel's cgroup v1
# cpuacct (the reference for usage); otherwise every test is skipped.
# CT_ONLY=SUBSTRING runs only the tests whose names contain it;
# CT_BURN_LOOPS sets the usage test's loop count (850000, about 1 s).
# Output: "ok N - containers: name" / "not ok N - ..." lines, "# "
# diagnostics, and a last line "N passed, N failed, N skipped".
# Everything made here (mounts, containers, runc's kernel groups, the temp
# dir) is removed on exit, also on failure or interrupt.

set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
HOOK=$TOP/contrib/oci/cpuacctfs-oci-hook
DAEMON=${1:-}
KROOT=/sys/fs/cgroup/cpuacct
LABEL=containers
PARENT=containers
CG=/sys/fs/cgroup/cpuacct # the group's path inside a container
# Reads files inside with read(2) where the test needs a reference; the
# busybox-cat test checks that cat (sendfile) reads the same.
RD="head -n 100000"
BURN_LOOPS=${CT_BURN_LOOPS:-850000} # busybox sh loop turns, about 1 s
TESTS=(inside busybox-cat no-escape pid-namespace echo-0 exec exec-running non-root
	usage hooks hook-errors hook-cgroup2 two-containers daemon-restart)

T="" MNT="" RUNC_ROOT="" DAEMON_PID=""
N=0 PASSED=0 FAILED=0 SKIPPED=0
FAIL=0
CTS=()   # containers made by this run
KGRPS=() # kernel cpuacct groups runc made for them

# ---------------------------------------------------------------- reporting

diag() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do echo "# $line"; done
}

# fail TEXT: mark the running test failed and say why.
fail() {
	FAIL=1
	diag "$@"
}

# run_test NAME FUNCTION: run one test, print its result line.
run_test() {
	local name=$1 rc
	FAIL=0
	"$2"
	rc=$?
	N=$((N + 1))
	if [[ $rc == 77 ]]; then
		echo "ok $N - $LABEL: $name # SKIP $(cat "$T/skip")"
		SKIPPED=$((SKIPPED + 1))
	elif [[ $rc == 0 && $FAIL == 0 ]]; then
		echo "ok $N - $LABEL: $name"
		PASSED=$((PASSED + 1))
	else
		echo "not ok $N - $LABEL: $name"
		FAILED=$((FAILED + 1))
	fi
}

summary() {
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[[ $FAILED == 0 ]]
}

skip_everything() {
	local t
	for t in "${TESTS[@]}"; do
		N=$((N + 1))
		echo "ok $N - $LABEL: $t # SKIP $1"
		SKIPPED=$((SKIPPED + 1))
	done
	summary
	exit $?
}

# ---------------------------------------------------------------- setup

preflight() {
	local bb
	[[ $(id -u) == 0 ]] || skip_everything "not root"
	command -v runc >/dev/null || skip_everything "no runc"
	bb=$(command -v busybox) || skip_everything "no busybox"
	LC_ALL=C ldd "$bb" 2>&1 | grep -q 'not a dynamic' ||
		skip_everything "busybox is not static (install busybox-static)"
	[[ -c /dev/fuse ]] || skip_everything "no /dev/fuse"
	command -v fusermount3 >/dev/null || skip_everything "no fusermount3"
	grep -qE "^[^ ]+ $KROOT cgroup .*cpuacct" /proc/mounts ||
		skip_everything "no cgroup v1 cpuacct at $KROOT"
	perl -MJSON::PP -e 1 2>/dev/null || skip_everything "no perl JSON::PP"
}

make_rootfs() {
	local r=$T/rootfs d
	for d in bin proc sys dev tmp etc; do mkdir -p "$r/$d"; done
	cp "$(command -v busybox)" "$r/bin/busybox"
	chroot "$r" /bin/busybox --install -s /bin
	echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"
	echo 'user:x:1000:1000:user:/:/bin/sh' >>"$r/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\n' >"$r/etc/group"
	(cd "$T" && runc spec && mv config.json spec.json)
}

start_daemon() {
	local i
	MNT=$T/mnt
	mkdir -p "$MNT"
	"$DAEMON" -f --pidfile="$T/server.pid" "$MNT" >"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -f $MNT/cpuacct.usage ]] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# daemon did not come up:"
	sed 's/^/#   /' "$T/daemon.log"
	return 1
}

cleanup() {
	local id g i
	trap - EXIT INT TERM
	for id in "${CTS[@]}"; do
		rc kill "$id" KILL >/dev/null 2>&1
		rc delete -f "$id" >/dev/null 2>&1
	done
	for g in "${KGRPS[@]}"; do
		[[ $g != "$KROOT" && -d $g ]] || continue
		echo "# removing leftover kernel group $g"
		rmdir "$g" 2>/dev/null
	done
	if [[ -n $T ]] && mountpoint -q "$T/fake-cg2/rootfs/sys/fs/cgroup"; then
		umount -l "$T/fake-cg2/rootfs/sys/fs/cgroup"
	fi
	if [[ -n $MNT ]] && grep -q " $MNT fuse" /proc/mounts; then
		fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	if [[ -n $DAEMON_PID ]]; then
		for ((i = 0; i < 50; i++)); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	if [[ -n $T ]] && ! grep -q " $T/" /proc/mounts; then
		rm -rf --one-file-system "$T"
	fi
}

# ---------------------------------------------------------------- containers

rc() {
	timeout 60 runc --root "$RUNC_ROOT" "$@"
}

# make_bundle ID HOOKROOT ARGS...: $T/b/ID/config.json from runc's default
# spec: no cgroup mount but a tmpfs at /sys/fs/cgroup, no terminal, ARGS as
# the process, the hook at all three stages with --root=HOOKROOT (and the
# parent group through the hook's env), rootfs given relative to the bundle.
make_bundle() {
	local id=$1 root=$2
	shift 2
	mkdir -p "$T/b/$id"
	CT_TMPFS=${CT_TMPFS-1} perl -MJSON::PP -e '
		my ($spec, $hook, $root, $parent, @args) = @ARGV;
		open my $fh, "<", $spec or die "$spec: $!";
		my $c = JSON::PP->new->decode(do { local $/; <$fh> });
		$c->{process}{terminal} = JSON::PP::false;
		$c->{process}{args} = \@args;
		$c->{root}{path} = "../../rootfs";
		$c->{mounts} = [ grep { $_->{type} ne "cgroup" } @{ $c->{mounts} } ];
		push @{ $c->{mounts} }, {
			destination => "/sys/fs/cgroup", type => "tmpfs",
			source => "tmpfs",
			options => [ "nosuid", "noexec", "nodev", "mode=755", "size=64k" ] }
			if $ENV{CT_TMPFS};
		for my $stage (qw(createRuntime createContainer poststop)) {
			$c->{hooks}{$stage} = [ {
				path => $hook,
				args => [ "cpuacctfs-oci-hook", $stage, "--root=$root" ],
				env => [ "CPUACCTFS_PARENT=$parent" ] } ];
		}
		print JSON::PP->new->pretty->canonical->encode($c);
	' "$T/spec.json" "$HOOK" "$root" "$PARENT" "$@" >"$T/b/$id/config.json"
}

# start_ct ID ARGS...: run a container in the background with ARGS as init.
start_ct() {
	local id=$1
	shift
	start_ct_root "$id" "$MNT" "$@" && return 0
	fail "runc run $id failed:" "$(cat "$T/b/$id/err")"
	return 1
}

# start_ct_root ID HOOKROOT ARGS...: the same with the hook's --root given;
# runc's stderr is in $T/b/ID/err.

start_ct_root() {
	local id=$1 root=$2 pid
	shift 2
	make_bundle "$id" "$root" "$@" || return 1
	CTS+=("$id")
	rc run -d -b "$T/b/$id" --pid-file "$T/b/$id/pid" "$id" \
		</dev/null >"$T/b/$id/out" 2>"$T/b/$id/err" || return 1
	pid=$(<"$T/b/$id/pid")
	kgroup_of "$pid" >"$T/b/$id/kgroup"
	KGRPS+=("$(<"$T/b/$id/kgroup")")
}

# stop_ct ID: kill, wait until stopped, delete (runs the poststop hook).
stop_ct() {
	local id=$1 i
	rc kill "$id" KILL >/dev/null 2>&1
	for ((i = 0; i < 50; i++)); do
		rc state "$id" 2>/dev/null | grep -q '"status": "stopped"' && break
		sleep 0.1
	done
	rc delete "$id" >"$T/b/$id/delete.err" 2>&1 && return 0
	fail "runc delete $id failed:" "$(cat "$T/b/$id/delete.err")"
	rc delete -f "$id" >/dev/null 2>&1
	return 0
}

init_pid() {
	cat "$T/b/$1/pid"
}

# in_ct ID [runc exec options --] SCRIPT: run SCRIPT with sh in the container;
# stdout and stderr together on stdout; the status is the script's.
in_ct() {
	local id=$1
	shift
	local opts=()
	while [[ $# -gt 1 ]]; do
		[[ $1 == -- ]] && { shift; break; }
		opts+=("$1")
		shift
	done
	rc exec "${opts[@]}" "$id" sh -c "$1" </dev/null 2>&1
}

# kgroup_of PID: the kernel cpuacct group directory PID is in.
kgroup_of() {
	local path
	path=$(sed -nE 's/^[0-9]+:([^:]*,)?cpuacct(,[^:]*)?:(.*)$/\3/p' "/proc/$1/cgroup")
	echo "$KROOT${path%/}"
}

# nspid PID: PID as its own pid namespace sees it.
nspid() {
	awk '/^NSpid:/ { print $NF }' "/proc/$1/status"
}

# ids FILE: the ids in a tasks/cgroup.procs file, sorted, one line.
ids() {
	sort -n "$1" | tr '\n' ' '
}

# sorted TEXT: whitespace-separated numbers, sorted, on one line.
sorted() {
	tr -s '[:space:]' '\n' <<<"$1" | grep . | sort -n | tr '\n' ' '
}

# ids_inside ID FILE: the ids FILE lists inside the container, sorted, on
# one line, but for the reader itself: an exec'd process joins the group
# (as with the kernel's), so the reading shell is listed; it reads with a
# shell builtin so that no other reader is, after the daemon saw its
# birth.
ids_inside() {
	local out self
	# shellcheck disable=SC2016 # expanded by the container's sh
	out=$(in_ct "$1" 'sleep 0.1; while read -r l; do echo "$l"; done <'"$2"'; echo "self $$"')
	self=$(sed -n 's/^self //p' <<<"$out")
	sorted "$(grep -v '^self ' <<<"$out" | grep -vx "$self")"
}

ct_ps() {
	rc ps --format json "$1" | tr -d '[]' | tr ',' ' '
}

# expected_inside HOSTFILE: the ids of a host tasks file as the container sees them.
expected_inside() {
	local p out=""
	while read -r p; do out+="$(nspid "$p") "; done <"$1"
	sorted "$out"
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

in_file() { grep -qx "$1" "$2" 2>/dev/null; }

# has_tasks ID N: the container's group has at least N tasks.
has_tasks() {
	[[ $(wc -l <"$MNT/$PARENT/$1/tasks") -ge $2 ]]
}

is_comm() {
	[[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]
}

SLEEPER=(sh -c 'sleep 1000 & sleep 1000 & wait')

# ---------------------------------------------------------------- tests

t_inside() {
	local id=ct$$-inside out kg want
	start_ct "$id" "${SLEEPER[@]}" || return 1
	kg=$(<"$T/b/$id/kgroup")
	out=$(in_ct "$id" "$RD $CG/cpuacct.usage")
	[[ $out =~ ^[0-9]+$ ]] || fail "reading cpuacct.usage inside: '$out'"
	out=$(in_ct "$id" "ls $CG" | tr '\n' ' ')
	want=$(cd "$kg" && printf '%s ' *)
	[[ $out == "$want" ]] ||
		fail "ls inside: $out" "kernel group $kg: $want"
	out=$(in_ct "$id" "mkdir $CG/sub && $RD $CG/sub/cpuacct.usage") ||
		fail "mkdir inside: $out"
	[[ -f $MNT/$PARENT/$id/sub/cpuacct.usage ]] ||
		fail "host does not see $MNT/$PARENT/$id/sub"
	out=$(in_ct "$id" "rmdir $CG/sub") || fail "rmdir inside: $out"
	[[ ! -e $MNT/$PARENT/$id/sub ]] || fail "host still has $PARENT/$id/sub"
	stop_ct "$id"
}

# busybox cat (what most small images have) reads with sendfile(2); its
# output must be what read(2) gives, for a group with tasks in it.
t_busybox_cat() {
	local id=ct$$-cat f out want
	start_ct "$id" "${SLEEPER[@]}" || return 1
	# counters move between the two reads: compare them digits masked
	# (the exec'd sh joins the group when the daemon sees its birth: the
	# sleep lets it, so both lists hold the reader)
	for f in cpuacct.usage cpuacct.stat cpuacct.usage_all tasks cgroup.procs; do
		want=$(in_ct "$id" "sleep 0.1; $RD $CG/$f" | tr 0-9 9 | tr -s 9)
		out=$(in_ct "$id" "sleep 0.1; cat $CG/$f" | tr 0-9 9 | tr -s 9)
		[[ -n $out && $out == "$want" ]] ||
			fail "busybox cat $f inside: '$out'; read(2) gives '$want'"
	done
	stop_ct "$id"
}

t_no_escape() {
	local id=ct$$-escape out ipid
	start_ct "$id" "${SLEEPER[@]}" || return 1
	ipid=$(init_pid "$id")
	out=$(in_ct "$id" "ls -a $CG/.." | tr '\n' ' ')
	[[ $out == ". .. cpuacct " ]] || fail "ls -a $CG/.. inside: $out"
	out=$(in_ct "$id" "echo $DAEMON_PID > $CG/tasks; echo status=\$?")
	[[ $out == *"No such process"* && $out == *"status=1"* ]] ||
		fail "writing the daemon's host pid $DAEMON_PID inside: '$out' (want ESRCH)"
	! in_file "$DAEMON_PID" "$MNT/$PARENT/$id/tasks" ||
		fail "the daemon (pid $DAEMON_PID) was moved into $PARENT/$id"
	out=$(in_ct "$id" "mkdir $CG/sub && echo 1 > $CG/sub/tasks") ||
		fail "echo 1 > sub/tasks inside: $out"
	in_file "$ipid" "$MNT/$PARENT/$id/sub/tasks" ||
		fail "init (host pid $ipid) not in $PARENT/$id/sub/tasks: $(ids "$MNT/$PARENT/$id/sub/tasks")"
	! in_file 1 "$MNT/$PARENT/$id/sub/tasks" ||
		fail "the host's pid 1 was moved into $PARENT/$id/sub"
	stop_ct "$id"
}

t_pid_namespace() {
	local id=ct$$-pidns host ps inside want
	start_ct "$id" "${SLEEPER[@]}" || return 1
	wait_for 3 has_tasks "$id" 3
	host=$(ids "$MNT/$PARENT/$id/tasks")
	ps=$(sorted "$(ct_ps "$id")")
	[[ $host == "$ps" ]] || fail "host view of tasks: $host" "runc ps: $ps"
	want=$(expected_inside "$MNT/$PARENT/$id/tasks")
	inside=$(ids_inside "$id" "$CG/tasks")
	diag "host view: $host; inside: $inside; NSpid of host view: $want"
	[[ $inside == "$want" ]] || fail "tasks inside: $inside, want $want"
	[[ " $inside" == *" 1 "* ]] || fail "init (1) not listed inside"
	inside=$(ids_inside "$id" "$CG/cgroup.procs")
	[[ $inside == "$want" ]] || fail "cgroup.procs inside: $inside, want $want"
	stop_ct "$id"
}

t_echo_0() {
	local id=ct$$-echo0 f p
	start_ct "$id" "${SLEEPER[@]}" || return 1
	for f in tasks cgroup.procs; do
		rm -f "$T/x.pid"
		rc exec -d --pid-file "$T/x.pid" "$id" sh -c \
			"echo 0 > $CG/$f && exec sleep 1000" </dev/null >/dev/null 2>&1 ||
			{ fail "runc exec (echo 0 > $f) failed"; continue; }
		p=$(<"$T/x.pid")
		wait_for 3 in_file "$p" "$MNT/$PARENT/$id/tasks" ||
			fail "after echo 0 > $f the shell (host pid $p) is not in $PARENT/$id: $(ids "$MNT/$PARENT/$id/tasks")"
	done
	stop_ct "$id"
}

# A plain runc exec (what podman exec and docker exec run) lands in the
# container's group, as in the kernel's: its pid namespace is the one
# the adopted init registered.
t_exec() {
	local id=ct$$-exec p kg
	start_ct "$id" "${SLEEPER[@]}" || return 1
	kg=$(<"$T/b/$id/kgroup")
	rm -f "$T/x.pid"
	rc exec -d --pid-file "$T/x.pid" "$id" sleep 1000 </dev/null >/dev/null 2>&1 ||
		{ fail "runc exec failed"; stop_ct "$id"; return 1; }
	p=$(<"$T/x.pid")
	in_file "$p" "$kg/tasks" ||
		fail "the kernel did not put the exec'd process (host pid $p) in $kg"
	wait_for 3 in_file "$p" "$MNT/$PARENT/$id/tasks" ||
		fail "the exec'd process (host pid $p) is not in $PARENT/$id: $(ids "$MNT/$PARENT/$id/tasks")"
	in_file "$p" "$MNT/tasks" && fail "the exec'd process is still in the root group"
	stop_ct "$id"
}

# A runtime that moves its exec'd process while it runs (runc exec's init
# is often starting its Go runtime on the other CPU then): the kernel's
# group counts it from its last update before the move, up to a tick of
# run before the write, and so must ours. A busy loop in the container's
# pid namespace is moved, running, ten times (bpf backend; the others do
# not claim totals this close).
t_exec_running() {
	local id=ct$$-execrun kg ipid i n p k0 c0 k1 c1
	start_ct "$id" "${SLEEPER[@]}" || return 1
	kg=$(<"$T/b/$id/kgroup")
	ipid=$(init_pid "$id")
	sleep 0.3
	k0=$(<"$kg/cpuacct.usage") c0=$(<"$MNT/$PARENT/$id/cpuacct.usage")
	for ((i = 0; i < 10; i++)); do
		nsenter -t "$ipid" -p -- sh -c 'while :; do :; done' &
		n=$!
		wait_for 2 pgrep -P "$n" >/dev/null
		p=$(pgrep -P "$n")
		[[ -n $p ]] || { fail "no busy loop under nsenter $n"; kill "$n"; break; }
		sleep 0.05
		echo "$p" >"$kg/cgroup.procs" || fail "cannot move $p into $kg"
		sleep 0.1
		kill "$p"
		wait "$n" 2>/dev/null
	done
	sleep 0.3
	k1=$(<"$kg/cpuacct.usage") c1=$(<"$MNT/$PARENT/$id/cpuacct.usage")
	diag "moved while running: kernel +$((k1 - k0)) ns, cpuacctfs +$((c1 - c0)) ns"
	((k1 - k0 > 500000000)) || fail "the loops ran only $((k1 - k0)) ns in $kg"
	totals_check "$((k1 - k0))" "$((c1 - c0))" "of 10 moves"
	stop_ct "$id"
}

# The serving process is killed three times while the container reads
# its group in a loop: every read answers, and usage never goes down
# (issue 11: the holder keeps the container's bind mount alive).
t_daemon_restart() {
	local id=ct$$-restart reads=$T/restart.reads k old
	# the container's output goes to $T/b/ID/out (its rootfs is read-only)
	# shellcheck disable=SC2016 # expanded by the container's sh
	start_ct "$id" sh -c 'i=0; while [ $i -lt 300 ]; do
		if v=$(head -n 1 '"$CG"'/cpuacct.usage); then echo "$v"
		else echo FAIL; fi; i=$((i+1)); usleep 10000; done
		echo END; exec sleep 1000' || return 1
	sleep 0.5
	for k in 1 2 3; do
		old=$(<"$T/server.pid")
		kill -KILL "$old"
		wait_for 5 eval '[[ $(<"$T/server.pid") != "$old" ]]' ||
			fail "no new server after kill $k"
		sleep 0.8
	done
	wait_for 30 grep -q END "$T/b/$id/out" ||
		fail "the reading loop never ended: $(tail -n 3 "$T/b/$id/out")"
	grep -v END "$T/b/$id/out" >"$reads"
	if [[ -s $reads ]]; then
		grep -qv '^[0-9][0-9]*$' "$reads" &&
			fail "reads that failed or were not numbers:" \
				"$(grep -v '^[0-9][0-9]*$' "$reads" | sort | uniq -c | head -3)"
		sort -n -c "$reads" 2>/dev/null ||
			fail "usage went down between two reads"
		diag "$(wc -l <"$reads") reads across 3 kills of the server"
	fi
	in_file "$(init_pid "$id")" "$MNT/$PARENT/$id/tasks" ||
		fail "init is no longer in $PARENT/$id after the kills"
	rm -f "$reads"
	stop_ct "$id"
}

t_non_root() {
	local id=ct$$-user f out
	start_ct "$id" "${SLEEPER[@]}" || return 1
	for f in tasks cgroup.procs; do
		out=$(in_ct "$id" --user 1000:1000 -- "echo 0 > $CG/$f")
		[[ $? != 0 && $out == *"Permission denied"* ]] ||
			fail "uid 1000 writing 0 to $f inside: '$out' (want EACCES)"
	done
	out=$(in_ct "$id" --user 1000:1000 -- "mkdir $CG/x")
	[[ $out == *"Permission denied"* ]] || fail "uid 1000 mkdir inside: '$out'"
	stop_ct "$id"
}

# totals_check KERNEL CPUACCTFS [WHEN]: within 1 ms + 0.1 % of the kernel's
# total with the bpf backend (exact membership from the kernel's moments);
# other backends only note the difference.
totals_check() {
	local k=$1 c=$2 d
	d=$((k > c ? k - c : c - k))
	diag "totals${3:+ $3}: kernel $k, cpuacctfs $c (difference $((k - c)) ns)"
	[[ $(backend) == bpf ]] || return 0
	((d <= 1000000 + k / 1000)) ||
		fail "totals${3:+ $3} more than 1 ms + 0.1 % apart"
}

# backend: what the daemon logged it counts with.
backend() {
	sed -n 's/.*counting with the \([a-z]*\) backend.*/\1/p' "$T/daemon.log" | head -n 1
}

t_usage() {
	local id=ct$$-usage ipid kg k0 c0 k1 c1 i1 dk dc i pk="" pc=""
	# init idles until SIGUSR1, burns ~1 s in sh, then execs sleep.
	# shellcheck disable=SC2016 # expanded by the container's sh
	start_ct "$id" sh -c 'trap "kill \$s" USR1; sleep 1000 & s=$!; wait $s
		i=0; while [ $i -lt '"$BURN_LOOPS"' ]; do i=$((i+1)); done
		exec sleep 1000' || return 1
	ipid=$(init_pid "$id")
	kg=$(<"$T/b/$id/kgroup")
	# Baseline once runc init's start-up is over in both counters.
	for ((i = 0; i < 15; i++)); do
		sleep 0.2
		k0=$(<"$kg/cpuacct.usage") c0=$(<"$MNT/$PARENT/$id/cpuacct.usage")
		[[ $k0 == "${pk:-}" && $c0 == "${pc:-}" ]] && break
		pk=$k0 pc=$c0
	done
	rc kill "$id" USR1
	wait_for 10 is_comm "$ipid" sleep ||
		fail "the burner did not finish"
	sleep 0.2 # one sampling interval and then some
	k1=$(<"$kg/cpuacct.usage")
	c1=$(<"$MNT/$PARENT/$id/cpuacct.usage")
	i1=$(in_ct "$id" "$RD $CG/cpuacct.usage")
	dk=$((k1 - k0)) dc=$((c1 - c0))
	diag "baseline after $(((i + 1) * 200)) ms" "kernel $kg: $k0 -> $k1 (+$dk ns)" \
		"cpuacctfs from the host: $c0 -> $c1 (+$dc ns); inside: $i1"
	if ((dk < 500000000)); then
		fail "burned only $dk ns; raise CT_BURN_LOOPS"
	elif ((200 * (dc > dk ? dc - dk : dk - dc) > dk)); then
		fail "burn: cpuacctfs +$dc ns vs kernel +$dk ns: more than 0.5% apart"
	fi
	# the exec that reads inside joins the group and adds its own time
	((i1 >= c1)) || fail "inside reads $i1, less than the host's $c1"
	# Totals: the hook's adopt brings in what init and runc's first init
	# stages ran in the kernel group before the hook (bpf backend)
	totals_check "$k1" "$c1"
	# execs: the kernel's group counts runc exec's process from when
	# runc puts it in the container's cgroups, and so must we
	for i in 1 2 3; do rc exec "$id" true </dev/null >/dev/null 2>&1; done
	sleep 0.3
	totals_check "$(<"$kg/cpuacct.usage")" "$(<"$MNT/$PARENT/$id/cpuacct.usage")" "after 3 execs"
	stop_ct "$id"
}

t_hooks() {
	local id=ct$$-hooks ipid kg g
	g=$MNT/$PARENT/$id
	start_ct "$id" "${SLEEPER[@]}" || return 1
	ipid=$(init_pid "$id")
	kg=$(<"$T/b/$id/kgroup")
	[[ -d $g ]] || fail "createRuntime did not make $g"
	in_file "$ipid" "$g/cgroup.procs" ||
		fail "init (host pid $ipid) not in $g/cgroup.procs: $(ids "$g/cgroup.procs")"
	mountpoint -q "$T/rootfs/sys" &&
		fail "the container's mounts leaked into the host"
	in_ct "$id" "mkdir $CG/left" >/dev/null # poststop removes subgroups too
	stop_ct "$id"
	[[ ! -e $g ]] || fail "poststop did not remove $g:" "$(cat "$T/b/$id/delete.err")"
	[[ ! -d $kg ]] || fail "runc delete left the kernel group $kg"
	if rc state "$id" >/dev/null 2>&1; then fail "runc still knows $id"; fi
}

t_hook_errors() {
	local id=ct$$-nodaemon err
	mkdir -p "$T/empty"
	start_ct_root "$id" "$T/empty" "${SLEEPER[@]}" &&
		fail "runc run succeeded without a cpuacctfs at the hook's root"
	err=$(cat "$T/b/$id/err")
	[[ $err == *"cpuacctfs-oci-hook createRuntime: no cpuacctfs mounted at $T/empty"* ]] ||
		fail "runc's error: $err"
	diag "runc said: $(tail -n 1 <<<"$err")"
	rc delete -f "$id" >/dev/null 2>&1
	if rc state "$id" >/dev/null 2>&1; then fail "failed container $id left behind"; fi
	id=ct$$-notmpfs
	CT_TMPFS="" start_ct_root "$id" "$MNT" "${SLEEPER[@]}" &&
		fail "runc run succeeded without a tmpfs at /sys/fs/cgroup"
	err=$(cat "$T/b/$id/err")
	[[ $err == *"createContainer: "*"/sys/fs/cgroup is not a mount point in the container"* ]] ||
		fail "runc's error without the tmpfs: $err"
	rc delete -f "$id" >/dev/null 2>&1
	[[ ! -e $MNT/$PARENT/$id ]] || diag "note: a failed create leaves $PARENT/$id (runc runs no poststop for it)"
	err=$(echo '{"id":"x","pid":0}' | "$HOOK" createRuntime --root="$MNT" 2>&1)
	[[ $? != 0 && $err == *"no init pid"* ]] || fail "pid 0: '$err'"
	err=$(echo '{"id":"../x","pid":1}' | "$HOOK" createRuntime --root="$MNT" 2>&1)
	[[ $? != 0 && $err == *"bad container id"* ]] || fail "id ../x: '$err'"
	err=$(echo '{"id":"x"}' | "$HOOK" poststop --root="$MNT" 2>&1) ||
		fail "poststop of a missing group: '$err'"
	err=$(echo '{"id":"x"}' | CPUACCTFS_OPTIONAL=1 "$HOOK" createRuntime --root="$T/empty" 2>&1) ||
		fail "--optional without a daemon failed: '$err'"
	if [[ -z $err ]]; then fail "--optional without a daemon said nothing"; fi
}

# A fake bundle whose /sys/fs/cgroup is a cgroup2 mount (a privileged
# container on a v2 host): createContainer must refuse and make nothing.
t_hook_cgroup2() {
	local id=ct$$-cg2 b=$T/fake-cg2 cg err rc
	cg=$b/rootfs/sys/fs/cgroup
	mkdir -p "$cg" "$MNT/$PARENT/$id"
	echo '{"root": {"path": "rootfs"}}' >"$b/config.json"
	if ! mount -t cgroup2 none "$cg" 2>"$b/mount.err"; then
		rmdir "$MNT/$PARENT/$id"
		echo "cannot mount cgroup2: $(cat "$b/mount.err")" >"$T/skip"
		return 77
	fi
	err=$(printf '{"id":"%s","pid":1,"bundle":"%s"}' "$id" "$b" |
		"$HOOK" createContainer --root="$MNT" 2>&1)
	rc=$?
	[[ $rc != 0 ]] || fail "the hook accepted a cgroup2 /sys/fs/cgroup"
	[[ $err == *"$cg is a cgroup2fs mount, not a tmpfs"* ]] ||
		fail "the hook's message: '$err'"
	diag "the hook said: $err"
	if [[ -e $cg/cpuacct ]]; then
		fail "the hook created $cg/cpuacct"
		umount "$cg/cpuacct" 2>/dev/null # its bind mount
		rmdir "$cg/cpuacct" # a real kernel cgroup
	fi
	umount "$cg"
	rmdir "$MNT/$PARENT/$id"
}

t_two_containers() {
	local a=ct$$-a b=ct$$-b x out want bh
	start_ct "$a" "${SLEEPER[@]}" || return 1
	start_ct "$b" "${SLEEPER[@]}" || return 1
	wait_for 3 has_tasks "$a" 3
	wait_for 3 has_tasks "$b" 3
	for x in "$a" "$b"; do
		[[ -d $MNT/$PARENT/$x ]] || fail "host has no group $PARENT/$x"
		out=$(ids "$MNT/$PARENT/$x/cgroup.procs")
		want=$(sorted "$(ct_ps "$x")")
		[[ $out == "$want" ]] || fail "host view of $x: $out, runc ps: $want"
	done
	bh=$(ids "$MNT/$PARENT/$b/tasks")
	for x in "$a" "$b"; do
		out=$(in_ct "$x" "ls -a $CG/.. ; ls $CG" | tr '\n' ' ')
		[[ $out != *ct$$-* ]] || fail "$x sees another container's group: $out"
		want=$(expected_inside "$MNT/$PARENT/$x/tasks")
		out=$(ids_inside "$x" "$CG/tasks")
		[[ $out == "$want" ]] || fail "tasks inside $x: $out, want $want"
	done
	out=$(ids_inside "$a" "$CG/tasks")
	for x in $bh; do
		[[ " $out" != *" $x "* ]] || fail "$a lists $x, a host pid of $b"
	done
	x=$(init_pid "$b")
	out=$(in_ct "$a" "echo $x > $CG/tasks; echo status=\$?")
	[[ $out == *"No such process"* && $out == *"status=1"* ]] ||
		fail "writing $b's init (host pid $x) inside $a: '$out' (want ESRCH)"
	in_file "$x" "$MNT/$PARENT/$b/tasks" || fail "$b's init left its group"
	stop_ct "$a"
	stop_ct "$b"
}

# ---------------------------------------------------------------- main

main() {
	local t
	if [[ -z $DAEMON || ! -x $DAEMON ]]; then
		echo "usage: $0 DAEMON_BINARY" >&2
		exit 2
	fi
	preflight
	T=$(mktemp -d /tmp/cpuacctfs-ct.XXXXXX)
	RUNC_ROOT=$T/runc
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	make_rootfs >"$T/rootfs.log" 2>&1 ||
		{ sed 's/^/# /' "$T/rootfs.log"; skip_everything "cannot build the rootfs"; }
	start_daemon || skip_everything "daemon failed to start"
	for t in "${TESTS[@]}"; do
		[[ -z ${CT_ONLY:-} || $t == *"$CT_ONLY"* ]] || continue
		run_test "$t" "t_${t//-/_}"
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			wait "$DAEMON_PID" 2>/dev/null
			echo "# the daemon died (exit status $?); its log:"
			tail -n 30 "$T/daemon.log" | sed 's/^/#   /'
			break
		fi
	done
	summary
}

main "$@"
