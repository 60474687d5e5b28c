#!/bin/bash
# fs_journal_replay.sh: our mount replays journals written by Linux's tools.
# An ext3 image (mke2fs -t ext3) gets transactions from debugfs' journal
# commands (jo/jw/jc), with every checksum format (none, v1, v2, v3) and
# 1 and 4 KiB blocks; one copy is replayed by our mount (toro-fs), another
# by e2fsck -E journal_only. Both must give the same blocks (the superblock
# and the journal aside: our mount stamps one and uses the other), a tree equal to the one the transactions
# describe, and e2fsck -fn must be clean. Also: revoked and uncommitted
# blocks are not replayed, and journal features we lack refuse the mount.
source "$(dirname "$0")/fs_lib.bash"
need mke2fs e2fsck debugfs tune2fs cmp

# Blocks (of size $2) in which two images differ, one per line.
diff_blocks() {
	cmp -l "$1" "$3" | awk -v bs="$2" '{ print int(($1 - 1) / bs) }' | uniq
}

# The superblock's block: the only one allowed to differ between replays.
sb_block() { [ "$1" = 1024 ] && echo 1 || echo 0; }

# replay_both NAME BS A: replay copies of A by us and by e2fsck, compare.
replay_both() {
	local name=$1 bs=$2 a=$3
	cp "$a" "$W/ours.img"
	cp "$a" "$W/ref.img"
	if ! "$TORO_FS" "$W/ours.img" mkdir -p /lost+found >"$W/ours.out" 2>&1; then
		fail "$name: our mount replays"
		sed 's/^/    /' "$W/ours.out" | head -5
		return 1
	fi
	grep -q "journal replayed" "$W/ours.out" || { fail "$name: no replay reported"; return 1; }
	e2fsck -E journal_only -y "$W/ref.img" >/dev/null 2>&1
	# Our mount goes on to use the journal: its blocks differ too.
	dbg "$a" "blocks <8>" | tr ' ' '\n' | grep . >"$W/jblocks"
	sb_block "$bs" >>"$W/jblocks"
	local other
	other=$(diff_blocks "$W/ours.img" "$bs" "$W/ref.img" | grep -vxFf "$W/jblocks")
	[ -z "$other" ] && pass "$name: same blocks as e2fsck's replay" ||
		fail "$name: blocks differ from e2fsck's replay: $(echo $other | head -c 200)"
	check "$name: e2fsck -fn clean after our replay" fsck_clean "$W/ours.img"
	dumpe2fs -h "$W/ours.img" 2>/dev/null | grep -q needs_recovery &&
		fail "$name: needs_recovery still set" || pass "$name: needs_recovery cleared"
	[ "$(dbg "$W/ours.img" logdump | grep -c 'Found expected')" = 0 ] &&
		pass "$name: journal empty after replay" || fail "$name: journal not empty"
}

