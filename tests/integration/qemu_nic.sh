#!/usr/bin/env bash
# qemu_nic.sh: the bare NIC drivers (hal/bare/virtio_net.c over
# virtio_pci.c, hal/bare/e1000.c) under QEMU, through scripts/qemu-run.sh
# --nic (user networking, restrict=on). NicRaw (tests/apps/NicRaw) drives
# hal_net_* directly: ARP and DHCP with libslirp, a transmit ring that
# fills, the arm/notify rules. Each configuration with 1 and 2 CPUs:
#   virtio-net-pci modern (MSI-X), legacy (disable-modern=on), e1000, and
#   two NICs at once;
# once each: virtio INTx (vectors=0), legacy INTx with a 10-byte header in
# its own descriptor (any_layout=off, mrg_rxbuf=off), and two NICs sharing
# one INTx line (slots 3 and 4: PIRQ C and D, both IRQ 11 under SeaBIOS).
# Also: no NIC at all (hal_net_count() == 0, no exception), and --lspci
# still listing the NICs.
# In make test's KVM pass (kvm_short) each configuration boots with 2 CPUs
# only, and the legacy-free boot (the modern one again) is left out.
# Link state: NicRaw --link-watch while QMP's set_link takes the link down
# and up (e1000: LSC interrupt; virtio: configuration change by MSI-X entry
# 0, by the INTx ISR bit, and on a legacy device whose configuration moved
# behind the MSI-X registers).
# Then with Linux as the peer (NicRaw --peer-linux), on a tap device in a
# network namespace of the test's own (unshare -rn): 10.0.2.2 on tap0 and a
# UDP echo server; QEMU gives virtio-net the checksum offloads there, so
# HAL_NET_TX_CSUM / HAL_NET_RX_CSUM are used (virtio modern and legacy,
# e1000, whose device-computed UDP checksum Linux verifies).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
cd "$TOP" || exit 1
qemu_test_opts
scratch
NICRAW=build/bare/tests/NicRaw.elf
out=$SCRATCH/out


# nicraw LABEL SMP EXPECT-REGEX... -- QEMU-RUN-ARGS...: boot NicRaw, pass
# when it exits 0, says "NicRaw: ok", has no FAIL line and every regex
# matches its output.
nicraw() {
	local label=$1 smp=$2
	shift 2
	local expect=()
	while [ "$1" != -- ]; do expect+=("$1"); shift; done
	shift
	scripts/qemu-run.sh "$NICRAW" --smp "$smp" "${QEMU_TEST_OPTS[@]}" "$@" \
		</dev/null >"$out" 2>&1
	local rc=$? ok=1 missing=
	[ $rc -eq 0 ] || ok=0
	grep -q '^NicRaw: ok' "$out" || ok=0
	grep -q '^FAIL:' "$out" && ok=0
	grep -q 'exception' "$out" && ok=0
	for re in "${expect[@]}"; do
		if ! grep -Eq "$re" "$out"; then ok=0; missing="$missing [$re]"; fi
	done
	if [ $ok = 1 ]; then
		pass "$label, $smp CPU(s)"
	else
		fail "$label, $smp CPU(s) (status $rc)${missing:+, missing:$missing}"
		show "$out"
	fi
}

# The lines every started NIC must show.
NIC_OK='PASS: .*DHCP OFFER of 10\.0\.2\.15'
ARP_OK='10\.0\.2\.2 is at 52:55:0a:00:02:02'

smps=(1 2)
kvm_short && smps=(2)
for smp in "${smps[@]}"; do
	nicraw "virtio-net modern" $smp '^NicRaw: 1 NIC$' \
		'virtio-net 00:0.\.0: virtio 1\.x, MSI-X' "$NIC_OK" "$ARP_OK" \
		-- --nic virtio-net-pci
	nicraw "virtio-net legacy (disable-modern=on)" $smp '^NicRaw: 1 NIC$' \
		'virtio-net 00:0.\.0: legacy, MSI-X' "$NIC_OK" "$ARP_OK" \
		-- --nic virtio-net-pci,disable-modern=on
	nicraw "e1000" $smp '^NicRaw: 1 NIC$' 'e1000 00:0.\.0: link up' \
		'offloads tx-csum rx-csum' "$NIC_OK" "$ARP_OK" \
		-- --nic e1000
	nicraw "virtio-net and e1000 at once" $smp '^NicRaw: 2 NICs$' \
		'PASS: virtio-net .*DHCP OFFER' 'PASS: e1000 .*DHCP OFFER' \
		-- --nic virtio-net-pci --nic e1000
