#!/usr/bin/python3
"""net_lossy_relay.py TAP VETH SECONDS LOSS REORDER DELAY_MS: a bad network
between Toro (on TAP, which has no address) and Linux (behind VETH's peer).

Stands in for netem where the kernel has no sch_netem: every Ethernet frame
is passed from one interface to the other, except that a fraction LOSS of
the TCP frames is dropped and a fraction REORDER held back by DELAY_MS so
that later frames overtake it. Frames leave with their TCP checksum
computed here: one that was offloaded (only the pseudo-header sum is
filled in) would not survive the hop between interfaces. Bounded by
SECONDS. Prints counts at the end.
"""
import random
import select
import socket
import struct
import sys
import time

tap, veth = sys.argv[1], sys.argv[2]
secs, loss, reorder, delay = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), \
    float(sys.argv[6]) / 1000
PACKET_OUTGOING = 4
ETH_P_ALL = 0x0003
random.seed(7)


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((name, 0))
    s.setblocking(False)
    return s


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def fix_tcp(frame):
    """The frame with its TCP checksum recomputed; (frame, is_tcp)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return frame, False
    ihl = (frame[14] & 15) * 4
    tot = struct.unpack("!H", frame[16:18])[0]
    ip = frame[14:14 + tot]
    seg = bytearray(ip[ihl:])
    if len(seg) < 20:
        return frame, True
    seg[16:18] = b"\0\0"
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(seg))
    struct.pack_into("!H", seg, 16, csum(pseudo + bytes(seg)))
    return frame[:14] + ip[:ihl] + bytes(seg), True


a, b = open_if(tap), open_if(veth)
peer = {a: b, b: a}
held = []           # (due, sock, frame)
stats = {"passed": 0, "dropped": 0, "delayed": 0}
end = time.time() + secs
while time.time() < end:
    now = time.time()
    timeout = min([h[0] for h in held], default=now + 0.05) - now
    r, _, _ = select.select([a, b], [], [], max(0.0, min(timeout, 0.05)))
    for s in r:
        while True:
            try:
                frame, addr = s.recvfrom(65535)
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING:
                continue        # our own sends, seen again
            frame, is_tcp = fix_tcp(frame)
            if is_tcp and random.random() < loss:
                stats["dropped"] += 1
                continue
            if is_tcp and random.random() < reorder:
                stats["delayed"] += 1
                held.append((time.time() + delay, peer[s], frame))
                continue
            peer[s].send(frame)
            stats["passed"] += 1
    now = time.time()
    for h in [h for h in held if h[0] <= now]:
        held.remove(h)
        h[1].send(h[2])
print("relay:", stats, flush=True)
