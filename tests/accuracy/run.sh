#!/bin/bash
# Accuracy harness: run each workload in a real kernel cgroup v1 cpuacct
# group and in a cpuacctfs group at the same time, and compare the two.
#
# Usage: bash tests/accuracy/run.sh DAEMON_BINARY BURN_BINARY
#
# Environment:
#   ACC_ONLY="threads mixed"  workloads to run (default: all of threads
#                             mixed forkstorm moved nested livestat staleness
#                             overload stopped)
#   ACC_LABEL=accuracy        label used in the TAP lines
#   ACC_DAEMON_ARGS=...       extra daemon arguments (word-split)
#   ACC_BACKEND=bpf           the backend the daemon must log ("counting
#                             with the bpf backend"); the run fails if it
#                             logs another. Unset: whatever it logs. The
#                             targets follow the backend measured (below)
#   ACC_TIMEOUT=300           seconds before a watchdog kills a hung daemon
#   ACC_SETTLE=0.15           wait before the final reads; the targets hold
#                             for the default, a longer wait only helps to
#                             tell staleness from lost time
#   ACC_KILLS=30              SIGKILL the serving process this many times,
#   ACC_KILL_EVERY=2          this many seconds apart, while the workloads
#                             run (issue 11: the holder starts it again and
#                             the counts must come through)
#   ACC_SELFTEST=1            no daemon: the "cpuacctfs" side reads the very
#                             same kernel group (zero deviation expected);
#                             validates the harness itself
#
# Each workload (burn MODE) starts paused; the driver writes its pid into
# the kernel group's and the cpuacctfs group's cgroup.procs, then releases
# it.  While it runs, usage is sampled live on both sides; when it has been
# reaped the driver waits SETTLE (150 ms: the staleness allowance granted
# to cpuacctfs) and reads the final values.
#
# Deviation rules (cpuacctfs minus kernel, same run):
#   usage          |d| <= pct% of the kernel value
#   usage_percpu   per CPU, |d| <= pct% of that CPU's kernel value; when
#                  that value is below 2% of the group's total usage, the
#                  absolute difference is compared with pct% of the total
#                  instead (the table says "of total")
#   stat           |d| <= pct% of the kernel value + 2 ticks
#   usage_user,    the tick sums stat is scaled from, in ns: the same
#   usage_sys      target, a tick being 10 ms (USER_HZ)
#   live           each sample reads kernel, cpuacctfs, kernel; the lag is
#                  (k1 + k2) / 2 - f.  The lag must stay within 100 ms of
#                  wall time, i.e. 100 ms x min(busy threads, CPUs) of CPU
#                  time; cpuacctfs may lead the later kernel read by at
#                  most the usage pct% + 2 ms; and it must never go
#                  backwards (see sample_live)
#   exact          with the bpf backend (and in the self-test): stat,
#                  usage_user, usage_sys and, per CPU, usage_percpu_user
#                  and usage_percpu_sys equal the kernel's, usage and
#                  usage_percpu within 0.01%, in every workload
#   live stat      (livestat: the mixed workload with cpuacct.stat read
#                  every 50 ms, as a monitoring agent would) each value
#                  read between two kernel reads is within the stat
#                  target of the kernel's window plus the live lag in
#                  ticks; the final values then meet the stat target
#
# Output: TAP-like "ok N - LABEL: workload file" lines, then the table
# (lines starting with "#"), then one line "N passed, N failed, N skipped".
#
# ShellCheck 0.9 reports every function as unreachable (SC2317) once an
# EXIT trap is set: a known false positive.
# shellcheck disable=SC2317
set -u

DAEMON=${1:-}
BURN=${2:-}
LABEL=${ACC_LABEL:-accuracy}
ONLY=${ACC_ONLY:-threads mixed forkstorm moved nested livestat staleness overload stopped}
WANT_BACKEND=${ACC_BACKEND:-}
BACKEND=		# what the daemon logs it counts with
EXACT=0		# 1: the bpf targets (the kernel's own numbers)
EXACT_PCT=0.01
FILE_TAG=		# put before the file names of check's lines
SELFTEST=${ACC_SELFTEST:-0}
TIMEOUT=${ACC_TIMEOUT:-300}
read -ra DAEMON_ARGS <<<"${ACC_DAEMON_ARGS:-}"

KROOT=/sys/fs/cgroup/cpuacct
SETTLE=${ACC_SETTLE:-0.15}
LIVE_LAG_MS=100
TICK_SLACK=2
PREFIX=acc$$

NTEST=0
NPASS=0
NFAIL=0
NSKIP=0
TABLE=()
KGROUPS=()	# kernel groups created, in creation order
FGROUPS=()	# cpuacctfs groups created, in creation order
PIDS=()		# burn processes started
FDS=()		# write ends of the release fifos
MNT=
DAEMON_PID=
WATCHDOG_PID=
TMP=
CLEANED=0

# ---------------------------------------------------------------- output

# tap ok|fail|skip WHAT [NOTE...]
tap() {
	local verdict=$1 what=$2 note="${*:3}"

	NTEST=$((NTEST + 1))
	case $verdict in
	ok)
		NPASS=$((NPASS + 1))
		echo "ok $NTEST - $LABEL: $what${note:+ # $note}"
		;;
	skip)
		NSKIP=$((NSKIP + 1))
		echo "ok $NTEST - $LABEL: $what # SKIP $note"
		;;
	*)
		NFAIL=$((NFAIL + 1))
		echo "not ok $NTEST - $LABEL: $what${note:+ # $note}"
		;;
	esac
}

