#!/bin/bash
# The kernel against itself: the same workload run N times in fresh kernel
# cpuacct groups, one after the other, and the spread of what the kernel
# reports. cpuacct.stat comes from 4 ms tick samples, so two runs of one
# workload can differ by more than the accuracy targets allow: the floor
# of any estimate that does not see the tasks' own tick counts (what
# cpuacctfs falls back to without taskstats).
# usage: kernel-spread.sh BURN [N] [WORKLOAD...]   (default: threads mixed)
# Prints "# " lines only: it measures, it asserts nothing.
set -u
burn=${1:?usage: $0 BURN [N] [WORKLOAD...]}
n=${2:-5}
shift $(($# >= 2 ? 2 : 1))
workloads=("$@")
[ ${#workloads[@]} = 0 ] && workloads=("threads 4 1.5" mixed)
root=/sys/fs/cgroup/cpuacct
[ -w "$root/cgroup.procs" ] || { echo "# kernel spread: no writable $root"; exit 0; }
g=$root/cpuacctfs-spread-$$
trap 'rmdir "$g" 2>/dev/null' EXIT

echo "# kernel against itself, $n runs each (cpuacct.stat in USER_HZ ticks):"
for wl in "${workloads[@]}"; do
	users=() systems=()
	for ((i = 0; i < n; i++)); do
		mkdir "$g" || exit 0
		# shellcheck disable=SC2086 # the workload is words
		sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$g" \
			"$burn" $wl < <(sleep 0.1; echo go) >/dev/null
		read -r _ u < <(grep '^user' "$g/cpuacct.stat")
		read -r _ s < <(grep '^system' "$g/cpuacct.stat")
		users+=("$u") systems+=("$s")
		rmdir "$g"
	done
	printf '#   %-14s user %s  system %s\n' "${wl%% *}" \
		"$(printf '%s\n' "${users[@]}" | sort -n | tr '\n' ' ')" \
		"$(printf '%s\n' "${systems[@]}" | sort -n | tr '\n' ' ')"
done
