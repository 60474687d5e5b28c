#!/usr/bin/env bash
# torofuse against real tools: each scenario runs on a torofuse mount of an
# ext2 image and, the same, on a fuse2fs mount of a copy; after each one
# the image is unmounted and e2fsck -fn must find it clean. What the
# scenarios print (no times or inode numbers unless set) must be the same
# for both; where fuse2fs is itself wrong, that is a NOTE, not a failure.
# Images: genext2fs, mke2fs -t ext2 with 1 KiB and with 4 KiB blocks.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/fuse_common.sh"
cd "$TOP"
fuse_ready
exec 3>&1

SRC=/usr/include/linux
[ -d "$SRC" ] || SRC="$TOP/kernel"
KINDS=${FUSE_KINDS:-"genext2fs mke2fs-1k mke2fs-4k"}
IMPL=toro

# expect "what" command...: a test for torofuse; for fuse2fs only a note.
expect() {
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
		[ $IMPL = toro ] && pass "$KIND $SCEN: $what" >&3
	else
		echo "NOT OK: $what"
		if [ $IMPL = toro ]; then fail "$KIND $SCEN: $what" >&3
		else echo "NOTE: fuse2fs $KIND $SCEN: $what fails" >&3; fi
	fi
	return 0
}

not() { ! "$@"; }

listing() {   # dir: a normalized recursive listing (names, types, modes, links, sizes, owners, targets)
	(cd "$1" && find . -printf '%p %y %m %n %U %G %l %s\n' | sed 's/ d \(.*\) [0-9]*$/ d \1/' | sort)
}

# known "what" command...: like expect, for a bug already reported in the
# kernel's VFS or ext2 driver: when it still fails it is printed as KNOWN
# and not counted; once fixed it counts as a pass.
known() {
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
		[ $IMPL = toro ] && pass "$KIND $SCEN: $what" >&3
	else
		echo "NOT OK (known): $what"
		[ $IMPL = toro ] && echo "KNOWN BUG: $KIND $SCEN: $what" >&3
	fi
	return 0
}

# ---- Scenarios: $M is the mount. Each leaves state for the next. ----------

s_copy() {
	cp -a "$SRC" "$M/tree"
	expect "cp -a of $SRC succeeds" [ $? -eq 0 ]
	expect "diff -r finds nothing" quiet diff -r "$SRC" "$M/tree"
	expect "listing equals the source's" [ "$(listing "$SRC")" = "$(listing "$M/tree")" ]
	listing "$M/tree" | md5sum
}

s_remount_tar() {
	expect "after a remount diff -r still finds nothing" quiet diff -r "$SRC" "$M/tree"
	mkdir "$M/untar"
	tar -C "$SRC" -cf - . | tar -C "$M/untar" -xpf -
	expect "tar extracts into the mount" [ "${PIPESTATUS[1]}" -eq 0 ]
	mkdir "$SCRATCH/back.$IMPL"
	tar -C "$M/untar" -cf - . 2>"$SCRATCH/tar.err" | tar -C "$SCRATCH/back.$IMPL" -xpf -
	expect "tar of the mount extracts the same tree" quiet diff -r "$SRC" "$SCRATCH/back.$IMPL"
	known "tar sees no file change while reading (ext2 reports ns it cannot keep in 128-byte inodes)" \
		quiet not grep -q "changed as we read" "$SCRATCH/tar.err"
	rm -rf "$SCRATCH/back.$IMPL"
}

s_mv() {
	mkdir -p "$M/a/deep" "$M/b"
	echo one >"$M/a/f1"; echo two >"$M/a/f2"; echo other >"$M/b/f2"
	mv "$M/a/f1" "$M/b/"
	expect "mv a file across directories" [ "$(cat "$M/b/f1")" = one -a ! -e "$M/a/f1" ]
	mv -f "$M/a/f2" "$M/b/f2"
	expect "mv over an existing file replaces it" [ "$(cat "$M/b/f2")" = two -a ! -e "$M/a/f2" ]
	local dir; dir=$(cd "$M/untar" && ls -d */ | head -1); dir=${dir%/}
	mv "$M/untar/$dir" "$M/a/deep/"
	expect "mv a directory tree across directories" quiet diff -r "$SRC/$dir" "$M/a/deep/$dir"
	expect "  ... its .. follows" [ "$(stat -c %i "$M/a/deep/$dir/..")" = "$(stat -c %i "$M/a/deep")" ]
	mv "$M/a/deep" "$M/a/deep/$dir/x" 2>/dev/null
	expect "mv a directory into itself fails" [ $? -ne 0 ]
	mkdir "$M/b/full"; touch "$M/b/full/x"; mkdir "$M/a/empty"
	mv -T "$M/a/empty" "$M/b/full" 2>/dev/null
	expect "mv over a non-empty directory fails" [ $? -ne 0 ]
	(cd "$M" && ls -R a b) | md5sum
}

