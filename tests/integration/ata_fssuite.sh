#!/usr/bin/env bash
# ata_fssuite.sh: one storage suite (tests/apps/FsSuite), two HALs. The same
# kernel-side source runs on posix (build/posix/tests/apps/FsSuite --disk
# --disk) and on bare in QEMU (IDE: the big image as primary master, the
# small one as secondary slave; DMA, then --ata-pio on two CPUs), each on
# fresh images made by mke2fs (1 KiB blocks) and by toro-fs mkfs. After
# each run the host checks both images with e2fsck -fn and spot-checks
# what the suite left in /keep with debugfs (fssuite_lib.bash; the same
# suite on virtio-blk: virtio_fssuite.sh).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
source "$(dirname "$0")/fssuite_lib.bash"
cd "$TOP" || exit 1
scratch
ELF=build/bare/tests/FsSuite.elf
POSIX=build/posix/tests/apps/FsSuite
TOROFS=build/posix/bin/toro-fs
out=$SCRATCH/out


for kind in mke2fs toro-fs; do
	mkimages $kind || { fail "$kind: make images"; continue; }
	"$POSIX" --disk "$SCRATCH/big.img" --disk "$SCRATCH/small.img" >"$out" 2>&1
	verdict "$kind: posix FsSuite" $?
	host_checks "$kind posix"

	for mode in dma pio; do
		mkimages $kind
		append= smp=1
		[ $mode = pio ] && append=--ata-pio smp=2
		bare_boot "$out" "$ELF" "$append" -smp $smp -nic none -nodefaults \
			$(ide "$SCRATCH/big.img" 0) $(ide "$SCRATCH/small.img" 3)
		verdict "$kind: bare FsSuite on IDE ($mode)" $?
		host_checks "$kind bare $mode"
	done
done
finish
