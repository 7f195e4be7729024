#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DPDK test, run inside the vm-run guest by tools/testing/dpdk/run.sh:
# DPDK's testpmd, through its virtio-user PMD (a client we did not write),
# drives /dev/vhostx-net, and then the kernel's /dev/vhost-net as the
# reference, with each ring layout DPDK can ask for:
#   split            (no devargs)
#   packed           packed_vq=1          (VIRTIO_F_RING_PACKED, bit 34)
#   in_order         in_order=1           (VIRTIO_F_IN_ORDER, bit 35)
#   packed_in_order  packed_vq=1,in_order=1
# One testpmd per device and layout, two phases:
#   TX  --forward-mode txonly for DPDK_TX_SECONDS: testpmd's TX-packets
#       must all reach the tap (its rx_packets/rx_bytes, exactly), and a
#       packet socket on the tap must see them as testpmd's UDP frames;
#   RX  rxonly while DPDK_RX_FRAMES numbered frames are sent out of the
#       tap: testpmd's RX-packets/RX-bytes must equal what the tap queued
#       (tx_packets), and be at least 1000 (the tap drops what does not
#       fit its queue: under TCG most of a fast sender's frames).
# The features each run negotiated are read from the PMD's debug log:
# packed/in-order must be what was asked for on vhostx, and on a
# vhost-net that lacks them (6.1) DPDK falls back to split, out of order.
#
# Environment: DPDK_TX_SECONDS (default 5), DPDK_RX_FRAMES (default 10000),
# DPDK_DEVICES (default "vhostx-net vhost-net"), DPDK_VARIANTS (default
# all four), DPDK_ROUNDS (default 1; more for rates: alternating devices).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

tx_seconds=${DPDK_TX_SECONDS:-5}
rx_frames=${DPDK_RX_FRAMES:-10000}
devices=${DPDK_DEVICES:-vhostx-net vhost-net}
variants=${DPDK_VARIANTS:-split packed in_order packed_in_order}
rounds=${DPDK_ROUNDS:-1}
out=${VM_RESULTS:-$(mktemp -d)}
work=$(mktemp -d)
tap=dtap0
failed=0

say() { echo "dpdk: $*"; }
bad() { say "FAIL: $*"; failed=1; }

say "== modules, hugepages"
tools/testing/vm/load-modules.sh
[ -c /dev/vhostx-net ] || { say "FAIL: no /dev/vhostx-net"; exit 1; }
[ -c /dev/vhost-net ] || { say "FAIL: no /dev/vhost-net"; exit 1; }
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
echo 256 > /proc/sys/vm/nr_hugepages
say "$(grep -E 'HugePages_(Total|Free)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
testpmd=$(command -v dpdk-testpmd) || { say "FAIL: dpdk-testpmd missing (tools/setup.sh --dpdk)"; exit 1; }
say "$testpmd from $(dpkg-query -W -f='${Package} ${Version}' dpdk-dev 2>/dev/null || echo '?')"

devargs() {
	case $1 in
	split) echo ",in_order=0" ;;
	packed) echo ",packed_vq=1,in_order=0" ;;
	in_order) echo ",in_order=1" ;;
	packed_in_order) echo ",packed_vq=1,in_order=1" ;;
	esac
}
tapstat() { cat "/sys/class/net/$tap/statistics/$1"; }
# Field $2 of testpmd's "show port stats" block number $1 (1: TX phase, 2: RX phase).
pstat() {
	awk -v n="$1" -v f="$2:" '/# NIC statistics for port 0/ {b++}
		b == n { for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }' "$log"
}

