#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug: vhostx on a debug kernel (KASAN, lockdep, kmemleak,
# UBSAN; see debug.config).  Steps:
#   1. build (or reuse from the cache) the debug kernel (build.sh);
#   2. build vhostx against it, from a copy of this tree in
#      build/check-debug/tree (so the stock build in the tree is untouched);
#   3. build the selftests and the fuzzer (userspace: kernel independent);
#   4. boot the debug kernel with vm-run and run guest-check.sh there: the
#      full selftest suite, the fuzzer, module unload/reload, with a
#      kmemleak scan after each step.
# Fails on any test failure and on any KASAN/UBSAN/lockdep/kmemleak/WARN
# report (vm-run checks the kernel log).
#
# Environment: VX_FUZZ_SECONDS (default 600), VX_FUZZ_SEED (default: the
# date, printed), VX_STRESS_SCALE (default 1), VX_DEBUG_TIMEOUT (VM limit,
# default 5400 s; make fuzz-compare: more for many seeds),
# VX_TIMEOUT_SCALE (multiplies every selftest's waits and harness
# timeout, default 10: the debug kernel is 10-30x slower),
# VX_DEBUG_STRICT=0 (list selftests that hit the harness timeout but do not
# count them as failures; default 1, they fail the run),
# VX_DEBUG_SELFTESTS (space-separated test names to run instead of all of
# build/selftests), VX_FUZZ_COMPARE=1 (make fuzz-compare: only the random
# and the guided fuzzer, VX_FUZZ_SECONDS each, edges compared; one pair
# per seed of VX_FUZZ_SEEDS, default VX_FUZZ_SEED's one), JOBS
# (kernel build, default nproc), VHOSTX_KERNEL_FLAVOUR (debug, the
# default, or coverage: the same kernel without the sanitizers, for make
# coverage; no kmemleak scans there, and the waits scaled by 3, not 10).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
cd "$repo"
say() { echo "check-debug: $*" >&2; }
t0=$(date +%s)

# 1. the kernel
flavour=${VHOSTX_KERNEL_FLAVOUR:-debug}
scale=10 kmemleak=1
[ "$flavour" = debug ] || scale=3 kmemleak=0
cache=$("$here/build.sh" --flavour "$flavour" --jobs "${JOBS:-$(nproc)}" | tail -n1)
[ -f "$cache/ok" ] || { say "debug kernel build failed"; exit 1; }
t1=$(date +%s)
kver=$(cat "$cache/obj/include/config/kernel.release")
say "$flavour kernel $kver from $cache ($((t1 - t0))s)"

# 2. vhostx against it, out of the tree
out=$repo/build/check-debug
tree=$out/tree
rm -rf "$tree"
mkdir -p "$tree"
cp -a Kbuild dkms.conf drivers include "$tree/"	# dkms.conf: the version
[ ! -f Kconfig ] || cp -a Kconfig "$tree/"
find "$tree" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
	-o -name '.*.cmd' -o -name modules.order -o -name Module.symvers \
	-o -name '*.a' -o -name '.*.d' \) -delete
# A kernel with gcov: profile the modules (coverage report at the end).
cov=
! grep -qx 'CONFIG_GCOV_KERNEL=y' "$cache/obj/.config" || cov=y
say "building vhostx against $cache/obj${cov:+ (gcov and KCOV instrumented)}"
nice -n 5 make -s -C "$cache/obj" M="$tree" CONFIG_VHOSTX=m CONFIG_VHOSTX_NET=m \
	CONFIG_VHOSTX_TEST=m VHOSTX_COVERAGE="$cov" -j"${JOBS:-$(nproc)}" modules
for m in drivers/vhostx/vhostx.ko drivers/vhostx/net/vhostx_net.ko \
	 drivers/vhostx/test/vhostx_test.ko; do
	[ -f "$tree/$m" ] || { say "$m was not built"; exit 1; }
done

# 3. userspace
make -s selftests
make -s -C tools/testing/fuzz OUTPUT="$repo/build/fuzz"
# The guided fuzzer's mutations, on the host (corpus_test: TAP).
make -s -C tools/testing/fuzz OUTPUT="$repo/build/fuzz" check >&2

