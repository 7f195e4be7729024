#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end test, run inside the vm-run guest (L1) by tools/testing/e2e/run.sh:
# QEMU, as a real VMM, boots a second-level guest (L2) whose virtio-net NIC
# is backed by vhostx (-netdev tap,vhost=on,vhostfd=3 3<>/dev/vhostx-net).
# L1 pings L2, pulls a stream from it (TX from L2's point of view), pushes
# one to it (RX), pulls a third while L2 resizes its rings with
# `ethtool -G` (each a queue reset: VIRTIO_F_RING_RESET), checks every
# byte by sha256, then reads vhostx's counters
# for QEMU's descriptor and checks that vhost-net was not used.
#
# Environment: E2E_TX_LINES (L2 -> L1: `seq 1 N`, default 300000 = 2 MB),
# E2E_RX_LINES (L1 -> L2, default 150000 = 1 MB), E2E_RESIZE_LINES (L2 -> L1
# while L2 resizes its rings, default 300000), E2E_L2_TIMEOUT (seconds
# for L2 to come up, default 900), E2E_INITRD (L2's initramfs),
# E2E_PACKED (default 1: a second L2 boot with packed=on: bit 34 negotiated
# in L2's sysfs, ping, E2E_PACKED_LINES (default 50000) each way by sha256,
# vhostx's counters), E2E_PACKED_LINES.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

tx_lines=${E2E_TX_LINES:-300000}
rx_lines=${E2E_RX_LINES:-150000}
resize_lines=${E2E_RESIZE_LINES:-300000}
l2_timeout=${E2E_L2_TIMEOUT:-900}
packed=${E2E_PACKED:-1}
p_lines=${E2E_PACKED_LINES:-50000}
initrd=${E2E_INITRD:-build/e2e/l2-initramfs.cpio.gz}
kernel=/boot/vmlinuz-$(uname -r)
work=$(mktemp -d)
out=${VM_RESULTS:-$work}
l2log=$out/l2-console.log
l1=10.77.0.1 l2=10.77.0.2
qpid=

say() { echo "e2e: $*"; }
fail() {
	say "FAIL: $*"
	if [ -f "$l2log" ]; then
		echo "----- e2e: L2 console / QEMU output (tail) -----"
		tail -n 40 "$l2log" | sed 's/^/| /'
		echo "-----"
	fi
	exit 1
}
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
# Wait until the L2 console shows a line matching $1, at most $2 seconds.
wait_for() {
	local deadline=$((SECONDS + $2))
	until grep -q "$1" "$l2log" 2>/dev/null; do
		grep -q 'E2E-L2: FAIL' "$l2log" 2>/dev/null && fail "L2 reports a failure"
		kill -0 "$qpid" 2>/dev/null || fail "QEMU exited while waiting for '$1'"
		[ "$SECONDS" -lt "$deadline" ] || fail "no '$1' from L2 within $2 s"
		sleep 1
	done
}
sha() { sha256sum | cut -d' ' -f1; }
# Prefix each line of L2's console with L1's seconds since QEMU started.
stamp() { local l; while IFS= read -r l; do printf '[%4d] %s\n' $((SECONDS - t_start)) "${l%$'\r'}"; done; }

[ -r "$kernel" ] || fail "no kernel image $kernel for L2"
[ -r "$initrd" ] || fail "no L2 initramfs $initrd (tools/testing/e2e/run.sh builds it)"

say "== loading modules"
tools/testing/vm/load-modules.sh
[ -c /dev/vhostx-net ] || fail "/dev/vhostx-net missing after load-modules.sh"

say "== tap0 $l1/24 (a private network inside this guest)"
ip tuntap add dev tap0 mode tap
ip addr add $l1/24 dev tap0
ip link set tap0 up

