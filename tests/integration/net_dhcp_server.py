#!/usr/bin/python3
"""net_dhcp_server.py IFNAME -- SERVICE...: a DHCP server made of scapy
frames on IFNAME (Linux's side of the tap, 192.168.9.1), run against the
service's DHCP client (RFC 2131) to see each step of its state machine:

  the first DISCOVER unanswered: the next one 4 s later (retransmission);
  an OFFER with another xid and one with a malformed option: ignored;
  OFFER / REQUEST (with the server id and requested address) / ACK of
    192.168.9.50 with mask, router, lease 12 s, T1 4 s, T2 8 s: the service
    prints its address and gateway;
  at T1 a unicast REQUEST to the server (RENEWING), unanswered;
  at T2 a broadcast REQUEST (REBINDING), unanswered;
  at the lease's end: the address goes and DISCOVER starts again;
  then a NAK to the REQUEST: back to DISCOVER; then a lease of an hour.

Prints PASS:/FAIL: lines; exit status 1 if any failed.
"""
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (BOOTP, DHCP, IP, UDP, Ether, AsyncSniffer, Raw, conf,  # noqa: E402
                       get_if_hwaddr, sendp)

conf.verb = 0
IFACE = sys.argv[1]
SERVICE = sys.argv[sys.argv.index("--") + 1:]
SERVER = "192.168.9.1"
OFFERED = "192.168.9.50"
MYMAC = get_if_hwaddr(IFACE)
failed = 0


def result(ok, what):
    global failed
    print(("PASS: " if ok else "FAIL: ") + what, flush=True)
    failed += not ok


def msg_type(p):
    for opt in p[DHCP].options:
        if isinstance(opt, tuple) and opt[0] == "message-type":
            return opt[1]
    return None


def option(p, name):
    for opt in p[DHCP].options:
        if isinstance(opt, tuple) and opt[0] == name:
            return opt[1]
    return None


requests = queue.Queue()


def seen(p):
    if DHCP in p and p[BOOTP].op == 1:
        requests.put((time.monotonic(), p))


sniffer = AsyncSniffer(iface=IFACE, filter="udp and dst port 67", prn=seen, store=False)
sniffer.start()
time.sleep(0.5)

lines = []
service = subprocess.Popen(SERVICE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)


def read_service():
    for line in service.stdout:
        lines.append((time.monotonic(), line.rstrip("\r\n")))


threading.Thread(target=read_service, daemon=True).start()


def next_request(timeout):
    try:
        return requests.get(timeout=timeout)
    except queue.Empty:
        return None, None


