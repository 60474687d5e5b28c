#!/usr/bin/env bash
# net_dhcp.sh: the DHCP client against a server made of scapy frames
# (net_dhcp_server.py) on a tap in a network namespace this script makes:
# retransmission, foreign and malformed offers, binding with mask and
# router, renewing at T1, rebinding at T2, the lease's end, a NAK. Then the
# same against the ASan+UBSan build when it is there. Posix, then bare
# (QEMU with virtio-net on the tap).
source "$(dirname "$0")/../lib.sh"
cd "$TOP"

if [ "${1:-}" != "--in-netns" ]; then
	if ! unshare -rn true 2>/dev/null || [ ! -c /dev/net/tun ]; then
		fail "no user namespaces or /dev/net/tun here"
		finish
		exit
	fi
	exec timeout 600 unshare -rn bash "$0" --in-netns
fi

ip link set lo up
ip tuntap add dev toro0 mode tap
ip addr add 192.168.9.1/24 dev toro0
ip link set toro0 up

run() {     # label command...
	local label=$1 out
	shift
	out=$(timeout 120 /usr/bin/python3 tests/integration/net_dhcp_server.py toro0 -- "$@" 2>&1)
	sed "s/^\(PASS\|FAIL\): /\1: $label: /" <<<"$out"
	PASSED=$((PASSED + $(grep -c '^PASS:' <<<"$out")))
	FAILED=$((FAILED + $(grep -c '^FAIL:' <<<"$out")))
	grep -q '^PASS: no sanitizer report' <<<"$out" || fail "$label: the server script did not finish"
}

run posix build/posix/bin/ToroEcho --net tap:toro0
[ -x build/posix-san/bin/ToroEcho ] && run asan build/posix-san/bin/ToroEcho --net tap:toro0
[ -f build/bare/ToroEcho.elf ] &&
	run bare scripts/qemu-run.sh build/bare/ToroEcho.elf --smp 2 --timeout 100 --nic-tap toro0 virtio-net-pci
finish
