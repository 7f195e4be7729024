#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise vhostx-bench results: tables (text/RST) and a PNG chart.

usage: report.py RESULTS_DIR

Reads RESULTS_DIR/results.json (and env.txt if present), writes
RESULTS_DIR/table.rst (the tables, reStructuredText, also printed),
RESULTS_DIR/summary.json (the medians and ratios) and, if gnuplot is
installed, RESULTS_DIR/bench.png.

Every ratio is vhostx / vhost-net computed per round (the two cells of a
round ran back to back; each test runs several such pairs per round,
alternating which backend goes first, and a round's figure is the mean
over its pairs), then summarised as the median over rounds with the
min..max spread.  Throughput: higher is better; worker CPU per packet
and latency: lower is better.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

BASE = "vhost-net"
# vhostx debugfs counters shown per packet in the work table.
VX_WORK = ("kicks", "runs", "calls", "batches", "yields", "spins",
           "spin_hits", "drops")
THROUGHPUT = ["tx64", "tx1500", "txgso", "rx64", "rx1500", "tx64_io",
              "rx64_io", "tx64_pk", "tx1500_pk", "txgso_pk", "rx64_pk",
              "rx1500_pk"]
LATENCY = ["lat", "lat_bp", "lat_poll", "lat_pk"]
TESTS = THROUGHPUT + LATENCY
LABEL = {
    "tx64": "TX 64 B", "tx1500": "TX 1514 B", "txgso": "TX 64 KiB GSO",
    "rx64": "RX 64 B", "rx1500": "RX 1514 B",
    # In order where the backend offers it (vhost-net: 6.17 on).
    "tx64_io": "TX 64 B in-order", "rx64_io": "RX 64 B in-order",
    # Packed where the backend offers it (no vhost-net: split there).
    "tx64_pk": "TX 64 B packed", "tx1500_pk": "TX 1514 B packed",
    "txgso_pk": "TX 64 KiB GSO packed", "rx64_pk": "RX 64 B packed",
    "rx1500_pk": "RX 1514 B packed", "lat_pk": "RTT packed",
    "lat": "RTT", "lat_bp": "RTT busy-poll",
    "lat_poll": "RTT polling guest",
}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def get(s, path):
    for k in path.split("."):
        if not isinstance(s, dict) or k not in s:
            return None
        s = s[k]
    return s


def fmt(v, unit=""):
    if v is None:
        return "-"
    a = abs(v)
    if unit == "pps":
        return f"{v / 1e6:.3f} M" if a >= 1e6 else f"{v / 1e3:.1f} k"
    if unit == "bps":
        return f"{v / 1e9:.2f} G" if a >= 1e9 else f"{v / 1e6:.0f} M"
    if unit == "ns":
        return f"{v / 1e3:.1f} us" if a >= 1e4 else f"{v:.0f} ns"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def merge(ss):
    """One sample from several cells: the mean of every number."""
    if len(ss) == 1:
        return ss[0]
    out = {}
    for k, v in ss[0].items():
        vs = [x.get(k) for x in ss]
        if isinstance(v, dict):
            out[k] = merge([x for x in vs if isinstance(x, dict)])
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            nums = [x for x in vs if isinstance(x, (int, float))]
            out[k] = sum(nums) / len(nums)
        else:
            out[k] = v
    return out