# Boot L2 on tap0 and /dev/vhostx-net: $1 L2's extra kernel arguments,
# $2 extra virtio-net-pci properties; sets qpid and t_start.
start_l2() {
	t_start=$SECONDS
	# exec: $! is QEMU itself, so /proc/$qpid/fdinfo is QEMU's.
	( exec qemu-system-x86_64 -accel tcg -cpu max -m 256 -smp 1 \
		-nodefaults -display none -no-reboot -monitor none -serial stdio \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 mitigations=off $1" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on,vhostforce=on,vhostfd=3 \
		-device "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:02,romfile=$2" \
		3<>/dev/vhostx-net </dev/null > >(stamp > "$l2log") 2>&1 ) &
	qpid=$!
	say "QEMU pid $qpid"
}
# Copy the fdinfo of QEMU's vhostx descriptor to $work/fdinfo.
qemu_fdinfo() {
	local f
	for f in /proc/$qpid/fdinfo/*; do
		grep -q '^vhostx-dev:' "$f" 2>/dev/null && { cp "$f" "$work/fdinfo"; return 0; }
	done
	fail "no QEMU descriptor shows vhostx-dev in fdinfo"
}
# Tell L2 to power off; QEMU must then exit with status 0.
stop_l2() {
	bash -c "exec 5<>/dev/tcp/$l2/5002 && exec 5>&-" || fail "connecting to L2 port 5002"
	wait_for 'E2E-L2: done' 300
	local deadline=$((SECONDS + 120)) qrc
	while kill -0 "$qpid" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "QEMU still running 120 s after L2 powered off"
		sleep 1
	done
	set +e; wait "$qpid"; qrc=$?; set -e
	qpid=
	[ "$qrc" = 0 ] || fail "QEMU exited with status $qrc"
}

say "== starting QEMU (nested TCG) with vhostfd=3 on /dev/vhostx-net"
start_l2 "e2e.tx=$tx_lines e2e.resize=$resize_lines" ""

wait_for 'E2E-L2: ready' "$l2_timeout"
t_ready=$((SECONDS - t_start))
say "L2 up after ${t_ready}s: $(grep 'E2E-L2: ready' "$l2log")"

say "== ping $l2"
t0=$SECONDS
# -w: wait for late replies (nested TCG round trips take seconds), stop at 5.
busybox ping -c 5 -w 60 $l2 > "$work/ping" || { cat "$work/ping"; fail "ping $l2"; }
ping_sum=$(grep -E 'packets transmitted|round-trip' "$work/ping" | tr '\n' ' ')
grep -q ' 5 packets received' "$work/ping" || { cat "$work/ping"; fail "ping $l2 lost packets"; }
say "$ping_sum"

say "== L2 -> L1: seq 1 $tx_lines over TCP (vhostx TX)"
t0=$SECONDS
# bash's /dev/tcp, not nc: busybox nc quits as soon as its stdin is at EOF.
timeout 600 bash -c "exec 5<>/dev/tcp/$l2/5000 && cat <&5" > "$work/tx" ||
	fail "receiving from L2 (status $?)"
t_tx=$((SECONDS - t0))
tx_bytes=$(stat -c %s "$work/tx")
want=$(seq 1 "$tx_lines" | sha)
got=$(sha < "$work/tx")
[ "$got" = "$want" ] || fail "L2 -> L1 stream: $tx_bytes bytes, sha256 $got, want $want"
say "received $tx_bytes bytes in ${t_tx}s, sha256 $got matches"

say "== L1 -> L2: seq 1 $rx_lines over TCP (vhostx RX)"
seq 1 "$rx_lines" > "$work/rx"
rx_bytes=$(stat -c %s "$work/rx")
want=$(sha < "$work/rx")
t0=$SECONDS
timeout 600 bash -c "exec 5<>/dev/tcp/$l2/5001 && cat '$work/rx' >&5 && exec 5>&-" ||
	fail "sending to L2"
wait_for 'E2E-L2: rx ' 600
t_rx=$((SECONDS - t0))
read -r got_bytes got < <(sed -n 's/.*E2E-L2: rx *\([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$l2log")
[ "$got_bytes" = "$rx_bytes" ] && [ "$got" = "$want" ] ||
	fail "L1 -> L2 stream: L2 got $got_bytes bytes sha256 $got, want $rx_bytes $want"
say "L2 received $got_bytes bytes in ${t_rx}s, sha256 $got matches"

say "== L2 -> L1: seq 1 $resize_lines while L2 resizes its rings 256 <-> 128 (queue reset)"
wait_for 'E2E-L2: resize-ready' 300
say "$(grep 'E2E-L2: resize:' "$l2log")"
t0=$SECONDS
# Connection refused is retried: L2's listener may be slow to start.
timeout 900 bash -c "for i in \$(seq 30); do
	{ cat <&5; exit \$?; } 2>/dev/null 5<>/dev/tcp/$l2/5003; sleep 1
done; exit 1" > "$work/resize" || fail "receiving from L2 while it resizes (status $?)"
t_rz=$((SECONDS - t0))
rz_bytes=$(stat -c %s "$work/resize")
want=$(seq 1 "$resize_lines" | sha)
got=$(sha < "$work/resize")
[ "$got" = "$want" ] || fail "stream during the resizes: $rz_bytes bytes, sha256 $got, want $want"
wait_for 'E2E-L2: resize done' 300
resizes=$(sed -n 's/.*E2E-L2: resize done: \([0-9]*\) resizes.*/\1/p' "$l2log")
# At least down to 128 and back to 256 while the data flowed.
[ "${resizes:-0}" -ge 2 ] || fail "only ${resizes:-0} resizes during the transfer"
grep -q 'E2E-L2: resize done: .* rings 256 256' "$l2log" || fail "L2's rings are not back at 256"
grep -qi 'error when restarting the queue' "$l2log" && fail "QEMU could not restart a queue"
say "received $rz_bytes bytes in ${t_rz}s during $resizes resizes, sha256 $got matches"

say "== vhostx counters of QEMU's descriptor"
qemu_fdinfo
cat "$work/fdinfo"
dev=$(awk '/^vhostx-dev:/ {print $2}' "$work/fdinfo")
# vhostx-<vq> num last_avail last_used broken kicks runs bufs bytes ...
vq() { awk -v q="vhostx-$1" -v c="$2" '$1 == q {print $c}' "$work/fdinfo"; }
rx_bufs=$(vq 0 8) rx_vbytes=$(vq 0 9) tx_bufs=$(vq 1 8) tx_vbytes=$(vq 1 9)
rx_broken=$(vq 0 5) tx_broken=$(vq 1 5)
[ -n "$rx_bufs" ] && [ -n "$tx_bufs" ] || fail "no vq 0/1 lines in QEMU's fdinfo"
[ "$rx_bufs" -gt 0 ] && [ "$rx_vbytes" -gt 0 ] || fail "RX vq: bufs $rx_bufs bytes $rx_vbytes"
[ "$tx_bufs" -gt 0 ] && [ "$tx_vbytes" -gt 0 ] || fail "TX vq: bufs $tx_bufs bytes $tx_vbytes"
[ "$tx_vbytes" -ge "$tx_bytes" ] || fail "TX vq moved $tx_vbytes bytes < the $tx_bytes sent by L2"
[ "$rx_vbytes" -ge "$rx_bytes" ] || fail "RX vq moved $rx_vbytes bytes < the $rx_bytes sent to L2"
[ "$rx_broken" = 0 ] && [ "$tx_broken" = 0 ] || fail "a vq is broken (rx $rx_broken tx $tx_broken)"
stats=/sys/kernel/debug/vhostx/$dev/stats
[ -d /sys/kernel/debug/vhostx ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
[ -r "$stats" ] || fail "no $stats"
say "$stats:"
cat "$stats"
# The same counters, read a moment later: never smaller.
dbg_rx=$(awk '$1 == "0" {print $9}' "$stats") dbg_tx=$(awk '$1 == "1" {print $9}' "$stats")
[ "${dbg_rx:-0}" -ge "$rx_vbytes" ] || fail "debugfs RX bytes $dbg_rx < fdinfo's $rx_vbytes"
[ "${dbg_tx:-0}" -ge "$tx_vbytes" ] || fail "debugfs TX bytes $dbg_tx < fdinfo's $tx_vbytes"

say "== which backend QEMU used"
tids=$(ls /proc/$qpid/task)
workers= vhost_threads=
comms=$(for p in /proc/[0-9]*; do cat "$p/comm" 2>/dev/null || true; done)
for t in $tids; do
	grep -qx "vhostx-$t" <<<"$comms" && workers+=" vhostx-$t"
	grep -qx "vhost-$t" <<<"$comms" && vhost_threads+=" vhost-$t"
done
[ -n "$workers" ] || fail "no vhostx-<tid> worker thread for QEMU (pid $qpid)"
[ -z "$vhost_threads" ] || fail "vhost-net worker thread(s)$vhost_threads exist for QEMU"
if ls -l /proc/$qpid/fd | grep -q '/dev/vhost-net'; then
	fail "QEMU has /dev/vhost-net open"
fi
grep -qi 'vhost' "$l2log" && fail "QEMU complained about vhost: $(grep -i vhost "$l2log" | head -n3)"
say "worker thread(s):$workers; no vhost-<tid> thread; /dev/vhost-net not open"

say "== telling L2 to power off"
stop_l2
t_total=$((SECONDS - t_start))
[ ! -e "/sys/kernel/debug/vhostx/$dev" ] || fail "$dev still in debugfs after QEMU exited"

# The same NIC with packed=on: QEMU passes VIRTIO_F_RING_PACKED (bit 34)
# through from /dev/vhostx-net and L2's virtio-net drives a packed ring.
p_sum="skipped (E2E_PACKED=0)"
if [ "$packed" = 1 ]; then
	say "== packed ring: QEMU with -device virtio-net-pci,packed=on, a second L2 boot"
	l2log=$out/l2-console-packed.log
	start_l2 "e2e.tx=$p_lines e2e.short=1" ",packed=on"
	wait_for 'E2E-L2: ready' "$l2_timeout"
	p_ready=$((SECONDS - t_start))
	feat=$(sed -n 's/.*E2E-L2: features \([01]*\).*/\1/p' "$l2log")
	say "L2 up after ${p_ready}s, its virtio features (bit 0 first): $feat"
	[ "${feat:34:1}" = 1 ] || fail "L2 did not negotiate VIRTIO_F_RING_PACKED (bit 34): $feat"
	busybox ping -c 3 -w 60 $l2 > "$work/ping" || { cat "$work/ping"; fail "packed: ping $l2"; }
	grep -q ' 3 packets received' "$work/ping" || { cat "$work/ping"; fail "packed: ping lost packets"; }
	timeout 600 bash -c "exec 5<>/dev/tcp/$l2/5000 && cat <&5" > "$work/ptx" ||
		fail "packed: receiving from L2 (status $?)"
	p_tx=$(stat -c %s "$work/ptx")
	[ "$(sha < "$work/ptx")" = "$(seq 1 "$p_lines" | sha)" ] ||
		fail "packed: L2 -> L1 stream of $p_tx bytes does not match"
	seq 1 "$p_lines" > "$work/prx"
	p_rx=$(stat -c %s "$work/prx")
	want=$(sha < "$work/prx")
	timeout 600 bash -c "exec 5<>/dev/tcp/$l2/5001 && cat '$work/prx' >&5 && exec 5>&-" ||
		fail "packed: sending to L2"
	wait_for 'E2E-L2: rx ' 600
	read -r got_bytes got < <(sed -n 's/.*E2E-L2: rx *\([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$l2log")
	[ "$got_bytes" = "$p_rx" ] && [ "$got" = "$want" ] ||
		fail "packed: L1 -> L2 stream: L2 got $got_bytes bytes sha256 $got, want $p_rx $want"
	qemu_fdinfo
	p_rxb=$(vq 0 9) p_txb=$(vq 1 9)
	[ "${p_txb:-0}" -ge "$p_tx" ] && [ "${p_rxb:-0}" -ge "$p_rx" ] ||
		fail "packed: vhostx moved TX $p_txb RX $p_rxb bytes, less than $p_tx / $p_rx"
	[ "$(vq 0 5)" = 0 ] && [ "$(vq 1 5)" = 0 ] || fail "packed: a vq is broken"
	grep -qi 'vhost' "$l2log" && fail "packed: QEMU complained about vhost: $(grep -i vhost "$l2log" | head -n3)"
	stop_l2
	p_sum="bit 34 negotiated; ping; $p_tx bytes each way, sha256 ok (vhostx TX $p_txb, RX $p_rxb bytes); L2 ready ${p_ready}s, run $((SECONDS - t_start))s"
	say "packed: $p_sum"
fi
ip link del tap0
tools/testing/vm/load-modules.sh -u

cat <<SUMMARY
e2e: ================= summary =================
e2e: L2 booted (nested TCG) and reached "ready" in ${t_ready}s; whole L2 run ${t_total}s
e2e: ping: $ping_sum
e2e: L2 -> L1: $tx_bytes bytes in ${t_tx}s, sha256 ok   (vhostx TX vq 1: bufs $tx_bufs bytes $tx_vbytes)
e2e: L1 -> L2: $rx_bytes bytes in ${t_rx}s, sha256 ok   (vhostx RX vq 0: bufs $rx_bufs bytes $rx_vbytes)
e2e: L2 -> L1 during $resizes ring resizes (ethtool -G, queue reset): $rz_bytes bytes in ${t_rz}s, sha256 ok
e2e: packed ring (packed=on): $p_sum
e2e: device $dev, worker$workers; no vhost-net thread or fd; QEMU exit 0; modules unloaded
e2e: PASS
SUMMARY
