#!/bin/bash
# t_cache_race.sh: --cache mode (page-cache reads) while groups are created
# and removed beside the readers (issue 12): a read returns the whole text
# of an existing file or fails as the kernel's does (ENOENT for a path that
# is gone, ENODEV for a file still open in a removed group), never an empty
# or cut text. The kernel's hierarchy runs the same race as the control.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RACE=$IT_DIR/race.pl
RACE_SECS=${IT_RACE_SECS:-6}

# race ROOT OUTFILE: one group that stays, three that come and go, three
# readers; the readers' count lines and bad reads go to OUTFILE.
race() {
	local root=$1 out=$2 base stable c=() i pids=() churner
	base=$(new_name)
	stable=$root/${base}_s
	mkdir "$stable" || return 1
	register group "$stable"
	for i in 1 2 3; do
		c+=("$root/${base}_c$i")
		register group "$root/${base}_c$i"
	done
	perl "$RACE" churn "$RACE_SECS" "${c[@]}" >"$out.churn" &
	churner=$!
	for i in 1 2 3; do
		perl "$RACE" read "$RACE_SECS" "$(nproc)" "$stable" "${c[@]}" \
			>"$out.$i" &
		pids+=($!)
	done
	wait "$churner" "${pids[@]}"
	cat "$out".[123] >"$out"
}

# sum KIND FILE: the total of KIND over the readers' count lines.
sum() {
	awk -v k="$1" '!/^#/ { for (i = 1; i < NF; i += 2) if ($i == k) n += $(i + 1) } END { print n + 0 }' "$2"
}

test_readers_racing_removal() {
	local kind
	[[ $IT_MODE == daemon ]] || skip "needs the daemon binary"
	own_daemon --cache || return
	race "$KROOT" "$IT_TMP/k" || skip "cannot create kernel groups"
	race "$OWN" "$IT_TMP/s" || fail "cannot create groups in the --cache mount"
	for kind in empty partial error; do
		check_eq "kernel: $kind reads" 0 "$(sum "$kind" "$IT_TMP/k")"
		check_eq "--cache: $kind reads" 0 "$(sum "$kind" "$IT_TMP/s")"
	done
	[[ $(sum ok "$IT_TMP/s") -gt 1000 && $(sum gone "$IT_TMP/s") -gt 100 ]] ||
		fail "too little raced to tell: $(cat "$IT_TMP/s")"
	# Padded: a whole text, then zeros up to a size the kernel kept. Reads
	# of a group's id after it came back to a new group did that (inode
	# numbers carry the serial now: the test below), and so did a read
	# answered from before a removal when a getattr answered after it
	# had given the kernel a page's size (now ENODEV).
	check_eq "kernel: padded reads" 0 "$(sum padded "$IT_TMP/k")"
	check_eq "--cache: padded reads" 0 "$(sum padded "$IT_TMP/s")"
	grep -h '^#' "$IT_TMP/k" "$IT_TMP/s" | head -20 >&2
	note "kernel: $(cat "$IT_TMP/k.churn"); reads ok $(sum ok "$IT_TMP/k") gone $(sum gone "$IT_TMP/k")"
	note "--cache: $(cat "$IT_TMP/s.churn"); reads ok $(sum ok "$IT_TMP/s") gone $(sum gone "$IT_TMP/s")"
}

# gone_errors ROOT [REUSE]: after rmdir, the errno of a read of a file
# opened before (waiting up to 2 s for the page cache to be dropped) and
# of an open of its path. With REUSE, 1,024 groups are made and removed
# first, so that the removed group's id comes back (the daemon reuses an
# id after 1,024 removals, first in, first out: on a fresh daemon the next
# group takes it) before the open file is read.
gone_errors() {
	local g
	g=$1/$(new_name)
	mkdir "$g" || return 1
	register group "$g"
	perl -MErrno -e '
		my ($g, $reuse) = @ARGV;
		sub name { my $n = $! + 0; for (keys %!) { return $_ if $!{$_} } "E$n" }
		open(my $fh, "<", "$g/cpuacct.usage") or die "open: $!";
		my $buf;
		sysread($fh, $buf, 4096) or die "first read: $!";
		rmdir $g or die "rmdir: $!";
		for my $i (1 .. ($reuse ? 1024 : 0)) {
			mkdir "$g.r$i" or die "mkdir: $!";
			rmdir "$g.r$i" or die "rmdir: $!";
		}
		mkdir "$g.new" or die "mkdir: $!" if $reuse;
		my $r = "read OK";
		for (1 .. 40) {
			sysseek($fh, 0, 0);
			if (!defined sysread($fh, $buf, 4096)) { $r = "read " . name(); last }
			select(undef, undef, undef, 0.05);
		}
		rmdir "$g.new" if $reuse;
		my $o = open(my $f2, "<", "$g/cpuacct.usage") ? "open OK" : "open " . name();
		print "$r, $o\n";' "$g" "${2:-}"
}

# removed_group_errors [REUSE]: gone_errors on the kernel and --cache.
test_removed_group_errors() {
	local k s
	[[ $IT_MODE == daemon ]] || skip "needs the daemon binary"
	own_daemon --cache || return
	k=$(gone_errors "$KROOT" "$@") || skip "cannot create a kernel group"
	s=$(gone_errors "$OWN" "$@")
	check_same "read of an open file and open of the path after rmdir" "$k" "$s"
}

run_test "cache: readers racing mkdir/rmdir get whole texts or ENOENT/ENODEV" \
	test_readers_racing_removal
run_test "cache: a removed group's open file and path fail as the kernel's" \
	test_removed_group_errors
run_test "cache: a removed group's open file fails even once its id came back" \
	test_removed_group_errors reuse
