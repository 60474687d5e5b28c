#!/usr/bin/env bash
# bench/bigdir.sh: one directory of N empty files, for each N in COUNTS, to
# see that the time per file stays flat as the directory grows (the hash
# index). Not a test. Same run, fresh images (4 KiB blocks) each time:
#   toro-fs put -r   the host directory into an image   vs mke2fs -d
#   toro-fs stat     every name (xargs, thousands a call)
#   toro-fs rm -r    the directory
#   toro-fs ls -l    of mke2fs -d's image (no index)   vs debugfs ls -l
#   torofuse         touch, stat and rm of N files in a mount   vs fuse2fs
# Every image is checked by e2fsck -fn after. Prints seconds, µs per file
# and toro/peer ratios (below 1: toro faster).
#   bench/bigdir.sh [COUNTS] [FUSE] [PEERS]   (default "25000 50000 100000",
#   FUSE=1: the torofuse rows (root and fuse2fs needed); PEERS=1: mke2fs -d
#   and fuse2fs too, else toro only). The peers are quadratic in a
#   directory's size: at 100k files they take many minutes.
set -u
cd "$(dirname "$0")/.." || exit 1
COUNTS=${1:-25000 50000 100000}
FUSE=${2:-1}
PEERS=${3:-1}
export PATH=$PATH:/usr/sbin:/sbin
T=build/posix/bin/toro-fs
TF=build/posix/bin/torofuse
make -s posix >/dev/null || exit 1
source bench/fuse_lib.bash
fuse_bench_start bigdir
fuse_bench_uring

now() { date +%s.%N; }
# secs CMD...: run CMD, print its wall seconds (its output goes away).
secs() {
	local t0
	t0=$(now)
	"$@" >/dev/null 2>&1 || echo "bigdir.sh: failed: $*" >&2
	echo "$(now) - $t0" | bc
}
fsck() { e2fsck -fn "$1" >/dev/null 2>&1 || echo "bigdir.sh: e2fsck finds errors in $2" >&2; }
mkimg() { mke2fs -q -F -t ext2 -b 4096 -N $(($2 + 4096)) "$1" 2G >/dev/null 2>&1; }
us() { echo "scale=1; $1 * 1000000 / $2" | bc; }
ratio() { [ "$2" = 0 ] && echo - || echo "scale=2; $1 / $2" | bc; }

mount_fuse() {   # impl image
	if [ "$1" = toro ]; then
		"$TF" "$2" "$MNT" || exit 1
	else
		fuse2fs "$2" "$MNT" -f >/dev/null 2>&1 &
		PID=$!
		for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
	fi
}
umount_fuse() {  # impl image
	fusermount3 -u "$MNT"
	if [ "$1" = toro ]; then flock "$2" true; else wait "$PID"; fi
}

printf '%-8s %-22s %9s %9s %9s %9s %7s\n' files operation toro peer "toro µs" "peer µs" ratio
for n in $COUNTS; do
	rm -rf "$W/src" && mkdir -p "$W/src/d"
	(cd "$W/src/d" && seq -f 'file-%06g' 1 "$n" | xargs touch)
	(cd "$W/src/d" && ls) | sed 's|^|/d/|' >"$W/list"

	rm -f "$W/t.img" "$W/m.img"
	mkimg "$W/t.img" "$n"
	put=$(secs "$T" "$W/t.img" put -r "$W/src/d" /d)
	fsck "$W/t.img" "toro-fs put -r"
	mkd=0 walk=0 dwalk=0
	if [ "$PEERS" = 1 ]; then
		mkd=$(secs mke2fs -q -F -t ext2 -b 4096 -N $((n + 4096)) -d "$W/src" "$W/m.img" 2G)
		fsck "$W/m.img" "mke2fs -d"
		# mke2fs -d leaves the directory without an index: a linear walk.
		walk=$(secs "$T" "$W/m.img" ls -l /d)
		dwalk=$(secs debugfs -R "ls -l /d" "$W/m.img")
	fi
	st=$(secs xargs -a "$W/list" "$T" "$W/t.img" stat)
	rm=$(secs "$T" "$W/t.img" rm -r /d)
	fsck "$W/t.img" "toro-fs rm -r"
	printf '%-8s %-22s %9.2f %9.2f %9s %9s %7s\n' "$n" "put -r / mke2fs -d" "$put" "$mkd" \
		"$(us "$put" "$n")" "$(us "$mkd" "$n")" "$(ratio "$put" "$mkd")"
	[ "$PEERS" = 1 ] &&
		printf '%-8s %-22s %9.2f %9.2f %9s %9s %7s\n' "$n" "ls -l unindexed / debugfs" \
			"$walk" "$dwalk" "$(us "$walk" "$n")" "$(us "$dwalk" "$n")" "$(ratio "$walk" "$dwalk")"
	printf '%-8s %-22s %9.2f %9s %9s\n' "$n" "toro-fs stat" "$st" - "$(us "$st" "$n")"
	printf '%-8s %-22s %9.2f %9s %9s\n' "$n" "toro-fs rm -r" "$rm" - "$(us "$rm" "$n")"

	[ "$FUSE" = 1 ] || continue
	declare -A F
	F=([f2,touch]=0 [f2,stat]=0 [f2,rm]=0)
	impls=toro
	[ "$PEERS" = 1 ] && impls="toro f2"
	for impl in $impls; do
		rm -f "$W/f.img"
		mkimg "$W/f.img" "$n"
		mount_fuse "$impl" "$W/f.img"
		mkdir "$MNT/d"
		F[$impl,touch]=$(secs sh -c "cd '$MNT/d' && seq -f 'file-%06g' 1 $n | xargs touch")
		F[$impl,stat]=$(secs sh -c "cd '$MNT/d' && seq -f 'file-%06g' 1 $n | xargs stat")
		F[$impl,rm]=$(secs rm -r "$MNT/d")
		umount_fuse "$impl" "$W/f.img"
		fsck "$W/f.img" "$impl"
	done
	for op in touch stat rm; do
		printf '%-8s %-22s %9.2f %9.2f %9s %9s %7s\n' "$n" "fuse $op" "${F[toro,$op]}" \
			"${F[f2,$op]}" "$(us "${F[toro,$op]}" "$n")" "$(us "${F[f2,$op]}" "$n")" \
			"$(ratio "${F[toro,$op]}" "${F[f2,$op]}")"
	done
done
