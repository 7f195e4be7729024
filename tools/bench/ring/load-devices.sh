#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In a ring-bench guest: load the kernel's vhost.ko, and vhost_test.ko,
# vhostx.ko and vhostx_test.ko from MODDIR (replacing any loaded copies),
# and wait for /dev/vhost-test and /dev/vhostx-test.
#
# usage: load-devices.sh MODDIR
set -euo pipefail
mods=${1:?usage: load-devices.sh MODDIR}

modprobe -a vhost_iotlb vhost
for m in vhostx_test vhostx_net vhostx vhost_test; do
	[ ! -d /sys/module/$m ] || rmmod $m
done
insmod "$mods/vhost_test.ko"
insmod "$mods/vhostx.ko"
insmod "$mods/vhostx_test.ko"
# No udev in the guest: wait for devtmpfs to show the nodes.
for d in /dev/vhost-test /dev/vhostx-test; do
	for _ in $(seq 50); do [ -e $d ] && break; sleep 0.1; done
	[ -e $d ] || { echo "ring-bench: $d did not appear" >&2; exit 1; }
done
