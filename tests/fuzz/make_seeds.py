#!/usr/bin/python3
# make_seeds.py: writes the fuzz targets' seed corpora, tests/fuzz/net/ and
# tests/fuzz/http/, one input a file. The net seeds are frames a real peer
# sends to fuzz_net's kernel (10.0.2.15, MAC 52:54:00:12:34:56, slirp's
# default) from 10.0.2.2, built with scapy so every length and checksum is
# right and the fuzzer starts past the parsers' first checks; each begins
# with fuzz_net's control byte, 3: keep the checksums right. Run it again
# after changing it; the files are checked in.
import logging
import os
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, BOOTP, DHCP, ICMP, IP, TCP, UDP, Ether, fragment, raw)

HERE = os.path.dirname(os.path.abspath(__file__))
US_MAC, PEER_MAC = "52:54:00:12:34:56", "52:55:0a:00:02:02"
US, PEER = "10.0.2.15", "10.0.2.2"
e = Ether(dst=US_MAC, src=PEER_MAC)
ip = IP(src=PEER, dst=US)
opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]

net = {
    "arp_request": Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC) /
        ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst=US),
    "arp_reply": e / ARP(op=2, hwsrc=PEER_MAC, psrc=PEER, hwdst=US_MAC, pdst=US),
    "icmp_echo": e / ip / ICMP(type=8, id=1, seq=1) / (b"p" * 56),
    "icmp_unreach": e / ip / ICMP(type=3, code=3) /
        raw(IP(src=US, dst=PEER) / UDP(sport=53000, dport=53) / b"q")[:28],
    "udp_echo": e / ip / UDP(sport=40000, dport=7) / b"hello",
    "udp_connected": e / ip / UDP(sport=53, dport=53000) / b"answer",
    "udp_closed_port": e / ip / UDP(sport=40001, dport=9) / b"nobody",
    "tcp_syn": e / ip / TCP(sport=41000, dport=80, flags="S", seq=1000, window=64240, options=opts),
    "tcp_ack_data": e / ip / TCP(sport=41000, dport=80, flags="PA", seq=1001, ack=1,
                                  window=502, options=[("NOP", None), ("NOP", None),
                                                       ("Timestamp", (1001, 1))]) /
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "tcp_fin": e / ip / TCP(sport=41000, dport=80, flags="FA", seq=1028, ack=1, window=502),
    "tcp_rst": e / ip / TCP(sport=41000, dport=80, flags="R", seq=1028),
    "tcp_sack": e / ip / TCP(sport=41000, dport=80, flags="A", seq=1001, ack=1, window=502,
                              options=[("NOP", None), ("NOP", None), ("SAck", (100, 200, 300, 400))]),
    "tcp_syn_closed": e / ip / TCP(sport=41001, dport=81, flags="S", seq=7),
    "dhcp_offer": Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC) /
        IP(src=PEER, dst="255.255.255.255") / UDP(sport=67, dport=68) /
        BOOTP(op=2, yiaddr=US, siaddr=PEER, chaddr=bytes.fromhex("525400123456"), xid=1) /
        DHCP(options=[("message-type", "offer"), ("server_id", PEER), ("lease_time", 86400),
                      ("subnet_mask", "255.255.255.0"), ("router", PEER), "end"]),
    "dhcp_ack": Ether(dst=US_MAC, src=PEER_MAC) / ip / UDP(sport=67, dport=68) /
        BOOTP(op=2, yiaddr=US, siaddr=PEER, chaddr=bytes.fromhex("525400123456"), xid=1) /
        DHCP(options=[("message-type", "ack"), ("server_id", PEER), ("lease_time", 60),
                      ("subnet_mask", "255.255.255.0"), "end"]),
}
for i, frag in enumerate(fragment(ip / UDP(sport=40002, dport=7) / (b"f" * 2000), fragsize=1000)):
    net["udp_fragment_%d" % i] = e / frag
for i, frag in enumerate(fragment(ip / ICMP(type=8) / (b"g" * 1500), fragsize=800)):
    net["icmp_fragment_%d" % i] = e / frag

http = {
    "get": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "conditional_range": b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n"
        b"If-None-Match: \"a\", W/\"b\"\r\nRange: bytes=0-99\r\n\r\n",
    "head_10": b"HEAD /docs/ HTTP/1.0\r\nConnection: keep-alive\r\n"
        b"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
    "absolute_dots": b"GET http://h/a/%2e%2e/%c0%ae HTTP/1.1\r\nHost: h\r\nRange: bytes=-5,1-2\r\n\r\n",
    "post_chunked": b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nhello",
    "bare_lf": b"\r\n\nGET /%e2%82%ac HTTP/1.1\nHost: a\nIf-Range: \"x\"\nRange: bytes=5-\n\n",
}

def write(directory, items, prefix=b""):
    os.makedirs(directory, exist_ok=True)
    for name, v in items.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(prefix + (v if isinstance(v, bytes) else raw(v)))

write(os.path.join(HERE, "net"), net, prefix=b"\x03")
write(os.path.join(HERE, "http"), http)
print("%d net seeds, %d http seeds" % (len(net), len(http)), file=sys.stderr)
