#!/usr/bin/env bash
# net_udp.sh: the TCP/IP stack's Ethernet, ARP, IPv4, ICMP and UDP against
# real peers, with ToroEcho (examples/ToroEcho) as the service.
#
#  1. --net slirp with a UDP hostfwd on 127.0.0.1: libslirp's DHCP server
#     configures 10.0.2.15 and datagrams sent to the forwarded port reach the
#     service. (libslirp in restricted mode, which the posix HAL always uses,
#     drops every UDP datagram the guest sends apart from DHCP and TFTP -
#     udp_input's "if (slirp->restricted) goto bad" - so the echo itself is
#     checked in part 2.)
#  2. --net tap inside a network namespace this script makes (unshare -rn:
#     no other interface, nothing leaves it), Linux's own stack the peer at
#     192.168.7.1/24 and the service started with ip=192.168.7.2/24: ping,
#     UDP echo (small, and long enough to be fragmented both ways), fragmented
#     pings up to 65507 bytes (reassembly and a fragmented reply), ICMP port unreachable for a
#     closed port, and malformed frames from scapy (bad IHL, truncated, bad
#     checksums, overlapping fragments, garbage DHCP and ARP) dropped while
#     the service keeps answering; with TCP, ToroEcho's TCP echo (20 connections).
# TORO_ECHO overrides the binary (net_udp_asan.sh: the ASan+UBSan build);
# TORO_PLATFORM=bare runs build/bare/ToroEcho.elf in QEMU instead
# (net_udp_bare.sh; TORO_NIC picks the model, virtio-net-pci by default),
# where part 1 is QEMU's restricted user networking without a forward.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"
PLATFORM=${TORO_PLATFORM:-posix}
BIN=${TORO_ECHO:-$TOP/build/posix/bin/ToroEcho}
NIC=${TORO_NIC:-virtio-net-pci}
PY=/usr/bin/python3

# start_service LOG NETWORK... : ToroEcho -v in the background, in a
# process group of its own whose id is $pid. NETWORK: "slirp PORT" or
# "tap IFNAME ip=...".
start_service() {
	local log=$1 kind=$2
	if [ "$PLATFORM" = bare ]; then
		if [ "$kind" = slirp ]; then
			setsid scripts/qemu-run.sh build/bare/ToroEcho.elf --smp 2 --timeout 60 \
				--nic "$NIC" --append -v </dev/null >"$log" 2>&1 &
		else
			setsid scripts/qemu-run.sh build/bare/ToroEcho.elf --smp 2 --timeout 150 \
				--nic-tap "$3" "$NIC" --append "-v $4" </dev/null >"$log" 2>&1 &
		fi
	elif [ "$kind" = slirp ]; then
		setsid timeout 60 "$BIN" -v --net "slirp,hostfwd=udp:127.0.0.1:$3-:7" >"$log" 2>&1 &
	else
		setsid timeout 150 "$BIN" -v --net "tap:$3" "$4" >"$log" 2>&1 &
	fi
	pid=$!
}

