#!/usr/bin/env bash
# bench/fuse.sh: torofuse against the kernel's own ext2 (the same image
# through a loop device) and fuse2fs, in the same run, on the same
# workloads, each on a fresh copy of the same empty ext2 image (4 KiB
# blocks). Not a test.
#   untar   tar xf of a generated tree (bench/fuse_tree.py: the same bytes
#           on every machine for the same file count)
#   cp -a   the extracted tree to a second one, inside the mount
#   stat    find -type f | xargs stat, caches dropped first
#   rm -r   both trees
#   write   MiB sequential, dd bs=1M conv=fsync
#   read    the same back, caches dropped first
# Every step ends, inside its timed section, with the file system's own
# sync, so that what it defers is counted: the kernel's syncfs(2) of the
# mount then an fsync of its image (the loop device writes into the host's
# page cache); for torofuse and fuse2fs, whose sync(2) the host does not
# pass on, an fsync of the mount's root directory (each flushes every
# dirty block and then its image).
# Prints the median seconds of RUNS runs (interleaved) for each, and
# torofuse/kernel and torofuse/fuse2fs (below 1: torofuse faster).
# Usage: bench/fuse.sh [FILES] [RUNS] [MiB]   (root; loop devices, fuse2fs)
#   FILES 9000 (about /usr/include) or 25000, say; RUNS 3; MiB 512.
#   IMPLS="toro kern" leaves fuse2fs out (quicker, when profiling).
#   BENCH_FS=ext3: the image has a journal (mke2fs -t ext3; the kernel
#   mounts it as ext3), to compare against the same run with ext2.
#   BASE=PATH adds another torofuse binary as column "base" (before/after a
#   change, in one interleaved run), with torofuse/base.
#   JOURNAL=1 adds torofuse on the same image made with a journal (mke2fs
#   -t ext3) as column "ext3", with ext3/torofuse: what the journal costs,
#   in the same interleaved run (with BASE, base gets a journalled image
#   too, as "base3").
#   FLOOR=1 adds torofuse serving its in-memory ramfs (-o fstype=ramfs:
#   no ext2, no block cache, no image) as column "ram", with ram/kernel:
#   what FUSE's requests and Toro's VFS cost alone on this host, the floor
#   under torofuse/kernel.
#   The host lets FUSE use io_uring for the run (bench/fuse_lib.bash;
#   URING=0 leaves the host as it is).
set -u
cd "$(dirname "$0")/.."
FILES=${1:-9000}
RUNS=${2:-3}
MIB=${3:-512}
IMPLS=${IMPLS:-kern f2 toro}
TF=build/posix/bin/torofuse
BASE=${BASE:-}
JOURNAL=${JOURNAL:-}
FLOOR=${FLOOR:-}
[ -n "$BASE" ] && IMPLS="$IMPLS base"
[ -n "$JOURNAL" ] && IMPLS="$IMPLS toro3"
[ -n "$BASE" ] && [ -n "$JOURNAL" ] && IMPLS="$IMPLS base3"
[ -n "$FLOOR" ] && IMPLS="$IMPLS ram"
source bench/fuse_lib.bash
fuse_bench_start bench
remove_loops() {
	local loop
	for loop in $(losetup -j "$W/kern.img" -O NAME -n 2>/dev/null); do
		losetup -d "$loop"
	done
}
BENCH_CLEANUP=remove_loops
[ -x "$TF" ] || { echo "build torofuse first (make posix)"; exit 1; }
command -v fuse2fs >/dev/null || { echo "fuse2fs is missing"; exit 1; }
grep -qw ext2 /proc/filesystems || modprobe ext2 2>/dev/null ||
	{ echo "the kernel has no ext2"; exit 1; }

fuse_bench_uring

python3 bench/fuse_tree.py "$FILES" >"$W/tree.tar" || exit 1
entries=$(tar -tf "$W/tree.tar" | wc -l)
mkimage() { mke2fs -q -F -t "$1" -b 4096 -N $((4 * FILES + 16384)) "$2" 4G >/dev/null; }
mkimage "${BENCH_FS:-ext2}" "$W/empty.img"
[ -n "$JOURNAL" ] && mkimage ext3 "$W/empty3.img"

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }

PID=
mount_impl() {
	case $1 in
	ram) ;;
	*3) cp --sparse=always "$W/empty3.img" "$W/$1.img" ;;
	*)  cp --sparse=always "$W/empty.img" "$W/$1.img" ;;
	esac
	case $1 in
	ram)  "$TF" none "$MNT" -o fstype=ramfs,mem=2048 || exit 1 ;;
	toro|toro3) "$TF" "$W/$1.img" "$MNT" || exit 1 ;;
	base|base3) "$BASE" "$W/$1.img" "$MNT" || exit 1 ;;
	kern) mount -t "${BENCH_FS:-ext2}" -o loop "$W/kern.img" "$MNT" || exit 1 ;;
	f2)   fuse2fs "$W/f2.img" "$MNT" -f >/dev/null 2>&1 &
	      PID=$!
	      for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done ;;
	esac
	mountpoint -q "$MNT" || { echo "$1 did not mount"; exit 1; }
}

