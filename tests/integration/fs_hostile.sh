#!/bin/bash
# fs_hostile.sh: images whose metadata lies, made here with debugfs, and
# what the driver must do with them: never take an inode or block the
# image says is free when it is not, never remove a name whose link count
# disagrees; refuse a read-write mount of an image whose bitmaps or counts
# are damaged, naming what is wrong, but mount it read-only (toro-fs's read
# commands; torofuse falls back to read-only, as fuse2fs does) so its files
# can be copied out. After every write attempt, e2fsck -fn must report
# exactly what it reported before: no damage spread.
source "$(dirname "$0")/fs_lib.bash"
need mke2fs e2fsck debugfs

img=$W/h.img
T() { timeout 60 "$TORO_FS" "$img" "$@"; }
dbg() { debugfs -w -R "$1" "$img" >/dev/null 2>&1; }
field() { debugfs -R "stat $1" "$img" 2>/dev/null | sed -n "s/.*$2 *\([0-9]*\).*/\1/p" | head -1; }
# e2fsck -fn's findings, without its banner, timing and superblock-state lines.
findings() { e2fsck -fn "$img" 2>&1 | grep -v -e '^e2fsck [0-9]' -e 'was not cleanly' -e 'contains a file system with errors'; }

# A small image with a few files and directories (one group).
fresh() {
	rm -f "$img"
	mke2fs -q -F -t ext2 -b 1024 "$img" 4M >/dev/null 2>&1
	echo hello >"$W/hello"
	T mkdir /d /d/empty /keep >/dev/null && T put "$W/hello" /keep/f >/dev/null &&
		T put "$W/hello" /d/g >/dev/null
}
# desc_free KIND N: set group 0's and the superblock's free count of KIND
# (inodes/blocks) by N, so that the counts agree with a bitmap lie.
adjust() {
	local g s
	g=$(dumpe2fs "$img" 2>/dev/null | sed -n "s/.* \([0-9]*\) free $1,.*/\1/p" | head -1)
	s=$(dumpe2fs -h "$img" 2>/dev/null | sed -n "s/^Free $1: *//p")
	dbg "set_bg 0 free_${1}_count $((g + $2))"
	dbg "ssv free_${1}_count $((s + $2))"
}
before() { findings >"$W/fsck.before"; }
unchanged() { findings >"$W/fsck.after"; diff "$W/fsck.before" "$W/fsck.after"; }

# 1. Inode bitmap lies (lost+found, inode 11, marked free; counts as they
#    were): the counts disagree with the bitmap, read-write refused.
fresh
dbg "freei <11>"
before
expect_exit "freei: read-write mount refused, naming the count" 3 \
	"free inodes, its bitmap .*; read-write mount refused" T mkdir /new
check "freei: read commands still work (read-only mount)" test "$(T cat /keep/f 2>/dev/null)" = hello
check "freei: ... and say why it is read-only" bash -c "'$TORO_FS' '$img' ls / 2>&1 | grep -q 'mounted read-only'"
check "freei: get -r copies the files out" T get -r /keep "$W/out1"
check "freei: e2fsck reports nothing new" unchanged

# 2. The same lie with counts that agree: the mount check passes, and the
#    allocation finds inode 11 in use (links, mode) and refuses it.
fresh
dbg "freei <11>"
adjust inodes 1
before
expect_exit "freei + counts: mkdir refuses an inode in use" 1 "Input/output error" T mkdir /new
check "freei + counts: lost+found is still itself" test "$(field /lost+found Links:)" = 2
check "freei + counts: no /new" bash -c "! debugfs -R 'ls /' '$img' 2>/dev/null | grep -qw new"
check "freei + counts: e2fsck reports nothing new" unchanged

# 3. A metadata block (the inode table) marked free in the block bitmap.
fresh
itable=$(dumpe2fs "$img" 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -1)
dbg "freeb $itable"
adjust blocks 1
before
expect_exit "freeb metadata: read-write mount refused, naming the block" 3 \
	"marks metadata block $itable free" T put "$W/hello" /new
check "freeb metadata: files still readable" test "$(T cat /d/g 2>/dev/null)" = hello
check "freeb metadata: e2fsck reports nothing new" unchanged

# 4. An empty directory whose link count is 1 (should be 2): rmdir is
#    refused as corruption, the directory stays.
fresh
dbg "sif /d/empty links_count 1"
before
expect_exit "links 1: rmdir refused" 1 "Input/output error" T rmdir /d/empty
check "links 1: the entry is still there" bash -c "debugfs -R 'ls /d' '$img' 2>/dev/null | grep -qw empty"
check "links 1: e2fsck reports nothing new" unchanged

# 5. A directory counting no subdirectories (links 2) that has one: the
#    removal of that subdirectory is refused.
fresh
dbg "sif /d links_count 2"
before
expect_exit "parent links 2: rmdir of its subdirectory refused" 1 "Input/output error" T rmdir /d/empty
expect_exit "parent links 2: rm -r refused too" 1 "Input/output error" T rm -r /d
check "parent links 2: the subdirectory is still there" \
	bash -c "debugfs -R 'ls /d' '$img' 2>/dev/null | grep -qw empty"
