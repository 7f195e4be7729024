#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside a guest of tools/bench/ring/profile.sh: load the modules it
# snapshot, save /proc/kallsyms (to map the plugin's addresses), run
# virtio_test once against $RING_PROFILE_DEV (vhost or vhostx).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
out=${VM_RESULTS:?VM_RESULTS not set: run through tools/bench/ring/profile.sh}
dev=${RING_PROFILE_DEV:?}
variant=${RING_PROFILE_VARIANT:-none}
mods=$out/modules

tools/bench/ring/load-devices.sh "$mods"
if [ -n "${RING_WAKEUP_GRAN_NS:-}" ]; then
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	echo "$RING_WAKEUP_GRAN_NS" > /sys/kernel/debug/sched/wakeup_granularity_ns
fi
# From tmpfs: with -icount, waits for the host's file server count.
mkdir -p /tmp/ring-profile
case $dev in
vhost)  bin=/tmp/ring-profile/virtio_test; cp "$mods/virtio_test" $bin ;;
vhostx) bin=/tmp/ring-profile/virtio_test-vhostx; cp "$mods/virtio_test-vhostx" $bin ;;
*)      echo "ring-profile: unknown device $dev" >&2; exit 1 ;;
esac
cat /proc/kallsyms > "$out/kallsyms-$dev.txt"
opt=--$variant
[ "$variant" != none ] || opt=
"$bin" $opt 2>&1 | tee "$out/run-$dev.txt"
