#!/usr/bin/env bash
# fuzz_net.sh: the libFuzzer targets for a bounded minute (make fuzz runs
# them as long as asked):
#  1. every checked-in seed of tests/fuzz/net/ goes through fuzz_net (a
#     posix kernel's whole stack, frames in by ether_input) without a crash
#     or a sanitizer report, and finds code past the parsers' first checks;
#  2. fuzz_net mutates them for FUZZ_NET_SECONDS (45) without a crash;
#  3. fuzz_http (the web service's request path) for FUZZ_HTTP_SECONDS (15).
# Corpora go to a scratch directory; a crash leaves its input in
# build/fuzz/crashes/ to reproduce with build/fuzz/fuzz_<target> FILE.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"
scratch

for t in net http; do
	check "build/fuzz/fuzz_$t is built (make fuzz-build)" [ -x "build/fuzz/fuzz_$t" ]
done

# runs LOG: the number of inputs libFuzzer ran; cov LOG: the final coverage.
runs() { sed -n 's/^stat::number_of_executed_units: *//p' "$1"; }
cov() { sed -n 's/^#[0-9]*[[:space:]]*\(INITED\|DONE\) *cov: \([0-9]*\).*/\2/p' "$1" | tail -1; }

if [ -x build/fuzz/fuzz_net ]; then
	timeout 120 build/fuzz/fuzz_net -runs=0 -detect_leaks=0 -print_final_stats=1 \
		tests/fuzz/net >"$SCRATCH/seeds.log" 2>&1
	rc=$?
	n=$(ls tests/fuzz/net | wc -l)
	check "fuzz_net: the $n seeds run without a crash (status $rc)" [ "$rc" -eq 0 ]
	check "fuzz_net: the seeds reach past the parsers (coverage $(cov "$SCRATCH/seeds.log") > 500)" \
		[ "$(cov "$SCRATCH/seeds.log")" -gt 500 ]
	check "fuzz_net: no sanitizer report on the seeds" \
		bash -c "! grep -qE 'ERROR: AddressSanitizer|runtime error:' '$SCRATCH/seeds.log'"
fi

fuzz() {   # TARGET SECONDS
	FUZZ_SECONDS=$2 FUZZ_CORPUS_DIR=$SCRATCH/corpus timeout $(($2 + 120)) \
		scripts/fuzz.sh "$1" >"$SCRATCH/$1.log" 2>&1
}
for spec in "net ${FUZZ_NET_SECONDS:-45}" "http ${FUZZ_HTTP_SECONDS:-15}"; do
	set -- $spec
	[ -x "build/fuzz/fuzz_$1" ] || continue
	fuzz "$1" "$2"
	rc=$?
	check "fuzz_$1: $2 s of mutations without a crash (status $rc)" [ "$rc" -eq 0 ]
	ran=$(runs "$SCRATCH/$1.log")
	check "fuzz_$1: it ran (${ran:-no} inputs, > 10000)" [ "${ran:-0}" -gt 10000 ]
	check "fuzz_$1: it found new inputs ($(ls "$SCRATCH/corpus/$1" | wc -l) kept)" \
		[ "$(ls "$SCRATCH/corpus/$1" | wc -l)" -gt 0 ]
	if [ "$rc" -ne 0 ]; then
		tail -40 "$SCRATCH/$1.log"
	fi
done
finish
