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
# for QEMU's descriptor and checks that vhost-net was not used.  In each
# boot (split ring, then packed), between the rx stream and the rest, QEMU
# live-migrates L2 to a second QEMU (-incoming, its own tap and
# /dev/vhostx-net descriptor) while a stream runs each way (migrate.py).
#
# Environment: E2E_TX_LINES (L2 -> L1: `seq 1 N`, default 300000 = 2 MB),
# E2E_RX_LINES (L1 -> L2, default 150000 = 1 MB), E2E_RESIZE_LINES (L2 -> L1
# while L2 resizes its rings, default 300000), E2E_L2_TIMEOUT (seconds
# for L2 to come up, default 900), E2E_INITRD (L2's initramfs),
# E2E_PACKED (default 1: a second L2 boot with packed=on: bit 34 negotiated
# in L2's sysfs, ping, E2E_PACKED_LINES (default 50000) each way by sha256,
# vhostx's counters), E2E_PACKED_LINES, E2E_MIG (default 1: the live
# migrations; 0 skips them), E2E_MIG_LINES (`seq 1 N` each way during a
# migration, default 100000 = 0.59 MB), E2E_INORDER (default 0; 1: both
# boots with in_order=on, and bit 35, VIRTIO_F_IN_ORDER, must be
# negotiated in L2's sysfs: QEMU 9.1 or later and an L2 kernel of 7.0 or
# later), E2E_KERNEL (L2's kernel, default /boot/vmlinuz-$(uname -r)),
# E2E_QEMU_ROOT (a newer Debian release's root with its qemu-system-x86:
# QEMU runs chrooted there, with this guest's /dev, /proc, /sys and /tmp).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

tx_lines=${E2E_TX_LINES:-300000}
rx_lines=${E2E_RX_LINES:-150000}
resize_lines=${E2E_RESIZE_LINES:-300000}
l2_timeout=${E2E_L2_TIMEOUT:-900}
packed=${E2E_PACKED:-1}
p_lines=${E2E_PACKED_LINES:-50000}
mig=${E2E_MIG:-1}
mig_lines=${E2E_MIG_LINES:-100000}
initrd=${E2E_INITRD:-build/e2e/l2-initramfs.cpio.gz}
inorder=${E2E_INORDER:-0}
kernel=${E2E_KERNEL:-/boot/vmlinuz-$(uname -r)}
qemu_root=${E2E_QEMU_ROOT:-}
# Under /tmp: a chrooted QEMU sees it at the same path.
work=$(mktemp -d /tmp/e2e.XXXXXX)
out=${VM_RESULTS:-$work}
l2log=$out/l2-console.log
l1=10.77.0.1 l2=10.77.0.2
qpid= qpid2=

