# ata_lib.bash: what the suites that boot bare images share (sourced after
# tests/lib.sh; not a suite).
#
# bare_boot OUT ELF APPEND QEMU-ARGS...: boot a bare image through
# scripts/qemu-run.sh with the given extra QEMU arguments (devices; -smp,
# -m or -cpu override qemu-run's), serial output to OUT with CRs dropped;
# returns qemu-run's status: the service's, or 124 hung or over the limit,
# 125 no isa-debug-exit, 126 QEMU failed.
# Test boots run under TCG unless TORO_QEMU_ACCEL says otherwise
# (tests/run-all.sh sets kvm for its KVM pass), and time out on a hang, not
# on slowness: QEMU is killed once its serial output has not grown for
# TORO_QEMU_HANG seconds, or after TORO_QEMU_LIMIT seconds in all.
#   300 s of silence: a test waits at most 30 s by design (a flush deadline);
#   the longest step of FsSuite takes 30 % of its run (0.2 s of 0.75 s
#   under TCG), and one FsSuite boot took over 300 s under a loaded nested
#   KVM, so near 100 s in one step: 300 s leaves it room three times over.
#   1500 s in all: five times that boot.
# qemu_test_opts: those qemu-run.sh options as the environment gives them
# now, into the array QEMU_TEST_OPTS, also for suites that call qemu-run.sh
# themselves (to give it --nic or --qmp).
qemu_test_opts() {
	QEMU_TEST_OPTS=(--accel "${TORO_QEMU_ACCEL:-tcg}" --hang "${TORO_QEMU_HANG:-300}"
		--timeout "${TORO_QEMU_LIMIT:-1500}")
}

# kvm_short: true in make test's KVM pass (TORO_KVM_PASS=short, from
# tests/run-all.sh), where a suite leaves out the cases that repeat under
# KVM what another of its cases covers there (polled beside interrupt-
# driven, more device layouts, the posix runs); make test-kvm runs them.
kvm_short() { [ "${TORO_QEMU_ACCEL:-}" = kvm ] && [ "${TORO_KVM_PASS:-full}" = short ]; }

bare_boot() {
	local out=$1 elf=$2 append=$3
	shift 3
	qemu_test_opts
	"$TOP/scripts/qemu-run.sh" "$elf" "${QEMU_TEST_OPTS[@]}" \
		${append:+--append "$append"} -- "$@" </dev/null 2>&1 | tr -d '\r' >"$out"
	return "${PIPESTATUS[0]}"
}

# ide FILE INDEX: the -drive option of an IDE disk (index 0 primary master,
# 1 primary slave, 2 secondary master, 3 secondary slave).
ide() { echo "-drive file=$1,format=raw,if=ide,index=$2"; }

# show FILE: indent a log into the test output.
show() { sed 's/^/    | /' "$1"; }
