#!/usr/bin/env bash
# TCP against Linux's own: ToroEcho (TCP echo on port 7) on a TAP in a
# network namespace this script makes (unshare -rn): 192.168.7.1/24 is
# Linux's side, 192.168.7.2/24 Toro's. Linux's TCP connects, echoes, moves
# 50 MB both ways, half-closes, is refused; scapy sends malformed and
# blind-attack segments; netem loss and reordering if the kernel has it.
# The same again, shorter, against the ASan+UBSan build.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"

if [ -z "${TORO_NETNS:-}" ]; then
	if ! unshare -rn true 2>/dev/null; then
		echo "SKIP: no user network namespaces"
		echo "0 passed, 0 failed"
		exit 0
	fi
	exec timeout 900 unshare -rn env TORO_NETNS=1 "$0" "$@"
fi

scratch
PY=/usr/bin/python3
CLIENT="$PY tests/integration/net_tcp_client.py 192.168.7.2"

ip link set lo up
ip tuntap add dev tap0 mode tap
ip addr add 192.168.7.1/24 dev tap0
ip link set tap0 up
ip tuntap add dev tap1 mode tap
ip link set tap1 up
ip link add vA type veth peer name vB
ip addr add 192.168.8.1/24 dev vA
ip link set vA up
ip link set vB up
# The relay moves single frames: no segmentation or checksum offloads.
for dev in vA vB tap1; do ethtool -K $dev tso off gso off gro off tx off rx off >/dev/null 2>&1; done

# start BINARY [TAPOPTS]: ToroEcho on tap0, waiting until it serves.
start() {
	"$1" --cpus 2 --net "tap:tap0$2" ip=192.168.7.2/24 >"$SCRATCH/toro.log" 2>&1 &
	TORO=$!
	for _ in $(seq 50); do
		grep -q "TCP echo on port" "$SCRATCH/toro.log" && return 0
		sleep 0.1
	done
	return 1
}

stop() {
	kill "$TORO" 2>/dev/null
	wait "$TORO" 2>/dev/null
	! grep -q "ERROR: AddressSanitizer\|runtime error\|panic" "$SCRATCH/toro.log"
}

client() { timeout 300 $CLIENT "$@"; }

# lossy LABEL BINARY: transfers stay byte-exact through 5% loss and 10%
# reordering by 5 ms: netem on tap0 when the kernel has it, else a second
# ToroEcho on tap1 behind net_lossy_relay.py (tap1 <-> veth vB, Linux on
# vA as 192.168.8.1).
lossy() {
	if tc qdisc add dev tap0 root netem loss 5% reorder 10% delay 5ms 2>/dev/null; then
		check "$1: netem loss 5% reorder 10%: 20 cycles" client cycles 20
		check "$1: netem loss 5% reorder 10%: 2 MB byte-exact" client big 2
		tc qdisc del dev tap0 root
		return
	fi
	echo "netem not available: a relay drops and reorders instead"
	"$2" --cpus 2 --net tap:tap1 ip=192.168.8.2/24 >"$SCRATCH/toro-lossy.log" 2>&1 &
	local toro=$!
	$PY tests/integration/net_lossy_relay.py tap1 vB 200 0.05 0.10 5 >"$SCRATCH/relay.log" 2>&1 &
	local relay=$!
	sleep 1
	check "$1: 5% loss, 10% reordered: 20 cycles" \
		timeout 120 $PY tests/integration/net_tcp_client.py 192.168.8.2 cycles 20
	local t0=$EPOCHREALTIME
	check "$1: 5% loss, 10% reordered: 2 MB both ways byte-exact" \
		timeout 150 $PY tests/integration/net_tcp_client.py 192.168.8.2 big 2
	# How long loss recovery took, for comparing builds (not a check).
	echo "TIME: $1: 2 MB both ways through 5% loss: $(echo "$EPOCHREALTIME - $t0" | bc) s"
	kill "$relay" "$toro" 2>/dev/null
	wait "$relay" "$toro" 2>/dev/null
	check "$1: the lossy ToroEcho ends clean" \
		bash -c "! grep -q 'ERROR: AddressSanitizer\|runtime error\|panic' '$SCRATCH/toro-lossy.log'"
}

suite() {   # label binary big_mb cycles
	local label=$1
	check "$label: ToroEcho serves on 192.168.7.2" start "$2"
	check "$label: $4 connect/echo/close cycles" client cycles "$4"
	check "$label: 100 connections at once" client concurrent 100
	check "$label: $3 MB both ways at once, SHA-256 equal" client big "$3"
	check "$label: half-close: shutdown(WR), the echo still arrives, then EOF" client halfclose
	check "$label: a closed port refuses (RST)" client refused 9
	check "$label: a reader that stalls 3 s (zero window, persist probes), 8 MB" client stall 8
	if "$PY" -c "import scapy" 2>/dev/null; then
		"$PY" tests/integration/net_tcp_scapy.py tap0 192.168.7.2 >"$SCRATCH/scapy.log" 2>&1
		while read -r line; do
			case "$line" in
			PASS:*) pass "$label: scapy: ${line#PASS: }" ;;
			FAIL:*) fail "$label: scapy: ${line#FAIL: }" ;;
			esac
		done <"$SCRATCH/scapy.log"
		grep -q "^PASS:" "$SCRATCH/scapy.log" || fail "$label: scapy ran: $(tail -3 "$SCRATCH/scapy.log")"
	else
		echo "SKIP: no scapy for $PY"
	fi
	lossy "$label" "$2"
	check "$label: ToroEcho ends clean (no sanitizer report, no panic)" stop
	grep -q "ERROR: AddressSanitizer\|runtime error\|panic" "$SCRATCH/toro.log" &&
		sed -n '1,40p' "$SCRATCH/toro.log"
}

