#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare the instruction counts of tools/bench/ring/profile.sh's runs.

usage: tbcount.py DIR [ROWS]

Reads DIR/tb-vhost.txt and DIR/tb-vhostx.txt (tbcount.c: block address,
instructions, executions), maps each block to its kernel function with
that boot's DIR/kallsyms-<dev>.txt (user-space blocks are one row), and
prints per function the instructions per buffer of vhost_test and of
vhostx_test and their difference, largest difference first (ROWS rows,
default 40), then the totals of each device's own module code.  Buffers:
the completed count virtio_test printed (DIR/run-<dev>.txt).
"""
import bisect
import collections
import os
import re
import sys

DEVS = ("vhost", "vhostx")


def symbols(path):
    syms = []
    for ln in open(path):
        f = ln.split()
        if len(f) < 3 or int(f[0], 16) == 0:
            continue
        name = f[2] + (" " + f[3] if len(f) > 3 else "")
        syms.append((int(f[0], 16), name))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def counts(d, dev):
    addrs, names = symbols(os.path.join(d, f"kallsyms-{dev}.txt"))
    tot = collections.Counter()
    for ln in open(os.path.join(d, f"tb-{dev}.txt")):
        vaddr, insns, runs = ln.split()
        vaddr = int(vaddr, 16)
        if vaddr < 1 << 47:
            name = "[user space]"
        else:
            i = bisect.bisect_right(addrs, vaddr) - 1
            name = names[i] if i >= 0 else "[unknown]"
        tot[name] += int(insns) * int(runs)
    return tot


def buffers(d, dev):
    text = open(os.path.join(d, f"run-{dev}.txt")).read()
    m = re.search(r"completed=(0x[0-9a-f]+)", text)
    if not m:
        sys.exit(f"tbcount.py: no completed count in run-{dev}.txt")
    return int(m.group(1), 16)


def main():
    d = sys.argv[1]
    nrows = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    per = {}
    for dev in DEVS:
        n = buffers(d, dev)
        per[dev] = {k: v / n for k, v in counts(d, dev).items()}
    a, b = per["vhost"], per["vhostx"]
    keys = set(a) | set(b)
    rows = sorted(keys, key=lambda k: -abs(b.get(k, 0) - a.get(k, 0)))
    print("instructions per buffer: vhost_test, vhostx_test, difference; "
          "whole guest run (boot included)")
    for k in rows[:nrows]:
        x, y = a.get(k, 0), b.get(k, 0)
        print(f"{x:10.1f} {y:10.1f} {y - x:+9.1f}  {k}")

    def module(t, mods):
        return sum(v for k, v in t.items()
                   if any(k.endswith(f"[{m}]") for m in mods))
    print(f"own module code: vhost+vhost_test+vhost_iotlb "
          f"{module(a, ('vhost', 'vhost_test', 'vhost_iotlb')):.1f}, "
          f"vhostx+vhostx_test {module(b, ('vhostx', 'vhostx_test')):.1f}")
    print(f"everything: {sum(a.values()):.1f} {sum(b.values()):.1f}")


if __name__ == "__main__":
    main()
