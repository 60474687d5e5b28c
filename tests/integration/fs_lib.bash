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
