#!/bin/bash
# Directory operations: mkdir, rmdir, create, unlink, symlink, mkfifo, rename.
# shellcheck source=lib.sh disable=SC2016 # perl code in single quotes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# op_both WHAT PERLCODE REL1 [REL2]: run PERLCODE with $ARGV[0..1] being
# K/REL1 and K/REL2 (then S/...), compare the errno names. REL "." is the
# group directory itself.
op_both() {
	local what=$1 code=$2 a=$3 b=${4:-}
	local k s
	k=$(errno_of_perl "$code" "$(at "$K" "$a")" "$(at "$K" "$b")")
	s=$(errno_of_perl "$code" "$(at "$S" "$a")" "$(at "$S" "$b")")
	check_same "$what" "$k" "$s"
}

# at DIR REL: DIR/REL, or DIR itself for "."
at() {
	if [[ $2 == . ]]; then echo "$1"; else echo "$1/$2"; fi
}

# tree DIR: names, types and modes below DIR (the listing that must match).
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %p\n' | LC_ALL=C sort)
}

test_mkdir_errors() {
	both_groups
	op_both "mkdir a" 'mkdir $ARGV[0]' a
	op_both "mkdir a again (EEXIST)" 'mkdir $ARGV[0]' a
	op_both "mkdir of a control file name (EEXIST)" 'mkdir $ARGV[0]' tasks
	op_both "mkdir name with newline" 'mkdir $ARGV[0]' $'new\nline'
	op_both "mkdir in a missing parent" 'mkdir $ARGV[0]' nope/x
	check_same "tree after mkdirs" "$(tree "$K")" "$(tree "$S")"
}

test_rmdir_busy() {
	local kp sp
	both_groups
	op_both "mkdir sub" 'mkdir $ARGV[0]' sub
	op_both "rmdir with a subgroup (EBUSY)" 'rmdir $ARGV[0]' .
	op_both "rmdir sub" 'rmdir $ARGV[0]' sub
	start kp sleep 60
	start sp sleep 60
	echo "$kp" >"$K/tasks"
	echo "$sp" >"$S/tasks" || fail "cannot move $sp into $S"
	op_both "rmdir with a task (EBUSY)" 'rmdir $ARGV[0]' .
	op_both "rmdir of a control file" 'rmdir $ARGV[0]' tasks
	op_both "rmdir of a missing dir" 'rmdir $ARGV[0]' nope
	kill "$kp" "$sp"
	wait_gone "$kp"
	wait_gone "$sp"
	sleep 0.2
	op_both "rmdir after the task exited" 'rmdir $ARGV[0]' .
	check_same "group gone" "$([[ -e $K ]] && echo present)" "$([[ -e $S ]] && echo present)"
}

test_create_unlink() {
	both_groups
	op_both "create a regular file (O_CREAT)" 'sysopen(my $h, $ARGV[0], O_CREAT|O_WRONLY)' newfile
	op_both "O_CREAT|O_EXCL on a control file" \
		'sysopen(my $h, $ARGV[0], O_CREAT|O_EXCL|O_WRONLY)' tasks
	op_both "O_CREAT on a control file" 'sysopen(my $h, $ARGV[0], O_CREAT|O_WRONLY)' tasks
	check_same "touch newfile" "$(touch "$K/newfile" 2>&1 | sed "s|$K|G|")" \
		"$(touch "$S/newfile" 2>&1 | sed "s|$S|G|")"
	op_both "unlink a control file" 'unlink $ARGV[0]' cpuacct.usage
	op_both "unlink a missing file" 'unlink $ARGV[0]' nope
	op_both "symlink" 'symlink "tasks", $ARGV[0]' link
	op_both "hard link" 'link $ARGV[1], $ARGV[0]' hl tasks
	op_both "mkfifo" 'require POSIX; POSIX::mkfifo($ARGV[0], 0644)' fifo
	check_same "tree after create attempts" "$(tree "$K")" "$(tree "$S")"
}

