#!/bin/bash
# One tenant cannot take the others down (issue 12): the groups a container
# makes below its own are bounded (cpuacctctl limit, set by the host; the
# OCI hook sets the daemon's --max-descendants default), a mkdir past the
# bound fails with EAGAIN, as cgroup v2's cgroup.max.descendants (the
# kernel's cgroup2 hierarchy is the oracle for the count and the errno),
# and another container's reader keeps reading its files unharmed.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RACE=$IT_DIR/race.pl
V2=${IT_CGROUP2_ROOT:-/sys/fs/cgroup/unified}
LIMIT=50

# flood DIR SECONDS: mkdir DIR/f0, f1, ... for SECONDS, counting failures
# by errno; prints "made N" and "ERRNO N" lines.
flood() {
	perl -MErrno -MTime::HiRes=time -e '
		# EAGAIN and EWOULDBLOCK are one number: say EAGAIN
		sub errno_name {
			return "EAGAIN" if $!{EAGAIN};
			my $n = $! + 0;
			for (sort keys %!) { return $_ if $!{$_} }
			return "E$n";
		}
		my ($dir, $secs) = @ARGV;
		my ($i, $made, %err) = (0, 0);
		my $end = time + $secs;
		while (time < $end) {
			if (mkdir "$dir/f" . $i++) { $made++; next }
			$err{errno_name()}++;
		}
		print "made $made\n";
		print "$_\n" for map { "$_ $err{$_}" } sort keys %err;' "$1" "$2"
}

# in_container DIR CMD...: run CMD in new mount and pid namespaces, moved
# into group DIR first, with DIR bind-mounted at /sys/fs/cgroup/cpuacct
# of a private mount tree (what the OCI hook gives a container).
in_container() {
	local dir=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --pid --fork --propagation private sh -c '
		dir=$1; shift
		echo $$ >"$dir/cgroup.procs" || exit 90
		mount -t tmpfs none /sys/fs/cgroup || exit 91
		mkdir /sys/fs/cgroup/cpuacct &&
			mount --bind "$dir" /sys/fs/cgroup/cpuacct || exit 92
		exec "$@"' sh "$dir" "$@"
}

# oracle: the flood of a cgroup2 group whose cgroup.max.descendants is
# LIMIT, as "made N / ERRNO".
oracle() {
	local g out
	[[ -w $V2/cgroup.subtree_control ]] || return 1
	g=$V2/it${IT_RUN}_tenant
	mkdir "$g" 2>/dev/null || return 1
	echo "$LIMIT" >"$g/cgroup.max.descendants" || { rmdir "$g"; return 1; }
	out=$(flood "$g" 1)
	find "$g" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
	rmdir "$g"
	echo "$out" | summary
}

# summary: "made N / ERRNOS" of a flood's output (counts of errors left out:
# how many times a loop retried depends on the machine).
summary() {
	awk '/^made/ { m = $2 } !/^made/ { e = e " " $1 } END { print "made " m " /" e }'
}

test_flood_bounded() {
	local t k out reader made
	[[ $IT_MODE == daemon ]] || skip "needs the daemon and its cpuacctctl"
	[[ -x ${IT_CTL:-} ]] || skip "no cpuacctctl at ${IT_CTL:-?}"
	command -v unshare >/dev/null || skip "no unshare"
	S=$(sgroup) || { fail "cannot mkdir in the mount"; return; }
	t=$(sgroup) || { fail "cannot mkdir in the mount"; return; }
	out=$("$IT_CTL" -m "$SROOT" limit "${S#"$SROOT"/}" "$LIMIT" 2>&1)
	check_eq "cpuacctctl limit sets it" "$LIMIT 0" "$out"
	# the other tenant: a reader in its own container, over the flood
	in_container "$t" perl "$RACE" read 4 "$(nproc)" \
		/sys/fs/cgroup/cpuacct >"$IT_TMP/reader" 2>&1 &
	reader=$!
	register pid "$reader"
	in_container "$S" bash -c "$(declare -f flood); flood /sys/fs/cgroup/cpuacct 3" \
		>"$IT_TMP/flood" 2>&1
	wait "$reader"
	made=$(awk '/^made/ { print $2 }' "$IT_TMP/flood")
	check_eq "groups the flood made" "$LIMIT" "$made"
	check_eq "errors of the flood past the limit" "EAGAIN" \
		"$(awk '!/^made/ { print $1 }' "$IT_TMP/flood" | tr '\n' ' ' | sed 's/ $//')"
	k=$(oracle) && check_same "flood against cgroup2's cgroup.max.descendants" \
		"$k" "$(summary <"$IT_TMP/flood")"
	note "cgroup2 oracle at $V2: ${k:-none (count and errno checked alone)}"
	check_eq "the other tenant's reads: empty, partial, error" "0 0 0" \
		"$(awk 'NR == 1 { print $6, $8, $10 }' "$IT_TMP/reader")"
	check_true "the other tenant read its files" \
		awk 'NR == 1 && $2 > 100 { ok = 1 } END { exit !ok }' "$IT_TMP/reader"
	check_eq "cpuacctctl limit shows the limit and the count" "$LIMIT $LIMIT" \
		"$("$IT_CTL" -m "$SROOT" limit "${S#"$SROOT"/}" 2>&1)"
	rmdir "$S/f0" || fail "rmdir of one flooded group"
	check_true "one more mkdir after a rmdir" mkdir "$S/again"
	check_eq "a nested mkdir past the limit" "EAGAIN" \
		"$(perl -MErrno -e 'print mkdir($ARGV[0]) ? "OK\n" : $!{EAGAIN} ? "EAGAIN\n" : "$!\n"' "$S/again/deeper")"
	note "flood: $(summary <"$IT_TMP/flood"); other tenant's reads: $(head -n1 "$IT_TMP/reader")"
}

test_limit_values() {
	[[ $IT_MODE == daemon ]] || skip "needs the daemon and its cpuacctctl"
	[[ -x ${IT_CTL:-} ]] || skip "no cpuacctctl at ${IT_CTL:-?}"
	S=$(sgroup) || { fail "cannot mkdir in the mount"; return; }
	check_eq "a limit of garbage" \
		"cpuacctctl: a limit is a number of groups, max or default" \
		"$("$IT_CTL" -m "$SROOT" limit "${S#"$SROOT"/}" 12x 2>&1)"
	check_eq "default is the daemon's --max-descendants" "1000 0" \
		"$("$IT_CTL" -m "$SROOT" limit "${S#"$SROOT"/}" default 2>&1)"
	check_eq "max" "max 0" \
		"$("$IT_CTL" -m "$SROOT" limit "${S#"$SROOT"/}" max 2>&1)"
}

run_test "tenant: a mkdir flood in a container stops at its limit with EAGAIN, another container reads unharmed" \
	test_flood_bounded
run_test "tenant: cpuacctctl limit values" test_limit_values
