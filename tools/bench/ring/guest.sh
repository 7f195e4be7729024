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
#   no option)  RING_RUN_TIMEOUT (900, seconds per run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
out=${VM_RESULTS:?VM_RESULTS not set: run through tools/bench/ring/run.sh}
mods=$out/modules
up=build/upstream
rounds=${RING_ROUNDS:-5}
variants=${RING_VARIANTS:-none,no-event-idx,no-indirect,no-virtio-1,delayed-interrupt,batch=random}
run_timeout=${RING_RUN_TIMEOUT:-900}

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
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

{
	echo "kernel: $(uname -r) $(uname -v)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1) x $(nproc)"
	if [ "${RING_ICOUNT:-0}" != 0 ]; then
		echo "accel: QEMU TCG with -icount shift=0,sleep=off, one vCPU (guest time = instructions executed)"
	else
		echo "accel: QEMU TCG (emulated guest: compare ratios, not absolute numbers)"
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

# perf stat -x, output: value,unit,event,...  -> "event=value" pairs.
perf_vals() {
	awk -F, '$3 == "task-clock" { printf "%s_ms=%s ", p, $1 }
		 $3 == "context-switches" { printf "%s_cs=%s ", p, $1 }' p="$2" "$1"
}

# One run of virtio_test against one device.  The device's worker thread
# is <prefix>-<pid of the program>; perf counts its CPU time and context
# switches (each sleep of the worker is one) until it exits, and the
# program's own.
run_one() {
	local dev=$1 variant=$2 round=$3 pos=$4 bin prefix opt pid tid=
	local t0 t1 rc wpid= i
	case $dev in
	vhost)  bin=$up/virtio_test;        prefix=vhost ;;
	vhostx) bin=$up/virtio_test-vhostx; prefix=vhostx ;;
	esac
	opt=--$variant
	[ "$variant" != none ] || opt=
	rm -f /tmp/drv.txt /tmp/wk.txt
	t0=$(date +%s%N)
	timeout "$run_timeout" perf stat -x, -e task-clock,context-switches \
		-o /tmp/drv.txt -- "$bin" $opt 2>/tmp/err.txt &
	pid=$!
	# The program is perf's child; its worker appears at VHOST_SET_OWNER.
	for i in $(seq 200); do
		tid=$(grep -lx "$prefix-[0-9]*" /proc/[0-9]*/comm 2>/dev/null |
			head -n1 | cut -d/ -f3) || true
		[ -z "$tid" ] || break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	if [ -n "$tid" ]; then
		perf stat -x, -e task-clock,context-switches -t "$tid" \
			-o /tmp/wk.txt 2>/dev/null &
		wpid=$!
	fi
	set +e
	wait $pid
	rc=$?
	set -e
	t1=$(date +%s%N)
	if [ -n "$wpid" ]; then
		# The worker stops when the device is closed; perf then ends.
		for i in $(seq 100); do kill -0 $wpid 2>/dev/null || break; sleep 0.05; done
		kill -INT $wpid 2>/dev/null || true
		wait $wpid || true
	fi
	local drv wk spurious
	drv=$(perf_vals /tmp/drv.txt drv 2>/dev/null || true)
	wk=$(perf_vals /tmp/wk.txt wk 2>/dev/null || true)
	spurious=$(sed -n 's/^spurious wakeups: \(0x[0-9a-f]*\) .*completed=\(0x[0-9a-f]*\).*/\1 \2/p' /tmp/err.txt)
	python3 - "$dev" "$variant" "$round" "$pos" "$t0" "$t1" "$rc" "$drv $wk" "$spurious" \
		>>"$out/results.jsonl" <<'PY'
import json, sys
dev, variant, rnd, pos, t0, t1, rc, perf, spur = sys.argv[1:]
r = {"dev": dev, "variant": variant, "round": int(rnd), "pos": int(pos),
     "seconds": (int(t1) - int(t0)) / 1e9, "rc": int(rc)}
for kv in perf.split():
    k, v = kv.split("=")
    try:
        r[k] = float(v)
    except ValueError:
        pass
if spur.split():
    r["spurious"] = int(spur.split()[0], 16)
    r["completed"] = int(spur.split()[1], 16)
print(json.dumps(r))
PY
	printf 'ring-bench: round %s %-18s %-6s %7.2f s rc=%s %s%s\n' "$round" "$variant" \
		"$dev" "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$rc" "$drv" "$wk"
	[ "$rc" = 0 ] || { echo "ring-bench: virtio_test failed:"; cat /tmp/err.txt; } >&2
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
echo "ring-bench: done"
