#!/bin/bash
# Delegation: chmod, chown and chgrp of groups and their files, and what a
# user may then do (mkdir in their group, move their own processes, EACCES
# for others'), and the opener's credentials for writes through a handed-on
# descriptor (CVE-2021-4197); each compared with the kernel's hierarchy.
# shellcheck source=lib.sh disable=SC2016 # perl code in single quotes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Throwaway ids that need no passwd entry: U:G owns, U2:G2 is a stranger.
U=64123 G=64124 U2=64125 G2=64126
AS_U=(setpriv "--reuid=$U" "--regid=$G" --clear-groups)
AS_U2=(setpriv "--reuid=$U2" "--regid=$G2" --clear-groups)
FD=$IT_DIR/fd.pl

# attrs DIR: mode, owner and group of DIR and of each of its files.
attrs() {
	local files
	mapfile -t files < <(file_names "$1")
	(cd "$1" && stat -c '%a %u %g %n' . "${files[@]}")
}

# errno_as U_CMD CODE PATH...: perl CODE as the user of U_CMD (an array
# name), OK or the errno name.
errno_as() {
	local -n as=$1
	shift
	"${as[@]}" perl -MErrno -e '
		my $code = shift @ARGV;
		if (eval $code) { print "OK\n"; exit 0 }
		for (keys %!) { if ($!{$_}) { print "$_\n"; exit 0 } }
		print "E", $! + 0, "\n";' "$@"
}

test_root_changes() {
	local d
	both_groups
	for d in "$K" "$S"; do
		if ! { chown $U:$G "$d" && chmod 0750 "$d" &&
			chmod 0666 "$d/tasks" && chown $U2 "$d/cgroup.procs" &&
			chgrp $G2 "$d/notify_on_release" &&
			chmod 4751 "$d/cpuacct.usage" && chmod 0400 "$d/cpuacct.stat"; }; then
			fail "chmod/chown in $d failed"
		fi
	done
	check_same "attributes after root's changes" "$(attrs "$K")" "$(attrs "$S")"
	for d in "$K" "$S"; do chmod 7777 "$d"; done
	check_same "chmod 7777" "$(stat -c %A "$K")" "$(stat -c %A "$S")"
	check_same "root's files untouched" "$(attrs "$KROOT" | grep -v '^[0-9]* [0-9]* [0-9]* \.$')" \
		"$(attrs "$SROOT" | grep -v '^[0-9]* [0-9]* [0-9]* \.$')"
}

test_owner_changes() {
	local d out=()
	both_groups
	for d in "$K" "$S"; do
		chown $U:$G "$d"
		out+=("$(
			errno_as AS_U 'chmod(0700, $ARGV[0])' "$d"
			errno_as AS_U 'chown(-1, $ARGV[1], $ARGV[0])' "$d" $G
			errno_as AS_U 'chown($ARGV[1], -1, $ARGV[0])' "$d" $U2
			errno_as AS_U 'chown(-1, $ARGV[1], $ARGV[0])' "$d" 0
			errno_as AS_U 'chmod(0666, $ARGV[0])' "$d/tasks"
			errno_as AS_U2 'chmod(0777, $ARGV[0])' "$d"
			errno_as AS_U 'open(my $f, ">", $ARGV[0])' "$d/tasks"
			attrs "$d"
		)")
	done
	check_same "the owner's chmod, chown, chgrp" "${out[0]}" "${out[1]}"
}

test_owner_mkdir() {
	local d out=()
	both_groups
	for d in "$K" "$S"; do
		chown $U:$G "$d"
		out+=("$(
			"${AS_U[@]}" sh -c 'umask 027; mkdir "$0/sub" && mkdir "$0/sub/deeper" && echo made' "$d"
			attrs "$d/sub"
			attrs "$d/sub/deeper" | head -n 1
			errno_as AS_U2 'mkdir($ARGV[0])' "$d/x"
			errno_as AS_U2 'rmdir($ARGV[0])' "$d/sub/deeper"
			errno_as AS_U 'rmdir($ARGV[0])' "$d/sub/deeper"
			errno_as AS_U 'open(my $f, ">", $ARGV[0])' "$d/sub/notify_on_release"
			errno_as AS_U 'rmdir($ARGV[0])' "$d/sub"
			errno_as AS_U 'mkdir($ARGV[0])' "$KROOT/../nope-$IT_RUN"
		)")
	done
	check_same "mkdir and rmdir as the owner" "${out[0]}" "${out[1]}"
}

