# tests/lib.sh: what every integration script shares. Source it, call
# check/pass/fail, and end with `finish`, which prints the closing line
# "N passed, N failed" and exits non-zero when anything failed.

PASSED=0
FAILED=0
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }

# check "description" command...: pass when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# scratch: a temporary directory removed at exit.
scratch() {
	SCRATCH=$(mktemp -d /tmp/toro-test.XXXXXX)
	trap 'rm -rf "$SCRATCH"' EXIT
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# quiet command...: run it with its output discarded (for check).
quiet() { "$@" >/dev/null 2>&1; }
