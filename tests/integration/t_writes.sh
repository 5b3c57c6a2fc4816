#!/bin/bash
# Writes: the errno of every write, kernel against subject, and what reads
# back afterwards.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# write_both [wr.pl options] FILE VALUE: write VALUE (escapes decoded) to
# FILE in the kernel group K and the subject group S, compare the errnos.
write_both() {
	local args=("$@") n=$# k s
	local file=${args[n - 2]} value=${args[n - 1]}
	unset 'args[n - 1]' 'args[n - 2]'
	k=$(errno_of_write -e "${args[@]}" "$K/$file" "$value")
	s=$(errno_of_write -e "${args[@]}" "$S/$file" "$value")
	check_same "errno of write '$value' to $file ${args[*]}" "$k" "$s"
}

# readback_both FILE: the contents of FILE must be the same on both sides.
readback_both() {
	check_same "$1 read back" "$(cat -A "$K/$1")" "$(cat -A "$S/$1" 2>&1)"
}

test_usage_write() {
	both_groups
	write_both cpuacct.usage "$1"
	readback_both cpuacct.usage
}

test_flag_write() {
	both_groups
	write_both "$1" "$2"
	readback_both "$1"
	write_both "$1" 1
	write_both "$1" "$2"
	readback_both "$1"
}

# victims: a sleeping process on each side (VK for K, VS for S).
victims() {
	start VK sleep 60
	start VS sleep 60
}

# pid_write FILE TEMPLATE: write TEMPLATE with PID replaced by the side's own
# victim and HEX by its hex form, compare errno and membership afterwards.
pid_write() {
	local file=$1 tpl=$2 k s kv sv
	victims
	kv=${tpl//PID/$VK} sv=${tpl//PID/$VS}
	kv=${kv//HEX/$(printf '0x%x' "$VK")} sv=${sv//HEX/$(printf '0x%x' "$VS")}
	k=$(errno_of_write -e "$K/$file" "$kv")
	s=$(errno_of_write -e "$S/$file" "$sv")
	check_same "errno of write '$tpl' to $file" "$k" "$s"
	wait_until 2 same_members "$file" || true
	check_same "$file members after writing '$tpl'" "$(members "$K" "$VK")" \
		"$(members "$S" "$VS")"
}

# members DIR VICTIM: the tasks and cgroup.procs of DIR as roles.
members() {
	echo "tasks: $(roles "$1/tasks" "$2=victim" | tr '\n' ' ')"
	echo "procs: $(roles "$1/cgroup.procs" "$2=victim" | tr '\n' ' ')"
}

same_members() {
	[[ $(members "$K" "$VK") == "$(members "$S" "$VS")" ]]
}

test_pid_write() {
	both_groups
	pid_write "$1" "$2"
}

test_readonly_write() {
	both_groups
	write_both "$1" 0
	write_both "$1" ""
	write_both -r 4097 "$1" 0
}

test_big_write() {
	both_groups
	write_both -r 4097 "$1" 0
	write_both -r 4096 "$1" ' '
	readback_both "$1"
}

test_empty_write() {
	both_groups
	write_both "$1" ""
	readback_both "$1"
}

test_offset_writes() {
	both_groups
	write_both -o 5 cpuacct.usage 0
	write_both -o 5 cpuacct.usage 7
	write_both -o 3 notify_on_release 1
	readback_both notify_on_release
	write_both -a cgroup.clone_children 1
	readback_both cgroup.clone_children
	write_both -a cpuacct.usage 0
	write_both -a cpuacct.usage 1
	write_both -t notify_on_release 0
	readback_both notify_on_release
	write_both -t cpuacct.usage '0\n'
	write_both -a -o 100 notify_on_release '1\n'
	readback_both notify_on_release
}

test_pid_offset_writes() {
	both_groups
	pid_write "$1" PID
	K=$(kgroup) S=$(sgroup)
	victims
	check_same "pwrite at 7 of a pid to $1" \
		"$(errno_of_write -o 7 "$K/$1" "$VK")" "$(errno_of_write -o 7 "$S/$1" "$VS")"
	check_same "O_APPEND write of a pid to $1" \
		"$(errno_of_write -a "$K/$1" "$VK")" "$(errno_of_write -a "$S/$1" "$VS")"
	check_same "members after pwrite/append" "$(members "$K" "$VK")" "$(members "$S" "$VS")"
}

test_inherit_flags() {
	local kc sc
	both_groups
	echo 1 >"$K/notify_on_release"
	echo 1 >"$K/cgroup.clone_children"
	echo 1 >"$S/notify_on_release" || fail "cannot write subject notify_on_release"
	echo 1 >"$S/cgroup.clone_children" || fail "cannot write subject clone_children"
	kc=$(new_group "$K") sc=$(new_group "$S")
	check_same "children inherit notify_on_release, clone_children" \
		"$(cat "$kc/notify_on_release" "$kc/cgroup.clone_children")" \
		"$(cat "$sc/notify_on_release" "$sc/cgroup.clone_children")"
}

for v in '0' '0\n' '00' '+0' '0x0' '5' '-1' 'garbage' '' '\n' '1 2' ' 0' '0 \n' \
	'18446744073709551616' '18446744073709551615' '0\0x' '\0' '1\n'; do
	run_test "write: cpuacct.usage <- '$v'" test_usage_write "$v"
done
for f in notify_on_release cgroup.clone_children; do
	for v in 0 1 7 '2\n' 0x10 -1 x '' '\n' ' 1' '1 1'; do
		run_test "write: $f <- '$v' and read-back" test_flag_write "$f" "$v"
	done
done
run_test "write: children inherit notify_on_release and clone_children" test_inherit_flags
for f in tasks cgroup.procs; do
	for v in garbage -1 99999999999 '1 2' '' '\n' 2 4194300 ' PID' 'PID ' '+PID' \
		HEX 'PID\n' '0' 'PID\0junk' 'PIDx'; do
		run_test "write: $f <- '$v'" test_pid_write "$f" "$v"
	done
	run_test "write: $f pwrite at an offset and O_APPEND" test_pid_offset_writes "$f"
done
for f in cpuacct.stat cpuacct.usage_all cpuacct.usage_percpu cpuacct.usage_percpu_sys \
	cpuacct.usage_percpu_user cpuacct.usage_sys cpuacct.usage_user; do
	run_test "write: read-only $f" test_readonly_write "$f"
done
for f in cpuacct.usage notify_on_release cgroup.clone_children tasks cgroup.procs; do
	run_test "write: 4097 bytes to $f (E2BIG)" test_big_write "$f"
	run_test "write: 0 bytes to $f" test_empty_write "$f"
done
run_test "write: pwrite at offsets, O_APPEND, O_TRUNC" test_offset_writes
