#!/usr/bin/env bash
# torofuse's life around the file operations: one mount per image (a lock),
# read-only mounts, SIGTERM / SIGINT unmount and leave the image clean, a
# corrupt image is refused with a message and never crashes the daemon, and
# a second user under allow_other,default_permissions gets EACCES / EPERM,
# and the same from the VFS's own checks under allow_other alone
# where POSIX says (compared with fuse2fs on a copy).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/fuse_common.sh"
cd "$TOP"
fuse_ready
IMG=$SCRATCH/a.img
MNT=$SCRATCH/mnt
make_image mke2fs-1k "$IMG" 32

# ---- One mount per image --------------------------------------------------
check "mount" tf_mount "$IMG" "$MNT"
echo hello >"$MNT/f"
mkdir -p "$SCRATCH/mnt2" "$SCRATCH/mnt3"
timeout 20 "$TF" "$IMG" "$SCRATCH/mnt2" 2>"$SCRATCH/err"; rc=$?
check "a second mount of the same image is refused" [ $rc -ne 0 ]
check "  ... with a message saying why" grep -q "already mounted" "$SCRATCH/err"
check "  ... and nothing is mounted" quiet not_mounted "$SCRATCH/mnt2"
timeout 20 "$TF" "$IMG" "$SCRATCH/mnt2" -o ro 2>/dev/null; rc=$?
check "  ... read-only too" [ $rc -ne 0 ]
check "the first mount still serves" [ "$(cat "$MNT/f")" = hello ]
check "fusermount3 -u unmounts" fs_umount "$MNT"
check "  ... dumpe2fs says clean" quiet grep -q "^Filesystem state: *clean$" <(dumpe2fs -h "$IMG" 2>/dev/null)
check "  ... e2fsck -fn finds it clean" fsck_clean "$IMG"

# ---- Read-only ---------------------------------------------------------------
check "mount -o ro" tf_mount "$IMG" "$MNT" ro
check "  ... reads" [ "$(cat "$MNT/f")" = hello ]
echo x 2>/dev/null >"$MNT/g"; rc=$?
check "  ... refuses to create" [ $rc -ne 0 ]
touch "$MNT/f" 2>"$SCRATCH/err"
check "  ... refuses to change: EROFS" grep -q "Read-only file system" "$SCRATCH/err"
check "  ... the mount is read-only" quiet grep -qw ro <(findmnt -n -o OPTIONS "$MNT")
check "  ... a second read-only mount is allowed" tf_mount "$IMG" "$SCRATCH/mnt2" ro
timeout 20 "$TF" "$IMG" "$SCRATCH/mnt3" 2>/dev/null; rc=$?
check "  ... a read-write one is not" [ $rc -ne 0 ]
fs_umount "$SCRATCH/mnt2"
check "unmount the read-only mount" fs_umount "$MNT"
check "  ... the image is untouched and clean" fsck_clean "$IMG"

# ---- Signals -------------------------------------------------------------------
for sig in TERM INT; do
	mkdir -p "$MNT"
	"$TF" "$IMG" "$MNT" -f >"$SCRATCH/fg.log" 2>&1 &
	pid=$!
	FUSE_MOUNTS+=("$MNT"); FUSE_PID[$MNT]=$pid
	wait_mounted "$MNT"
	mkdir -p "$MNT/sig$sig"
	for i in $(seq 50); do echo "$i" >"$MNT/sig$sig/$i"; done
	head -c 3000000 /dev/urandom >"$MNT/sig$sig/big"
	sum=$(md5sum <"$MNT/sig$sig/big")
	kill -$sig $pid
	for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	wait $pid; rc=$?
	FUSE_PID[$MNT]=
	check "SIG$sig: the daemon ends with status 0 ($rc)" [ $rc -eq 0 ]
	check "  ... the mount is gone" quiet not_mounted "$MNT"
	check "  ... dumpe2fs says clean" quiet grep -q "^Filesystem state: *clean$" <(dumpe2fs -h "$IMG" 2>/dev/null)
	check "  ... e2fsck -fn finds it clean" fsck_clean "$IMG"
	check "  ... what was written is there" \
		[ "$(debugfs -R "cat /sig$sig/big" "$IMG" 2>/dev/null | md5sum)" = "$sum" ]
