#!/bin/sh
# qemu-run.sh: boot a bare Toro/C image in QEMU with its serial console here.
#
#   scripts/qemu-run.sh ELF [--smp N] [--mem SIZE] [--cpu MODEL] [--disk IMG]
#                           [--vdisk IMG] [--machine pc|microvm[,PROPS]]
#                           [--firmware seabios|qboot] [--append ARGS] [--accel auto|kvm|tcg] [--icount]
#                           [--gdb] [--hang SECONDS] [--timeout SECONDS]
#                           [--nic MODEL[,PROPERTY=VALUE...]]...
#                           [--fwd tcp|udp:127.0.0.1:HOSTPORT-:GUESTPORT]...
#                           [--nic-tap IFNAME MODEL[,PROPERTY=VALUE...]]...
#                           [--qmp SOCKET] [-- QEMU-ARGS...]
#
# The service's serial output goes to stdout. The exit status is the
# service's: the kernel ends QEMU through isa-debug-exit, which exits with
# (status << 1) | 1, mapped back here; a process status has 8 bits, so only
# statuses 0..127 come through whole (128..255 arrive as status - 128).
# Other endings:
#   124  the watchdog killed QEMU (--hang or --timeout)
#   125  QEMU ended without isa-debug-exit (triple fault, reset, poweroff)
#   126  QEMU could not start (bad arguments, missing file, KVM asked for
#        where /dev/kvm is not usable)
# (a service that exits with 124..126 itself is indistinguishable from these).
#
# Accelerator: --accel, else $TORO_QEMU_ACCEL, else auto.
#   auto  KVM when /dev/kvm is usable, TCG otherwise (and QEMU falls back to
#         TCG when KVM fails to start): `make run`, `make qemu`, benchmarks.
#   kvm   KVM and nothing else: a run that ends well did run under KVM, and
#         a KVM that fails is an error, not a silent TCG run.
#   tcg   TCG: the tests' default (tests/integration/ata_lib.bash).
# --icount runs TCG with a virtual clock of one instruction per ns: slow,
# but timings that do not depend on the host's load (bench/boot.sh); it
# takes the place of auto, and contradicts kvm.
#
# Watchdog, for runs nobody watches: --hang S kills QEMU once its serial
# output has not grown for S seconds (a hang: a slow guest still prints),
# --timeout S once the guest has run S seconds in all. Both count from the
# guest's first output: QEMU's own start (firmware, PCI: seconds under a
# nested KVM) is not the guest's; a guest that prints nothing at all is
# killed after the larger of S and 60 s. With either, the serial output
# goes through a file polled once a second on its way to stdout, and QEMU's
# standard input is /dev/null.
#
# --nic adds a NIC (repeatable): a QEMU device MODEL (e1000,
# virtio-net-pci, ...; properties after it go to the device, e.g.
# virtio-net-pci,disable-modern=on) on its own user-mode network
# (libslirp, restrict=on: the guest reaches nothing outside; gateway
# 10.0.2.2, DHCP hands out 10.0.2.15). --nic-tap puts the NIC on the
# existing tap device IFNAME instead (made by the caller, e.g. in a network
# namespace of its own; virtio headers on, so virtio-net gets checksum
# offloads). Without either the machine has no NIC. The n-th NIC's netdev
# is named nic<n-1> (for QMP's set_link). --fwd forwards a port of
# 127.0.0.1 (only) to the guest through every user-mode NIC (repeatable).
# --qmp SOCKET: a QMP server on that Unix socket, for tests that drive QEMU
# while it runs.
#
# --machine: QEMU's pc (the default: firmware, PCI, IDE) or microvm (no
# PCI, no firmware tables beyond ACPI; devices on virtio-mmio, found by
# the kernel in the DSDT). --disk adds a raw image as an IDE disk on pc,
# --vdisk as a virtio-blk disk (virtio-blk-pci on pc); on microvm both are
# virtio-blk on virtio-mmio, and a --nic virtio-net-pci becomes
# virtio-net-device (microvm has no e1000).
#
# --firmware (else $TORO_QEMU_FIRMWARE, else seabios): pc's firmware.
# SeaBIOS, QEMU's default, or qboot (QEMU's minimal firmware, as microvm
# has): no option ROM scan or disk probe, so a boot takes milliseconds
# instead of seconds where a KVM runs firmware slowly (kvm_pvm). qboot
# leaves the PCI BARs unassigned; the kernel assigns them
# (hal/bare/pci_assign.c). microvm always has its own.
#
# QEMU-ARGS after -- go to QEMU after ours, so they add devices and may
# override -smp, -m and -cpu (QEMU takes the last of each).
set -u

