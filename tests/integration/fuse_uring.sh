#!/usr/bin/env bash
# torofuse's requests through io_uring (fusemount/uring.h), where the host's
# FUSE has it: they do come that way (the daemon's stats count them), data
# goes both ways through the rings' buffers (a 3 MB file written and read
# back, a 600-entry directory listed, a 3000-byte extended attribute),
# with one kernel CPU serving every host CPU's queue too (-o cpus=1),
# -o uring=0 takes them through /dev/fuse alone, e2fsck finds the images
# clean, a ring that cannot be made (a CPU that fails, io_uring disabled)
# leaves the requests to /dev/fuse instead of holding them back, and a
# daemon killed while its rings wait leaves a mount that answers ENOTCONN
# and unmounts.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/fuse_common.sh"
cd "$TOP"
FUSE_URING=1
fuse_ready
IMG=$SCRATCH/u.img MNT=$SCRATCH/mnt LOG=$SCRATCH/daemon.log
make_image mke2fs-4k "$IMG" 64
head -c 3000000 /dev/urandom >"$SCRATCH/big"
value=$(head -c 3000 /dev/zero | tr '\0' v)

# through_rings: the last unmount's log counts at least $1 ring requests.
through_rings() {
	local n
	n=$(sed -n 's/^torofuse: \([0-9]*\) requests through io_uring$/\1/p' "$LOG")
	[ -n "$n" ] && [ "$n" -ge "$1" ]
}

# no_ring_requests: the last unmount's log (it has the file system's stats)
# counts no ring request.
no_ring_requests() { [ -s "$LOG" ] && ! grep -q "^torofuse: [0-9]* requests through io_uring$" "$LOG"; }

# workload: what every mount below does; each step checked.
workload() {   # label
	check "$1: a 3 MB file is written" cp "$SCRATCH/big" "$MNT/big"
	# keep_cache=0: each open drops the host's pages, so the read is the daemon's.
	check "$1: ... and read back the same" cmp "$SCRATCH/big" "$MNT/big"
	mkdir "$MNT/d"
	for i in $(seq 600); do : >"$MNT/d/entry-with-a-longer-name-$i"; done
	check "$1: a 600-entry directory lists whole" [ "$(ls "$MNT/d" | wc -l)" -eq 600 ]
	check "$1: a 3000-byte attribute is set" setfattr -n user.big -v "$value" "$MNT/big"
	check "$1: ... and read back" \
		[ "$(getfattr --absolute-names --only-values -n user.big "$MNT/big")" = "$value" ]
	check "$1: rename, link, symlink, unlink" eval 'mv "$MNT/big" "$MNT/big2" &&
		ln "$MNT/big2" "$MNT/d/hard" && ln -s big2 "$MNT/sym" && rm "$MNT/d/hard" &&
		[ "$(readlink "$MNT/sym")" = big2 ]'
	check "$1: rm -r of the directory" rm -r "$MNT/d"
}

# mount_with label [flag]: -o stats and keep_cache=0, the log, and the
# label's options (cpus=N), or a flag (-s: one worker).
mount_with() {
	local opts="stats,keep_cache=0,log=$LOG" flag=${2:-}
	case $1 in cpus=*) opts="$opts,$1" ;; esac
	mkdir -p "$MNT"
	FUSE_MOUNTS+=("$MNT")
	FUSE_IMG[$MNT]=$IMG
	timeout 20 "$TF" "$IMG" "$MNT" $flag -o "$opts" && mountpoint -q "$MNT"
}

for mode in "io_uring" "cpus=1" "-s"; do
	rm -f "$LOG"
	if [ "$mode" = -s ]; then
		check "$mode: mounted" mount_with "$mode" -s
	else
		check "$mode: mounted" mount_with "$mode"
	fi
	workload "$mode"
	rm -f "$MNT/big2" "$MNT/sym"
	check "$mode: unmounted" fs_umount "$MNT"
	check "$mode: the requests came through the rings" through_rings 600
	check "$mode: e2fsck -fn finds the image clean" fsck_clean "$IMG"
done

rm -f "$LOG"
check "uring=0: mounted" tf_mount "$IMG" "$MNT" "stats,keep_cache=0,uring=0,log=$LOG"
workload "uring=0"
check "uring=0: unmounted" fs_umount "$MNT"
check "uring=0: no request came through a ring" no_ring_requests
check "uring=0: e2fsck -fn finds the image clean" fsck_clean "$IMG"

# A CPU that cannot serve its queues, or io_uring refused to the process:
# the connection gives io_uring up and requests come through /dev/fuse
# instead of waiting for a ring that will never be there.
fallback() {   # label
	check "$1: requests are answered (none waits for a ring)" timeout 10 \
		sh -c 'echo data >"$1/f" && [ "$(cat "$1/f")" = data ] && ls "$1" >/dev/null' sh "$MNT"
	check "$1: unmounted" fs_umount "$MNT"
	check "$1: no request came through a ring" no_ring_requests
}
for cpu in 0 1; do
	rm -f "$LOG"
	export TOROFUSE_URING_FAIL_CPU=$cpu     # uring.h: for tests
	check "CPU $cpu's ring fails: mounted" mount_with io_uring
	unset TOROFUSE_URING_FAIL_CPU
	fallback "CPU $cpu's ring fails"
	check "  ... the log says which CPU" grep -q "CPU $cpu takes no requests through io_uring" "$LOG"
done
DISABLED=/proc/sys/kernel/io_uring_disabled
if [ -w "$DISABLED" ]; then
	was=$(cat "$DISABLED")
	trap 'echo "$was" >"$DISABLED"; fuse_cleanup' EXIT
	echo 2 >"$DISABLED"         # io_uring refused to every process, briefly
	rm -f "$LOG"
	check "io_uring disabled: mounted" mount_with io_uring
	fallback "io_uring disabled"
	echo "$was" >"$DISABLED"
	trap fuse_cleanup EXIT
fi

# kill -9 while the rings wait for requests.
check "kill -9: mounted" tf_mount "$IMG" "$MNT"
echo data >"$MNT/f"
pid=$(pgrep -f "torofuse $IMG " | head -1)
check "kill -9: the daemon is found" [ -n "$pid" ]
[ -n "$pid" ] && kill -9 "$pid"
gone() { ! kill -0 "$1" 2>/dev/null; }
for _ in $(seq 100); do gone "$pid" && break; sleep 0.1; done
check "kill -9: the daemon is gone" gone "$pid"
timeout 10 stat "$MNT/f" >/dev/null 2>"$SCRATCH/err"; rc=$?
check "kill -9: the mount answers at once ($rc)" [ $rc -ne 124 ]
check "  ... with ENOTCONN" grep -q "not connected" "$SCRATCH/err"
check "kill -9: the mount unmounts" timeout 10 fusermount3 -u "$MNT"
check "kill -9: the image mounts again" tf_mount "$IMG" "$MNT"
check "  ... and unmounts" fs_umount "$MNT"
finish
