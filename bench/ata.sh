#!/bin/bash
# ata.sh: sequential file throughput through the VFS (a benchmark, not a
# test): the FsBench service (tests/apps/FsBench) writes then reads a file
# of MIB MiB on one fresh ext2 image (4 KiB blocks), as
#   bare, IDE bus-master DMA     (QEMU: KVM if usable, else TCG)
#   bare, IDE PIO (--ata-pio)
#   posix (image file through libaio)
# in the same run, and prints a table of MB/s with ratios to bare DMA.
#   bench/ata.sh [MIB]        (default 32)
cd "$(dirname "$0")/.." || exit 1
MIB=${1:-32}
export PATH=$PATH:/usr/sbin:/sbin
make -s all test-apps-posix >/dev/null || exit 1
W=$(mktemp -d /tmp/toro-ata-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
IMG=$W/bench.img
SIZE=$((MIB * 2 + 64))M

fresh() { rm -f "$IMG"; mke2fs -q -F -t ext2 -b 4096 "$IMG" "$SIZE" >/dev/null 2>&1; }

# run NAME CMD...: FsBench's two lines into $W/NAME.
run() {
	local name=$1
	shift
	fresh
	if ! "$@" >"$W/$name" 2>&1 || ! grep -q 'FsBench: read' "$W/$name"; then
		echo "ata.sh: $name failed:" >&2
		cat "$W/$name" >&2
		exit 1
	fi
}

run dma scripts/qemu-run.sh build/bare/tests/FsBench.elf --disk "$IMG" --append "$MIB" --timeout 900
run pio scripts/qemu-run.sh build/bare/tests/FsBench.elf --disk "$IMG" --append "$MIB --ata-pio" --timeout 900
run posix build/posix/tests/apps/FsBench "$MIB" --disk "$IMG"

mbps() { sed -n "s/^FsBench: $2 .* \([0-9.]*\) MB\/s.*/\1/p" "$W/$1"; }
accel=TCG
[ -r /dev/kvm ] && [ -w /dev/kvm ] && accel=KVM
echo "Sequential throughput through the VFS, $MIB MiB file, ext2 4 KiB blocks (QEMU: $accel)"
printf '%-26s %12s %12s %14s %14s\n' "" "write MB/s" "read MB/s" "write vs DMA" "read vs DMA"
dw=$(mbps dma write) dr=$(mbps dma read)
for name in dma pio posix; do
	w=$(mbps $name write) r=$(mbps $name read)
	case $name in
	dma) label="bare, IDE DMA" ;;
	pio) label="bare, IDE PIO" ;;
	posix) label="posix, image file" ;;
	esac
	printf '%-26s %12s %12s %13sx %13sx\n' "$label" "$w" "$r" \
		"$(echo "scale=2; $w / $dw" | bc)" "$(echo "scale=2; $r / $dr" | bc)"
done
