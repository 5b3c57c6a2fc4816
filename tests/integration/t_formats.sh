#!/bin/bash
# Formats: bytes of every file of a fresh group, masked formats of the root,
# partial reads and pread at every offset.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# common_files: files of a child group, from the kernel.
common_files() {
	file_names "$K"
}

test_fresh_file() {
	local f=$1
	both_groups
	raw "$K/$f" "$IT_TMP/k" || skip "kernel file $f unreadable"
	raw "$S/$f" "$IT_TMP/s" || fail "cannot read subject $f"
	check_same_files "fresh group $f" "$IT_TMP/k" "$IT_TMP/s"
}

# masked FILE: its bytes, digits masked, repeated lines folded (id lists).
masked() {
	cat -A "$1" | mask | uniq
}

test_root_format() {
	local f=$1 pid
	if is_subject_mode && [[ $f == tasks || $f == cgroup.procs ]]; then
		start pid sleep 60
		echo "$pid" >"$SROOT/tasks"
	fi
	[[ -e $SROOT/$f ]] || fail "subject root has no $f"
	check_same "root $f format (digits masked)" "$(masked "$KROOT/$f")" \
		"$(masked "$SROOT/$f" 2>&1)"
}

# busy_group DIR: run a short burner and a 3-thread sleeper in DIR, so that
# every file has stable, non-trivial content.
busy_group() {
	local dir=$1 spin mt
	start_in spin "$dir" "$IT_HELPERS/spin" 300
	wait "$spin"
	start_in mt "$dir" "$IT_HELPERS/mt" 3
	wait_threads "$mt" 3
}

# read_ways FILE: check that partial reads, small-buffer reads, dd skip and
# pread at every offset all give the bytes of one full read. Prints problems.
read_ways() {
	perl -MFcntl -MConfig -e '
		my $f = shift;
		my $sysno = $Config{archname} =~ /x86_64/ ? 17 : 67;    # pread64
		sub whole { my $bs = shift; sysopen(my $h, $f, O_RDONLY) or die "$f: $!";
			my ($all, $buf) = ("", ""); while (1) { my $n = sysread($h, $buf, $bs);
			die "read: $!" unless defined $n; last if !$n; $all .= $buf } $all }
		my $ref = whole(65536);
		print "empty file\n" if $ref eq "" && $f !~ /tasks|procs/;
		for my $bs (1, 2, 3, 5, 7, 16, 4096) {
			my $got = whole($bs);
			print "sysread bs=$bs gives ", length($got), " bytes, full read ", length($ref), "\n"
				if $got ne $ref;
		}
		for my $off (0 .. length($ref) + 2) {
			sysopen(my $h, $f, O_RDONLY) or die;
			my $buf = "\0" x 8192;
			my $n = syscall($sysno, fileno($h), $buf, 8192, $off);
			my $want = $off <= length($ref) ? substr($ref, $off) : "";
			print "pread at $off: got ", ($n < 0 ? "error $!" : "$n bytes"),
				", want ", length($want), "\n"
				if $n < 0 || substr($buf, 0, $n) ne $want;
		}' "$1"
	local len off
	len=$(wc -c <"$1")
	for off in 0 1 2 5 $((len - 1)) "$len"; do
		((off >= 0)) || continue
		cmp -s <(dd if="$1" bs=1 skip="$off" 2>/dev/null) <(tail -c +$((off + 1)) "$1") ||
			echo "dd bs=1 skip=$off differs from the full read"
	done
}

# settled DIR: wait (up to 3 s) until DIR's counters stop changing. The
# subject charges the last moments and ticks of exited tasks within its
# staleness (a few passes), the kernel at once.
settled() {
	local i before
	for ((i = 0; i < 15; i++)); do
		before=$(cat "$1/cpuacct.usage_all" "$1/cpuacct.stat")
		sleep 0.2
		[[ $before == "$(cat "$1/cpuacct.usage_all" "$1/cpuacct.stat")" ]] &&
			return 0
	done
	return 1
}

test_partial_reads() {
	local f problems
	both_groups
	busy_group "$K"
	busy_group "$S"
	settled "$S" || fail "subject counters still changing 3 s after the burn"
	for f in $(common_files); do
		problems=$(read_ways "$K/$f")
		[[ -z $problems ]] || diag "kernel $f (oracle): $problems"
		problems=$(read_ways "$S/$f")
		[[ -z $problems ]] || fail "subject $f: $problems"
	done
	masked "$K/cpuacct.usage_all" >"$IT_TMP/k"
	masked "$S/cpuacct.usage_all" >"$IT_TMP/s"
	check_same_files "busy group usage_all format" "$IT_TMP/k" "$IT_TMP/s"
}

test_read_past_end() {
	local f k s
	both_groups
	for f in cpuacct.usage cpuacct.stat notify_on_release; do
		k=$(dd if="$K/$f" bs=1 skip=4096 2>/dev/null | wc -c)
		s=$(dd if="$S/$f" bs=1 skip=4096 2>/dev/null | wc -c)
		check_same "$f read at offset 4096" "$k" "$s"
	done
}

K=$(ls -d "$KROOT")
for f in $(file_names "$KROOT"); do
	case " $ROOT_ONLY_FILES " in *" $f "*) continue ;; esac
	run_test "format: fresh group $f (cat -A bytes)" test_fresh_file "$f"
done
for f in $(file_names "$KROOT"); do
	case " $ROOT_ONLY_FILES " in *" $f "*) continue ;; esac
	run_test "format: root $f (digits masked)" test_root_format "$f"
done
run_test "format: partial reads, small buffers, dd skip, pread at every offset" test_partial_reads
run_test "format: reads past the end are empty" test_read_past_end
