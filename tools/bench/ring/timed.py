#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run a program and print, as JSON on stdout, what it cost.

usage: timed.py TIMEOUT PROGRAM [ARGS...]

  seconds   elapsed time from just before its exec to its exit
  drv_ms    its CPU time (user + system), drv_cs its context switches
            (voluntary + involuntary)
  busy_ms   CPU time of the whole machine over the run, idle excluded
            (/proc/stat): with one CPU, the program's plus its device
            worker's plus the kernel's
  busy_ns   the same in nanoseconds, from the run queues' task time
            (rq_cpu_time, /proc/schedstat): finer than busy_ms's tick,
            without interrupt time; absent without schedstats
  wait_ns   time tasks spent runnable but waiting for a CPU, and
  slices    the number of times a task was given a CPU, both from
            /proc/schedstat over the run (every task: with one CPU a
            woken worker that does not preempt the spinning driver at
            once shows here as waiting)
  drv_ivcs  the program's involuntary context switches
  rc        exit status (124 after TIMEOUT seconds)

The program's stderr is passed through.  tools/bench/ring/guest.sh times
every virtio_test run with it.
"""
import json
import os
import resource
import signal
import sys
import time


def busy_ticks():
    f = open("/proc/stat").readline().split()
    # user nice system idle iowait irq softirq steal ...
    v = [int(x) for x in f[1:9]]
    return sum(v) - v[3] - v[4]


def schedstat():
    """(rq_cpu_time, run_delay, pcount) summed over CPUs, or None."""
    try:
        lines = open("/proc/schedstat").read().splitlines()
    except OSError:
        return None
    # cpuN yld_count 0 sched_count sched_goidle ttwu ttwu_local
    #      rq_cpu_time run_delay pcount
    cpus = [ln.split() for ln in lines if ln.startswith("cpu")]
    return tuple(sum(int(f[i]) for f in cpus) for i in (7, 8, 9))


def main():
    timeout, argv = float(sys.argv[1]), sys.argv[2:]
    hz = os.sysconf("SC_CLK_TCK")
    n0, b0, t0 = schedstat(), busy_ticks(), time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)

    def expire(sig, frame):
        os.kill(pid, signal.SIGKILL)
        expire.fired = True
    expire.fired = False
    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    t1, b1, n1 = time.monotonic(), busy_ticks(), schedstat()
    signal.setitimer(signal.ITIMER_REAL, 0)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = 124 if expire.fired else os.waitstatus_to_exitcode(status)
    r = {
        "seconds": t1 - t0,
        "drv_ms": (ru.ru_utime + ru.ru_stime) * 1000,
        "drv_cs": ru.ru_nvcsw + ru.ru_nivcsw,
        "drv_ivcs": ru.ru_nivcsw,
        "busy_ms": (b1 - b0) * 1000 / hz,
        "rc": rc}
    if n0 is not None and n1 is not None:
        r["busy_ns"] = n1[0] - n0[0]
        r["wait_ns"] = n1[1] - n0[1]
        r["slices"] = n1[2] - n0[2]
    print(json.dumps(r))


if __name__ == "__main__":
    main()
