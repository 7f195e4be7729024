#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# report.sh TREE GCDA_DIR OUT [FLOOR]: line and branch coverage of a
# vhostx build from the .gcda files a guest copied out of
# /sys/kernel/debug/gcov.
#   TREE      the build tree (sources and .gcno files, built with
#             VHOSTX_COVERAGE=y against a CONFIG_GCOV_KERNEL kernel)
#   GCDA_DIR  the guest's copy of /sys/kernel/debug/gcov (the .gcda files
#             under the tree's own absolute path)
#   OUT       where coverage.info, summary.txt, uncovered.txt (every run of
#             unreached lines, uncovered.py) and html/ go
#   FLOOR     optional file of "module percent" lines (core, net): exit 1
#             if a module's line coverage is below its floor
# Prints a per-file table (lines and branches hit/found) and a line per
# module (core: drivers/vhostx/*.c, net: drivers/vhostx/net/, test:
# drivers/vhostx/test/).  Needs lcov (tools/setup.sh --debug-kernel).
set -euo pipefail

tree=$(cd "$1" && pwd) gcda=$2 out=$3 floor=${4:-}
say() { echo "coverage: $*" >&2; }

mkdir -p "$out"
rm -rf "$out/html" "$out/coverage.info" "$out/all.info"
src=$gcda$tree
[ -d "$src" ] || { say "no .gcda files for $tree in $gcda"; exit 1; }
n=0
while IFS= read -r f; do
	cp "$src/$f" "$tree/$f"
	n=$((n + 1))
done < <(cd "$src" && find . -name '*.gcda')
[ "$n" -gt 0 ] || { say "no .gcda files in $src"; exit 1; }

gcov_tool=$(command -v "gcov-$(gcc -dumpversion | cut -d. -f1)" || command -v gcov)
lcov -q --rc lcov_branch_coverage=1 --gcov-tool "$gcov_tool" --capture \
	--directory "$tree/drivers" --base-directory "$tree" -o "$out/all.info" 2>"$out/lcov.log" || {
	tail -n 20 "$out/lcov.log" >&2
	say "lcov --capture failed"
	exit 1
}
lcov -q --rc lcov_branch_coverage=1 --extract "$out/all.info" "$tree/drivers/vhostx/*" \
	-o "$out/coverage.info" 2>>"$out/lcov.log"
genhtml -q --rc genhtml_branch_coverage=1 --prefix "$tree" \
	-o "$out/html" "$out/coverage.info" >>"$out/lcov.log" 2>&1 ||
	say "genhtml failed (see $out/lcov.log); the text summary stands"

# SF/LF/LH/BRF/BRH records of the .info file -> the tables.
awk -v tree="$tree/" -v floorfile="$floor" '
function pct(h, f) { return f ? sprintf("%5.1f %%", 100 * h / f) : "    - " }
function mod(file) {
	if (file ~ /^drivers\/vhostx\/net\//) return "net"
	if (file ~ /^drivers\/vhostx\/test\//) return "test"
	return "core"
}
/^SF:/	{ f = substr($0, 4); sub("^" tree, "", f); lf = lh = brf = brh = 0 }
/^LF:/	{ lf = substr($0, 4) }
/^LH:/	{ lh = substr($0, 4) }
/^BRF:/	{ brf = substr($0, 5) }
/^BRH:/	{ brh = substr($0, 5) }
/^end_of_record/ {
	if (f !~ /\.c$/) next	# headers are counted where they are inlined
	files[++nf] = f; L[f] = lf; LH[f] = lh; B[f] = brf; BH[f] = brh
	m = mod(f); ML[m] += lf; MLH[m] += lh; MB[m] += brf; MBH[m] += brh
}
END {
	printf "%-34s %8s %13s %8s %13s\n", "file", "lines", "", "branches", ""
	for (i = 1; i <= nf; i++) {
		f = files[i]
		printf "%-34s %8s %6d/%-6d %8s %6d/%-6d\n", f, pct(LH[f], L[f]), LH[f], L[f],
			pct(BH[f], B[f]), BH[f], B[f]
	}
	if (floorfile != "")
		while ((getline l < floorfile) > 0)
			if (l !~ /^#/ && split(l, a) == 2) fl[a[1]] = a[2]
	bad = 0
	split("core net test", ms)
	for (i = 1; i <= 3; i++) {
		m = ms[i]
		if (!ML[m]) continue
		lp = 100 * MLH[m] / ML[m]
		printf "coverage: %-4s lines %s (%d/%d), branches %s (%d/%d)", m,
			pct(MLH[m], ML[m]), MLH[m], ML[m], pct(MBH[m], MB[m]), MBH[m], MB[m]
		if (m in fl) {
			printf ", floor %s %%%s", fl[m], lp < fl[m] ? ": BELOW" : ""
			if (lp < fl[m]) bad = 1
		}
		printf "\n"
	}
	exit bad
}' "$out/coverage.info" | tee "$out/summary.txt"
rc=${PIPESTATUS[0]}
python3 "$(dirname "$0")/uncovered.py" "$out/coverage.info" "$tree" > "$out/uncovered.txt"
say "$(tail -n 1 "$out/uncovered.txt"), listed in $out/uncovered.txt"
say "HTML in $out/html/index.html"
exit "$rc"
