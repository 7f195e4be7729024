#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# RING_COUNT=1: after the timed rounds, tools/bench/ring/guest.sh runs
# each variant once more per device, untimed, with kprobes counting what
# one buffer costs in events: the driver's kicks (eventfd_write), the
# device's handler runs, its looks at the ring (vhost_get_vq_desc /
# vhostx_get_buf), its re-arms of kicks (vhost_enable_notify /
# vhostx_enable_notify) and its worker's sleeps (sched_switch away from
# the worker in a sleeping state).  These decide the run time with
# several CPUs: each sleep costs a kick and a wakeup.
#
# usage: count.sh BINDIR VARIANTS OUT   (VARIANTS comma-separated)
# Appends one JSON object per run to OUT/counts.jsonl and prints a table.
set -euo pipefail
bindir=$1 variants=$2 out=$3
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs none $T
echo 0 > $T/events/enable
echo > $T/kprobe_events
echo 256 > $T/buffer_size_kb

probes="kick:eventfd_write
vhost_run:vhost_test:handle_vq_kick vhostx_run:vhostx_test:vhostx_test_handle_kick
vhost_look:vhost:vhost_get_vq_desc vhostx_look:vhostx:vhostx_get_buf
vhost_rearm:vhost:vhost_enable_notify vhostx_rearm:vhostx:vhostx_enable_notify"
for p in $probes; do
	echo "p:vxcount/${p%%:*} ${p#*:}" >> $T/kprobe_events
done
echo 1 > $T/events/vxcount/enable
echo 'hist:keys=prev_comm,prev_state' > $T/events/sched/sched_switch/trigger
echo 1 > $T/events/sched/sched_switch/enable

snap() {
	cat $T/kprobe_profile
	grep '^{' $T/events/sched/sched_switch/hist | sed 's/^/switch /'
}

IFS=, read -r -a vlist <<<"$variants"
for v in "${vlist[@]}"; do
	for dev in vhost vhostx; do
		bin=$bindir/virtio_test
		[ $dev = vhost ] || bin=$bindir/virtio_test-vhostx
		opt=--$v
		[ "$v" != none ] || opt=
		snap > /tmp/count.before
		$bin $opt 2>/tmp/count.err >/dev/null || true
		snap > /tmp/count.after
		python3 - "$dev" "$v" >> "$out/counts.jsonl" <<'PY'
import json, re, sys
dev, variant = sys.argv[1:]

def parse(path):
    d = {}
    for ln in open(path):
        m = re.match(r"switch \{ prev_comm:\s*(\S+)\s*, prev_state:\s*(\d+)\s*\}"
                     r"\s*hitcount:\s*(\d+)", ln)
        if m:
            d[("switch", m.group(1), int(m.group(2)))] = int(m.group(3))
            continue
        f = ln.split()
        if len(f) >= 2 and f[1].isdigit():
            d[f[0]] = int(f[1])
    return d

a, b = parse("/tmp/count.before"), parse("/tmp/count.after")
diff = {k: b[k] - a.get(k, 0) for k in b}
m = re.search(r"completed=(0x[0-9a-f]+)", open("/tmp/count.err").read())
bufs = int(m.group(1), 16) if m else 0
# A worker is named vhost-<pid> / vhostx-<pid>; state 0 is a preemption.
wk = dev + "-"
sleeps = sum(n for k, n in diff.items() if isinstance(k, tuple) and
             k[1].startswith(wk) and k[1][len(wk):].isdigit() and k[2] != 0)
r = {"dev": dev, "variant": variant, "bufs": bufs,
     "kicks": diff.get("kick", 0), "runs": diff.get(dev + "_run", 0),
     "looks": diff.get(dev + "_look", 0),
     "rearms": diff.get(dev + "_rearm", 0), "sleeps": sleeps}
print(json.dumps(r))
PY
	done
done
echo 0 > $T/events/sched/sched_switch/enable
echo '!hist:keys=prev_comm,prev_state' > $T/events/sched/sched_switch/trigger
echo 0 > $T/events/vxcount/enable
echo > $T/kprobe_events

python3 - "$out/counts.jsonl" <<'PY'
import json, sys
runs = [json.loads(ln) for ln in open(sys.argv[1]) if ln.strip()]
print("ring-bench: events per buffer, one untimed run each (RING_COUNT=1)")
print("%-18s %-7s %8s %8s %8s %8s %8s" % ("option", "device", "kicks",
      "runs", "looks", "re-arms", "sleeps"))
for r in runs:
    n = r["bufs"] or 1
    print("%-18s %-7s %8.3f %8.3f %8.3f %8.3f %8.3f" % (
        r["variant"], r["dev"], r["kicks"] / n, r["runs"] / n,
        r["looks"] / n, r["rearms"] / n, r["sleeps"] / n))
PY
