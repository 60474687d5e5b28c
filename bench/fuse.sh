#!/usr/bin/env bash
# bench/fuse.sh: torofuse against fuse2fs, same run, same workloads, each on
# a fresh copy of the same empty ext2 image (4 KiB blocks). Not a test.
#   untar   tar xf of a tree with thousands of files (default /usr/include)
#   cp -a   the extracted tree to a second one, inside the mount
#   stat    find -type f | xargs stat, caches dropped first
#   rm -r   both trees
#   write   512 MiB sequential, dd bs=1M conv=fsync
#   read    the same back, caches dropped first
# Prints seconds for each and torofuse/fuse2fs (below 1: torofuse faster).
# Usage: bench/fuse.sh [TREE] [MiB]       (run as root; needs fuse2fs)
#   BENCH_FS=ext3: the image has a journal (mke2fs -t ext3), to compare
#   against the same run with the default ext2.
set -u
cd "$(dirname "$0")/.."
TREE=${1:-/usr/include}
MIB=${2:-512}
TF=build/posix/bin/torofuse
W=$(mktemp -d /tmp/toro-bench.XXXXXX)
MNT=$W/mnt
mkdir -p "$MNT"
cleanup() {
	mountpoint -q "$MNT" && fusermount3 -uz "$MNT"
	rm -rf "$W"
}
trap cleanup EXIT
[ -x "$TF" ] || { echo "build torofuse first (make posix)"; exit 1; }
command -v fuse2fs >/dev/null || { echo "fuse2fs is missing"; exit 1; }

tar -C "$(dirname "$TREE")" -cf "$W/tree.tar" "$(basename "$TREE")"
files=$(tar -tf "$W/tree.tar" | wc -l)
mke2fs -q -F -t "${BENCH_FS:-ext2}" -b 4096 -N 65536 "$W/empty.img" 2G

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }

PID=
mount_impl() {
	cp --sparse=always "$W/empty.img" "$W/$1.img"
	if [ "$1" = toro ]; then
		"$TF" "$W/toro.img" "$MNT" || exit 1
	else
		fuse2fs "$W/f2.img" "$MNT" -f >/dev/null 2>&1 &
		PID=$!
		for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
	fi
}

umount_impl() {
	fusermount3 -u "$MNT"
	if [ "$1" = toro ]; then flock "$W/toro.img" true; else wait "$PID"; fi
	rm -f "$W/$1.img"
}

declare -A T
run() {   # impl
	local i=$1 t0
	mount_impl "$i"
	drop
	t0=$(now); tar -C "$MNT" -xf "$W/tree.tar"; T[$i,untar]=$(echo "$(now) - $t0" | bc)
	t0=$(now); cp -a "$MNT/$(basename "$TREE")" "$MNT/copy"; T[$i,cp]=$(echo "$(now) - $t0" | bc)
	drop
	t0=$(now); find "$MNT" -type f -print0 | xargs -0 stat >/dev/null; T[$i,stat]=$(echo "$(now) - $t0" | bc)
	t0=$(now); rm -r "$MNT/copy" "$MNT/$(basename "$TREE")"; T[$i,rm]=$(echo "$(now) - $t0" | bc)
	drop
	t0=$(now); dd if=/dev/zero of="$MNT/big" bs=1M count="$MIB" conv=fsync status=none
	T[$i,write]=$(echo "$(now) - $t0" | bc)
	drop
	t0=$(now); dd if="$MNT/big" of=/dev/null bs=1M status=none; T[$i,read]=$(echo "$(now) - $t0" | bc)
	umount_impl "$i"
}

echo "tree: $TREE ($files entries, $(du -sh "$W/tree.tar" | cut -f1) tar), sequential: $MIB MiB, $(nproc) CPUs"
# Interleave: fuse2fs, torofuse, fuse2fs, torofuse; keep each one's best.
declare -A BEST
for round in 1 2; do
	for i in f2 toro; do
		run $i
		for w in untar cp stat rm write read; do
			b=${BEST[$i,$w]:-}
			if [ -z "$b" ] || [ "$(echo "${T[$i,$w]} < $b" | bc)" = 1 ]; then BEST[$i,$w]=${T[$i,$w]}; fi
		done
	done
done
printf '%-8s %10s %10s %8s\n' workload torofuse fuse2fs ratio
for w in untar cp stat rm write read; do
	a=${BEST[toro,$w]} b=${BEST[f2,$w]}
	printf '%-8s %9.2fs %9.2fs %8.2f\n' "$w" "$a" "$b" "$(echo "scale=3; $a / $b" | bc)"
done
