#!/usr/bin/env bash
# tests/integration/fuse_common.sh: what the torofuse scripts share (source
# it after tests/lib.sh). Run by itself, it checks torofuse's command line.
#
#   fuse_ready                  skip (print the closing line, exit 0) without FUSE
#   make_image KIND PATH [MIB]  KIND: genext2fs | mke2fs-Nk (N KiB blocks, 1 to 64)
#   tf_mount IMG MNT [OPTS]     torofuse in the background (daemon mode)
#   f2_mount IMG MNT [OPTS]     fuse2fs in the foreground, as a child
#   fs_umount MNT               unmount and wait for the daemon to finish
#   fsck_clean IMG              e2fsck -fn finds nothing
# TOROFUSE=PATH runs another torofuse (the sanitizer build: *_asan.sh); a
# sanitizer report from it fails the unmount that ends it.
# FUSE_URING=1 lets the host's FUSE use io_uring for the script's mounts
# (the fuse module's enable_uring, set back at the end), so that torofuse
# takes its requests through its ring queues (fusemount/uring.h); the
# script is skipped where the host's FUSE has no io_uring.
# Every mount is recorded; fuse_cleanup (an EXIT trap) unmounts what is left.

FUSE_MOUNTS=()
declare -A FUSE_PID FUSE_IMG
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_WAS=

fuse_cleanup() {
	local m
	for m in "${FUSE_MOUNTS[@]}"; do
		mountpoint -q "$m" 2>/dev/null && fusermount3 -uz "$m" 2>/dev/null
	done
	for m in "${FUSE_MOUNTS[@]}"; do
		[ -n "${FUSE_PID[$m]:-}" ] && kill "${FUSE_PID[$m]}" 2>/dev/null
	done
	[ -n "${SCRATCH:-}" ] && rm -rf "$SCRATCH"
	[ -n "$URING_WAS" ] && echo "$URING_WAS" >"$URING_PARAM"
}

fuse_ready() {
	TF="${TOROFUSE:-$TOP/build/posix/bin/torofuse}"
	SCRATCH=$(mktemp -d /tmp/toro-fuse.XXXXXX)
	# A daemon's stderr is gone: sanitizer reports go to files.
	export ASAN_OPTIONS="log_path=$SCRATCH/sanitizer${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export UBSAN_OPTIONS="log_path=$SCRATCH/sanitizer:print_stacktrace=1"
	trap fuse_cleanup EXIT
	if [ ! -e /dev/fuse ] || [ "$(id -u)" != 0 ] || ! command -v fusermount3 >/dev/null; then
		echo "SKIP: needs root, /dev/fuse and fusermount3"
		finish
		exit 0
	fi
	if [ "${FUSE_URING:-}" = 1 ]; then
		if [ ! -w "$URING_PARAM" ]; then
			echo "SKIP: the host's FUSE has no io_uring ($URING_PARAM)"
			finish
			exit 0
		fi
		URING_WAS=$(cat "$URING_PARAM")
		echo Y >"$URING_PARAM"
	fi
	if [ ! -x "$TF" ]; then
		fail "torofuse is built ($TF)"
		finish
		exit 1
	fi
}

make_image() {   # kind path [MiB]
	local kind=$1 img=$2 size=${3:-96}
	rm -f "$img"
	case $kind in
	genext2fs) genext2fs -b $((size * 1024)) -N 4096 "$img" ;;
	mke2fs-[0-9]*k) local k=${kind#mke2fs-}
		k=${k%k}
		# Blocks above 4 KiB: by default as many blocks as 96 MiB of 4 KiB
		# ones, so what fits is the same (sparse file; -F: the host's page
		# size is smaller than such blocks).
		[ -z "${3:-}" ] && [ "$k" -gt 4 ] && size=$((96 * k / 4))
		mke2fs -q -F -t ext2 -b $((k * 1024)) "$img" "${size}M" ;;
	*) echo "make_image: unknown kind $kind"; return 1 ;;
	esac >/dev/null 2>&1
}

not_mounted() { ! mountpoint -q "$1"; }

wait_mounted() {   # mnt: up to 10 s
	local i
	for i in $(seq 100); do
		mountpoint -q "$1" && return 0
		sleep 0.1
	done
	return 1
}

# tf_mount img mnt [opts]: 0 when mounted (torofuse returns once it is).
tf_mount() {
	local img=$1 mnt=$2 opts=${3:-}
	mkdir -p "$mnt"
	FUSE_MOUNTS+=("$mnt")
	FUSE_IMG[$mnt]=$img
	FUSE_PID[$mnt]=
	if [ -n "$opts" ]; then
		timeout 20 "$TF" "$img" "$mnt" -o "$opts" || return 1
	else
		timeout 20 "$TF" "$img" "$mnt" || return 1
	fi
	mountpoint -q "$mnt"
}

f2_mount() {
	local img=$1 mnt=$2 opts=${3:-}
	mkdir -p "$mnt"
	FUSE_MOUNTS+=("$mnt")
	FUSE_IMG[$mnt]=
	fuse2fs "$img" "$mnt" -f ${opts:+-o "$opts"} >"$SCRATCH/fuse2fs.log" 2>&1 &
	FUSE_PID[$mnt]=$!
	wait_mounted "$mnt"
}

# fs_umount mnt: unmount, then wait (20 s at most) until the daemon has
# flushed and ended: fuse2fs is our child; torofuse holds a lock on its
# image until it has finished.
fs_umount() {
	local mnt=$1 rc=0
	fusermount3 -u "$mnt" 2>/dev/null || rc=1
	if [ -n "${FUSE_PID[$mnt]:-}" ]; then
		local i
		for i in $(seq 200); do
			kill -0 "${FUSE_PID[$mnt]}" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "${FUSE_PID[$mnt]}" 2>/dev/null && rc=1
		wait "${FUSE_PID[$mnt]}" 2>/dev/null
		FUSE_PID[$mnt]=
	elif [ -n "${FUSE_IMG[$mnt]:-}" ]; then
		timeout 20 flock "${FUSE_IMG[$mnt]}" true || rc=1
	fi
	sanitizer_clean || rc=1
	return $rc
}

# sanitizer_clean: no sanitizer report since the last call (else a failure,
# with the report).
sanitizer_clean() {
	local r status=0
	for r in "$SCRATCH"/sanitizer.*; do
		[ -e "$r" ] || continue
		fail "torofuse's sanitizer report $(basename "$r")"
		head -40 "$r"
		rm -f "$r"
		status=1
	done
	return $status
}

fsck_clean() {
	e2fsck -fn "$1" >"$SCRATCH/fsck.log" 2>&1 && return 0
	echo "--- e2fsck -fn $1:"
	head -30 "$SCRATCH/fsck.log"
	return 1
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	source "$(dirname "$0")/../lib.sh"
	cd "$TOP"
	fuse_ready
	out=$("$TF" --help 2>&1); rc=$?
	check "torofuse --help explains itself" [ $rc -eq 0 ]
	check "  ... and names the image and the mount point" grep -q "IMAGE MOUNTPOINT" <<<"$out"
	"$TF" 2>"$SCRATCH/err"; rc=$?
	check "no arguments: status 2" [ $rc -eq 2 ]
	check "  ... and a usage line" grep -q usage "$SCRATCH/err"
	"$TF" "$SCRATCH/missing.img" "$SCRATCH" 2>"$SCRATCH/err"; rc=$?
	check "a missing image is refused" [ $rc -ne 0 ]
	check "  ... with a message naming it" grep -q missing.img "$SCRATCH/err"
	finish
fi