def rst_table(head, rows):
    cols = list(zip(*([head] + rows)))
    w = [max(len(str(c)) for c in col) for col in cols]
    line = "  ".join("=" * x for x in w)
    out = [line, "  ".join(str(h).ljust(x) for h, x in zip(head, w)), line]
    for r in rows:
        out.append("  ".join(str(c).ljust(x) for c, x in zip(r, w)))
    out.append(line)
    return "\n".join(out)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
    res = json.load(open(os.path.join(d, "results.json")))
    meta = res["meta"]
    samples = [s for s in res["samples"] if "error" not in s]
    errors = [s for s in res["samples"] if "error" in s]
    reps = {}
    for s in samples:
        be = s["backend"]
        if be == BASE and s.get("block") == "zc":
            be = BASE + "@zc"  # paired with vhostx-zc in the same round
        reps.setdefault((s["test"], be), {}).setdefault(s["round"], []) \
            .append(s)
    # Every test runs several pairs of cells per round: a round's
    # figure is the mean of its pairs' figures.
    by = {k: {r: merge(ss) for r, ss in v.items()} for k, v in reps.items()}
    backends = [b for b in ("vhostx", "vhostx-zc")
                if any(k[1] == b for k in by)]

    def values(test, be, path):
        return {r: get(s, path) for r, s in by.get((test, be), {}).items()}

    def ratio(test, be, path):
        """median and min..max over rounds of be/vhost-net."""
        base = BASE + "@zc" if be == "vhostx-zc" else BASE
        a, b = values(test, be, path), values(test, base, path)
        rs = [a[r] / b[r] for r in a
              if r in b and a[r] is not None and b[r]]
        if not rs:
            return None
        return (statistics.median(rs), min(rs), max(rs), len(rs))

    def rfmt(r, higher_better=True):
        """median (min..max), then a verdict that holds in every round."""
        if not r:
            return "-"
        if r[1] > 1:
            v = "+" if higher_better else "-"
        elif r[2] < 1:
            v = "-" if higher_better else "+"
        else:
            v = "~"
        return f"{r[0]:.2f} ({r[1]:.2f}..{r[2]:.2f}) {v}"

    summary = {"meta": meta, "rows": []}
    out = []
    env = os.path.join(d, "env.txt")
    envtext = open(env).read() if os.path.exists(env) else ""
    meta["icount"] = "-icount" in envtext
    m = re.search(r"^preempt: .*\((\w+)\)", envtext, re.M)
    meta["preempt"] = m.group(1) if m else None
    if envtext:
        out.append("::\n")
        out += ["  " + ln.rstrip() for ln in envtext.splitlines()]
        out.append("")
    burst = meta.get("rx_burst", 0)
    rxdesc = (f"RX: bursts of {burst} frames queued on the tap, then "
              "drained by the backend" if burst else
              f"RX: streamed from {meta.get('rx_source')}")
    nrep = meta.get("reps", 1)
    # Runs before TX reps (no "tx_reps" key) had one TX pair per round.
    txrep = nrep if meta.get("tx_reps") else 1
    repdesc = (f"{nrep} pairs of cells per round (TX: {txrep}), "
               "alternating which backend goes first, TX and latency "
               f"cells {meta['seconds'] / nrep:g} s each, "
               if nrep > 1 else "")
    out.append(f"{meta['rounds']} rounds x {meta['seconds']} s per "
               "backend and test, "
               f"{repdesc}"
               f"ring {meta['ring']}, {rxdesc}, "
               f"busy-poll timeout {meta['busyloop_us']} us. "
               "Ratios are vhostx / vhost-net per round: median "
               "(min..max).\n")

    # Throughput and CPU per packet.
    head = ["test", "backend", "pps", "bit/s", "worker/pkt", "driver/pkt",
            "pps ratio", "worker/pkt ratio"]
    rows = []
    for t in THROUGHPUT:
        if (t, BASE) not in by:
            continue
        for be in [BASE] + backends:
            if (t, be) not in by:
                continue
            pps = med(values(t, be, "pps").values())
            bps = med(values(t, be, "bps").values())
            cpu = med(values(t, be, "worker_ns_per_pkt").values())
            drv = med(values(t, be, "driver_ns_per_pkt").values())
            rp = ratio(t, be, "pps") if be != BASE else None
            rc = ratio(t, be, "worker_ns_per_pkt") if be != BASE else None
            rows.append([LABEL[t], be, fmt(pps, "pps"),
                         fmt(bps, "bps"), fmt(cpu, "ns"), fmt(drv, "ns"),
                         rfmt(rp) if be != BASE else "",
                         rfmt(rc, False) if be != BASE else ""])
            summary["rows"].append({"test": t, "backend": be, "pps": pps,
                                    "bps": bps, "worker_ns_per_pkt": cpu,
                                    "driver_ns_per_pkt": drv,
                                    "pps_ratio": rp, "cpu_ratio": rc})
    if rows:
        out.append("Throughput (median over rounds)\n")
        out.append(rst_table(head, rows) + "\n")

    # Latency.
    head = ["test", "backend", "median", "p99", "worker/rt",
            "median ratio", "p99 ratio"]
    rows = []
    for t in LATENCY:
        if (t, BASE) not in by:
            continue
        for be in [BASE] + [b for b in backends if b != "vhostx-zc"]:
            if (t, be) not in by:
                continue
            m = med(values(t, be, "lat_us.median").values())
            p = med(values(t, be, "lat_us.p99").values())
            cpu = med(values(t, be, "worker_ns_per_pkt").values())
            rm = ratio(t, be, "lat_us.median") if be != BASE else None
            rp = ratio(t, be, "lat_us.p99") if be != BASE else None
            rows.append([LABEL[t], be,
                         fmt(m * 1e3 if m else None, "ns"),
                         fmt(p * 1e3 if p else None, "ns"), fmt(cpu, "ns"),
                         rfmt(rm, False) if be != BASE else "",
                         rfmt(rp, False) if be != BASE else ""])
            summary["rows"].append({"test": t, "backend": be,
                                    "median_us": m, "p99_us": p,
                                    "worker_ns_per_rt": cpu,
                                    "median_ratio": rm, "p99_ratio": rp})
    if rows:
        out.append("Round-trip latency, one packet in flight "
                   "(median over rounds of each cell's median / p99)\n")
        out.append(rst_table(head, rows) + "\n")

    # Work per packet.
    head = ["test", "backend", "kicks", "calls", "wakeups",
            "vx kicks", "vx runs", "vx calls", "vx batches", "vx yields",
            "vx spins", "vx spin hits", "drops"]
    rows = []
    for t in TESTS:
        for be in [BASE] + backends:
            if (t, be) not in by:
                continue
            q = "rx" if t.startswith("rx") else "tx"

            def per(path, scale_by_pkts=True):
                vs = []
                for s in by[(t, be)].values():
                    v, n = get(s, path), s.get("packets") or 0
                    if v is not None and n:
                        vs.append(v / n)
                return med(vs)
            # Kicks and calls the guest driver saw: for latency both
            # queues count (one TX kick and one RX call per round trip).
            if t.startswith("lat"):
                kicks = med([(s["kicks_tx"] + s["kicks_rx"]) / s["packets"]
                             for s in by[(t, be)].values() if s["packets"]])
                calls = med([(s["calls_tx"] + s["calls_rx"]) / s["packets"]
                             for s in by[(t, be)].values() if s["packets"]])
                vx = {k: med([((get(s, f"vhostx.tx.{k}") or 0) +
                               (get(s, f"vhostx.rx.{k}") or 0)) /
                              s["packets"] for s in by[(t, be)].values()
                              if s["packets"] and "vhostx" in s])
                      for k in VX_WORK}
            else:
                kicks = per(f"kicks_{q}")
                calls = per(f"calls_{q}")
                vx = {k: per(f"vhostx.{q}.{k}") for k in VX_WORK}
            wake = per("worker_sleeps_per_pkt")
            # worker_sleeps_per_pkt is already per packet
            wake = med([s.get("worker_sleeps_per_pkt")
                        for s in by[(t, be)].values()])
            drops = vx["drops"]
            if drops is None and t.startswith("rx"):
                drops = None
            rows.append([LABEL[t], be, fmt(kicks),
                         fmt(calls), fmt(wake), fmt(vx["kicks"]),
                         fmt(vx["runs"]), fmt(vx["calls"]),
                         fmt(vx["batches"]), fmt(vx["yields"]),
                         fmt(vx["spins"]), fmt(vx["spin_hits"]),
                         fmt(drops)])
    if rows:
        out.append("Work per packet (per round trip for RTT), median over "
                   "rounds.  kicks/calls: what the guest driver sent and "
                   "received; wakeups: the worker thread's voluntary "
                   "context switches; vx: vhostx debugfs counters of "
                   "the queue (both queues for RTT); spins: busy-poll "
                   "spins, spin hits: those that found work\n")
        out.append(rst_table(head, rows) + "\n")

    # Saturation check for RX.
    rows = []
    for t in ("rx64", "rx1500", "rx64_io", "rx64_pk", "rx1500_pk"):
        for be in [BASE] + backends:
            if (t, be) not in by:
                continue
            ss = list(by[(t, be)].values())
            if burst:
                rows.append([LABEL[t], be,
                             fmt(med([s["injected"] for s in ss]), ""),
                             f"{med([s['seconds'] for s in ss]):.3f} s"])
                continue
            off = med([s["injected"] / s["seconds"] for s in ss])
            dr = med([s["tap_tx_dropped"] / max(1, s["injected"])
                      for s in ss])
            rows.append([LABEL[t], be,
                         fmt(off, "pps"), f"{100 * dr:.0f} %"])
    if rows:
        if burst:
            note = ("RX bursts: frames queued on the tap before the "
                    "backend was attached, and the time it took to move "
                    "them all into the guest ring (the backend is the "
                    "bottleneck by construction)")
            cols = ["queued", "drain time"]
        else:
            note = ("RX source: frames offered to the tap per second, and "
                    "the share tun dropped because its ring was full (the "
                    "backend was the bottleneck when this is well above "
                    "0)")
            cols = ["offered", "tun drops"]
        out.append(note + "\n")
        out.append(rst_table(["test", "backend"] + cols, rows) + "\n")
    if errors:
        out.append("Failed cells: " + ", ".join(
            f"{s['test']}/{s['backend']}/r{s['round']}: {s['error']}"
            for s in errors) + "\n")

    text = "\n".join(out)
    open(os.path.join(d, "table.rst"), "w").write(text + "\n")
    json.dump(summary, open(os.path.join(d, "summary.json"), "w"), indent=1)
    print(text)
    chart(d, meta, by, backends, ratio)