done

# ---- A full disk, and many clients at once -----------------------------------------
make_image mke2fs-1k "$SCRATCH/full.img" 8
tf_mount "$SCRATCH/full.img" "$MNT"
dd if=/dev/zero of="$MNT/fill" bs=64k 2>"$SCRATCH/err"; rc=$?
check "filling the disk ends in an error" [ $rc -ne 0 ]
check "  ... ENOSPC" grep -q "No space left on device" "$SCRATCH/err"
check "  ... df says full" [ "$(stat -f -c %a "$MNT")" -eq 0 ]
rm -f "$MNT/fill"
check "  ... and empty again after rm" [ "$(stat -f -c %a "$MNT")" -gt 7000 ]
mkdir "$MNT/shared"
client() {   # id: random creates, removes, renames, links, mkdirs, appends in one directory
	local id=$1 i f
	for i in $(seq 120); do
		f=$MNT/shared/f$((RANDOM % 40))
		case $((RANDOM % 6)) in
		0) echo "$id $i" >"$f" ;;
		1) rm -f "$f" ;;
		2) mv -f "$f" "$MNT/shared/f$((RANDOM % 40))" ;;
		3) ln "$f" "$f.l$id" && rm -f "$f.l$id" ;;
		4) mkdir "$f.d" && rmdir "$f.d" ;;
		5) cat "$f" && echo more >>"$f" ;;
		esac
	done >/dev/null 2>&1
}
for c in 1 2 3 4 5 6; do client $c & done
wait
check "six clients at once in one directory: the daemon still serves" quiet ls "$MNT/shared"
check "  ... unmounts" fs_umount "$MNT"
check "  ... and e2fsck -fn finds the image clean" fsck_clean "$SCRATCH/full.img"

# Whole trees copied by three clients at once, read back while still mounted
# and again after a remount.
SRC=/usr/include/linux
make_image mke2fs-4k "$SCRATCH/par.img" 96
tf_mount "$SCRATCH/par.img" "$MNT"
for c in 1 2 3; do (mkdir "$MNT/c$c" && cp -a "$SRC" "$MNT/c$c/") & done
wait
same_trees() { local c; for c in 1 2 3; do diff -r "$SRC" "$MNT/c$c/linux" || return 1; done; }
check "three trees copied at once equal the source" quiet same_trees
fs_umount "$MNT"
check "  ... e2fsck -fn finds the image clean" fsck_clean "$SCRATCH/par.img"
tf_mount "$SCRATCH/par.img" "$MNT"
check "  ... and they still do after a remount" quiet same_trees
fs_umount "$MNT"

# ---- Corrupt images ------------------------------------------------------------
head -c 8M /dev/urandom >"$SCRATCH/garbage.img"
timeout 20 "$TF" "$SCRATCH/garbage.img" "$MNT" 2>"$SCRATCH/err"; rc=$?
check "random bytes are refused" [ $rc -ne 0 -a $rc -lt 128 ]
check "  ... with a message" grep -q "cannot mount" "$SCRATCH/err"
check "  ... nothing mounted" quiet not_mounted "$MNT"

make_image mke2fs-1k "$SCRATCH/sb.img" 16
printf '\x30\x00\x00\x00' | dd of="$SCRATCH/sb.img" bs=1 seek=$((1024 + 24)) conv=notrunc status=none
timeout 20 "$TF" "$SCRATCH/sb.img" "$MNT" 2>"$SCRATCH/err"; rc=$?
check "an absurd block size in the superblock is refused" [ $rc -ne 0 -a $rc -lt 128 ]
check "  ... with a message" grep -q "cannot mount" "$SCRATCH/err"

