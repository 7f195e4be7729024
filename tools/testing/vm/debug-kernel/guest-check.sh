#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the debug-kernel guest (started by check-debug.sh through
# vm-run; cwd = repo root).  Loads vhostx from $VX_DEBUG_MODULES, then:
#   selftests -> kmemleak scan -> fuzzer -> kmemleak scan ->
#   3 x (unload all vhostx modules, kmemleak scan, reload, short fuzz) ->
#   final unload -> kmemleak scan.
# Leaks found by a scan go to $VM_RESULTS/kmemleak-<step>.txt (the
# kernel log line "kmemleak: N new suspected memory leaks" also fails the
# vm-run verdict).  A summary with timings goes to $VM_RESULTS/summary.txt.
set -uo pipefail

mods=${VX_DEBUG_MODULES:?VX_DEBUG_MODULES not set}
fuzz_s=${VX_FUZZ_SECONDS:-600}
seed=${VX_FUZZ_SEED:-1}
res=${VM_RESULTS:?}
kml=/sys/kernel/debug/kmemleak
fail=0
summary=$res/summary.txt
: >"$summary"

up() { cut -d' ' -f1 /proc/uptime; }
note() { echo "check-debug(guest): $* [uptime $(up)s]" | tee -a "$summary"; }

# Scan twice (objects allocated during a scan are only reported by the
# next one), then save whatever is reported.
scan() {
	[ -w "$kml" ] || { note "no $kml: kmemleak not available"; fail=1; return; }
	echo scan >"$kml"; sleep 5; echo scan >"$kml"
	cat "$kml" >"$res/kmemleak-$1.txt"
	if [ -s "$res/kmemleak-$1.txt" ]; then
		note "kmemleak after $1: $(grep -c '^unreferenced object' "$res/kmemleak-$1.txt") leak(s)"
		fail=1
	else
		rm -f "$res/kmemleak-$1.txt"
		note "kmemleak after $1: clean"
	fi
}

load() {	# [extra vhostx_net parameters]
	modprobe -a vhost_iotlb tun tap macvtap vhost_net || return 1
	insmod "$mods/drivers/vhostx/vhostx.ko" || return 1
	insmod "$mods/drivers/vhostx/net/vhostx_net.ko" "$@" ||
		insmod "$mods/drivers/vhostx/net/vhostx_net.ko" || return 1
	insmod "$mods/drivers/vhostx/test/vhostx_test.ko"
}

unload() {
	local m
	for m in vhostx_test vhostx_net vhostx; do
		[ ! -d "/sys/module/$m" ] || rmmod "$m" || return 1
	done
	modprobe -r vhost_net 2>/dev/null
	return 0
}

fuzz() {	# seconds seed
	local t=$SECONDS
	build/fuzz/vhostx_fuzz --seed "$2" --seconds "$1" --threads 2 \
		--timeout-ms 60000 2>&1 | tail -n 5 | tee -a "$summary"
	local rc=${PIPESTATUS[0]}
	note "fuzz ${1}s seed $2: status $rc, $((SECONDS - t))s wall"
	[ "$rc" = 0 ] || fail=1
}

note "kernel $(uname -r); kmemleak $([ -w "$kml" ] && echo on || echo off)"
# Anything the boot itself leaked is not ours: report it, then forget it.
if [ -w "$kml" ]; then
	echo scan >"$kml"
	cat "$kml" >"$res/kmemleak-boot-baseline.txt"
	note "boot baseline: $(grep -c '^unreferenced object' "$res/kmemleak-boot-baseline.txt") object(s) (not counted)"
	echo clear >"$kml"
	mv "$res/kmemleak-boot-baseline.txt" "$res/boot-baseline-kmemleak.log"
fi

load || { note "loading modules failed"; exit 1; }
note "modules loaded"

t=$SECONDS
if [ -n "${VX_DEBUG_SELFTESTS:-}" ]; then
	mkdir -p /tmp/sel
	for n in $VX_DEBUG_SELFTESTS; do cp "build/selftests/$n" /tmp/sel/; done
	tools/testing/vm/run-selftests.sh /tmp/sel >"$res/selftests.log" 2>&1
else
	tools/testing/vm/run-selftests.sh >"$res/selftests.log" 2>&1
fi
rc=$?
grep -E '^(not ok|# run-selftests)' "$res/selftests.log" | grep -v '# SKIP' | tee -a "$summary"
note "selftests: $(tail -n1 "$res/selftests.log"), status $rc, $((SECONDS - t))s"
[ "$rc" = 0 ] || fail=1
scan selftests

fuzz "$fuzz_s" "$seed"
scan fuzz

for i in 1 2 3; do
	t=$SECONDS
	unload || { note "unload $i failed: $(lsmod | grep vhost)"; fail=1; break; }
	scan "unload-$i"
	if [ "$i" = 2 ]; then
		# Zero-copy TX on (if vhostx_net has it): the close/complete races.
		load experimental_zcopytx=1 || { note "reload $i failed"; fail=1; break; }
		note "vhostx_net experimental_zcopytx=$(cat /sys/module/vhostx_net/parameters/experimental_zcopytx 2>/dev/null)"
		for t in cve_net_test net_zerocopy_test; do
			[ -x "build/selftests/$t" ] || continue
			timeout -k 10 "${SELFTEST_TIMEOUT:-2400}" "build/selftests/$t" \
				>"$res/$t-zcopy.log" 2>&1
			r=$?
			note "$t with zero-copy: status $r ($(grep -c '^ok' "$res/$t-zcopy.log") ok, $(grep -c '^not ok' "$res/$t-zcopy.log") not ok)"
			[ "$r" = 0 ] || [ "$r" = 4 ] || fail=1
		done
	else
		load || { note "reload $i failed"; fail=1; break; }
	fi
	fuzz 20 $((seed + i))
	note "unload/reload cycle $i: $((SECONDS - t))s"
done
unload || { note "final unload failed"; fail=1; }
scan final-unload

note "result: $([ $fail = 0 ] && echo PASS || echo FAIL)"
exit $fail
