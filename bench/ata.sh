#!/bin/bash
# ata.sh: disk throughput, ATA against virtio-blk (a benchmark, not a test).
#   bench/ata.sh [MIB] [QD] [REPS]     (defaults 32, 8 and 3)
# 1. Sequential file throughput through the VFS: the FsBench service
#    (tests/apps/FsBench) writes then reads a file of MIB MiB on a fresh
#    ext2 image (4 KiB blocks).
# 2. Raw throughput through the block layer: the BlkBench service
#    (tests/apps/BlkBench) on a fresh, fully allocated image: 128 KiB
#    sequential writes and reads, one at a time, then 4 KiB random writes
#    and reads with QD requests in flight (each write phase ends with a
#    flush, timed with it).
# Each as
#   bare, IDE bus-master DMA          (QEMU pc: KVM if usable, else TCG)
#   bare, IDE PIO (--ata-pio)         (VFS only: too slow for the raw one)
#   bare, virtio-blk-pci              (pc, MSI-X)
#   bare, virtio-blk on virtio-mmio   (microvm)
#   posix (image file through libaio)
# in the same run, each REPS times (the median is shown: QEMU under TCG on
# a shared machine varies by 2x from run to run); tables of MB/s with
# ratios to bare IDE DMA.
cd "$(dirname "$0")/.." || exit 1
MIB=${1:-32}
QD=${2:-8}
REPS=${3:-3}
export PATH=$PATH:/usr/sbin:/sbin
make -s all test-apps-posix >/dev/null || exit 1
W=$(mktemp -d /tmp/toro-ata-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
IMG=$W/bench.img
SIZE=$((MIB * 2 + 64))M

fresh_fs() { rm -f "$IMG"; mke2fs -q -F -t ext2 -b 4096 "$IMG" "$SIZE" >/dev/null 2>&1; }
fresh_raw() {
	rm -f "$IMG"
	fallocate -l "$SIZE" "$IMG" 2>/dev/null || dd if=/dev/zero of="$IMG" bs=1M count=$((MIB * 2 + 64)) status=none
}

# run KIND NAME CMD...: the service's lines into $W/KIND-NAME.I, each run
# on a fresh image.
run() {
	local kind=$1 name=$2 i
	shift 2
	for i in $(seq "$REPS"); do
		"fresh_$kind"
		if ! "$@" >"$W/$kind-$name.$i" 2>&1 ||
				! grep -q '[A-Za-z]*Bench: \(read\|rand-read\)' "$W/$kind-$name.$i"; then
			echo "ata.sh: $kind $name failed:" >&2
			cat "$W/$kind-$name.$i" >&2
			exit 1
		fi
	done
}

Q="scripts/qemu-run.sh"
run fs dma $Q build/bare/tests/FsBench.elf --disk "$IMG" --append "$MIB" --timeout 900
run fs pio $Q build/bare/tests/FsBench.elf --disk "$IMG" --append "$MIB --ata-pio" --timeout 900
run fs virtio $Q build/bare/tests/FsBench.elf --vdisk "$IMG" --append "$MIB" --timeout 900
run fs mmio $Q build/bare/tests/FsBench.elf --machine microvm --vdisk "$IMG" --append "$MIB" --timeout 900
run fs posix build/posix/tests/apps/FsBench "$MIB" --disk "$IMG"
run raw dma $Q build/bare/tests/BlkBench.elf --disk "$IMG" --append "$MIB qd=$QD" --timeout 900
run raw virtio $Q build/bare/tests/BlkBench.elf --vdisk "$IMG" --append "$MIB qd=$QD" --timeout 900
run raw mmio $Q build/bare/tests/BlkBench.elf --machine microvm --vdisk "$IMG" --append "$MIB qd=$QD" --timeout 900
run raw posix build/posix/tests/apps/BlkBench "$MIB" "qd=$QD" --disk "$IMG"

# mbps KIND-NAME PHASE: the median MB/s of the runs.
mbps() {
	sed -n "s/^[A-Za-z]*Bench: $2 .* \([0-9.]*\) MB\/s.*/\1/p" "$W/$1".* |
		sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
ratio() { [ -n "$1" ] && [ -n "$2" ] && echo "scale=2; $1 / $2" | bc; }
label() {
	case $1 in
	dma) echo "bare, IDE DMA" ;;
	pio) echo "bare, IDE PIO" ;;
	virtio) echo "bare, virtio-blk-pci" ;;
	mmio) echo "bare, virtio-mmio (microvm)" ;;
	posix) echo "posix, image file" ;;
	esac
}
accel=TCG
[ -r /dev/kvm ] && [ -w /dev/kvm ] && accel=KVM

echo "Sequential throughput through the VFS, $MIB MiB file, ext2 4 KiB blocks (QEMU: $accel)"
printf '%-30s %11s %11s %10s %10s\n' "" "write MB/s" "read MB/s" "write/DMA" "read/DMA"
dw=$(mbps fs-dma write) dr=$(mbps fs-dma read)
for name in dma pio virtio mmio posix; do
	w=$(mbps fs-$name write) r=$(mbps fs-$name read)
	printf '%-30s %11s %11s %9sx %9sx\n' "$(label $name)" "$w" "$r" "$(ratio "$w" "$dw")" "$(ratio "$r" "$dr")"
done
echo
echo "Raw block layer, first $MIB MiB of the disk: 128 KiB sequential, 4 KiB random at queue depth $QD (MB/s; x = vs IDE DMA)"
printf '%-30s %15s %15s %15s %15s\n' "" "seq-write" "seq-read" "rand-write" "rand-read"
for name in dma virtio mmio posix; do
	line=$(printf '%-30s' "$(label $name)")
	for phase in seq-write seq-read rand-write rand-read; do
		v=$(mbps raw-$name $phase) base=$(mbps raw-dma $phase)
		line="$line $(printf '%15s' "$v ($(ratio "$v" "$base")x)")"
	done
	echo "$line"
done
