#!/usr/bin/env bash
# The posix HAL's TAP NIC (--net tap:IFNAME[,mq][,mac=M]) with Linux's own
# stack as the peer. Everything happens in a user + network namespace this
# script makes (unshare -rn): the TAPs and their 192.168.7.0/24 and
# 192.168.8.0/24 addresses exist only there, and vanish with it.
# NicEcho (tests/apps) answers ARP, ICMP echo and UDP echo from raw frames.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"
ECHO=build/posix/tests/apps/NicEcho     # one_queue sets it per build

if [ -z "${TORO_TAP_NETNS:-}" ]; then
	if ! timeout 5 unshare -rn true 2>/dev/null; then
		fail "unshare -rn: user and network namespaces are not available here"
		finish
	fi
	TORO_TAP_NETNS=1 exec timeout 300 unshare -rn bash "$0" "$@"
fi

# ---- inside the namespace from here on ----
scratch
ip link set lo up

# start_echo LOG ARGS...: NicEcho in the background; waits for its banner.
start_echo() {
	local log=$1
	shift
	timeout 60 $ECHO "$@" >"$log" 2>&1 &
	ECHO_PID=$!
	for _ in $(seq 50); do
		grep -q answering "$log" && return 0
		kill -0 $ECHO_PID 2>/dev/null || break
		sleep 0.1
	done
	cat "$log"
	return 1
}

# udp_echo ADDR SIZE...: one datagram of each size to ADDR:7 from its own
# socket (so its own port, its own flow); each must come back the same.
udp_echo() {
	timeout 20 python3 - "$@" <<'EOF'
import os, socket, sys
addr, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
for n in sizes:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    data = os.urandom(n)
    s.sendto(data, (addr, 7))
    back, _ = s.recvfrom(65536)
    if back != data:
        sys.exit("size %d: a different datagram came back" % n)
    s.close()
EOF
}

# ---- one queue, the default MAC ----
# one_queue BUILD: NicEcho of build/BUILD on tap:toro0, the default MAC.
one_queue() {
	local tag=$1 log=$SCRATCH/$1.log
	ECHO=build/$1/tests/apps/NicEcho
	if start_echo "$log" --net tap:toro0 --cpus 2 192.168.7.2 6; then
		pass "$tag: NicEcho starts on tap:toro0"
		check "$tag: its banner: one queue, MAC 02:54:6f:72:6f:00" \
			grep -q 'toro0 02:54:6f:72:6f:00, 1 queues' "$log"
		out=$(timeout 10 ping -c 3 -i 0.2 -W 2 192.168.7.2)
		check "$tag: ping -c 3: three replies" grep -q '3 received' <<<"$out"
		check "$tag: ip neigh: 192.168.7.2 is at 02:54:6f:72:6f:00" \
			grep -q 'lladdr 02:54:6f:72:6f:00' <<<"$(ip neigh show 192.168.7.2 dev toro0)"
		if command -v arping >/dev/null; then
			out=$(timeout 10 arping -c 2 -w 5 -I toro0 192.168.7.2)
			check "$tag: arping: two replies from 02:54:6F:72:6F:00" \
				[ "$(grep -ci 'reply from 192.168.7.2 \[02:54:6F:72:6F:00\]' <<<"$out")" -eq 2 ]
		fi
		out=$(timeout 10 ping -c 2 -i 0.2 -W 2 -s 1472 -M do 192.168.7.2)
		check "$tag: ping of a full 1500-byte packet, not fragmented" grep -q '2 received' <<<"$out"
		# Linux hands these over with their checksum left partial (TUN_F_CSUM)
		# and takes the replies with theirs partial: NicEcho checks every sum.
		check "$tag: UDP echo of 1, 100 and 1472 bytes (checksum offload both ways)" \
			udp_echo 192.168.7.2 1 100 1472
		wait $ECHO_PID
		check "$tag: NicEcho ends with status 0" [ $? -eq 0 ]
		check "$tag: NicEcho answered 5 pings and 3 datagrams" \
			grep -q 'echo 5, udp 3,' "$log"
	else
		fail "$tag: NicEcho starts on tap:toro0"
	fi
}

ip tuntap add dev toro0 mode tap
ip addr add 192.168.7.1/24 dev toro0
ip link set toro0 up
one_queue posix
# The same under ASan and UBSan, when make test built it.
[ -x build/posix-san/tests/apps/NicEcho ] && one_queue posix-san
ECHO=build/posix/tests/apps/NicEcho

if command -v valgrind >/dev/null; then
	timeout 60 valgrind -q --error-exitcode=9 $ECHO --net tap:toro0 --cpus 2 192.168.7.2 4 \
		>"$SCRATCH/vg.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do grep -q answering "$SCRATCH/vg.log" && break; sleep 0.1; done
	out=$(timeout 10 ping -c 2 -i 0.2 -W 2 192.168.7.2)
	wait $pid
	check "NicEcho on tap:toro0 runs clean under valgrind" [ $? -eq 0 ]
	check "  ... and answers ping there" grep -q '2 received' <<<"$out"
fi

# ---- one queue per CPU, a MAC of our choice ----
ip tuntap add dev toro1 mode tap multi_queue
ip addr add 192.168.8.1/24 dev toro1
ip link set toro1 up

if start_echo "$SCRATCH/mq.log" --net tap:toro1,mq,mac=02:00:00:00:00:2a --cpus 2 192.168.8.2 6; then
	check "tap:toro1,mq: two queues, MAC 02:00:00:00:00:2a" \
		grep -q 'toro1 02:00:00:00:00:2a, 2 queues' "$SCRATCH/mq.log"
	for i in 1 2 3 4; do
		timeout 10 ping -c 3 -i 0.2 -W 2 192.168.8.2 >"$SCRATCH/ping$i" 2>&1 &
	done
	wait $(jobs -p | grep -v "^$ECHO_PID$")
	ok=0
	for i in 1 2 3 4; do grep -q '3 received' "$SCRATCH/ping$i" && ok=$((ok + 1)); done
	check "four pings at once: all twelve replies ($ok of 4 complete)" [ $ok -eq 4 ]
	check "UDP echo from 16 sockets (flows spread over the queues)" \
		udp_echo 192.168.8.2 $(seq 10 10 160)
	check "ip neigh: 192.168.8.2 is at 02:00:00:00:00:2a" \
		grep -q 'lladdr 02:00:00:00:00:2a' <<<"$(ip neigh show 192.168.8.2 dev toro1)"
	wait $ECHO_PID
	check "NicEcho (mq) ends with status 0" [ $? -eq 0 ]
	check "both queues received frames" \
		[ "$(grep -c 'queue [01] received [1-9]' "$SCRATCH/mq.log")" -eq 2 ]
else
	fail "NicEcho starts on tap:toro1,mq"
fi

# ---- refusals ----
timeout 10 $ECHO --net tap:toro1 --cpus 2 192.168.8.2 1 >/dev/null 2>"$SCRATCH/err"; rc=$?
check "a multi_queue TAP without ,mq is refused with status 2" [ $rc -eq 2 ]
check "  ... and a message that says why" grep -q 'multi_queue TAP needs ,mq' "$SCRATCH/err"
timeout 10 $ECHO --net tap:toro0,mq --cpus 2 192.168.7.2 1 >/dev/null 2>"$SCRATCH/err"; rc=$?
check "mq on a single-queue TAP is refused with status 2" [ $rc -eq 2 ]

ip link del toro0
ip link del toro1
finish