done

nicraw "virtio-net modern, INTx (vectors=0)" 2 'virtio 1\.x, INTx vector' "$NIC_OK" \
	-- --nic virtio-net-pci,vectors=0
nicraw "virtio-net legacy, INTx, 10-byte header apart" 1 \
	'legacy, INTx vector [0-9]+, 256\+256 descriptors, 10-byte header apart' "$NIC_OK" \
	-- --nic virtio-net-pci,disable-modern=on,vectors=0,any_layout=off,mrg_rxbuf=off
kvm_short || nicraw "virtio-net modern only (disable-legacy=on)" 1 'virtio 1\.x, MSI-X' "$NIC_OK" \
	-- --nic virtio-net-pci,disable-legacy=on

# Two devices on one INTx line: both name the same vector.
nicraw "virtio-net and e1000 sharing one INTx line" 2 '^NicRaw: 2 NICs$' \
	'PASS: virtio-net .*DHCP OFFER' 'PASS: e1000 .*DHCP OFFER' \
	-- --nic virtio-net-pci,vectors=0,addr=3 --nic e1000,addr=4
v1=$(sed -n 's/^virtio-net 00:03.0: .*INTx vector \([0-9]*\).*/\1/p' "$out")
v2=$(sed -n 's/^e1000 00:04.0: .*INTx vector \([0-9]*\).*/\1/p' "$out")
check "shared line: one vector for both (virtio $v1, e1000 $v2)" \
	[ -n "$v1" -a "$v1" = "$v2" ]

# No NIC: nothing probed, nothing faults.
for smp in "${smps[@]}"; do
	scripts/qemu-run.sh "$NICRAW" --smp $smp "${QEMU_TEST_OPTS[@]}" </dev/null >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^NicRaw: 0 NICs$' "$out" && grep -q '^NicRaw: ok' "$out" &&
			! grep -q 'exception' "$out"; then
		pass "no NIC: hal_net_count() == 0, clean exit, $smp CPU(s)"
	else
		fail "no NIC, $smp CPU(s) (status $rc)"
		show "$out"
	fi
done

# --lspci still lists them, and the drivers still work after it.
scripts/qemu-run.sh "$NICRAW" "${QEMU_TEST_OPTS[@]}" --append --lspci \
	--nic e1000 --nic virtio-net-pci --nic virtio-net-pci,disable-legacy=on </dev/null >"$out" 2>&1
rc=$?
check "--lspci boot with 3 NICs: status 0 (got $rc)" [ $rc -eq 0 ]
check "--lspci: e1000 8086:100e" grep -q 'Ethernet controller \[0200\]: 8086:100e' "$out"
check "--lspci: virtio-net transitional 1af4:1000" grep -q 'Ethernet controller \[0200\]: 1af4:1000' "$out"
check "--lspci: virtio-net modern 1af4:1041" grep -q 'Ethernet controller \[0200\]: 1af4:1041' "$out"
check "--lspci: all 3 NICs then pass" grep -q '^NicRaw: 3 NICs$' "$out"
grep -q '^NicRaw: ok' "$out" || show "$out"

# ---- Link state through QMP's set_link ------------------------------------

