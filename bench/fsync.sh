#!/usr/bin/env bash
# bench/fsync.sh: the time of fsync of one small file while another file
# holds much dirty data, through torofuse, on plain ext2 and on ext3 (a
# journal, ordered mode). Not a test.
# Each run, on a fresh image mounted with a block cache larger than the
# dirty data (so that nothing is written back before the fsync):
#   1. /small (4 KiB) is created and synced (an existing file);
#      with BIG_EXISTS=1, /big too, written whole and synced;
#   2. /big gets MiB of data, no fsync (with BIG_EXISTS=1 an overwrite
#      of the blocks it has: no allocation, nothing for a journal to order);
#   3. 4 KiB appended to /small, then fsync(/small), timed.
# Prints the median fsync milliseconds of RUNS runs per file system, and
# for BASE (another torofuse binary, before a change) the same, interleaved.
# Usage: bench/fsync.sh [MiB] [RUNS]   (root, /dev/fuse, fusermount3)
#   MiB 32, RUNS 5. FS="ext2 ext3" the file systems. FUSE io_uring on for
#   the run (bench/fuse_lib.bash; URING=0: as the host has it).
set -u
cd "$(dirname "$0")/.."
MIB=${1:-32}
RUNS=${2:-5}
FS=${FS:-ext2 ext3}
BIG_EXISTS=${BIG_EXISTS:-0}
TF=build/posix/bin/torofuse
BASE=${BASE:-}
source bench/fuse_lib.bash
fuse_bench_start fsync
fuse_bench_uring
[ -x "$TF" ] || { echo "build torofuse first (make posix)"; exit 1; }
CACHE_KIB=$(( (MIB + 64) * 1024 ))

# one BINARY FS: print the fsync milliseconds of one run.
one() {
	local bin=$1 fs=$2
	mke2fs -q -F -t "$fs" -b 4096 "$W/img" $((MIB * 2 + 256))M >/dev/null 2>&1
	timeout 120 "$bin" "$W/img" "$MNT" -o cache_kib=$CACHE_KIB || exit 1
	timeout 120 python3 - "$MNT" "$MIB" "$BIG_EXISTS" <<'PY'
import os, sys, time
mnt, mib, exists = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
small, big = os.path.join(mnt, "small"), os.path.join(mnt, "big")
chunk = b"x" * (1 << 20)
def write_all(path, flags):
    fd = os.open(path, flags, 0o644)
    for _ in range(mib):
        os.write(fd, chunk)
    return fd
fd = os.open(small, os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"s" * 4096)
os.fsync(fd)
os.close(fd)
if exists:
    fd = write_all(big, os.O_WRONLY | os.O_CREAT)
    os.fsync(fd)
    os.close(fd)
fd = write_all(big, os.O_WRONLY | os.O_CREAT)
os.close(fd)
fd = os.open(small, os.O_WRONLY | os.O_APPEND)
os.write(fd, b"t" * 4096)
t = time.monotonic()
os.fsync(fd)
print("%.2f" % ((time.monotonic() - t) * 1000))
os.close(fd)
PY
	fusermount3 -u "$MNT"
	flock "$W/img" true
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "fsync of 4 KiB appended to /small while /big holds $MIB MiB dirty" \
     "($([ "$BIG_EXISTS" = 1 ] && echo overwritten || echo new)), median of $RUNS, ms"
for fs in $FS; do
	: >"$W/toro.ms"
	: >"$W/base.ms"
	for _ in $(seq "$RUNS"); do
		one "$TF" "$fs" >>"$W/toro.ms"
		[ -n "$BASE" ] && one "$BASE" "$fs" >>"$W/base.ms"
	done
	line="$fs: torofuse $(median <"$W/toro.ms")"
	[ -n "$BASE" ] && line="$line, base $(median <"$W/base.ms")"
	echo "$line"
done
