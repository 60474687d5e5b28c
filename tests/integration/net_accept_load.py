#!/usr/bin/python3
"""net_accept_load.py SECONDS: 16 threads of Linux's TCP connecting to
192.168.7.2:7200 (TcpAccept) as fast as they can for SECONDS, each
sending "hello" and expecting it back; prints "client ok N bad M" and
exits 1 if any went wrong or none went right."""
import socket, sys, threading, time
end = time.time() + float(sys.argv[1])
ok = [0, 0]
def worker():
    while time.time() < end:
        try:
            s = socket.create_connection(("192.168.7.2", 7200), timeout=3)
            s.sendall(b"hello")
            d = s.recv(100)
            s.close()
            ok[0 if d == b"hello" else 1] += 1
        except OSError:
            ok[1] += 1
ts = [threading.Thread(target=worker) for _ in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
print("client ok", ok[0], "bad", ok[1])
sys.exit(0 if ok[0] and not ok[1] else 1)
