#!/bin/bash
# fs.sh: how fast toro-fs fills an ext2 image (a benchmark, not a test).
#   1. the same host tree (default /usr/include) into a fresh image by
#      toro-fs put -r (after mke2fs, and after toro-fs mkfs), mke2fs -d and
#      genext2fs -d, in the same run; best of RUNS wall times and the ratio
#      to toro-fs;
#   2. every image checked by e2fsck -fn;
#   3. toro-fs get -r back out of the image and diff -r against the tree.
#   bench/fs.sh [TREE] [RUNS]      (default /usr/include, 3 runs)
#   BENCH_FS=ext3: images with a journal (mke2fs -t ext3, toro-fs mkfs -j)
cd "$(dirname "$0")/.." || exit 1
TREE=${1:-/usr/include}
RUNS=${2:-3}
export PATH=$PATH:/usr/sbin:/sbin
T=build/posix/bin/toro-fs

make -s posix >/dev/null || exit 1
for tool in mke2fs genext2fs e2fsck; do
	command -v $tool >/dev/null || { echo "fs.sh: $tool is not installed"; exit 1; }
done
W=$(mktemp -d /tmp/toro-fs-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

KIB=$(du -sk "$TREE" | cut -f1)
FILES=$(find "$TREE" | wc -l)
BLOCKS=$(((KIB * 3 / 2 + 65536) / 4))           # 4 KiB blocks, half again of room
INODES=$((FILES * 2 + 1024))
SIZE=$((BLOCKS * 4))K
IMG=$W/img

now_ns() { date +%s%N; }

# best_ms NAME PREP CMD: best wall time of CMD over RUNS runs, each after PREP
# (not timed); the image of the last run stays in $IMG.
best_ms() {
	local best=0 t0 t
	for _ in $(seq 1 "$RUNS"); do
		rm -f "$IMG"
		eval "$2" >/dev/null 2>&1 || { echo "fs.sh: $1: preparing failed" >&2; return 1; }
		t0=$(now_ns)
		eval "$3" >"$W/out" 2>&1 || { echo "fs.sh: $1 failed:" >&2; cat "$W/out" >&2; return 1; }
		t=$((($(now_ns) - t0) / 1000000))
		[ "$best" -eq 0 ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best"
}

fsck_ok() {
	e2fsck -fn "$IMG" >/dev/null 2>&1 && echo clean || echo ERRORS
}

MKE2FS="mke2fs -q -F -t ${BENCH_FS:-ext2} -b 4096 -N $INODES"
MKFS_J=$([ "${BENCH_FS:-}" = ext3 ] && echo -j)
echo "tree: $TREE, $((KIB / 1024)) MiB in $FILES entries; image $((BLOCKS / 256)) MiB, 4 KiB blocks; best of $RUNS"
echo

t_toro_put=$(best_ms "toro-fs put -r" "$MKE2FS $IMG $SIZE" "$T $IMG put -r $TREE /tree") || exit 1
f_toro=$(fsck_ok)
t_mkfs=$(best_ms "mke2fs (format only)" "true" "$MKE2FS $IMG $SIZE") || exit 1
t_toro_mkfs=$(best_ms "toro-fs mkfs + put -r" "true" \
	"$T mkfs $IMG $SIZE -b 4096 $MKFS_J && $T $IMG put -r $TREE /tree") || exit 1
f_toro_mkfs=$(fsck_ok)
t_mke2fs_d=$(best_ms "mke2fs -d" "true" "$MKE2FS -d $TREE $IMG $SIZE") || exit 1
f_mke2fs=$(fsck_ok)
t_genext2fs=$(best_ms "genext2fs -d" "true" \
	"genext2fs -B 4096 -b $BLOCKS -N $INODES -d $TREE $IMG") || exit 1
f_genext2fs=$(fsck_ok)

# Back out: the image of the last toro-fs run.
rm -f "$IMG"
$MKE2FS "$IMG" $SIZE >/dev/null 2>&1 && $T "$IMG" put -r "$TREE" /tree >/dev/null || exit 1
t_get=0
for _ in $(seq 1 "$RUNS"); do
	rm -rf "$W/back"
	t0=$(now_ns)
	$T "$IMG" get -r /tree "$W/back" >/dev/null 2>"$W/get.err" || { cat "$W/get.err"; exit 1; }
	t=$((($(now_ns) - t0) / 1000000))
	[ "$t_get" -eq 0 ] || [ "$t" -lt "$t_get" ] && t_get=$t
done
if diff -r --no-dereference "$TREE" "$W/back" >"$W/diff" 2>&1; then
	same="same"
else
	same="DIFFERENT ($(wc -l <"$W/diff") lines of diff -r)"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
t_toro_total=$((t_mkfs + t_toro_put))
printf "%-34s %10s %14s %8s\n" "into a fresh image" "ms" "x toro-fs" "e2fsck"
printf "%-34s %10d %14s %8s\n" "toro-fs put -r (mke2fs before)" "$t_toro_put" "1.00" "$f_toro"
printf "%-34s %10d %14s %8s\n" "  + the mke2fs format" "$t_toro_total" "-" ""
printf "%-34s %10d %14s %8s\n" "toro-fs mkfs + put -r" "$t_toro_mkfs" "$(ratio "$t_toro_mkfs" "$t_toro_total")" "$f_toro_mkfs"
printf "%-34s %10d %14s %8s\n" "mke2fs -d" "$t_mke2fs_d" "$(ratio "$t_mke2fs_d" "$t_toro_total")" "$f_mke2fs"
printf "%-34s %10d %14s %8s\n" "genext2fs -d" "$t_genext2fs" "$(ratio "$t_genext2fs" "$t_toro_total")" "$f_genext2fs"
echo
printf "%-34s %10d   diff -r: %s\n" "toro-fs get -r back out" "$t_get" "$same"
echo "(x toro-fs: the tool's time over toro-fs's mke2fs + put -r; above 1 means toro-fs is faster)"