test_rename() {
	both_groups
	op_both "mkdir a" 'mkdir $ARGV[0]' a
	op_both "mkdir b" 'mkdir $ARGV[0]' b
	op_both "rename a -> c within parent" 'rename $ARGV[0], $ARGV[1]' a c
	op_both "renamed group works" 'open(my $h, "<", $ARGV[0]) && <$h> =~ /^0$/' c/cpuacct.usage
	op_both "rename c onto existing sibling b" 'rename $ARGV[0], $ARGV[1]' c b
	op_both "rename c into another parent b" 'rename $ARGV[0], $ARGV[1]' c b/c
	op_both "rename a control file" 'rename $ARGV[0], $ARGV[1]' tasks tasks2
	op_both "rename a control file onto another" 'rename $ARGV[0], $ARGV[1]' tasks cgroup.procs
	op_both "rename a missing group" 'rename $ARGV[0], $ARGV[1]' nope nope2
	op_both "rename c to itself" 'rename $ARGV[0], $ARGV[1]' c c
	check_same "rename out of the filesystem" \
		"$(errno_of_perl 'rename $ARGV[0], $ARGV[1]' "$K/c" "$IT_TMP/k")" \
		"$(errno_of_perl 'rename $ARGV[0], $ARGV[1]' "$S/c" "$IT_TMP/s")"
	check_same "tree after renames" "$(tree "$K")" "$(tree "$S")"
}

test_rmdir_empty() {
	both_groups
	op_both "rmdir a fresh empty group" 'rmdir $ARGV[0]' .
	check_same "gone from the parent" \
		"$(find "$KROOT" -maxdepth 1 -name "${K##*/}" | wc -l)" \
		"$(find "$SROOT" -maxdepth 1 -name "${S##*/}" | wc -l)"
}

# nest DIR: mkdir -p 5 levels, list, rmdir back up, report each step.
nest() {
	local d=$1/l1/l2/l3/l4/l5 i
	mkdir -p "$d" && echo "mkdir -p ok"
	tree "$1"
	for ((i = 5; i >= 1; i--)); do
		echo "level $i nlink $(stat -c %h "$d") usage $(cat "$d/cpuacct.usage")"
		rmdir "$d" && echo "rmdir level $i ok"
		d=${d%/*}
	done
	tree "$1"
}

test_nested() {
	both_groups
	check_same "mkdir -p depth 5 and rmdir back" "$(nest "$K" 2>&1)" "$(nest "$S" 2>&1)"
}

run_test "dirs: mkdir errors (EEXIST, EINVAL newline, ENOENT)" test_mkdir_errors
run_test "dirs: rmdir EBUSY with a task or a subgroup" test_rmdir_busy
run_test "dirs: create, unlink, symlink, link, mkfifo" test_create_unlink
# held_open GROUP: open GROUP/sub's cpuacct.usage and GROUP/sub, remove
# sub, then fstat both and read and write the file: what each gives.
held_open() {
	mkdir "$1/sub" || return
	perl -MErrno -e '
		my ($dir, $file) = @ARGV;
		open(my $f, "+<", $file) or die "open: $!";
		opendir(my $d, $dir) or die "opendir: $!";
		rmdir $dir or die "rmdir: $!";
		my @st = stat($f);
		print "fstat file: ", (@st ? sprintf("%o nlink %d size %d", $st[2], $st[3], $st[7]) : "$!"), "\n";
		@st = stat($d);
		print "fstat dir: ", (@st ? sprintf("%o", $st[2]) : "$!"), "\n";
		my $buf;
		my $n = sysread($f, $buf, 4096);
		print "read: ", (defined $n ? "$n bytes" : ($!{ENODEV} ? "ENODEV" : "$!")), "\n";
		$n = syswrite($f, "0\n");
		print "write: ", (defined $n ? "ok" : ($!{ENODEV} ? "ENODEV" : "$!")), "\n";
	' "$1/sub" "$1/sub/cpuacct.usage"
}

test_removed_but_open() {
	both_groups
	check_same "a removed group's files, still open" "$(held_open "$K")" "$(held_open "$S")"
}

run_test "dirs: rename within parent, onto sibling, across parents, files" test_rename
run_test "dirs: rmdir of a fresh empty group" test_rmdir_empty
run_test "dirs: nested mkdir -p depth 5 and rmdir back" test_nested
run_test "dirs: files of a removed group held open: fstat works, read ENODEV" test_removed_but_open
