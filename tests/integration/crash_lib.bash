# crash_lib.bash: crash tests of the ext2 driver (sourced, not run; not
# named .sh so that tests/run-all.sh does not run it as a suite). Shared by
# fs_crash.sh (plain images) and the journal's tests.
#
# A run: a fresh image, metadata churn (crash_churn.py: create, append,
# rename, unlink, mkdir, rmdir, and fsync'ed files logged on the host)
# through torofuse or through a sequence of toro-fs commands, a kill -9 at a
# random moment, then e2fsck -fy and the fsync'ed files read back with
# debugfs. A small block cache (torofuse -o cache_kib, TORO_FS_CACHE_KIB)
# makes eviction happen.
#
#   crash_fuse IMG CACHE_KIB SEED     one run through the real mount
#                                     ($CRASH_TF_OPTS: more -o options;
#                                     the kill 1-4 s in, or from
#                                     $CRASH_FUSE_MIN tenths for 3 s)
#   crash_torofs IMG CACHE_KIB SEED   one run through toro-fs commands
# Both leave in $CRASH_FSCK the e2fsck -fy output and set:
#   CRASH_REPAIRS  answers e2fsck gave ("? yes")
#   CRASH_BAD      repairs that ordering must prevent (crash_bad_lines)
#   CRASH_LOST     fsync'ed files missing or different
#   CRASH_NULS     files holding a NUL byte: nothing written holds one, so
#                  it is a size past the data on disk (a hole or a block
#                  e2fsck let the size cover); counted in CRASH_BAD
# Needs: $W (work dir), $ROOT, python3, e2fsck, debugfs, and for
# crash_fuse root, /dev/fuse and fusermount3.

CRASH_TF=${CRASH_TF:-$ROOT/build/posix/bin/torofuse}
CRASH_TORO_FS=${CRASH_TORO_FS:-$ROOT/build/posix/bin/toro-fs}
CRASH_CHURN=$ROOT/tests/integration/crash_churn.py
CRASH_FSCK=$W/crash.fsck

# What e2fsck may repair after a crash of a plain (unjournalled) image:
# counts, bitmaps, link counts, i_blocks, orphans, unattached inodes. The
# lines below it may not: they mean a pointer reached the disk before what
# it points to (illegal or shared blocks, a directory block of garbage,
# an entry naming an unused inode, a size past the written data).
# One "deleted/unused inode" line is an unattached inode instead: the ".."
# of a directory that nothing names (e2fsck's path ".../???": removed by
# rmdir, its release not on disk yet) naming its parent, removed and
# released in the same checkpoint (rm -r: child, then parent).
crash_bad_lines() {   # fsck-output
	grep -Ei 'illegal|multiply-claimed|shared with|salvage|i_size is [0-9]+, should be|deleted/unused inode|bad inode|unallocated block|bad block' "$1" |
		grep -v "Entry '\.\.' in \.\.\./??? "
}

# crash_classify: set CRASH_REPAIRS/CRASH_BAD from $CRASH_FSCK.
crash_classify() {
	CRASH_REPAIRS=$(grep -c '? yes' "$CRASH_FSCK")
	CRASH_BAD=$(crash_bad_lines "$CRASH_FSCK" | wc -l)
}

# crash_check_kept IMG SYNCLOG: CRASH_LOST = fsync'ed files not intact.
crash_check_kept() {
	local img=$1 log=$2 name sum
	CRASH_LOST=0
	while read -r name sum; do
		[ -n "$name" ] || continue
		if [ "$(debugfs -R "cat /$name" "$img" 2>/dev/null | md5sum | cut -d' ' -f1)" != "$sum" ]; then
			echo "    fsync'ed /$name lost or changed"
			CRASH_LOST=$((CRASH_LOST + 1))
		fi
	done <"$log"
}

# crash_count_nuls DIR: CRASH_NULS = files under DIR (an rdump of the
# image) that hold a NUL byte; the first few are named.
crash_count_nuls() {
	CRASH_NULS=$(python3 - "$1" <<'PY'
import os, sys
bad = [os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs
       if os.path.isfile(os.path.join(d, f)) and b"\0" in open(os.path.join(d, f), "rb").read()]
for p in bad[:3]:
    print("    NUL bytes (a size past the written data):", p[len(sys.argv[1]):], file=sys.stderr)
print(len(bad))
PY
)
	CRASH_BAD=$((CRASH_BAD + CRASH_NULS))
}