def chart(d, meta, by, backends, ratio):
    gp = shutil.which("gnuplot")
    if not gp:
        print("report: gnuplot not found, no chart")
        return
    zc = "vhostx-zc" in backends
    panels = [
        ("Throughput, vhostx / vhost-net  (higher is better)",
         [(LABEL[t], t, "pps") for t in THROUGHPUT if (t, BASE) in by]),
        ("Worker CPU per packet and latency, vhostx / vhost-net  "
         "(lower is better)",
         [(f"CPU {LABEL[t]}", t, "worker_ns_per_pkt")
          for t in THROUGHPUT if (t, BASE) in by] +
         [(f"{LABEL[t]} {w}", t, f"lat_us.{w}")
          for t in LATENCY if (t, BASE) in by for w in ("median", "p99")]),
    ]
    files = []
    for i, (_, rows) in enumerate(panels):
        fn = os.path.join(d, f"chart{i}.dat")
        with open(fn, "w") as f:
            for lab, t, path in rows:
                vals = []
                for be in ("vhostx", "vhostx-zc"):
                    r = ratio(t, be, path) if (t, be) in by else None
                    vals += [f"{r[0]:.4f}", f"{r[1]:.4f}", f"{r[2]:.4f}"] \
                        if r else ["-", "-", "-"]
                f.write('"%s" %s\n' % (lab.replace(" ", "\\n", 1),
                                       " ".join(vals)))
        files.append((fn, len(rows)))
    title = (f"vhostx vs vhost-net, guest {meta['kernel']} on "
             f"{meta['cpu']} (QEMU TCG, emulated"
             f"{', -icount: CPU work' if meta.get('icount') else ''}"
             f"{', preempt=' + meta['preempt'] if meta.get('preempt') else ''}), "
             f"{meta['rounds']} rounds: bar = median ratio, "
             f"whiskers = min..max")
    png = os.path.join(d, "bench.png")
    g = [
        "set terminal pngcairo size 1600,1000 font 'DejaVu Sans,11'",
        f"set output '{png}'",
        "set datafile missing '-'",
        "set style data histogram",
        "set style histogram errorbars gap 1 lw 1.5",
        "set style fill solid 0.8 border -1",
        "set boxwidth 0.9",
        "set grid ytics",
        "set logscale y 2",
        "set yrange [0.125:8]",
        "set ytics ('1/8' 0.125, '1/4' 0.25, '1/2' 0.5, '1' 1, '2' 2, "
        "'4' 4, '8' 8)",
        "set bmargin 4",
        "set xtics font ',10'",
        "set key top right horizontal opaque",
        "set ylabel 'vhostx / vhost-net (log scale, clipped at 1/8..8)'",
        f"set multiplot layout 2,1 title \"{title}\" font ',12'",
    ]
    for (ptitle, _), (fn, n) in zip(panels, files):
        off = -1 / 6 if zc else 0
        g += [
            f"set title \"{ptitle}\"",
            f"set xrange [-0.6:{n - 0.4}]",
            "unset arrow",
            "set arrow from graph 0, first 1 to graph 1, first 1 nohead "
            "lw 2 dt 2 lc rgb 'red' front",
            f"plot '{fn}' using 2:3:4:xtic(1) title 'vhostx' lc rgb '#3060c0'"
            + (f", '' using 5:6:7 title 'vhostx, experimental\\_zcopytx=1'"
               " lc rgb '#60b060'" if zc else "")
            + f", '' using ($0+{off}):2:(sprintf('%.2f',$2)) with labels "
              "offset 0,0.7 font ',9' notitle"
            + (", '' using ($0+1./6):5:(sprintf('%.2f',$5)) with labels "
               "offset 0,0.7 font ',9' notitle" if zc else ""),
        ]
    g.append("unset multiplot")
    gpf = os.path.join(d, "bench.gp")
    open(gpf, "w").write("\n".join(g) + "\n")
    r = subprocess.run([gp, gpf], capture_output=True, text=True)
    if r.returncode:
        print("report: gnuplot failed:\n" + r.stderr)
    else:
        print(f"report: chart in {png}")


if __name__ == "__main__":
    main()