usage() {
	echo "usage: $0 ELF [--smp N] [--mem SIZE] [--cpu MODEL] [--disk IMG] [--append ARGS]" \
		"[--vdisk IMG] [--machine pc|microvm[,PROPS]] [--firmware seabios|qboot] [--accel auto|kvm|tcg] [--icount] [--gdb]" \
		"[--hang S] [--timeout S] [--nic MODEL[,PROPS]]... [--fwd RULE]..." \
		"[--nic-tap IFNAME MODEL[,PROPS]]... [--qmp SOCKET]" \
		"[-- QEMU-ARGS...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
elf=$1
shift
smp=1
mem=256M
cpu=max
disk=
vdisks=
machine=pc
append=
accel=${TORO_QEMU_ACCEL:-auto}
firmware=${TORO_QEMU_FIRMWARE:-seabios}
icount=
gdb=
hang=
timeout=
nics=
fwds=
qmp=
while [ $# -gt 0 ]; do
	case $1 in
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--disk) disk=$2; shift 2 ;;
	--vdisk) [ $# -ge 2 ] || usage; vdisks="$vdisks $2"; shift 2 ;;
	--machine) [ $# -ge 2 ] || usage; machine=$2; shift 2 ;;
	--firmware) [ $# -ge 2 ] || usage; firmware=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--icount) icount=1; shift ;;
	--gdb) gdb=1; shift ;;
	--hang) hang=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--nic) [ $# -ge 2 ] || usage; nics="$nics user:$2"; shift 2 ;;
	--nic-tap) [ $# -ge 3 ] || usage; nics="$nics tap=$2:$3"; shift 3 ;;
	--fwd) [ $# -ge 2 ] || usage
		case $2 in
		tcp:127.0.0.1:*-:*|udp:127.0.0.1:*-:*) fwds="$fwds,hostfwd=$2" ;;
		*) echo "qemu-run: --fwd $2: forwards are tcp|udp:127.0.0.1:HOSTPORT-:GUESTPORT" >&2
			exit 126 ;;
		esac
		shift 2 ;;
	--qmp) [ $# -ge 2 ] || usage; qmp=$2; shift 2 ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ -f "$elf" ] || { echo "qemu-run: no such image: $elf" >&2; exit 126; }

kvm_usable() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# QEMU's own errors exit with 1, which would read as status 0: its stderr
# is kept aside to tell them apart. These lines of it are not errors.
benign='warning:'
case $accel in
auto)
	if [ -n "$icount" ]; then
		accel_args="-accel tcg -icount shift=0"
	elif kvm_usable; then
		accel_args="-accel kvm -accel tcg"
		benign='warning:\|failed to initialize kvm\|falling back to tcg'
	else
		accel_args="-accel tcg"
	fi ;;
kvm)
	[ -z "$icount" ] || { echo "qemu-run: --icount needs TCG, not KVM" >&2; exit 126; }
	kvm_usable || { echo "qemu-run: KVM asked for, but /dev/kvm is not usable here" >&2; exit 126; }
	accel_args="-accel kvm" ;;
tcg)
	accel_args="-accel tcg"
	[ -n "$icount" ] && accel_args="$accel_args -icount shift=0" ;;
*) usage ;;
esac
# Under KVM on some hosts (nested ones), QEMU 7.2's -cpu max or host writes
# an IA32_ARCH_CAPABILITIES value that KVM refuses ("failed to set MSR
# 0x10a"), and QEMU aborts. The kernel never reads that MSR. Ours, and a
# -cpu among the caller's QEMU-ARGS (it overrides ours).
case $accel_args in
*kvm*)
	cpu="$cpu,-arch-capabilities"
	n=$#
	prev=
	for a in "$@"; do
		if [ "$prev" = -cpu ]; then set -- "$@" "$a,-arch-capabilities"; else set -- "$@" "$a"; fi
		prev=$a
	done
	shift "$n" ;;
esac

# Ours first, then the caller's QEMU-ARGS (still in "$@"): each is put in
# front, so the NICs go in last to first.
reversed=
count=0
for nic in $nics; do
	reversed="$nic $reversed"
	count=$((count + 1))
done
microvm=
case $machine in
microvm|microvm,*) microvm=1 ;;
pc|pc,*|q35|q35,*) ;;
*) echo "qemu-run: unknown machine '$machine' (pc or microvm)" >&2; exit 126 ;;
esac
for nic in $reversed; do
	count=$((count - 1))
	model=${nic#*:}
	if [ -n "$microvm" ]; then
		case $model in
		virtio-net-pci*) model=virtio-net-device${model#virtio-net-pci} ;;
		virtio-net-device*) ;;
		*) echo "qemu-run: microvm has no $model (virtio-net-pci only)" >&2; exit 126 ;;
		esac
	fi
	set -- -device "$model,netdev=nic$count" "$@"
	case $nic in
	user:*) set -- -netdev "user,id=nic$count,restrict=on$fwds" "$@" ;;
	tap=*) tap=${nic%%:*}
		set -- -netdev "tap,id=nic$count,ifname=${tap#tap=},script=no,downscript=no" "$@" ;;
	esac
