# shellcheck shell=bash
# shellcheck disable=SC2034 # K, S are used by the t_*.sh files
# lib.sh: helpers shared by the t_*.sh integration tests of cpuacctfs.
#
# Every test compares the SUBJECT (the cpuacctfs mount, or any directory that
# should behave like a cpuacct root) with the ORACLE: a fresh group of the real
# kernel cgroup v1 cpuacct hierarchy made in the same run.
#
# Environment (set by run.sh):
#   IT_SUBJECT_ROOT  the subject root directory
#   IT_MODE          "daemon" or "subject" (SUBJECT=dir given, no daemon)
#   IT_STATE         directory holding the shared counters
#   IT_HELPERS       directory holding the compiled C helpers
#   IT_LABEL         label put in every result line
#   IT_RUN           unique run id, part of every group name

set -u

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KROOT=${IT_KERNEL_ROOT:-/sys/fs/cgroup/cpuacct}
SROOT=${IT_SUBJECT_ROOT:-}
IT_MODE=${IT_MODE:-subject}
IT_STATE=${IT_STATE:-}
IT_HELPERS=${IT_HELPERS:-}
IT_LABEL=${IT_LABEL:-integration}
IT_RUN=${IT_RUN:-$$}
WR=$IT_DIR/wr.pl
ROOT_ONLY_FILES="cgroup.sane_behavior release_agent"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# Per-test state (valid inside the subshell run_test makes).
IT_FAILED=0
K=""
S=""
IT_TMP=""
IT_SKIPFILE=/dev/null
IT_NOTEFILE=/dev/null

# ---------------------------------------------------------------- reporting

# it_count NAME: add one to the shared counter NAME, print the new value.
it_count() {
	local f=$IT_STATE/$1 n=0
	[[ -s $f ]] && n=$(<"$f")
	n=$((n + 1))
	echo "$n" >"$f"
	echo "$n"
}

# diag TEXT...: print each line of TEXT as a "# " diagnostic line.
diag() {
	local line
	printf '%s\n' "$*" | while IFS= read -r line; do
		echo "# $line"
	done
}

# fail TEXT...: mark the current test failed and explain why.
fail() {
	IT_FAILED=1
	diag "$@"
}

# note TEXT...: a "# " line printed after the result line, pass or fail
# (measurements worth seeing even when the test passes).
note() {
	echo "# $*" >>"$IT_NOTEFILE"
}

# skip REASON: end the current test as skipped.
skip() {
	echo "$*" >"$IT_SKIPFILE"
	exit 77
}

# report RC NAME OUTFILE: print the result line of one test.
report() {
	local rc=$1 name=$2 out=$3 n line
	n=$(it_count n)
	case $rc in
	0)
		echo "ok $n - $IT_LABEL: $name"
		cat "$out.note" 2>/dev/null
		it_count passed >/dev/null
		;;
	77)
		echo "ok $n - $IT_LABEL: $name # SKIP $(cat "$out.skip" 2>/dev/null)"
		it_count skipped >/dev/null
		;;
	*)
		echo "not ok $n - $IT_LABEL: $name"
		it_count failed >/dev/null
		[[ $rc == 1 ]] || echo "# test exited with status $rc"
		cat "$out.note" 2>/dev/null
		while IFS= read -r line; do
			case $line in
			"# "* | "#") echo "$line" ;;
			*) echo "# $line" ;;
			esac
		done <"$out"
		;;
	esac
}

# skip_all NAME REASON: report NAME as skipped without running anything.
skip_all() {
	local n
	n=$(it_count n)
	echo "ok $n - $IT_LABEL: $1 # SKIP $2"
	it_count skipped >/dev/null
}