s_links() {
	echo data >"$M/h1"
	ln "$M/h1" "$M/h2"; ln "$M/h1" "$M/a/h3"
	expect "three names: link count 3" [ "$(stat -c %h "$M/h1")" = 3 ]
	expect "  ... the same inode" [ "$(stat -c %i "$M/h2")" = "$(stat -c %i "$M/a/h3")" ]
	rm "$M/h2"
	expect "unlink one: count 2" [ "$(stat -c %h "$M/a/h3")" = 2 ]
	echo more >>"$M/a/h3"
	expect "writes through one name show through the other" [ "$(cat "$M/h1")" = "$(printf 'data\nmore')" ]
	dd if=/dev/zero of="$M/h1" bs=4k count=64 seek=1 conv=notrunc status=none
	expect "many writes through one name: the other sees the size" [ "$(stat -c %s "$M/a/h3")" = 266240 ]
	truncate -s 10 "$M/a/h3"
	expect "truncate through one name: the other sees it" [ "$(stat -c %s "$M/h1")" = 10 ]
	mkdir -p "$M/ld/s1" "$M/ld/s2"
	expect "a directory with two subdirectories has 4 links" [ "$(stat -c %h "$M/ld")" = 4 ]
	rmdir "$M/ld/s1"
	expect "  ... 3 after rmdir of one" [ "$(stat -c %h "$M/ld")" = 3 ]
	ln "$M/ld" "$M/ld2" 2>/dev/null
	expect "hard link to a directory fails" [ $? -ne 0 ]
	local n; n=$(cd "$M/tree" && find . -type f | head -50 | wc -l)
	(cd "$M/tree" && find . -type f | head -50 | while read -r f; do ln "$f" "$f.hl"; done)
	expect "50 more hard links in the tree" [ "$(find "$M/tree" -type f -links 2 | wc -l)" -eq $((2 * n)) ]
	# Once: less than du -l, which counts every name (any block size).
	expect "du counts hard links once" [ "$(du -s "$M/tree" | cut -f1)" -lt "$(du -sl "$M/tree" | cut -f1)" ]
}

s_symlinks() {
	ln -s h1 "$M/sl"
	expect "readlink" [ "$(readlink "$M/sl")" = h1 ]
	expect "read through a symlink" [ "$(head -1 "$M/sl")" = data ]
	ln -s /nonexistent/target "$M/dangling"
	expect "a dangling symlink is a symlink" [ -L "$M/dangling" -a ! -e "$M/dangling" ]
	local long; long=$(printf 'x%.0s' $(seq 300))
	ln -s "$long" "$M/longlink"
	expect "a 300-byte target (slow symlink)" [ "$(readlink "$M/longlink")" = "$long" ]
	ln -s tree "$M/dirlink"
	expect "a symlink to a directory lists it" [ "$(ls "$M/dirlink" | wc -l)" = "$(ls "$M/tree" | wc -l)" ]
	chown -h 4321:8765 "$M/sl"
	expect "chown -h changes the link, not the target" \
		[ "$(stat -c %u:%g "$M/sl")" = 4321:8765 -a "$(stat -c %u "$M/h1")" = 0 ]
	touch -h -d '2003-04-05 06:07:08 UTC' "$M/sl"
	expect "touch -h sets the link's time" [ "$(stat -c %Y "$M/sl")" = 1049522828 ]
	expect "  ... not the target's" [ "$(stat -c %Y "$M/h1")" != 1049522828 ]
	cp -a "$M/sl" "$M/dangling" "$M/longlink" "$M/ld/"
	expect "cp -a copies symlinks as symlinks" [ "$(readlink "$M/ld/longlink")" = "$long" -a -L "$M/ld/sl" ]
	(cd "$M" && ls -l sl dangling dirlink) | awk '{print $1, $3, $4, $9, $10, $11}'
}

