#!/usr/bin/env bash
# net_netstat.sh: the stack's counters as the kernel's --netstat option
# prints them when the service ends, with ToroEcho over a TAP in a network
# namespace this script makes (unshare -rn; Linux's stack at 192.168.7.1).
#
#  1. clean run: UDP and TCP echo traffic, then SIGTERM: ToroEcho returns,
#     the netstat lines come out, frames were counted both ways, a listener
#     is in the states, and no malformed counter moved.
#  2. malformed run: the same traffic plus frames from scapy, a known number
#     of each kind (bad IP header checksum, bad UDP checksum, bad TCP
#     checksum, group source MAC, a datagram and a segment to closed
#     ports): each moves its own counter by exactly that number.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"
BIN=${TORO_ECHO:-$TOP/build/posix/bin/ToroEcho}
PY=/usr/bin/python3

wait_for() {   # FILE PATTERN SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# counter LOG NAME: the value of NAME=... in LOG's netstat lines.
counter() {
	grep '^netstat:' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

# traffic: UDP echo and two TCP echo connections, checked.
traffic() {
	timeout 30 $PY - <<-'EOF'
	import socket, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.settimeout(3)
	for n in (5, 1400):
	    s.sendto(b"u" * n, ("192.168.7.2", 7))
	    if s.recvfrom(2000)[0] != b"u" * n:
	        sys.exit("udp echo")
	for i in range(2):
	    c = socket.create_connection(("192.168.7.2", 7), timeout=5)
	    c.sendall(b"t" * 3000)
	    c.shutdown(socket.SHUT_WR)
	    got = b""
	    while True:
	        b = c.recv(65536)
	        if not b:
	            break
	        got += b
	    c.close()
	    if got != b"t" * 3000:
	        sys.exit("tcp echo: %d bytes" % len(got))
	EOF
}

# malformed MAC: 3 bad IP checksums, 2 bad UDP checksums, 4 bad TCP
# checksums, 5 frames from a group source address, 1 datagram and 1 segment to
# closed ports.
malformed() {
	timeout 60 $PY - "$1" <<-'EOF'
	import sys, logging
	logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
	from scapy.all import Ether, IP, UDP, TCP, ICMP, Raw, sendp, raw
	# type given: a bare Ether() says 0x9000 (loopback), not IPv4
	e = Ether(dst=sys.argv[1], src="02:00:00:00:00:01", type=0x800)
	ip = IP(src="192.168.7.1", dst="192.168.7.2")
	frames = []
	b = bytearray(raw(ip / ICMP() / (b"x" * 32)))
	b[10] ^= 0xff
	frames += [raw(e) + bytes(b)] * 3
	u = raw(e / ip / UDP(sport=1000, dport=7) / b"hello")
	frames += [u[:-2] + bytes([u[-2] ^ 0x55, u[-1]])] * 2
	t = raw(e / ip / TCP(sport=1001, dport=7, flags="S", seq=1))
	t = bytearray(t); t[14 + 20 + 16] ^= 0x5a          # TCP checksum
	frames += [bytes(t)] * 4
	# a group address as source (IEEE 802.3 forbids it)
	frames += [raw(Ether(dst=sys.argv[1], src="03:00:00:00:00:01") / ip / ICMP())] * 5
	frames.append(raw(e / ip / UDP(sport=1002, dport=9) / b"nobody"))
	frames.append(raw(e / ip / TCP(sport=1003, dport=9, flags="S", seq=5)))
	for f in frames:
	    sendp(Raw(f), iface="toro0", verbose=False)
	EOF
}

# run NAME WITH_MALFORMED: one service life; its log in $SCRATCH/NAME.log.
run() {
	local log=$SCRATCH/$1.log
	"$BIN" --netstat --net tap:toro0 ip=192.168.7.2/24 >"$log" 2>&1 &
	local pid=$!
	check "$1: ToroEcho is up" wait_for "$log" '^ToroEcho: UDP echo on port 7' 30
	local mac
	mac=$(sed -n 's/^net: .* \([0-9a-f:]\{17\}\) mtu .*/\1/p' "$log")
	check "$1: UDP and TCP echo" traffic
	if [ "$2" = yes ]; then
		check "$1: scapy sends malformed frames" malformed "$mac"
		check "$1: ... and the echo still works" traffic
	fi
	sleep 0.5
	kill -TERM "$pid"
	local i
	for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "$1: ToroEcho did not end on SIGTERM"
	fi
	wait "$pid"
	check "$1: ToroEcho ends with status 0 on SIGTERM" [ $? -eq 0 ]
	check "$1: --netstat printed the counters" \
		bash -c "[ \$(grep -c '^netstat:' '$log') -eq 5 ]"
	grep '^netstat:' "$log"
}

if [ "${1:-}" = "--in-netns" ]; then
	SCRATCH=$2
	ip link set lo up
	ip tuntap add dev toro0 mode tap
	ip addr add 192.168.7.1/24 dev toro0
	ip link set toro0 up

	run clean no
	L=$SCRATCH/clean.log
	check "clean: frames counted in (>= 10) and out (>= 10)" \
		[ "$(counter "$L" rx_frames)" -ge 10 -a "$(counter "$L" tx_frames)" -ge 10 ]
	for c in bad_ether bad_ip bad_udp bad_tcp bad_csum udp_dropped; do
		check "clean: $c is 0" [ "$(counter "$L" $c)" = 0 ]
	done
	check "clean: the TCP listener is counted, no connection left established" \
		[ "$(counter "$L" listen)" = 1 -a "$(counter "$L" established)" = 0 ]
	check "clean: the TCP event counters are printed" \
		[ -n "$(counter "$L" retransmits)" -a -n "$(counter "$L" syn_cookies)" \
		  -a -n "$(counter "$L" challenge_acks)" ]

	run malformed yes
	M=$SCRATCH/malformed.log
	check "malformed: bad_ip is 3 (bad IP header checksums)" [ "$(counter "$M" bad_ip)" = 3 ]
	check "malformed: bad_udp is 2 (bad UDP checksums)" [ "$(counter "$M" bad_udp)" = 2 ]
	check "malformed: bad_csum is 4 (bad TCP checksums)" [ "$(counter "$M" bad_csum)" = 4 ]
	check "malformed: bad_ether is 5 (group source addresses)" [ "$(counter "$M" bad_ether)" = 5 ]
	check "malformed: no_socket is 2 (closed UDP and TCP ports)" [ "$(counter "$M" no_socket)" = 2 ]
	check "malformed: bad_tcp stays 0" [ "$(counter "$M" bad_tcp)" = 0 ]
	finish
	exit
fi

scratch
if unshare -rn true 2>/dev/null && [ -c /dev/net/tun ]; then
	out=$(timeout 300 unshare -rn bash "$0" --in-netns "$SCRATCH" 2>&1)
	echo "$out"
	PASSED=$((PASSED + $(grep -c '^PASS:' <<<"$out")))
	FAILED=$((FAILED + $(grep -c '^FAIL:' <<<"$out")))
	grep -q ' passed, .* failed$' <<<"$out" || fail "the namespace part did not finish"
else
	fail "no user namespaces or /dev/net/tun here"
fi
finish