say() { echo "e2e: $*"; }
fail() {
	local p f
	say "FAIL: $*"
	# The vhostx counters of every QEMU still running, for the diagnosis.
	for p in $qpid $qpid2; do
		for f in /proc/$p/fdinfo/*; do
			grep -q '^vhostx-dev:' "$f" 2>/dev/null || continue
			echo "----- e2e: vhostx fdinfo of QEMU $p -----"
			cat "$f" 2>/dev/null || true
		done
	done
	if [ -f "$l2log" ]; then
		echo "----- e2e: L2 console / QEMU output (tail) -----"
		tail -n 40 "$l2log" | sed 's/^/| /'
		echo "-----"
	fi
	exit 1
}
cleanup() {
	local p
	for p in $qpid $qpid2; do
		kill -0 "$p" 2>/dev/null || continue
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
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
if [ -n "$qemu_root" ]; then
	[ -x "$qemu_root/usr/bin/qemu-system-x86_64" ] || fail "no qemu-system-x86_64 in $qemu_root"
	# Where the chrooted QEMU can open them.
	cp "$kernel" "$work/l2-kernel"
	cp "$initrd" "$work/l2-initrd"
	kernel=$work/l2-kernel initrd=$work/l2-initrd
fi
# The device property of every boot: in_order=on with E2E_INORDER=1.
dev_props=
[ "$inorder" = 1 ] && dev_props=",in_order=on"

say "== loading modules"
tools/testing/vm/load-modules.sh
[ -c /dev/vhostx-net ] || fail "/dev/vhostx-net missing after load-modules.sh"

# L1's address is on a bridge: L2's QEMU uses tap0, the destination QEMU
# of a live migration tap1; QEMU's announcement after the migration moves
# L2's MAC address to tap1.
say "== br0 $l1/24 with tap0 and tap1 (a private network inside this guest)"
modprobe bridge
ip link add br0 type bridge forward_delay 0
for t in tap0 tap1; do
	ip tuntap add dev $t mode tap
	ip link set $t master br0
	ip link set $t up
done
ip addr add $l1/24 dev br0
ip link set br0 up

# Exec QEMU with arguments "$@": this guest's, or E2E_QEMU_ROOT's in
# that root (read-only here) in a mount namespace of its own, with this
# guest's /dev (tun, the tap) and /tmp ($work) bound in, /proc and /sys
# mounted.
# The same process throughout: $! stays QEMU's pid.
vmm() {
	[ -n "$qemu_root" ] || exec qemu-system-x86_64 "$@"
	exec unshare --mount --propagation private /bin/sh -c '
		r=$1; shift
		mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" &&
		mount -t sysfs sysfs "$r/sys" && mount --rbind /tmp "$r/tmp" &&
		exec chroot "$r" qemu-system-x86_64 "$@"' vmm "$qemu_root" "$@"
}

# Boot L2 on a tap and /dev/vhostx-net: $1 L2's extra kernel arguments,
# $2 extra virtio-net-pci properties, $3 the tap (default tap0, which
# also restarts L1's clock t_start), $4 more QEMU options; sets qpid and
# qmp (QEMU's QMP socket).
start_l2() {
	local tap=${3:-tap0}
	[ "$tap" != tap0 ] || t_start=$SECONDS
	qmp=$work/qmp-$tap.sock
	rm -f "$qmp"
	# exec: $! is QEMU itself, so /proc/$qpid/fdinfo is QEMU's.
	# shellcheck disable=SC2086 # $4: several options
	( vmm -accel tcg -cpu max -m 256 -smp 1 \
		-nodefaults -display none -no-reboot -monitor none -serial stdio \
		-qmp "unix:$qmp,server=on,wait=off" ${4:-} \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 mitigations=off $1" \
		-netdev tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=on,vhostforce=on,vhostfd=3 \
		-device "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:02,romfile=$2$dev_props" \
		3<>/dev/vhostx-net </dev/null > >(stamp > "$l2log") 2>&1 ) &
	qpid=$!
	say "QEMU pid $qpid ($tap)"
}
# Copy the fdinfo of QEMU's vhostx descriptor to $work/fdinfo.
qemu_fdinfo() {
	local f
	for f in /proc/$qpid/fdinfo/*; do
		grep -q '^vhostx-dev:' "$f" 2>/dev/null && { cp "$f" "$work/fdinfo"; return 0; }
	done
	fail "no QEMU descriptor shows vhostx-dev in fdinfo"
}
# The column named $2 (bufs, bytes, broken, ...: by the header line, never
# by position) of vq $1, summed over the fdinfo copies $3... (default:
# QEMU's, and the migration source's when L2 migrated).
vq() {
	local files=("${@:3}")
	[ ${#files[@]} -gt 0 ] || files=("$work"/fdinfo*)
	awk -v q="vhostx-$1" -v n="$2" 'FNR == 1 {c = 0}
		$1 == "vhostx-vq" {for (i = 2; i <= NF; i++) if ($i == n) c = i}
		$1 == q && c {s += $c; k++} END {if (k) print s}' "${files[@]}"
}
# Wait at most $2 s for QEMU $1 to exit; it must exit with status 0.
wait_exit() {
	local deadline=$((SECONDS + $2)) qrc
	while kill -0 "$1" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "QEMU $1 still running after $2 s"
		sleep 1
	done
	set +e; wait "$1"; qrc=$?; set -e
	[ "$qrc" = 0 ] || fail "QEMU $1 exited with status $qrc"
}

# Live migration of the running L2 (E2E_MIG): a second QEMU, started with
# the source's arguments $1 $2 plus -incoming, on tap1 and a descriptor of
# its own on /dev/vhostx-net; migrate.py pulls and pushes the e2e.mig
# streams, migrates the source to it in their middle, checks that QMP says
# completed, the source paused and the destination running, and quits the
# source.  Here: the source exited 0 and its vhostx device marked dirty
# pages on both queues (the log QEMU gave it was used), L2 received the
# pushed stream intact, the destination's vhostx device moved bytes both
# ways.  $3 names the logs.  Afterwards qpid and l2log are the
# destination's, and $work/fdinfo.src holds the source's last counters.
migrate_l2() {
	local src=$qpid src_qmp=$qmp src_log=$l2log dst dst_qmp src_dev rc t0=$SECONDS
	local sock=$work/migrate.sock want want_bytes got got_bytes lp0 lp1 d_rx d_tx
	say "== live migration: L2 to a second QEMU (-incoming, tap1, its own /dev/vhostx-net) during seq 1 $mig_lines each way"
	rm -f "$sock" "$work/fdinfo.src"
	l2log=$out/l2-console$3-dst.log
	start_l2 "$1" "$2" tap1 "-incoming unix:$sock"
	dst=$qpid dst_qmp=$qmp qpid=$src qpid2=$dst
	set +e
	python3 tools/testing/e2e/migrate.py run "$src_qmp" "$src" "$dst_qmp" \
		"unix:$sock" $l2 "$mig_lines" "$work/fdinfo.src" > "$work/mig" 2>&1
	rc=$?
	set -e
	sed 's/^/e2e: /' "$work/mig"
	[ "$rc" = 0 ] || { l2log=$src_log; fail "live migration$3: $(grep -m1 'mig: FAIL' "$work/mig" || tail -n1 "$work/mig")"; }
	mig_info=$(sed -n 's/.*mig: completed in \([0-9.]*s\): total-time \([0-9]*\) ms, downtime \([0-9]*\) ms.*dirty-sync-count \([0-9]*\).*/\1 (QEMU total-time \2 ms, downtime \3 ms, dirty-sync-count \4)/p' "$work/mig")
	wait_exit "$src" 120
	qpid=$dst qpid2=
	src_dev=$(awk '/^vhostx-dev:/ {print $2}' "$work/fdinfo.src")
	[ ! -e "/sys/kernel/debug/vhostx/$src_dev" ] || fail "the source's $src_dev still in debugfs after it exited"
	lp0=$(vq 0 log_pages "$work/fdinfo.src") lp1=$(vq 1 log_pages "$work/fdinfo.src")
	[ "${lp0:-0}" -gt 0 ] && [ "${lp1:-0}" -gt 0 ] ||
		fail "the source's vhostx device marked no dirty pages (log_pages RX '$lp0' TX '$lp1'): the migration did not use its dirty log"
	[ "$(vq 0 broken "$work/fdinfo.src")" = 0 ] && [ "$(vq 1 broken "$work/fdinfo.src")" = 0 ] ||
		fail "a vq of the migration source is broken"
	grep -qi 'vhost' "$src_log" && fail "migration source QEMU complained about vhost: $(grep -i vhost "$src_log" | head -n3)"
	want_bytes=$(seq 1 "$mig_lines" | wc -c) want=$(seq 1 "$mig_lines" | sha)
	wait_for 'E2E-L2: mig rx ' 300
	read -r got_bytes got < <(sed -n 's/.*E2E-L2: mig rx *\([0-9]*\) bytes sha256 \([0-9a-f]*\).*/\1 \2/p' "$l2log")
	[ "$got_bytes" = "$want_bytes" ] && [ "$got" = "$want" ] ||
		fail "stream pushed during the migration: L2 got $got_bytes bytes sha256 $got, want $want_bytes $want"
	qemu_fdinfo
	d_rx=$(vq 0 bytes "$work/fdinfo") d_tx=$(vq 1 bytes "$work/fdinfo")
	[ "${d_rx:-0}" -gt 0 ] && [ "${d_tx:-0}" -gt 0 ] ||
		fail "the destination's vhostx device moved RX '$d_rx' TX '$d_tx' bytes after the migration"
	[ "$(vq 0 broken "$work/fdinfo")" = 0 ] && [ "$(vq 1 broken "$work/fdinfo")" = 0 ] ||
		fail "a vq of the migration destination is broken"
	mig_sum="migrated in $mig_info; $want_bytes bytes each way across it, sha256 ok; source $src_dev log_pages RX $lp0 TX $lp1, exit 0; destination $(awk '/^vhostx-dev:/ {print $2}' "$work/fdinfo") RX $d_rx TX $d_tx bytes; step $((SECONDS - t0))s"
	say "L2 now runs in QEMU pid $qpid: $mig_sum"
}

