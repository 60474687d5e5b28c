# ata_lib.bash: what the ata_*.sh suites share (sourced; not a suite).
# bare_boot OUT ELF APPEND QEMU-ARGS...: boot a bare image under QEMU (KVM
# when usable, else TCG) with the given extra devices, serial output to
# OUT; returns the service's exit status (124 timeout, 125 no
# isa-debug-exit, 126 QEMU failed), like scripts/qemu-run.sh.
ATA_TIMEOUT=${ATA_TIMEOUT:-300}

bare_boot() {
	local out=$1 elf=$2 append=$3
	shift 3
	local accel=(-accel tcg)
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		accel=(-accel kvm -accel tcg)
	fi
	timeout --foreground "$ATA_TIMEOUT" qemu-system-x86_64 "${accel[@]}" -cpu max \
		-m 256M -display none -vga none -serial stdio -monitor none -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$elf" \
		${append:+-append "$append"} "$@" </dev/null 2>&1 | tr -d '\r' >"$out"
	local rc=${PIPESTATUS[0]}
	case $rc in
	124) return 124 ;;
	0) return 125 ;;
	esac
	if [ $((rc & 1)) -eq 1 ]; then
		return $((rc >> 1))
	fi
	return 126
}

# ide FILE INDEX: the -drive option of an IDE disk (index 0 primary master,
# 1 primary slave, 2 secondary master, 3 secondary slave).
ide() { echo "-drive file=$1,format=raw,if=ide,index=$2"; }

# show FILE: indent a log into the test output.
show() { sed 's/^/    | /' "$1"; }