# A tree change made by debugfs on B, turned into one transaction in A's
# journal: replaying A must give B's tree.
tree_case() {
	local bs=$1 jo=$2 name="tree bs=$1 jo='$2'"
	local a=$W/a.img b=$W/b.img
	mkext3 "$bs" "$a" "$jo" || return
	cp "$a" "$b"
	head -c 50000 /dev/urandom >"$W/payload"
	debugfs -w -f - "$b" >/dev/null 2>&1 <<-CMDS
		mkdir /d
		mkdir /d/e
		write $W/payload /d/file
		symlink /d/link /d/file
	CMDS
	local list
	list=$(diff_blocks "$a" "$bs" "$b" | paste -sd,)
	: >"$W/blocks"
	for n in ${list//,/ }; do
		dd if="$b" bs="$bs" skip="$n" count=1 status=none >>"$W/blocks"
	done
	printf 'jo %s\njw -b %s %s\njc\n' "$JO" "$list" "$W/blocks" |
		debugfs -w -f - "$a" >/dev/null 2>&1
	dumpe2fs -h "$a" 2>/dev/null | grep -q needs_recovery ||
		{ fail "$name: debugfs left no transaction"; return; }
	replay_both "$name" "$bs" "$a" || return
	same_tree=$(diff <(dbg "$W/ours.img" "ls -l /d") <(dbg "$b" "ls -l /d") &&
		same_bytes "$W/ours.img" /d/file "$W/payload" && echo yes)
	[ "$same_tree" = yes ] && pass "$name: the tree the transaction describes" ||
		fail "$name: tree differs"
}

for bs in 1024 4096; do
	tree_case "$bs" ""
	tree_case "$bs" "-c -v 1"
	tree_case "$bs" "-c -v 2"
	tree_case "$bs" "-c -v 3"
done

# Several transactions: a block revoked by a later one is not replayed; a
# block whose first word is the journal magic is escaped and restored; an
# uncommitted last transaction is ignored. (With checksum v1, debugfs
# 1.47's revoke transactions fail their check: e2fsck stops before them,
# and so must we, which replay_both compares; hence no v1 here.)
head -c 3072 /dev/urandom >"$W/junk"
printf '\xc0\x3b\x39\x98' | dd of="$W/junk" bs=1 seek=1024 conv=notrunc status=none
blk_is_zero() {
	[ -z "$(dd if="$W/ours.img" bs=1024 skip="$1" count=1 status=none | tr -d '\0')" ]
}
for jo in "" "-c -v 2" "-c -v 3"; do
	a=$W/rv.img
	mkext3 1024 "$a" "$jo" || continue
	debugfs -w -f - "$a" >/dev/null 2>&1 <<-CMDS
		jo $JO
		jw -b 9000,9001,9002 $W/junk
		jw -r 9000
		jw -b 9003 -c $W/junk
		jc
	CMDS
	replay_both "revoke jo='$jo'" 1024 "$a" || continue
	blk_is_zero 9000 && pass "jo='$jo': revoked block not replayed" ||
		fail "jo='$jo': revoked block replayed"
	dd if="$W/ours.img" bs=1024 skip=9001 count=1 status=none |
		cmp -s - <(tail -c +1025 "$W/junk" | head -c 1024) &&
		pass "jo='$jo': escaped block restored" || fail "jo='$jo': escaped block differs"
	blk_is_zero 9003 && pass "jo='$jo': uncommitted block not replayed" ||
		fail "jo='$jo': uncommitted block replayed"
done

# refused NAME PATTERN CMD...: CMD fails (exit 3, image unusable) saying PATTERN.
refused() {
	local name=$1 pattern=$2
	shift 2
	"$@" >"$W/ref.out" 2>&1
	local rc=$?
	[ "$rc" = 3 ] && grep -q -- "$pattern" "$W/ref.out" && pass "$name" ||
		{ fail "$name (exit $rc)"; sed 's/^/    /' "$W/ref.out" | head -5; }
}

# A journal feature we do not implement (fast_commit) refuses the mount.
a=$W/fc.img
mke2fs -q -F -t ext3 -b 1024 "$a" 16M >/dev/null 2>&1
printf 'jo\njw -b 9000 %s\njc\n' "$W/junk" | debugfs -w -f - "$a" >/dev/null 2>&1
j0=$(dbg "$a" "bmap <8> 0")
printf '\x00\x00\x00\x21' | dd of="$a" bs=1 seek=$((j0 * 1024 + 0x28)) conv=notrunc status=none
refused "fast_commit journal refused" "journal features 0x20 not supported" \
	"$TORO_FS" "$a" mkdir -p /lost+found

# needs_recovery on a read-only open: refused, not mounted stale.
printf '\x00\x00\x00\x01' | dd of="$a" bs=1 seek=$((j0 * 1024 + 0x28)) conv=notrunc status=none
refused "needs recovery, read-only device: refused" "needs journal recovery" \
	"$TORO_FS" "$a" ls /

finish
