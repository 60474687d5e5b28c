#!/bin/sh
# boot.sh: how fast a Toro/C service starts (a benchmark, not a test).
#   1. posix: build/posix/bin/ToroHello against /bin/true, mean wall time
#   2. QEMU: build/bare/ToroHello.elf against a null kernel (bench/nullkernel:
#      one serial line, then isa-debug-exit), same runner, same flags, on
#      the pc machine (with SeaBIOS, and with qboot: --firmware) and on
#      microvm, under TCG and (where usable) KVM
#   3. the kernel's own entry-to-main time (--boot-time), posix and bare,
#      and bare again under TCG -icount (1 instruction = 1 ns: a figure the
#      host's load does not move, near what KVM would show)
#   4. the size of build/bare/ToroHello.elf
# Targets: entry to main under 1 ms, ToroHello.elf under 64 KiB.
#   bench/boot.sh [RUNS]      (default 50 posix runs, RUNS/5 QEMU runs)
cd "$(dirname "$0")/.." || exit 1
RUNS=${1:-50}
QRUNS=$((RUNS / 5))
[ "$QRUNS" -ge 3 ] || QRUNS=3
SMP=${SMP:-1}

make -s posix bare >/dev/null || exit 1
NULL=build/bare/nullkernel.elf
cc -nostdlib -static -no-pie -Wl,-T,hal/bare/linker.ld -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096 -o $NULL bench/nullkernel/nullkernel.S || exit 1

now_ns() { date +%s%N; }

# run_ns CMD...: wall time of one run of CMD, in nanoseconds.
run_ns() {
	t0=$(now_ns)
	"$@" >/dev/null 2>&1
	echo $(($(now_ns) - t0))
}

# pair_us N "CMD A" "CMD B": N runs of each, interleaved so that load on the
# machine hits both alike; prints "meanA meanB" in microseconds.
pair_us() {
	n=$1
	sum_a=0
	sum_b=0
	i=0
	while [ $i -lt "$n" ]; do
		sum_a=$((sum_a + $(run_ns $2)))
		sum_b=$((sum_b + $(run_ns $3)))
		i=$((i + 1))
	done
	echo $((sum_a / n / 1000)) $((sum_b / n / 1000))
}

# entry_us N CMD...: mean of the "toro: entry to main <N> us" lines.
entry_us() {
	n=$1
	shift
	i=0
	while [ $i -lt "$n" ]; do
		"$@" 2>/dev/null | sed -n 's/^toro: entry to main \([0-9]*\) us.*/\1/p'
		i=$((i + 1))
	done | awk '{ s += $1; c++ } END { if (c) printf "%d", s / c; else printf "n/a" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

QEMU="scripts/qemu-run.sh"
# QEMU rows for each accelerator here (TCG always, KVM where /dev/kvm is
# usable) on pc (PCI; SeaBIOS, then qboot) and microvm (neither).
accels=tcg
[ -r /dev/kvm ] && [ -w /dev/kvm ] && accels="tcg kvm"

set -- $(pair_us "$RUNS" "build/posix/bin/ToroHello" "/bin/true")
posix_hello=$1 posix_true=$2
entry_posix=$(entry_us "$RUNS" build/posix/bin/ToroHello --boot-time)
entry_icount=$(entry_us 1 $QEMU build/bare/ToroHello.elf --smp "$SMP" --timeout 60 --icount --append --boot-time)
size=$(stat -c %s build/bare/ToroHello.elf)

row_us() { printf '%-50s %9s us %9s us %8s\n' "$1" "$2" "$3" "$4"; }
printf '%-50s %12s %12s %8s\n' "measure ($RUNS posix / $QRUNS QEMU runs, -smp $SMP)" "Toro/C" "baseline" "ratio"
row_us "posix ToroHello vs /bin/true (wall)" "$posix_hello" "$posix_true" "$(ratio "$posix_hello" "$posix_true")"
row_us "entry to main, posix (target < 1000 us)" "$entry_posix" "" ""
for accel in $accels; do
	for machine in pc pc-qboot microvm; do
		case $machine in
		pc-qboot) opts="--machine pc --firmware qboot" ;;
		*) opts="--machine $machine" ;;
		esac
		opts="$opts --accel $accel --smp $SMP --timeout 30"
		set -- $(pair_us "$QRUNS" "$QEMU build/bare/ToroHello.elf $opts" "$QEMU $NULL $opts")
		row_us "$accel $machine: ToroHello.elf vs null kernel (wall)" "$1" "$2" "$(ratio "$1" "$2")"
		row_us "$accel $machine: entry to main (target < 1000 us)" \
			"$(entry_us "$QRUNS" $QEMU build/bare/ToroHello.elf $opts --append --boot-time)" "" ""
	done
done
row_us "entry to main, bare, TCG -icount" "$entry_icount" "" ""
printf '%-50s %9d B  %9d B  %8s\n' "ToroHello.elf size (target < 65536 B)" "$size" 65536 "$(ratio "$size" 65536)"
