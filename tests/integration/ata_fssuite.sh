#!/usr/bin/env bash
# ata_fssuite.sh: one storage suite (tests/apps/FsSuite), two HALs. The same
# kernel-side source runs on posix (build/posix/tests/apps/FsSuite --disk
# --disk) and on bare in QEMU (IDE: the big image as primary master, the
# small one as secondary slave; DMA, then --ata-pio on two CPUs), each on
# fresh images made by mke2fs (1 KiB blocks) and by toro-fs mkfs. After
# each run the host checks both images with e2fsck -fn and spot-checks
# what the suite left in /keep with debugfs.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
cd "$TOP" || exit 1
scratch
ELF=build/bare/tests/FsSuite.elf
POSIX=build/posix/tests/apps/FsSuite
TOROFS=build/posix/bin/toro-fs
out=$SCRATCH/out

mkimages() {   # KIND
	rm -f "$SCRATCH/big.img" "$SCRATCH/small.img"
	if [ "$1" = mke2fs ]; then
		mke2fs -q -F -t ext2 -b 1024 "$SCRATCH/big.img" 96M >/dev/null 2>&1 &&
		mke2fs -q -F -t ext2 -b 1024 -N 64 "$SCRATCH/small.img" 512K >/dev/null 2>&1
	else
		"$TOROFS" mkfs "$SCRATCH/big.img" 96M -b 1024 >/dev/null &&
		"$TOROFS" mkfs "$SCRATCH/small.img" 512K -b 1024 >/dev/null
	fi
}

host_checks() {   # LABEL
	local l=$1 img=$SCRATCH/big.img
	check "$l: e2fsck -fn big image" quiet e2fsck -fn "$img"
	check "$l: e2fsck -fn small image" quiet e2fsck -fn "$SCRATCH/small.img"
	check "$l: debugfs cat /keep/hello.txt" \
		[ "$(debugfs -R 'cat /keep/hello.txt' "$img" 2>/dev/null)" = "hello, toro" ]
	check "$l: debugfs /keep/hard has 2 links" \
		bash -c "debugfs -R 'stat /keep/hard' '$img' 2>/dev/null | grep -q 'Links: 2'"
	check "$l: debugfs /keep/sym -> hello.txt" \
		bash -c "debugfs -R 'stat /keep/sym' '$img' 2>/dev/null | grep -q 'Fast link dest: \"hello.txt\"'"
	check "$l: debugfs /keep/sparse size" \
		bash -c "debugfs -R 'stat /keep/sparse' '$img' 2>/dev/null | grep -q 'Size: $(((75 << 20) + 6))'"
	check "$l: debugfs /keep/sparse has TIND blocks" \
		bash -c "debugfs -R 'stat /keep/sparse' '$img' 2>/dev/null | grep -q '(TIND)'"
	check "$l: debugfs TRIPLE at 75 MiB" \
		bash -c "debugfs -R 'cat /keep/sparse' '$img' 2>/dev/null | tail -c 6 | grep -q TRIPLE"
	check "$l: debugfs ls /keep/many: 300 files" \
		[ "$(debugfs -R 'ls -l /keep/many' "$img" 2>/dev/null | grep -c ' f[0-9][0-9][0-9] *$')" = 300 ]
	check "$l: small image holds 'again'" \
		bash -c "debugfs -R 'ls /' '$SCRATCH/small.img' 2>/dev/null | grep -q again"
}

summary_ok() { grep -qE '^[0-9]+ passed, 0 failed' "$out"; }

for kind in mke2fs toro-fs; do
	mkimages $kind || { fail "$kind: make images"; continue; }
	"$POSIX" --disk "$SCRATCH/big.img" --disk "$SCRATCH/small.img" >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && summary_ok; then
		pass "$kind: posix FsSuite: $(tail -1 "$out")"
	else
		fail "$kind: posix FsSuite (status $rc)"
		grep -v '^PASS' "$out" | show /dev/stdin
	fi
	host_checks "$kind posix"

	for mode in dma pio; do
		mkimages $kind
		append= smp=1
		[ $mode = pio ] && append=--ata-pio smp=2
		bare_boot "$out" "$ELF" "$append" -smp $smp -nic none -nodefaults \
			$(ide "$SCRATCH/big.img" 0) $(ide "$SCRATCH/small.img" 3)
		rc=$?
		if [ $rc -eq 0 ] && summary_ok; then
			pass "$kind: bare FsSuite on IDE ($mode): $(tail -1 "$out")"
		else
			fail "$kind: bare FsSuite on IDE ($mode) (status $rc)"
			grep -v '^PASS' "$out" | show /dev/stdin
		fi
		host_checks "$kind bare $mode"
	done
done
finish
