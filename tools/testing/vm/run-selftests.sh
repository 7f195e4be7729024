#!/bin/bash
# Run inside the vm-run guest: run every executable in build/selftests/
# (or the directory given as $1), each printing kselftest TAP, and end with
# exactly one line "N passed, M failed, K skipped".  Exits non-zero if a
# test failed, a binary exited non-zero or printed no TAP result, or a
# test skipped for a reason tools/testing/selftests/vhostx/expected-skips
# (or $VX_EXPECTED_SKIPS) does not list: each such skip is named and
# counted as a failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
dir=${1:-build/selftests}
# Per-binary limit, so one hung test can't eat the whole VM timeout.
limit=${SELFTEST_TIMEOUT:-900}
expected=${VX_EXPECTED_SKIPS:-tools/testing/selftests/vhostx/expected-skips}
kernel=$(uname -r)

# Entries of the expected-skips list: program, test, kernel, reason.
exp_prog=() exp_test=() exp_kern=() exp_why=()
if [ -r "$expected" ]; then
	while read -r p t k why; do
		case $p in ''|'#'*) continue ;; esac
		exp_prog+=("$p") exp_test+=("$t") exp_kern+=("$k") exp_why+=("$why")
	done <"$expected"
else
	echo "# run-selftests: no expected-skips list at $expected: every skip fails"
fi

# Is skip ($1 program, $2 test, $3 reason) on the list?  Patterns unquoted.
skip_expected() {
	local i
	for i in "${!exp_prog[@]}"; do
		# shellcheck disable=SC2053
		[[ $1 == ${exp_prog[i]} && $2 == ${exp_test[i]} &&
		   $kernel == ${exp_kern[i]} && $3 == ${exp_why[i]} ]] && return 0
	done
	return 1
}

# The skips in a program's output, one "test<TAB>reason" a line: a test's
# name is on the harness's "#  RUN" line before its result.
list_skips() {
	awk '/^# +RUN +/ { name = $3 }
	     /^(not )?ok [0-9]+ .*# *SKIP/ {
		why = $0; sub(/^[^#]*# *SKIP */, "", why)
		print name "\t" why; name = "-" }
	     /^1\.\.0 .*# *SKIP/ {
		why = $0; sub(/^[^#]*# *SKIP */, "", why); print "-\t" why }' "$1"
}

pass=0 fail=0 skip=0 bad=()
log=$(mktemp)
for t in $(find "$dir" -maxdepth 1 -type f -perm -u+x | sort); do
	echo "# selftest: $t"
	timeout -k 10 "$limit" "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# Top-level TAP results only (indented subtest lines are summed up
	# by their parent's line); "# SKIP" results count as skipped.
	ok=$(grep -Ec '^ok [0-9]+' "$log")
	nok=$(grep -Ec '^not ok [0-9]+' "$log")
	sk=$(grep -Ec '^(not )?ok [0-9]+.*# *SKIP' "$log")
	nsk=$(grep -Ec '^not ok [0-9]+.*# *SKIP' "$log")
	pass=$((pass + ok - (sk - nsk))) fail=$((fail + nok - nsk)) skip=$((skip + sk))
	if [ $((ok + nok)) -eq 0 ]; then
		# "1..0 # SKIP reason" or exit status 4 (KSFT_SKIP): all skipped.
		if grep -Eq '^1\.\.0 .*# *SKIP' "$log" || [ "$rc" = 4 ]; then
			skip=$((skip + 1))
		else
			bad+=("$t: no TAP result, exit status $rc")
		fi
	elif [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ $((nok - nsk)) -eq 0 ]; then
		bad+=("$t: exit status $rc although no test failed")
	fi
	prog=$(basename "$t")
	skips=$(list_skips "$log")
	if [ $((ok + nok)) -eq 0 ] && [ "$rc" = 4 ] && [ -z "$skips" ]; then
		skips=$(printf -- '-\t(exit status 4)')
	fi
	while IFS=$'\t' read -r name why; do
		[ -n "$why" ] || continue
		skip_expected "$prog" "$name" "$why" ||
			bad+=("unexpected skip: $prog $name: $why")
	done <<<"$skips"
done
rm -f "$log"
# An empty run (nothing built, wrong directory) is a failure, not a pass.
[ $((pass + fail + skip)) -gt 0 ] || bad+=("$dir: no selftest ran")
for b in ${bad[@]+"${bad[@]}"}; do echo "# run-selftests: FAIL $b"; done
fail=$((fail + ${#bad[@]}))
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
