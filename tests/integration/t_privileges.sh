#!/bin/bash
# Privileges: release_agent needs CAP_SYS_ADMIN in the initial user
# namespace (the kernel's check since CVE-2022-0492), not only uid 0.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# without_sys_admin CMD...: run CMD as root without CAP_SYS_ADMIN.
without_sys_admin() {
	capsh --drop=cap_sys_admin -- -c '"$@"' capsh "$@"
}

test_release_agent_needs_sys_admin() {
	local saved
	command -v capsh >/dev/null || skip "capsh (libcap2-bin) is not installed"
	have_root_only_files "$SROOT" || skip "subject is not a root (no release_agent)"
	saved=$(cat "$SROOT/release_agent")
	# the kernel's write is refused, so its global setting is not touched
	check_same "release_agent written without CAP_SYS_ADMIN" \
		"$(without_sys_admin perl "$WR" "$KROOT/release_agent" /bin/true)" \
		"$(without_sys_admin perl "$WR" "$SROOT/release_agent" /bin/true)"
	check_same "release_agent unchanged" "$saved" "$(cat "$SROOT/release_agent")"
	check_eq "release_agent written by root with it" OK \
		"$(errno_of_write "$SROOT/release_agent" /bin/true)"
	check_eq "release_agent after root's write" /bin/true "$(cat "$SROOT/release_agent")"
	errno_of_write -e "$SROOT/release_agent" "${saved}\\n" >/dev/null
}

run_test "privileges: release_agent needs CAP_SYS_ADMIN" test_release_agent_needs_sys_admin
