#!/usr/bin/env bash
# virtio_blk.sh: the virtio-blk driver below any file system, and
# ToroLogger above it.
#   BlkRaw (tests/apps/BlkRaw) on virtio-blk-pci: modern with MSI-X and
#   legacy with INTx, two CPUs (completions of each CPU's requests on that
#   CPU); a 4-entry queue with 4 KiB descriptors (--virtio-blk-seg=4K:
#   every 300-sector request splits, pieces wait in software for the ring);
#   an IDE disk and a virtio disk together (numbered ATA first), and again
#   under qboot, which leaves the BARs for the kernel to assign; a
#   read-only disk with 4 KiB logical blocks (-EROFS, sector size 4096);
#   injected device errors (blkdebug) turning into -EIO, no hang.
#   ToroLogger: three runs on one virtio-blk image append three lines,
#   e2fsck -fn clean.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
cd "$TOP" || exit 1
scratch
RAW=build/bare/tests/BlkRaw.elf
LOGGER=build/bare/ToroLogger.elf
out=$SCRATCH/out

vdisk() { echo "-drive file=$1,format=raw,if=none,id=$2${4:+,$4} -device virtio-blk-pci,drive=$2${3:+,$3}"; }

raw() {   # LABEL EXPECT-SUMMARY APPEND QEMU-ARGS...
	local label=$1 want=$2 append=$3
	shift 3
	bare_boot "$out" "$RAW" "$append" -nic none -nodefaults "$@"
	local rc=$?
	if [ $rc -eq 0 ] && grep -q "^$want$" "$out"; then
		pass "BlkRaw: $label: $want"
	else
		fail "BlkRaw: $label (status $rc)"
		show "$out"
	fi
}

truncate -s 16M "$SCRATCH/a.img"
raw "modern, MSI-X, 2 CPUs" "10 passed, 0 failed" "" -smp 2 $(vdisk "$SCRATCH/a.img" d0)
check "modern: MSI-X and flush" grep -q 'virtio-blk 00:..\..: virtio 1.x, MSI-X .*, flush' "$out"
raw "legacy, INTx, 2 CPUs" "10 passed, 0 failed" "" -smp 2 \
	$(vdisk "$SCRATCH/a.img" d0 disable-modern=on,vectors=0)
check "legacy: INTx" grep -q 'virtio-blk 00:..\..: legacy, INTx' "$out"
raw "4-entry queue, 4 KiB descriptors, 2 CPUs" "10 passed, 0 failed" "--virtio-blk-seg=4K" \
	-smp 2 $(vdisk "$SCRATCH/a.img" d0 queue-size=4)
check "small queue: 4 descriptors, 8 KiB a chain" \
	grep -q 'virtio-blk .*4 descriptors, 8 KiB a chain' "$out"

truncate -s 16M "$SCRATCH/ide.img"
raw "IDE and virtio together" "19 passed, 0 failed" "" -smp 1 \
	$(ide "$SCRATCH/ide.img" 0) $(vdisk "$SCRATCH/a.img" d0)
check "numbering: hda first, then virtio-blk" bash -c \
	"grep -q 'BlkRaw: disk 0: hda' '$out' && grep -q 'BlkRaw: disk 1: virtio-blk' '$out'"

# qboot, QEMU's minimal firmware (qemu-run.sh --firmware), assigns no BAR:
# the kernel places them (hal/bare/pci_assign.c) and both drivers work
# through them, virtio's MSI-X table and IDE's bus-master DMA included.
TORO_QEMU_FIRMWARE=qboot raw "qboot firmware: IDE and virtio, 2 CPUs" "19 passed, 0 failed" \
	"--lspci" -smp 2 $(ide "$SCRATCH/ide.img" 0) $(vdisk "$SCRATCH/a.img" d0)
check "qboot: every BAR has an address" bash -c \
	"grep -q 'BAR4: memory at febf' '$out' && ! grep -q ' at 0 \[' '$out'"
check "qboot: IDE with DMA, virtio with MSI-X" bash -c \
	"grep -q 'ata: hda: .*, DMA' '$out' && grep -q 'virtio 1.x, MSI-X' '$out'"

printf 'read-only disk\n' | dd of="$SCRATCH/a.img" conv=notrunc status=none
raw "read-only, 4 KiB sectors" "4 passed, 0 failed" "" \
	$(vdisk "$SCRATCH/a.img" d0 logical_block_size=4096,physical_block_size=4096 readonly=on)
check "read-only: 4096-byte sectors, read-only" \
	grep -q 'virtio-blk .*4096 sectors of 4096.*, read-only' "$out"
check "read-only: image untouched" \
	[ "$(head -c 15 "$SCRATCH/a.img")" = "read-only disk" ]

printf '[inject-error]\nevent = "read_aio"\nerrno = "5"\n' >"$SCRATCH/blkdebug.conf"
truncate -s 4M "$SCRATCH/e.img"
bare_boot "$out" "$RAW" "" -nic none -nodefaults \
	-drive "file=blkdebug:$SCRATCH/blkdebug.conf:$SCRATCH/e.img,format=raw,if=none,id=d0" \
	-device virtio-blk-pci,drive=d0
rc=$?
if [ $rc -gt 0 ] && [ $rc -lt 124 ] && grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' "$out" &&
		grep -q 'FAIL: virtio-blk .*300-sector' "$out" &&
		grep -q 'PASS: virtio-blk .*read at the end is -EINVAL' "$out"; then
	pass "injected device errors: requests fail (-EIO), the kernel goes on"
else
	fail "injected device errors (status $rc)"
	show "$out"
fi

img=$SCRATCH/logger.img
if make -s image IMAGE="$img" >"$SCRATCH/make.log" 2>&1; then
	for run in 1 2 3; do
		smp=1
		[ $run = 3 ] && smp=2
		bare_boot "$out" "$LOGGER" "" -smp $smp -nic none -nodefaults $(vdisk "$img" d0)
		rc=$?
		if [ $rc -eq 0 ] && grep -q 'ToroLogger: appended' "$out"; then
			pass "ToroLogger on virtio-blk: run $run ($smp CPU) appended"
		else
			fail "ToroLogger on virtio-blk: run $run (status $rc)"
			show "$out"
		fi
	done
	check "ToroLogger: e2fsck -fn clean after three runs" quiet e2fsck -fn "$img"
	check "ToroLogger: /web/logs/log has the three lines" \
		[ "$(debugfs -R 'cat /web/logs/log' "$img" 2>/dev/null)" = "$(printf 'ToroLogger: run %04d\n' 1 2 3)" ]
else
	fail "make image"
	show "$SCRATCH/make.log"
fi
finish