# Tell L2 to power off; QEMU must then exit with status 0.
stop_l2() {
	bash -c "exec 5<>/dev/tcp/$l2/5002 && exec 5>&-" || fail "connecting to L2 port 5002"
	wait_for 'E2E-L2: done' 300
	wait_exit "$qpid" 120
	qpid=
}

say "== starting QEMU (nested TCG) with vhostfd=3 on /dev/vhostx-net"
args="e2e.tx=$tx_lines e2e.resize=$resize_lines"
[ "$mig" = 1 ] && args+=" e2e.mig=$mig_lines"
rm -f "$work"/fdinfo*
start_l2 "$args" ""

wait_for 'E2E-L2: ready' "$l2_timeout"
t_ready=$((SECONDS - t_start))
say "L2 up after ${t_ready}s: $(grep 'E2E-L2: ready' "$l2log")"
# L2's negotiated virtio features as it printed them (sysfs, bit 0 first).
l2_features() {
	sed -n 's/.*E2E-L2: features \([01]*\).*/\1/p' "$l2log"
}

# Bit 35 (VIRTIO_F_IN_ORDER) in L2's features ($1: which boot).
check_inorder() {
	local feat

	feat=$(l2_features)
	if [ "$inorder" = 1 ]; then
		[ "${feat:35:1}" = 1 ] ||
			fail "$1: L2 did not negotiate VIRTIO_F_IN_ORDER (bit 35) with in_order=on: $feat"
		say "$1: L2 negotiated VIRTIO_F_IN_ORDER (bit 35): $feat"
	fi
}
check_inorder "split ring"

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