stop_service() {
	kill -- -"$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# wait_for FILE PATTERN SECONDS: until a line of FILE matches.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# sanitizer_clean LOG: no ASan/UBSan report and no panic in the log.
sanitizer_clean() {
	! grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|panic|exception' "$1"
}

# ---- part 2, run inside the namespace (the script calls itself) --------------
if [ "${1:-}" = "--in-netns" ]; then
	SCRATCH=$2
	LOG=$SCRATCH/tap.log
	ip link set lo up
	ip tuntap add dev toro0 mode tap
	ip addr add 192.168.7.1/24 dev toro0
	ip link set toro0 up
	start_service "$LOG" tap toro0 ip=192.168.7.2/24
	check "tap: the service configures 192.168.7.2" \
		wait_for "$LOG" '^ToroEcho: address 192.168.7.2' 30
	mac=$(sed -n 's/^net: .* \([0-9a-f:]\{17\}\) mtu .*/\1/p' "$LOG")

	check "tap: ping -c 3 192.168.7.2 is answered" \
		quiet timeout 20 ping -c 3 -W 2 192.168.7.2

	check "tap: UDP datagrams of 5, 1000, 1472, 3000 and 20000 bytes come back whole" \
		timeout 20 $PY - <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(3)
		for n in (5, 1000, 1472, 3000, 20000):
		    data = bytes((i * 7 + n) % 256 for i in range(n))
		    s.sendto(data, ("192.168.7.2", 7))
		    got, peer = s.recvfrom(65536)
		    if got != data or peer != ("192.168.7.2", 7):
		        sys.exit("datagram of %d bytes: %d back from %s" % (n, len(got), peer))
		EOF

	check "tap: ping -s 4000 (fragments both ways) is answered" \
		quiet timeout 20 ping -c 3 -W 2 -s 4000 192.168.7.2
	# The largest ICMP echo IPv4 carries: 45 fragments reassembled into a
	# 65535-byte datagram, and a reply as large cut up again.
	check "tap: ping -s 65507 (a whole 64 KiB datagram each way) is answered" \
		quiet timeout 20 ping -c 3 -W 2 -s 65507 192.168.7.2

	check "tap: a datagram to a closed port gets ICMP port unreachable" \
		timeout 10 $PY - <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(3)
		s.connect(("192.168.7.2", 9))
		s.send(b"anyone?")
		try:
		    s.recv(100)
		except ConnectionRefusedError:
		    sys.exit(0)
		sys.exit("no port unreachable")
		EOF

	# nc -v -u probes the port first; the ICMP error makes it give up with
	# status 1 (an open port keeps it echoing until the timeout: 124).
	check "tap: nc -u gives up on the closed port" \
		bash -c '(echo hi; sleep 1; echo again; sleep 1) | timeout 5 nc -v -u 192.168.7.2 9 >/dev/null 2>&1
		         [ $? -eq 1 ]'
	check "tap: nc -u to port 7 gets its lines echoed" \
		bash -c '(echo hi; sleep 1; echo again; sleep 1) | timeout 4 nc -u 192.168.7.2 7 |
		         grep -q again'

	check "tap: scapy sends malformed frames" \
		timeout 60 $PY - "$mac" <<-'EOF'
		import sys, logging
		logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
		from scapy.all import Ether, IP, UDP, ICMP, ARP, Raw, sendp, raw
		mac = sys.argv[1]
		e = Ether(dst=mac, src="02:00:00:00:00:01")
		frames = []
		good = IP(src="192.168.7.1", dst="192.168.7.2") / ICMP() / (b"x" * 32)
		b = bytearray(raw(good))
		bad_ihl = bytearray(b); bad_ihl[0] = 0x43                # IHL 12 bytes
		frames.append(raw(e) + bytes(bad_ihl))
		big_ihl = bytearray(b); big_ihl[0] = 0x4f                # IHL past the packet
		frames.append(raw(e) + bytes(big_ihl[:40]))
		frames.append(raw(e) + bytes(b[:12]))                    # truncated header
		frames.append(raw(e)[:10])                               # truncated Ethernet
		long_tot = bytearray(b); long_tot[2:4] = (2000).to_bytes(2, "big")
		frames.append(raw(e) + bytes(long_tot))                  # total length > frame
		bad_csum = bytearray(b); bad_csum[10] ^= 0xff
		frames.append(raw(e) + bytes(bad_csum))                  # IP checksum
		frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2", version=6) / ICMP()))
		frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2", ttl=0) / ICMP()))
		u = raw(e / IP(src="192.168.7.1", dst="192.168.7.2") / UDP(sport=1, dport=7) / b"hello")
		frames.append(u[:-2] + bytes([u[-2] ^ 0x55, u[-1]]))      # UDP checksum
		frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2") /
		                  UDP(sport=1, dport=7, len=200) / b"short"))   # UDP length
		frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2") /
		                  ICMP(type=8, chksum=0x1234) / b"ping"))       # ICMP checksum
		# Overlapping fragments of one datagram, then a new overlap set.
		payload = raw(ICMP(type=8) / (b"o" * 2952))   # 2960 bytes: two whole fragments
		for ident in (4242, 4243):
		    frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2", id=ident, proto=1,
		                             flags="MF", frag=0) / payload[0:1480]))
		    frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2", id=ident, proto=1,
		                             flags="MF", frag=100) / payload[800:2280]))
		    frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2", id=ident, proto=1,
		                             frag=185) / payload[1480:]))
		# A middle fragment whose length is not a multiple of 8; a tiny
		# fragment past 64 KiB.
		frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2", id=7, proto=17,
		                         flags="MF", frag=0) / (b"m" * 13)))
		frames.append(raw(e / IP(src="192.168.7.1", dst="192.168.7.2", id=8, proto=17,
		                         frag=8190) / (b"m" * 100)))
		# Garbage DHCP to the client port, and truncated options.
		for junk in (b"\x02" * 7, b"\x02\x01\x06" + b"\xff" * 300,
		             bytes(236) + b"\x63\x82\x53\x63" + b"\x35\xff\x01"):
		    frames.append(raw(e / IP(src="192.168.7.1", dst="255.255.255.255") /
		                      UDP(sport=67, dport=68) / junk))
		# ARP nonsense: wrong lengths, short, a broadcast sender.
		frames.append(raw(Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01", type=0x806)) +
		              b"\x00\x01\x08\x00\x06")
		frames.append(raw(Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01") /
		                  ARP(op=1, hwlen=8, psrc="192.168.7.1", pdst="192.168.7.2")))
		frames.append(raw(Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01") /
		                  ARP(op=1, hwsrc="ff:ff:ff:ff:ff:ff", psrc="192.168.7.9",
		                      pdst="192.168.7.2")))
		# Random bytes after a valid Ethernet header, IPv4 and ARP.
		import random
		random.seed(5)
		for i in range(300):
		    t = b"\x08\x00" if i % 3 else b"\x08\x06"
		    n = random.randrange(0, 200)
		    frames.append(raw(e)[:12] + t + bytes(random.randrange(256) for _ in range(n)))
		for f in frames:
		    sendp(Raw(f), iface="toro0", verbose=False)
		EOF

	# ToroEcho's TCP half (TCP itself is net_tcp.sh's): connections
	# accepted on every CPU, each echoed until the client's FIN.
	if grep -q '^ToroEcho: TCP echo on port 7' "$LOG"; then
		check "tap: 20 TCP connections of 100 KB each echoed whole" \
			timeout 60 $PY - <<-'EOF'
			import os, socket, sys
			for i in range(20):
			    c = socket.create_connection(("192.168.7.2", 7), timeout=10)
			    data = os.urandom(100000)
			    c.sendall(data)
			    c.shutdown(socket.SHUT_WR)
			    got = b""
			    while True:
			        b = c.recv(65536)
			        if not b:
			            break
			        got += b
			    c.close()
			    if got != data:
			        sys.exit("connection %d: %d bytes back" % (i, len(got)))
			EOF
	fi

	check "tap: after the malformed frames, ping is still answered" \
		quiet timeout 20 ping -c 3 -W 2 192.168.7.2
	check "tap: ... and a fragmented ping" \
		quiet timeout 20 ping -c 2 -W 2 -s 4000 192.168.7.2
	check "tap: ... and UDP echo" \
		timeout 10 $PY -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b"still there?", ("192.168.7.2", 7))
