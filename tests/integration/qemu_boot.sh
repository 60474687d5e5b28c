#!/bin/sh
# qemu_boot.sh: boot the bare images in QEMU (KVM if usable, else TCG) and
# check their serial output and exit status. Needs `make bare` first.
#   ToroHello -smp 2        prints Hello World, status 0
#   ToroCpus  -smp 2, 4, 8  one line from each other CPU, status 0
#   PageFault               exception report: vector 14, CR2, non-zero status
#   DoubleFault             #DF on its own stack (IST1): report, non-zero status
#   Panic                   panic report with registers and backtrace, status 70
#   Sleep -smp 2            threads sleep on both CPUs (idle with deadlines)
#   IrqRoute -smp 2         PIT IRQ routed through the I/O APIC to CPU 1
#   BigMem -m 4608M         RAM above 4 GiB is mapped and handed out
# Prints PASS/FAIL per check and ends with "N passed, M failed".
cd "$(dirname "$0")/../.." || exit 1
BARE=build/bare
TIMEOUT=${QEMU_TIMEOUT:-60}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0
failed=0

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL: $1"
	sed 's/^/    | /' "$out"
	failed=$((failed + 1))
}

# boot ELF ARGS...: run it; output in $out (CRs dropped), runner status in
# $status (kept through a file: POSIX sh has no pipefail).
boot() {
	elf=$1
	shift
	if [ ! -f "$elf" ]; then
		echo "no image $elf (run make bare)" >"$out"
		status=126
		return
	fi
	status=$({ scripts/qemu-run.sh "$elf" --timeout "$TIMEOUT" "$@" 2>&1; echo $? >"$out.status"; } |
		tr -d '\r' >"$out"; cat "$out.status")
	rm -f "$out.status"
}

has() { grep -q -- "$1" "$out"; }
count() { grep -c -- "$1" "$out"; }

boot $BARE/ToroHello.elf --smp 2
if [ "$status" = 0 ] && has '^Hello World$'; then
	pass "ToroHello -smp 2: Hello World, status 0"
else
	fail "ToroHello -smp 2: status $status"
fi

for n in 2 4 8; do
	boot $BARE/ToroCpus.elf --smp $n
	ok=1
	[ "$status" = 0 ] || ok=0
	has "^ToroCpus: $n CPUs\$" || ok=0
	cpu=1
	while [ $cpu -lt $n ]; do
		[ "$(count "^Hello from CPU $cpu\$")" = 1 ] || ok=0
		cpu=$((cpu + 1))
	done
	[ "$(count '^Hello from CPU')" = $((n - 1)) ] || ok=0
	if [ $ok = 1 ]; then
		pass "ToroCpus -smp $n: one line from each of CPUs 1..$((n - 1)), status 0"
	else
		fail "ToroCpus -smp $n: status $status"
	fi
done

boot $BARE/tests/PageFault.elf
if [ "$status" != 0 ] && [ "$status" -lt 124 ] &&
   has 'exception 14 (#PF page fault)' && has 'CR2 0x00007f0000000000' &&
   has 'RIP ' && has 'RAX ' && has 'backtrace'; then
	pass "PageFault: vector 14 reported with CR2 0x7f0000000000, status $status"
else
	fail "PageFault: status $status"
fi

boot $BARE/tests/DoubleFault.elf
if [ "$status" != 0 ] && [ "$status" -lt 124 ] && has 'exception 8 (#DF double fault)'; then
	pass "DoubleFault: vector 8 reported from the fault stack, status $status"
else
	fail "DoubleFault: status $status"
fi

boot $BARE/tests/Panic.elf
if [ "$status" = 70 ] && has 'panic on CPU 0: Panic: on purpose' && has 'RAX ' &&
   has 'backtrace'; then
	pass "Panic: report with registers and backtrace, status 70"
else
	fail "Panic: status $status"
fi

boot $BARE/tests/Sleep.elf --smp 2
if [ "$status" = 0 ] && has '^Sleep: ok$' && [ "$(count '^Sleep: CPU . slept')" = 2 ]; then
	pass "Sleep -smp 2: timed sleeps on both CPUs, status 0"
else
	fail "Sleep -smp 2: status $status"
fi

boot $BARE/tests/IrqRoute.elf --smp 2
if [ "$status" = 0 ] && has '^IrqRoute: ok$'; then
	pass "IrqRoute -smp 2: ISA IRQ 0 handled on CPU 1, status 0"
else
	fail "IrqRoute -smp 2: status $status"
fi

boot $BARE/tests/BigMem.elf --mem 4608M
if [ "$status" = 0 ] && grep -q '^BigMem: [0-9]* MiB, [1-9][0-9]* MiB above 4 GiB$' "$out"; then
	pass "BigMem -m 4608M: memory above 4 GiB in use, status 0"
else
	fail "BigMem -m 4608M: status $status"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