# qmp_flip SOCKET: set_link nic0 down, then up a second later.
qmp_flip() {
	/usr/bin/python3 - "$1" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
def cmd(c, **a):
    f.write(json.dumps({"execute": c, "arguments": a} if a else {"execute": c}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            if "error" in r:
                sys.exit("qmp: %s: %s" % (c, r["error"]))
            return r
cmd("qmp_capabilities")
cmd("set_link", name="nic0", up=False)
time.sleep(1)
cmd("set_link", name="nic0", up=True)
PY
}

link_case() {   # label model
	local sock=$SCRATCH/qmp.sock
	rm -f "$sock"
	scripts/qemu-run.sh "$NICRAW" "${QEMU_TEST_OPTS[@]}" --append --link-watch \
		--nic "$2" --qmp "$sock" </dev/null >"$out" 2>&1 &
	local qemu=$! i
	for i in $(seq 300); do
		grep -q 'watching link' "$out" && break
		sleep 0.2
	done
	qmp_flip "$sock" >>"$SCRATCH/qmp.log" 2>&1
	wait $qemu
	local rc=$?
	if [ $rc -eq 0 ] && grep -q '^NicRaw: ok' "$out" && grep -q ': link down$' "$out" &&
			grep -q ': link up$' "$out"; then
		pass "link down and up seen: $1"
	else
		fail "link down and up: $1 (status $rc)"
		show "$out"
		show "$SCRATCH/qmp.log"
	fi
}
link_case "e1000 (LSC)" e1000
link_case "virtio-net modern, MSI-X" virtio-net-pci
link_case "virtio-net modern, INTx" virtio-net-pci,vectors=0
link_case "virtio-net legacy, MSI-X" virtio-net-pci,disable-modern=on

# ---- Linux on a tap device in a namespace of our own ----------------------

# The namespace's side: tap0 with 10.0.2.2, a bounded UDP echo server, then
# NicRaw; its output and status come back.
TAP_SETUP='
set -e
ip link set lo up
ip tuntap add tap0 mode tap
ip link set tap0 up
ip addr add 10.0.2.2/24 dev tap0
/usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((\"10.0.2.2\", 7777))
s.settimeout(120)
try:
    for _ in range(50):
        data, peer = s.recvfrom(4096)
        s.sendto(data, peer)
except socket.timeout:
    pass
" &
srv=$!
set +e
scripts/qemu-run.sh "$1" --smp "$2" "${@:4}" --append --peer-linux --nic-tap tap0 "$3"
rc=$?
kill $srv
exit $rc
'

if unshare -rn true 2>/dev/null && [ -c /dev/net/tun ]; then
	tap_case() {   # label smp model expected-regex...
		local label=$1 smp=$2 model=$3
		shift 3
		unshare -rn bash -c "$TAP_SETUP" tapcase "$NICRAW" "$smp" "$model" "${QEMU_TEST_OPTS[@]}" \
			</dev/null >"$out" 2>&1
		local rc=$? ok=1 missing=
		[ $rc -eq 0 ] && grep -q '^NicRaw: ok' "$out" && ! grep -q '^FAIL:' "$out" || ok=0
		for re in "$@"; do
			if ! grep -Eq "$re" "$out"; then ok=0; missing="$missing [$re]"; fi
		done
		if [ $ok = 1 ]; then
			pass "Linux peer on tap: $label, $smp CPU(s)"
		else
			fail "Linux peer on tap: $label, $smp CPU(s) (status $rc)${missing:+, missing:$missing}"
			show "$out"
		fi
	}
	ECHO_OK='UDP echo: checksum right'
	tap_case "virtio-net modern, checksum offloads" 2 virtio-net-pci \
		'offloads tx-csum rx-csum' 'PASS: .*checksum filled in by the device' "$ECHO_OK"
	tap_case "virtio-net legacy, checksum offloads, header apart" 1 \
		virtio-net-pci,disable-modern=on,any_layout=off,mrg_rxbuf=off \
		'offloads tx-csum rx-csum' '10-byte header apart' "$ECHO_OK"
	tap_case "e1000, checksum by a context descriptor" 1 e1000 \
		'PASS: .*checksum filled in by the device' "$ECHO_OK"
else
	echo "SKIP: no user namespaces or /dev/net/tun here: the tap cases did not run"
fi

finish
