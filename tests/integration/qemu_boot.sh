#!/usr/bin/env bash
# qemu_boot.sh: boot the bare images in QEMU (through bare_boot: TCG unless
# TORO_QEMU_ACCEL says otherwise) and check their serial output and exit
# status. Needs `make bare` first.
#   ToroHello -smp 2        prints Hello World, status 0
#   ToroCpus  -smp 2, 4, 8  one line from each other CPU, status 0
#   PageFault               exception report: vector 14, CR2, non-zero status
#   DoubleFault             #DF on its own stack (IST1): report, non-zero status
#   Panic                   panic report with registers and backtrace, status 70
#   Sleep -smp 2            threads sleep on both CPUs (idle with deadlines)
#   IrqRoute -smp 2         PIT IRQ routed through the I/O APIC to CPU 1
#   BigMem -m 4608M         RAM above 4 GiB is mapped and handed out: with
#                           1 GiB pages (-cpu max), and with 2 MiB pages on a
#                           CPU without them (-cpu max,-pdpe1gb, as KVM on
#                           some hosts)
#   microvm,pit=off         no PIT: clock rates found at once, sleeps work;
#                           TCG -icount: the TSC rate found is 1 GHz
#   Ticker                  qemu-run.sh's watchdog kills a guest that has
#                           gone silent, or one past its time limit, and
#                           lets a slow one that still prints finish
# Prints PASS/FAIL per check and ends with "N passed, M failed".
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
cd "$TOP" || exit 1
scratch
BARE=build/bare
out=$SCRATCH/out

fail_boot() { fail "$1"; show "$out"; }

# boot ELF QEMU-ARGS...: run it; output in $out, status in $status.
boot() {
	local elf=$1
	shift
	bare_boot "$out" "$elf" "" "$@"
	status=$?
}

has() { grep -q -- "$1" "$out"; }
count() { grep -c -- "$1" "$out"; }

boot $BARE/ToroHello.elf -smp 2
if [ "$status" = 0 ] && has '^Hello World$'; then
	pass "ToroHello -smp 2: Hello World, status 0"
else
	fail_boot "ToroHello -smp 2: status $status"
fi

for n in 2 4 8; do
	boot $BARE/ToroCpus.elf -smp $n
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
		fail_boot "ToroCpus -smp $n: status $status"
	fi
done

boot $BARE/tests/PageFault.elf
if [ "$status" != 0 ] && [ "$status" -lt 124 ] &&
   has 'exception 14 (#PF page fault)' && has 'CR2 0x00007f0000000000' &&
   has 'RIP ' && has 'RAX ' && has 'backtrace'; then
	pass "PageFault: vector 14 reported with CR2 0x7f0000000000, status $status"
else
	fail_boot "PageFault: status $status"
fi

boot $BARE/tests/DoubleFault.elf
if [ "$status" != 0 ] && [ "$status" -lt 124 ] && has 'exception 8 (#DF double fault)'; then
	pass "DoubleFault: vector 8 reported from the fault stack, status $status"
else
	fail_boot "DoubleFault: status $status"
fi

boot $BARE/tests/Panic.elf
if [ "$status" = 70 ] && has 'panic on CPU 0: Panic: on purpose' && has 'RAX ' &&
   has 'backtrace'; then
	pass "Panic: report with registers and backtrace, status 70"
else
	fail_boot "Panic: status $status"
fi

boot $BARE/tests/Sleep.elf -smp 2
if [ "$status" = 0 ] && has '^Sleep: ok$' && [ "$(count '^Sleep: CPU . slept')" = 2 ]; then
	pass "Sleep -smp 2: timed sleeps on both CPUs, status 0"
else
	fail_boot "Sleep -smp 2: status $status"
fi

boot $BARE/tests/IrqRoute.elf -smp 2
if [ "$status" = 0 ] && has '^IrqRoute: ok$'; then
	pass "IrqRoute -smp 2: ISA IRQ 0 handled on CPU 1, status 0"
else
	fail_boot "IrqRoute -smp 2: status $status"
fi

