#!/bin/bash
# Integration tests of cpuacctfs against the real kernel cgroup v1 cpuacct.
#
#   bash tests/integration/run.sh DAEMON_BINARY   mount DAEMON_BINARY and test it
#   SUBJECT=/dir bash tests/integration/run.sh    test /dir as a cpuacct root
#
# Environment: IT_LABEL (result label), IT_DAEMON_ARGS (extra daemon args),
# IT_ONLY (glob of t_*.sh files to run), IT_ONLY_TEST (substring of test names).
# Output: one "ok N - LABEL: name" / "not ok N - ..." line per test, "# "
# diagnostics, and a last line "N passed, N failed, N skipped".

set -u

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KROOT=${IT_KERNEL_ROOT:-/sys/fs/cgroup/cpuacct}
DAEMON=${1:-}
SUBJECT=${SUBJECT:-}
MNT=""
DAEMON_PID=""
DAEMON_LOG=""
IT_STATE=$(mktemp -d /tmp/cpuacctfs-it.XXXXXX)
export IT_STATE IT_LABEL=${IT_LABEL:-integration} IT_RUN=$$
export IT_HELPERS=$IT_STATE/helpers IT_KERNEL_ROOT=$KROOT

# shellcheck source=lib.sh
. "$IT_DIR/lib.sh"

test_files() {
	local f
	for f in "$IT_DIR"/${IT_ONLY:-t_*.sh}; do
		[[ -f $f ]] && echo "$f"
	done
}

summary() {
	local p f s
	p=$(cat "$IT_STATE/passed" 2>/dev/null || echo 0)
	f=$(cat "$IT_STATE/failed" 2>/dev/null || echo 0)
	s=$(cat "$IT_STATE/skipped" 2>/dev/null || echo 0)
	echo "$p passed, $f failed, $s skipped"
	[[ $f == 0 ]]
}

# skip_everything REASON: one SKIP line per test file, then the summary.
skip_everything() {
	local f
	for f in $(test_files); do
		skip_all "$(basename "$f" .sh)" "$1"
	done
	summary
	exit $?
}

# The holder restarts a server that dies (issue 11): a test must see that
# as the crash it is, so its log line counts as death here.
daemon_alive() {
	[[ -z $DAEMON_PID ]] && return 0
	kill -0 "$DAEMON_PID" 2>/dev/null &&
		! grep -q "starting it again" "$DAEMON_LOG" 2>/dev/null
}

log_tail() {
	echo "# daemon log (last 30 lines of $DAEMON_LOG):"
	tail -n 30 "$DAEMON_LOG" 2>/dev/null | sed 's/^/#   /'
}

sweep_kernel_groups() {
	local d
	for d in "$KROOT"/it"${IT_RUN}"_*; do
		[[ -d $d ]] || continue
		echo "# sweeping leftover kernel group $d"
		remove_tree "$d"
	done
}

cleanup() {
	local i
	trap - EXIT INT TERM
	if [[ -n $MNT ]]; then
		fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			daemon_alive || break
			sleep 0.1
		done
		if [[ -n $DAEMON_PID ]] && daemon_alive; then
			kill "$DAEMON_PID" 2>/dev/null
			sleep 0.5
			kill -KILL "$DAEMON_PID" 2>/dev/null
		fi
		[[ -n $DAEMON_PID ]] && wait "$DAEMON_PID" 2>/dev/null
		rmdir "$MNT" 2>/dev/null
	fi
	sweep_kernel_groups
	rm -rf "$IT_STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_helpers() {
	local c
	mkdir -p "$IT_HELPERS"
	for c in "$IT_DIR"/helpers/*.c; do
		[[ -f $c ]] || continue
		cc -O1 -Wall -pthread -o "$IT_HELPERS/$(basename "$c" .c)" "$c" ||
			return 1
	done
}

start_daemon() {
	local i
	MNT=$(mktemp -d /tmp/cpuacctfs-mnt.XXXXXX)
	DAEMON_LOG=$IT_STATE/daemon.log
	# shellcheck disable=SC2086 # IT_DAEMON_ARGS is a list of words
	"$DAEMON" -f ${IT_DAEMON_ARGS:-} "$MNT" 2>"$DAEMON_LOG" >&2 &
	DAEMON_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -e $MNT/cpuacct.usage ]] && return 0
		daemon_alive || break
		sleep 0.1
	done
	return 1
}

main() {
	local f rc
	if [[ $(id -u) != 0 ]]; then
		skip_everything "not root"
	fi
	if [[ ! -d $KROOT || ! -e $KROOT/cpuacct.usage ]]; then
		skip_everything "no kernel cgroup v1 cpuacct at $KROOT"
	fi
	if [[ -n $SUBJECT ]]; then
		[[ -d $SUBJECT ]] || skip_everything "SUBJECT $SUBJECT is not a directory"
		export IT_SUBJECT_ROOT=$SUBJECT IT_MODE=subject
		SROOT=$SUBJECT
	else
		[[ -n $DAEMON ]] || {
			echo "usage: run.sh DAEMON_BINARY | SUBJECT=dir run.sh" >&2
			exit 2
		}
		[[ -e /dev/fuse ]] || skip_everything "no /dev/fuse"
		[[ -x $DAEMON ]] || skip_everything "daemon $DAEMON not executable"
		if ! start_daemon; then
			echo "not ok $(it_count n) - $IT_LABEL: daemon mounts within 10 s"
			it_count failed >/dev/null
			log_tail
			summary
			exit 1
		fi
		export IT_SUBJECT_ROOT=$MNT IT_MODE=daemon IT_DAEMON=$DAEMON
		export IT_CTL=${IT_CTL:-$(dirname "$DAEMON")/cpuacctctl}
		SROOT=$MNT
	fi
	if ! build_helpers; then
		echo "# cannot compile tests/integration/helpers/*.c"
		skip_everything "C helpers do not compile"
	fi
	for f in $(test_files); do
		bash "$f"
		rc=$?
		if [[ $rc != 0 ]]; then
			echo "not ok $(it_count n) - $IT_LABEL: $(basename "$f") ran to the end"
			echo "# $(basename "$f") exited with status $rc"
			it_count failed >/dev/null
		fi
		if ! daemon_alive; then
			echo "not ok $(it_count n) - $IT_LABEL: daemon alive after $(basename "$f")"
			it_count failed >/dev/null
			log_tail
			break
		fi
	done
	summary
}

main "$@"
