# fssuite_lib.bash: what the FsSuite runs share (ata_fssuite.sh,
# virtio_fssuite.sh; sourced after tests/lib.sh and ata_lib.bash; not a
# suite). Uses SCRATCH, TOROFS and out from the suite.
#
# mkimages KIND [BSIZE]: fresh big.img (96 MiB) and small.img (512 KiB, or
# 64 blocks when larger) in SCRATCH, by mke2fs or toro-fs mkfs, with BSIZE
# (default 1024) byte blocks.
# host_checks LABEL [BSIZE]: e2fsck -fn both images, and debugfs spot
# checks of what FsSuite leaves in /keep.
# summary_ok: the run in $out ended "N passed, 0 failed".
# verdict LABEL STATUS [PATTERN]: pass or fail the run in $out.
mkimages() {   # KIND [BSIZE]
	local b=${2:-1024} small=512
	[ $((b * 64 / 1024)) -gt $small ] && small=$((b * 64 / 1024))
	rm -f "$SCRATCH/big.img" "$SCRATCH/small.img"
	if [ "$1" = mke2fs ]; then
		# -F: mke2fs warns about blocks above the host's page size.
		mke2fs -q -F -t ext2 -b "$b" "$SCRATCH/big.img" 96M >/dev/null 2>&1 &&
		mke2fs -q -F -t ext2 -b "$b" -N 64 "$SCRATCH/small.img" ${small}K >/dev/null 2>&1
	else
		"$TOROFS" mkfs "$SCRATCH/big.img" 96M -b "$b" >/dev/null &&
		"$TOROFS" mkfs "$SCRATCH/small.img" ${small}K -b "$b" >/dev/null
	fi
}

host_checks() {   # LABEL [BSIZE]
	local l=$1 img=$SCRATCH/big.img b=${2:-1024}
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
	# 75 MiB needs the triple indirect block only with 1 KiB blocks.
	[ "$b" = 1024 ] && check "$l: debugfs /keep/sparse has TIND blocks" \
		bash -c "debugfs -R 'stat /keep/sparse' '$img' 2>/dev/null | grep -q '(TIND)'"
	check "$l: debugfs TRIPLE at 75 MiB" \
		bash -c "debugfs -R 'cat /keep/sparse' '$img' 2>/dev/null | tail -c 6 | grep -q TRIPLE"
	check "$l: debugfs ls /keep/many: 300 files" \
		[ "$(debugfs -R 'ls -l /keep/many' "$img" 2>/dev/null | grep -c ' f[0-9][0-9][0-9] *$')" = 300 ]
	check "$l: small image holds 'again'" \
		bash -c "debugfs -R 'ls /' '$SCRATCH/small.img' 2>/dev/null | grep -q again"
}

summary_ok() { grep -qE '^[0-9]+ passed, 0 failed' "$out"; }

# verdict LABEL STATUS [PATTERN]: pass LABEL (with the run's closing line)
# if the run in $out ended with STATUS 0, no failure and a line matching
# PATTERN; else fail it and show what was not a PASS.
verdict() {
	if [ "$2" -eq 0 ] && summary_ok && grep -q -- "${3:-}" "$out"; then
		pass "$1: $(tail -1 "$out")"
	else
		fail "$1 (status $2)"
		grep -v '^PASS' "$out" | show /dev/stdin
	fi
}