assert s.recvfrom(100)[0] == b"still there?"'
	check "tap: the service is still running" kill -0 $pid
	# Idle, the network threads sleep (timers aside): no CPU time to speak
	# of over 3 s (the process's own ticks, posix only).
	if [ "$PLATFORM" = posix ]; then
		proc=$(pgrep -s "$pid" -f ToroEcho | head -1)
		ticks() { awk '{print $14 + $15}' "/proc/$proc/stat"; }
		t0=$(ticks); sleep 3; t1=$(ticks)
		check "tap: idle for 3 s, the service used $((t1 - t0)) ticks (< 10)" [ $((t1 - t0)) -lt 10 ]
	fi
	stop_service
	check "tap: no sanitizer report or panic" sanitizer_clean "$LOG"
	echo "-- service log (tap) --"; grep -v '^ToroEcho: udp ' "$LOG" | head -20

	# Two CPUs and a multi-queue tap: Linux spreads flows over both queues,
	# so datagrams received on CPU 1 are handed to the socket's CPU 0.
	if [ "$PLATFORM" = posix ]; then
		ip tuntap add dev toro1 mode tap multi_queue
		ip addr add 192.168.8.1/24 dev toro1
		ip link set toro1 up
		LOG=$SCRATCH/mq.log
		setsid timeout 100 "$BIN" -v --cpus 2 --net tap:toro1,mq ip=192.168.8.2/24 >"$LOG" 2>&1 &
		pid=$!
		check "mq: two queues, configured" wait_for "$LOG" '^ToroEcho: address 192.168.8.2' 30
		check "mq: datagrams from 64 ports (both queues) all echoed" \
			timeout 30 $PY - <<-'EOF'
			import socket, sys
			for i in range(64):
			    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
			    s.settimeout(3)
			    data = bytes([i]) * (1 + 47 * i)
			    s.sendto(data, ("192.168.8.2", 7))
			    if s.recvfrom(65536)[0] != data:
			        sys.exit("port %d: wrong echo" % s.getsockname()[1])
			EOF
		check "mq: ping -s 4000 answered" quiet timeout 20 ping -c 3 -W 2 -s 4000 192.168.8.2
		stop_service
		check "mq: no sanitizer report or panic" sanitizer_clean "$LOG"
	fi
	finish
	exit
