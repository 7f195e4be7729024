#!/bin/bash
# Run inside the vm-run guest: run every executable in build/selftests/
# (or the directory given as $1), each printing kselftest TAP, and end with
# exactly one line "N passed, M failed, K skipped".  Exits non-zero if a
# test failed, or a binary exited non-zero or printed no TAP result.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
dir=${1:-build/selftests}
# Per-binary limit, so one hung test can't eat the whole VM timeout.
limit=${SELFTEST_TIMEOUT:-900}

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
done
rm -f "$log"
# An empty run (nothing built, wrong directory) is a failure, not a pass.
[ $((pass + fail + skip)) -gt 0 ] || bad+=("$dir: no selftest ran")
for b in ${bad[@]+"${bad[@]}"}; do echo "# run-selftests: FAIL $b"; done
fail=$((fail + ${#bad[@]}))
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