s_attrs() {
	echo x >"$M/at"; mkdir "$M/atd"
	chmod 4751 "$M/at"; chmod 1777 "$M/atd"
	expect "chmod 4751" [ "$(stat -c %a "$M/at")" = 4751 ]
	expect "chmod 1777 on a directory" [ "$(stat -c %a "$M/atd")" = 1777 ]
	chown 1234:5678 "$M/at"
	expect "chown 1234:5678" [ "$(stat -c %u:%g "$M/at")" = 1234:5678 ]
	chgrp 99 "$M/at"
	expect "chgrp keeps the owner" [ "$(stat -c %u:%g "$M/at")" = 1234:99 ]
	touch -d '2001-02-03 04:05:06.123456789 UTC' "$M/at"
	expect "touch -d sets mtime" [ "$(stat -c %Y "$M/at")" = 981173106 ]
	touch -a -d '1999-12-31 23:59:59 UTC' "$M/at"
	expect "touch -a sets atime only" [ "$(stat -c %X:%Y "$M/at")" = 946684799:981173106 ]
	touch -d '1960-01-01 00:00:00 UTC' "$M/atd"
	expect "a time before 1970" [ "$(stat -c %Y "$M/atd")" = -315619200 ]
	echo s >"$M/sg"; chmod 6755 "$M/sg"; echo y >>"$M/sg"
	expect "a write by root keeps the set-id bits" [ "$(stat -c %a "$M/sg")" = 6755 ]
	chown 1:1 "$M/sg"
	expect "chown clears the set-id bits" [ "$(stat -c %a "$M/sg")" = 755 ]
	echo s >"$M/sg2"; chmod 2745 "$M/sg2"; chown 2:2 "$M/sg2"
	expect "chown keeps set-group-ID without group execute" [ "$(stat -c %a "$M/sg2")" = 2745 ]
	local c1; c1=$(stat -c %Z "$M/at"); sleep 1.1; chmod 644 "$M/at"
	expect "chmod moves ctime" [ "$(stat -c %Z "$M/at")" -gt "$c1" ]
	mkfifo "$M/fifo"; mknod "$M/null" c 1 3; mknod "$M/blk" b 8 17; mknod "$M/bigdev" c 300 70000
	expect "mkfifo" [ -p "$M/fifo" ]
	expect "mknod c 1 3" [ "$(stat -c '%F %t:%T' "$M/null")" = "character special file 1:3" ]
	expect "mknod b 8 17" [ "$(stat -c '%F %t:%T' "$M/blk")" = "block special file 8:11" ]
	known "mknod c 300 70000 (fs.h/ext2 keep 8-bit minors only)" [ "$(stat -c '%t:%T' "$M/bigdev")" = "12c:11170" ]
	echo a >"$M/app"; echo b >>"$M/app"; echo c >>"$M/app"
	expect "O_APPEND appends" [ "$(cat "$M/app")" = "$(printf 'a\nb\nc')" ]
	(set -C; echo x >"$M/app") 2>/dev/null
	expect "O_EXCL on an existing file fails" [ $? -ne 0 ]
	echo new >"$M/app"
	expect "O_TRUNC truncates" [ "$(cat "$M/app")" = new ]
	stat -c '%n %a %u %g %s %F' "$M"/at "$M"/atd "$M"/fifo "$M"/null "$M"/app "$M"/sg "$M"/sg2 |
		sed "s|$M|M|"
}

s_truncate() {
	head -c 100000 /dev/urandom >"$SCRATCH/rnd"
	cp "$SCRATCH/rnd" "$M/tr"
	truncate -s 50000 "$M/tr"; truncate -s 50000 "$SCRATCH/rnd"
	expect "truncate down keeps the head" cmp -s "$M/tr" "$SCRATCH/rnd"
	truncate -s 3000000 "$M/tr"; truncate -s 3000000 "$SCRATCH/rnd"
	expect "truncate up reads zeros past the old end" cmp -s "$M/tr" "$SCRATCH/rnd"
	expect "  ... as a hole (few blocks)" [ "$(stat -c %b "$M/tr")" -lt 300 ]
	truncate -s 49999 "$M/tr"; truncate -s 49999 "$SCRATCH/rnd"
	printf 'end' >>"$M/tr"; printf 'end' >>"$SCRATCH/rnd"
	expect "truncate to an odd size, then append" cmp -s "$M/tr" "$SCRATCH/rnd"
	truncate -s 0 "$M/tr"
	expect "truncate to 0 frees every block" [ "$(stat -c %s:%b "$M/tr")" = 0:0 ]
	dd if="$SCRATCH/rnd" of="$M/tr" bs=7777 seek=3 conv=notrunc status=none
	dd if="$SCRATCH/rnd" of="$SCRATCH/rnd2" bs=7777 seek=3 conv=notrunc status=none
	expect "unaligned writes after a hole" cmp -s "$M/tr" "$SCRATCH/rnd2"
	rm -f "$SCRATCH/rnd" "$SCRATCH/rnd2"
	# torofuse writes through a write-only descriptor around the host's
	# page cache (ops.c): what was cached or mapped must see it at once.
	printf aaaaaaaa >"$M/wo"
	local seen
	seen=$(/usr/bin/python3 - "$M/wo" <<-'EOF'
		import mmap, os, sys
		r = os.open(sys.argv[1], os.O_RDONLY)
		m = mmap.mmap(r, 0, prot=mmap.PROT_READ)
		before = os.pread(r, 8, 0)
		w = os.open(sys.argv[1], os.O_WRONLY)
		os.pwrite(w, b"bb", 3)
		os.close(w)
		print(before.decode(), os.pread(r, 8, 0).decode(), m[:8].decode())
	EOF
	)
	expect "a write-only descriptor's write shows in cached pages and a mapping" \
		[ "$seen" = "aaaaaaaa aaabbaaa aaabbaaa" ]
	rm -f "$M/wo"
	stat -c '%s' "$M/tr"
}

