#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-ring-profile`: where each device's instructions go, exactly.
# Boots one instruction-counting guest (one vCPU, -icount) per device with
# a QEMU plugin (tbcount.c) that counts the instructions of every
# translation block executed, runs upstream's virtio_test against
# /dev/vhost-test or /dev/vhostx-test in it, and prints per kernel
# function the instructions per buffer of both devices side by side
# (tbcount.py), largest difference first.  The counts cover the whole
# boot too; the functions that run once per buffer dominate them.
#
# Output in build/bench/ring-profile/: tb-<dev>.txt (the plugin's
# counts), kallsyms-<dev>.txt, table.txt.
#
# Environment:
#   RING_PROFILE_VARIANT  the virtio_test option without "--" (default
#                         none: no option)
#   RING_PROGRAMS         directory with virtio_test and virtio_test-vhostx
#                         (default build/upstream; see bench-ring)
#   RING_WAKEUP_GRAN_NS   as for bench-ring
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
out=$PWD/build/bench/ring-profile
variant=${RING_PROFILE_VARIANT:-none}

make all
tools/bench/ring/build-upstream.sh
mkdir -p "$out/modules"
gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$out/tbcount.so" \
	tools/bench/ring/tbcount.c
cp drivers/vhostx/vhostx.ko drivers/vhostx/test/vhostx_test.ko \
	build/upstream/vhost_test.ko "$out/modules/"
cp "${RING_PROGRAMS:-build/upstream}"/virtio_test \
	"${RING_PROGRAMS:-build/upstream}"/virtio_test-vhostx "$out/modules/"

for dev in vhost vhostx; do
	rm -f "$out/tb-$dev.txt"
	tools/testing/vm/vm-run -q --smp 1 --icount --append preempt=full \
		--timeout 1800 --results "$out" \
		--plugin "$out/tbcount.so,out=$out/tb-$dev.txt" \
		--env "RING_PROFILE_DEV=$dev" --env "RING_PROFILE_VARIANT=$variant" \
		${RING_WAKEUP_GRAN_NS:+--env "RING_WAKEUP_GRAN_NS=$RING_WAKEUP_GRAN_NS"} \
		-- tools/bench/ring/profile-guest.sh
	[ -s "$out/tb-$dev.txt" ] ||
		{ echo "ring-profile: no counts for $dev" >&2; exit 1; }
done
python3 tools/bench/ring/tbcount.py "$out" | tee "$out/table.txt"
