#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the ring-bench guest (started by tools/bench/ring/run.sh through
# vm-run): load the kernel's vhost.ko with the vhost_test.ko built from
# linux-source, and this tree's vhostx.ko and vhostx_test.ko (the
# snapshot run.sh took); then run upstream's virtio_test against
# /dev/vhost-test and /dev/vhostx-test, every variant, RING_ROUNDS rounds,
# the two devices back to back in an order that alternates every round.
# One JSON object per run goes to $VM_RESULTS/results.jsonl.
#
#   RING_ROUNDS (5)  RING_VARIANTS (all six, comma-separated, "none" for
#   no option)  RING_RUN_TIMEOUT (900, with RING_ICOUNT 3600: guest seconds per run)
#   RING_PROGRAMS (build/upstream): directory with virtio_test and
#   virtio_test-vhostx, for experiments with other builds of them
#   RING_COUNT=1: then one untimed run per variant and device counting
#   kicks, handler runs, ring looks, re-arms and worker sleeps per
#   buffer (tools/bench/ring/count.sh; build/bench/ring/counts.jsonl)
#   RING_WAKEUP_GRAN_NS: CFS's wakeup preemption granularity for the runs
#   (debugfs sched/wakeup_granularity_ns, kernels before 6.6); 0 lets a
#   woken worker preempt the spinning driver whenever it is behind
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
out=${VM_RESULTS:?VM_RESULTS not set: run through tools/bench/ring/run.sh}
mods=$out/modules
up=build/upstream
# The programs run from tmpfs, not over 9p (with --icount, time spent
# waiting for the host's file server counts as guest time).
bindir=/tmp/ring-bench
mkdir -p $bindir
cp "${RING_PROGRAMS:-$up}"/virtio_test "${RING_PROGRAMS:-$up}"/virtio_test-vhostx $bindir/
rounds=${RING_ROUNDS:-5}
variants=${RING_VARIANTS:-none,no-event-idx,no-indirect,no-virtio-1,delayed-interrupt,batch=random}
icount=${RING_ICOUNT:-0}
run_timeout=${RING_RUN_TIMEOUT:-$([ "$icount" = 0 ] && echo 900 || echo 3600)}

tools/bench/ring/load-devices.sh "$mods"
for kv in ${RING_VHOSTX_PARAMS:-}; do
	echo "${kv#*=}" > "/sys/module/vhostx/parameters/${kv%%=*}"
	echo "vhostx.${kv%%=*}=$(cat "/sys/module/vhostx/parameters/${kv%%=*}")"
done
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
gran=/sys/kernel/debug/sched/wakeup_granularity_ns
if [ -n "${RING_WAKEUP_GRAN_NS:-}" ]; then
	[ -w $gran ] || { echo "ring-bench: $gran missing (EEVDF kernel?)" >&2; exit 1; }
	echo "$RING_WAKEUP_GRAN_NS" > $gran
fi

{
	echo "kernel: $(uname -r) $(uname -v)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1) x $(nproc)"
	if [ "$icount" != 0 ]; then
		echo "accel: QEMU TCG with -icount shift=0,sleep=off, one vCPU (guest time = instructions executed; a run's time is the CPU's busy time)"
	else
		echo "accel: QEMU TCG (emulated guest: compare ratios, not absolute numbers)"
	fi
	if [ -r $gran ]; then
		echo "wakeup_granularity_ns: $(cat $gran)"
	fi
	if [ -r /sys/kernel/debug/sched/preempt ]; then
		echo "preempt: $(cat /sys/kernel/debug/sched/preempt)"
	fi
	echo "modules: $(cd "$mods" && sha1sum vhost_test.ko vhostx.ko vhostx_test.ko |
		awk '{printf "%s %.12s  ", $2, $1}')"
	cat "$mods/tree.txt" 2>/dev/null || true
	echo "virtio_test: $(cat $up/stamp)"
	echo "rounds: $rounds  variants: $variants"
} | tee "$out/env.txt"

# One run of virtio_test against one device, timed by timed.py: from the
# program's exec to its exit, its CPU time and context switches, and the
# machine's busy time over the run.  Nothing else runs meanwhile (a perf
# attached to the device's worker disturbed the runs: its start-up took
# a vCPU for seconds).  With --icount (one CPU) the worker's share is the
# busy time less the program's.
run_one() {
	local dev=$1 variant=$2 round=$3 pos=$4 bin opt
	case $dev in
	vhost)  bin=$bindir/virtio_test ;;
	vhostx) bin=$bindir/virtio_test-vhostx ;;
	esac
	opt=--$variant
	[ "$variant" != none ] || opt=
	rm -f /tmp/run.json
	python3 tools/bench/ring/timed.py "$run_timeout" "$bin" $opt \
		>/tmp/run.json 2>/tmp/err.txt || true
	local spurious
	spurious=$(sed -n 's/^spurious wakeups: \(0x[0-9a-f]*\) .*completed=\(0x[0-9a-f]*\).*/\1 \2/p' /tmp/err.txt)
	python3 - "$dev" "$variant" "$round" "$pos" "$spurious" "$icount" \
		>>"$out/results.jsonl" <<'PY'
import json, sys
dev, variant, rnd, pos, spur, icount = sys.argv[1:]
r = {"dev": dev, "variant": variant, "round": int(rnd), "pos": int(pos)}
try:
    r.update(json.load(open("/tmp/run.json")))
except (OSError, ValueError):
    r["rc"] = -1
if icount != "0" and "busy_ns" in r:
    # Finer than the tick: the run queue's task time (ns = instructions).
    r["busy_ms"] = r["busy_ns"] / 1e6
if icount != "0" and "busy_ms" in r:
    # One CPU: the worker's (and the kernel's) share of the busy time.
    r["wk_ms"] = r["busy_ms"] - r["drv_ms"]
    # Guest time also jumps over idle periods (waits for the host's
    # file server): the run's time is the CPU's busy time.
    r["elapsed_s"] = r["seconds"]
    r["seconds"] = r["busy_ms"] / 1000
if spur.split():
    r["spurious"] = int(spur.split()[0], 16)
    r["completed"] = int(spur.split()[1], 16)
print(json.dumps(r))
PY
	printf 'ring-bench: round %s %-18s %-6s %s %s\n' "$round" "$variant" \
		"$dev" "$(cat /tmp/run.json 2>/dev/null)" ""
	grep -q '"rc": 0' /tmp/run.json 2>/dev/null ||
		{ echo "ring-bench: virtio_test failed:"; cat /tmp/err.txt; } >&2
	return 0
}

rm -f "$out/results.jsonl"
IFS=, read -r -a vlist <<<"$variants"
for ((r = 1; r <= rounds; r++)); do
	for ((i = 0; i < ${#vlist[@]}; i++)); do
		v=${vlist[i]}
		# Which device goes first alternates by round and by variant.
		if (( (r + i) % 2 )); then order="vhost vhostx"; else order="vhostx vhost"; fi
		p=0
		for d in $order; do
			run_one "$d" "$v" "$r" "$p"
			p=$((p + 1))
		done
	done
done
if [ "${RING_COUNT:-0}" != 0 ]; then
	rm -f "$out/counts.jsonl"
	tools/bench/ring/count.sh $bindir "$variants" "$out"
fi
echo "ring-bench: done"
