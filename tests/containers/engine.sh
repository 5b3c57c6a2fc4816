#!/bin/bash
# Real containers of a container engine accounted by cpuacctfs, against
# the kernel's cpuacct group the engine makes for the same container:
#
#   bash tests/containers/engine.sh podman DAEMON_BINARY
#     podman 4 (with runc) and the hooks.d files make install ships
#     (contrib/podman); everything podman keeps lives in a temp dir
#     (--root, --runroot, --hooks-dir).
#   bash tests/containers/engine.sh docker DAEMON_BINARY
#     a dockerd started here (its data, exec root and socket in a temp
#     dir, no network set-up) with the shipped wrapper runtime
#     (contrib/docker/cpuacctfs-runc) registered with --add-runtime, and
#     stopped at the end.
#
# The image is a busybox rootfs made here and brought in with
# podman/docker import, so no registry is asked. Kernel groups the engine
# leaves (libpod_parent, docker) are removed if this run made them.
# Output: "ok N - ENGINE: name" lines and "N passed, N failed, N skipped"
# last; a test that cannot run says why with SKIP.

set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
HOOK=$TOP/contrib/oci/cpuacctfs-oci-hook
ENGINE=${1:-}
DAEMON=${2:-}
KROOT=/sys/fs/cgroup/cpuacct
LABEL=$ENGINE
IMAGE=localhost/cpuacctfs-test-bb
CG=/sys/fs/cgroup/cpuacct
BURN_LOOPS=${CT_BURN_LOOPS:-850000}
TESTS=(burn totals files exec totals-after-exec busybox-cat poststop)

T="" MNT="" DAEMON_PID="" CID="" KG="" DOCKERD_PID=""
N=0 PASSED=0 FAILED=0 SKIPPED=0 FAIL=0
P=()       # the engine's command line
PARENTS=() # kernel parent groups this run made

diag() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do echo "# $line"; done
}

fail() {
	FAIL=1
	diag "$@"
}

result() { # NAME
	N=$((N + 1))
	if [[ $FAIL == 0 ]]; then
		echo "ok $N - $LABEL: $1"
		PASSED=$((PASSED + 1))
	else
		echo "not ok $N - $LABEL: $1"
		FAILED=$((FAILED + 1))
	fi
	FAIL=0
}

skip_all() {
	local t
	for t in "${TESTS[@]}"; do
		N=$((N + 1))
		echo "ok $N - $LABEL: $t # SKIP $1"
		SKIPPED=$((SKIPPED + 1))
	done
	summary
	exit $?
}

summary() {
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[[ $FAILED == 0 ]]
}

