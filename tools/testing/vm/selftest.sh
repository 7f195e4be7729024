#!/bin/bash
# Self-test of the VM runner (make vm-selftest):
#  1. a clean command's status propagates (exit 3 -> runner exits 3);
#  2. a module whose init does WARN_ON(1) makes the run fail although the
#     command succeeds, and the runner names the WARNING;
#  3. an Oops (NULL dereference in a module's init) ends the run at once
#     (oops=panic) and fails it, naming the Oops;
#  4. a hung command is killed at the timeout and the runner exits 124;
#  5. --icount without --smp 1 is refused (usage error, no guest), and
#     with --smp 1 the instruction-counting guest boots and runs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
KDIR=${KDIR:-$(ls -dv /usr/src/linux-headers-*-amd64 | tail -n1)}
export KDIR
mkdir -p "$repo/build/vm/selftest"
out=$(mktemp -d "$repo/build/vm/selftest/run.XXXXXX")   # parallel runs are fine
fails=0
check() {  # check NAME CONDITION-RESULT
	if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1"; fails=$((fails + 1)); fi
}

# Build the module out of the source tree (keeps it free of build output).
cp -r "$here/selftest-warn" "$out/warn"
make -s -C "$KDIR" M="$out/warn" modules 2>&1 | grep -v 'Skipping BTF' || true
[ -f "$out/warn/vmrun_warn.ko" ] || { echo "not ok - build vmrun_warn.ko"; exit 1; }

set +e
"$here/vm-run" -q --timeout 300 --results "$out/status" -- sh -c 'exit 3'
rc=$?
check "command status propagates (got $rc, want 3)" $([ "$rc" = 3 ]; echo $?)

"$here/vm-run" -q --timeout 300 --results "$out/warn-run" -- \
	insmod "$out/warn/vmrun_warn.ko" 2> "$out/warn-run.stderr"
rc=$?
cat "$out/warn-run.stderr"
check "WARN_ON at module load fails the run (got $rc, want 120)" $([ "$rc" = 120 ]; echo $?)
grep -q 'WARNING: CPU' "$out/warn-run.stderr"
check "runner names the WARNING" $?
grep -q '^0$' "$out/warn-run/status"
check "insmod itself succeeded in the guest" $?

"$here/vm-run" -q --timeout 300 --results "$out/oops-run" -- \
	sh -c "insmod $out/warn/vmrun_warn.ko oops=1; sleep 600" 2> "$out/oops-run.stderr"
rc=$?
check "Oops fails the run (got $rc, want 120)" $([ "$rc" = 120 ]; echo $?)
grep -q 'Oops' "$out/oops-run.stderr"
check "runner names the Oops" $?
grep -q 'timeout after' "$out/oops-run.stderr"
check "Oops ends the run before the timeout" $((1 - $?))

start=$(date +%s)
"$here/vm-run" -q --timeout 30 --results "$out/timeout" -- sleep 600 2>/dev/null
rc=$?
check "hung command killed at the timeout (got $rc after $(( $(date +%s) - start ))s, want 124)" \
	$([ "$rc" = 124 ]; echo $?)

"$here/vm-run" -q --icount --timeout 60 --results "$out/icount-bad" -- true 2> "$out/icount-bad.stderr"
rc=$?
check "--icount without --smp 1 refused (got $rc, want 2)" $([ "$rc" = 2 ]; echo $?)
grep -q -- '--icount needs --smp 1' "$out/icount-bad.stderr"
check "runner says why" $?

"$here/vm-run" -q --smp 1 --icount --timeout 300 --results "$out/icount" -- sh -c 'exit 3'
rc=$?
check "--smp 1 --icount guest runs the command (got $rc, want 3)" $([ "$rc" = 3 ]; echo $?)
set -e
[ "$fails" = 0 ] && echo "vm-run self-test passed" || echo "vm-run self-test FAILED"
[ "$fails" = 0 ]
