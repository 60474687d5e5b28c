#!/usr/bin/python3
"""net_echo_server.py ADDR PORT... SECONDS: Linux's TCP as a peer for
Toro's active side: on each port, echo every connection until its end of
stream, then close (so the far side's FIN comes first). Serves for
SECONDS, then exits."""
import socket
import sys
import threading
import time

addr, ports, secs = sys.argv[1], [int(p) for p in sys.argv[2:-1]], float(sys.argv[-1])


def echo(conn):
    conn.settimeout(60)
    try:
        while True:
            b = conn.recv(65536)
            if not b:
                break
            conn.sendall(b)
    except OSError:
        pass
    conn.close()


def serve(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


for p in ports:
    threading.Thread(target=serve, args=(p,), daemon=True).start()
time.sleep(secs)
