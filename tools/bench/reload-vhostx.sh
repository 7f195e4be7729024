#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the bench guest: reload vhostx_net.ko (the snapshot in
# $BENCH_MODDIR, else this tree's) with
# experimental_zcopytx=$1 (0 or 1), and zcopy_min_len=$BENCH_ZC_MIN_LEN
# when set.  vhostx-bench calls it between cells, when no /dev/vhostx-net
# is open.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
v=${1:?usage: reload-vhostx.sh 0|1}
[ ! -d /sys/module/vhostx_net ] || rmmod vhostx_net
insmod "${BENCH_MODDIR:-drivers/vhostx/net}/vhostx_net.ko" "experimental_zcopytx=$v" \
	${BENCH_ZC_MIN_LEN:+"zcopy_min_len=$BENCH_ZC_MIN_LEN"}
# udev is not running in the guest: wait for devtmpfs to show the node.
for _ in $(seq 50); do [ -e /dev/vhostx-net ] && exit 0; sleep 0.1; done
echo "reload-vhostx: /dev/vhostx-net did not appear" >&2
exit 1
