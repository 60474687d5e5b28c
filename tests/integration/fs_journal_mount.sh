#!/bin/bash
# fs_journal_mount.sh: journalled (ext3) images in read-write use: made by
# mke2fs -t ext3 and by toro-fs mkfs -j, at 1 and 4 KiB blocks, filled,
# edited and emptied again through toro-fs; after each step e2fsck -fn is
# clean, the journal is left empty and needs_recovery clear, and the files
# read back (debugfs) equal what was put in. Also mkfs -j's own format.
source "$(dirname "$0")/fs_lib.bash"
need mke2fs e2fsck debugfs dumpe2fs diff

S=$W/src
mkdir -p "$S/a/b"
cp -a /usr/include/linux/*.h "$S/a/" 2>/dev/null
head -c 2000000 /dev/urandom >"$S/big"      # double indirect at 1 KiB
echo small >"$S/a/b/small"
ln -s a/b/small "$S/link"

clean_journal() {
	dumpe2fs -h "$1" 2>/dev/null | grep -q needs_recovery && return 1
	[ "$(dumpe2fs -h "$1" 2>/dev/null | awk '/^Journal start:/ { print $3 }')" = 0 ]
}

use_image() {
	local name=$1 img=$2
	check "$name: put -r" "$TORO_FS" "$img" put -r "$S" /src
	check "$name: e2fsck -fn clean after put" fsck_clean "$img"
	check "$name: journal empty, needs_recovery clear" clean_journal "$img"
	check "$name: big file reads back (debugfs)" same_bytes "$img" /src/big "$S/big"
	check "$name: mv, rm, mkdir" sh -c "'$TORO_FS' '$img' mv /src/a /src/moved &&
		'$TORO_FS' '$img' rm /src/big && '$TORO_FS' '$img' mkdir -p /x/y/z"
	check "$name: e2fsck -fn clean after edits" fsck_clean "$img"
	check "$name: rm -r everything" "$TORO_FS" "$img" rm -r /src /x
	check "$name: e2fsck -fn clean when empty" fsck_clean "$img"
	check "$name: journal still intact (logdump)" sh -c \
		"debugfs -R logdump '$img' 2>&1 | grep -q 'Journal starts at block'"
}

for bs in 1024 4096; do
	img=$W/mke2fs-$bs.img
	mke2fs -q -F -t ext3 -b "$bs" "$img" 32M >/dev/null 2>&1
	use_image "mke2fs -t ext3 -b $bs" "$img"

	img=$W/toro-$bs.img
	rm -f "$img"
	check "toro-fs mkfs -j -b $bs" "$TORO_FS" mkfs "$img" 32M -b "$bs" -j
	check "mkfs -j -b $bs: e2fsck -fn clean" fsck_clean "$img"
	dumpe2fs -h "$img" 2>/dev/null | grep -q "has_journal" &&
		pass "mkfs -j -b $bs: has_journal" || fail "mkfs -j -b $bs: no has_journal"
	# mke2fs's sizes: 1024 blocks below 32768 blocks, 4096 up to 256Ki.
	jblocks=$([ "$bs" = 1024 ] && echo 4096 || echo 1024)
	[ "$(dbg "$img" "stat <8>" | grep -o 'Size: [0-9]*' | head -1 | awk '{print $2}')" = $((jblocks * bs)) ] &&
		pass "mkfs -j -b $bs: a journal of $jblocks blocks in inode 8" ||
		fail "mkfs -j -b $bs: journal inode size"
	use_image "toro-fs mkfs -j -b $bs" "$img"
done

# Too small for a journal: refused with a message, not a broken image.
rm -f "$W/tiny.img"
"$TORO_FS" mkfs "$W/tiny.img" 1M -j >"$W/tiny.out" 2>&1
[ $? = 3 ] && grep -q "too small for a journal" "$W/tiny.out" &&
	pass "mkfs -j on 1M refused" || fail "mkfs -j on 1M"

finish