# crash_after IMG SYNCLOG: the checks every run ends with.
crash_after() {
	e2fsck -fy "$1" >"$CRASH_FSCK" 2>&1
	local rc=$?
	crash_classify
	if [ $rc -ge 4 ]; then
		echo "    e2fsck -fy exit $rc"
		CRASH_BAD=$((CRASH_BAD + 1))
	fi
	rm -rf "$W/crash.dump"
	mkdir -p "$W/crash.dump"
	debugfs -R "rdump / $W/crash.dump" "$1" >/dev/null 2>&1
	crash_count_nuls "$W/crash.dump"
	crash_check_kept "$1" "$2"
}

# A random delay in [lo, hi) seconds from SEED (bash's RANDOM, reseeded).
crash_delay() {   # seed lo hi (tenths of a second)
	RANDOM=$1
	echo "scale=1; ($2 + $RANDOM % ($3 - $2)) / 10" | bc
}

crash_fuse() {   # img cache_kib seed
	local img=$1 cache=$2 seed=$3 mnt=$W/crash.mnt.$3 log=$W/crash.synced
	mkdir -p "$mnt"
	: >"$log"
	"$CRASH_TF" "$img" "$mnt" -f -o "cache_kib=$cache${CRASH_TF_OPTS:+,$CRASH_TF_OPTS}" >"$W/crash.tf.log" 2>&1 &
	local tf=$!
	local i
	for i in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
	if ! mountpoint -q "$mnt"; then   # never churn the host's directory
		echo "    torofuse did not mount:"; head -5 "$W/crash.tf.log"
		kill -9 "$tf" 2>/dev/null
		wait "$tf" 2>/dev/null
		CRASH_REPAIRS=0 CRASH_BAD=1 CRASH_LOST=0
		return
	fi
	python3 "$CRASH_CHURN" "$mnt" "$seed" 30 "$log" 2>"$W/crash.churn.err" &
	local churn=$!
	local lo=${CRASH_FUSE_MIN:-10}
	sleep "$(crash_delay "$seed" "$lo" $((lo + 30)))"
	kill -9 "$tf"
	wait "$tf" 2>/dev/null
	# The churn dies before the unmount: after it, it would write into the
	# host's directory.
	kill -9 "$churn" 2>/dev/null
	wait "$churn" 2>/dev/null
	fusermount3 -uz "$mnt" 2>/dev/null
	rmdir "$mnt"
	crash_after "$img" "$log"
}

# toro-fs is one command per process: a bounded loop of put -r (create,
# mkdir, append), mv, truncate and rm -r (unlink, rmdir) on a generated
# tree; the kill lands in whichever command runs then.
crash_torofs_tree() {   # dir
	[ -d "$1" ] && return
	python3 - "$1" <<'PY'
import os, random, sys
top = sys.argv[1]; rng = random.Random(7)
for d in range(12):
    os.makedirs(os.path.join(top, "d%d" % d, "sub"), exist_ok=True)
    for f in range(25):
        with open(os.path.join(top, "d%d" % d, ("sub/" if f % 3 == 0 else "") + "f%d" % f), "wb") as o:
            o.write(rng.randbytes(rng.choice((0, 500, 5000, 30000, 90000))).replace(b"\0", b"\1"))
PY
}

crash_torofs() {   # img cache_kib seed
	local img=$1 cache=$2 seed=$3 log=$W/crash.synced src=$W/crash.tree
	crash_torofs_tree "$src"
	: >"$log"
	head -c 150000 /dev/urandom | tr '\0' '\1' >"$W/crash.keep"
	(
		export TORO_FS_CACHE_KIB=$cache
		"$CRASH_TORO_FS" "$img" put "$W/crash.keep" /kept >/dev/null 2>&1 &&
			echo "kept $(md5sum <"$W/crash.keep" | cut -d' ' -f1)" >>"$log"
		for i in $(seq 1 40); do
			"$CRASH_TORO_FS" "$img" put -r "$src" "/t$i" || break
			"$CRASH_TORO_FS" "$img" mv "/t$i/d3" "/t$i/moved" || break
			"$CRASH_TORO_FS" "$img" truncate "/t$i/d1/f1" 1K || break
			[ "$i" -gt 1 ] && { "$CRASH_TORO_FS" "$img" rm -r "/t$((i - 1))" || break; }
		done >/dev/null 2>&1
	) &
	local loop=$!
	sleep "$(crash_delay "$seed" 15 60)"
	# Freeze the loop (no next command), kill the command running now.
	kill -STOP "$loop" 2>/dev/null
	local p
	for p in $(pgrep -P "$loop"); do kill -9 "$p" 2>/dev/null; done
	kill -9 "$loop" 2>/dev/null
	wait "$loop" 2>/dev/null
	sleep 0.2   # the killed command's file lock and writes are gone
	crash_after "$img" "$log"
}
