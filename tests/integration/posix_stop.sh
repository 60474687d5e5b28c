#!/usr/bin/env bash
# The stop request on posix: SIGINT/SIGTERM reach a service that waits with
# SysWaitStop; a service that never asks is ended by them as usual; a
# second signal ends a service that does not stop.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"
scratch
APP=build/posix/tests/apps/WaitStop

# wait_for FILE TEXT: up to 10 s for TEXT to appear in FILE.
wait_for() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

for sig in INT TERM; do
	$APP --cpus 2 >"$SCRATCH/out" 2>&1 &
	pid=$!
	wait_for "$SCRATCH/out" waiting
	kill -$sig $pid
	timeout 10 tail --pid=$pid -f /dev/null; wait $pid; rc=$?
	check "SIG$sig is a stop request: status 0" [ $rc -eq 0 ]
	check "  ... seen by SysWaitStop" grep -q "stop requested" "$SCRATCH/out"
done

out=$(timeout 10 $APP --ms 300); rc=$?
check "SysWaitStop returns after its timeout" [ $rc -eq 3 -a "$out" = "$(printf 'waiting\nno stop')" ]

$APP --ignore >"$SCRATCH/out" 2>&1 &
pid=$!
wait_for "$SCRATCH/out" ignoring
kill -TERM $pid
timeout 10 tail --pid=$pid -f /dev/null; wait $pid; rc=$?
check "a service that never asks is ended by SIGTERM (status 143, got $rc)" [ $rc -eq 143 ]

finish