fi

scratch

# ---- part 1: slirp -----------------------------------------------------------------
port=$($PY -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$SCRATCH/slirp.log
start_service "$LOG" slirp "$port"
check "slirp: DHCP configures 10.0.2.15 and the service prints it" \
	wait_for "$LOG" '^ToroEcho: address 10.0.2.15' 30
check "slirp: UDP echo bound" wait_for "$LOG" '^ToroEcho: UDP echo on port 7' 5
if [ "$PLATFORM" = posix ]; then
	$PY - "$port" <<-'EOF'
	import socket, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	for n in (1, 100, 1400):
	    s.sendto(b"d" * n, ("127.0.0.1", int(sys.argv[1])))
	EOF
	check "slirp: datagrams sent to the forwarded port reach the service" \
		wait_for "$LOG" '^ToroEcho: udp 1400 bytes from 10.0.2.2:' 10
	check "slirp: ... all three, in order" \
		bash -c "grep '^ToroEcho: udp' '$LOG' | awk '{print \$3}' | tr '\n' ' ' | grep -q '^1 100 1400 \$'"
fi
stop_service
check "slirp: no sanitizer report or panic" sanitizer_clean "$LOG"

# ---- part 2: tap, in a namespace of our own -------------------------------------
if unshare -rn true 2>/dev/null && [ -c /dev/net/tun ]; then
	out=$(timeout 400 unshare -rn bash "$0" --in-netns "$SCRATCH" 2>&1)
	echo "$out"
	PASSED=$((PASSED + $(grep -c '^PASS:' <<<"$out")))
	FAILED=$((FAILED + $(grep -c '^FAIL:' <<<"$out")))
	grep -q ' passed, .* failed$' <<<"$out" || fail "tap: the namespace part did not finish"
else
	fail "tap: no user namespaces or /dev/net/tun here"
fi
finish
