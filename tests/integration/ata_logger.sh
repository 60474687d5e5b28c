#!/usr/bin/env bash
# ata_logger.sh: ToroLogger on an IDE disk in QEMU and on the posix build.
# For each way `make image` builds ToroFiles.img (genext2fs, toro-fs):
# three QEMU runs on one image (DMA, then PIO with --ata-pio, then DMA on
# two CPUs), then e2fsck -fn is clean and /web/logs/log holds exactly three
# lines; three posix runs on a fresh image give the same file.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
cd "$TOP" || exit 1
scratch
ELF=build/bare/ToroLogger.elf
POSIX=build/posix/bin/ToroLogger
for f in "$ELF" "$POSIX"; do
	[ -x "$f" ] || [ -f "$f" ] || { fail "missing $f (make all)"; finish; exit; }
done

expected=$(printf 'ToroLogger: run %04d\n' 1 2 3)

for tool in genext2fs toro-fs; do
	img=$SCRATCH/$tool.img
	if ! make -s image IMAGE="$img" IMAGE_TOOL=$tool >"$SCRATCH/make.log" 2>&1; then
		fail "$tool: make image"
		show "$SCRATCH/make.log"
		continue
	fi
	run=0
	for opts in "" "--ata-pio" "smp2"; do
		run=$((run + 1))
		smp=1 append=$opts
		[ "$opts" = smp2 ] && smp=2 append=
		bare_boot "$SCRATCH/out" "$ELF" "$append" -smp $smp -nic none \
			$(ide "$img" 0)
		rc=$?
		if [ $rc -eq 0 ] && grep -q '<h1>Hello from Toro/C</h1>' "$SCRATCH/out" &&
				grep -q 'ToroLogger: appended' "$SCRATCH/out"; then
			pass "$tool: QEMU run $run (${opts:-dma}) printed the page and appended"
		else
			fail "$tool: QEMU run $run (${opts:-dma}) (status $rc)"
			show "$SCRATCH/out"
		fi
	done
	check "$tool: e2fsck -fn clean after three QEMU runs" quiet e2fsck -fn "$img"
	got=$(debugfs -R 'cat /web/logs/log' "$img" 2>/dev/null)
	if [ "$got" = "$expected" ]; then
		pass "$tool: /web/logs/log has exactly the three lines"
	else
		fail "$tool: /web/logs/log after QEMU: '$got'"
	fi

	pimg=$SCRATCH/$tool-posix.img
	make -s image IMAGE="$pimg" IMAGE_TOOL=$tool >/dev/null 2>&1
	ok=true
	for i in 1 2 3; do
		"$POSIX" --disk "$pimg" >"$SCRATCH/out" 2>&1 || { ok=false; show "$SCRATCH/out"; }
	done
	check "$tool: three posix runs succeed" $ok
	check "$tool: e2fsck -fn clean after three posix runs" quiet e2fsck -fn "$pimg"
	pgot=$(debugfs -R 'cat /web/logs/log' "$pimg" 2>/dev/null)
	if [ "$pgot" = "$got" ] && [ -n "$got" ]; then
		pass "$tool: posix and QEMU logs are the same"
	else
		fail "$tool: posix log '$pgot' differs from QEMU's '$got'"
	fi
done

# A second run that finds /web/logs but no log file creates only the file.
img=$SCRATCH/nolog.img
make -s image IMAGE="$img" >/dev/null 2>&1
debugfs -w -R 'mkdir /web/logs' "$img" >/dev/null 2>&1
bare_boot "$SCRATCH/out" "$ELF" "" -nic none $(ide "$img" 0)
rc=$?
check "existing /web/logs, no log: status 0 (got $rc)" [ $rc -eq 0 ]
check "existing /web/logs, no log: one line" \
	[ "$(debugfs -R 'cat /web/logs/log' "$img" 2>/dev/null)" = "ToroLogger: run 0001" ]

# No disk at all: a clear message and a non-zero status, no hang.
bare_boot "$SCRATCH/out" "$ELF" "" -nic none -nodefaults
rc=$?
if [ $rc -ne 0 ] && [ $rc -lt 124 ] && grep -q 'ToroLogger: mounting.*failed' "$SCRATCH/out"; then
	pass "no disk: clear message, status $rc"
else
	fail "no disk: status $rc"
	show "$SCRATCH/out"
fi
finish
