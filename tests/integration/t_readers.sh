#!/bin/bash
# Readers that trust the file size: busybox cat splices (sendfile) a file,
# and FUSE serves that from the page cache up to the size the inode holds.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# in_pidns DIR OUT: in a new pid namespace, size DIR's files with ls -l,
# then put two fresh processes into DIR and save busybox cat's and head's
# reading of tasks and cpuacct.usage_percpu as OUT.FILE.busybox/.head.
in_pidns() {
	unshare -pf --mount-proc sh -c '
		d=$1 o=$2
		ls -l "$d" >/dev/null
		sleep 5 & a=$!; echo $a >"$d/tasks"
		sleep 5 & b=$!; echo $b >"$d/tasks"
		for f in tasks cpuacct.usage_percpu; do
			busybox cat "$d/$f" >"$o.$f.busybox"
			head -c 4096 "$d/$f" >"$o.$f.head"
		done
		kill $a $b' sh "$1" "$2"
}

test_busybox_in_pidns() {
	local f
	command -v busybox >/dev/null || skip "busybox not installed"
	both_groups
	in_pidns "$S" "$IT_TMP/s" || fail "reader in a pid namespace failed"
	in_pidns "$K" "$IT_TMP/k" || fail "reader in a pid namespace failed"
	for f in tasks cpuacct.usage_percpu; do
		[[ -s $IT_TMP/s.$f.head ]] || fail "$f: head read nothing"
		cmp -s "$IT_TMP/s.$f.busybox" "$IT_TMP/s.$f.head" ||
			fail "$f: busybox cat and head differ:" \
			"$(cat "$IT_TMP/s.$f.busybox")" "--" \
			"$(cat "$IT_TMP/s.$f.head")"
	done
	# the kernel, read the same way, is the oracle of the task list
	cmp -s "$IT_TMP/k.tasks.busybox" "$IT_TMP/s.tasks.busybox" ||
		fail "tasks differ from the kernel's:" \
		"$(cat "$IT_TMP/k.tasks.busybox")" "--" \
		"$(cat "$IT_TMP/s.tasks.busybox")"
}

run_test "readers: busybox cat in a pid namespace reads all after ls -l" \
	test_busybox_in_pidns