mig_split="skipped (E2E_MIG=0)"
if [ "$mig" = 1 ]; then
	migrate_l2 "$args" "" ""
	mig_split=$mig_sum
fi

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

say "== vhostx counters of QEMU's descriptor (and of the migration source's)"
qemu_fdinfo
cat "$work"/fdinfo*
dev=$(awk '/^vhostx-dev:/ {print $2}' "$work/fdinfo")
rx_bufs=$(vq 0 bufs) rx_vbytes=$(vq 0 bytes) tx_bufs=$(vq 1 bufs) tx_vbytes=$(vq 1 bytes)
rx_broken=$(vq 0 broken) tx_broken=$(vq 1 broken)
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
dbg() {	# the column named $2 of vq $1 in debugfs's stats
	awk -v q="$1" -v n="$2" '$1 == "vq" {for (i = 2; i <= NF; i++) if ($i == n) c = i}
		$1 == q && c {print $c}' "$stats"
}
dbg_rx=$(dbg 0 bytes) dbg_tx=$(dbg 1 bytes)
f_rx=$(vq 0 bytes "$work/fdinfo") f_tx=$(vq 1 bytes "$work/fdinfo")
[ "${dbg_rx:-0}" -ge "$f_rx" ] || fail "debugfs RX bytes $dbg_rx < fdinfo's $f_rx"
[ "${dbg_tx:-0}" -ge "$f_tx" ] || fail "debugfs TX bytes $dbg_tx < fdinfo's $f_tx"

