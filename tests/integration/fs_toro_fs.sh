#!/bin/bash
# fs_toro_fs.sh: toro-fs on images made by the real tools (genext2fs, mke2fs
# with 1, 2 and 4 KiB blocks, revisions 0 and 1), with e2fsprogs as the
# oracle: after every write, e2fsck -fn is clean and debugfs reads back the
# same bytes, modes, owners, times and link counts; get -r gives back the
# tree put in (diff -r).
source "$(dirname "$0")/fs_lib.bash"
need mke2fs genext2fs e2fsck debugfs diff

# ---- a source tree with every kind of file ----
S=$W/src
mkdir -p "$S"
cp -a /usr/include/linux "$S/linux"
mkdir -p "$S/deep/a/b/c/d/e/f/g/h" "$S/special" "$S/sticky" "$S/empty_dir"
echo deep >"$S/deep/a/b/c/d/e/f/g/h/leaf"
: >"$S/empty"
head -c 3000000 /dev/urandom >"$S/big"          # double indirect at 1 KiB
truncate -s 20M "$S/sparse"
echo middle | dd of="$S/sparse" bs=1 seek=10000000 conv=notrunc status=none
ln "$S/big" "$S/big.hard"
ln "$S/empty" "$S/deep/empty.hard"
ln -s linux/input.h "$S/rel.link"
ln -s /etc/passwd "$S/abs.link"
ln -s nowhere "$S/dangling"
ln -s "$(printf 'x%.0s' $(seq 1 200))" "$S/long.target"   # not a fast symlink
LONG=$(printf 'L%.0s' $(seq 1 255))
echo long >"$S/$LONG"
mkfifo "$S/special/fifo"
chmod 4755 "$S/big"
chmod 1777 "$S/sticky"
chmod 0700 "$S/empty_dir"
touch -d '2001-02-03 04:05:06' "$S/empty"
# A time before 1970 (negative seconds), kept apart from the tree: debugfs
# reads such times on 128-byte inodes as unsigned (2096).
echo old >"$W/old"
touch -d '1960-05-06 07:08:09 UTC' "$W/old"
touch -h -d '2002-03-04 05:06:07' "$S/rel.link"
if [ "$(id -u)" = 0 ]; then
	chown 1234:5678 "$S/deep/a"
	chown -h 77:88 "$S/rel.link"
fi

# The dumped tree has no fifo (debugfs rdump skips them): compare without.
mkdir -p "$W/ref"
cp -a "$S" "$W/ref/src"
rm "$W/ref/src/special/fifo"
touch -r "$S/special" "$W/ref/src/special"