s_open_unlinked() {
	echo content >"$M/ou"
	exec 5<"$M/ou" 6>>"$M/ou"
	rm "$M/ou"
	echo appended >&6
	expect "an open file outlives its unlink: read" [ "$(cat <&5)" = "$(printf 'content\nappended')" ]
	expect "  ... fstat works" [ "$(stat -L -c %s /proc/self/fd/6)" = 17 ]
	exec 5<&- 6>&-
	echo old >"$M/ro1"; echo new >"$M/ro2"
	exec 5<"$M/ro1"
	mv "$M/ro2" "$M/ro1"
	expect "rename over an open file: the old one still reads" [ "$(cat <&5)" = old ]
	expect "  ... the name has the new one" [ "$(cat "$M/ro1")" = new ]
	exec 5<&-
	sleep 0.2
	expect "nothing is left behind once closed" [ -z "$(ls -A "$M" | grep '^\.fuse_hidden')" ]
	rm -f "$M/ro1"
}

s_sparse() {
	local off=$((5 * 1024 * 1024 * 1024 + 12345))
	head -c 5000 /dev/urandom >"$SCRATCH/tail"
	dd if="$SCRATCH/tail" of="$M/big" bs=5000 oflag=seek_bytes seek=$off conv=notrunc status=none
	expect "a file over 4 GiB: its size" [ "$(stat -c %s "$M/big")" = $((off + 5000)) ]
	expect "  ... mostly a hole" [ "$(du -k "$M/big" | cut -f1)" -lt 200 ]
	expect "  ... its data reads back" cmp -s <(tail -c 5000 "$M/big") "$SCRATCH/tail"
	expect "  ... the hole reads as zeros" cmp -s <(dd if="$M/big" bs=1M skip=3000 count=4 status=none) <(head -c 4M /dev/zero)
	stat -c '%s' "$M/big"
}

s_rm() {
	local before; before=$(stat -f -c %f "$M")
	rm -r "$M/tree" "$M/a" "$M/b" "$M/untar" "$M/big"
	expect "rm -r succeeds" [ $? -eq 0 ]
	expect "  ... and the names are gone" [ ! -e "$M/tree" -a ! -e "$M/untar" ]
	expect "  ... and the blocks are free again" [ "$(stat -f -c %f "$M")" -gt "$before" ]
	rmdir "$M/ld" 2>/dev/null
	expect "rmdir of a non-empty directory fails" [ $? -ne 0 ]
	ls "$M" | sort
}

s_df() {
	stat -f -c '%S %b %f %a %c %d' "$M" >"$SCRATCH/df.$IMPL"
	du -sk --apparent-size "$M/tr" >/dev/null
	mkdir -p "$M/dfd"; head -c 200000 /dev/urandom >"$M/dfd/f"
	stat -c '%b %B' "$M/dfd/f" >"$SCRATCH/du.$IMPL"
	stat -f -c '%S %b %f %a %c %d' "$M" >"$SCRATCH/df.$IMPL"
	echo "df taken"
}

