#!/bin/bash
# Build cpuacctfs, mount it at its default mount point, make a group,
# burn some CPU in it and show what the group's files say.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mnt=${MOUNTPOINT:-/run/cpuacctfs}

sh "$top/contrib/deps.sh"
build=${BUILD_DIR:-$top/build}
if [ ! -x "$build/src/cpuacctfs" ]; then
	(cd "$top" && autoreconf -fi >/dev/null)
	mkdir -p "$build"
	(cd "$build" && "$top/configure" -q && make -s -j"$(nproc)")
fi

if ! grep -q " $mnt fuse.cpuacctfs " /proc/mounts; then
	mkdir -p "$mnt"
	"$build/src/cpuacctfs" "$mnt"
	for _ in $(seq 50); do [ -e "$mnt/cpuacct.usage" ] && break; sleep 0.1; done
fi
echo "cpuacctfs is mounted at $mnt (unmount: fusermount3 -u $mnt)"

mkdir -p "$mnt/demo"
echo "burning one CPU for 2 seconds in $mnt/demo ..."
sh -c 'echo 0 > "$1/demo/cgroup.procs"; end=$(($(date +%s) + 2));
	while [ "$(date +%s)" -lt "$end" ]; do :; done' sh "$mnt"
sleep 0.1
for f in cpuacct.usage cpuacct.usage_percpu cpuacct.usage_user \
	cpuacct.usage_sys cpuacct.usage_all cpuacct.stat; do
	printf '\n== %s/demo/%s\n' "$mnt" "$f"
	cat "$mnt/demo/$f"
done
