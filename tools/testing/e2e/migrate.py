#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Live migration of L2 in the middle of a bulk transfer (guest.sh).

  migrate.py run SRC_QMP SRC_PID DST_QMP URI HOST LINES FDINFO
      Pull `seq 1 LINES` from HOST:5004 and push the same to HOST:5005
      (L2's e2e.mig listeners, tools/testing/e2e/l2-init) at once.  When
      both have moved START bytes, migrate the source QEMU (QMP socket
      SRC_QMP) to URI; while the migration runs keep both streams moving,
      paced, and always hold back their last RESERVE bytes, so that both
      are in flight before, during and after it.  When QMP says completed:
      the source must be paused (postmigrate) and the destination (DST_QMP)
      running; copy the source's vhostx fdinfo (its final counters) to
      FDINFO, quit the source, finish both streams at full speed and check
      the pulled one by sha256 (L2 checks the pushed one).  Progress on
      stdout, "mig: FAIL ..." and status 1 on any failure.
  migrate.py quit QMP
      Ask the QEMU behind QMP to quit.
"""
import hashlib
import json
import os
import select
import socket
import sys
import time

START = 64 * 1024	# bytes each way before the migration starts
RESERVE = 128 * 1024	# bytes each way left for after it
TICK = 0.2		# pacing period while migrating, seconds
PACE = 2048		# bytes each way per tick while migrating
MIG_TIMEOUT = 900	# seconds for the migration to complete
END_TIMEOUT = 600	# seconds for the streams to end after it


def say(msg):
    print("mig: " + msg, flush=True)


def fail(msg):
    say("FAIL " + msg)
    sys.exit(1)


class Qmp:
    """A QMP client on a unix socket (QEMU's -qmp unix:PATH,server=on)."""

    def __init__(self, path, timeout=120):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.time() > deadline:
                    fail(f"cannot connect to QMP {path}: {e}")
                time.sleep(0.5)
        self.file = self.sock.makefile("rwb")
        greeting = self._read()
        if "QMP" not in greeting:
            fail(f"no QMP greeting on {path}: {greeting}")
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            fail("QMP connection closed")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                fail(f"QMP {name}: {r['error'].get('desc', r['error'])}")
            # An event: skip it.


def connect(host, port, timeout=120):
    deadline = time.time() + timeout
    while True:
        try:
            return socket.create_connection((host, port), timeout=10)
        except OSError as e:
            if time.time() > deadline:
                fail(f"cannot connect to {host}:{port}: {e}")
            time.sleep(1)


def copy_fdinfo(pid, dest):
    d = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(d):
        try:
            with open(f"{d}/{fd}") as f:
                text = f.read()
        except OSError:
            continue
        if "vhostx-dev:" in text:
            with open(dest, "w") as f:
                f.write(text)
            return
    fail(f"no descriptor of the source QEMU (pid {pid}) shows vhostx-dev")


def run(src_qmp, src_pid, dst_qmp, uri, host, lines, fdinfo_out):
    data = "".join(f"{i}\n" for i in range(1, lines + 1)).encode()
    total = len(data)
    if total < START + RESERVE + PACE:
        fail(f"a stream of {total} bytes is too short to migrate during")
    src = Qmp(src_qmp)
    dst = Qmp(dst_qmp)
    st = dst.cmd("query-status")["status"]
    if st != "inmigrate":
        fail(f"destination QEMU is '{st}', not waiting for the migration")

    pull = connect(host, 5004)
    push = connect(host, 5005)
    pull.setblocking(False)
    push.setblocking(False)
    pulled = bytearray()
    pushed = 0
    pull_eof = False
    # Phases: 0 before the migration, 1 during it, 2 after it.
    phase = 0
    mark = {}
    budget = [0, 0]
    next_tick = next_poll = 0.0
    t0 = time.time()
    deadline = t0 + MIG_TIMEOUT

    while not (pull_eof and push is None):
        now = time.time()
        if phase == 0 and len(pulled) >= START and pushed >= START:
            mark["start"] = (len(pulled), pushed)
            src.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 30})
            src.cmd("migrate", uri=uri)
            say(f"migration to {uri} started after {now - t0:.1f}s, "
                f"{len(pulled)} bytes pulled and {pushed} pushed")
            t_mig = now
            phase = 1
        if phase == 1:
            if now >= next_tick:
                budget = [PACE, PACE]
                next_tick = now + TICK
            if now >= next_poll:
                next_poll = now + 0.5
                info = src.cmd("query-migrate")
                status = info.get("status")
                if status in ("failed", "cancelled"):
                    fail(f"migration {status}: "
                         f"{info.get('error-desc', 'no reason given')}")
                if status == "completed":
                    mark["end"] = (len(pulled), pushed)
                    phase = 2
                    finish_migration(src, src_pid, dst, info, fdinfo_out,
                                     now - t_mig)
                    deadline = time.time() + END_TIMEOUT
                    continue
            if now > deadline:
                fail(f"migration not completed after {MIG_TIMEOUT}s "
                     f"(status {status})")
        elif now > deadline:
            fail(f"streams not finished {END_TIMEOUT}s after the migration "
                 f"({len(pulled)} of {total} bytes pulled, {pushed} pushed)")

        # How much each stream may move now.
        if phase == 0:
            can_pull = START - len(pulled)
            can_push = START - pushed
        elif phase == 1:
            can_pull = min(budget[0], total - RESERVE - len(pulled))
            can_push = min(budget[1], total - RESERVE - pushed)
        else:
            can_pull = can_push = 65536
        rd = [pull] if not pull_eof and can_pull > 0 else []
        wr = [push] if push is not None and can_push > 0 else []
        timeout = 0.05 if phase == 1 else 1.0
        r, w, _ = select.select(rd, wr, [], timeout)
        if r:
            try:
                b = pull.recv(can_pull)
            except BlockingIOError:
                b = None
            if b == b"":
                pull_eof = True
                pull.close()
            elif b:
                pulled += b
                if phase == 1:
                    budget[0] -= len(b)
        if w:
            try:
                n = push.send(data[pushed:pushed + can_push])
            except BlockingIOError:
                n = 0
            pushed += n
            if phase == 1:
                budget[1] -= n
            if pushed == total:
                push.shutdown(socket.SHUT_WR)
                push.close()
                push = None

    s, e = mark["start"], mark["end"]
    say(f"streams: pulled {len(pulled)} bytes ({s[0]} before the migration, "
        f"{e[0] - s[0]} during, {len(pulled) - e[0]} after), pushed {pushed} "
        f"({s[1]} before, {e[1] - s[1]} during, {pushed - e[1]} after)")
    if e[0] == s[0] or e[1] == s[1]:
        fail("a stream did not move while the migration ran")
    if len(pulled) == e[0] or pushed == e[1]:
        fail("a stream had ended before the migration completed")
    got = hashlib.sha256(pulled).hexdigest()
    want = hashlib.sha256(data).hexdigest()
    if got != want:
        fail(f"pulled stream: {len(pulled)} bytes, sha256 {got}, want "
             f"{total} bytes {want}")
    say(f"pulled stream sha256 {got} matches")
    say(f"pushed {pushed} bytes sha256 {want}")


