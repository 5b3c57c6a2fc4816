#!/bin/sh
# Install what building, running and testing cpuacctfs needs (Debian 12).
set -e
PKGS="build-essential autoconf automake pkg-config libfuse3-dev fuse3
libglib2.0-dev check valgrind perl procps util-linux
kmod runc busybox-static libbpf-dev clang llvm bpftool tmux
libcap2-bin podman docker.io cgroup-tools netdata-core curl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null
fi
# netdata is here for a test that runs its own; the packaged service, if
# its install started one, would only add noise to the benchmarks
case $missing in
*netdata-core*)
	if command -v service >/dev/null; then
		service netdata stop >/dev/null 2>&1 || true
	fi
	;;
esac