run_image() {
	local kind=$1 img=$W/$1.img
	shift
	rm -f "$img"
	if [ "$kind" = genext2fs ]; then
		genext2fs -B 1024 -b 65536 -N 4096 "$img"
	else
		mke2fs -q -F -t ext2 -N 4096 "$@" "$img" 64M >/dev/null
	fi
	[ -f "$img" ] || { fail "$kind: making the image"; return; }

	check "$kind: put -r a tree" "$TORO_FS" "$img" put -r "$S" /src
	check "$kind: e2fsck clean after put -r" fsck_clean "$img"
	rm -rf "$W/dump" && mkdir "$W/dump"
	dbg "$img" "rdump /src $W/dump" >/dev/null
	check "$kind: debugfs reads the same bytes" diff -r --no-dereference "$W/ref/src" "$W/dump/src"
	check "$kind: debugfs reads the same modes, owners, times" same_listing "$W/ref/src" "$W/dump/src" dumped
	check "$kind: hard links kept" test "$(dbg_field "$img" /src/big.hard Links)" = 2 -a \
		"$(dbg "$img" "stat /src/big" | grep -o 'Inode: [0-9]*')" = \
		"$(dbg "$img" "stat /src/big.hard" | grep -o 'Inode: [0-9]*')"
	check "$kind: fifo made" bash -c "debugfs -R 'stat /src/special/fifo' '$img' 2>/dev/null | grep -q 'Type: FIFO'"
	check "$kind: setuid and sticky modes kept" test "$(dbg_field "$img" /src/big Mode)" = 04755 -a \
		"$(dbg_field "$img" /src/sticky Mode)" = 01777
	check "$kind: link owner and time kept" test "$(dbg_field "$img" /src/rel.link User)" = \
		"$(stat -c %u "$S/rel.link")" -a "$(dbg "$img" "stat /src/rel.link" | grep -o 'mtime: 0x[0-9a-f]*')" = \
		"$(printf 'mtime: 0x%08x' "$(stat -c %Y "$S/rel.link")")"

	rm -rf "$W/back"
	check "$kind: get -r back" "$TORO_FS" "$img" get -r /src "$W/back"
	check "$kind: get -r gives the same tree" diff -r --no-dereference -x fifo "$S" "$W/back"
	check "$kind: get -r keeps modes, owners, times" same_listing "$S" "$W/back"
	check "$kind: get -r keeps hard links" test "$(stat -c %i "$W/back/big")" = "$(stat -c %i "$W/back/big.hard")"
	check "$kind: cat" cmp <("$TORO_FS" "$img" cat /src/linux/input.h) "$S/linux/input.h"
	check "$kind: put a file from 1960" "$TORO_FS" "$img" put "$W/old" /old
	check "$kind: stat shows a time before 1970" \
		bash -c "'$TORO_FS' '$img' stat /old | grep -q '^Modify: 1960-05-06 07:08:09.000000000 UTC'"
	rm -f "$W/old.back"
	check "$kind: get keeps a time before 1970" bash -c \
		"'$TORO_FS' '$img' get /old '$W/old.back' && [ \"\$(stat -c %Y '$W/old.back')\" = \"\$(stat -c %Y '$W/old')\" ]"
	"$TORO_FS" "$img" rm /old

	# Namespace changes, each checked by e2fsck and debugfs.
	check "$kind: mkdir -p" "$TORO_FS" "$img" mkdir -p /s/a/b
	check "$kind: mv a directory" "$TORO_FS" "$img" mv /src/linux /s/a/b/linux
	check "$kind: ln" "$TORO_FS" "$img" ln /src/big /s/big3
	check "$kind: ln -s" "$TORO_FS" "$img" ln -s a/b/linux/input.h /s/l
	check "$kind: rm" "$TORO_FS" "$img" rm /src/empty
	check "$kind: rm -r" "$TORO_FS" "$img" rm -r /s/a/b/linux/netfilter
	check "$kind: rmdir" "$TORO_FS" "$img" rmdir /src/empty_dir
	check "$kind: truncate down" "$TORO_FS" "$img" truncate /src/big 1000
	check "$kind: truncate up" "$TORO_FS" "$img" truncate /src/deep/a/b/c/d/e/f/g/h/leaf 100K
	check "$kind: chmod" "$TORO_FS" "$img" chmod 0640 /s/a/b/linux/input.h
	check "$kind: chown" "$TORO_FS" "$img" chown 42:43 /s
	check "$kind: setfattr" "$TORO_FS" "$img" setfattr user.note "a note" /s
	check "$kind: getfattr" test "$("$TORO_FS" "$img" getfattr /s user.note)" = "a note"
	check "$kind: e2fsck clean after the changes" fsck_clean "$img"
	check "$kind: moved file has its bytes" same_bytes "$img" /s/a/b/linux/input.h "$S/linux/input.h"
	check "$kind: moved directory is gone from the old place" \
		bash -c "debugfs -R 'stat /src/linux' '$img' 2>&1 | grep -q 'not found'"
	check "$kind: link count 3 after ln" test "$(dbg_field "$img" /s/big3 Links)" = 3
	check "$kind: truncated size" test "$(dbg_field "$img" /src/big.hard Size)" = 1000
	check "$kind: truncated bytes" same_bytes "$img" /src/big.hard <(head -c 1000 "$S/big")
	check "$kind: grown size" test "$(dbg_field "$img" /src/deep/a/b/c/d/e/f/g/h/leaf Size)" = 102400
	check "$kind: symlink target" test "$(dbg "$img" "stat /s/l" | grep -o 'Fast link dest: "[^"]*"')" = \
		'Fast link dest: "a/b/linux/input.h"'
	check "$kind: chmod seen" test "$(dbg_field "$img" /s/a/b/linux/input.h Mode)" = 0640
	check "$kind: setfattr seen" grep -q 'user.note (6) = "a note"' <(debugfs -R "ea_list /s" "$img" 2>/dev/null)
	check "$kind: chown seen" test "$(dbg_field "$img" /s User)" = 42 -a "$(dbg_field "$img" /s Group)" = 43
	check "$kind: removed subtree gone" \
		bash -c "debugfs -R 'ls /s/a/b/linux' '$img' 2>/dev/null | grep -vq netfilter/"
	check "$kind: rm'd name gone, its other link lives" test "$(dbg_field "$img" /src/deep/empty.hard Links)" = 1
	check "$kind: cat of a symlinked file" cmp <("$TORO_FS" "$img" cat /s/l) "$S/linux/input.h"
}

run_image genext2fs
run_image mke2fs-1k-r0 -b 1024 -r 0
run_image mke2fs-1k-r1 -b 1024 -r 1
run_image mke2fs-2k-r1 -b 2048 -r 1
run_image mke2fs-4k-r0 -b 4096 -r 0
run_image mke2fs-4k-r1 -b 4096 -r 1

finish
