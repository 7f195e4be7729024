#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-e2e: a real VMM end to end.  On the host, build the
# second-level guest's initramfs (busybox + virtio-net modules +
# tools/testing/e2e/l2-init) under build/e2e/, then boot the test VM with
# vm-run and run tools/testing/e2e/guest.sh in it: QEMU inside the VM
# boots that L2 guest with its NIC on /dev/vhostx-net, and the test checks
# ping, a bulk transfer each way, one while L2 resizes its rings (queue
# reset), a live migration to a second QEMU in the middle of a stream each
# way (split and packed rings) and vhostx's own counters.
#
# Environment: E2E_TIMEOUT (vm-run limit, default 3600 s), E2E_DEADLINE
# (instead: the limit is what is left until then, in seconds since the
# epoch, when the VM starts), and the E2E_*
# variables of guest.sh, which are passed through.  On another kernel
# (tools/testing/kernels/build-newer.sh --e2e sets these): E2E_KERNEL
# (its image, booted as the test VM and as L2), E2E_MODDIR (its
# lib/modules/<version> directory), E2E_MODULES (a tree with vhostx's
# modules built for it), E2E_QEMU_ROOT (a root with a newer QEMU).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cd "$repo"
out=${E2E_OUT:-build/e2e}

for m in drivers/vhostx/vhostx.ko drivers/vhostx/net/vhostx_net.ko; do
	[ -f "${E2E_MODULES:-.}/$m" ] || { echo "e2e: ${E2E_MODULES:-.}/$m is not built: run 'make all'" >&2; exit 1; }
done

# The kernel vm-run will boot (the one KDIR was built for, else the newest);
# L2 boots the same image, so its modules come from the same version.
vmargs=()
if [ -n "${E2E_KERNEL:-}" ]; then
	[ -d "${E2E_MODDIR:-}" ] || { echo "e2e: E2E_KERNEL needs E2E_MODDIR" >&2; exit 1; }
	[ "$(basename "$(dirname "$E2E_MODDIR")")" = modules ] || { echo "e2e: E2E_MODDIR must end in lib/modules/<version>" >&2; exit 1; }
	kimage=$E2E_KERNEL kver=$(basename "$E2E_MODDIR")
	# modinfo -b: the root the modules directory is in.
	mbase=$(cd "$E2E_MODDIR/../../.." && pwd)
	vmargs=(--moddir "$E2E_MODDIR")
else
	rel=$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
		"${KDIR:-/nonexistent}/include/generated/utsrelease.h" 2>/dev/null || true)
	if [ -n "$rel" ] && [ -f "/boot/vmlinuz-$rel" ]; then
		kver=$rel
	else
		kver=$(ls -v /boot/vmlinuz-*-amd64 | tail -n1 | sed 's|.*/vmlinuz-||')
	fi
	kimage=/boot/vmlinuz-$kver mbase=/
fi
busybox=$(command -v busybox) || { echo "e2e: busybox-static missing (make deps)" >&2; exit 1; }

# virtio-net and what it needs, in dependency order (modinfo -F depends).
order="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,mods,proc,sys,dev,tmp}
cp "$busybox" "$stage/bin/busybox"
cp "$here/l2-init" "$stage/init"
chmod +x "$stage/init"
mods=
for m in $order; do
	f=$(modinfo -b "$mbase" -k "$kver" -n "$m") || { echo "e2e: no module $m for $kver" >&2; exit 1; }
	case "$f" in
	*.ko) cp "$f" "$stage/mods/" ;;
	*.ko.xz) xz -dc "$f" > "$stage/mods/$m.ko" ;;
	'(builtin)') continue ;;	# sid's kernels build virtio in
	*) echo "e2e: module $m of $kver: $f not supported here" >&2; exit 1 ;;
	esac
	mods+=" $m"
done
echo "$mods" > "$stage/mods/order"
# ethtool, for the ring resize (ethtool -G: a queue reset, VIRTIO_F_RING_RESET),
# with the libraries it links (busybox has no ethtool).
ethtool=$(command -v ethtool || echo /usr/sbin/ethtool)
[ -x "$ethtool" ] || { echo "e2e: ethtool missing (make deps)" >&2; exit 1; }
cp "$ethtool" "$stage/bin/ethtool"
for lib in $(ldd "$ethtool" | grep -o '/[^ ]*'); do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/l2-initramfs.cpio.gz.$$"
mv "$out/l2-initramfs.cpio.gz.$$" "$out/l2-initramfs.cpio.gz"
echo "e2e: L2 initramfs $out/l2-initramfs.cpio.gz ($(stat -c %s "$out/l2-initramfs.cpio.gz") bytes, kernel $kver)"

envs=(--env "E2E_INITRD=$out/l2-initramfs.cpio.gz")
[ -z "${E2E_MODULES:-}" ] || envs+=(--env "VX_MODULES=$E2E_MODULES")
for v in E2E_TX_LINES E2E_RX_LINES E2E_RESIZE_LINES E2E_L2_TIMEOUT E2E_PACKED E2E_PACKED_LINES \
	E2E_MIG E2E_MIG_LINES E2E_INORDER E2E_KERNEL E2E_QEMU_ROOT; do
	[ -z "${!v:-}" ] || envs+=(--env "$v=${!v}")
done
start=$(date +%s)
# E2E_DEADLINE (seconds since the epoch, .ci/run): the VM's limit is what
# is left of it now, after the builds above.
limit=${E2E_TIMEOUT:-3600}
if [ -n "${E2E_DEADLINE:-}" ]; then
	limit=$((E2E_DEADLINE - start))
	[ "$limit" -gt 600 ] || { echo "e2e: only ${limit}s left before E2E_DEADLINE" >&2; exit 1; }
fi
set +e
tools/testing/vm/vm-run --kernel "$kimage" "${vmargs[@]}" --timeout "$limit" \
	--results "$repo/$out/results" --log "$repo/$out/console.log" "${envs[@]}" \
	-- tools/testing/e2e/guest.sh
rc=$?
set -e
echo "e2e: vm-run status $rc after $(( $(date +%s) - start ))s (L2 console: $out/results/l2-console.log)"
exit "$rc"
