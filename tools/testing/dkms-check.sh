#!/bin/bash
# DKMS check (make dkms-check): dkms build + install a copy of this tree
# (as version <ver>-check) for the Debian kernel, boot it in the VM,
# `modprobe -a vhostx_net vhostx_test` must pull in vhostx, vhost_iotlb,
# tun and tap by dependency and create /dev/vhostx-net and
# /dev/vhostx-test; then the DKMS install is removed again.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
# One DKMS check at a time on this machine (DKMS state is global).
exec 9>/run/lock/vhostx-dkms-check.lock
flock 9
base=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
export DKMS_VERSION=$base-check

# Don't clobber a real install (make dkms-install): its files would be
# replaced by ours and not restored.
other=$(dkms status -m vhostx 2>/dev/null | grep -v "/$DKMS_VERSION[,:]" || true)
if [ -n "$other" ]; then
	echo "dkms-check: vhostx is already installed with DKMS:" >&2
	echo "$other" >&2
	echo "dkms-check: run 'make dkms-remove' first" >&2
	exit 1
fi

trap 'tools/dkms.sh remove >/dev/null 2>&1 || true' EXIT
tools/dkms.sh install

kver=$(dkms status -m vhostx -v "$DKMS_VERSION" | sed -n 's/^[^,]*, \([^,]*\),.*installed.*/\1/p' | head -n1)
echo "dkms-check: installed for $kver; booting it"
tools/testing/vm/vm-run --kernel "/boot/vmlinuz-$kver" --timeout 600 \
	-- bash -c '
	set -eux
	modprobe -a vhostx_net vhostx_test
	for m in vhostx vhostx_net vhostx_test vhost_iotlb tun tap; do
		test -d /sys/module/$m
	done
	modinfo -n vhostx vhostx_net vhostx_test | grep -c /updates/dkms/ | grep -qx 3
	test -c /dev/vhostx-net
	test -c /dev/vhostx-test
	lsmod
	modprobe -r vhostx_net vhostx_test
	test ! -d /sys/module/vhostx
'
tools/dkms.sh remove
trap - EXIT
if ls "/lib/modules/$kver/updates/dkms/"vhostx*.ko* >/dev/null 2>&1; then
	echo "dkms-check: FAIL: modules left behind in /lib/modules/$kver/updates/dkms" >&2
	exit 1
fi
echo "dkms-check: passed"
