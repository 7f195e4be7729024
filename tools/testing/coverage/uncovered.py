#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""List the lines of drivers/vhostx a coverage run did not reach.

usage: uncovered.py COVERAGE_INFO [TREE]

Reads an lcov tracefile (report.sh's coverage.info) and prints, per
source file, each run of consecutive unreached lines as

    file:first-last  function  | first source line of the run

where runs are split at function boundaries and blank or brace-only
lines between two unreached lines do not break a run.  With TREE the
source text is read from there (the paths in the tracefile are used
otherwise).  The last line counts the unreached lines and runs.  The
list is what Documentation/vhostx/testing.rst, "What the tests do not
reach", explains.
"""
import os
import sys


def parse(path):
    files = {}
    cur = None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("SF:"):
                cur = {"lines": {}, "fns": []}
                files[line[3:]] = cur
            elif line.startswith("FN:") and cur is not None:
                start, name = line[3:].split(",", 1)
                cur["fns"].append((int(start), name))
            elif line.startswith("DA:") and cur is not None:
                ln, cnt = line[3:].split(",")[:2]
                cur["lines"][int(ln)] = int(cnt)
    return files


def func_of(fns, ln):
    best = "?"
    for start, name in sorted(fns):
        if start <= ln:
            best = name
    return best


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    info = sys.argv[1]
    tree = sys.argv[2] if len(sys.argv) > 2 else None
    files = parse(info)
    total_lines = total_runs = 0
    for sf in sorted(files):
        rel = sf
        i = sf.find("drivers/vhostx/")
        if i >= 0:
            rel = sf[i:]
        src = os.path.join(tree, rel) if tree else sf
        try:
            with open(src) as f:
                text = f.read().split("\n")
        except OSError:
            text = []
        d = files[sf]
        missed = sorted(ln for ln, c in d["lines"].items() if c == 0)
        runs = []
        for ln in missed:
            fn = func_of(d["fns"], ln)
            if runs and runs[-1][2] == fn:
                last = runs[-1][1]
                # Only non-executable lines (no DA record) in between.
                if all(k not in d["lines"] for k in range(last + 1, ln)):
                    runs[-1][1] = ln
                    runs[-1][3] += 1
                    continue
            runs.append([ln, ln, fn, 1])
        for first, last, fn, n in runs:
            code = text[first - 1].strip() if first <= len(text) else ""
            span = f"{first}" if first == last else f"{first}-{last}"
            print(f"{rel}:{span}  {fn}  | {code}")
            total_lines += n
            total_runs += 1
    print(f"uncovered: {total_lines} lines in {total_runs} runs")


if __name__ == "__main__":
    main()
