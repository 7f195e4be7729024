#!/bin/bash
# Install or remove this tree with DKMS (make dkms-install / dkms-remove).
#   tools/dkms.sh install|remove [KERNELVER]
# KERNELVER defaults to the kernel KDIR was built for, else the newest
# /lib/modules/*-amd64 with a build directory.  DKMS_VERSION overrides
# the version from dkms.conf (the DKMS check installs as <ver>-check).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

cmd=${1:-}
kver=${2:-}
if [ -z "$kver" ] && [ -n "${KDIR:-}" ]; then
	kver=$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
		"$KDIR/include/generated/utsrelease.h" 2>/dev/null || true)
fi
if [ -z "$kver" ]; then
	kver=$(ls -dv /lib/modules/*-amd64/build 2>/dev/null | tail -n1 | cut -d/ -f4)
fi
[ -n "$kver" ] || { echo "dkms.sh: no kernel with headers found" >&2; exit 1; }
ver=${DKMS_VERSION:-$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)}
src=/usr/src/vhostx-$ver

registered() { [ -n "$(dkms status -m vhostx -v "$ver" 2>/dev/null)" ]; }

case "$cmd" in
install)
	! registered || dkms remove -m vhostx -v "$ver" --all
	rm -rf "$src"
	# Source files only (never build output).
	tools/export-tree.sh "$src"
	sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$ver\"/" "$src/dkms.conf"
	dkms add -m vhostx -v "$ver"
	if ! dkms build -m vhostx -v "$ver" -k "$kver" ||
	   ! dkms install -m vhostx -v "$ver" -k "$kver"; then
		cat "/var/lib/dkms/vhostx/$ver/build/make.log" 2>/dev/null | tail -n 40
		exit 1
	fi
	echo "dkms.sh: vhostx $ver installed for $kver"
	;;
remove)
	! registered || dkms remove -m vhostx -v "$ver" --all
	rm -rf "$src"
	echo "dkms.sh: vhostx $ver removed"
	;;
*)
	echo "usage: $0 install|remove [KERNELVER]" >&2
	exit 2
	;;
esac
