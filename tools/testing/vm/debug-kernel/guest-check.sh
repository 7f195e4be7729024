#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the debug-kernel guest (started by check-debug.sh through
# vm-run; cwd = repo root).  Loads vhostx from $VX_DEBUG_MODULES, then:
#   selftests -> kmemleak scan -> fuzzer -> kmemleak scan ->
#   3 x (unload all vhostx modules, reload, short fuzz; the second time
#   with vhostx_net experimental_zcopytx=1 and the network CVE tests) ->
#   final unload -> kmemleak scan.
# On a coverage build the modules' gcov counters are copied out after the
# selftests ($VM_RESULTS/gcov-suite) and at the end ($VM_RESULTS/gcov).
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

# One scan per step: an object unreferenced for more than 5 s is reported
# by the first scan that sees it (a scan takes 1-2 minutes on the debug
# kernel under TCG, so they are kept few).
scan() {
	local t=$SECONDS
	# The coverage flavour has no kmemleak (VX_KMEMLEAK=0): no scans there.
	[ "${VX_KMEMLEAK:-1}" = 1 ] || return 0
	[ -w "$kml" ] || { note "no $kml: kmemleak not available"; fail=1; return; }
	sleep 2		# let the step's closes and RCU callbacks finish
	echo scan >"$kml"
	cat "$kml" >"$res/kmemleak-$1.txt"
	if [ -s "$res/kmemleak-$1.txt" ]; then
		note "kmemleak after $1: $(grep -c '^unreferenced object' "$res/kmemleak-$1.txt") leak(s) ($((SECONDS - t))s)"
		fail=1
	else
		rm -f "$res/kmemleak-$1.txt"
		note "kmemleak after $1: clean ($((SECONDS - t))s)"
	fi
}

