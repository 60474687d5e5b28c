#!/usr/bin/env bash
# virtio_fssuite.sh: the storage suite (tests/apps/FsSuite) on virtio-blk,
# as ata_fssuite.sh runs it on IDE: the big image as the first disk, the
# small one as the second, each on fresh images made by mke2fs (1 KiB
# blocks) and by toro-fs mkfs; after each run the host checks both images
# (fssuite_lib.bash: e2fsck -fn, debugfs spot checks of /keep).
# Configurations: virtio-blk-pci modern on one CPU (MSI-X); legacy
# (disable-modern=on) on two CPUs with INTx (vectors=0), so completions of
# the second CPU's requests travel by IPI; and virtio-mmio on QEMU's
# microvm (devices from the kernel command line, IOAPIC edge interrupts).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
source "$(dirname "$0")/fssuite_lib.bash"
cd "$TOP" || exit 1
scratch
ELF=build/bare/tests/FsSuite.elf
TOROFS=build/posix/bin/toro-fs
out=$SCRATCH/out
[ -f "$ELF" ] && [ -x "$TOROFS" ] || { fail "missing $ELF or $TOROFS (make all)"; finish; exit; }

# vdisk FILE ID PROPS: a virtio-blk PCI disk.
vdisk() { echo "-drive file=$1,format=raw,if=none,id=$2 -device virtio-blk-pci,drive=$2${3:+,$3}"; }
# mdisk FILE ID: a virtio-blk disk on virtio-mmio (microvm).
mdisk() { echo "-drive file=$1,format=raw,if=none,id=$2 -device virtio-blk-device,drive=$2"; }

run() {   # KIND LABEL QEMU-ARGS...
	local kind=$1 label=$2
	shift 2
	mkimages "$kind" || { fail "$kind: make images"; return; }
	bare_boot "$out" "$ELF" "" -nic none "$@"
	verdict "$kind: bare FsSuite on virtio-blk ($label)" $? virtio-blk
	host_checks "$kind virtio $label"
}

for kind in mke2fs toro-fs; do
	run $kind "modern, MSI-X" -smp 1 -nodefaults \
		$(vdisk "$SCRATCH/big.img" d0) $(vdisk "$SCRATCH/small.img" d1)
	run $kind "legacy, INTx, 2 CPUs" -smp 2 -nodefaults \
		$(vdisk "$SCRATCH/big.img" d0 disable-modern=on,vectors=0) \
		$(vdisk "$SCRATCH/small.img" d1 disable-modern=on,vectors=0)
	run $kind "microvm, virtio-mmio, 2 CPUs" -M microvm -smp 2 -nodefaults \
		$(mdisk "$SCRATCH/big.img" d0) $(mdisk "$SCRATCH/small.img" d1)
done
finish
