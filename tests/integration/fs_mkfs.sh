#!/bin/bash
# fs_mkfs.sh: images made by toro-fs mkfs (1, 2 and 4 KiB blocks, new and
# existing image files) pass e2fsck -fn, read as expected in debugfs and
# dumpe2fs, and take a real tree that comes back the same.
source "$(dirname "$0")/fs_lib.bash"
need e2fsck debugfs dumpe2fs diff

for spec in "1024 8M" "1024 64M" "2048 64M" "4096 64M" "4096 300M"; do
	set -- $spec
	bs=$1 size=$2 img=$W/mkfs-$1-$2.img
	check "mkfs -b $bs $size" "$TORO_FS" mkfs "$img" "$size" -b "$bs"
	check "mkfs -b $bs $size: image size" test "$(stat -c %s "$img")" = \
		"$(numfmt --from=iec "$size")"
	check "mkfs -b $bs $size: e2fsck clean" fsck_clean "$img"
	check "mkfs -b $bs $size: block size" \
		bash -c "dumpe2fs -h '$img' 2>/dev/null | grep -q '^Block size: *$bs\$'"
	check "mkfs -b $bs $size: root and lost+found" \
		bash -c "debugfs -R 'ls -l /' '$img' 2>/dev/null | grep -q lost+found"
	check "mkfs -b $bs $size: empty in toro-fs too" test -z "$("$TORO_FS" "$img" ls / | grep -v lost+found)"
	if [ "$size" != 8M ]; then
		rm -rf "$W/back"
		check "mkfs -b $bs $size: put -r" "$TORO_FS" "$img" put -r /usr/include/linux /linux
		check "mkfs -b $bs $size: e2fsck clean after put -r" fsck_clean "$img"
		check "mkfs -b $bs $size: get -r" "$TORO_FS" "$img" get -r /linux "$W/back"
		check "mkfs -b $bs $size: same tree" diff -r /usr/include/linux "$W/back"
		check "mkfs -b $bs $size: same attributes" same_listing /usr/include/linux "$W/back"
	fi
done

# The default block size, and an existing file that is grown.
img=$W/grow.img
head -c 100000 /dev/zero >"$img"
check "mkfs grows an existing small file" "$TORO_FS" mkfs "$img" 16M
check "grown image size" test "$(stat -c %s "$img")" = 16777216
check "grown image: e2fsck clean" fsck_clean "$img"
check "mkfs again over a used image" "$TORO_FS" mkfs "$img" 16M -b 2048
check "reformatted image: e2fsck clean" fsck_clean "$img"

finish