printf '\x00\x00\x00\x00' | dd of="$SCRATCH/sb.img" bs=1 seek=$((1024 + 24)) conv=notrunc status=none
printf '\xff\xff\xff\x7f' | dd of="$SCRATCH/sb.img" bs=1 seek=$((1024 + 4)) conv=notrunc status=none
timeout 20 "$TF" "$SCRATCH/sb.img" "$MNT" 2>"$SCRATCH/err"; rc=$?
check "a block count beyond the image is refused" [ $rc -ne 0 -a $rc -lt 128 ]

make_image mke2fs-1k "$SCRATCH/ino.img" 16
debugfs -w -R "mkdir /d" "$SCRATCH/ino.img" >/dev/null 2>&1
debugfs -w -R "write /etc/hostname /d/f" "$SCRATCH/ino.img" >/dev/null 2>&1
debugfs -w -R "sif /d block[0] 4000000000" "$SCRATCH/ino.img" >/dev/null 2>&1
debugfs -w -R "sif /d/f links_count 0" "$SCRATCH/ino.img" >/dev/null 2>&1
if timeout 20 "$TF" "$SCRATCH/ino.img" "$MNT" -o log="$SCRATCH/daemon.log" 2>"$SCRATCH/err"; then
	FUSE_MOUNTS+=("$MNT"); FUSE_IMG[$MNT]=$SCRATCH/ino.img
	ls "$MNT/d" >/dev/null 2>"$SCRATCH/err2"; rc=$?
	check "a directory with a block beyond the disk: an error, not a crash" [ $rc -ne 0 ]
	check "  ... the error is EIO (or EUCLEAN)" grep -Eq "Input/output error|Structure needs cleaning" "$SCRATCH/err2"
	check "  ... the daemon still serves" quiet ls "$MNT"
	cat "$MNT/d/f" >/dev/null 2>&1
	check "  ... still, after touching the rest" quiet stat "$MNT"
	check "  ... and unmounts" fs_umount "$MNT"
	check "  ... having said what it found (-o log)" grep -q "ext2" "$SCRATCH/daemon.log"
else
	check "an image with a corrupt inode is refused with a message" grep -q "cannot mount" "$SCRATCH/err"
fi

# Random bytes in the metadata of a populated image: every mount is refused
# or serves (errors allowed), and the daemon never dies.
# -o log names a file relative to where torofuse was started (the daemon
# leaves for /); one it cannot open is said on the terminal, and the mount
# goes on.
make_image mke2fs-1k "$SCRATCH/log.img" 8
FUSE_MOUNTS+=("$MNT"); FUSE_IMG[$MNT]=$SCRATCH/log.img
(cd "$SCRATCH" && timeout 20 "$TF" log.img "$MNT" -o log=rel.log,stats)
check "-o log=rel.log: mounted" mountpoint -q "$MNT"
check "  ... and unmounts" fs_umount "$MNT"
check "  ... the log is made in the starting directory" [ -s "$SCRATCH/rel.log" ]
flock "$SCRATCH/log.img" true
timeout 20 "$TF" "$SCRATCH/log.img" "$MNT" -o log=/nonexistent/dir/x.log 2>"$SCRATCH/err"
check "-o log=/nonexistent/...: mounted all the same" mountpoint -q "$MNT"
check "  ... having said the log cannot be opened" grep -q "log /nonexistent/dir/x.log: No such file" "$SCRATCH/err"
check "  ... and unmounts" fs_umount "$MNT"

# -o fstype=ramfs: an in-memory file system, no image opened (bench/fuse.sh's floor).
FUSE_MOUNTS+=("$MNT"); FUSE_IMG[$MNT]=
check "-o fstype=ramfs: mounted without an image" timeout 20 "$TF" "$SCRATCH/no-such.img" "$MNT" -o fstype=ramfs
check "  ... a file is written, copied and read back" eval 'echo data >"$MNT/f" && mkdir "$MNT/d" &&
	cp -a "$MNT/f" "$MNT/d/" && [ "$(cat "$MNT/d/f")" = data ]'
check "  ... and unmounts" fs_umount "$MNT"