# 4. the run
seed=${VX_FUZZ_SEED:-$(date +%Y%m%d)}
results=$out/results
t2=$(date +%s)
say "booting; fuzz ${VX_FUZZ_SECONDS:-600}s with seed $seed; results in $results"
# fuzz-compare: two runs per seed, plus boot and slack, may outlast 5400 s.
timeout=${VX_DEBUG_TIMEOUT:-5400}
if [ "${VX_FUZZ_COMPARE:-0}" = 1 ] && [ -z "${VX_DEBUG_TIMEOUT:-}" ]; then
	nseeds=$(echo ${VX_FUZZ_SEEDS:-1} | wc -w)
	timeout=$((900 + 2 * ${VX_FUZZ_SECONDS:-600} * nseeds))
	[ "$timeout" -ge 5400 ] || timeout=5400
fi
set +e
tools/testing/vm/vm-run --kernel "$cache/bzImage" --moddir "$cache/moddir" \
	--timeout "$timeout" --results "$results" \
	--log "$out/console.log" \
	--env VX_DEBUG_MODULES="$tree" \
	--env VX_FUZZ_SECONDS="${VX_FUZZ_SECONDS:-600}" \
	--env VX_FUZZ_SEED="$seed" \
	--env VX_FUZZ_COMPARE="${VX_FUZZ_COMPARE:-0}" \
	--env VX_FUZZ_SEEDS="${VX_FUZZ_SEEDS:-}" \
	--env VX_STRESS_SCALE="${VX_STRESS_SCALE:-1}" \
	--env VX_DEBUG_SELFTESTS="${VX_DEBUG_SELFTESTS:-}" \
	--env VX_DEBUG_STRICT="${VX_DEBUG_STRICT:-1}" \
	--env VX_TIMEOUT_SCALE="${VX_TIMEOUT_SCALE:-$scale}" \
	--env VX_KMEMLEAK="$kmemleak" \
	--env SELFTEST_TIMEOUT="${SELFTEST_TIMEOUT:-2400}" \
	-q -- "$here/guest-check.sh"
rc=$?
set -e
t3=$(date +%s)
[ ! -f "$results/summary.txt" ] || cat "$results/summary.txt" >&2
for f in "$results"/kmemleak-*.txt; do
	[ -s "$f" ] || continue
	say "kmemleak report in $f:"
	head -n 40 "$f" >&2
	[ "$rc" != 0 ] || rc=1
done
# Coverage: the suite alone, then everything (suite, fuzzer, reloads),
# held against the committed floor (tools/testing/coverage/floor).
if [ -n "$cov" ] && [ "${VX_FUZZ_COMPARE:-0}" != 1 ]; then
	cdir=$repo/build/coverage
	if [ -d "$results/gcov-suite" ]; then
		tools/testing/coverage/report.sh "$tree" "$results/gcov-suite" \
			"$cdir/suite" >/dev/null 2>&1 &&
			sed -n 's/^coverage: /coverage (suite alone): /p' "$cdir/suite/summary.txt" >&2
	fi
	# A subset of the suite (VX_DEBUG_SELFTESTS) is reported, not held
	# against the floor, which is the whole suite's.
	floor=tools/testing/coverage/floor
	[ -z "${VX_DEBUG_SELFTESTS:-}" ] || floor=
	if [ ! -d "$results/gcov" ]; then
		say "no coverage data came back from the guest"
		[ "$rc" != 0 ] || rc=1
	elif ! tools/testing/coverage/report.sh "$tree" "$results/gcov" "$cdir" \
		$floor >&2; then
		say "coverage below the floor in tools/testing/coverage/floor"
		[ "$rc" != 0 ] || rc=1
	fi
fi
say "kernel $((t1 - t0))s, modules+userspace $((t2 - t1))s, VM run $((t3 - t2))s, total $((t3 - t0))s"
if [ "$rc" != 0 ]; then
	say "FAILED (status $rc); console log: $out/console.log"
	exit "$rc"
fi
say "passed"