# After s_df's unmount: df's numbers against the image's own accounts.
check_df() {
	local img=$1 bs blocks bfree bavail files ffree
	read -r bs blocks bfree bavail files ffree <"$SCRATCH/df.$IMPL"
	local h; h=$(dumpe2fs -h "$img" 2>/dev/null)
	local f_blocks f_free f_inodes f_ifree f_res
	f_blocks=$(sed -n 's/^Block count: *//p' <<<"$h")
	f_free=$(sed -n 's/^Free blocks: *//p' <<<"$h")
	f_res=$(sed -n 's/^Reserved block count: *//p' <<<"$h")
	f_inodes=$(sed -n 's/^Inode count: *//p' <<<"$h")
	f_ifree=$(sed -n 's/^Free inodes: *//p' <<<"$h")
	SCEN=df
	expect "df: free blocks = dumpe2fs's ($bfree, $f_free)" [ "$bfree" = "$f_free" ]
	expect "df: available = free - reserved ($bavail)" [ "$bavail" = $((f_free > f_res ? f_free - f_res : 0)) ]
	expect "df: inodes = dumpe2fs's ($files, $f_inodes)" [ "$files" = "$f_inodes" ]
	expect "df: free inodes = dumpe2fs's ($ffree, $f_ifree)" [ "$ffree" = "$f_ifree" ]
	expect "df: size at most the block count, and most of it" [ "$blocks" -le "$f_blocks" -a "$blocks" -gt $((f_blocks * 9 / 10)) ]
	local b512 dbg
	read -r b512 _ <"$SCRATCH/du.$IMPL"
	dbg=$(debugfs -R "stat /dfd/f" "$img" 2>/dev/null | sed -n 's/.*Blockcount: \([0-9]*\).*/\1/p')
	expect "du: blocks = debugfs's Blockcount ($b512, $dbg)" [ "$b512" = "$dbg" ]
}

SCENARIOS="s_copy s_remount_tar s_mv s_links s_symlinks s_attrs s_truncate s_open_unlinked s_sparse s_rm s_df"

run_all() {   # impl img mnt
	local img=$2 mnt=$3
	IMPL=$1
	for SCEN in $SCENARIOS; do
		local ok=1
		if [ $IMPL = toro ]; then tf_mount "$img" "$mnt" || ok=0
		else f2_mount "$img" "$mnt" || ok=0; fi
		if [ $ok = 0 ]; then
			[ $IMPL = toro ] && fail "$KIND $SCEN: mount"
			echo "== $SCEN: mount failed" >>"$SCRATCH/out.$IMPL"
			continue
		fi
		M=$mnt
		{ echo "== $SCEN"; $SCEN 2>&1; } >>"$SCRATCH/out.$IMPL"
		fs_umount "$mnt"
		local urc=$?
		if [ $IMPL = toro ]; then
			check "$KIND $SCEN: unmounts cleanly" [ $urc -eq 0 ]
			check "$KIND $SCEN: e2fsck -fn finds the image clean" fsck_clean "$img"
		elif ! fsck_clean "$img" >/dev/null; then
			echo "NOTE: fuse2fs $KIND $SCEN: e2fsck -fn finds errors"
		fi
	done
	check_df "$img" >>"$SCRATCH/out.$IMPL"
}

for KIND in $KINDS; do
	make_image "$KIND" "$SCRATCH/toro.img" || { fail "$KIND: make the image"; continue; }
	cp --sparse=always "$SCRATCH/toro.img" "$SCRATCH/f2.img"
	rm -f "$SCRATCH/out.toro" "$SCRATCH/out.f2"
	SECONDS=0
	run_all toro "$SCRATCH/toro.img" "$SCRATCH/mnt.toro"
	t_toro=$SECONDS; SECONDS=0
	if command -v fuse2fs >/dev/null; then
		run_all f2 "$SCRATCH/f2.img" "$SCRATCH/mnt.f2"
		t_f2=$SECONDS
		echo "$KIND: torofuse ${t_toro}s, fuse2fs ${t_f2}s"
		# The same operations give the same results (df's own numbers aside).
		for SCEN in $SCENARIOS; do
			a=$(sed -n "/^== $SCEN\$/,/^== /p" "$SCRATCH/out.toro" | grep -v '^==\|^NOTE')
			b=$(sed -n "/^== $SCEN\$/,/^== /p" "$SCRATCH/out.f2" | grep -v '^==\|^NOTE')
			if [ "$a" = "$b" ]; then
				pass "$KIND $SCEN: same results as fuse2fs"
			else
				echo "NOTE: $KIND $SCEN differs from fuse2fs (< torofuse, > fuse2fs):"
				diff <(echo "$a") <(echo "$b") | head -20
				# A difference where torofuse meets every expectation is fuse2fs's.
				if grep -q '^NOT OK:' <<<"$a"; then fail "$KIND $SCEN: same results as fuse2fs"
				else pass "$KIND $SCEN: differences are fuse2fs's own (see NOTE)"; fi
			fi
		done
	fi
	grep '^NOT OK:' "$SCRATCH/out.toro" | sed "s/^/$KIND torofuse: /"
done
finish
