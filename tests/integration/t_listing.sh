#!/bin/bash
# Listings: names, modes, sizes, link counts, owners; mkdir mode and umask.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# long_list DIR: `ls -la` of DIR without dates: mode links owner group size
# name, for the regular files only (dirs are checked by their own tests).
long_list() {
	# shellcheck disable=SC2012 # ls -la is what users compare
	LC_ALL=C ls -la "$1" | awk '$1 ~ /^-/ { print $1, $2, $3, $4, $5, $NF }'
}

# stat_entry PATH: mode, links, size and owner of PATH.
stat_entry() {
	stat -c '%A %h %s %U:%G' "$1"
}

test_root_files() {
	local k s f
	k=$(long_list "$KROOT")
	s=$(long_list "$SROOT")
	if is_subject_mode && ! have_root_only_files "$SROOT"; then
		diag "subject mode: root-only files left out of the comparison"
		for f in $ROOT_ONLY_FILES; do
			k=$(grep -v " $f\$" <<<"$k")
		done
	fi
	check_same "ls -la of the root's files" "$k" "$s"
}

test_root_nlink() {
	check_eq "root link count (2 + subgroups)" "$((2 + $(subdirs "$SROOT")))" \
		"$(stat -c %h "$SROOT")"
	check_eq "kernel root link count (2 + subgroups)" \
		"$((2 + $(subdirs "$KROOT")))" "$(stat -c %h "$KROOT")"
}

test_root_mode() {
	if is_subject_mode && ! have_root_only_files "$SROOT"; then
		skip "subject is not a root (no release_agent): mode not compared"
	fi
	check_same "root dir mode and owner" "$(stat -c '%A %U:%G' "$KROOT")" \
		"$(stat -c '%A %U:%G' "$SROOT")"
}

test_root_only_files() {
	local f
	if ! have_root_only_files "$SROOT"; then
		is_subject_mode && skip "subject is a kernel child group, no root-only files"
	fi
	for f in $ROOT_ONLY_FILES; do
		check_same "$f: ls -la" "$(stat_entry "$KROOT/$f")" "$(stat_entry "$SROOT/$f")"
	done
	check_same "cgroup.sane_behavior content" "$(cat -A "$KROOT/cgroup.sane_behavior")" \
		"$(cat -A "$SROOT/cgroup.sane_behavior" 2>&1)"
	check_same "release_agent format" "$(cat -A "$KROOT/release_agent" | mask)" \
		"$(cat -A "$SROOT/release_agent" 2>&1 | mask)"
}

test_group_files() {
	both_groups
	check_same "ls -la of a fresh group's files" "$(long_list "$K")" "$(long_list "$S")"
	check_same "fresh group dir" "$(stat_entry "$K")" "$(stat_entry "$S")"
	check_same "names in a fresh group" "$(ls -a "$K")" "$(ls -a "$S")"
}

# nlink_series DIR: link counts of DIR while adding 3 subgroups and removing 2.
nlink_series() {
	local dir=$1 a b c out
	out=$(stat -c %h "$dir")
	a=$(new_group "$dir") && out+=" $(stat -c %h "$dir")"
	b=$(new_group "$dir") && out+=" $(stat -c %h "$dir")"
	c=$(new_group "$dir") && out+=" $(stat -c %h "$dir")"
	new_group "$a" >/dev/null && out+=" $(stat -c %h "$dir")/$(stat -c %h "$a")"
	rmdir "$b" && out+=" $(stat -c %h "$dir")"
	rmdir "$c" && out+=" $(stat -c %h "$dir")"
	echo "$out"
}

test_dir_nlink() {
	both_groups
	check_same "link counts while adding/removing subgroups" \
		"$(nlink_series "$K")" "$(nlink_series "$S")"
}

# modes_of PARENT: make subgroups with various modes and umasks, print modes.
modes_of() {
	local p=$1 out=""
	out+=" $(umask 077 && stat -c %A "$(new_group "$p")")"
	out+=" $(umask 022 && stat -c %A "$(new_group "$p" -m 700)")"
	out+=" $(umask 022 && stat -c %A "$(new_group "$p" -m 750)")"
	out+=" $(umask 027 && stat -c %A "$(new_group "$p")")"
	out+=" $(umask 000 && stat -c %A "$(new_group "$p")")"
	out+=" $(umask 022 && stat -c %A "$(new_group "$p" -m 555)")"
	echo "$out"
}

test_mkdir_mode() {
	both_groups
	check_same "modes of mkdir under umask / mkdir -m" "$(modes_of "$K")" "$(modes_of "$S")"
	check_same "files of a mode-700 group keep their modes" \
		"$(long_list "$(umask 022 && new_group "$K" -m 700)")" \
		"$(long_list "$(umask 022 && new_group "$S" -m 700)")"
}

run_test "listing: root files (ls -la names, modes, sizes, links)" test_root_files
run_test "listing: root dir link count is 2 + subgroups" test_root_nlink
run_test "listing: root dir mode dr-xr-xr-x" test_root_mode
run_test "listing: root-only files release_agent, cgroup.sane_behavior" test_root_only_files
run_test "listing: fresh group files and dir" test_group_files
run_test "listing: dir link count is 2 + subgroups" test_dir_nlink
run_test "listing: mkdir honours mode and umask" test_mkdir_mode
