#!/bin/bash
# fs_crash.sh: kill -9 during metadata churn on plain ext2 images, through
# torofuse and through toro-fs, at several block cache sizes (the small ones
# evict constantly), then e2fsck -fy. Passes when e2fsck repairs no more
# than counts, bitmaps, orphans and unattached inodes (crash_lib.bash says
# which lines are errors) and every fsync'ed file is intact.
#   CRASH_KILLS=N     kills per configuration (default 3)
#   CRASH_CACHES="K.."  cache sizes in KiB (default: 256 2048 32768)
#   CRASH_SEED=N      first seed (default: from the clock; printed)
#   CRASH_STRICT=0    report only (to measure a build that fails)
source "$(dirname "$0")/fs_lib.bash"
source "$(dirname "$0")/crash_lib.bash"
need mke2fs e2fsck debugfs python3 bc

KILLS=${CRASH_KILLS:-3}
CACHES=${CRASH_CACHES:-256 2048 32768}
SEED=${CRASH_SEED:-$(date +%s)}
STRICT=${CRASH_STRICT:-1}
echo "seed $SEED (CRASH_SEED=$SEED repeats this run)"

verdict() {   # how seed
	echo "  $1 seed $2: $CRASH_REPAIRS repairs, $CRASH_BAD not allowed ($CRASH_NULS files with NULs), $CRASH_LOST fsync'ed lost"
	if [ "$CRASH_BAD" -ne 0 ]; then crash_bad_lines "$CRASH_FSCK" | sort | uniq -c | sort -rn | head -5; fi
	if [ "$STRICT" = 0 ] || [ "$CRASH_BAD" -eq 0 ] && [ "$CRASH_LOST" -eq 0 ]; then
		pass "$1 seed $2"
	else
		fail "$1 seed $2"
	fi
}

fuse_ok=1
if [ ! -e /dev/fuse ] || [ "$(id -u)" != 0 ] || ! command -v fusermount3 >/dev/null; then
	echo "SKIP (torofuse runs): needs root, /dev/fuse and fusermount3"
	fuse_ok=0
fi

s=$SEED
for cache in $CACHES; do
	for k in $(seq "$KILLS"); do
		s=$((s + 1))
		if [ $fuse_ok = 1 ]; then
			mke2fs -q -F -t ext2 -b 4096 "$W/img" 64M
			crash_fuse "$W/img" "$cache" "$s"
			verdict "torofuse cache ${cache}K" "$s"
		fi
		mke2fs -q -F -t ext2 -b 1024 "$W/img" 64M
		crash_torofs "$W/img" "$cache" "$s"
		verdict "toro-fs cache ${cache}K (1 KiB blocks)" "$s"
	done
done
finish
