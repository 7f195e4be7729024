#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: build the modules and vhostx-bench on the host, boot one
# QEMU guest, load vhost_net and this tree's vhostx modules in it, run
# vhostx-bench against /dev/vhost-net and /dev/vhostx-net (alternating,
# several rounds), then print the tables and draw the chart here.
#
# Output in build/bench/: results.json (every cell), env.txt (guest
# kernel, CPU, module parameters), table.rst, summary.json, bench.png,
# console.log.  See Documentation/vhostx/performance.rst.
#
# Environment (passed into the guest):
#   BENCH_ROUNDS (8)  BENCH_DURATION (1, seconds per test and backend)  BENCH_WARMUP (0.3)
#   BENCH_RING (256)  BENCH_BUSYLOOP_US (200)  BENCH_TESTS (all)
#   BENCH_BACKENDS (vhost-net,vhostx,vhostx-zc)  BENCH_RX_SOURCE (pktgen)
#   BENCH_PIN (1)
#   BENCH_ICOUNT=1  one vCPU whose clock counts instructions (vm-run --icount):
#                   figures are CPU work, independent of the host's load
#   BENCH_PREEMPT   guest preemption model: none, voluntary or full
#                   (default: the kernel's, voluntary; full with BENCH_ICOUNT)
#   BENCH_TIMEOUT (1800, seconds for the whole guest run)
#   BENCH_NO_BUILD=1  skip the builds (use what is in the tree)
#
# Another kernel (make bench BENCH_KERNEL=<release>, through
# tools/testing/kernels/build-newer.sh --bench): BENCH_VM_KERNEL and
# BENCH_VM_MODDIR are its image and modules, BENCH_VX_MODULES the vhostx
# modules built for it, BENCH_OUT the results directory (build/bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=$PWD/${BENCH_OUT:-build/bench}
vxmods=${BENCH_VX_MODULES:-.}

if [ -z "${BENCH_NO_BUILD:-}" ]; then
	[ -n "${BENCH_VX_MODULES:-}" ] || make all
	make bench-build
fi
[ -x build/bench/vhostx-bench ] || { echo "run.sh: build/bench/vhostx-bench missing" >&2; exit 1; }

# Snapshot the modules: others may rebuild the tree while the guest runs,
# and vhostx_net is reloaded mid-run (zero-copy cells).
mkdir -p "$out/modules"
cp "$vxmods/drivers/vhostx/vhostx.ko" "$vxmods/drivers/vhostx/net/vhostx_net.ko" \
	"$out/modules/"
{
	echo "tree: $(git log -1 --format='%h %s' 2>/dev/null || echo unknown)"
	git status --porcelain drivers include 2>/dev/null | sed 's/^/tree: uncommitted: /'
} > "$out/modules/tree.txt"
rm -f "$out"/results.json "$out"/env.txt "$out"/table.rst "$out"/summary.json \
	"$out"/bench.png "$out"/chart*.dat "$out"/bench.gp
vmopts=()
if [ -n "${BENCH_VM_KERNEL:-}" ]; then
	vmopts+=(--kernel "$BENCH_VM_KERNEL" --moddir "${BENCH_VM_MODDIR:?}")
fi
# Preemption model of the guest kernel (preempt=none|voluntary|full, a
# PREEMPT_DYNAMIC boot option): Debian's default (voluntary) unless set;
# full on one vCPU, where voluntary misaccounts CPU time (performance.rst).
preempt=${BENCH_PREEMPT:-}
if [ "${BENCH_ICOUNT:-0}" != 0 ]; then
	vmopts+=(--smp 1 --icount)
	preempt=${preempt:-full}
	# Busy polling on the only CPU measures the scheduler, not the backend.
	export BENCH_TESTS=${BENCH_TESTS:-tx64,tx1500,txgso,rx64,rx1500,tx64_io,rx64_io,lat,tx64_pk,rx64_pk,lat_pk}
fi
[ -z "$preempt" ] || vmopts+=(--append "preempt=$preempt")
envs=()
for v in $(compgen -e | grep '^BENCH_' || true); do
	envs+=(--env "$v=${!v}")
done

start=$(date +%s)
tools/testing/vm/vm-run --timeout "${BENCH_TIMEOUT:-1800}" --results "$out" \
	${vmopts[@]+"${vmopts[@]}"} ${envs[@]+"${envs[@]}"} -- tools/bench/guest.sh
echo "run.sh: guest run took $(( $(date +%s) - start )) s"
python3 tools/bench/report.py "$out"