done
[ -n "$qmp" ] && set -- -qmp "unix:$qmp,server=on,wait=off" "$@"
[ -n "$gdb" ] && set -- -s -S "$@"
vdev=virtio-blk-pci
[ -n "$microvm" ] && vdev=virtio-blk-device
[ -n "$microvm" ] && [ -n "$disk" ] && vdisks="$disk $vdisks" && disk=
n=0
rev=
for v in $vdisks; do
	rev="$n:$v $rev"
	n=$((n + 1))
done
for v in $rev; do
	set -- -drive "file=${v#*:},format=raw,if=none,id=vd${v%%:*}" -device "$vdev,drive=vd${v%%:*}" "$@"
done
[ -n "$disk" ] && set -- -drive "file=$disk,format=raw,if=ide" "$@"
[ -n "$append" ] && set -- -append "$append" "$@"
[ "$machine" = pc ] || set -- -M "$machine" "$@"
case $firmware in
seabios) ;;
qboot) prev=
	for a in "$@"; do     # a -M microvm among the caller's QEMU-ARGS
		case $prev in -M|-machine) case $a in microvm*) microvm=1 ;; esac ;; esac
		prev=$a
	done
	if [ -z "$microvm" ]; then
		qboot=/usr/share/qemu/qboot.rom
		[ -f "$qboot" ] || { echo "qemu-run: no $qboot (Debian's qemu-system-data has it)" >&2; exit 126; }
		set -- -bios "$qboot" "$@"
	fi ;;
*) echo "qemu-run: unknown firmware '$firmware' (seabios or qboot)" >&2; exit 126 ;;
esac
# shellcheck disable=SC2086 # accel_args: words without spaces
set -- $accel_args -cpu "$cpu" -smp "$smp" -m "$mem" \
	-display none -vga none -nic none -serial stdio -monitor none \
	-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$elf" "$@"
[ -n "$gdb" ] &&
	echo "qemu-run: waiting for gdb on :1234 (gdb ${elf%.elf}.debug.elf -ex 'target remote :1234')" >&2

dir=$(mktemp -d)
qemu=
dog=
trap 'rm -rf "$dir"' EXIT
trap '[ -n "$qemu" ] && kill $qemu $dog 2>/dev/null; exit 130' INT TERM

# watchdog PID: kill QEMU (PID) when $dir/serial has not grown for $hang
# seconds, or when $timeout seconds have passed since it first grew, or
# when it stays empty for $silent_start seconds; the reason goes to
# $dir/killed.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
silent_start=60
for s in $hang $timeout; do
	[ "$s" -gt $silent_start ] && silent_start=$s
done
watchdog() {
	start=$(now_ms)
	first=
	size=0
	while sleep 1; do
		now=$(now_ms)
		grown=$(wc -c <"$dir/serial")
		if [ "$grown" != "$size" ]; then
			size=$grown
			last=$now
			[ -n "$first" ] || first=$now
		fi
		if [ -z "$first" ]; then
			[ $((now - start)) -ge $((silent_start * 1000)) ] || continue
			echo "qemu-run: no serial output ${silent_start}s after QEMU started: hung, QEMU killed" >"$dir/killed"
		elif [ -n "$hang" ] && [ $((now - last)) -ge $((hang * 1000)) ]; then
			echo "qemu-run: no serial output for ${hang}s: hung, QEMU killed" >"$dir/killed"
		elif [ -n "$timeout" ] && [ $((now - first)) -ge $((timeout * 1000)) ]; then
			echo "qemu-run: timed out after ${timeout}s, QEMU killed" >"$dir/killed"
		else
			continue
		fi
		kill "$1"
		sleep 5
		kill -9 "$1" 2>/dev/null
		return
	done
}

if [ -n "$hang$timeout" ]; then
	# The serial output reaches stdout through tee, which keeps a copy for
	# the watchdog to measure. The watchdog's output goes nowhere, so no
	# sleep of it holds our stdout open after QEMU is gone.
	: >"$dir/serial"
	mkfifo "$dir/fifo"
	tee "$dir/serial" <"$dir/fifo" &
	copier=$!
	qemu-system-x86_64 "$@" >"$dir/fifo" 2>"$dir/err" </dev/null &
	qemu=$!
	watchdog $qemu >/dev/null 2>&1 &
	dog=$!
	wait $qemu
	rc=$?
	kill $dog 2>/dev/null
	wait $copier
else
	qemu-system-x86_64 "$@" 2>"$dir/err"
	rc=$?
fi
cat "$dir/err" >&2
if [ -s "$dir/killed" ]; then
	cat "$dir/killed" >&2
	exit 124
fi
if [ $rc = 1 ] && grep '^qemu-system' "$dir/err" | grep -v -e "$benign" | grep -q .; then
	echo "qemu-run: QEMU failed" >&2
	exit 126
fi

case $rc in
0) echo "qemu-run: QEMU ended without isa-debug-exit" >&2; exit 125 ;;
esac
if [ $((rc & 1)) -eq 1 ]; then
	exit $((rc >> 1))
fi
echo "qemu-run: QEMU failed (exit $rc)" >&2
exit 126