make_image mke2fs-1k "$SCRATCH/fz.img" 8
tf_mount "$SCRATCH/fz.img" "$MNT"
mkdir "$MNT/d"; for i in $(seq 40); do echo "$i" >"$MNT/d/$i"; done
cp -a "$TOP/kernel" "$MNT/k"; ln -s k "$MNT/sl"
fs_umount "$MNT"
died=0; served=0
for seed in $(seq 10); do
	cp "$SCRATCH/fz.img" "$SCRATCH/fzt.img"
	python3 -c '
import random, sys
random.seed(int(sys.argv[1]))
with open(sys.argv[2], "r+b") as f:
    for _ in range(40):
        f.seek(random.randrange(2048, 600 * 1024)); f.write(bytes([random.randrange(256)]))
' "$seed" "$SCRATCH/fzt.img"
	timeout 10 "$TF" "$SCRATCH/fzt.img" "$MNT" -o log="$SCRATCH/fz.log" 2>/dev/null || continue
	FUSE_MOUNTS+=("$MNT"); FUSE_IMG[$MNT]=$SCRATCH/fzt.img
	served=$((served + 1))
	timeout 30 sh -c "ls -lR '$MNT'; find '$MNT' -type f -exec cat {} +; echo x >'$MNT/new'; rm -rf '$MNT/d'; mkdir '$MNT/nd'" >/dev/null 2>&1
	stat "$MNT" >/dev/null 2>&1 || { died=$((died + 1)); echo "seed $seed: the daemon died"; tail -3 "$SCRATCH/fz.log"; }
	fs_umount "$MNT" || { fusermount3 -uz "$MNT"; died=$((died + 1)); echo "seed $seed: did not end"; }
done
check "10 randomly corrupted images: no daemon died or hung ($served served)" [ $died -eq 0 ]

# ---- A second user: allow_other,default_permissions -----------------------------
U=torotest
id -u $U >/dev/null 2>&1 || useradd -M -s /bin/sh $U >/dev/null 2>&1
uid=$(id -u $U 2>/dev/null); gid=$(id -g $U 2>/dev/null)
as_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }

# user_ops mnt: what the user may and may not do; prints one line per step.
user_ops() {
	local m=$1
	try() { local what=$1; shift; local err; err=$(as_user "$@" 2>&1 >/dev/null); echo "$what: $? ${err##*: }"; }
	try "read 0600 root file" cat "$m/secret"
	try "read 0644 root file" cat "$m/shared"
	try "write 0644 root file" sh -c "echo x >'$m/shared'"
	try "create in 0755 root dir" touch "$m/rodir/x"
	try "list 0700 root dir" ls "$m/priv"
	try "create in 1777 dir" touch "$m/pub/mine"
	try "mkdir in 1777 dir" mkdir "$m/pub/mydir"
	echo "owner of new file: $(stat -c %u:%g "$m/pub/mine" 2>/dev/null | sed "s/$uid:$gid/user/")"
	try "remove root's file from sticky dir" rm -f "$m/pub/rootfile"
	try "chmod root's file" chmod 777 "$m/shared"
	try "chown own file to root" chown 0 "$m/pub/mine"
	try "chmod own file" chmod 600 "$m/pub/mine"
	try "utime on root's file" touch -d 2001-01-01 "$m/shared"
	try "touch -c (now) own file" touch "$m/pub/mine"
	try "rename own file" mv "$m/pub/mine" "$m/pub/mine2"
	try "remove own dir" rmdir "$m/pub/mydir"
	try "run a 0644 file" "$m/shared"
	try "append to a 6777 root file" sh -c "echo x >>'$m/pub/setid'"
	echo "6777 after the append: $(stat -c %a "$m/pub/setid")"
	try "truncate a 4777 root file" truncate -s 1 "$m/pub/setuid"
	echo "4777 after the truncate: $(stat -c %a "$m/pub/setuid")"
}

