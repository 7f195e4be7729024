#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise the upstream virtio_test runs of tools/bench/ring/guest.sh.

usage: report.py RESULTS_DIR

Reads RESULTS_DIR/results.jsonl (one object per virtio_test run) and
env.txt, writes RESULTS_DIR/table.rst (also printed) and summary.json.

Per variant: each device's run time, median (min..max) over rounds, and
the speed ratio vhost_test time / vhostx_test time computed per round
(the two runs of a round ran back to back, alternating which went
first), median (min..max): above 1.0 vhostx is faster.  The verdict
after the ratio is "+" when every round had vhostx faster, "-" when every
round had it slower, "~" otherwise.  Per buffer (virtio_test moves
1,048,576 one-descriptor buffers per run): the driver's (virtio_test's)
CPU time and the machine's busy CPU time; with --icount (one CPU, the run's
time is its busy time) the busy time less the driver's is the device
worker's (and the kernel's) share; and how many times a task was given
a CPU (slices, from /proc/schedstat).
"""
import json
import os
import statistics
import sys

DEVS = ("vhost", "vhostx")
NAME = {"vhost": "vhost_test", "vhostx": "vhostx_test"}
ORDER = ["none", "no-event-idx", "no-indirect", "no-virtio-1",
         "delayed-interrupt", "batch=random"]


def rst_table(head, rows):
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    sep = "  ".join("=" * n for n in w)
    line = lambda r: "  ".join(str(x).ljust(n) for x, n in zip(r, w)).rstrip()
    return "\n".join([sep, line(head), sep] + [line(r) for r in rows] + [sep])


def spread(xs, f="{:.2f}"):
    if not xs:
        return "-"
    return (f.format(statistics.median(xs)) + " (" + f.format(min(xs)) +
            ".." + f.format(max(xs)) + ")")


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "build/bench/ring"
    path = os.path.join(d, "results.jsonl")
    if not os.path.exists(path):
        sys.exit(f"report.py: {path} missing")
    runs = [json.loads(ln) for ln in open(path) if ln.strip()]
    bad = [r for r in runs if r["rc"] != 0]
    runs = [r for r in runs if r["rc"] == 0]
    variants = sorted({r["variant"] for r in runs},
                      key=lambda v: (ORDER.index(v) if v in ORDER else 99, v))
    by = {}
    for r in runs:
        by.setdefault((r["variant"], r["dev"]), {})[r["round"]] = r

    out = []
    env = os.path.join(d, "env.txt")
    if os.path.exists(env):
        out.append("::\n")
        out += ["  " + ln.rstrip() for ln in open(env)]
        out.append("")
    nrounds = len({r["round"] for r in runs})
    out.append(f"upstream tools/virtio/virtio_test, {nrounds} rounds; each "
               "round runs the two devices back to back, alternating which "
               "goes first.  Times: median (min..max) over rounds; ratio: "
               "vhost_test time / vhostx_test time per round, above 1.0 "
               "vhostx is faster.\n")
    head = ["virtio_test option", "vhost_test s", "vhostx_test s", "ratio",
            "busy us/buf", "driver us/buf", "worker us/buf", "slices/buf"]
    rows = []
    summary = {"rounds": nrounds, "variants": []}
    for v in variants:
        a, b = by.get((v, "vhost"), {}), by.get((v, "vhostx"), {})
        rs = [a[k]["seconds"] / b[k]["seconds"] for k in a if k in b]
        ta = [x["seconds"] for x in a.values()]
        tb = [x["seconds"] for x in b.values()]
        verdict = ""
        if rs:
            verdict = " +" if min(rs) > 1 else (" -" if max(rs) < 1 else " ~")

        def per_buf(runs, key, scale):
            xs = [x[key] * scale / x["completed"] for x in runs.values()
                  if key in x and x.get("completed")]
            return statistics.median(xs) if xs else None

        def pair(key, scale, f):
            vals = [per_buf(a, key, scale), per_buf(b, key, scale)]
            return " / ".join("-" if x is None else f.format(x) for x in vals)
        rows.append([v if v != "none" else "(none)", spread(ta), spread(tb),
                     spread(rs) + verdict,
                     pair("busy_ms", 1000, "{:.2f}"),
                     pair("drv_ms", 1000, "{:.2f}"),
                     pair("wk_ms", 1000, "{:.2f}"),
                     pair("slices", 1, "{:.3f}")])
        summary["variants"].append({
            "variant": v,
            "vhost_test_s": ta, "vhostx_test_s": tb, "ratios": rs,
            "ratio_median": statistics.median(rs) if rs else None,
            "ratio_min": min(rs) if rs else None,
            "ratio_max": max(rs) if rs else None,
            "busy_us_per_buf": [per_buf(x, "busy_ms", 1000) for x in (a, b)],
            "worker_us_per_buf": [per_buf(x, "wk_ms", 1000) for x in (a, b)],
            "driver_us_per_buf": [per_buf(x, "drv_ms", 1000) for x in (a, b)],
            "slices_per_buf": [per_buf(x, "slices", 1) for x in (a, b)],
        })
    out.append(rst_table(head, rows) + "\n")
    out.append("busy, driver, worker us/buf: vhost_test / vhostx_test, "
               "median over rounds; worker (busy less driver) only with "
               "one CPU (--icount).  slices/buf: times a task was given a "
               "CPU, per buffer (/proc/schedstat): with two CPUs about "
               "twice the worker's sleeps, which decide the run's time.\n")
    if bad:
        out.append(f"{len(bad)} runs failed (not counted): " +
                   ", ".join(f"{r['dev']} {r['variant']} round {r['round']}"
                             for r in bad) + "\n")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(d, "table.rst"), "w") as f:
        f.write(text)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
