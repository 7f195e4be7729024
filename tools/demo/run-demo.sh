#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vhostx-net demo, run inside the VM by `make demo`: load the modules from
# this tree, then move frames guest ring -> tap (TX) and tap -> guest ring
# (RX) through /dev/vhostx-net, check every byte, and print what moved.
# The kernel's own /dev/vhost-net runs the same traffic in the same guest.
# No speed is printed: one short cold run says nothing about it (make
# bench measures that).
#
# Environment: DEMO_PACKETS (default 20000), DEMO_SIZE (frame bytes, 256).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

packets=${DEMO_PACKETS:-20000}
size=${DEMO_SIZE:-256}
bin=$(mktemp -d)/net-demo

echo "== loading modules"
tools/testing/vm/load-modules.sh
echo
echo "== building the demo (guest side: tools/lib/vguest)"
cc -O2 -Wall -D_GNU_SOURCE -Itools/lib/vguest -o "$bin" \
	tools/demo/net-demo.c tools/lib/vguest/*.c
echo
# Per-queue counters of /dev/vhostx-net devices live in debugfs.
[ -d /sys/kernel/debug/vhostx ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
echo "== $packets frames of $size bytes each way, every byte checked"
devs=(/dev/vhostx-net)
[ -e /dev/vhost-net ] && devs+=(/dev/vhost-net)
"$bin" -n "$packets" -s "$size" "${devs[@]}"
