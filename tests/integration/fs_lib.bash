# fs_lib.bash: shared by the fs_*.sh integration tests (sourced, not run;
# not named .sh so that tests/run-all.sh does not run it as a suite).
# Gives: $ROOT, $TORO_FS, a work dir $W removed at exit, PASS/FAIL counting
# (pass, fail, check, finish) and oracles built on e2fsprogs.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TORO_FS=${TORO_FS:-$ROOT/build/posix/bin/toro-fs}   # TORO_FS=...posix-san/bin/toro-fs: ASan
W=$(mktemp -d /tmp/toro-fs-test.XXXXXX)
trap '[ -n "${KEEP_W:-}" ] || rm -rf "$W"' EXIT
export PATH=$PATH:/usr/sbin:/sbin

npass=0
nfail=0

pass() { echo "PASS: $*"; npass=$((npass + 1)); }
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }

# check NAME CMD...: PASS if CMD exits 0; on failure show its output.
check() {
	local name=$1
	shift
	if "$@" >"$W/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name (exit $?)"
		sed 's/^/    /' "$W/check.out" | head -20
	fi
}

# expect_exit NAME CODE PATTERN CMD...: CMD exits CODE and says PATTERN on stderr.
expect_exit() {
	local name=$1 code=$2 pattern=$3
	shift 3
	"$@" >"$W/exp.out" 2>"$W/exp.err"
	local rc=$?
	if [ "$rc" -eq "$code" ] && grep -q -- "$pattern" "$W/exp.err"; then
		pass "$name"
	else
		fail "$name (exit $rc, wanted $code and '$pattern')"
		sed 's/^/    /' "$W/exp.err" | head -5
	fi
}

finish() {
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit $?
}

need() {
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "FAIL: $tool is not installed"
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
	if [ ! -x "$TORO_FS" ]; then
		echo "FAIL: $TORO_FS is not built (make posix)"
		echo "0 passed, 1 failed"
		exit 1
	fi
}

# mkext3 BS IMG JO [SIZE]: a fresh ext3 image (16M) whose journal has the
# checksums debugfs' "jo JO" asks for; sets JO to the jo options that write
# them. Needs mke2fs, debugfs, tune2fs, dumpe2fs.
# debugfs makes v2/v3 only on a metadata_csum file system (else it falls
# back to v1): the journal gets its format there, then tune2fs takes
# metadata_csum (which we do not write) off; the journal keeps v2/v3 and a
# plain jo writes in it.
mkext3() {
	local bs=$1 img=$2 want="(none)" md=
	JO=$3
	case "$JO" in
	*"-v 2"*|*"-v 3"*) want=journal_checksum_v${JO##*-v }; md="-O metadata_csum" ;;
	?*) want=journal_checksum ;;
	esac
	mke2fs -q -F -t ext3 $md -b "$bs" "$img" "${4:-16M}" >/dev/null 2>&1
	[ -n "$JO" ] && printf 'jo %s\njc\n' "$JO" | debugfs -w -f - "$img" >/dev/null 2>&1
	if [ -n "$md" ]; then
		tune2fs -O ^metadata_csum,^uninit_bg "$img" >/dev/null 2>&1
		JO=
	fi
	local got
	got=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Journal features: *//p')
	tr ' ' '\n' <<<"$got" | grep -qxF -- "$want" && return
	fail "mkext3 '$3': journal features '$got', not $want"
	return 1
}

# fsck_clean IMAGE: e2fsck finds nothing to fix.
fsck_clean() {
	e2fsck -fn "$1"
}

# listing DIR [dumped]: one line per entry: type, mode, size, owner, mtime
# (seconds), link target; sizes of directories and times and modes of links
# left out. "dumped": as debugfs rdump writes them, which drops the setuid,
# setgid and sticky bits and the owners of links. Owners count only for root.
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %s %U %G %T@ %p -> %l\n' |
		awk -v dumped="$2" -v root="$(id -u)" '{
			if (root != 0) $4 = $5 = "-"     # a user cannot give files away
			sub(/\.[0-9]+$/, "", $6)
			if ($1 == "d") $3 = "-"
			if ($1 == "l") { $2 = "-"; $6 = "-"; if (dumped) $4 = $5 = "-" }
			if (dumped && length($2) > 3) $2 = substr($2, 2)
			print }' |
		sort)
}

# same_listing A B [dumped]: the listings of two trees are equal.
same_listing() {
	diff <(listing "$1" "$3") <(listing "$2" "$3")
}

# dbg IMAGE REQUEST: debugfs's answer to one request.
dbg() {
	debugfs -R "$2" "$1" 2>/dev/null
}

# dbg_field IMAGE PATH FIELD: "Links", "Size", "Mode", "User", "Group" of a file.
dbg_field() {
	dbg "$1" "stat $2" | grep -o "\b$3: *[^ ]*" | head -1 | awk '{ print $2 }'
}

# same_bytes IMAGE PATH HOSTFILE: debugfs dumps the same bytes.
same_bytes() {
	dbg "$1" "dump $2 $W/dumped" >/dev/null && cmp "$W/dumped" "$3"
}
