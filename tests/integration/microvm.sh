#!/usr/bin/env bash
# microvm.sh: the same images on QEMU's microvm machine (no PCI, no
# firmware beyond qboot and ACPI tables; devices on virtio-mmio), through
# scripts/qemu-run.sh --machine microvm.
#   BlkRaw on two virtio-blk disks, 2 CPUs: devices found in the DSDT, on
#   the second I/O APIC's GSIs (24 and up), edge triggered;
#   modern virtio-mmio (version 2; QEMU's default is legacy) with a NIC;
#   the same with ioapic2=off and pit=off (GSIs on the first I/O APIC; the
#   clock without a PIT);
#   acpi=off: devices from the command line microvm writes
#   (virtio_mmio.device=, as Linux reads it), CPUs and the I/O APIC from
#   the MP table, 2 CPUs;
#   a device named on the command line and also in the DSDT counts once; a malformed word is
#   reported and ignored;
#   ToroLogger: three runs (1, 1, 2 CPUs) append three lines, e2fsck clean;
#   the second without a CMOS clock (rtc=off: microvm has none under KVM);
#   NicRaw on virtio-net (slirp, restrict=on), 1 and 2 CPUs;
#   ToroEcho on virtio-net on a tap in a network namespace of this
#   script's own: Linux's TCP echoes through it (net_tcp_client.py).
# The FsSuite on microvm runs in virtio_fssuite.sh.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
cd "$TOP" || exit 1

if [ -z "${TORO_NETNS:-}" ] && unshare -rn true 2>/dev/null && [ -c /dev/net/tun ]; then
	exec timeout 1800 unshare -rn env TORO_NETNS=1 "$0" "$@"
fi

scratch
RAW=build/bare/tests/BlkRaw.elf
NICRAW=build/bare/tests/NicRaw.elf
LOGGER=build/bare/ToroLogger.elf
ECHO=build/bare/ToroEcho.elf
out=$SCRATCH/out
qemu_test_opts

# mvm OUT ELF MACHINE APPEND QEMU-RUN-ARGS...: boot on microvm.
mvm() {
	local o=$1 elf=$2 machine=$3 append=$4
	shift 4
	scripts/qemu-run.sh "$elf" --machine "$machine" "${QEMU_TEST_OPTS[@]}" \
		${append:+--append "$append"} "$@" </dev/null 2>&1 | tr -d '\r' >"$o"
	return "${PIPESTATUS[0]}"
}

expect() {   # LABEL STATUS REGEX...: pass when STATUS is 0 and every REGEX is in $out
	local label=$1 rc=$2 re missing=
	shift 2
	for re in "$@"; do grep -Eq "$re" "$out" || missing="$missing [$re]"; done
	if [ "$rc" -eq 0 ] && [ -z "$missing" ]; then
		pass "$label"
	else
		fail "$label (status $rc)${missing:+, missing:$missing}"
		show "$out"
	fi
}

truncate -s 16M "$SCRATCH/a.img" "$SCRATCH/b.img"
mvm "$out" "$RAW" microvm "" --smp 2 --vdisk "$SCRATCH/a.img" --vdisk "$SCRATCH/b.img"
expect "BlkRaw, two virtio-blk disks from the DSDT, 2 CPUs" $? '^19 passed, 0 failed$' \
	'virtio-blk mmio@feb02e00: legacy, GSI edge' 'BlkRaw: disk 1: virtio-blk mmio@feb02c00'

mvm "$out" "$RAW" microvm "" --smp 2 --vdisk "$SCRATCH/a.img" --nic virtio-net-pci \
	-- -global virtio-mmio.force-legacy=false
expect "BlkRaw, modern virtio-mmio (force-legacy=false), with a NIC, 2 CPUs" $? \
	'^10 passed, 0 failed$' 'virtio-blk mmio@.*: virtio 1\.x, GSI edge' \
	'virtio-net mmio@.*: virtio 1\.x, GSI edge' '^BlkRaw: 1 NIC\(s\)$'

mvm "$out" "$RAW" microvm,ioapic2=off,pit=off "" --smp 2 --vdisk "$SCRATCH/a.img"
expect "BlkRaw, ioapic2=off, pit=off, 2 CPUs" $? '^10 passed, 0 failed$' 'GSI edge'