# The tap's counters and the backend's per-queue counters, into $diag.
diag() {
	local p f
	{
		echo "--- $1"
		ip -s -s link show "$tap"
		for p in $(pidof dpdk-testpmd); do
			for f in /proc/$p/fdinfo/*; do
				grep -q '^vhostx-' "$f" 2>/dev/null && cat "$f"
			done
		done
	} >> "$diag" 2>&1 || true
}

# Wait until testpmd's log shows line $1 (a grep pattern) $2 times.
waitlog() {
	local i
	for i in $(seq 1200); do
		[ "$(grep -c -- "$1" "$log")" -ge "$2" ] && return 0
		grep -q '^Bye' "$log" && return 1
		sleep 0.1
	done
	return 1
}

# The commands testpmd reads, each sent once testpmd has answered the one
# before (its start-up takes tens of seconds under TCG); the tap's
# counters are read between "stop" and the next phase.
feed() {
	local i
	# The tap exists once the PMD probed, well before testpmd takes
	# commands: quiet it (no IPv6 chatter to count) and start the capture.
	for i in $(seq 1200); do [ -d "/sys/class/net/$tap" ] && break; sleep 0.1; done
	sysctl -q -w "net.ipv6.conf.$tap.disable_ipv6=1" || true
	ip link set "$tap" up
	python3 tools/testing/dpdk/frames.py capture "$tap" "$work/capture" &
	local cap=$!
	waitlog 'Checking link statuses' 1 || { echo quit; return; }
	for i in $(seq 600); do [ -f "$work/capture.ready" ] && break; sleep 0.1; done
	echo "set fwd txonly"
	echo "clear port stats 0"
	waitlog 'NIC statistics for port 0 cleared' 1 || { echo quit; return; }
	local rx0=$(tapstat rx_packets) rb0=$(tapstat rx_bytes)
	echo start
	waitlog 'txonly packet forwarding' 1 || { echo quit; return; }
	local t0=$(date +%s.%N)
	sleep "$tx_seconds"
	echo stop
	waitlog 'Waiting for lcores to finish' 1 || { echo quit; return; }
	local t1=$(date +%s.%N)
	# Let the backend drain the ring.
	sleep 2
	diag "after TX"
	echo "$(( $(tapstat rx_packets) - rx0 )) $(( $(tapstat rx_bytes) - rb0 )) $t0 $t1" > "$work/tx"
	kill -TERM $cap; wait $cap || true
	echo "show port stats 0"
	waitlog '# NIC statistics for port 0' 1 || { echo quit; return; }

	echo "set fwd rxonly"
	echo "clear port stats 0"
	waitlog 'NIC statistics for port 0 cleared' 2 || { echo quit; return; }
	local tp0=$(tapstat tx_packets) tb0=$(tapstat tx_bytes) td0=$(tapstat tx_dropped)
	echo start
	waitlog 'rxonly packet forwarding' 1 || { echo quit; return; }
	t0=$(date +%s.%N)
	local sent=$(python3 tools/testing/dpdk/frames.py send "$tap" "$rx_frames")
	t1=$(date +%s.%N)
	sleep 2
	echo stop
	waitlog 'Waiting for lcores to finish' 2 || { echo quit; return; }
	sleep 1
	diag "after RX"
	echo "$sent $(( $(tapstat tx_packets) - tp0 )) $(( $(tapstat tx_bytes) - tb0 )) $(( $(tapstat tx_dropped) - td0 )) $t0 $t1" > "$work/rx"
	echo "show port stats 0"
	waitlog '# NIC statistics for port 0' 2 || { echo quit; return; }
	echo quit
}

run_one() {
	local dev=$1 var=$2 round=$3
	log=$out/testpmd-$dev-$var-$round.log
	diag=$out/diag-$dev-$var-$round.txt
	rm -f "$work/tx" "$work/rx" "$work/capture" "$work/capture.ready" "$diag"
	local args=(-l 0-1 -n 1 --no-pci --iova-mode=va --file-prefix=vxdpdk
		--log-level=pmd.net.virtio.init:debug
		"--vdev=net_virtio_user0,path=/dev/$dev,queues=1,queue_size=256,iface=$tap$(devargs "$var")"
		-- -i --nb-cores=1 --txd=256 --rxd=256 --total-num-mbufs=8192)
	echo "$testpmd ${args[*]}" > "$log"
	local t_run=$SECONDS
	set +e
	feed | timeout 900 stdbuf -oL -eL "$testpmd" "${args[@]}" >> "$log" 2>&1
	local rc=$?
	set -e
	[ "$rc" = 0 ] || { bad "$dev $var: testpmd exit status $rc (log $log)"; tail -n 20 "$log"; return; }
	[ -f "$work/tx" ] && [ -f "$work/rx" ] || { bad "$dev $var: the tap $tap never came up or testpmd quit early ($log)"; tail -n 20 "$log"; return; }

	local feat
	feat=$(sed -n 's/.*features after negotiate = \([0-9a-fx]*\).*/\1/p' "$log" | tail -n1)
	[ -n "$feat" ] || { bad "$dev $var: no negotiated features in the log"; return; }
	local f=$((16#${feat#0x}))
	local packed=$(( (f >> 34) & 1 )) inorder=$(( (f >> 35) & 1 )) eidx=$(( (f >> 29) & 1 ))
	local want_p=0 want_o=0
	case $var in *packed*) want_p=1 ;; esac
	case $var in *in_order*) want_o=1 ;; esac
	if [ "$dev" = vhostx-net ]; then
		[ "$packed" = "$want_p" ] || bad "$dev $var: packed negotiated $packed, asked $want_p (features $feat)"
		[ "$inorder" = "$want_o" ] || bad "$dev $var: in-order negotiated $inorder, asked $want_o (features $feat)"
	fi

	# TX: every frame testpmd counted as sent reached the tap.
	local tx_pk tx_by tap_rx tap_rb t0 t1 match other drops
	tx_pk=$(pstat 1 TX-packets) tx_by=$(pstat 1 TX-bytes)
	read -r tap_rx tap_rb t0 t1 < "$work/tx"
	read -r match other drops < "$work/capture" || { match=0 other=0 drops=0; }
	local tx_rate=$(awk -v p="$tx_pk" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", p / (b - a)}')
	[ "${tx_pk:-0}" -ge 1000 ] || bad "$dev $var TX: testpmd sent only ${tx_pk:-?} frames"
	[ "$tap_rx" = "$tx_pk" ] || bad "$dev $var TX: testpmd sent $tx_pk frames, the tap received $tap_rx"
	[ "$tap_rb" = "$tx_by" ] || bad "$dev $var TX: testpmd sent $tx_by bytes, the tap received $tap_rb"
	[ "$((match + drops))" -ge "$tap_rx" ] && [ "$match" -gt 0 ] ||
		bad "$dev $var TX: the packet socket saw $match of testpmd's frames (+$drops dropped by the socket, $other others) of $tap_rx"

	# RX: every frame the tap queued reached testpmd.
	local sent tap_tx tap_tb tap_drop rx_pk rx_by
	read -r sent tap_tx tap_tb tap_drop t0 t1 < "$work/rx"
	rx_pk=$(pstat 2 RX-packets) rx_by=$(pstat 2 RX-bytes)
	local rx_rate=$(awk -v p="$rx_pk" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", p / (b - a)}')
	[ "$rx_pk" = "$tap_tx" ] || bad "$dev $var RX: the tap queued $tap_tx frames, testpmd received $rx_pk"
	[ "$rx_by" = "$tap_tb" ] || bad "$dev $var RX: the tap queued $tap_tb bytes, testpmd received $rx_by"
	# Under TCG the tap drops what the backend and testpmd cannot keep up with.
	[ "${rx_pk:-0}" -ge 1000 ] || bad "$dev $var RX: testpmd received ${rx_pk:-?} of $rx_frames frames sent"

	say "$dev $var: testpmd ran $((SECONDS - t_run)) s"
	printf 'dpdk: %-10s %-15s features %s (packed %s in_order %s event_idx %s)  TX %s frames %s/s (tap %s, socket %s+%s)  RX %s of %s frames (tap dropped %s) %s/s\n' \
		"$dev" "$var" "$feat" "$packed" "$inorder" "$eidx" "$tx_pk" "$tx_rate" "$tap_rx" "$match" "$drops" \
		"$rx_pk" "$sent" "$tap_drop" "$rx_rate" | tee -a "$out/summary"
	echo "{\"round\": $round, \"device\": \"$dev\", \"variant\": \"$var\", \"features\": \"$feat\", \"tx_frames\": $tx_pk, \"tx_pps\": $tx_rate, \"rx_frames\": $rx_pk, \"rx_sent\": $sent, \"rx_pps\": $rx_rate}" >> "$out/results.jsonl"
}

: > "$out/summary"
: > "$out/results.jsonl"
for r in $(seq "$rounds"); do
	order=$devices
	# Alternate which device goes first, round by round.
	[ $((r % 2)) = 1 ] || order=$(echo "$devices" | tr ' ' '\n' | tac | tr '\n' ' ')
	for var in $variants; do
		for dev in $order; do
			say "== round $r: $dev $var"
			run_one "$dev" "$var" "$r"
		done
	done
done

tools/testing/vm/load-modules.sh -u
say "================= summary ================="
cat "$out/summary"
if [ "$failed" = 0 ]; then say PASS; else say FAIL; exit 1; fi
