# bench/fuse_lib.bash: what the torofuse benches share (source it from the
# top of the tree). Not a bench.
#   fuse_bench_start NAME  W: a scratch directory /tmp/toro-NAME.XXXXXX, MNT
#                          its mount point; at exit whatever is still
#                          mounted there is unmounted, BENCH_CLEANUP (a
#                          command, if set) runs, W goes, and the host's
#                          FUSE io_uring is set back
#   fuse_bench_uring       the host lets FUSE use io_uring until the end
#                          (the fuse module's enable_uring), as torofuse's
#                          users are told to: torofuse then takes requests
#                          through a queue per host CPU (fusemount/uring.h).
#                          URING=0 leaves the host as it is.
#   uring_state            Y, N or absent: for a bench's heading
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_WAS=
BENCH_CLEANUP=

fuse_bench_cleanup() {
	if mountpoint -q "$MNT"; then
		fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	[ -n "$BENCH_CLEANUP" ] && $BENCH_CLEANUP
	rm -rf "$W"
	[ -n "$URING_WAS" ] && echo "$URING_WAS" >"$URING_PARAM"
}

fuse_bench_start() {
	W=$(mktemp -d "/tmp/toro-$1.XXXXXX")
	MNT=$W/mnt
	mkdir -p "$MNT"
	trap fuse_bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

fuse_bench_uring() {
	[ "${URING:-1}" = 1 ] && [ -w "$URING_PARAM" ] || return 0
	URING_WAS=$(cat "$URING_PARAM")
	echo Y >"$URING_PARAM"
}

uring_state() { cat "$URING_PARAM" 2>/dev/null || echo absent; }