def wait_line(text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for t, line in lines:
            if text in line:
                return t
        time.sleep(0.05)
    return None


def reply(req, kind, xid=None, options=None, yiaddr=OFFERED):
    opts = [("message-type", kind), ("server_id", SERVER)]
    opts += options if options is not None else [
        ("subnet_mask", "255.255.255.0"), ("router", SERVER), ("lease_time", 12),
        ("renewal_time", 4), ("rebinding_time", 8)]
    opts.append("end")
    frame = (Ether(src=MYMAC, dst="ff:ff:ff:ff:ff:ff") /
             IP(src=SERVER, dst="255.255.255.255") / UDP(sport=67, dport=68) /
             BOOTP(op=2, xid=req[BOOTP].xid if xid is None else xid, yiaddr=yiaddr,
                   siaddr=SERVER, chaddr=req[BOOTP].chaddr, flags=req[BOOTP].flags) /
             DHCP(options=opts))
    sendp(frame, iface=IFACE)


try:
    t0, d1 = next_request(15)
    result(d1 is not None and msg_type(d1) == 1, "the service sends a DISCOVER")
    if d1 is None:
        sys.exit(1)
    t1, d2 = next_request(10)
    result(d2 is not None and msg_type(d2) == 1 and 3.0 <= t1 - t0 <= 6.0,
           "unanswered, the DISCOVER comes again about 4 s later (%.1f s)" %
           ((t1 - t0) if d2 else -1))
    if d2 is None:
        sys.exit(1)
    # Offers the client must not take: another exchange's xid; a mask
    # option of 3 bytes (dhcp_parse refuses the message).
    reply(d2, 2, xid=d2[BOOTP].xid ^ 1)
    bad = bytes(Ether(src=MYMAC, dst="ff:ff:ff:ff:ff:ff") /
                IP(src=SERVER, dst="255.255.255.255") / UDP(sport=67, dport=68) /
                BOOTP(op=2, xid=d2[BOOTP].xid, yiaddr="192.168.9.66", chaddr=d2[BOOTP].chaddr) /
                DHCP(options=[("message-type", 2), ("server_id", SERVER), "end"]))
    bad = bad[:-1] + b"\x01\x03\xff\xff\xff\xff"   # mask of length 3, then end
    sendp(Raw(bad), iface=IFACE)
    time.sleep(0.3)
    reply(d2, 2)                                   # the real OFFER
    t, req = next_request(5)
    ok = (req is not None and msg_type(req) == 3 and option(req, "server_id") == SERVER and
          option(req, "requested_addr") == OFFERED)
    result(ok, "OFFER answered by a REQUEST with server id and requested address")
    result(not any("192.168.9.66" in line for _, line in lines),
           "the malformed and the foreign OFFER were not taken")
    if not ok:
        sys.exit(1)
    reply(req, 5)                                  # ACK
    t_ack = time.monotonic()
    result(wait_line("ToroEcho: address " + OFFERED, 10) is not None,
           "after the ACK the service has 192.168.9.50")
    result(any("192.168.9.50/24 gateway 192.168.9.1" in line for _, line in lines),
           "... with the mask and the router as gateway")
    # T1: unicast REQUEST to the server with ciaddr (RFC 2131 §4.4.5).
    t, ren = next_request(8)
    ok = (ren is not None and msg_type(ren) == 3 and ren[IP].dst == SERVER and
          ren[BOOTP].ciaddr == OFFERED and option(ren, "server_id") is None)
    result(ok and 3.0 <= t - t_ack <= 5.5,
           "at T1 (4 s) a REQUEST unicast to the server (%.1f s)" % ((t - t_ack) if ren else -1))
    # T2: broadcast REQUEST.
    t, reb = next_request(8)
    ok = (reb is not None and msg_type(reb) == 3 and reb[IP].dst == "255.255.255.255" and
          reb[BOOTP].ciaddr == OFFERED)
    result(ok and 7.0 <= t - t_ack <= 9.5,
           "at T2 (8 s) a REQUEST broadcast (%.1f s)" % ((t - t_ack) if reb else -1))
    # Lease end: DISCOVER again, the address gone.
    t, d3 = next_request(8)
    result(d3 is not None and msg_type(d3) == 1 and 11.0 <= t - t_ack <= 13.5,
           "at the lease's end (12 s) DISCOVER again (%.1f s)" % ((t - t_ack) if d3 else -1))
    result(wait_line("lease of interface 0 ended", 3) is not None,
           "... and the service says the lease ended")
    if d3 is None:
        sys.exit(1)
    # A NAK to the REQUEST sends it back to DISCOVER.
    reply(d3, 2)
    t, req = next_request(5)
    if req is not None:
        reply(req, 6, options=[])
    t, d4 = next_request(8)
    result(d4 is not None and msg_type(d4) == 1, "a NAK to the REQUEST: DISCOVER again")
    if d4 is not None:
        reply(d4, 2, options=[("subnet_mask", "255.255.255.0"), ("lease_time", 3600)])
        t, req = next_request(5)
        if req is not None:
            reply(req, 5, options=[("subnet_mask", "255.255.255.0"), ("lease_time", 3600)])
    ping = subprocess.run(["ping", "-c", "2", "-W", "2", OFFERED], capture_output=True)
    result(ping.returncode == 0, "bound again, the service answers ping at 192.168.9.50")
finally:
    os.killpg(service.pid, signal.SIGTERM)     # the service's own group
    try:
        service.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(service.pid, signal.SIGKILL)
    sniffer.stop()
    bad = [line for _, line in lines if "AddressSanitizer" in line or "runtime error" in line or
           "panic" in line]
    result(not bad, "no sanitizer report or panic")
    if failed:
        for _, line in lines:
            print("    | " + line)
sys.exit(1 if failed else 0)
