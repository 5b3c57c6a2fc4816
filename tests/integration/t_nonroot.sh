#!/bin/bash
# Non-root access: opening for write is EACCES, reading still works.
# shellcheck source=lib.sh disable=SC2016 # perl code in single quotes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

test_nonroot_file() {
	local f=$1
	both_groups
	check_same "open $f for write as nobody" "$(errno_as_nobody "$K/$f" 0)" \
		"$(errno_as_nobody "$S/$f" 0)"
	check_same "read $f as nobody" "$("${NOBODY[@]}" cat -A "$K/$f" 2>&1)" \
		"$("${NOBODY[@]}" cat -A "$S/$f" 2>&1 | sed "s|$S|$K|g")"
}

test_nonroot_dirs() {
	local code='mkdir($ARGV[0])'
	both_groups
	check_same "mkdir as nobody" \
		"$("${NOBODY[@]}" perl -e "$code or print \"\$!\n\"" "$K/x")" \
		"$("${NOBODY[@]}" perl -e "$code or print \"\$!\n\"" "$S/x")"
	code='rmdir($ARGV[0])'
	check_same "rmdir as nobody" \
		"$("${NOBODY[@]}" perl -e "$code or print \"\$!\n\"" "$K")" \
		"$("${NOBODY[@]}" perl -e "$code or print \"\$!\n\"" "$S")"
	check_same "ls as nobody" "$("${NOBODY[@]}" ls "$K" 2>&1)" \
		"$("${NOBODY[@]}" ls "$S" 2>&1)"
}

test_nonroot_root() {
	check_same "open root tasks for write as nobody" \
		"$(errno_as_nobody "$KROOT/tasks" 0)" "$(errno_as_nobody "$SROOT/tasks" 0)"
	check_same "read root usage format as nobody" \
		"$("${NOBODY[@]}" cat "$KROOT/cpuacct.usage" | mask)" \
		"$("${NOBODY[@]}" cat "$SROOT/cpuacct.usage" 2>&1 | mask)"
}

if ! "${NOBODY[@]}" true 2>/dev/null; then
	skip_all "nonroot" "setpriv cannot switch to uid 65534"
	exit 0
fi
for f in $(file_names "$KROOT"); do
	case " $ROOT_ONLY_FILES " in *" $f "*) continue ;; esac
	run_test "nonroot: $f EACCES on open for write, readable" test_nonroot_file "$f"
done
run_test "nonroot: mkdir, rmdir, ls" test_nonroot_dirs
run_test "nonroot: root files" test_nonroot_root
