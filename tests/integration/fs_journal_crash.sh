#!/bin/bash
# fs_journal_crash.sh: kill -9 during metadata churn on journalled (ext3)
# images, through torofuse and through toro-fs, at a small block cache (it
# evicts constantly) and a large one (crash_lib.bash runs the churn). Then:
# our mount replays the journal, after which e2fsck -fn reports nothing at
# all; a copy replayed by e2fsck instead holds the same tree; every fsync'ed
# file is intact. And the commit timer (torofuse -o commit), and a churn
# with a hash-indexed directory and extended attributes (in the inode, and
# in attribute blocks) at a small cache. And journals with checksums (v1,
# v2, v3): our log must replay in e2fsck with no checksum complaint.
#   CRASH_KILLS=N  kills per configuration (default 2)
#   CRASH_SEED=N   first seed (default: from the clock; printed)
source "$(dirname "$0")/fs_lib.bash"
source "$(dirname "$0")/crash_lib.bash"
need mke2fs e2fsck debugfs tune2fs python3 bc diff

KILLS=${CRASH_KILLS:-2}
SEED=${CRASH_SEED:-$(date +%s)}
echo "seed $SEED (CRASH_SEED=$SEED repeats this run)"

# crash_after IMG SYNCLOG, the journal's version: replays by us and by
# e2fsck, compared; sets CRASH_BAD (repairs: none allowed) and CRASH_LOST.
crash_after() {
	local img=$1 log=$2
	cp "$img" "$W/ref.img"
	CRASH_BAD=0
	if ! "$CRASH_TORO_FS" "$img" mkdir -p /lost+found >"$W/replay.out" 2>&1; then
		echo "    our mount failed:"; sed 's/^/    /' "$W/replay.out" | head -3
		CRASH_BAD=1
	fi
	grep -o "journal replayed.*" "$W/replay.out" | sed 's/^/    /'
	grep -h "outgrew" "$W/crash.tf.log" "$W/replay.out" 2>/dev/null | sed "s/^/    /"
	if ! e2fsck -fn "$img" >"$CRASH_FSCK" 2>&1; then
		echo "    e2fsck -fn after our replay:"; grep -v '^Pass' "$CRASH_FSCK" | head -8
		CRASH_BAD=$((CRASH_BAD + 1))
	fi
	e2fsck -E journal_only -y "$W/ref.img" >"$W/ref.out" 2>&1
	if grep -qiE 'checksum|corrupt|invalid' "$W/ref.out"; then
		echo "    e2fsck's replay complained:"; head -3 "$W/ref.out" | sed 's/^/    /'
		CRASH_BAD=$((CRASH_BAD + 1))
	fi
	rm -rf "$W/t.ours" "$W/t.ref"
	mkdir -p "$W/t.ours" "$W/t.ref"
	dbg "$img" "rdump / $W/t.ours" >/dev/null
	dbg "$W/ref.img" "rdump / $W/t.ref" >/dev/null
	if ! diff -r "$W/t.ours" "$W/t.ref" >"$W/tree.diff" 2>&1; then
		echo "    tree differs from e2fsck's replay:"; head -5 "$W/tree.diff"
		CRASH_BAD=$((CRASH_BAD + 1))
	fi
	crash_count_nuls "$W/t.ours"
	crash_check_kept "$img" "$log"
}

verdict() {   # what seed
	echo "  $1 seed $2: $CRASH_BAD problems, $CRASH_LOST fsync'ed lost"
	[ "$CRASH_BAD" -eq 0 ] && [ "$CRASH_LOST" -eq 0 ] && pass "$1 seed $2" || fail "$1 seed $2"
}

fuse_ok=1
if [ ! -e /dev/fuse ] || [ "$(id -u)" != 0 ] || ! command -v fusermount3 >/dev/null; then
	echo "SKIP (torofuse runs): needs root, /dev/fuse and fusermount3"
	fuse_ok=0
fi