say "== which backend QEMU used"
tids=$(ls /proc/$qpid/task)
workers= vhost_threads=
# Every thread's name: a worker is a kthread, or (vhost_task, 6.4 and
# later) a thread of QEMU itself, which /proc/<pid> alone does not list.
comms=$(cat /proc/[0-9]*/task/[0-9]*/comm 2>/dev/null || true)
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
	args="e2e.tx=$p_lines e2e.short=1"
	[ "$mig" = 1 ] && args+=" e2e.mig=$mig_lines"
	rm -f "$work"/fdinfo*
	start_l2 "$args" ",packed=on"
	wait_for 'E2E-L2: ready' "$l2_timeout"
	p_ready=$((SECONDS - t_start))
	feat=$(l2_features)
	say "L2 up after ${p_ready}s, its virtio features (bit 0 first): $feat"
	[ "${feat:34:1}" = 1 ] || fail "L2 did not negotiate VIRTIO_F_RING_PACKED (bit 34): $feat"
	check_inorder "packed ring"
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
	mig_packed="skipped (E2E_MIG=0)"
	if [ "$mig" = 1 ]; then
		migrate_l2 "$args" ",packed=on" "-packed"
		mig_packed=$mig_sum
	fi
	qemu_fdinfo
	p_rxb=$(vq 0 bytes) p_txb=$(vq 1 bytes)
	[ "${p_txb:-0}" -ge "$p_tx" ] && [ "${p_rxb:-0}" -ge "$p_rx" ] ||
		fail "packed: vhostx moved TX $p_txb RX $p_rxb bytes, less than $p_tx / $p_rx"
	[ "$(vq 0 broken)" = 0 ] && [ "$(vq 1 broken)" = 0 ] || fail "packed: a vq is broken"
	grep -qi 'vhost' "$l2log" && fail "packed: QEMU complained about vhost: $(grep -i vhost "$l2log" | head -n3)"
	stop_l2
	p_sum="bit 34 negotiated; ping; $p_tx bytes each way, sha256 ok (vhostx TX $p_txb, RX $p_rxb bytes); L2 ready ${p_ready}s, run $((SECONDS - t_start))s"
	say "packed: $p_sum"
fi
ip link del tap0
ip link del tap1
ip link del br0
tools/testing/vm/load-modules.sh -u

cat <<SUMMARY
e2e: ================= summary =================
e2e: L2 booted (nested TCG) and reached "ready" in ${t_ready}s; whole L2 run ${t_total}s
e2e: ping: $ping_sum
e2e: L2 -> L1: $tx_bytes bytes in ${t_tx}s, sha256 ok   (vhostx TX vq 1: bufs $tx_bufs bytes $tx_vbytes)
e2e: L1 -> L2: $rx_bytes bytes in ${t_rx}s, sha256 ok   (vhostx RX vq 0: bufs $rx_bufs bytes $rx_vbytes)
e2e: live migration (split ring): $mig_split
e2e: L2 -> L1 during $resizes ring resizes (ethtool -G, queue reset): $rz_bytes bytes in ${t_rz}s, sha256 ok
e2e: packed ring (packed=on): $p_sum
e2e: live migration (packed ring): ${mig_packed:-skipped (E2E_PACKED=0)}
e2e: in order (in_order=on, bit 35 negotiated in every boot): $([ "$inorder" = 1 ] && echo yes || echo "not asked (E2E_INORDER=0)")
e2e: QEMU: $(vmm --version | head -n1)${qemu_root:+ (from $qemu_root)}; L2 kernel ${E2E_KERNEL:-/boot/vmlinuz-$(uname -r)}
e2e: device $dev, worker$workers; no vhost-net thread or fd; QEMU exit 0; modules unloaded
e2e: PASS
SUMMARY
