#!/usr/bin/env python3
"""http_raw.py: raw HTTP exchanges for web.sh, where curl would refuse or
repair what is sent.

  http_raw.py PORT send REQUEST        send REQUEST (Python escapes: \\r\\n,
                                       \\x00), print what comes back until the
                                       server closes or 5 s pass
  http_raw.py PORT slow PREFIX SECONDS send PREFIX, then wait: print what
                                       comes back and "CLOSED after S s"
  http_raw.py PORT trickle PREFIX GAP SECONDS
                                       send PREFIX a byte at a time, GAP s
                                       apart, then dots, for SECONDS at most:
                                       print what comes back and "CLOSED
                                       after S s"
  http_raw.py PORT hold N SECONDS      open N connections, send nothing,
                                       hold them SECONDS, print "held N"
  http_raw.py PORT free                print a free TCP port on 127.0.0.1
Only 127.0.0.1.
"""
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(5)
    return s


def read_all(s, limit):
    out = b""
    end = time.time() + limit
    while time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    return out


def main():
    port = int(sys.argv[1])
    mode = sys.argv[2]
    if mode == "free":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
    elif mode == "send":
        s = connect(port)
        s.sendall(sys.argv[3].encode("latin-1").decode("unicode_escape").encode("latin-1"))
        sys.stdout.buffer.write(read_all(s, 5))
    elif mode == "slow":
        s = connect(port)
        s.sendall(sys.argv[3].encode("latin-1").decode("unicode_escape").encode("latin-1"))
        start = time.time()
        s.settimeout(float(sys.argv[4]))
        out = read_all(s, float(sys.argv[4]))
        sys.stdout.buffer.write(out)
        print("\nCLOSED after %d s" % round(time.time() - start))
    elif mode == "trickle":
        s = connect(port)
        data = sys.argv[3].encode("latin-1").decode("unicode_escape").encode("latin-1")
        gap, limit = float(sys.argv[4]), float(sys.argv[5])
        start = time.time()
        s.setblocking(False)
        out = b""
        i = 0
        while time.time() - start < limit:
            try:
                s.send(data[i:i + 1] if i < len(data) else b"x")
                i += 1
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(gap)
            try:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
            except BlockingIOError:
                pass
            except ConnectionResetError:
                break
        sys.stdout.buffer.write(out)
        print("\nCLOSED after %d s" % round(time.time() - start))
    elif mode == "hold":
        conns = [connect(port) for _ in range(int(sys.argv[3]))]
        print("held %d" % len(conns), flush=True)
        time.sleep(float(sys.argv[4]))
    else:
        sys.exit("unknown mode " + mode)


main()