check "parent links 2: e2fsck reports nothing new" unchanged

# 6. A named file with no links: unlink refused (it would go below zero).
fresh
dbg "sif /keep/f links_count 0"
before
expect_exit "links 0: rm refused" 1 "Input/output error" T rm /keep/f
check "links 0: e2fsck reports nothing new" unchanged

# 7. Bad blocks. mke2fs -l lists block 1000 as bad (marked used): a good
#    image, read and written normally.
rm -f "$img"
echo 1000 >"$W/bad.list"
mke2fs -q -F -t ext2 -b 1024 -l "$W/bad.list" "$img" 4M >/dev/null 2>&1
check "bad blocks: a clean list mounts read-write" T mkdir /ok
check "bad blocks: writes never take the bad block" bash -c \
	"head -c 3000000 /dev/urandom >'$W/big' && '$TORO_FS' '$img' put '$W/big' /big &&
	 ! debugfs -R 'icheck 1000' '$img' 2>/dev/null | grep -q '^1000[[:space:]]*[0-9]'"
check "bad blocks: e2fsck clean after" fsck_clean "$img"
#    The bad block marked free, counts agreeing: refused, naming it.
T rm /big
dbg "freeb 1000"
adjust blocks 1
before
expect_exit "bad block free in the bitmap: read-write refused" 3 \
	"bad block 1000 of the bad-blocks inode is free in the block bitmap" T mkdir /new
check "bad block free: e2fsck reports nothing new" unchanged
#    The list names an inode-table block: a new inode would land in it.
rm -f "$img"
mke2fs -q -F -t ext2 -b 1024 "$img" 4M >/dev/null 2>&1
itable=$(dumpe2fs "$img" 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -1)
dbg "sif <1> block[0] $((itable + 3))"
dbg "sif <1> size 1024"
before
expect_exit "bad-blocks list naming the inode table: read-write refused" 3 \
	"bad-blocks inode lists metadata block $((itable + 3))" T mkdir /new
check "bad-blocks list naming the inode table: e2fsck reports nothing new" unchanged

# 8. Times before 1970 and after 2038 written by debugfs (256-byte inodes:
#    the epoch in the extra field): toro-fs reads what debugfs reads, and
#    get -r copies them out.
rm -f "$img"
mke2fs -q -F -t ext2 -b 1024 -I 256 "$img" 4M >/dev/null 2>&1
T put "$W/hello" /f >/dev/null
dbg "sif /f mtime 19500102030405"
dbg "sif /f atime 22000101000000"
dbg_time() { debugfs -R "stat /f" "$img" 2>/dev/null | sed -n "s/^ *$1: .* -- //p"; }
toro_time() {   # the same date in debugfs's format
	date -u -d "$("$TORO_FS" "$img" stat /f | sed -n "s/^$1: \(.*\)\.[0-9]* UTC/\1/p")" '+%a %b %e %H:%M:%S %Y'
}
check "times: 1950 read as debugfs reads it ($(dbg_time mtime))" test "$(toro_time Modify)" = "$(dbg_time mtime)"
check "times: 2200 read as debugfs reads it ($(dbg_time atime))" test "$(toro_time Access)" = "$(dbg_time atime)"
check "times: get -r copies them" T get -r / "$W/out8"
check "times: the copy keeps 1950 and 2200" test "$(TZ=UTC stat -c '%x %y' "$W/out8/f" | cut -c1-4,37-40)" = "22001950"

# 9. A directory cycle (/d/up names /d): rm -r stops there, removing only
#    what lies before it, and e2fsck finds nothing new.
fresh
dbg "ln /d /d/empty/up"
before
expect_exit "cycle: rm -r stops at the cycle" 1 "directory cycle" T rm -r /d
check "cycle: /d is still there" bash -c "debugfs -R 'ls /' '$img' 2>/dev/null | grep -qw d"
check "cycle: e2fsck reports nothing new" unchanged

# 10. torofuse on a damaged image: read-only instead, files readable.
if [ -e /dev/fuse ] && [ "$(id -u)" = 0 ] && command -v fusermount3 >/dev/null; then
	fresh
	dbg "freei <11>"
	before
	mkdir -p "$W/m"
	"$ROOT/build/posix/bin/torofuse" "$img" "$W/m" >"$W/tf.err" 2>&1
	check "torofuse: mounts a damaged image" mountpoint -q "$W/m"
	check "torofuse: says it mounts read-only" grep -q "mounting read-only instead" "$W/tf.err"
	check "torofuse: files readable" test "$(cat "$W/m/keep/f" 2>/dev/null)" = hello
	check "torofuse: writes fail with EROFS" bash -c "touch '$W/m/x' 2>&1 | grep -q 'Read-only'"
	fusermount3 -u "$W/m" 2>/dev/null
	sleep 1
	check "torofuse: e2fsck reports nothing new" unchanged
fi
finish