cleanup() {
	local i p
	trap - EXIT INT TERM
	[[ -n $CID ]] && ct_rm "$CID"
	if [[ ${#P[@]} -gt 0 ]]; then
		# shellcheck disable=SC2046 # one id a word
		"${P[@]}" rm -f $("${P[@]}" ps -a -q 2>/dev/null) >/dev/null 2>&1
		"${P[@]}" rmi -f "$IMAGE" >/dev/null 2>&1
	fi
	if [[ -n $DOCKERD_PID ]]; then
		kill "$DOCKERD_PID" 2>/dev/null
		for ((i = 0; i < 150; i++)); do
			kill -0 "$DOCKERD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DOCKERD_PID" 2>/dev/null
		wait "$DOCKERD_PID" 2>/dev/null
	fi
	[[ -n $KG && -d $KG ]] && rmdir "$KG" 2>/dev/null
	# with what the engine left in them (podman: libpod_parent/conmon)
	for p in "${PARENTS[@]}"; do
		[[ -d $p ]] && find "$p" -depth -type d -exec rmdir {} + 2>/dev/null
	done
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
	if [[ -n $T ]]; then
		# podman's overlay mounts of the temp storage, if any are left
		grep -o " $T/[^ ]*" /proc/mounts | sort -r | while read -r m; do
			umount -l "$m" 2>/dev/null
		done
		rm -rf --one-file-system "$T"
	fi
}

preflight() {
	[[ $(id -u) == 0 ]] || skip_all "not root"
	case $ENGINE in
	podman)
		command -v podman >/dev/null ||
			skip_all "no podman (apt-get install podman)" ;;
	docker)
		if [[ ! -x /usr/bin/docker ]] || ! command -v dockerd >/dev/null; then
			skip_all "no dockerd and /usr/bin/docker (apt-get install docker.io)"
		fi ;;
	esac
	command -v runc >/dev/null || skip_all "no runc"
	LC_ALL=C ldd "$(command -v busybox)" 2>&1 | grep -q 'not a dynamic' ||
		skip_all "no static busybox (busybox-static)"
	[[ -c /dev/fuse ]] || skip_all "no /dev/fuse"
	grep -qE "^[^ ]+ $KROOT cgroup .*cpuacct" /proc/mounts ||
		skip_all "no cgroup v1 cpuacct at $KROOT (the reference)"
}

setup() {
	local r=$T/rootfs d f i
	for d in bin proc sys dev tmp etc; do mkdir -p "$r/$d"; done
	cp "$(command -v busybox)" "$r/bin/busybox"
	chroot "$r" /bin/busybox --install -s /bin
	echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"
	tar -C "$r" -cf "$T/rootfs.tar" . || return 1
	setup_"$ENGINE" || return 1
	"${P[@]}" import "$T/rootfs.tar" "$IMAGE" >"$T/import.log" 2>&1 || return 1
	mkdir -p "$MNT"
	"$DAEMON" -f "$MNT" >"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -f $MNT/cpuacct.usage ]] && return 0
		sleep 0.1
	done
	return 1
}

# note_parents NAME: remember the kernel's NAME parent groups that do not
# exist yet, to remove them at the end.
note_parents() {
	local h
	for h in /sys/fs/cgroup/*/; do
		[[ -d $h$1 ]] || PARENTS+=("$h$1")
	done
}

setup_podman() {
	local f
	note_parents libpod_parent
	# the shipped hooks.d files, pointed at this hook and mount
	mkdir -p "$T/hooks.d"
	for f in "$TOP"/contrib/podman/*.json.in; do
		perl -pe 's|\@HOOK\@|'"$HOOK"'|;
			s|("args": \["cpuacctfs-oci-hook", "[A-Za-z]+")|$1, "--root='"$MNT"'"|' \
			"$f" >"$T/hooks.d/$(basename "${f%.in}")"
	done
	P=(podman --root "$T/storage" --runroot "$T/run" --tmpdir "$T/tmp"
		--cgroup-manager=cgroupfs --events-backend=file --runtime=runc
		--hooks-dir "$T/hooks.d")
}

# dockerd with the shipped wrapper as runtime "cpuacctfs"; the hook it
# adds is pointed at this mount through a two-line script.
setup_docker() {
	local i
	note_parents docker
	printf '#!/bin/sh\nexec %q --root=%q "$@"\n' "$HOOK" "$MNT" >"$T/hook"
	printf '#!/bin/sh\nCPUACCTFS_HOOK=%q CPUACCTFS_RUNC=runc exec %q "$@"\n' \
		"$T/hook" "$TOP/contrib/docker/cpuacctfs-runc" >"$T/runtime"
	chmod +x "$T/hook" "$T/runtime"
	echo '{}' >"$T/daemon.json"
	dockerd --data-root "$T/data" --exec-root "$T/exec" \
		--pidfile "$T/dockerd.pid" -H "unix://$T/docker.sock" \
		--config-file "$T/daemon.json" --bridge=none --iptables=false \
		--ip-masq=false --storage-driver=vfs \
		--exec-opt native.cgroupdriver=cgroupfs \
		--add-runtime "cpuacctfs=$T/runtime" >"$T/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	P=(/usr/bin/docker -H "unix://$T/docker.sock")
	for ((i = 0; i < 300; i++)); do
		"${P[@]}" version >/dev/null 2>&1 && return 0
		kill -0 "$DOCKERD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

ct_rm() {
	case $ENGINE in
	podman) "${P[@]}" rm -f -t 0 "$1" >/dev/null 2>&1 ;;
	docker) "${P[@]}" rm -f "$1" >/dev/null 2>&1 ;;
	esac
}

# pod_run ARGS...: run -d with accounting asked for; the container id on
# stdout.
pod_run() {
	case $ENGINE in
	podman)
		# the machine's hard limits may be below podman's default ulimits
		"${P[@]}" run -d --network none --annotation io.cpuacctfs=true \
			--mount type=tmpfs,destination=/sys/fs/cgroup \
			--ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
			"$IMAGE" "$@" ;;
	docker)
		"${P[@]}" run -d --network none --runtime=cpuacctfs \
			-e CPUACCTFS=1 "$IMAGE" "$@" ;;
	esac
}

pod_exec() {
	"${P[@]}" exec "$CID" sh -c "$1" </dev/null 2>&1
}

kgroup_of() {
	local path
	path=$(sed -nE 's/^[0-9]+:([^:]*,)?cpuacct(,[^:]*)?:(.*)$/\3/p' "/proc/$1/cgroup")
	echo "$KROOT${path%/}"
}

is_comm() { [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]; }

wait_for() {
	local n=$(($1 * 10)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# totals_check KERNEL CPUACCTFS [WHEN]: within 1 ms + 0.1 % of the kernel's
# total with the bpf backend; other backends only note the difference.
totals_check() {
	local k=$1 c=$2 d b
	d=$((k > c ? k - c : c - k))
	b=$(sed -n 's/.*counting with the \([a-z]*\) backend.*/\1/p' "$T/daemon.log" | head -n 1)
	diag "totals${3:+ $3}: kernel $k, cpuacctfs $c (difference $((k - c)) ns, backend $b)"
	[[ $b == bpf ]] || return 0
	((d <= 1000000 + k / 1000)) ||
		fail "totals${3:+ $3} more than 1 ms + 0.1 % apart"
}

# exec_pid: the exec'd sleep 999, the one in init's pid namespace.
exec_pid() {
	local x
	for x in $(pgrep -x -f 'sleep 999'); do
		[[ $(readlink "/proc/$x/ns/pid") == "$(readlink "/proc/$ipid/ns/pid")" ]] &&
			{ echo "$x"; return 0; }
	done
	return 1
}

main() {
	local ipid g out want k0 c0 k1 c1 dk dc f p x pk="" pc="" i
	if [[ $ENGINE != podman && $ENGINE != docker ]] || [[ ! -x $DAEMON ]]; then
		echo "usage: $0 podman|docker DAEMON_BINARY" >&2
		exit 2
	fi
	preflight
	T=$(mktemp -d /tmp/cpuacctfs-pm.XXXXXX)
	MNT=$T/mnt
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	setup || {
		tail -n 20 "$T"/*.log | sed 's/^/# /'
		skip_all "$ENGINE cannot start or import an image here, or the cpuacctfs daemon did not start"
	}
	# init idles until SIGUSR1, burns ~1 s in sh, then sleeps
	# shellcheck disable=SC2016 # expanded by the container's sh
	CID=$(pod_run sh -c 'trap "kill \$s" USR1; sleep 1000 & s=$!; wait $s
		i=0; while [ $i -lt '"$BURN_LOOPS"' ]; do i=$((i+1)); done
		exec sleep 1000' 2>"$T/run.err")
	if [[ -z $CID ]]; then
		sed 's/^/# /' "$T/run.err"
		skip_all "$ENGINE run failed here"
	fi
	CID=$("${P[@]}" inspect -f '{{.Id}}' "$CID")
	ipid=$("${P[@]}" inspect -f '{{.State.Pid}}' "$CID")
	KG=$(kgroup_of "$ipid")
	g=$MNT/containers/$CID

	# burn: a 1 s loop in init, the growth of both
	for ((i = 0; i < 15; i++)); do
		sleep 0.2
		k0=$(<"$KG/cpuacct.usage") c0=$(<"$g/cpuacct.usage")
		[[ $k0 == "$pk" && $c0 == "$pc" ]] && break
		pk=$k0 pc=$c0
	done
	kill -USR1 "$ipid"
	wait_for 10 is_comm "$ipid" sleep || fail "the burner did not finish"
	sleep 0.2
	k1=$(<"$KG/cpuacct.usage") c1=$(<"$g/cpuacct.usage")
	dk=$((k1 - k0)) dc=$((c1 - c0))
	diag "kernel $KG: $k0 -> $k1 (+$dk ns)" "cpuacctfs: $c0 -> $c1 (+$dc ns)"
	if ((dk < 500000000)); then
		fail "burned only $dk ns"
	elif ((1000 * (dc > dk ? dc - dk : dk - dc) > dk + 0)); then
		fail "burn: +$dc ns vs the kernel's +$dk ns: more than 0.1% apart"
	fi
	result burn

	# totals, before any exec: init adopted with its past and runc's first
	# init stages' (bpf backend)
	totals_check "$k1" "$c1"
	result totals

	# files: the kernel's set, inside and on the host
	out=$(pod_exec "ls $CG" | tr '\n' ' ')
	want=$(cd "$KG" && printf '%s ' *)
	[[ $out == "$want" ]] || fail "ls $CG inside: $out" "kernel group $KG: $want"
	[[ -d $g ]] || fail "no group $g on the host"
	grep -qx "$ipid" "$g/cgroup.procs" 2>/dev/null ||
		fail "init (host pid $ipid) not in $g/cgroup.procs"
	diag "daemon: $(grep adopted "$T/daemon.log")"
	result files

	# exec: podman exec (conmon, runc exec) or docker exec (containerd's
	# shim, runc exec) lands in the group
	out=$("${P[@]}" exec -d "$CID" sleep 999 2>&1) || fail "$ENGINE exec failed: $out"
	wait_for 5 exec_pid
	p=$(exec_pid)
	if [[ -z $p ]]; then
		fail "no exec'd sleep 999 found in init's pid namespace $(readlink "/proc/$ipid/ns/pid"):" \
			"$(for x in $(pgrep -x -f 'sleep 999'); do echo "$x $(readlink "/proc/$x/ns/pid")"; done)"
	else
		grep -qx "$p" "$KG/tasks" || fail "the kernel has not put $p in $KG"
		wait_for 3 grep -qx "$p" "$g/tasks" ||
			fail "$ENGINE exec's process $p is not in $g"
	fi
	result exec
	sleep 0.2
	totals_check "$(<"$KG/cpuacct.usage")" "$(<"$g/cpuacct.usage")" "after the execs"
	result totals-after-exec

	# busybox cat inside = head -c 4096 of the same file
	for f in notify_on_release cgroup.clone_children; do
		want=$(pod_exec "head -c 4096 $CG/$f")
		out=$(pod_exec "cat $CG/$f")
		[[ -n $out && $out == "$want" ]] ||
			fail "busybox cat $f: '$out'; head -c 4096: '$want'"
	done
	# counters that move: the same shape, digits masked
	for f in cpuacct.usage cpuacct.usage_percpu cpuacct.stat cpuacct.usage_all tasks; do
		want=$(pod_exec "sleep 0.1; head -c 4096 $CG/$f" | tr 0-9 9 | tr -s 9)
		out=$(pod_exec "sleep 0.1; cat $CG/$f" | tr 0-9 9 | tr -s 9)
		[[ -n $out && $out == "$want" ]] ||
			fail "busybox cat $f: '$out'; head -c 4096: '$want'"
	done
	result busybox-cat

	ct_rm "$CID"
	CID=""
	wait_for 10 test ! -d "$g" || {
		fail "poststop left $g"
		tail -n 5 "$T"/*.log | sed 's/^/# /'
	}
	result poststop
	summary
}

main "$@"