# has_uids PID "R E S": PID's real, effective and saved uids are these.
has_uids() {
	[[ $(awk '/^Uid:/ { print $2, $3, $4 }' "/proc/$1/status" 2>/dev/null) == "$2" ]]
}

# is_comm PID NAME: PID runs NAME (a setpriv has exec'd it).
is_comm() {
	[[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]
}

test_moves() {
	local d f tu tu2 tr tm1 tm2 out=() roles=()
	both_groups
	start tu "${AS_U[@]}" sleep 60
	start tu2 "${AS_U2[@]}" sleep 60
	start tr sleep 60
	# the rule looks at the real and saved uids, not the effective one
	start tm1 "$IT_HELPERS/resuid" $U2 $U $U2 60
	start tm2 "$IT_HELPERS/resuid" $U2 $U2 $U 60
	# each target as it will stay, before the first write
	if ! { wait_until 5 is_comm "$tu" sleep &&
		wait_until 5 is_comm "$tu2" sleep &&
		wait_until 5 is_comm "$tr" sleep &&
		wait_until 5 has_uids "$tm1" "$U2 $U $U2" &&
		wait_until 5 has_uids "$tm2" "$U2 $U2 $U"; }; then
		fail "the targets did not start"
	fi
	for d in "$K" "$S"; do
		chown $U:$G "$d" "$d/tasks" "$d/cgroup.procs"
		out+=("$(
			for f in tasks cgroup.procs; do
				echo "$f own $("${AS_U[@]}" perl "$WR" "$d/$f" "$tu")"
				echo "$f foreign $("${AS_U[@]}" perl "$WR" "$d/$f" "$tu2")"
				echo "$f root's $("${AS_U[@]}" perl "$WR" "$d/$f" "$tr")"
				echo "$f euid=U only $("${AS_U[@]}" perl "$WR" "$d/$f" "$tm1")"
				echo "$f suid=U only $("${AS_U[@]}" perl "$WR" "$d/$f" "$tm2")"
				echo "$f itself $("${AS_U[@]}" perl "$WR" "$d/$f" 0)"
			done
			echo "by the stranger $("${AS_U2[@]}" perl "$WR" "$d/tasks" "$tu2")"
		)")
		roles+=("$(roles "$d/cgroup.procs" "$tu=own" "$tu2=foreign" \
			"$tr=root" "$tm1=m1" "$tm2=m2")")
	done
	check_same "moves by the group's owner" "${out[0]}" "${out[1]}"
	check_same "who was moved" "${roles[0]}" "${roles[1]}"
}

test_fd_root_to_nobody() {
	local d tr out=()
	both_groups
	start tr sleep 60
	wait_until 5 is_comm "$tr" sleep || fail "no target"
	for d in "$K" "$S"; do
		out+=("$(
			("${NOBODY[@]}" perl "$FD" write "$tr") 3>>"$d/tasks"
			("${NOBODY[@]}" perl "$FD" write 0) 3>>"$d/cgroup.procs"
			roles "$d/cgroup.procs" "$tr=root"
		)")
	done
	check_same "a root-opened tasks fd written by nobody" "${out[0]}" "${out[1]}"
}

# hold_fd VAR FILE CMD...: CMD (ending in a user switch) opens FILE and
# keeps it; VAR becomes "PID FD" (the fd found in /proc).
hold_fd() {
	local var=$1 file=$2 pid i l fd=""
	shift 2
	start pid "$@" perl "$FD" hold "$file"
	for ((i = 0; i < 100; i++)); do
		[[ -z $fd ]] || break
		sleep 0.05
		for l in /proc/"$pid"/fd/*; do
			[[ $(readlink "$l") == "$file" ]] && fd=${l##*/}
		done
	done
	printf -v "$var" '%s %s' "$pid" "$fd"
}

