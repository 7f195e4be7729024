#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# timed.sh FILE NAME COMMAND...: run COMMAND, then append "NAME SECONDS"
# to FILE (make check's step times).  Exits with COMMAND's status.
set -uo pipefail
file=$1 name=$2
shift 2
t0=$SECONDS
"$@"
rc=$?
mkdir -p "$(dirname "$file")"
echo "$name $((SECONDS - t0))s$([ "$rc" = 0 ] || echo " (exit $rc)")" >>"$file"
exit "$rc"
