#!/usr/bin/env bash
# fs_blocksizes.sh: the storage suite (tests/apps/FsSuite, posix) on images
# with 8, 16, 32 and 64 KiB blocks, made by mke2fs (which warns that they
# exceed the host's page size; -F) and by toro-fs mkfs; after each run the
# host checks both images (fssuite_lib.bash: e2fsck -fn, debugfs spot
# checks of /keep). 64 KiB blocks also exercise rec_len's encoding of an
# entry spanning a whole block (65535 on disk).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
source "$(dirname "$0")/fssuite_lib.bash"
cd "$TOP" || exit 1
scratch
POSIX=build/posix/tests/apps/FsSuite
TOROFS=build/posix/bin/toro-fs
out=$SCRATCH/out
[ -x "$POSIX" ] && [ -x "$TOROFS" ] || { fail "missing $POSIX or $TOROFS (make test-build)"; finish; exit; }

for b in 8192 16384 32768 65536; do
	for kind in mke2fs toro-fs; do
		mkimages $kind $b || { fail "$kind $b: make images"; continue; }
		"$POSIX" --disk "$SCRATCH/big.img" --disk "$SCRATCH/small.img" >"$out" 2>&1
		verdict "$kind $b: posix FsSuite" $? "block size $b"
		host_checks "$kind $b" $b
	done
done
finish
