#!/usr/bin/python3
"""net_tcp_client.py: Linux's own TCP against a Toro TCP echo service.

Usage: net_tcp_client.py ADDR CASE [ARG]
  cycles N      connect, echo a message, close, N times
  concurrent N  N connections open at once, each echoing its own data
  big MB        MB megabytes through the echo, sending and receiving at
                once, compared by SHA-256
  halfclose     send, shutdown(SHUT_WR), still receive all of the echo, EOF
  stall MB      send MB while not reading for 3 s (zero window), then read
  twice PORT    two connections from local port 32000 to a server that
                closes first (the second reuses its TIME-WAIT)
  refused PORT  connecting to a closed port is refused (RST)
Prints one line and exits 0 when the case held, 1 otherwise.
"""
import hashlib
import os
import socket
import sys
import threading
import time

addr, case = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None
PORT = 7


def connect(port=PORT, timeout=20):
    s = socket.create_connection((addr, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exact(s, n):
    got = bytearray()
    while len(got) < n:
        b = s.recv(min(65536, n - len(got)))
        if not b:
            break
        got += b
    return bytes(got)


def cycles(n):
    for i in range(n):
        s = connect()
        msg = b"message %d " % i * (1 + i % 50)
        s.sendall(msg)
        back = recv_exact(s, len(msg))
        s.close()
        if back != msg:
            return f"cycle {i}: echoed {len(back)} of {len(msg)} bytes, differs"
    return None


def concurrent(n):
    socks = [connect() for _ in range(n)]
    msgs = [os.urandom(1000 + 37 * i) for i in range(n)]
    for s, m in zip(socks, msgs):
        s.sendall(m)
    bad = sum(recv_exact(s, len(m)) != m for s, m in zip(socks, msgs))
    for s in socks:
        s.close()
    return f"{bad} of {n} connections echoed wrong" if bad else None


def big(mb):
    total = mb * 1024 * 1024
    s = connect(timeout=60)
    sent_hash, recv_hash = hashlib.sha256(), hashlib.sha256()
    err = []

    def sender():
        try:
            left = total
            seed = os.urandom(1 << 16)
            k = 0
            while left:
                chunk = hashlib.sha256(seed + k.to_bytes(8, "big")).digest() * 2048
                chunk = chunk[:min(left, len(chunk))]
                sent_hash.update(chunk)
                s.sendall(chunk)
                left -= len(chunk)
                k += 1
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(f"send: {e}")

    t = threading.Thread(target=sender)
    t.start()
    got = 0
    try:
        while True:
            b = s.recv(1 << 18)
            if not b:
                break
            recv_hash.update(b)
            got += len(b)
    except OSError as e:
        err.append(f"recv after {got} bytes: {e}")
    t.join()
    s.close()
    if err:
        return "; ".join(err)
    if got != total or sent_hash.digest() != recv_hash.digest():
        return f"got {got} of {total} bytes, digests {'differ' if got == total else '-'}"
    return None


def halfclose():
    s = connect()
    msg = os.urandom(300000)
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    back = recv_exact(s, len(msg) + 1)   # +1: must end with EOF right after
    s.close()
    return None if back == msg else f"echoed {len(back)} of {len(msg)} after shutdown"


def stall(mb):
    """Send mb MB without reading for 3 s: Linux's receive buffer fills,
    Toro's echo meets a zero window and must probe it (persist timer)
    until we read again; then everything arrives."""
    total = mb * 1024 * 1024
    s = connect(timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    data = os.urandom(total)
    err = []

    def sender():
        try:
            s.sendall(data)
        except OSError as e:
            err.append(f"send: {e}")

    t = threading.Thread(target=sender)
    t.start()
    time.sleep(3)
    back = recv_exact(s, total)
    t.join()
    s.close()
    if err:
        return err[0]
    return None if back == data else f"got {len(back)} of {total} bytes after the stall"


def twice(port):
    """Two connections from the same local port to a server that closes
    first: the server holds the first in TIME-WAIT when the second comes."""
    for i in range(2):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Below Linux's ephemeral range (32768-60999): accept_load's
        # thousands of connections leave its ports in TIME-WAIT, and a
        # TIME-WAIT of a socket without SO_REUSEADDR blocks this bind.
        s.bind(("192.168.7.1", 32000))
        s.settimeout(10)
        s.connect((addr, port))
        got = recv_exact(s, 5)
        s.close()
        if got != b"bye\n":
            return f"connection {i + 1}: got {got!r}"
        time.sleep(0.3)
    return None


def refused(port):
    try:
        connect(port, timeout=5).close()
    except ConnectionRefusedError:
        return None
    except OSError as e:
        return f"not refused but {e!r}"
    return "connected to a closed port"


cases = {"cycles": lambda: cycles(int(arg)), "concurrent": lambda: concurrent(int(arg)),
         "big": lambda: big(int(arg)), "halfclose": halfclose,
         "stall": lambda: stall(int(arg)), "twice": lambda: twice(int(arg)),
         "refused": lambda: refused(int(arg))}
try:
    problem = cases[case]()
except Exception as e:      # a timeout or a reset is a failed case, not a crash
    problem = repr(e)
print(f"{case} {arg or ''}: {problem or 'ok'}")
sys.exit(1 if problem else 0)
