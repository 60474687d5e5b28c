#!/bin/sh
# qemu-run.sh: boot a bare Toro/C image in QEMU with its serial console here.
#
#   scripts/qemu-run.sh ELF [--smp N] [--mem SIZE] [--disk IMG] [--append ARGS]
#                           [--gdb] [--timeout SECONDS] [--icount]
#                           [--nic MODEL[,PROPERTY=VALUE...]]...
#                           [--nic-tap IFNAME MODEL[,PROPERTY=VALUE...]]...
#                           [--qmp SOCKET]
#
# The service's serial output goes to stdout. The exit status is the
# service's: the kernel ends QEMU through isa-debug-exit, which exits with
# (status << 1) | 1, mapped back here; a process status has 8 bits, so only
# statuses 0..127 come through whole (128..255 arrive as status - 128).
# Other endings:
#   124  --timeout expired (QEMU killed)
#   125  QEMU ended without isa-debug-exit (triple fault, reset, poweroff)
#   126  QEMU could not start (bad arguments, missing file)
# (a service that exits with 124..126 itself is indistinguishable from these).
# --nic adds a NIC (repeatable): a QEMU device MODEL (e1000,
# virtio-net-pci, ...; properties after it go to the device, e.g.
# virtio-net-pci,disable-modern=on) on its own user-mode network
# (libslirp, restrict=on: the guest reaches nothing outside; gateway
# 10.0.2.2, DHCP hands out 10.0.2.15). --nic-tap puts the NIC on the
# existing tap device IFNAME instead (made by the caller, e.g. in a network
# namespace of its own; virtio headers on, so virtio-net gets checksum
# offloads). Without either the machine has no NIC. The n-th NIC's netdev
# is named nic<n-1> (for QMP's set_link). --qmp SOCKET: a QMP server on
# that Unix socket, for tests that drive QEMU while it runs.
# Uses KVM when /dev/kvm is usable, TCG otherwise. --icount runs TCG with a
# virtual clock of one instruction per ns: slow, but timings that do not
# depend on the host's load (bench/boot.sh).
set -u

usage() {
	echo "usage: $0 ELF [--smp N] [--mem SIZE] [--disk IMG] [--append ARGS] [--gdb] [--timeout S] [--icount] [--nic MODEL[,PROPS]]... [--nic-tap IFNAME MODEL[,PROPS]]... [--qmp SOCKET]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
elf=$1
shift
smp=1
mem=256M
disk=
append=
gdb=
timeout=
icount=
nics=
qmp=
while [ $# -gt 0 ]; do
	case $1 in
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--disk) disk=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--gdb) gdb=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--icount) icount=1; shift ;;
	--nic) [ $# -ge 2 ] || usage; nics="$nics user:$2"; shift 2 ;;
	--nic-tap) [ $# -ge 3 ] || usage; nics="$nics tap=$2:$3"; shift 3 ;;
	--qmp) [ $# -ge 2 ] || usage; qmp=$2; shift 2 ;;
	*) usage ;;
	esac
done
[ -f "$elf" ] || { echo "qemu-run: no such image: $elf" >&2; exit 126; }

# KVM when /dev/kvm is usable (QEMU falls back to TCG if KVM still fails).
if [ -n "$icount" ]; then
	set -- -accel tcg -icount shift=0
elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	set -- -accel kvm -accel tcg
else
	set -- -accel tcg
fi

set -- "$@" -cpu max -smp "$smp" -m "$mem" \
	-display none -vga none -nic none -serial stdio -monitor none \
	-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$elf"
[ -n "$append" ] && set -- "$@" -append "$append"
[ -n "$disk" ] && set -- "$@" -drive "file=$disk,format=raw,if=ide"
[ -n "$qmp" ] && set -- "$@" -qmp "unix:$qmp,server=on,wait=off"
n=0
for nic in $nics; do
	case $nic in
	user:*) set -- "$@" -netdev "user,id=nic$n,restrict=on" ;;
	tap=*) tap=${nic%%:*}
		set -- "$@" -netdev "tap,id=nic$n,ifname=${tap#tap=},script=no,downscript=no" ;;
	esac
	set -- "$@" -device "${nic#*:},netdev=nic$n"
	n=$((n + 1))
done
if [ -n "$gdb" ]; then
	set -- "$@" -s -S
	echo "qemu-run: waiting for gdb on :1234 (gdb ${elf%.elf}.debug.elf -ex 'target remote :1234')" >&2
fi

# QEMU's own errors also exit with 1, which would read as status 0: keep
# its stderr aside to tell them apart.
errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT
if [ -n "$timeout" ]; then
	timeout --foreground "$timeout" qemu-system-x86_64 "$@" 2>"$errlog"
else
	qemu-system-x86_64 "$@" 2>"$errlog"
fi
rc=$?
cat "$errlog" >&2
if [ $rc = 1 ] && grep -v -e 'warning:' -e 'kvm' -e 'falling back' "$errlog" |
		grep -q '^qemu-system'; then
	echo "qemu-run: QEMU failed" >&2
	exit 126
fi

case $rc in
124) echo "qemu-run: timed out after ${timeout}s" >&2; exit 124 ;;
0) echo "qemu-run: QEMU ended without isa-debug-exit" >&2; exit 125 ;;
esac
if [ $((rc & 1)) -eq 1 ]; then
	exit $((rc >> 1))
fi
echo "qemu-run: QEMU failed (exit $rc)" >&2
exit 126