# The commit timer: with -o commit=1, a change with no fsync is in the
# journal 2 s later, and survives a kill -9.
if [ $fuse_ok = 1 ]; then
	mke2fs -q -F -t ext3 -b 4096 "$W/img" 64M
	mkdir -p "$W/mnt"
	"$CRASH_TF" "$W/img" "$W/mnt" -f -o commit=1 >"$W/tf.log" 2>&1 &
	tf=$!
	for i in $(seq 100); do mountpoint -q "$W/mnt" && break; sleep 0.1; done
	if mountpoint -q "$W/mnt"; then
		mkdir "$W/mnt/timed" && echo timed >"$W/mnt/timed/file"
		sleep 2.5
	fi
	kill -9 "$tf"
	wait "$tf" 2>/dev/null
	fusermount3 -uz "$W/mnt" 2>/dev/null
	"$CRASH_TORO_FS" "$W/img" mkdir -p /lost+found >/dev/null 2>&1
	[ "$(dbg "$W/img" "cat /timed/file")" = timed ] && fsck_clean "$W/img" >/dev/null 2>&1 &&
		pass "commit=1: unsynced change committed by the timer" ||
		fail "commit=1: unsynced change lost"
fi

s=$SEED
# htree and attributes: crash_churn.py's CRASH_CHURN_MORE (a directory of
# long names, user.* attributes), committed every second. 1 KiB blocks, so the directory outgrows
# its first block soon (then it must carry the index) and a 600-byte value
# needs an attribute block at 128-byte inodes.
if [ $fuse_ok = 1 ]; then
	for isize in 256 128; do
		for k in $(seq "$KILLS"); do
			s=$((s + 1))
			mke2fs -q -F -t ext3 -O dir_index,ext_attr -I "$isize" -b 1024 "$W/img" 64M 2>/dev/null
			# Commits (every second) before the kill (4-7 s in).
			export CRASH_CHURN_MORE=1 CRASH_TF_OPTS=commit=1 CRASH_FUSE_MIN=40
			crash_fuse "$W/img" 256 "$s"
			unset CRASH_CHURN_MORE CRASH_TF_OPTS CRASH_FUSE_MIN
			size=$(dbg "$W/img" "stat /big" | sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -1)
			flags=$(dbg "$W/img" "stat /big" | sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')
			xattrs=0
			for f in $(dbg "$W/img" "ls /big" | grep -o 'entry-[a-z0-9-]*' | head -20); do
				xattrs=$((xattrs + $(dbg "$W/img" "ea_list /big/$f" | grep -c 'user\.')))
			done
			echo "    /big: ${size:-?} bytes, flags ${flags:-?}; $xattrs attributes in its first 20 files"
			if [ "${size:-0}" -gt 1024 ] && [ $((${flags:-0} & 0x1000)) -eq 0 ]; then
				echo "    /big outgrew one block but has no index"
				CRASH_BAD=$((CRASH_BAD + 1))
			fi
			verdict "torofuse ext3 htree+xattr ${isize}-byte inodes" "$s"
		done
	done
fi
for cache in 256 32768; do
	for k in $(seq "$KILLS"); do
		s=$((s + 1))
		if [ $fuse_ok = 1 ]; then
			mke2fs -q -F -t ext3 -b 4096 "$W/img" 64M
			crash_fuse "$W/img" "$cache" "$s"
			verdict "torofuse ext3 cache ${cache}K" "$s"
		fi
		mke2fs -q -F -t ext3 -b 1024 "$W/img" 64M
		crash_torofs "$W/img" "$cache" "$s"
		verdict "toro-fs ext3 cache ${cache}K (1 KiB blocks)" "$s"
	done
done
# Checksummed journals: the writer's tags, tails, commit checksums and
# journal superblock, with e2fsck's replay as the judge.
for v in 1 2 3; do
	s=$((s + 1))
	if [ $fuse_ok = 1 ]; then
		mkext3 4096 "$W/img" "-c -v $v" 64M || continue
		crash_fuse "$W/img" 256 "$s"
		verdict "torofuse ext3 journal checksum v$v" "$s"
	fi
	mkext3 1024 "$W/img" "-c -v $v" 64M || continue
	crash_torofs "$W/img" 256 "$s"
	verdict "toro-fs ext3 journal checksum v$v (1 KiB blocks)" "$s"
done
finish
