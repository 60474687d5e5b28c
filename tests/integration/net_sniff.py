#!/usr/bin/python3
"""net_sniff.py IFNAME SECONDS: print the TCP segments seen on IFNAME, one
line each, like tcpdump -n (which cannot drop privileges inside unshare -r)."""
import socket, struct, sys, time

ifname, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
s.settimeout(0.2)
end = time.time() + secs
t0 = None
while time.time() < end:
    try:
        f = s.recv(65535)
    except socket.timeout:
        continue
    if len(f) < 34 or f[12:14] != b'\x08\x00' or f[23] != 6:
        continue
    ihl = (f[14] & 15) * 4
    ip = f[14:]
    tcp = ip[ihl:]
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    sp, dp, seq, ack, off, fl, win = struct.unpack('!HHIIBBH', tcp[:16])
    tot = struct.unpack('!H', ip[2:4])[0]
    dlen = tot - ihl - (off >> 4) * 4
    flags = ''.join(c for c, b in zip('FSRPAU', range(6)) if fl & (1 << b))
    now = time.time()
    t0 = t0 or now
    print(f"{now - t0:9.6f} {src}.{sp} > {dst}.{dp} [{flags}] seq {seq} ack {ack} win {win} len {dlen}", flush=True)
