#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the bench guest (started by tools/bench/run.sh through vm-run):
# load vhost_net and this tree's vhostx modules, mount debugfs, describe
# the machine, and run build/bench/vhostx-bench.  Results go to
# $VM_RESULTS (build/bench on the host).  BENCH_* variables pass through.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${VM_RESULTS:?VM_RESULTS not set: run through tools/bench/run.sh}

tools/testing/vm/load-modules.sh
modprobe vhost_net
# RX source (kernel packet generator); the bench falls back to AF_PACKET.
modprobe pktgen 2>/dev/null || true
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

{
	echo "kernel: $(uname -r) $(uname -v)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1) x $(nproc)"
	echo "accel: QEMU TCG (emulated guest: compare ratios, not absolute numbers)"
	for m in vhost_net vhostx vhostx_net; do
		d=/sys/module/$m/parameters
		[ -d $d ] || continue
		printf '%s parameters:' $m
		for p in $d/*; do printf ' %s=%s' "$(basename $p)" "$(cat $p)"; done
		echo
	done
	if [ -f drivers/vhostx/net/vhostx_net.ko ]; then
		echo "vhostx_net srcversion: $(modinfo -F srcversion drivers/vhostx/net/vhostx_net.ko)"
	fi
} | tee "$out/env.txt"

exec build/bench/vhostx-bench -o "$out/results.json" \
	-z "$PWD/tools/bench/reload-vhostx.sh"