# Copy the modules' gcov counters (coverage builds: make coverage) out of
# debugfs; they outlive module unloads (gcov_persist).
gcov_save() {	# destination
	local d=/sys/kernel/debug/gcov
	[ -d "$d" ] || return 0
	(cd "$d" && find . -name '*.gcda' | while IFS= read -r f; do
		mkdir -p "$1/${f%/*}" && cat "$f" >"$1/$f"
	done)
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

# KCOV (a kernel with CONFIG_KCOV and coverage-built modules): the fuzzer
# counts the edges it reaches, and the guided mode can run.
kcov=
[ ! -e /sys/kernel/debug/kcov ] || kcov=--cover
# Fault injection (failslab): the fuzzer's operations may run with an
# allocation failing, in both modes.
faults=
[ ! -w /proc/self/fail-nth ] || [ ! -d /sys/kernel/debug/failslab ] || faults=--faults

fuzz() {	# seconds seed [fuzzer options]
	local t=$SECONDS s=$1 sd=$2
	shift 2
	local log=$res/fuzz-$sd-${s}s${kcov:+-$(echo "$*" | sed 's| [^-][^ ]*||g' | tr -dc 'a-z')}.log
	build/fuzz/vhostx_fuzz --seed "$sd" --seconds "$s" --timeout-ms 60000 \
		${kcov:+--repro-dir "$res/repro"} $faults "$@" >"$log" 2>&1
	local rc=$?
	tail -n 5 "$log" | tee -a "$summary"
	note "fuzz ${s}s seed $sd $*: status $rc, $((SECONDS - t))s wall"
	[ "$rc" = 0 ] || fail=1
}

# The fuzzer's saved inputs that once failed (tools/testing/fuzz/repro/*.tape):
# regression tests, each replayed as one round.
replay_repro() {
	local t=$SECONDS
	ls tools/testing/fuzz/repro/*.tape >/dev/null 2>&1 || return 0
	build/fuzz/vhostx_fuzz --run-tape tools/testing/fuzz/repro \
		>"$res/repro.log" 2>&1
	local rc=$?
	note "fuzzer reproducers: $(grep -c '^vhostx_fuzz: ok:' "$res/repro.log") ok, status $rc, $((SECONDS - t))s"
	[ "$rc" = 0 ] || fail=1
}

note "kernel $(uname -r); timeout scale ${VX_TIMEOUT_SCALE:-1}; kmemleak $([ -w "$kml" ] && echo on || echo off)"
# Scan only at the quiet points below.  kmemleak's own thread scans every
# 10 minutes, also in the middle of the fuzzer, where objects in flight
# can look unreferenced for a moment: one such scan printed "370 new
# suspected memory leaks" (which fails the run) while the scan after the
# fuzzer, 20 s later, found every object referenced or freed.
[ ! -w "$kml" ] || echo scan=off >"$kml"
# Leaks from the boot itself would not be ours.  Measured: none with
# debug.config, and a baseline scan costs ~2 minutes, so it is optional.
if [ -w "$kml" ] && [ "${VX_KMEMLEAK_BASELINE:-0}" = 1 ]; then
	echo scan >"$kml"
	cat "$kml" >"$res/boot-baseline-kmemleak.log"
	note "boot baseline: $(grep -c '^unreferenced object' "$res/boot-baseline-kmemleak.log") object(s) (not counted)"
	echo clear >"$kml"
fi

load || { note "loading modules failed"; exit 1; }
note "modules loaded${kcov:+ (KCOV: the fuzzer counts edges)}"

# make fuzz-compare: the random and the guided fuzzer, the same seed and
# time each, one slot each; nothing else.
if [ "${VX_FUZZ_COMPARE:-0}" = 1 ]; then
	[ -n "$kcov" ] || { note "no /sys/kernel/debug/kcov: no KCOV kernel"; exit 1; }
	# One pair per seed (VX_FUZZ_SEEDS, default the one seed), each
	# guided run from its own empty corpus ($res/corpus-SEED).
	for sd in ${VX_FUZZ_SEEDS:-$seed}; do
		fuzz "$fuzz_s" "$sd" --threads 1 --cover
		rm -rf "$res/corpus-$sd"
		fuzz "$fuzz_s" "$sd" --guided "$res/corpus-$sd"
	done
	scan fuzz
	note "result: $([ $fail = 0 ] && echo PASS || echo FAIL)"
	exit $fail
fi

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
# Selftest waits and harness timeouts are scaled by VX_TIMEOUT_SCALE
# (check-debug.sh: 10).  A test that still hits its harness timeout fails
# the run unless VX_DEBUG_STRICT=0, which lists it without counting it.
# Any other failure, and every kernel report (vm-run checks the log),
# fails the run.
read -r nfail ntimeout < <(awk '
	/^#  RUN /		{ to = 0 }
	/terminated by timeout/	{ to = 1 }
	/^not ok/ && !/# SKIP/	{ if (to) t++; else f++ }
	/^# run-selftests: FAIL/ && !/no test failed/ { f++ }
	END			{ print f + 0, t + 0 }' "$res/selftests.log")
if [ "$ntimeout" -gt 0 ]; then
	note "selftests: $ntimeout failure(s) are harness timeouts (slow kernel)$([ "${VX_DEBUG_STRICT:-1}" = 1 ] && echo ', counted' || echo ', not counted')"
	[ "${VX_DEBUG_STRICT:-1}" != 1 ] || fail=1
fi
if [ "$nfail" -gt 0 ]; then
	note "selftests: $nfail real failure(s)"
	fail=1
fi
scan selftests
gcov_save "$res/gcov-suite"

replay_repro
fuzz "$fuzz_s" "$seed" --threads 2 $kcov
scan fuzz

for i in 1 2 3; do
	t=$SECONDS
	unload || { note "unload $i failed: $(lsmod | grep vhost)"; fail=1; break; }
	if [ "$i" = 2 ]; then
		# Zero-copy TX on (if vhostx_net has it): the close/complete races.
		load experimental_zcopytx=1 zcopy_min_len=256 || { note "reload $i failed"; fail=1; break; }
		note "vhostx_net experimental_zcopytx=$(cat /sys/module/vhostx_net/parameters/experimental_zcopytx 2>/dev/null)"
		for tst in cve_net_test net_zerocopy_test; do
			[ -x "build/selftests/$tst" ] || continue
			timeout -k 10 "${SELFTEST_TIMEOUT:-2400}" "build/selftests/$tst" \
				>"$res/$tst-zcopy.log" 2>&1
			r=$?
			note "$tst with zero-copy: status $r ($(grep -c '^ok' "$res/$tst-zcopy.log") ok, $(grep -c '^not ok' "$res/$tst-zcopy.log") not ok)"
			[ "$r" = 0 ] || [ "$r" = 4 ] || fail=1
		done
	else
		load || { note "reload $i failed"; fail=1; break; }
	fi
	fuzz 20 $((seed + i)) --threads 2
	note "unload/reload cycle $i: $((SECONDS - t))s"
done
unload || { note "final unload failed"; fail=1; }
gcov_save "$res/gcov"
# Everything allocated by the modules, through three load/unload cycles.
scan unload-reload

# vm-run's guest-init scans again (twice) after this script; that adds
# nothing now and costs minutes: switch kmemleak off (reports already
# printed stay in the kernel log, which vm-run checks).
[ ! -w "$kml" ] || echo off >"$kml" 2>/dev/null

note "result: $([ $fail = 0 ] && echo PASS || echo FAIL)"
exit $fail
