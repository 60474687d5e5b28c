#!/bin/bash
# fs_errors.sh: toro-fs reports every failure on stderr with a distinct exit
# status (1 operation failed, 2 usage, 3 image unusable, 4 host file error)
# and leaves the image consistent; read-only commands do not write.
source "$(dirname "$0")/fs_lib.bash"
need mke2fs e2fsck

img=$W/e.img
mke2fs -q -F -t ext2 -b 1024 "$img" 4M >/dev/null
T() { "$TORO_FS" "$img" "$@"; }
echo hello >"$W/hello"
"$TORO_FS" "$img" mkdir /d >/dev/null
"$TORO_FS" "$img" put "$W/hello" /d/f >/dev/null

expect_exit "no arguments: usage" 2 "usage" "$TORO_FS"
expect_exit "unknown command" 2 "unknown command" T frob
expect_exit "unknown option" 2 "unknown option" T ls -z
expect_exit "missing operand" 2 "expected" T mv /d
expect_exit "bad chmod mode" 2 "bad mode" T chmod 99 /d
expect_exit "bad owner" 2 "bad owner" T chown x:y /d
expect_exit "bad size" 2 "bad size" T truncate /d/f 12Q
expect_exit "mkfs bad block size" 2 "block size" "$TORO_FS" mkfs "$W/n.img" 8M -b 512
expect_exit "missing image" 3 "No such file" "$TORO_FS" "$W/none.img" ls
head -c 1048576 /dev/zero >"$W/zero.img"
expect_exit "not an ext2 image" 3 "cannot mount" "$TORO_FS" "$W/zero.img" ls
mke2fs -q -F -t ext4 "$W/ext4.img" 16M >/dev/null 2>&1
expect_exit "an ext4 image is named as such" 3 "Operation not supported" "$TORO_FS" "$W/ext4.img" ls
check "the ext4 refusal names the image's features, and only those" bash -c \
	"'$TORO_FS' '$W/ext4.img' ls 2>&1 | grep -q 'an ext4 file system with features this ext2 driver does not support (extent 64bit flex_bg)'"
expect_exit "cat a missing file" 1 "No such file or directory" T cat /nope
expect_exit "cat a directory" 1 "Is a directory" T cat /d
expect_exit "ls a missing directory" 1 "No such file" T ls /nope
expect_exit "mkdir an existing name" 1 "File exists" T mkdir /d
expect_exit "mkdir under a file" 1 "Not a directory" T mkdir /d/f/x
expect_exit "rmdir a non-empty directory" 1 "Directory not empty" T rmdir /d
expect_exit "rm a directory" 1 "Is a directory" T rm /d
expect_exit "rmdir a file" 1 "Not a directory" T rmdir /d/f
expect_exit "mv a directory into itself" 1 "Invalid argument" T mv /d /d/sub
expect_exit "ln to a directory" 1 "Operation not permitted" T ln /d /d2
expect_exit "name too long" 1 "File name too long" T mkdir "/$(printf 'n%.0s' $(seq 1 256))"
expect_exit "symlink loop" 1 "Too many levels of symbolic links" \
	bash -c "'$TORO_FS' '$img' ln -s /l2 /l1 && '$TORO_FS' '$img' ln -s /l1 /l2 && '$TORO_FS' '$img' cat /l1"
expect_exit "get -r needed for a directory" 2 "use get -r" T get /d "$W/out"
expect_exit "put from a missing host file" 4 "No such file" T put "$W/nope" /x
mkdir -p "$W/ro" && chmod 0555 "$W/ro"
if [ "$(id -u)" != 0 ]; then
	expect_exit "get into an unwritable host directory" 4 "Permission denied" T get /d/f "$W/ro/f"
fi
head -c 6000000 /dev/urandom >"$W/big"
expect_exit "put a file larger than the image" 1 "No space left on device" T put "$W/big" /big
check "e2fsck clean after the failures" fsck_clean "$img"
check "rm -f of a missing file is fine" T rm -f /nope
check "files still there" test "$(T cat /d/f)" = hello
check "rm the partial file left by ENOSPC" T rm /big
check "put from stdin" bash -c "echo piped | '$TORO_FS' '$img' put - /piped"
check "get to stdout" test "$(T get /piped -)" = piped
expect_exit "put from stdin onto a directory" 1 "Is a directory" T put - /d

# A directory cycle (an entry naming an ancestor, made with debugfs as a
# corrupt image would have it) stops the recursive commands with a message.
cyc=$W/cycle.img
mke2fs -q -F -t ext2 -b 1024 "$cyc" 4M >/dev/null
printf 'mkdir /a\nmkdir /a/b\nln /a /a/b/up\n' | debugfs -w -f - "$cyc" >/dev/null 2>&1
C() { timeout 20 "$TORO_FS" "$cyc" "$@"; }
expect_exit "tree stops at a directory cycle" 1 "directory cycle" C tree /
expect_exit "get -r stops at a directory cycle" 1 "directory cycle" C get -r /a "$W/cycle-out"
check "get -r copied the tree up to the cycle" test -d "$W/cycle-out/b"
expect_exit "rm -r stops at a directory cycle" 1 "directory cycle" C rm -r /a

# Read-only commands do not change the image, not even times.
sum=$(md5sum <"$img")
T ls -l / >/dev/null; T stat /d/f >/dev/null; T cat /d/f >/dev/null
T tree / >/dev/null; T df >/dev/null; T get -r /d "$W/got" >/dev/null
check "read-only commands leave the image as it was" test "$(md5sum <"$img")" = "$sum"
chmod 0444 "$img"
if [ "$(id -u)" != 0 ]; then
	check "a read-only image file can be read" T cat /d/f
fi

finish
