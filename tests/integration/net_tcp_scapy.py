#!/usr/bin/python3
"""net_tcp_scapy.py IFNAME TORO_IP: hand-made segments against Toro's TCP
echo (port 7): malformed ones dropped, RFC 5961's blind-attack checks.

The segments come from 192.168.7.3, an address Linux does not own: Toro
learns it from our ARP request, its answers go to the tap's MAC and Linux,
not forwarding, drops them without a RST, while we read them off the tap.
Prints PASS:/FAIL: lines; exit status 1 if any failed.
"""
import sys
import time

from scapy.all import (ARP, IP, TCP, Ether, AsyncSniffer, Raw, conf, get_if_hwaddr,
                       sendp)

conf.verb = 0
IFACE, TORO = sys.argv[1], sys.argv[2]
ME = "192.168.7.3"
MYMAC = get_if_hwaddr(IFACE)
failed = 0
toro_mac = None


def result(ok, what):
    global failed
    print(("PASS: " if ok else "FAIL: ") + what, flush=True)
    failed += not ok


def exchange(pkt, wait=0.6, match=lambda p: True):
    """Send pkt (IP layer) and return the TCP segments Toro sent meanwhile."""
    sn = AsyncSniffer(iface=IFACE, store=True,
                      lfilter=lambda p: IP in p and TCP in p and p[IP].src == TORO and
                      p[IP].dst == ME and match(p))
    sn.start()
    time.sleep(0.1)
    if pkt is not None:
        sendp(Ether(src=MYMAC, dst=toro_mac) / pkt, iface=IFACE)
    time.sleep(wait)
    return [p[TCP] for p in sn.stop()]


def learn_arp():
    global toro_mac
    sn = AsyncSniffer(iface=IFACE, store=True, lfilter=lambda p: ARP in p and p[ARP].op == 2)
    sn.start()
    time.sleep(0.1)
    sendp(Ether(src=MYMAC, dst="ff:ff:ff:ff:ff:ff") /
          ARP(op=1, hwsrc=MYMAC, psrc=ME, pdst=TORO), iface=IFACE)
    time.sleep(0.5)
    got = sn.stop()
    if got:
        toro_mac = got[0][ARP].hwsrc
    return bool(got)


def ip():
    return IP(src=ME, dst=TORO)


if not learn_arp():
    result(False, "Toro answers our ARP")
    sys.exit(1)

sport = 40000
# ---- Malformed SYNs: no answer at all. -----------------------------------
bad = ip() / TCP(sport=sport, dport=7, flags="S", seq=1000, chksum=0x1234)
r = exchange(bad)
result(not r, "SYN with a bad checksum gets no answer")

bad = ip() / TCP(sport=sport + 1, dport=7, flags="S", seq=1000, dataofs=6,
                 options=[]) / Raw(b"\x02\x03\x05\xb4")        # MSS with length 3
r = exchange(bad)
result(not r, "SYN with an MSS option of length 3 gets no answer")

bad = ip() / TCP(sport=sport + 2, dport=7, flags="S", seq=1000, dataofs=7,
                 options=[]) / Raw(b"\x01\x01\x08\x0a\x00\x00\x00\x00")  # TS runs past the end
r = exchange(bad)
result(not r, "SYN with a timestamp option running past the header gets no answer")

raw = bytes(ip() / TCP(sport=sport + 3, dport=7, flags="S", seq=1000))
raw = raw[:32] + bytes([0xf0]) + raw[33:]   # data offset 60 bytes, segment 20
r = exchange(IP(raw))
result(not r, "SYN whose data offset runs past the segment gets no answer")

# ---- A closed port: RST. -----------------------------------------------------
r = exchange(ip() / TCP(sport=sport + 4, dport=9, flags="S", seq=5000))
result(len(r) == 1 and r[0].flags == "RA" and r[0].ack == 5001,
       "SYN to a closed port: RST,ACK with ack = seq + 1")

# ---- A connection made by hand. -------------------------------------------
sport = 41000
r = exchange(ip() / TCP(sport=sport, dport=7, flags="S", seq=1000, window=65535,
                        options=[("MSS", 1460)]))
synack = [p for p in r if p.flags == "SA"]
result(len(synack) == 1 and synack[0].ack == 1001, "SYN to port 7: SYN-ACK")
if not synack:
    sys.exit(1)
iss = synack[0].seq
snd = 1001                  # our next sequence number
rcv = iss + 1               # Toro's next


def alive(tag):
    """Send data and expect the echo: the connection is still there."""
    global snd, rcv
    data = b"ping-" + tag.encode()
    r = exchange(ip() / TCP(sport=sport, dport=7, flags="PA", seq=snd, ack=rcv,
                            window=65535) / Raw(data), wait=0.8)
    echoed = b"".join(p[Raw].load for p in r if p.seq == rcv and Raw in p)
    snd += len(data)
    if echoed == data:
        rcv += len(data)
        exchange(ip() / TCP(sport=sport, dport=7, flags="A", seq=snd, ack=rcv, window=65535),
                 wait=0.1)
        return True
    return False


