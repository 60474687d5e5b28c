#!/usr/bin/env bash
# bench/fuse_rtt.sh: what one FUSE request's round trip costs on this host:
# getxattr(2) of an absent attribute in a loop (bench/xattr_loop.c), each
# call one request, against
#   kernel    the kernel's own ext2 (the same image through a loop device):
#             the system call alone, no daemon
#   torofuse  torofuse on that image
#   ramfs     torofuse serving its in-memory ramfs (-o fstype=ramfs)
#   null      bench/fuse_null.c: libfuse's single-threaded loop on
#             /dev/fuse, a daemon that does no work
# Median microseconds per call over ROUNDS interleaved rounds, and what each
# adds to the system call. A workload's floor through FUSE is its requests
# (bench/fuse_cost.sh counts them) times the torofuse figure. Not a test.
# Usage: bench/fuse_rtt.sh [ROUNDS] [CALLS]   (root, loop devices)
#   ROUNDS 5, CALLS 20000. URING=0 leaves the host's FUSE io_uring as it is.
set -u
cd "$(dirname "$0")/.." || exit 1
ROUNDS=${1:-5}
CALLS=${2:-20000}
TF=build/posix/bin/torofuse
[ -x "$TF" ] || { echo "build torofuse first (make posix)"; exit 1; }
source bench/fuse_lib.bash
fuse_bench_start rtt
fuse_bench_uring
mkdir -p build/bench
CFLAGS="-O2 -Wall -Wextra -Werror -Wno-unused-parameter"
# shellcheck disable=SC2086
cc $CFLAGS -o build/bench/xattr_loop bench/xattr_loop.c &&
	cc $CFLAGS -o build/bench/fuse_null bench/fuse_null.c $(pkg-config --cflags --libs fuse3) ||
	exit 1
mke2fs -q -F -t ext2 -b 4096 "$W/img" 64M >/dev/null

NULL_PID=
mount_impl() {
	case $1 in
	kernel)   mount -t ext2 -o loop,user_xattr "$W/img" "$MNT" ;;
	torofuse) "$TF" "$W/img" "$MNT" ;;
	ramfs)    "$TF" none "$MNT" -o fstype=ramfs ;;
	null)     build/bench/fuse_null "$MNT" & NULL_PID=$!
	          for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done ;;
	esac
	mountpoint -q "$MNT" || { echo "$1 did not mount"; exit 1; }
	[ "$1" = null ] || touch "$MNT/f"
}

umount_impl() {
	case $1 in
	kernel)   umount "$MNT" ;;
	torofuse) fusermount3 -u "$MNT"; flock "$W/img" true ;;
	ramfs)    fusermount3 -u "$MNT" ;;
	null)     fusermount3 -u "$MNT"; wait "$NULL_PID" ;;
	esac
}

IMPLS="kernel torofuse ramfs null"
declare -A ALL
for ((round = 1; round <= ROUNDS; round++)); do
	for i in $IMPLS; do
		mount_impl "$i"
		us=$(build/bench/xattr_loop "$MNT/f" "$CALLS") || exit 1
		ALL[$i]="${ALL[$i]:-} $us"
		umount_impl "$i"
	done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "getxattr round trips: $CALLS calls, median of $ROUNDS rounds, $(nproc) CPUs," \
     "FUSE io_uring: $(uring_state)"
printf '%-9s %9s %12s %9s\n' impl 'us/call' 'above kernel' '/kernel'
k=$(median ${ALL[kernel]})
for i in $IMPLS; do
	m=$(median ${ALL[$i]})
	printf '%-9s %9.2f %12.2f %9.1f\n' "$i" "$m" "$(echo "$m - $k" | bc)" "$(echo "$m / $k" | bc -l)"
done
