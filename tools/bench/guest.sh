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

# The module snapshot tools/bench/run.sh took right after building: the
# tree's .ko files may change while we run.
mods=$out/modules
export BENCH_MODDIR=$mods
modprobe -a vhost_iotlb tun tap macvtap vhost_net
for m in vhostx_test vhostx_net vhostx; do
	[ ! -d /sys/module/$m ] || rmmod $m
done
insmod "$mods/vhostx.ko"
insmod "$mods/vhostx_net.ko"
# RX source (kernel packet generator); the bench falls back to AF_PACKET.
modprobe pktgen 2>/dev/null || true
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

{
	echo "kernel: $(uname -r) $(uname -v)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1) x $(nproc)"
	if [ "${BENCH_ICOUNT:-0}" != 0 ]; then
		echo "accel: QEMU TCG with -icount shift=0,sleep=off, one vCPU (guest time = instructions executed, 1 ns each; idle time skipped: figures are CPU work, not speed)"
	else
		echo "accel: QEMU TCG (emulated guest: compare ratios, not absolute numbers)"
	fi
	# PREEMPT_DYNAMIC kernels show "none voluntary (full)"-style here.
	if [ -r /sys/kernel/debug/sched/preempt ]; then
		echo "preempt: $(cat /sys/kernel/debug/sched/preempt)"
	fi
	for m in vhost_net vhostx vhostx_net; do
		d=/sys/module/$m/parameters
		[ -d $d ] || continue
		printf '%s parameters:' $m
		for p in $d/*; do printf ' %s=%s' "$(basename $p)" "$(cat $p)"; done
		echo
	done
	echo "vhostx modules: $(cd "$mods" && sha1sum vhostx.ko vhostx_net.ko | awk '{printf "%s %.12s  ", $2, $1}')"
	cat "$mods/tree.txt" 2>/dev/null || true
} | tee "$out/env.txt"

exec build/bench/vhostx-bench -o "$out/results.json" \
	-z "$PWD/tools/bench/reload-vhostx.sh"