# At least 1 GiB above 4 GiB: the second GiB there needs a second page
# directory when the pages are 2 MiB.
for cpu in max max,-pdpe1gb; do
	boot $BARE/tests/BigMem.elf -m 4608M -cpu $cpu
	if [ "$status" = 0 ] && grep -q '^BigMem: [0-9]* MiB, [1-9][0-9][0-9][0-9] MiB above 4 GiB$' "$out"; then
		pass "BigMem -m 4608M -cpu $cpu: $(grep '^BigMem' "$out" | cut -d' ' -f2-), status 0"
	else
		fail_boot "BigMem -m 4608M -cpu $cpu: status $status"
	fi
done

# No PIT (QEMU's microvm with pit=off): the clock finds its rates without
# it and without waiting (it used to wait 2^31 TSC ticks for the PIT: 0.5 s
# at 4 GHz, 1 s at 2 GHz; 400 ms leaves room for a loaded host), and timed
# sleeps still work. Under TCG with -icount shift=0 the TSC runs at exactly
# 1 GHz, which the TSC rate measured against the APIC timer must match.
# The time bound holds under TCG only: under KVM the entry time is the
# host's (nested virtualisation makes each first touch of guest memory an
# exit to the outer hypervisor: 0.3-0.4 s on one such host), so there the
# check is that the rates are found and sleeps work.
boot $BARE/tests/Sleep.elf -M microvm,pit=off -smp 2 -append --boot-time
us=$(sed -n 's/^toro: entry to main \([0-9]*\) us$/\1/p' "$out")
limit=400000
[ "${TORO_QEMU_ACCEL:-tcg}" = tcg ] || limit=
if [ "$status" = 0 ] && has '^clock: no PIT; TSC' && has '^Sleep: ok$' &&
		[ -n "$us" ] && { [ -z "$limit" ] || [ "$us" -lt "$limit" ]; }; then
	pass "no PIT (microvm,pit=off): entry to main in $us us, timed sleeps on 2 CPUs"
else
	fail_boot "no PIT (microvm,pit=off): status $status, entry to main '$us' us"
fi
if [ "${TORO_QEMU_ACCEL:-tcg}" = tcg ]; then
	# --boot-time reads the clock, which finds the rates (ToroHello itself
	# never reads it, and the rates are found at the first read).
	boot $BARE/ToroHello.elf -M microvm,pit=off -icount shift=0 -append --boot-time
	khz=$(sed -n 's/^clock: no PIT; TSC \([0-9]*\) kHz.*/\1/p' "$out")
	if [ "$status" = 0 ] && [ -n "$khz" ] && [ "$khz" -gt 990000 ] && [ "$khz" -lt 1010000 ]; then
		pass "no PIT, TCG -icount shift=0: TSC found at $khz kHz (1 GHz)"
	else
		fail_boot "no PIT, TCG -icount shift=0: status $status, TSC '$khz' kHz"
	fi
fi

# The watchdog, with seconds instead of minutes (Ticker's first line comes
# as soon as it boots, so QEMU's start counts against the limit only once).
TORO_QEMU_HANG=3 boot $BARE/tests/Ticker.elf -append 0
if [ "$status" = 124 ] && has '^Ticker: silent' && has 'no serial output for 3s'; then
	pass "watchdog: a guest silent for 3 s is killed, status 124, its output kept"
else
	fail_boot "watchdog: silent guest: status $status"
fi
TORO_QEMU_HANG=3 boot $BARE/tests/Ticker.elf -append "6 1000"
if [ "$status" = 0 ] && [ "$(count '^tick [1-6]$')" = 6 ]; then
	pass "watchdog: a guest that prints every second for 6 s outlives a 3 s hang limit"
else
	fail_boot "watchdog: slow guest: status $status"
fi
TORO_QEMU_LIMIT=4 boot $BARE/tests/Ticker.elf -append "30 200"
if [ "$status" = 124 ] && has '^tick 1$' && ! has '^tick 30$' && has 'timed out after 4s'; then
	pass "watchdog: a guest still printing at its 4 s limit is killed, status 124"
else
	fail_boot "watchdog: time limit: status $status"
fi
finish
