#!/bin/sh
# Install what building, running and testing cpuacctfs needs (Debian 12).
set -e
PKGS="build-essential autoconf automake pkg-config libfuse3-dev fuse3
libglib2.0-dev check valgrind perl procps util-linux
kmod runc busybox-static libbpf-dev clang llvm bpftool tmux
libcap2-bin podman docker.io cgroup-tools"
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
