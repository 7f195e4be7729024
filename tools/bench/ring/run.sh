#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-ring`: upstream's ring benchmark, tools/virtio/virtio_test,
# against the kernel's vhost_test and against vhostx_test, in one guest.
# Builds the modules and the upstream programs (build-upstream.sh), boots
# one QEMU guest running guest.sh, then prints the table (report.py).
#
# Output in build/bench/ring/: results.jsonl (every run), env.txt,
# table.rst, summary.json, console.log.  See
# Documentation/vhostx/performance.rst, "Upstream's virtio_test".
#
# Environment:
#   RING_ROUNDS (5)     pairs of runs per variant
#   RING_VARIANTS       comma-separated virtio_test options without "--"
#                       ("none": no option); default all six
#   RING_ICOUNT=1       one instruction-counting vCPU (vm-run --icount
#                       --smp 1, preempt=full): deterministic CPU work
#   RING_PREEMPT        guest preemption model (none, voluntary, full)
#   RING_IDLE_POLL=1    boot the guest with idle=poll: an idle vCPU spins
#                       instead of halting, so waking the worker (or the
#                       driver) on the other vCPU does not wait for the
#                       host to wake and schedule a sleeping vCPU thread
#   RING_VHOSTX_PARAMS  space-separated NAME=VALUE: vhostx.ko parameters
#                       the guest sets before the runs
#                       (e.g. "worker_linger_ns=5000")
#   RING_COUNT=1        also count events per buffer (tools/bench/ring/count.sh)
#   RING_TIMEOUT (5400, seconds for the whole guest run)
#   RING_RUN_TIMEOUT (900, seconds per virtio_test run)
#   BENCH_NO_BUILD=1    skip the builds (use what is in the tree)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
out=$PWD/build/bench/ring

if [ -z "${BENCH_NO_BUILD:-}" ]; then
	make all
fi
tools/bench/ring/build-upstream.sh

# Snapshot the modules: the tree may be rebuilt while the guest runs.
mkdir -p "$out/modules"
cp drivers/vhostx/vhostx.ko drivers/vhostx/test/vhostx_test.ko \
	build/upstream/vhost_test.ko "$out/modules/"
{
	echo "tree: $(git log -1 --format='%h %s' 2>/dev/null || echo unknown)"
	git status --porcelain drivers include 2>/dev/null | sed 's/^/tree: uncommitted: /'
} > "$out/modules/tree.txt"
rm -f "$out"/results.jsonl "$out"/counts.jsonl "$out"/env.txt "$out"/table.rst "$out"/summary.json

vmopts=()
preempt=${RING_PREEMPT:-}
if [ "${RING_ICOUNT:-0}" != 0 ]; then
	vmopts=(--smp 1 --icount)
	preempt=${preempt:-full}
fi
append=
[ -z "$preempt" ] || append="preempt=$preempt"
[ "${RING_IDLE_POLL:-0}" = 0 ] || append="${append:+$append }idle=poll"
[ -z "$append" ] || vmopts+=(--append "$append")
envs=()
for v in $(compgen -e | grep '^RING_' || true); do
	envs+=(--env "$v=${!v}")
done

start=$(date +%s)
tools/testing/vm/vm-run --timeout "${RING_TIMEOUT:-5400}" --results "$out" \
	${vmopts[@]+"${vmopts[@]}"} ${envs[@]+"${envs[@]}"} -- tools/bench/ring/guest.sh
echo "ring-bench: guest run took $(( $(date +%s) - start )) s"
python3 tools/bench/ring/report.py "$out"