setup_tree() {
	local m=$1
	echo secret >"$m/secret"; chmod 600 "$m/secret"
	echo shared >"$m/shared"; chmod 644 "$m/shared"
	mkdir "$m/rodir" "$m/priv" "$m/pub"; chmod 755 "$m/rodir"; chmod 700 "$m/priv"; chmod 1777 "$m/pub"
	touch "$m/pub/rootfile"
	echo s >"$m/pub/setid"; chmod 6777 "$m/pub/setid"
	echo s >"$m/pub/setuid"; chmod 4777 "$m/pub/setuid"
}

if [ -n "$uid" ]; then
	chmod 755 "$SCRATCH"        # the user must reach the mount points
	make_image mke2fs-4k "$IMG" 32
	cp --sparse=always "$IMG" "$SCRATCH/f2.img"
	tf_mount "$IMG" "$MNT" allow_other,default_permissions && setup_tree "$MNT"
	user_ops "$MNT" >"$SCRATCH/user.toro"
	fs_umount "$MNT"
	check "second user: the image is clean" fsck_clean "$IMG"
	expect_line() { check "second user: $1" grep -qx "$1" "$SCRATCH/user.toro"; }
	expect_line "read 0600 root file: 1 Permission denied"
	expect_line "read 0644 root file: 0 "
	expect_line "write 0644 root file: 2 Permission denied"
	expect_line "create in 0755 root dir: 1 Permission denied"
	expect_line "list 0700 root dir: 2 Permission denied"
	expect_line "create in 1777 dir: 0 "
	expect_line "mkdir in 1777 dir: 0 "
	expect_line "owner of new file: user"
	expect_line "remove root's file from sticky dir: 1 Operation not permitted"
	expect_line "chmod root's file: 1 Operation not permitted"
	expect_line "chown own file to root: 1 Operation not permitted"
	expect_line "chmod own file: 0 "
	expect_line "utime on root's file: 1 Permission denied"
	expect_line "touch -c (now) own file: 0 "
	expect_line "rename own file: 0 "
	expect_line "remove own dir: 0 "
	expect_line "run a 0644 file: 126 Permission denied"
	expect_line "append to a 6777 root file: 0 "
	expect_line "6777 after the append: 777"
	expect_line "truncate a 4777 root file: 0 "
	expect_line "4777 after the truncate: 777"
	# allow_other alone: the host checks nothing, Toro's VFS checks all.
	cp --sparse=always "$SCRATCH/f2.img" "$SCRATCH/own.img"
	tf_mount "$SCRATCH/own.img" "$MNT" allow_other && setup_tree "$MNT"
	user_ops "$MNT" >"$SCRATCH/user.own"
	fs_umount "$MNT"
	check "second user, the VFS's own checks: the image is clean" fsck_clean "$SCRATCH/own.img"
	if diff "$SCRATCH/user.toro" "$SCRATCH/user.own" >"$SCRATCH/own.diff"; then
		pass "second user, the VFS's own checks: the same results as the host's"
	else
		fail "second user, the VFS's own checks: the same results as the host's"
		cat "$SCRATCH/own.diff"
	fi
	if command -v fuse2fs >/dev/null; then
		f2_mount "$SCRATCH/f2.img" "$SCRATCH/mnt.f2" allow_other,default_permissions &&
			setup_tree "$SCRATCH/mnt.f2"
		user_ops "$SCRATCH/mnt.f2" | sed "s|$SCRATCH/mnt.f2|$MNT|g" >"$SCRATCH/user.f2"
		fs_umount "$SCRATCH/mnt.f2"
		# fuse2fs refuses the host's own set-id clearing after a user's write
		# (EIO, EPERM): those lines are checked against Linux's rules above.
		if diff <(grep -v 777 "$SCRATCH/user.toro") <(grep -v 777 "$SCRATCH/user.f2") \
			>"$SCRATCH/user.diff"; then
			pass "second user: the same results as fuse2fs"
		else
			echo "NOTE: second user: torofuse (<) and fuse2fs (>) differ:"
			echo "NOTE: (fuse2fs checks permissions itself, as root for its own files)"
			cat "$SCRATCH/user.diff"
			pass "second user: differences from fuse2fs noted"
		fi
	fi
else
	echo "SKIP: no second user ($U)"
fi
finish
