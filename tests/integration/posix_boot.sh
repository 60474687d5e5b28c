#!/usr/bin/env bash
# The posix build: services as Linux processes.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"
scratch
BIN=build/posix/bin

out=$(timeout 10 $BIN/ToroHello); rc=$?
check "ToroHello prints Hello World" [ "$out" = "Hello World" ]
check "ToroHello exits 0" [ $rc -eq 0 ]

for n in 1 2 4 8; do
	out=$(timeout 20 $BIN/ToroCpus --cpus $n); rc=$?
	lines=$(grep -c '^Hello from CPU' <<<"$out")
	distinct=$(grep '^Hello from CPU' <<<"$out" | sort -u | wc -l)
	check "ToroCpus --cpus $n: one line from each other CPU ($lines)" \
		[ $rc -eq 0 -a "$lines" -eq $((n - 1)) -a "$distinct" -eq $((n - 1)) ]
done

for s in 0 3 200; do
	timeout 10 build/posix/tests/apps/ExitStatus $s >/dev/null; rc=$?
	check "service status $s is the process status" [ $rc -eq $s ]
done

out=$(timeout 10 $BIN/ToroHello --boot-time)
check "--boot-time reports entry to main" grep -q '^toro: entry to main [0-9]* us$' <<<"$out"

timeout 10 $BIN/ToroHello --cpus 0 >/dev/null 2>"$SCRATCH/err"; rc=$?
check "a bad --cpus is refused with status 2" [ $rc -eq 2 ]
check "  ... and a message" grep -q -- '--cpus' "$SCRATCH/err"

if command -v valgrind >/dev/null; then
	check "ToroCpus runs clean under valgrind" \
		quiet timeout 120 valgrind -q --error-exitcode=9 $BIN/ToroCpus --cpus 2
fi
finish