umount_impl() {
	case $1 in
	toro*|base*) fusermount3 -u "$MNT"; flock "$W/$1.img" true ;;
	ram)  fusermount3 -u "$MNT" ;;
	kern) umount "$MNT" ;;      # -o loop: the loop device goes with it
	f2)   fusermount3 -u "$MNT"; wait "$PID" ;;
	esac
	rm -f "$W/$1.img"
}

# The end of every timed step: what the file system deferred, written.
settle() {   # impl
	if [ "$1" = kern ]; then
		sync -f "$MNT" && sync "$W/kern.img"
	else
		sync "$MNT"
	fi
}

declare -A T
timed() {   # impl workload command...
	local i=$1 w=$2 t0
	shift 2
	t0=$(now)
	"$@"
	settle "$i"
	T[$i,$w]=$(echo "$(now) - $t0" | bc)
}

find_stat() { find "$MNT" -type f -print0 | xargs -0 stat >/dev/null; }

run() {   # impl
	local i=$1
	mount_impl "$i"
	drop
	timed "$i" untar tar -C "$MNT" -xf "$W/tree.tar"
	timed "$i" cp cp -a "$MNT/tree" "$MNT/copy"
	drop
	timed "$i" stat find_stat
	timed "$i" rm rm -r "$MNT/copy" "$MNT/tree"
	drop
	timed "$i" write dd if=/dev/zero of="$MNT/big" bs=1M count="$MIB" conv=fsync status=none
	drop
	timed "$i" read dd if="$MNT/big" of=/dev/null bs=1M status=none
	umount_impl "$i"
}

WORKLOADS="untar cp stat rm write read"
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "tree: $FILES files ($entries entries, $(du -sh "$W/tree.tar" | cut -f1) tar)," \
     "sequential: $MIB MiB, $(nproc) CPUs, median of $RUNS," \
     "FUSE io_uring: $(uring_state)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A ALL
for ((round = 1; round <= RUNS; round++)); do
	for i in $IMPLS; do
		run "$i"
		for w in $WORKLOADS; do ALL[$i,$w]="${ALL[$i,$w]:-} ${T[$i,$w]}"; done
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

cell() { [ -n "${ALL[$1,$2]:-}" ] && median ${ALL[$1,$2]} || echo -; }
fmt() { [ "$1" = - ] && echo - || printf '%.2f' "$1"; }
ratio() { [ "$1" = - ] || [ "$2" = - ] && echo - || echo "scale=3; $1 / $2" | bc; }
printf '%-8s %9s %9s %9s %10s %10s' workload torofuse kernel fuse2fs tf/kernel tf/fuse2fs
[ -n "$BASE" ] && printf ' %9s %10s %10s' base base/kernel tf/base
[ -n "$JOURNAL" ] && printf ' %9s %10s' ext3 ext3/tf
[ -n "$BASE" ] && [ -n "$JOURNAL" ] && printf ' %9s %10s %10s' base3 base3/base ext3/base3
[ -n "$FLOOR" ] && printf ' %9s %10s %10s' ram ram/kernel tf/ram
echo
for w in $WORKLOADS; do
	a=$(cell toro "$w") k=$(cell kern "$w") f=$(cell f2 "$w")
	printf '%-8s %9s %9s %9s %10s %10s' "$w" "$(fmt "$a")" "$(fmt "$k")" "$(fmt "$f")" \
		"$(fmt "$(ratio "$a" "$k")")" "$(fmt "$(ratio "$a" "$f")")"
	if [ -n "$BASE" ]; then
		b=$(cell base "$w")
		printf ' %9s %10s %10s' "$(fmt "$b")" "$(fmt "$(ratio "$b" "$k")")" "$(fmt "$(ratio "$a" "$b")")"
	fi
	if [ -n "$JOURNAL" ]; then
		j=$(cell toro3 "$w")
		printf ' %9s %10s' "$(fmt "$j")" "$(fmt "$(ratio "$j" "$a")")"
	fi
	if [ -n "$BASE" ] && [ -n "$JOURNAL" ]; then
		b3=$(cell base3 "$w")
		printf ' %9s %10s %10s' "$(fmt "$b3")" "$(fmt "$(ratio "$b3" "$b")")" \
			"$(fmt "$(ratio "$j" "$b3")")"
	fi
	if [ -n "$FLOOR" ]; then
		r=$(cell ram "$w")
		printf ' %9s %10s %10s' "$(fmt "$r")" "$(fmt "$(ratio "$r" "$k")")" \
			"$(fmt "$(ratio "$a" "$r")")"
	fi
	echo
done
