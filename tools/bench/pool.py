#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Pool several vhostx-bench runs: ratios of back-to-back pairs.

usage: pool.py RUN [RUN ...]

RUN is a results directory (with results.json) or a results.json file,
e.g. copies of build/bench/ kept between `make bench` runs.  For every
test and backend, each pair of cells (vhostx and vhost-net run back to
back in the same round) gives one ratio; the table shows, over all pairs
of all runs, their median, the 95 % interval of that median (bootstrap,
2000 resamples, fixed seed) and the share of pairs in which vhostx was
better.  The min..max over rounds that report.py prints only widens as
rounds are added; this interval narrows, but treats pairs as
independent, which pairs of one run (same host load) are not quite: read
an interval that barely excludes 1.0 as parity.  Throughput: packets/s ratio,
higher is better; latency: ratio of the cells' median round trips, lower
is better.
"""
import json
import os
import random
import statistics
import sys

from report import BASE, TESTS


def load(path):
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    with open(path) as f:
        return json.load(f)["samples"]


def figure(s):
    if s["test"].startswith("lat"):
        return (s.get("lat_us") or {}).get("median")
    return s.get("pps")


def pairs(runs):
    """{(test, backend): [ratio, ...]} over every run."""
    out = {}
    for samples in runs:
        cells = {}
        for s in samples:
            if "error" in s:
                continue
            block = s.get("block", "main")
            cells[(s["test"], block, s["round"], s.get("rep", 0),
                   s["backend"])] = s
        for (t, block, rnd, rep, be), s in cells.items():
            if be == BASE:
                continue
            base = cells.get((t, block, rnd, rep, BASE))
            if not base:
                continue
            a, b = figure(s), figure(base)
            if a and b:
                out.setdefault((t, be), []).append(a / b)
    return out


def interval(xs, rng):
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs)))
                  for _ in range(2000))
    return meds[50], meds[1949]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = [load(p) for p in sys.argv[1:]]
    by = pairs(runs)
    rng = random.Random(20261121)
    head = ["test", "backend", "pairs", "median ratio", "95 % interval",
            "vhostx better"]
    rows = []
    for t in TESTS:
        for be in ("vhostx", "vhostx-zc"):
            xs = by.get((t, be))
            if not xs:
                continue
            lo, hi = interval(xs, rng)
            lat = t.startswith("lat")
            better = sum(1 for x in xs if (x < 1 if lat else x > 1))
            rows.append([t, be, str(len(xs)),
                         f"{statistics.median(xs):.3f}",
                         f"{lo:.3f}..{hi:.3f}",
                         f"{100 * better / len(xs):.0f} %"])
    w = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    line = "  ".join("=" * x for x in w)
    print(f"{len(runs)} runs pooled; ratios vhostx / vhost-net per pair "
          "(latency: lower is better)\n")
    print(line)
    print("  ".join(h.ljust(x) for h, x in zip(head, w)))
    print(line)
    for r in rows:
        print("  ".join(c.ljust(x) for c, x in zip(r, w)))
    print(line)


if __name__ == "__main__":
    main()
