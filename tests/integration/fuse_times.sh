#!/usr/bin/env bash
# fuse_times.sh: inode times as e2fsprogs reads them. On 256-byte inodes
# the extra fields keep nanoseconds and the epoch bits (1901..2446; the
# VFS's 64-bit nanoseconds reach 2262); on 128-byte inodes whole seconds
# from 1901 to 2038. Times are set through torofuse (touch -d), read back
# after a remount, by toro-fs stat and get, and by debugfs stat, whose
# raw fields (seconds:extra) must be ext4's encoding. Times that debugfs
# writes are read by torofuse the same way. New inodes get a crtime.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/fuse_common.sh"
cd "$TOP"
fuse_ready
TOROFS=$TOP/build/posix/bin/toro-fs
img=$SCRATCH/t.img
M=$SCRATCH/m
mkdir -p "$M"

# debugfs's raw "mtime: 0xSECONDS:EXTRA" of a file.
raw() { debugfs -R "stat $2" "$1" 2>/dev/null | sed -n "s/^ *$3: \(0x[0-9a-f:]*\) --.*/\1/p"; }
# What stat(1) shows through the mount.
shown() { TZ=UTC stat -c %y "$M/$1"; }

# name  touch -d argument  stat's mtime  debugfs's raw mtime (256-byte inodes)
CASES="
f1950|1950-01-02 03:04:05.123456789|1950-01-02 03:04:05.123456789 +0000|0xda62df25:1d6f3454
f2038|2038-01-19 03:14:08|2038-01-19 03:14:08.000000000 +0000|0x80000000:00000001
f2100|2100-05-06 07:08:09.5|2100-05-06 07:08:09.500000000 +0000|0xf52b86d9:77359401
f2200|2200-01-01 00:00:01.25|2200-01-01 00:00:01.250000000 +0000|0xb09e1901:3b9aca02
f1901|1901-12-13 20:45:52|1901-12-13 20:45:52.000000000 +0000|0x80000000:00000000
"

mke2fs -q -F -t ext2 -b 1024 -I 256 "$img" 8M >/dev/null 2>&1
tf_mount "$img" "$M" || { fail "mount"; finish; exit 1; }
while IFS='|' read -r f d _ _; do
	[ -n "$f" ] && touch -m -d "$d UTC" "$M/$f"
done <<<"$CASES"
touch -m -d "2500-01-01 UTC" "$M/f2500"
fs_umount "$M"
check "256-byte inodes: e2fsck -fn clean" fsck_clean "$img"
tf_mount "$img" "$M" || { fail "remount"; finish; exit 1; }
while IFS='|' read -r f d want rawwant; do
	[ -n "$f" ] || continue
	check "256: $f: stat after a remount shows $want" [ "$(shown $f)" = "$want" ]
	check "256: $f: debugfs reads mtime $rawwant" [ "$(raw "$img" /$f mtime)" = "$rawwant" ]
done <<<"$CASES"
check "256: a time past the VFS's range (2500) is its largest, not wrapped" \
	[ "$(shown f2500)" = "2262-04-11 23:47:16.854775807 +0000" ]
fs_umount "$M"
check "256: toro-fs stat shows 2200 with its nanoseconds" \
	bash -c "'$TOROFS' '$img' stat /f2200 | grep -q 'Modify: 2200-01-01 00:00:01.250000000 UTC'"
check "256: toro-fs stat shows 1950" \
	bash -c "'$TOROFS' '$img' stat /f1950 | grep -q 'Modify: 1950-01-02 03:04:05.123456789 UTC'"
check "256: toro-fs get keeps 2200" bash -c "'$TOROFS' '$img' get /f2200 '$SCRATCH/g' &&
	[ \"\$(TZ=UTC stat -c %y '$SCRATCH/g')\" = '2200-01-01 00:00:01.250000000 +0000' ]"
check "256: new inodes have a crtime (debugfs)" [ -n "$(raw "$img" /f2100 crtime)" ]
check "256: crtime is the creation time, not the set mtime" \
	bash -c "[ \"\$(debugfs -R 'stat /f2100' '$img' 2>/dev/null | grep crtime: | grep -c 2100)\" = 0 ]"

# Times written by debugfs (epoch 1 in the extra field: 2106..2242) read by us.
debugfs -w -R "sif /f1950 mtime 0x10000000" "$img" >/dev/null 2>&1
debugfs -w -R "sif /f1950 mtime_extra 0x00000005" "$img" >/dev/null 2>&1
tf_mount "$img" "$M" || fail "mount after debugfs"
check "256: debugfs's epoch 1 + 0x10000000 s + 1 ns is 2114-08-11" \
	[ "$(shown f1950)" = "2114-08-11 03:52:32.000000001 +0000" ]
fs_umount "$M"

# 128-byte inodes: whole seconds, 1901..2038.
mke2fs -q -F -t ext2 -b 1024 -I 128 "$img" 8M >/dev/null 2>&1
tf_mount "$img" "$M" || { fail "mount 128"; finish; exit 1; }
touch -m -d "1950-01-02 03:04:05.75 UTC" "$M/old"
touch -m -d "2100-01-01 UTC" "$M/late"
fs_umount "$M"
tf_mount "$img" "$M" || fail "remount 128"
check "128: 1950 in whole seconds (rounded down)" [ "$(shown old)" = "1950-01-02 03:04:05.000000000 +0000" ]
check "128: 2100 clamped to 2038, the largest 32-bit second" \
	[ "$(shown late)" = "2038-01-19 03:14:07.000000000 +0000" ]
fs_umount "$M"
check "128: debugfs reads 1950's seconds" [ "$(raw "$img" /old mtime)" = "0xda62df25" ]
check "128-byte inodes: e2fsck -fn clean" fsck_clean "$img"
finish
