#!/usr/bin/env bash
# The posix HAL's slirp NIC (--net slirp,hostfwd=...) end to end: host
# datagrams to a forwarded 127.0.0.1 port reach NicEcho (tests/apps) at
# 10.0.2.15 through libslirp, whose answers restricted slirp drops (it
# drops every datagram a guest sends, DHCP aside); a taken port and a host
# address other than 127.0.0.1 are refused with one line. Run inside a
# user + network namespace of its own (unshare -rn), so its fixed ports
# meet nobody else's and its traffic never leaves that namespace's lo.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"

if [ -z "${TORO_SLIRP_NETNS:-}" ]; then
	if ! timeout 5 unshare -rn true 2>/dev/null; then
		fail "unshare -rn: user and network namespaces are not available here"
		finish
	fi
	TORO_SLIRP_NETNS=1 exec timeout 300 unshare -rn bash "$0" "$@"
fi

# ---- inside the namespace from here on ----
scratch
ip link set lo up

# udp_send PORT SIZE...: one datagram of each size to 127.0.0.1:PORT, and
# a short wait for an answer that must not come.
udp_send() {
	timeout 20 python3 - "$@" <<'EOF'
import os, socket, sys
port, sizes = int(sys.argv[1]), [int(s) for s in sys.argv[2:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for n in sizes:
    s.sendto(os.urandom(n), ("127.0.0.1", port))
    try:
        s.recvfrom(65536)
        sys.exit("an answer came back through restricted slirp")
    except socket.timeout:
        pass
EOF
}

for build in posix posix-san; do
	ECHO=build/$build/tests/apps/NicEcho
	[ -x $ECHO ] || continue
	log=$SCRATCH/$build.log
	timeout 60 $ECHO --net slirp,hostfwd=udp:127.0.0.1:8007-:7 --cpus 2 10.0.2.15 5 \
		>"$log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do grep -q answering "$log" && break; sleep 0.1; done
	check "$build: NicEcho on slirp0, MAC 52:54:00:12:34:56" \
		grep -q 'slirp0 52:54:00:12:34:56, 1 queues' "$log"
	check "$build: datagrams to 127.0.0.1:8007 go in, restricted slirp lets no answer out" \
		udp_send 8007 1 500 1472
	wait $pid
	check "$build: NicEcho ends with status 0 (no sanitizer report)" [ $? -eq 0 ]
	check "$build: they reached 10.0.2.15:7, after slirp's ARP who-has 10.0.2.15" \
		grep -Eq 'arp [1-9][0-9]*, echo 0, udp 3,' "$log"
done

if command -v valgrind >/dev/null; then
	timeout 60 valgrind -q --error-exitcode=9 build/posix/tests/apps/NicEcho \
		--net slirp,hostfwd=udp:127.0.0.1:8007-:7 --cpus 2 10.0.2.15 4 >"$SCRATCH/vg.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do grep -q answering "$SCRATCH/vg.log" && break; sleep 0.1; done
	udp_send 8007 100 100 >/dev/null 2>&1
	wait $pid
	check "NicEcho on slirp runs clean under valgrind" [ $? -eq 0 ]
	check "  ... and the datagrams reached it" grep -q 'udp 2,' "$SCRATCH/vg.log"
fi

python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 8080)); s.listen()
open(sys.argv[1], "w").close(); time.sleep(20)' "$SCRATCH/listening" &
holder=$!
for _ in $(seq 100); do [ -e "$SCRATCH/listening" ] && break; sleep 0.1; done
timeout 10 build/posix/bin/ToroHello --net slirp,hostfwd=tcp:127.0.0.1:8080-:80 \
	>"$SCRATCH/out" 2>"$SCRATCH/err"; rc=$?
check "a taken port stops the start with status 2" [ $rc -eq 2 ]
check "  ... and the one line '--net: 127.0.0.1:8080 is in use'" \
	[ "$(cat "$SCRATCH/err")" = "--net: 127.0.0.1:8080 is in use" ]
check "  ... before the service ran" [ ! -s "$SCRATCH/out" ]
kill $holder 2>/dev/null
wait $holder 2>/dev/null

timeout 10 build/posix/bin/ToroHello --net slirp,hostfwd=tcp:0.0.0.0:8080-:80 \
	>/dev/null 2>"$SCRATCH/err"; rc=$?
check "hostfwd on 0.0.0.0 is refused with status 2" [ $rc -eq 2 ]
check "  ... saying the host address must be 127.0.0.1" grep -q 'must be 127.0.0.1' "$SCRATCH/err"

out=$(timeout 10 build/posix/bin/ToroHello --net slirp,hostfwd=tcp:127.0.0.1:8080-:80)
# (the TCP/IP stack prints the NIC and its DHCP address before main runs)
check "with the port free, the service runs" [ "$(tail -1 <<<"$out")" = "Hello World" ]
finish
