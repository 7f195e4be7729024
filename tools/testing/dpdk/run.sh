#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-dpdk: DPDK's testpmd (Debian's dpdk-dev package, installed by
# tools/setup.sh --dpdk), through its
# virtio-user PMD, drives /dev/vhostx-net and then the kernel's
# /dev/vhost-net in one test VM, with split, packed (packed_vq=1),
# in-order (in_order=1) and packed in-order rings, TX (txonly) and RX
# (rxonly): tools/testing/dpdk/guest.sh does the work and the asserts.
# Results: build/dpdk/{summary,results.jsonl,testpmd-*.log,diag-*.txt}.
#
# Environment: DPDK_TIMEOUT (vm-run limit, default 1800 s), and the DPDK_*
# variables of guest.sh, which are passed through.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cd "$repo"
out=build/dpdk

for m in drivers/vhostx/vhostx.ko drivers/vhostx/net/vhostx_net.ko; do
	[ -f "$m" ] || { echo "dpdk: $m is not built: run 'make all'" >&2; exit 1; }
done
command -v dpdk-testpmd > /dev/null ||
	{ echo "dpdk: dpdk-testpmd missing (tools/setup.sh --dpdk installs dpdk-dev)" >&2; exit 1; }

envs=()
for v in DPDK_TX_SECONDS DPDK_RX_FRAMES DPDK_DEVICES DPDK_VARIANTS DPDK_ROUNDS; do
	[ -z "${!v:-}" ] || envs+=(--env "$v=${!v}")
done
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
set +e
tools/testing/vm/vm-run --timeout "${DPDK_TIMEOUT:-1800}" --results "$repo/$out" \
	--log "$repo/$out/console.log" "${envs[@]}" -- tools/testing/dpdk/guest.sh
rc=$?
set -e
echo "dpdk: vm-run status $rc after $(( $(date +%s) - start ))s (logs in $out/)"
exit "$rc"