exchange(ip() / TCP(sport=sport, dport=7, flags="A", seq=snd, ack=rcv, window=65535), wait=0.2)
result(alive("start"), "data on the hand-made connection is echoed")

r = exchange(ip() / TCP(sport=sport, dport=7, flags="R", seq=snd + 10000000))
result(not r, "RST far outside the window: dropped without an answer")
result(alive("after-far-rst"), "  ... and the connection lives on")

r = exchange(ip() / TCP(sport=sport, dport=7, flags="R", seq=snd + 100))
result(len(r) == 1 and r[0].flags == "A" and r[0].ack == snd,
       "RST in the window but not at RCV.NXT: challenge ACK (RFC 5961 §3.2)")
result(alive("after-inwindow-rst"), "  ... and the connection lives on")

r = exchange(ip() / TCP(sport=sport, dport=7, flags="S", seq=snd + 5))
result(len(r) == 1 and r[0].flags == "A" and r[0].ack == snd,
       "SYN on an established connection: challenge ACK (RFC 5961 §4.2)")
result(alive("after-syn"), "  ... and the connection lives on")

r = exchange(ip() / TCP(sport=sport, dport=7, flags="A", seq=snd, ack=rcv + 5000000,
                        window=65535))
result(len(r) <= 1 and all(p.flags == "A" and p.ack == snd for p in r),
       "ACK of data never sent: at most a challenge ACK (RFC 5961 §5.2)")
result(alive("after-bad-ack"), "  ... and the connection lives on")

bad = ip() / TCP(sport=sport, dport=7, flags="PA", seq=snd, ack=rcv, window=65535,
                 chksum=0xbeef) / Raw(b"corrupt")
r = exchange(bad)
result(not r, "data with a bad checksum: dropped, not acknowledged")
bad = ip() / TCP(sport=sport, dport=7, flags="PA", seq=snd, ack=rcv, window=65535, dataofs=6,
                 options=[]) / Raw(b"\x08\x07\x00\x00" + b"payload")
r = exchange(bad)
result(not r, "data with a malformed option: dropped, not acknowledged")
result(alive("after-bad-segments"), "  ... and the connection lives on")

r = exchange(ip() / TCP(sport=sport, dport=7, flags="R", seq=snd))
result(not r, "RST exactly at RCV.NXT is taken silently")
r = exchange(ip() / TCP(sport=sport, dport=7, flags="PA", seq=snd, ack=rcv) / Raw(b"x"))
result(len(r) == 1 and "R" in str(r[0].flags), "  ... the connection is gone: data gets a RST")

# ---- A full backlog: SYN cookies (RFC 4987 §3.6). ------------------------------
# ToroEcho listens with backlog 64 per accepting CPU; 300 handshakes left
# half open fill every CPU's, so the last SYNs are answered by cookies.
base = 43000
sn = AsyncSniffer(iface=IFACE, store=True,
                  lfilter=lambda p: IP in p and TCP in p and p[IP].src == TORO and
                  p[IP].dst == ME and p[TCP].flags == "SA" and p[TCP].dport >= base)
sn.start()
time.sleep(0.1)
sendp([Ether(src=MYMAC, dst=toro_mac) / ip() /
       TCP(sport=base + i, dport=7, flags="S", seq=7000 + i,
           options=[("MSS", 1460), ("WScale", 7), ("Timestamp", (1, 0))])
       for i in range(300)], iface=IFACE)
time.sleep(1.5)
synacks = {}
for p in sn.stop():
    synacks.setdefault(p[TCP].dport, p[TCP])
result(len(synacks) == 300, f"300 SYNs past the backlog: all answered ({len(synacks)})")
# A cookie SYN-ACK carries no window scale or timestamps (ours always do).
cookies = [p for p in synacks.values()
           if not any(o[0] in ("WScale", "Timestamp") for o in p.options)]
result(len(cookies) > 0, f"  ... {len(cookies)} of them with SYN cookies")
if cookies:
    c = cookies[-1]
    sport, snd, rcv = c.dport, c.ack, c.seq + 1
    exchange(ip() / TCP(sport=sport, dport=7, flags="A", seq=snd, ack=rcv, window=65535),
             wait=0.2)
    result(alive("cookie"), "  ... the ACK of a cookie makes a connection that echoes")
    r = exchange(ip() / TCP(sport=sport + 1000, dport=7, flags="A", seq=8000,
                            ack=c.seq + 1, window=65535))
    result(len(r) == 1 and r[0].flags == "R", "  ... an ACK with a forged cookie gets a RST")

sys.exit(1 if failed else 0)
