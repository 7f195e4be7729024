#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Frames for the DPDK test (tools/testing/dpdk/guest.sh), on a tap.

  frames.py send IFACE COUNT     send COUNT 60-byte UDP frames out of IFACE
                                 (the tap queues them for the vhost RX side)
  frames.py capture IFACE FILE   count the frames arriving on IFACE that look
                                 like testpmd's txonly ones (IPv4/UDP
                                 198.18.0.1 -> 198.18.0.2, port 9, 64 bytes)
                                 until SIGTERM; write "match other drops"
                                 to FILE
"""
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6


def send(iface, count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    dst, src = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0,
                     socket.inet_aton("198.19.0.1"),
                     socket.inet_aton("198.19.0.2"))
    sent = 0
    for i in range(count):
        # Bursts of 64, then a breath, so the tap's queue (1000) does not
        # overflow faster than the backend can possibly empty it.
        if i % 64 == 63:
            time.sleep(0.001)
        udp = struct.pack("!HHHH", 9, 9, 26, 0) + struct.pack("!I", i) + bytes(14)
        frame = dst + src + b"\x08\x00" + ip + udp
        while True:
            try:
                s.send(frame)
                sent += 1
                break
            except BlockingIOError:
                continue
            except OSError:
                # ENOBUFS: the tap's queue is full; count it as not sent.
                break
    print(sent)


def capture(iface, out):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((iface, ETH_P_ALL))
    s.settimeout(0.5)
    open(out + ".ready", "w").close()
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    match = other = 0
    ip_ok = socket.inet_aton("198.18.0.1") + socket.inet_aton("198.18.0.2")
    while not stop:
        try:
            data, addr = s.recvfrom(2048)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        if (len(data) == 64 and data[12:14] == b"\x08\x00" and
                data[23] == 17 and data[26:34] == ip_ok and
                data[36:38] == b"\x00\x09"):
            match += 1
        else:
            other += 1
    # tp_packets, tp_drops
    _, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    with open(out, "w") as f:
        f.write("%d %d %d\n" % (match, other, drops))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "capture":
        capture(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: frames.py send IFACE COUNT | capture IFACE FILE")