mvm "$out" "$RAW" microvm,acpi=off "" --smp 2 --vdisk "$SCRATCH/a.img" --nic virtio-net-pci
expect "acpi=off: devices from the command line, CPUs and I/O APIC from the MP table" $? \
	'^10 passed, 0 failed$' '2 CPU\(s\), 1 I/O APIC\(s\) from the MP table' \
	'virtio-blk mmio@feb00e00: legacy, GSI edge' 'virtio-net mmio@feb00c00' '^BlkRaw: 1 NIC\(s\)$'

mvm "$out" "$RAW" microvm "virtio_mmio.device=512@0xfeb02e00:47 virtio_mmio.device=4K@oops" \
	--vdisk "$SCRATCH/a.img"
expect "a device on the command line and in the DSDT counts once" $? \
	'^BlkRaw: 1 disk\(s\)$' '^10 passed, 0 failed$' "'4K@oops': not SIZE@BASE:IRQ, ignored"

img=$SCRATCH/logger.img
if make -s image IMAGE="$img" >"$SCRATCH/make.log" 2>&1; then
	for run in 1 2 3; do
		smp=1 machine=microvm clock=
		[ $run = 3 ] && smp=2
		# Run 2 without a CMOS clock, as microvm has none under KVM.
		[ $run = 2 ] && machine=microvm,rtc=off clock='^rtc: no CMOS clock'
		mvm "$out" "$LOGGER" $machine "" --smp $smp --vdisk "$img"
		expect "ToroLogger run $run ($smp CPU${clock:+, no RTC})" $? 'ToroLogger: appended' \
			'Hello from Toro/C' ${clock:+"$clock"}
	done
	check "ToroLogger: e2fsck -fn clean after three runs" quiet e2fsck -fn "$img"
	check "ToroLogger: /web/logs/log has the three lines" \
		[ "$(debugfs -R 'cat /web/logs/log' "$img" 2>/dev/null)" = "$(printf 'ToroLogger: run %04d\n' 1 2 3)" ]
else
	fail "make image"
	show "$SCRATCH/make.log"
fi

for smp in 1 2; do
	mvm "$out" "$NICRAW" microvm "" --smp $smp --nic virtio-net-pci
	expect "NicRaw on virtio-net, $smp CPU(s)" $? '^NicRaw: ok' '^NicRaw: 1 NIC$' \
		'PASS: .*DHCP OFFER of 10\.0\.2\.15' '10\.0\.2\.2 is at 52:55:0a:00:02:02'
	check "NicRaw, $smp CPU(s): no FAIL line" bash -c "! grep -q '^FAIL:' '$out'"
done

if [ -n "${TORO_NETNS:-}" ]; then
	ip link set lo up
	ip tuntap add dev tap0 mode tap
	ip addr add 192.168.7.1/24 dev tap0
	ip link set tap0 up
	scripts/qemu-run.sh "$ECHO" --machine microvm --smp 2 --accel "${TORO_QEMU_ACCEL:-tcg}" \
		--timeout 300 --append "ip=192.168.7.2/24" --nic-tap tap0 virtio-net-pci \
		</dev/null >"$SCRATCH/echo.log" 2>&1 &
	qemu=$!
	for _ in $(seq 300); do
		grep -q "TCP echo on port" "$SCRATCH/echo.log" && break
		sleep 0.2
	done
	check "ToroEcho on microvm: 20 TCP connect/echo/close cycles from Linux" \
		timeout 120 /usr/bin/python3 tests/integration/net_tcp_client.py 192.168.7.2 cycles 20
	check "ToroEcho on microvm: 8 concurrent connections" \
		timeout 120 /usr/bin/python3 tests/integration/net_tcp_client.py 192.168.7.2 concurrent 8
	kill "$qemu" 2>/dev/null
	wait "$qemu" 2>/dev/null
	grep -q 'virtio-net mmio@' "$SCRATCH/echo.log" || { fail "ToroEcho: no virtio-net on mmio"; show "$SCRATCH/echo.log"; }
else
	echo "SKIP: ToroEcho over a tap (no user network namespaces or /dev/net/tun)"
fi
finish
