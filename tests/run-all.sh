#!/usr/bin/env bash
# Runs every test of the project and prints one summary (each suite's counts
# and seconds):
#   unit tests (Criterion), in the normal build and under ASan+UBSan;
#   integration scripts: the executable tests/integration/*.sh (real tools,
#   QEMU, FUSE); files there without the x bit are libraries they source;
#   the bare suites (BARE_SUITES: they boot QEMU) again under KVM, as
#   "SUITE [kvm]", where /dev/kvm is usable.
# Bare suites run under TCG first: deterministic, and what every machine
# has. The KVM pass checks that they hold on a real hypervisor too; it runs
# with TORO_QEMU_ACCEL=kvm, so QEMU uses KVM or fails, never TCG instead.
# It runs what a hypervisor can change (timing, interrupts, SMP, paging,
# devices: KVM_SUITES) in short form (TORO_KVM_PASS=short, unless set:
# ata_lib.bash's kvm_short leaves out cases that repeat others), not the
# FsSuite runs: they test the file system, which the TCG pass covered,
# and they are slow where /dev/kvm is slow. Machines of our kind have
# kvm_pvm, a /dev/kvm without VT-x that emulates a guest like ours an
# instruction at a time: the FsSuite takes 400 s there (1 s under TCG),
# and the whole KVM pass an hour. make test-kvm runs every bare suite,
# every case (TORO_KVM_PASS=full). The KVM pass boots pc with qboot
# (TORO_QEMU_FIRMWARE, scripts/qemu-run.sh), whose boot takes 0.2 s there
# against SeaBIOS's 5 s; qemu_boot keeps SeaBIOS, so the firmware PCs have
# is booted under KVM too. The TCG pass boots SeaBIOS throughout.
# Setting TORO_QEMU_ACCEL (tcg or kvm) runs each bare suite once, with it.
# Each suite's own closing line is read; a suite that crashes, hangs past
# its time limit or prints no closing line counts as one failure. The
# limit is 1800 s, 3600 s for a bare suite: its QEMU boots have their own
# watchdog for hangs (see tests/integration/ata_lib.bash), so it is only
# a last resort, not a measure of slowness.
# Usage: tests/run-all.sh [PATTERN]   (run only suites whose name matches;
# "kvm" picks the KVM pass)
set -u
cd "$(dirname "$0")/.."
only=${1:-}
total_pass=0
total_fail=0
report=()

record() {   # suite passed failed seconds
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	report+=("$(printf '%-44s %5d passed %5d failed %5ds' "$1" "$2" "$3" "$4")")
}

# leaks LOG: prints "OURS CRITERION": how many LeakSanitizer reports in LOG
# have a stack that reaches code of ours, and how many lie wholly inside
# libcriterion. Criterion runs each test in a worker process whose leak
# report changes no exit status, so ours are counted here; and
# libcriterion 2.4.1's runner now and then leaks a 48-byte timeout request
# of its own (tests with .timeout beside others, --jobs 2), which makes the
# runner exit non-zero though every test passed.
leaks() {
	awk 'function count() { if (ours) o++; else c++; inleak = 0 }
	     /^(Direct|Indirect) leak/ { if (inleak) count(); inleak = 1; ours = 0; next }
	     inleak && /^ *#[0-9]+ / { if ($1 != "#0" && $0 !~ /libcriterion/) ours = 1; next }
	     inleak { count() }
	     END { if (inleak) count(); print o + 0, c + 0 }' "$1"
}

run_unit() {   # binary label
	local bin=$1 label=$2 log start=$SECONDS
	log=$(mktemp)
	timeout 900 "$bin" --jobs 2 >"$log" 2>&1
	local rc=$?
	cat "$log"
	local line
	line=$(grep 'Synthesis: Tested' "$log" | tail -1)
	local ours criterion only_criterion=false
	read -r ours criterion < <(leaks "$log")
	[ "$criterion" -gt 0 ] && ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$log" &&
		only_criterion=true
	rm -f "$log"
	if [ -z "$line" ]; then
		record "$label (no summary, exit $rc)" 0 1 $((SECONDS - start))
		return
	fi
	local passing failing crashing
	passing=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
	failing=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
	crashing=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
	local failed=$((failing + crashing + ours))
	[ $rc -ne 0 ] && [ $failed -eq 0 ] && ! $only_criterion && failed=1
	record "$label" "$passing" "$failed" $((SECONDS - start))
}

BARE_SUITES=(qemu_boot ata_devices ata_logger ata_fssuite qemu_nic virtio_blk virtio_fssuite microvm libvirt_xml web_qemu)
KVM_SUITES=(qemu_boot ata_devices ata_logger qemu_nic virtio_blk microvm libvirt_xml web_qemu)
[ "${TORO_KVM_PASS:-short}" = full ] && KVM_SUITES=("${BARE_SUITES[@]}")

is_bare_suite() {   # script
	local name
	name=$(basename "$1" .sh)
	[[ " ${BARE_SUITES[*]} " == *" $name "* ]]
}

run_script() {   # script label [VAR=VALUE...]: the script with those in its environment
	local script=$1 label=$2 log limit=1800 start=$SECONDS
	shift 2
	is_bare_suite "$script" && limit=3600
	log=$(mktemp)
	timeout $limit env "$@" bash "$script" >"$log" 2>&1 </dev/null
	local rc=$?
	cat "$log"
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	rm -f "$log"
	if [ -z "$line" ]; then
		record "$label (no summary, exit $rc)" 0 1 $((SECONDS - start))
		return
	fi
	local p f
	p=$(cut -d' ' -f1 <<<"$line")
	f=$(cut -d' ' -f3 <<<"$line")
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	record "$label" "$p" "$f" $((SECONDS - start))
}

for bin in build/posix/tests/test_*; do
	[ -x "$bin" ] || continue
	[[ "$bin" == *"$only"* ]] || continue
	echo "=== unit: $bin"
	run_unit "$bin" "unit $(basename "$bin")"
done
for bin in build/posix-san/tests/test_*; do
	[ -x "$bin" ] || continue
	[[ "$bin" == *"$only"* ]] || continue
	echo "=== unit (ASan+UBSan): $bin"
	run_unit "$bin" "unit $(basename "$bin") [asan]"
done
for script in tests/integration/*.sh; do
	[ -x "$script" ] || continue
	[[ "$script" == *"$only"* ]] || continue
	echo "=== integration: $script"
	run_script "$script" "$script"
done
if [ -z "${TORO_QEMU_ACCEL:-}" ]; then
	kvm_usable=false
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && kvm_usable=true
	[ -d /sys/module/kvm_pvm ] && $kvm_usable &&
		echo "=== /dev/kvm is kvm_pvm here: guests run emulated, far slower than TCG"
	for name in "${KVM_SUITES[@]}"; do
		script=tests/integration/$name.sh
		[[ "$script [kvm]" == *"$only"* ]] || continue
		if ! $kvm_usable; then
			echo "=== KVM pass skipped: /dev/kvm is not usable here"
			report+=("$(printf '%-44s %s' "bare suites [kvm]" "skipped: /dev/kvm is not usable here")")
			break
		fi
		echo "=== integration under KVM: $script"
		firmware=qboot
		[ "$name" = qemu_boot ] && firmware=seabios
		run_script "$script" "$script [kvm]" TORO_QEMU_ACCEL=kvm \
			TORO_KVM_PASS="${TORO_KVM_PASS:-short}" \
			TORO_QEMU_FIRMWARE="${TORO_QEMU_FIRMWARE:-$firmware}"
	done
fi

echo
echo "=== summary"
printf '%s\n' "${report[@]}"
echo "TOTAL: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
