#!/usr/bin/env bash
# Extended attributes and POSIX ACLs through a real torofuse mount
# (allow_other: the VFS checks every request): setfattr / getfattr and
# setfacl / getfacl round-trip, chmod and the ACL mask stay in step, a
# directory's default ACL is inherited, debugfs ea_list / ea_get agree with
# what we wrote and what debugfs ea_set wrote we read, a write takes a file
# capability away, e2fsck -fn finds the
# image clean, ACLs grant and deny for a second user (nobody), and
# stress-ng's xattr stressor runs (bounded) on the mount.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/fuse_common.sh"
cd "$TOP"
fuse_ready
for tool in setfattr getfattr setfacl getfacl; do
	command -v $tool >/dev/null || { echo "SKIP: $tool missing (scripts/install-deps.sh)"; finish; exit 0; }
done
chmod 755 "$SCRATCH"            # nobody must reach the mount point
IMG=$SCRATCH/x.img MNT=$SCRATCH/mnt
make_image mke2fs-4k "$IMG" 32
check "mount with allow_other" tf_mount "$IMG" "$MNT" allow_other
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# ---- Attributes ------------------------------------------------------------------
echo data >"$MNT/f"
big=$(head -c 3000 /dev/zero | tr '\0' b)
setfattr -n user.small -v hello "$MNT/f"
setfattr -n user.big -v "$big" "$MNT/f"
setfattr -n trusted.t -v tee "$MNT/f"
setfattr -n security.s -v sec "$MNT/f"
check "getfattr -n reads a value back" [ "$(getfattr --absolute-names --only-values -n user.small "$MNT/f")" = hello ]
check "  ... a 3000-byte one (in the block)" [ "$(getfattr --absolute-names --only-values -n user.big "$MNT/f")" = "$big" ]
names=$(getfattr -m - --absolute-names -d "$MNT/f" | grep = | cut -d= -f1 | sort | tr '\n' ' ')
check "getfattr -m - lists all four" [ "$names" = "security.s trusted.t user.big user.small " ]
check "  ... nobody does not see trusted.*" \
	[ "$(as_nobody getfattr -m - --absolute-names -d "$MNT/f" 2>/dev/null | grep -c trusted)" = 0 ]
getfattr -n user.none "$MNT/f" 2>"$SCRATCH/err"
check "a missing one: No such attribute" grep -q "No such attribute" "$SCRATCH/err"
setfattr -n user.big -v x "$MNT/f" && setfattr -x user.big "$MNT/f"
check "setfattr -x removes" sh -c "! getfattr -n user.big '$MNT/f' 2>/dev/null"
setfattr -n user.huge -v "$(head -c 5000 /dev/zero | tr '\0' h)" "$MNT/f" 2>"$SCRATCH/err"
check "a value larger than a block: No space left on device" grep -q "No space left" "$SCRATCH/err"
as_nobody setfattr -n user.n -v 1 "$MNT/f" 2>"$SCRATCH/err"
check "nobody may not set user.* on root's 0644 file" grep -q "Permission denied" "$SCRATCH/err"

# ---- File capabilities ------------------------------------------------------------
# A write takes a file capability away, the first write and later ones:
# under HANDLE_KILLPRIV_V2 the host stops asking once it knows a file has
# none (until a setxattr), and torofuse removes one at every write.
if command -v setcap >/dev/null; then
	echo a >"$MNT/cap"
	setcap cap_net_raw+ep "$MNT/cap"
	check "setcap sets a file capability" grep -q cap_net_raw <(getcap "$MNT/cap")
	echo b >>"$MNT/cap"
	check "  ... a write takes it away" [ -z "$(getcap "$MNT/cap")" ]
	check "  ... and keeps the data" [ "$(cat "$MNT/cap")" = "$(printf 'a\nb')" ]
	setcap cap_net_raw+ep "$MNT/cap"
	echo c >>"$MNT/cap"
	check "  ... every write, not only the first" [ -z "$(getcap "$MNT/cap")" ]
fi

# ---- ACLs ------------------------------------------------------------------------
echo secret >"$MNT/acl"; chmod 600 "$MNT/acl"
check "nobody cannot read a 0600 file" sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups cat '$MNT/acl' 2>/dev/null"
setfacl -m u:nobody:r "$MNT/acl"
check "setfacl -m u:nobody:r sets the mode's group bits to the mask" [ "$(stat -c %A "$MNT/acl")" = "-rw-r-----" ]
check "  ... getfacl shows the entry" grep -qx "user:nobody:r--" <(getfacl -p "$MNT/acl" 2>/dev/null)
check "  ... and nobody may read now" [ "$(as_nobody cat "$MNT/acl" 2>/dev/null)" = secret ]
check "  ... but not write" sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c 'echo x >>$MNT/acl' 2>/dev/null"
chmod 600 "$MNT/acl"
check "chmod 600 sets the mask to ---" grep -qx "mask::---" <(getfacl -p "$MNT/acl" 2>/dev/null)
check "  ... and nobody's entry is masked" sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups cat '$MNT/acl' 2>/dev/null"
echo open >"$MNT/deny"; chmod 644 "$MNT/deny"
setfacl -m u:nobody:- "$MNT/deny"
check "an ACL entry denies nobody a 0644 file's read" \
	sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups cat '$MNT/deny' 2>/dev/null"