# run_test NAME FUNCTION [ARGS...]: run FUNCTION in a subshell with its own
# temp dir and cleanup list; report pass, fail or skip.
run_test() {
	local name=$1 out rc
	shift
	if [[ -n ${IT_ONLY_TEST:-} && $name != *$IT_ONLY_TEST* ]]; then
		return 0
	fi
	out=$(mktemp "$IT_STATE/out.XXXXXX")
	IT_SKIPFILE=$out.skip
	IT_NOTEFILE=$out.note
	IT_TMP=$(mktemp -d "$IT_STATE/tmp.XXXXXX")
	: >"$IT_TMP/cleanup"
	(
		trap 'it_cleanup' EXIT
		trap 'exit 130' INT TERM
		"$@"
		exit "$IT_FAILED"
	) >"$out" 2>&1
	rc=$?
	rm -rf "$IT_TMP"
	IT_TMP=""
	report "$rc" "$name" "$out"
	rm -f "$out" "$out.skip" "$out.note"
}

# ---------------------------------------------------------------- cleanup

# it_cleanup: kill registered processes, empty and remove registered groups
# (newest first, deepest first). Runs on exit of every test subshell.
it_cleanup() {
	local kind arg pids=() groups=() i
	[[ -n $IT_TMP && -f $IT_TMP/cleanup ]] || return 0
	while read -r kind arg; do
		case $kind in
		pid) pids+=("$arg") ;;
		group) groups+=("$arg") ;;
		esac
	done <"$IT_TMP/cleanup"
	mapfile -t -O "${#pids[@]}" pids < <(descendants "${pids[@]}")
	for arg in "${pids[@]}"; do
		kill -KILL "$arg" 2>/dev/null
	done
	for arg in "${pids[@]}"; do
		wait_gone "$arg"
	done
	for ((i = ${#groups[@]} - 1; i >= 0; i--)); do
		remove_tree "${groups[i]}"
	done
	rm -rf "$IT_TMP"
}

# descendants PID...: all descendants of the PIDs, children first.
descendants() {
	local p c
	for p in "$@"; do
		for c in $(pgrep -P "$p"); do
			echo "$c"
			descendants "$c"
		done
	done
}

# wait_gone PID: wait (up to 5 s) until PID no longer exists.
wait_gone() {
	local i
	wait "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		[[ -e /proc/$1 ]] || return 0
		[[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]] && return 0
		sleep 0.05
	done
	return 1
}

# root_of DIR: the root (subject or kernel) a group directory belongs to.
root_of() {
	if [[ -n $SROOT && $1 == "$SROOT"/* ]]; then echo "$SROOT"; else echo "$KROOT"; fi
}

# evacuate DIR: move every task of group DIR back to its root.
evacuate() {
	local root tid
	root=$(root_of "$1")
	while read -r tid; do
		echo "$tid" >"$root/tasks" 2>/dev/null
	done <"$1/tasks"
}

# remove_tree DIR: remove a group and its subgroups, moving tasks out first.
remove_tree() {
	local dir=$1 d try
	[[ -d $dir ]] || return 0
	for ((try = 0; try < 20; try++)); do
		while IFS= read -r d; do
			evacuate "$d" 2>/dev/null
			rmdir "$d" 2>/dev/null
		done < <(find "$dir" -depth -mindepth 0 -type d 2>/dev/null)
		[[ -d $dir ]] || return 0
		sleep 0.1
	done
	echo "# cleanup: could not remove $dir"
	return 1
}

# register KIND ARG: add a process (pid) or a group to the cleanup list.
register() {
	echo "$1 $2" >>"$IT_TMP/cleanup"
}

# ---------------------------------------------------------------- groups

# new_name: a unique group name for this run.
new_name() {
	echo "it${IT_RUN}_$(it_count names)"
}

# new_group ROOT_OR_PARENT [MKDIR_ARGS...]: make a fresh group, print its path.
new_group() {
	local parent=$1 dir
	shift
	dir=$parent/$(new_name)
	register group "$dir"
	mkdir "$@" "$dir" || {
		echo "cannot mkdir $dir" >&2
		return 1
	}
	echo "$dir"
}

# kgroup / sgroup: a fresh group under the kernel root / the subject root.
kgroup() { new_group "$KROOT"; }
sgroup() { new_group "$SROOT"; }

# both_groups: set K and S to a fresh kernel and a fresh subject group.
both_groups() {
	K=$(kgroup) || skip "cannot create a kernel group under $KROOT"
	S=$(sgroup) || {
		fail "cannot create a group under the subject root $SROOT"
		exit 1
	}
}

# ---------------------------------------------------------------- processes

# start VAR CMD...: start CMD in the background, register it, store its pid.
start() {
	local var=$1
	shift
	"$@" </dev/null >/dev/null 2>&1 &
	register pid "$!"
	printf -v "$var" '%s' "$!"
}

# start_in VAR DIR CMD...: start CMD already inside group DIR (a shell moves
# itself with `echo $$ > DIR/tasks`, then execs CMD), store its pid in VAR.
start_in() {
	local var=$1 dir=$2
	shift 2
	# shellcheck disable=SC2016 # $$ and $0 belong to the inner shell
	start "$var" sh -c 'echo $$ >"$0/tasks" && exec "$@"' "$dir" "$@"
}

# start_fifo VAR FIFO CMD...: like start, but CMD's stdin is FIFO (opened
# read-write so that nobody blocks).
start_fifo() {
	local var=$1 fifo=$2
	shift 2
	"$@" <>"$fifo" >/dev/null 2>&1 &
	register pid "$!"
	printf -v "$var" '%s' "$!"
}

# tids_of PID: the thread ids of PID, ascending, one a line.
tids_of() {
	find "/proc/$1/task" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n
}

# wait_threads PID N: wait (up to 5 s) until PID has N threads.
wait_threads() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(tids_of "$1" | wc -l) -ge $2 ]] && return 0
		sleep 0.05
	done
	return 1
}

# wait_until SECONDS CMD...: retry CMD every 50 ms until it succeeds.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.05
	done
}

# ---------------------------------------------------------------- writes

# errno_of_write [wr.pl options] FILE BYTES: write BYTES to FILE with one
# write(2), print OK or the errno name (EINVAL, ESRCH, E2BIG, EACCES, ...).
# Options: -e (decode \n \0 \xHH), -a (O_APPEND), -t (O_TRUNC), -o OFF
# (pwrite at OFF), -r N (repeat BYTES N times).
errno_of_write() {
	perl "$WR" "$@"
}

# errno_as_nobody [options] FILE BYTES: the same, as uid/gid 65534.
errno_as_nobody() {
	"${NOBODY[@]}" perl "$WR" "$@"
}

# errno_of_perl CODE ARGS...: evaluate perl CODE, which must return true on
# success and leave $! set on failure.
errno_of_perl() {
	local code=$1
	shift
	perl -MErrno -MFcntl -e '
		my $code = shift @ARGV;
		my $ok = eval $code;
		die $@ if $@;
		if ($ok) { print "OK\n"; exit 0 }
		my $n = $! + 0;
		for (keys %!) { if ($!{$_}) { print "$_\n"; exit 0 } }
		print "E$n\n";' "$code" "$@"
}

# ---------------------------------------------------------------- comparing

# mask: replace every run of digits with N.
mask() {
	sed -E 's/[0-9]+/N/g'
}

# show_diff KLABEL KFILE SLABEL SFILE: a unified diff of cat -A views, as
# diagnostic lines.
show_diff() {
	diff -u --label "$1" --label "$3" <(cat -A "$2") <(cat -A "$4") |
		sed 's/^/# /'
}

# check_same_files WHAT KFILE SFILE: the two files must be byte-identical.
check_same_files() {
	if ! cmp -s "$2" "$3"; then
		fail "$1: subject differs from kernel (cat -A, - kernel + subject):"
		show_diff "kernel" "$2" "subject" "$3"
	fi
}

# check_same WHAT KTEXT STEXT: kernel and subject values must be equal.
check_same() {
	if [[ $2 != "$3" ]]; then
		fail "$1: kernel and subject differ:"
		printf '%s\n' "$2" >"$IT_TMP/k.txt"
		printf '%s\n' "$3" >"$IT_TMP/s.txt"
		show_diff "kernel" "$IT_TMP/k.txt" "subject" "$IT_TMP/s.txt"
	fi
}

# check_eq WHAT EXPECTED GOT: a property that must hold.
check_eq() {
	if [[ $2 != "$3" ]]; then
		fail "$1: expected '$2', got '$3'"
	fi
}

# check_true WHAT CMD...: CMD must succeed.
check_true() {
	local what=$1
	shift
	"$@" || fail "$what: failed: $*"
}

# raw FILE OUT: copy FILE's bytes (one open, read to EOF) to OUT.
raw() {
	cat "$1" >"$2" 2>"$2.err" || {
		echo "# cannot read $1: $(cat "$2.err")"
		return 1
	}
}

# roles IDFILE ID=ROLE...: print the role of each id of IDFILE (in file
# order; unknown ids become "other"), so that lists of different processes
# can be compared kernel against subject.
roles() {
	local file=$1
	shift
	awk -v map="$*" '
		BEGIN { n = split(map, m, " ")
			for (i = 1; i <= n; i++) { split(m[i], kv, "="); r[kv[1]] = kv[2] } }
		{ print (($1 in r) ? r[$1] : "other") }' "$file"
}

# check_ascending WHAT FILE: ids in FILE are strictly ascending.
check_ascending() {
	if ! sort -n -c -u "$2" 2>/dev/null; then
		fail "$1: ids not strictly ascending:"
		diag "$(tr '\n' ' ' <"$2")"
	fi
}

# file_names DIR: the names of the regular files of DIR, sorted.
file_names() {
	find "$1" -mindepth 1 -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort
}

# subdirs DIR: the number of subdirectories of DIR.
subdirs() {
	find "$1" -mindepth 1 -maxdepth 1 -type d | wc -l
}

# is_subject_mode: true when the subject is a plain directory (no daemon).
is_subject_mode() {
	[[ $IT_MODE == subject ]]
}

# have_root_only_files DIR: true if DIR has the root-only files.
have_root_only_files() {
	local f
	for f in $ROOT_ONLY_FILES; do
		[[ -e $1/$f ]] || return 1
	done
}

# own_daemon [ENV=VALUE...] [DAEMON ARGS...]: a second daemon of our own at
# OWN (its log in OWN_LOG), with those variables in its environment and
# those arguments, stopped and unmounted when the test ends.
own_daemon() {
	local i a envs=() args=()
	for a; do
		if [[ $a == [A-Za-z_]*=* ]]; then envs+=("$a"); else args+=("$a"); fi
	done
	OWN=$(mktemp -d /tmp/cpuacctfs-own.XXXXXX)
	OWN_LOG=$IT_TMP/own.log
	env "${envs[@]}" "$IT_DAEMON" -f "${args[@]}" "$OWN" 2>"$OWN_LOG" &
	OWN_PID=$!
	trap 'stop_own; it_cleanup' EXIT
	for ((i = 0; i < 100; i++)); do
		[[ -e $OWN/cpuacct.usage ]] && return 0
		sleep 0.1
	done
	fail "own daemon ${args[*]} did not mount: $(cat "$OWN_LOG")"
	return 1
}

stop_own() {
	[[ -n ${OWN_PID:-} ]] || return 0
	kill -TERM "$OWN_PID" 2>/dev/null
	wait "$OWN_PID" 2>/dev/null
	fusermount3 -u "$OWN" 2>/dev/null
	rmdir "$OWN" 2>/dev/null
	OWN_PID=""
}
