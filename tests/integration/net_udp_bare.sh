#!/usr/bin/env bash
# net_udp.sh on the bare platform: ToroEcho in QEMU with virtio-net, then
# again with e1000 (a NIC with checksum offloads both ways).
TOP=$(cd "$(dirname "$0")/../.." && pwd)
source "$TOP/tests/lib.sh"
for nic in virtio-net-pci e1000; do
	out=$(TORO_PLATFORM=bare TORO_NIC=$nic "$(dirname "$0")/net_udp.sh" 2>&1)
	sed "s/^\(PASS\|FAIL\): /\1: $nic: /" <<<"$out" | grep -v ' passed, .* failed$'
	PASSED=$((PASSED + $(grep -c '^PASS:' <<<"$out")))
	FAILED=$((FAILED + $(grep -c '^FAIL:' <<<"$out")))
	grep -q ' passed, .* failed$' <<<"$out" || fail "$nic: net_udp.sh did not finish"
done
finish