check "  ... as access(2) says" sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups test -r '$MNT/deny'"
echo g >"$MNT/grp"; chmod 600 "$MNT/grp"; setfacl -m g:nogroup:rw "$MNT/grp"
check "a group entry grants nobody's group" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "echo more >>'$MNT/grp'"
setfacl -m g:nogroup:rw "$MNT/acl"; chmod 660 "$MNT/acl"
check "  ... but a user entry comes first" \
	sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c 'echo x >>$MNT/acl' 2>/dev/null"
setfacl -b "$MNT/deny"
check "setfacl -b removes the ACL" [ "$(stat -c %A "$MNT/deny")" = "-rw-r--r--" ]
check "  ... and nobody reads again" [ "$(as_nobody cat "$MNT/deny" 2>/dev/null)" = open ]
as_nobody setfacl -m u:nobody:rw "$MNT/deny" 2>"$SCRATCH/err"
check "nobody may not set an ACL on root's file" grep -q "Operation not permitted" "$SCRATCH/err"
mkdir "$MNT/d"; setfacl -d -m u:nobody:rwx "$MNT/d"; setfacl -m u:nobody:rwx "$MNT/d"
touch "$MNT/d/new"; mkdir "$MNT/d/sub"
check "a new file inherits the default ACL" grep -qx "user:nobody:rwx.*" <(getfacl -p "$MNT/d/new" 2>/dev/null)
check "  ... a new directory its default ACL too" grep -qx "default:user:nobody:rwx" <(getfacl -p "$MNT/d/sub" 2>/dev/null)
check "nobody creates in a 0755 root directory whose ACL lets it" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups touch "$MNT/d/byn"
getfacl -p "$MNT/acl" >"$SCRATCH/acl.before" 2>/dev/null
ea_small=$(getfattr --absolute-names --only-values -n user.small "$MNT/f")
check "unmount" fs_umount "$MNT"

# ---- The image, by e2fsprogs ------------------------------------------------------
check "e2fsck -fn finds the image clean" fsck_clean "$IMG"
debugfs -R "ea_list /f" "$IMG" >"$SCRATCH/ea" 2>/dev/null
check "debugfs ea_list shows our attributes" \
	sh -c "grep -q 'user.small (5) = \"hello\"' '$SCRATCH/ea' && grep -q 'trusted.t (3)' '$SCRATCH/ea' && grep -q 'security.s (3)' '$SCRATCH/ea'"
check "debugfs ea_list shows the ACL" grep -q "system.posix_acl_access" <(debugfs -R "ea_list /acl" "$IMG" 2>/dev/null)
check "debugfs ea_get agrees" [ "$(debugfs -R "ea_get -V /f user.small" "$IMG" 2>/dev/null)" = "$ea_small" ]
debugfs -w -R "ea_set /f user.fromdebugfs moo" "$IMG" >/dev/null 2>&1
debugfs -w -R "ea_set -f /etc/services /f user.services" "$IMG" >/dev/null 2>&1
tf_mount "$IMG" "$MNT" allow_other
check "we read what debugfs ea_set wrote" [ "$(getfattr --absolute-names --only-values -n user.fromdebugfs "$MNT/f")" = moo ]
size=$(stat -c %s /etc/services)
if [ "$size" -le 4000 ]; then
	check "  ... a large one too" cmp -s /etc/services <(getfattr --absolute-names --only-values -n user.services "$MNT/f")
fi
check "the ACLs survive a remount" diff "$SCRATCH/acl.before" <(getfacl -p "$MNT/acl" 2>/dev/null)

# ---- stress-ng's xattr stressor, bounded -------------------------------------------
if command -v stress-ng >/dev/null; then
	mkdir "$MNT/stress"
	(cd "$MNT/stress" && timeout 120 stress-ng --xattr 2 --xattr-ops 2000 --timeout 30s \
		--temp-path "$MNT/stress" >"$SCRATCH/stress.log" 2>&1); rc=$?
	check "stress-ng --xattr passes" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || tail -5 "$SCRATCH/stress.log"
	check "  ... and was not skipped" sh -c "! grep -qi 'skipp' '$SCRATCH/stress.log'"
else
	echo "SKIP: stress-ng missing (scripts/install-deps.sh)"
fi
check "unmount" fs_umount "$MNT"
check "e2fsck -fn finds the image clean at the end" fsck_clean "$IMG"
finish
