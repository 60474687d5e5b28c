#!/usr/bin/env bash
# TorowithFileSystem on bare under QEMU: virtio-net on QEMU's user network
# (restrict=on, one port forwarded on 127.0.0.1), ToroFiles.img as an IDE
# disk, --duration as its end. curl checks bodies byte-identical to the
# files, 206, 304, 404, HEAD; after it stops by itself, the access log in
# the image holds exactly one line per request and e2fsck finds it clean.
source "$(dirname "$0")/../lib.sh"
cd "$TOP"
scratch
ELF=build/bare/TorowithFileSystem.elf
IMG=$SCRATCH/web.img
TREE=build/ToroFiles/web
QEMU_PID=
trap '[ -n "$QEMU_PID" ] && kill $QEMU_PID 2>/dev/null; rm -rf "$SCRATCH"' EXIT
make -s image IMAGE="$IMG" >/dev/null 2>&1 || { fail "make image"; finish; exit; }
PORT=$(python3 tests/integration/http_raw.py 0 free)
URL=http://127.0.0.1:$PORT
# TCG unless told (TORO_QEMU_ACCEL), as every bare suite: a KVM that
# emulates the guest (kvm_pvm) boots it slower than the wait below.
accel=${TORO_QEMU_ACCEL:-tcg}
DURATION=40
qemu-system-x86_64 -kernel "$ELF" -nographic -no-reboot -accel $accel -smp 2 -m 256M \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-drive file="$IMG",format=raw,if=ide,index=0 \
	-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:80 \
	-device virtio-net-pci,netdev=n0 -append "--duration $DURATION" >"$SCRATCH/out" 2>&1 &
QEMU_PID=$!
for _ in $(seq 1200); do grep -q "serving /web" "$SCRATCH/out" && break; sleep 0.1; done
check "bare: the server boots and listens" grep -q "serving /web" "$SCRATCH/out"

n=0
get() {  # expected-status path [curl args]: the body in $SCRATCH/body
	local want=$1 path=$2
	shift 2
	n=$((n + 1))
	[ "$(curl -sS --max-time 30 -o "$SCRATCH/body" -D "$SCRATCH/h" -w '%{http_code}' "$@" "$URL$path")" = "$want" ]
}
for f in index.html style.css img/dot.png large.txt; do
	check "bare: GET /$f: 200, identical to the file" get 200 /$f && check "  ... bytes" cmp -s "$SCRATCH/body" "$TREE/$f"
done
check "bare: GET / is index.html" get 200 / && check "  ... bytes" cmp -s "$SCRATCH/body" "$TREE/index.html"
etag=$(grep -i '^etag:' "$SCRATCH/h" | cut -d' ' -f2 | tr -d '\r')
check "bare: If-None-Match: 304" get 304 / -H "If-None-Match: $etag"
check "bare: Range bytes=16-31: 206" get 206 /large.txt -r 16-31 && check "  ... the range" [ "$(cat "$SCRATCH/body")" = 000000000000001 ]
check "bare: missing: 404" get 404 /nope.html
check "bare: HEAD: 200, no body" get 200 / -I && check "  ... Content-Length: 998" grep -q '^Content-Length: 998' "$SCRATCH/h"

timeout $((DURATION + 60)) tail --pid=$QEMU_PID -f /dev/null
wait $QEMU_PID
rc=$?
QEMU_PID=
# isa-debug-exit: status 0 comes back as 1
check "bare: --duration ends it cleanly (QEMU status $rc)" [ $rc -eq 1 ]
check "  ... stopped and unmounted" grep -q "TorowithFileSystem: stopped" "$SCRATCH/out"
logged=$(debugfs -R 'cat /web/logs/access.log' "$IMG" 2>/dev/null | grep -c '')
check "bare: the access log has exactly one line per request ($logged of $n)" [ "$logged" = "$n" ]
check "bare: e2fsck -fn clean" quiet e2fsck -fn "$IMG"
finish
