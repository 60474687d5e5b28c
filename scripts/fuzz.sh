#!/usr/bin/env bash
# fuzz.sh: run the libFuzzer targets (build/fuzz/fuzz_<target>, made by
# `make fuzz-build`) one after the other, each for FUZZ_SECONDS (default 60).
#   scripts/fuzz.sh [TARGET...]        targets: net http (default: both)
# Each starts from its checked-in seeds (tests/fuzz/<target>/) and the
# inputs earlier runs found (build/fuzz/corpus/<target>/, where new ones
# go); a crashing input is saved as build/fuzz/crashes/<target>-crash-*.
# FUZZ_CORPUS_DIR moves the corpora (tests use a scratch directory),
# FUZZ_ARGS adds libFuzzer options. Exit status: 0 when no target crashed.
set -u
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
corpora=${FUZZ_CORPUS_DIR:-build/fuzz/corpus}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(net http)
status=0
mkdir -p build/fuzz/crashes
for t in "${targets[@]}"; do
	bin=build/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz.sh: $bin missing (make fuzz-build)" >&2
		status=1
		continue
	fi
	mkdir -p "$corpora/$t"
	# The kernel behind fuzz_net never frees what it holds at exit: leak
	# checks would report the whole kernel, so they stay off there.
	leaks=1
	[ "$t" = net ] && leaks=0
	echo "== fuzz $t for ${seconds}s"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$seconds" -detect_leaks=$leaks -print_final_stats=1 \
		-artifact_prefix="build/fuzz/crashes/$t-" ${FUZZ_ARGS:-} \
		"$corpora/$t" "tests/fuzz/$t" 2>&1 |
		grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)|^	NEW_FUNC|^"|Recommended dictionary|End of recommended' || true
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		echo "fuzz.sh: $t ended with status $rc (see build/fuzz/crashes/)"
		status=1
	fi
done
exit $status