test_fd_nobody_to_root() {
	local d tr h out=()
	both_groups
	start tr sleep 60
	wait_until 5 is_comm "$tr" sleep || fail "no target"
	for d in "$K" "$S"; do
		chmod 0666 "$d/tasks"
		hold_fd h "$d/tasks" "${NOBODY[@]}"
		[[ $h == *" "?* ]] || fail "nobody could not open $d/tasks"
		# shellcheck disable=SC2086 # h is "PID FD"
		out+=("$(
			perl "$FD" grab $h "$tr"
			perl "$FD" grab $h "${h%% *}"
			roles "$d/tasks" "$tr=root" "${h%% *}=holder"
		)")
	done
	check_same "a tasks fd opened by nobody, written by root" "${out[0]}" "${out[1]}"
}

# release_agent: the kernel's is host-global, so only its current value
# is ever written back to it.
test_fd_release_agent() {
	local saved bytes d h out=()
	command -v capsh >/dev/null || skip "capsh (libcap2-bin) is not installed"
	have_root_only_files "$SROOT" || skip "subject is not a root"
	saved=$(cat "$KROOT/release_agent")
	bytes=${saved:-$'\n'}
	echo "$saved" >"$SROOT/release_agent"
	for d in "$KROOT" "$SROOT"; do
		hold_fd h "$d/release_agent" capsh --drop=cap_sys_admin -- \
			-c 'exec "$@"' capsh
		# shellcheck disable=SC2086 # h is "PID FD"
		out+=("$(
			echo "opened without CAP_SYS_ADMIN, written with: $(perl "$FD" grab $h "$bytes")"
			echo "opened with it, written without: $( (capsh --drop=cap_sys_admin -- -c 'exec perl "$0" write "$1"' "$FD" "$bytes") 3>>"$d/release_agent")"
		)")
		kill "${h%% *}"
	done
	check_same "release_agent through a handed-on fd" "${out[0]}" "${out[1]}"
	check_eq "the kernel's release_agent is unchanged" "$saved" "$(cat "$KROOT/release_agent")"
}

test_cgcreate() {
	local name k s
	command -v cgcreate >/dev/null || skip "cgcreate (cgroup-tools) is not installed"
	if ! getent passwd daemon >/dev/null || ! getent group nogroup >/dev/null; then
		skip "no user daemon or group nogroup"
	fi
	name=$(new_name)
	k=$KROOT/$name s=$SROOT/$name
	register group "$k"
	register group "$s"
	local args=(-t daemon:daemon -a nobody:nogroup -d 0770 -f 0660 -s 0600 -g "cpuacct:/$name")
	cgcreate "${args[@]}" || fail "cgcreate on the kernel failed"
	# libcgroup finds hierarchies by their cgroup mounts only: lay the
	# subject over the kernel's mount point, in a mount namespace of its own
	unshare -m --propagation private sh -c \
		'mount --bind "$0" "$1" && shift && exec cgcreate "$@"' \
		"$SROOT" "$KROOT" "${args[@]}" || fail "cgcreate on the subject failed"
	[[ -d $s ]] || fail "cgcreate made nothing under the subject"
	check_same "cgcreate -t -a -d -f -s" "$(attrs "$k")" "$(attrs "$s")"
}

if ! "${NOBODY[@]}" true 2>/dev/null; then
	skip_all "delegation" "setpriv cannot switch users"
	exit 0
fi
run_test "delegation: chown, chgrp, chmod by root" test_root_changes
run_test "delegation: what the owner may change" test_owner_changes
run_test "delegation: mkdir and rmdir as the owner" test_owner_mkdir
run_test "delegation: moving own and others' processes" test_moves
run_test "credentials: tasks opened by root, written by nobody" test_fd_root_to_nobody
run_test "credentials: tasks opened by nobody, written by root" test_fd_nobody_to_root
run_test "credentials: release_agent through a handed-on fd" test_fd_release_agent
run_test "delegation: cgcreate -t -a" test_cgcreate