row() {
	TABLE+=("$(printf '%-10s %-38s %12s %12s %18s %s' "$@")")
}

diag() {
	echo "# $*"
}

# Compare F against K by an awk rule, add a table row and a TAP line.
#   check WORKLOAD FILE K F KIND PCT [TOTAL]
# KIND: rel (usage), cpu (usage_percpu, TOTAL = group usage), tick (stat),
# tickns (usage_user/sys: ns, with the slack of stat's ticks), exact
# (equal; PCT unused).
check() {
	local wl=$1 file=$FILE_TAG$2 k=$3 f=$4 kind=$5 pct=$6 total=${7:-0} out

	if ! [[ $k =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
		row "$wl" "$file" "${k:-?}" "${f:-?}" "unreadable" "$pct%"
		tap fail "$wl $file" "unreadable value (kernel '$k', cpuacctfs '$f')"
		return
	fi
	out=$(awk -v k="$k" -v f="$f" -v kind="$kind" -v p="$pct" \
		-v total="$total" -v slack="$TICK_SLACK" 'BEGIN {
		d = f - k; ad = d < 0 ? -d : d
		rel = k > 0 ? sprintf("%+.3f%%", 100 * d / k) : \
			(d == 0 ? "+0.000%" : "inf")
		if (kind == "exact") {
			bound = 0
			dev = sprintf("%+d", d)
			tgt = "equal"
		} else if (kind == "tick") {
			bound = p / 100 * k + slack
			dev = sprintf("%+d ticks", d)
			tgt = p "% + " slack " ticks"
		} else if (kind == "tickns") {
			bound = p / 100 * k + slack * 10000000
			dev = sprintf("%+.1f ms", d / 1e6)
			tgt = p "% + " slack " ticks"
		} else if (kind == "cpu" && k < 0.02 * total) {
			bound = p / 100 * total
			dev = total > 0 ? sprintf("%+.3f%% of total", \
				100 * d / total) : rel
			tgt = p "% of total"
		} else {
			bound = p / 100 * k
			dev = rel
			tgt = p "%"
		}
		printf "%s\t%s\t%s\n", ad <= bound ? "ok" : "fail", dev, tgt
	}')
	local verdict dev tgt
	IFS=$'\t' read -r verdict dev tgt <<<"$out"
	row "$wl" "$file" "$k" "$f" "$dev" "$tgt"
	tap "$verdict" "$wl $file"
}

# ---------------------------------------------------------------- groups

kdir() { echo "$KROOT/$1"; }

fdir() {
	if [[ $SELFTEST == 1 ]]; then
		echo "$KROOT/$1"
	else
		echo "$MNT/$1"
	fi
}

mkgroup() {
	local name=$1

	mkdir "$KROOT/$name" || return 1
	KGROUPS+=("$name")
	[[ $SELFTEST == 1 ]] && return 0
	mkdir "$MNT/$name" || return 1
	FGROUPS+=("$name")
}

# Put a task into a group of both hierarchies.
move() {
	local pid=$1 name=$2

	echo "$pid" >"$KROOT/$name/cgroup.procs" || return 1
	[[ $SELFTEST == 1 ]] && return 0
	echo "$pid" >"$MNT/$name/cgroup.procs"
}

# ---------------------------------------------------------------- burn

# start_burn MODE [ARGS]: start burn paused; sets BURN_PID, BURN_FD.
start_burn() {
	local n=${#PIDS[@]} fifo pid line fd i

	fifo=$TMP/go.$n
	mkfifo "$fifo" || return 1
	: >"$TMP/burn.$n.out"
	"$BURN" "$@" <"$fifo" >"$TMP/burn.$n.out" 2>"$TMP/burn.$n.err" &
	pid=$!
	PIDS+=("$pid")
	exec {fd}>"$fifo"
	FDS+=("$fd")
	# Wait for the pid line: burn has then exec'd and blocks in read().
	for ((i = 0; i < 500; i++)); do
		line=
		read -r line <"$TMP/burn.$n.out"
		[[ -n $line ]] && break
		sleep 0.01
	done
	if [[ $line != "$pid" ]]; then
		diag "burn $* did not start: $(cat "$TMP/burn.$n.err")"
		return 1
	fi
	BURN_PID=$pid
	BURN_FD=$fd
}

release() {
	local fd=$1

	printf g >&"$fd"
	exec {fd}>&-
}

# alive PID: true while PID exists and is not a zombie.
alive() {
	local stat state

	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	state=${stat##*) }
	state=${state%% *}
	[[ $state != Z && $state != X ]]
}

any_alive() {
	local pid

	for pid in "$@"; do
		alive "$pid" && return 0
	done
	return 1
}

# reap WORKLOAD PID...: wait for the burns and report their exit status.
reap() {
	local wl=$1 pid rc bad=0

	shift
	for pid in "$@"; do
		wait "$pid"
		rc=$?
		if ((rc != 0)); then
			bad=1
			diag "burn pid $pid exited with status $rc"
		fi
	done
	if ((bad)); then
		tap fail "$wl workload ran"
		return 1
	fi
	return 0
}

# stopped PID: wait (up to 1 s) until PID is in state T.
stopped() {
	local stat state i

	for ((i = 0; i < 100; i++)); do
		read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
		state=${stat##*) }
		state=${state%% *}
		[[ $state == T || $state == t ]] && return 0
		sleep 0.01
	done
	return 1
}

# ---------------------------------------------------------------- reading

num_or_empty() {
	[[ $1 =~ ^[0-9]+$ ]] && echo "$1"
}

# read_usage DIR: sets USAGE
read_usage() {
	local v=

	read -r v 2>/dev/null <"$1/cpuacct.usage"
	USAGE=$(num_or_empty "$v")
}

# read_value DIR FILE: prints the number in DIR/FILE, or nothing
read_value() {
	local v=

	read -r v 2>/dev/null <"$1/$2"
	num_or_empty "$v"
}

# read_percpu DIR: sets PERCPU (array)
read_percpu() {
	PERCPU=()
	read -ra PERCPU 2>/dev/null <"$1/cpuacct.usage_percpu"
}

# read_stat DIR: sets STAT_USER, STAT_SYS
read_stat() {
	local key val

	STAT_USER=
	STAT_SYS=
	while read -r key val; do
		case $key in
		user) STAT_USER=$val ;;
		system) STAT_SYS=$val ;;
		esac
	done 2>/dev/null <"$1/cpuacct.stat"
}

# Live sampling of usage while the burns run.
#   sample_live GROUP INTERVAL BUSY PCT PID...
# Each sample reads kernel (k1), cpuacctfs (f), kernel (k2).  The lag is
# (k1 + k2) / 2 - f; a sample whose window k2 - k1 exceeds 10 ms of wall
# time (10 ms x BUSY CPUs of CPU time: the sampler was preempted or the
# read was slow) is not "the same moment" and does not count towards the
# lag.  The lead f - k2 is checked on every sample: f was read before k2.
# Sets LIVE_N, LIVE_WIDE (samples left out of the lag), LIVE_MAXLAG,
# LIVE_SUMLAG (ns), LIVE_MAXLEAD_EXCESS (ns over PCT% of k2),
# LIVE_BACKWARDS (f went down, or a value was unreadable).
sample_live() {
	local k=$KROOT/$1/cpuacct.usage f interval=$2 cpus=$3 bp k1 k2 fv
	local lag excess prev=0 wide

	f=$(fdir "$1")/cpuacct.usage
	((cpus > NCPU)) && cpus=$NCPU
	wide=$((10000000 * cpus))
	bp=$(awk -v p="$4" 'BEGIN { print int(p * 100 + 0.5) }')
	shift 4
	LIVE_N=0
	LIVE_WIDE=0
	LIVE_MAXLAG=0
	LIVE_SUMLAG=0
	LIVE_MAXLEAD_EXCESS=-1000000000000
	LIVE_BACKWARDS=0
	while any_alive "$@"; do
		k1='' fv='' k2=''
		read -r k1 <"$k"
		read -r fv <"$f"
		read -r k2 <"$k"
		if ! [[ $k1 =~ ^[0-9]+$ && $fv =~ ^[0-9]+$ &&
			$k2 =~ ^[0-9]+$ ]]; then
			LIVE_BACKWARDS=$((LIVE_BACKWARDS + 1))
			sleep "$interval"
			continue
		fi
		((fv < prev)) && LIVE_BACKWARDS=$((LIVE_BACKWARDS + 1))
		prev=$fv
		excess=$((fv - k2 - k2 * bp / 10000))
		((excess > LIVE_MAXLEAD_EXCESS)) && LIVE_MAXLEAD_EXCESS=$excess
		if ((k2 - k1 > wide)); then
			LIVE_WIDE=$((LIVE_WIDE + 1))
		else
			lag=$(((k1 + k2) / 2 - fv))
			LIVE_N=$((LIVE_N + 1))
			LIVE_SUMLAG=$((LIVE_SUMLAG + lag))
			((lag > LIVE_MAXLAG)) && LIVE_MAXLAG=$lag
		fi
		sleep "$interval"
	done
}

# live_checks WORKLOAD BUSY PCT [LAG_LABEL]: assertions on the last
# sample_live.  The lag may reach 100 ms of wall time, that is
# 100 ms x min(BUSY, CPUs) of CPU time.
live_checks() {
	local wl=$1 cpus=$2 pct=$3 what=${4:-live usage lag} limit mean

	((cpus > NCPU)) && cpus=$NCPU
	limit=$((LIVE_LAG_MS * cpus))
	if ((LIVE_N == 0 || LIVE_N < LIVE_WIDE)); then
		row "$wl" "$what (ms CPU)" "-" "-" \
			"$LIVE_N ok, $LIVE_WIDE wide" "<= $limit ms"
		tap fail "$wl $what" "too few usable samples:" \
			"$LIVE_N, $LIVE_WIDE with a window over $((10 * cpus)) ms"
	else
		mean=$(awk -v s="$LIVE_SUMLAG" -v n="$LIVE_N" \
			'BEGIN { printf "%.1f", s / n / 1e6 }')
		row "$wl" "$what (ms CPU), $LIVE_N+$LIVE_WIDE samples" "-" \
			"mean $mean" "max $(ms "$LIVE_MAXLAG")" "max <= $limit ms"
		LIVE_MEAN=$mean
		if ((LIVE_MAXLAG <= limit * 1000000)); then
			tap ok "$wl $what"
		else
			tap fail "$wl $what"
		fi
	fi
	row "$wl" "live usage lead beyond $pct% (ms CPU)" "-" "-" \
		"max $(ms "$LIVE_MAXLEAD_EXCESS")" "<= 2 ms"
	if ((LIVE_MAXLEAD_EXCESS <= 2000000 && LIVE_BACKWARDS == 0)); then
		tap ok "$wl live usage lead/monotonic"
	else
		tap fail "$wl live usage lead/monotonic" \
			"lead $(ms "$LIVE_MAXLEAD_EXCESS") ms beyond $pct%," \
			"backwards/unreadable $LIVE_BACKWARDS"
	fi
}

ms() {
	awk -v v="$1" 'BEGIN { printf "%.1f", v / 1e6 }'
}

# exact_checks WORKLOAD KDIR FDIR: the split per CPU, which only the bpf
# backend has from the kernel's own ticks: equal, CPU by CPU.
exact_checks() {
	local wl=$1 kd=$2 fd=$3 file i
	local -a kv fv

	for file in cpuacct.usage_percpu_user cpuacct.usage_percpu_sys; do
		read -ra kv 2>/dev/null <"$kd/$file"
		read -ra fv 2>/dev/null <"$fd/$file"
		if ((${#kv[@]} != ${#fv[@]} || ${#kv[@]} == 0)); then
			row "$wl" "$file" "${#kv[@]} cpus" "${#fv[@]} cpus" "-" \
				"same count"
			tap fail "$wl $file" "wrong number of CPUs"
			continue
		fi
		for i in "${!kv[@]}"; do
			check "$wl" "$file cpu$i" "${kv[i]}" "${fv[i]}" exact 0
		done
	done
}

# final_checks WORKLOAD GROUP PCT_USAGE PCT_CPU PCT_STAT: the targets given,
# or with the bpf backend the exact ones whatever the workload.
final_checks() {
	local wl=$1 kd fd i ku kstu ksts kuu kus tk=tick tn=tickns
	local -a kpc

	kd=$(kdir "$2")
	fd=$(fdir "$2")
	read_usage "$kd"
	ku=$USAGE
	read_percpu "$kd"
	kpc=("${PERCPU[@]}")
	read_stat "$kd"
	kstu=$STAT_USER
	ksts=$STAT_SYS
	kuu=$(read_value "$kd" cpuacct.usage_user)
	kus=$(read_value "$kd" cpuacct.usage_sys)
	if ((EXACT)); then
		set -- "$1" "$2" "$EXACT_PCT" "$EXACT_PCT" 0
		tk=exact tn=exact
	fi

	read_usage "$fd"
	check "$wl" cpuacct.usage "$ku" "$USAGE" rel "$3"
	read_percpu "$fd"
	if ((${#PERCPU[@]} != ${#kpc[@]})); then
		row "$wl" cpuacct.usage_percpu "${#kpc[@]} cpus" \
			"${#PERCPU[@]} cpus" "-" "same count"
		tap fail "$wl cpuacct.usage_percpu" "wrong number of CPUs"
	else
		for i in "${!kpc[@]}"; do
			check "$wl" "cpuacct.usage_percpu cpu$i" "${kpc[i]}" \
				"${PERCPU[i]}" cpu "$4" "$ku"
		done
	fi
	read_stat "$fd"
	check "$wl" "cpuacct.stat user" "$kstu" "$STAT_USER" $tk "$5"
	check "$wl" "cpuacct.stat system" "$ksts" "$STAT_SYS" $tk "$5"
	check "$wl" cpuacct.usage_user "$kuu" \
		"$(read_value "$fd" cpuacct.usage_user)" $tn "$5"
	check "$wl" cpuacct.usage_sys "$kus" \
		"$(read_value "$fd" cpuacct.usage_sys)" $tn "$5"
	((EXACT)) && exact_checks "$wl" "$kd" "$fd"
}

# sample_live_stat GROUP INTERVAL PID...: while a PID runs, read the
# kernel's cpuacct.stat, ours, the kernel's again. Sets LS_N, LS_BAD
# (unreadable), LS_MAXOUT and LS_SUMOUT: ticks by which user or system
# fell outside the kernel's two reads, less the stat target.
sample_live_stat() {
	local kd fd interval=$2 ku1 ks1 fu fs ku2 ks2 out pct=$3

	kd=$(kdir "$1")
	fd=$(fdir "$1")
	shift 3
	LS_N=0
	LS_BAD=0
	LS_MAXOUT=0
	LS_SUMOUT=0
	while any_alive "$@"; do
		read_stat "$kd"
		ku1=$STAT_USER ks1=$STAT_SYS
		read_stat "$fd"
		fu=$STAT_USER fs=$STAT_SYS
		read_stat "$kd"
		ku2=$STAT_USER ks2=$STAT_SYS
		if ! [[ $ku1.$ks1.$fu.$fs.$ku2.$ks2 =~ ^[0-9]+(\.[0-9]+){5}$ ]]; then
			LS_BAD=$((LS_BAD + 1))
		else
			out=$(awk -v a="$ku1" -v b="$ku2" -v f="$fu" \
				-v c="$ks1" -v d="$ks2" -v g="$fs" -v p="$pct" \
				-v s="$TICK_SLACK" 'function o(lo, hi, v, t) {
					t = hi * p / 100 + s
					if (v < lo - t) return lo - t - v
					if (v > hi + t) return v - hi - t
					return 0
				}
				BEGIN { x = o(a, b, f); y = o(c, d, g)
					printf "%d", (x > y ? x : y) + 0.999 }')
			LS_N=$((LS_N + 1))
			LS_SUMOUT=$((LS_SUMOUT + out))
			((out > LS_MAXOUT)) && LS_MAXOUT=$out
		fi
		sleep "$interval"
	done
}

# ---------------------------------------------------------------- workloads

# simple WORKLOAD BUSY PCT_USAGE PCT_CPU PCT_STAT BURN_ARGS...
simple() {
	local wl=$1 busy=$2 pu=$3 pc=$4 ps=$5 g=$PREFIX-$1 pid

	shift 5
	if ! mkgroup "$g" || ! start_burn "$@" || ! move "$BURN_PID" "$g"; then
		tap fail "$wl setup"
		return
	fi
	pid=$BURN_PID
	release "$BURN_FD"
	sample_live "$g" 0.05 "$busy" "$pu" "$pid"
	reap "$wl" "$pid" || return
	sleep "$SETTLE"
	final_checks "$wl" "$g" "$pu" "$pc" "$ps"
	live_checks "$wl" "$busy" "$pu"
}

wl_threads() {
	simple threads 4 0.5 3 2 threads 4 1.5
}

wl_mixed() {
	simple mixed 3 0.5 3 2 mixed
}

wl_forkstorm() {
	simple forkstorm 1 2 5 5 forkstorm 3000
}

# mixed, with cpuacct.stat read live on both sides: every read moves
# what the kernel's (and our) cputime_adjust reported last, so the final
# values are those an agent polling stat would see.
wl_livestat() {
	local wl=livestat g=$PREFIX-livestat pid limit cpus=2

	((cpus > NCPU)) && cpus=$NCPU
	limit=$((LIVE_LAG_MS * cpus / 10))
	if ! mkgroup "$g" || ! start_burn mixed || ! move "$BURN_PID" "$g"; then
		tap fail "$wl setup"
		return
	fi
	pid=$BURN_PID
	release "$BURN_FD"
	sample_live_stat "$g" 0.05 2 "$pid"
	reap "$wl" "$pid" || return
	sleep "$SETTLE"
	final_checks "$wl" "$g" 0.5 3 2
	row "$wl" "live stat beyond target (ticks), $LS_N samples" "-" \
		"mean $((LS_N ? LS_SUMOUT / LS_N : 0))" "max $LS_MAXOUT" \
		"max <= $limit"
	if ((LS_N > 0 && LS_BAD == 0 && LS_MAXOUT <= limit)); then
		tap ok "$wl live cpuacct.stat"
	else
		tap fail "$wl live cpuacct.stat" "$LS_N samples," \
			"$LS_BAD unreadable, max $LS_MAXOUT ticks beyond"
	fi
}

# A task spins 2 s of CPU; after ~1 s it moves from m1 to m2.  It is
# stopped (SIGSTOP) across the two cgroup.procs writes, so that both
# hierarchies see the move at the same point of its CPU time.
wl_moved() {
	local wl=moved g1=$PREFIX-m1 g2=$PREFIX-m2 pid k1 f1

	if ! mkgroup "$g1" || ! mkgroup "$g2" || ! start_burn spin 2 ||
		! move "$BURN_PID" "$g1"; then
		tap fail "$wl setup"
		return
	fi
	pid=$BURN_PID
	release "$BURN_FD"
	sleep 1
	kill -STOP "$pid"
	if ! stopped "$pid" || ! move "$pid" "$g2"; then
		kill -CONT "$pid"
		tap fail "$wl move"
		return
	fi
	kill -CONT "$pid"
	sleep "$SETTLE"
	# The old group, 150 ms after the move: it keeps the past.
	read_usage "$(kdir "$g1")"
	k1=$USAGE
	read_usage "$(fdir "$g1")"
	f1=$USAGE
	check "$wl" "cpuacct.usage m1 after move" "$k1" "$f1" rel 0.5
	sample_live "$g2" 0.05 1 0.5 "$pid"
	reap "$wl" "$pid" || return
	sleep "$SETTLE"
	read_usage "$(kdir "$g1")"
	k1=$USAGE
	read_usage "$(fdir "$g1")"
	check "$wl" "cpuacct.usage m1 (old) final" "$k1" "$USAGE" rel 0.5
	read_usage "$(kdir "$g2")"
	k1=$USAGE
	read_usage "$(fdir "$g2")"
	check "$wl" "cpuacct.usage m2 (new) final" "$k1" "$USAGE" rel 0.5
	live_checks "$wl" 1 0.5
}

# Parent "nest" with leaves a and b, each running "threads 2 0.75".
wl_nested() {
	local wl=nested p=$PREFIX-nest pid_a pid_b fd_a fd_b g i try
	local fp1 fa fb fp2 bad k
	local -a pp1 pa pb pp2

	if ! mkgroup "$p" || ! mkgroup "$p/a" || ! mkgroup "$p/b" ||
		! start_burn threads 2 0.75 || ! move "$BURN_PID" "$p/a"; then
		tap fail "$wl setup"
		return
	fi
	pid_a=$BURN_PID
	fd_a=$BURN_FD
	if ! start_burn threads 2 0.75 || ! move "$BURN_PID" "$p/b"; then
		tap fail "$wl setup"
		return
	fi
	pid_b=$BURN_PID
	fd_b=$BURN_FD
	release "$fd_a"
	release "$fd_b"
	sample_live "$p" 0.05 4 0.5 "$pid_a" "$pid_b"
	reap "$wl" "$pid_a" "$pid_b" || return
	sleep "$SETTLE"

	# cpuacctfs: parent, children, parent again, until the parent
	# reads the same twice, i.e. all reads came from one snapshot.
	for ((try = 0; try < 20; try++)); do
		read_usage "$(fdir "$p")"
		fp1=$USAGE
		read_percpu "$(fdir "$p")"
		pp1=("${PERCPU[@]}")
		read_usage "$(fdir "$p/a")"
		fa=$USAGE
		read_percpu "$(fdir "$p/a")"
		pa=("${PERCPU[@]}")
		read_usage "$(fdir "$p/b")"
		fb=$USAGE
		read_percpu "$(fdir "$p/b")"
		pb=("${PERCPU[@]}")
		read_usage "$(fdir "$p")"
		fp2=$USAGE
		read_percpu "$(fdir "$p")"
		pp2=("${PERCPU[@]}")
		[[ $fp1 == "$fp2" && "${pp1[*]}" == "${pp2[*]}" ]] && break
		sleep 0.05
	done
	if [[ $fp1 =~ ^[0-9]+$ && $fa =~ ^[0-9]+$ && $fb =~ ^[0-9]+$ ]]; then
		row "$wl" "cpuacct.usage parent - (a + b)" "0" \
			"$((fp1 - fa - fb))" "-" "exact"
		if ((fp1 == fa + fb)) && [[ $fp1 == "$fp2" ]]; then
			tap ok "$wl cpuacct.usage parent = a + b"
		else
			tap fail "$wl cpuacct.usage parent = a + b" \
				"$fp1 != $fa + $fb (stable: $fp2)"
		fi
	else
		tap fail "$wl cpuacct.usage parent = a + b" "unreadable"
	fi
	bad=0
	if ((${#pp1[@]} == 0 || ${#pp1[@]} != ${#pa[@]} ||
		${#pp1[@]} != ${#pb[@]})); then
		bad=1
	else
		for i in "${!pp1[@]}"; do
			[[ ${pp1[i]} =~ ^[0-9]+$ && ${pa[i]} =~ ^[0-9]+$ &&
				${pb[i]} =~ ^[0-9]+$ ]] || { bad=1; break; }
			((pp1[i] == pa[i] + pb[i])) || bad=1
		done
	fi
	row "$wl" "cpuacct.usage_percpu parent - (a+b)" "-" \
		"$([[ $bad == 0 ]] && echo equal || echo differ)" "-" "exact"
	if ((bad == 0)); then
		tap ok "$wl cpuacct.usage_percpu parent = a + b"
	else
		tap fail "$wl cpuacct.usage_percpu parent = a + b" \
			"parent (${pp1[*]}) a (${pa[*]}) b (${pb[*]})"
	fi
	for g in "$p" "$p/a" "$p/b"; do
		read_usage "$(kdir "$g")"
		k=$USAGE
		read_usage "$(fdir "$g")"
		check "$wl" "cpuacct.usage ${g#"$PREFIX"-}" "$k" "$USAGE" rel 0.5
	done
	live_checks "$wl" 4 0.5
}

# One thread spins 3 s; sample every 20 ms how far cpuacctfs is behind.
wl_staleness() {
	local wl=staleness g=$PREFIX-stale pid

	if ! mkgroup "$g" || ! start_burn spin 3 || ! move "$BURN_PID" "$g"; then
		tap fail "$wl setup"
		return
	fi
	pid=$BURN_PID
	release "$BURN_FD"
	sample_live "$g" 0.02 1 0.5 "$pid"
	reap "$wl" "$pid" || return
	LIVE_MEAN=-
	live_checks "$wl" 1 0.5 "usage lag"
	diag "staleness ($BACKEND): cpuacctfs is behind the kernel by mean $LIVE_MEAN ms," \
		"max $(ms "$LIVE_MAXLAG") ms of CPU time ($LIVE_N samples," \
		"$LIVE_WIDE left out)"
}

# Overload (issue 10): a measured workload beside a load average of about
# LOAD (processes at nice 19 that burn 2 ms and sleep 2 ms, so that the
# measured tasks still get the CPU) and a storm of STORM forks in a group
# of its own. Scheduler records arrive faster than a ring drains: the
# tracepoint backend must recover the time of what it dropped. Both the
# measured group and the storm's are compared.
wl_overload() {
	local wl=overload g=$PREFIX-over s=$PREFIX-storm pid pfd spid i
	local load=${ACC_LOAD:-200} storm=${ACC_STORM:-10000}
	local -a lpids=()

	for ((i = 0; i < load; i++)); do
		nice -n 19 "$BURN" busysleep 2 2 < <(echo) >/dev/null 2>&1 &
		lpids+=("$!")
		PIDS+=("$!")
	done
	if ! mkgroup "$g" || ! mkgroup "$s" || ! start_burn mixed ||
		! move "$BURN_PID" "$g"; then
		tap fail "$wl setup"
		return
	fi
	pid=$BURN_PID pfd=$BURN_FD
	if ! start_burn forkstorm "$storm" || ! move "$BURN_PID" "$s"; then
		tap fail "$wl setup"
		return
	fi
	spid=$BURN_PID
	sleep 1 # the load ramps up
	diag "overload: $load loaded processes, load average $(cut -d' ' -f1,4 /proc/loadavg)"
	release "$pfd"
	release "$BURN_FD"
	reap "$wl" "$pid" "$spid" || return
	diag "overload ($BACKEND): done, run queue $(cut -d' ' -f4 /proc/loadavg)"
	kill -KILL "${lpids[@]}" 2>/dev/null
	wait "${lpids[@]}" 2>/dev/null
	sleep "$SETTLE"
	final_checks "$wl" "$g" 0.5 3 2
	FILE_TAG="storm "
	final_checks "$wl" "$s" 2 5 5
	FILE_TAG=
	grep -h 'dropped' "$TMP/daemon.log" 2>/dev/null | tail -n 3 |
		sed "s/^/# overload ($BACKEND) daemon log: /"
}

# The daemon stopped (SIGSTOP) for 4 s in the middle of a 6 s busy loop:
# nothing it reads meanwhile, so what the kernel counted then must be
# recovered (or, in the kernel, never missed). No reads while it is
# stopped: they would hang.
wl_stopped() {
	local wl=stopped g=$PREFIX-stopped pid

	if ((SELFTEST)); then
		tap skip "$wl" "no daemon in the self-test"
		return
	fi
	if ! mkgroup "$g" || ! start_burn spin 6 || ! move "$BURN_PID" "$g"; then
		tap fail "$wl setup"
		return
	fi
	pid=$BURN_PID
	release "$BURN_FD"
	sleep 1
	server=$(server_pid)
	kill -STOP "$server"
	sleep 4
	kill -CONT "$server"
	reap "$wl" "$pid" || return
	sleep "$SETTLE"
	final_checks "$wl" "$g" 0.5 3 2
}

# ---------------------------------------------------------------- setup

# A hung daemon would hang every read: after ACC_TIMEOUT seconds the
# watchdog kills it, reads then fail with ENOTCONN and the run ends.
start_watchdog() {
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$TIMEOUT" &
		sp=$!
		wait "$sp"
		echo "# watchdog: ${TIMEOUT}s passed, killing the daemon" >&2
		kill -KILL "$DAEMON_PID"
	) &
	WATCHDOG_PID=$!
}

# The process that serves (the one started holds the mount, holder.h).
server_pid() {
	cat "$TMP/server.pid" 2>/dev/null || echo "$DAEMON_PID"
}

# ACC_KILLS SIGKILLs of the server, ACC_KILL_EVERY s apart, in the
# background; what it did goes to $TMP/kills.
start_killer() {
	local kills=${ACC_KILLS:-0} every=${ACC_KILL_EVERY:-2}
	((kills > 0)) || return 0
	(
		for ((k = 0; k < kills; k++)); do
			sleep "$every"
			kill -KILL "$(server_pid)" 2>/dev/null &&
				echo kill >>"$TMP/kills"
		done
	) &
	KILLER_PID=$!
}

mount_daemon() {
	local i

	MNT=$(mktemp -d /tmp/cpuacctfs-acc.XXXXXX) || return 1
	"$DAEMON" -f --pidfile="$TMP/server.pid" "${DAEMON_ARGS[@]}" "$MNT" \
		>"$TMP/daemon.log" 2>&1 &
	DAEMON_PID=$!
	start_watchdog
	for ((i = 0; i < 100; i++)); do
		[[ -e $MNT/cpuacct.usage ]] && return 0
		alive "$DAEMON_PID" || break
		sleep 0.1
	done
	diag "daemon did not mount $MNT; its log:"
	sed 's/^/#   /' "$TMP/daemon.log" | tail -n 20
	return 1
}

# logged_backend: the backend the daemon says it counts with (-f logs
# "counting with the NAME backend"), waiting up to 2 s for the line.
logged_backend() {
	local i b

	for ((i = 0; i < 20; i++)); do
		b=$(sed -n 's/.*counting with the \([a-z]*\) backend.*/\1/p' \
			"$TMP/daemon.log" | head -n 1)
		[[ -n $b ]] && break
		sleep 0.1
	done
	echo "$b"
}

# Kill and move back whatever is left in GROUP of hierarchy ROOT.
empty_group() {
	local root=$1 name=$2 pid

	[[ -r $root/$name/cgroup.procs ]] || return 0
	while read -r pid; do
		kill -KILL "$pid" 2>/dev/null
		echo "$pid" >"$root/cgroup.procs" 2>/dev/null
	done <"$root/$name/cgroup.procs"
}

cleanup() {
	local i pid fd ok try

	((CLEANED)) && return
	CLEANED=1
	[[ -n ${KILLER_PID:-} ]] && kill "$KILLER_PID" 2>/dev/null
	for fd in "${FDS[@]}"; do
		exec {fd}>&- 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for ((i = ${#KGROUPS[@]} - 1; i >= 0; i--)); do
		empty_group "$KROOT" "${KGROUPS[i]}"
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [[ -n $MNT && -n $DAEMON_PID ]]; then
		for ((i = ${#FGROUPS[@]} - 1; i >= 0; i--)); do
			empty_group "$MNT" "${FGROUPS[i]}"
			rmdir "$MNT/${FGROUPS[i]}" ||
				tap fail "cleanup rmdir cpuacctfs ${FGROUPS[i]}"
		done
		if mountpoint -q "$MNT"; then
			fusermount3 -u "$MNT" 2>/dev/null ||
				fusermount -u "$MNT" 2>/dev/null ||
				umount -l "$MNT" ||
				tap fail "cleanup unmount $MNT"
		fi
		kill "$DAEMON_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			alive "$DAEMON_PID" || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	if [[ -n $WATCHDOG_PID ]]; then
		kill "$WATCHDOG_PID" 2>/dev/null
		wait "$WATCHDOG_PID" 2>/dev/null
	fi
	[[ -n $MNT ]] && rmdir "$MNT" 2>/dev/null
	for ((i = ${#KGROUPS[@]} - 1; i >= 0; i--)); do
		ok=0
		for ((try = 0; try < 50; try++)); do
			rmdir "$KROOT/${KGROUPS[i]}" 2>/dev/null && { ok=1; break; }
			empty_group "$KROOT" "${KGROUPS[i]}"
			sleep 0.1
		done
		((ok)) || tap fail "cleanup rmdir kernel ${KGROUPS[i]}"
	done
	[[ -n $TMP ]] && rm -rf "$TMP"
}

finish() {
	local line

	cleanup
	if ((${#TABLE[@]})); then
		echo "#"
		diag "$(printf '%-10s %-38s %12s %12s %18s %s' workload file \
			kernel cpuacctfs deviation target)"
		for line in "${TABLE[@]}"; do
			diag "$line"
		done
		diag "final values read ${SETTLE}s after each workload ended" \
			"(staleness allowance); backend ${BACKEND:-unknown}"
		[[ $SELFTEST == 1 ]] &&
			diag "SELF-TEST: the cpuacctfs column is the kernel group"
	fi
	echo "$NPASS passed, $NFAIL failed, $NSKIP skipped"
	((NFAIL == 0)) || exit 1
}

interrupted() {
	tap fail "interrupted"
	exit 130
}

skip_all() {
	tap skip "all" "$1"
	exit 0
}

trap finish EXIT
trap interrupted INT TERM HUP

[[ $(id -u) == 0 ]] || skip_all "not root"
[[ -d $KROOT && -e $KROOT/cpuacct.usage ]] ||
	skip_all "$KROOT missing"
if [[ $SELFTEST != 1 ]]; then
	[[ -c /dev/fuse ]] || skip_all "/dev/fuse missing"
fi
if [[ $SELFTEST != 1 && ! -x $DAEMON ]]; then
	tap fail "daemon binary '$DAEMON' missing"
	exit 1
fi
if [[ ! -x $BURN ]]; then
	tap fail "burn binary '$BURN' missing"
	exit 1
fi

read -ra NCPU_FIELDS <"$KROOT/cpuacct.usage_percpu"
NCPU=$(nproc)
((NCPU > ${#NCPU_FIELDS[@]})) && NCPU=${#NCPU_FIELDS[@]}
TMP=$(mktemp -d /tmp/acc-run.XXXXXX) || exit 1

if [[ $SELFTEST == 1 ]]; then
	diag "self-test: the cpuacctfs side reads the kernel group itself"
	BACKEND=kernel
elif ! mount_daemon; then
	tap fail "mount $DAEMON"
	exit 1
else
	BACKEND=$(logged_backend)
	start_killer
fi
[[ $BACKEND == bpf || $BACKEND == kernel ]] && EXACT=1
diag "backend: ${BACKEND:-unknown} (targets: $( ((EXACT)) && echo exact ||
	echo "the usual 0.5%"))"
if [[ -n $WANT_BACKEND && $WANT_BACKEND != "$BACKEND" && $SELFTEST != 1 ]]; then
	tap fail "daemon counts with the $WANT_BACKEND backend" \
		"it logs '${BACKEND:-nothing}':" \
		"$(tail -n 3 "$TMP/daemon.log" | tr '\n' ' ')"
	exit 1
fi

for wl in $ONLY; do
	case $wl in
	threads | mixed | forkstorm | moved | nested | livestat | staleness | \
		overload | stopped)
		"wl_$wl"
		;;
	*)
		tap fail "unknown workload '$wl'"
		;;
	esac
done
if [[ -n ${KILLER_PID:-} ]]; then
	kill "$KILLER_PID" 2>/dev/null
	diag "killer: $(wc -l <"$TMP/kills" 2>/dev/null || echo 0) SIGKILLs of the server, ${ACC_KILL_EVERY:-2} s apart"
fi
exit 0
