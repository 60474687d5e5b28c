#!/usr/bin/env bash
# ata_devices.sh: PCI enumeration and the ATA driver on the bare build.
#   --lspci lists what QEMU was given (two disks on two channels): the PIIX IDE function (8086:7010,
#     class 0101) with its bus-master BAR4, an e1000 (8086:100e) and a
#     virtio-net (1af4:1000), and loses them when they are not there.
#   BlkRaw (tests/apps/BlkRaw) on disks in every slot: a 200 GiB sparse
#     disk (LBA48 past sector 2^28) as primary slave, secondary master and
#     secondary slave; reads past the end are -EINVAL; one thread per CPU at
#     once; with DMA and with --ata-pio, interrupt-driven and polled
#     (--ata-poll, the path taken without an I/O APIC).
#   A disk alone on the secondary slave, a CD-ROM on the primary master.
#   Device errors injected by QEMU's blkdebug: -EIO, nothing hangs.
#   A stalled drive (QEMU throttling): the deadline fails the command.
#   The same BlkRaw on the posix build.
# In make test's KVM pass (kvm_short): the first --lspci boot, BlkRaw with
# DMA and PIO interrupt-driven, and the deadline; the rest repeats them.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
cd "$TOP" || exit 1
scratch
HELLO=build/bare/ToroHello.elf
RAW=build/bare/tests/BlkRaw.elf
out=$SCRATCH/out

truncate -s 1M "$SCRATCH/d0.img" "$SCRATCH/d1.img"
bare_boot "$out" "$HELLO" "--lspci" -nic none -device e1000 -device virtio-net-pci \
	$(ide "$SCRATCH/d0.img" 0) $(ide "$SCRATCH/d1.img" 2)
rc=$?
check "lspci boot: status 0 (got $rc)" [ $rc -eq 0 ]
check "lspci: IDE interface 8086:7010 [0101]" grep -q 'IDE interface \[0101\]: 8086:7010' "$out"
check "lspci: IDE bus-master BAR4 (I/O, 16 ports)" grep -q 'BAR4: I/O ports at [0-9a-f]* \[size=16\]' "$out"
check "lspci: host bridge 8086:1237" grep -q '00:00.0 Host bridge \[0600\]: 8086:1237' "$out"
check "lspci: e1000 8086:100e" grep -q 'Ethernet controller \[0200\]: 8086:100e' "$out"
check "lspci: virtio-net 1af4:1000" grep -q 'Ethernet controller \[0200\]: 1af4:1000' "$out"
check "lspci: e1000 memory BAR0 sized 128 KiB" grep -q 'BAR0: memory at [0-9a-f]* (32-bit) \[size=131072\]' "$out"
check "lspci: service still runs" grep -q 'Hello World' "$out"
grep -q 'Hello World' "$out" || show "$out"

if ! kvm_short; then
	bare_boot "$out" "$HELLO" "--lspci" -nic none
	check "lspci without NICs: no 8086:100e" bash -c "! grep -q '8086:100e' '$out'"
	check "lspci without NICs: no 1af4:1000" bash -c "! grep -q '1af4:1000' '$out'"
	bare_boot "$out" "$HELLO" "" -nic none -device e1000
	check "no --lspci: no list" bash -c "! grep -q 'Host bridge' '$out'"
fi

big=$SCRATCH/big.img s2=$SCRATCH/s2.img s3=$SCRATCH/s3.img
truncate -s 200G "$big"
truncate -s 8M "$s2"
truncate -s 16M "$s3"
modes=("" "--ata-pio" "--ata-poll" "--ata-poll --ata-pio")
kvm_short && modes=("" "--ata-pio")
for mode in "${modes[@]}"; do
	bare_boot "$out" "$RAW" "$mode" -smp 2 -nic none -nodefaults \
		$(ide "$big" 1) $(ide "$s2" 2) $(ide "$s3" 3)
	rc=$?
	label="BlkRaw ${mode:-dma}, 3 disks (hdb 200 GiB, hdc, hdd), 2 CPUs"
	if [ $rc -eq 0 ] && grep -q '^28 passed, 0 failed' "$out" &&
			grep -q 'hdb: QEMU HARDDISK, 419430400 sectors, LBA48' "$out"; then
		pass "$label"
	else
		fail "$label (status $rc)"
		show "$out"
	fi
	case $mode in
	*--ata-pio*) check "$mode: disks use PIO" bash -c "! grep -q 'ata: .*DMA' '$out'" ;;
	*) check "${mode:-default}: disks use DMA" grep -q 'ata: hdc: .*DMA' "$out" ;;
	esac
	case $mode in
	*--ata-poll*) check "$mode: channels polled" grep -q 'ata: hdc: .*, polled' "$out" ;;
	esac
done

if ! kvm_short; then
	bare_boot "$out" "$RAW" "" -nic none -cdrom "$s2" $(ide "$s3" 3)
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'ATAPI device, not used' "$out" &&
			grep -q 'BlkRaw: disk 0: hdd' "$out" && grep -q '^10 passed, 0 failed' "$out"; then
		pass "CD-ROM on hdc skipped, disk alone on the secondary slave works"
	else
		fail "CD-ROM + secondary slave (status $rc)"
		show "$out"
	fi
fi

# Device errors: QEMU's blkdebug fails every request once the first read
# was seen; the driver must turn the drive's ERR into -EIO (no hang, no
# panic) while range errors stay -EINVAL.
printf '[inject-error]\nevent = "read_aio"\nerrno = "5"\n' >"$SCRATCH/blkdebug.conf"
truncate -s 4M "$SCRATCH/e.img"
error_modes=("" "--ata-pio")
kvm_short && error_modes=()
for mode in "${error_modes[@]}"; do
	bare_boot "$out" "$RAW" "$mode" -nic none -nodefaults \
		-drive "file=blkdebug:$SCRATCH/blkdebug.conf:$SCRATCH/e.img,format=raw,if=ide,index=0"
	rc=$?
	if [ $rc -gt 0 ] && [ $rc -lt 124 ] && grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' "$out" &&
			grep -q 'FAIL: hda: .*300-sector' "$out" &&
			grep -q 'PASS: hda: .*read at the end is -EINVAL' "$out"; then
		pass "injected device errors (${mode:-dma}): requests fail, the kernel goes on"
	else
		fail "injected device errors (${mode:-dma}) (status $rc)"
		show "$out"
	fi
done

# A drive that stops answering: QEMU throttled to 4 KiB/s, so a 128 KiB
# command outlives its 10 s deadline; it fails with -EIO after a channel
# reset and the service ends on its own (about a minute under TCG).
truncate -s 4M "$SCRATCH/slow.img"
bare_boot "$out" "$RAW" "" -nic none -nodefaults \
	-drive "file=$SCRATCH/slow.img,format=raw,if=ide,index=0,throttling.bps-total=4096"
rc=$?
if [ $rc -gt 0 ] && [ $rc -lt 124 ] && grep -q 'command timed out; resetting the channel' "$out" &&
		grep -q 'FAIL: hda: .*300-sector' "$out" && grep -qE '^[0-9]+ passed, [0-9]+ failed' "$out"; then
	pass "deadline: a stalled command fails with -EIO, no hang"
else
	fail "deadline (status $rc)"
	show "$out"
fi

kvm_short && { finish; exit; }
truncate -s 4M "$SCRATCH/p.img"
build/posix/tests/apps/BlkRaw --disk "$SCRATCH/p.img" >"$out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^10 passed, 0 failed' "$out"; then
	pass "BlkRaw on posix"
else
	fail "BlkRaw on posix (status $rc)"
	show "$out"
fi
finish