# tso LABEL BINARY MB: ToroEcho with TCP segmentation offload both ways
# (tap0,tso): it hands Linux frames far above the MTU and takes Linux's
# whole (a packet socket on tap0 sees both before anything cuts them up),
# the streams stay byte-exact, and the TAP dropped nothing it received.
tso() {
	local label="$1 tso"
	check "$label: ToroEcho serves with ,tso" start "$2" ,tso
	timeout 60 $PY tests/integration/net_sniff.py tap0 8 >"$SCRATCH/tso.txt" 2>&1 &
	local sniff=$!
	sleep 1
	check "$label: $3 MiB both ways at once, SHA-256 equal" client big "$3"
	wait "$sniff"
	check "$label: Linux took TCP segments larger than the MTU from it" \
		bash -c "awk '/^ *[0-9.]+ 192[.]168[.]7[.]2[.]7 > / && \$NF > 1500 { n++ } END { exit !(n >= 3) }' '$SCRATCH/tso.txt'"
	check "$label: it took Linux's TCP segments larger than the MTU" \
		bash -c "awk '/ > 192[.]168[.]7[.]2[.]7 \\[/ && \$NF > 1500 { n++ } END { exit !(n >= 3) }' '$SCRATCH/tso.txt'"
	check "$label: 50 connect/echo/close cycles" client cycles 50
	check "$label: half-close: the echo arrives, then EOF" client halfclose
	check "$label: a reader that stalls 3 s (zero window, persist probes), 8 MB" client stall 8
	check "$label: ToroEcho ends clean (no sanitizer report, no panic)" stop
	check "$label: the TAP dropped no frame it received" \
		bash -c "! grep -q 'dropped [1-9][0-9]* received' '$SCRATCH/toro.log'"
}

# active() LABEL BINARY: TcpClient connects out to Linux's echo servers.
active() {
	$PY tests/integration/net_echo_server.py 192.168.7.1 7001 7002 120 &
	local server=$!
	sleep 0.5
	timeout 120 "$2" --cpus 2 --net tap:tap0 ip=192.168.7.2/24 >"$SCRATCH/client.log" 2>&1 &
	local toro=$!
	for _ in $(seq 300); do
		grep -q "listening on 7100" "$SCRATCH/client.log" && break
		sleep 0.1
	done
	check "$1: active: the peer connects twice from one port (TIME-WAIT reuse)" client twice 7100
	wait "$toro"
	local rc=$?
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	while read -r line; do
		case "$line" in
		"TcpClient: "*" ok") pass "$1: active: ${line#TcpClient: }" ;;
		"TcpClient: "*FAILED*) fail "$1: active: ${line#TcpClient: }" ;;
		esac
	done <"$SCRATCH/client.log"
	check "$1: TcpClient ends with status 0 and no sanitizer report" \
		bash -c "[ $rc -eq 0 ] && ! grep -q 'ERROR: AddressSanitizer\\|runtime error\\|panic' '$SCRATCH/client.log'"
	accept_load "$1" "$(dirname "$2")/TcpAccept"
}

# accept_load LABEL BINARY: TcpAccept on 2 CPUs accepts with a 5 ms
# timeout while 16 Linux threads connect for 8 s; then it closes its
# listener under the acceptors and reports.
accept_load() {
	"$2" --cpus 2 --net tap:tap0 ip=192.168.7.2/24 10 >"$SCRATCH/accept.log" 2>&1 &
	local toro=$!
	for _ in $(seq 50); do
		grep -q "listening on 7200" "$SCRATCH/accept.log" && break
		sleep 0.1
	done
	check "$1: accept with timeouts on 2 CPUs under 8 s of connections" \
		timeout 60 $PY tests/integration/net_accept_load.py 8
	timeout 30 tail --pid=$toro -f /dev/null
	wait "$toro"
	local rc=$?
	check "$1: TcpAccept closes its listener and ends clean" \
		bash -c "[ $rc -eq 0 ] && grep -q 'connections served' '$SCRATCH/accept.log' && ! grep -q 'ERROR: AddressSanitizer\\|runtime error\\|panic' '$SCRATCH/accept.log'"
}

suite posix build/posix/bin/ToroEcho 50 200
tso posix build/posix/bin/ToroEcho 64
active posix build/posix/tests/apps/TcpClient
if [ -x build/posix-san/bin/ToroEcho ] && [ -x build/posix-san/tests/apps/TcpClient ]; then
	suite asan build/posix-san/bin/ToroEcho 10 50
	active asan build/posix-san/tests/apps/TcpClient
else
	echo "SKIP: the ASan build is not there (make SAN=1 posix test-apps-posix)"
fi
finish