def finish_migration(src, src_pid, dst, info, fdinfo_out, elapsed):
    ram = info.get("ram", {})
    say(f"completed in {elapsed:.1f}s: total-time {info.get('total-time')} ms, "
        f"downtime {info.get('downtime')} ms, "
        f"RAM {ram.get('transferred')} bytes transferred, "
        f"{ram.get('normal')} normal pages, {ram.get('duplicate')} zero pages, "
        f"dirty-sync-count {ram.get('dirty-sync-count')}")
    st = src.cmd("query-status")["status"]
    if st != "postmigrate":
        fail(f"source QEMU is '{st}' after the migration, not 'postmigrate'")
    deadline = time.time() + 120
    while True:
        st = dst.cmd("query-status")["status"]
        if st == "running":
            break
        if time.time() > deadline:
            fail(f"destination QEMU is '{st}' 120 s after the migration")
        time.sleep(0.5)
    say("source paused (postmigrate), destination running")
    copy_fdinfo(src_pid, fdinfo_out)
    src.cmd("quit")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "quit":
        Qmp(sys.argv[2]).cmd("quit")
    elif len(sys.argv) == 9 and sys.argv[1] == "run":
        a = sys.argv[2:]
        run(a[0], int(a[1]), a[2], a[3], a[4], int(a[5]), a[6])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
