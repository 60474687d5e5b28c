#!/usr/bin/env bash
# libvirt_xml.sh: the orchestrator example examples/libvirt/toro-web.xml
# (README: "Running many instances") is a domain libvirt accepts
# (virt-xml-validate), and the machine it describes serves: the bare web
# service booted with its direct-kernel cmdline, memory and CPUs, the disk
# on virtio-blk and the NIC on virtio-net (QEMU's user networking standing
# in for libvirt's default network, 127.0.0.1 forwarded), answers with the
# image's index.html.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/ata_lib.bash"
cd "$TOP" || exit 1
scratch
XML=examples/libvirt/toro-web.xml
ELF=build/bare/TorowithFileSystem.elf

check "virt-xml-validate accepts $XML" quiet virt-xml-validate "$XML" domain

# field XPATH: a value of the example.
field() {
	/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as t
print(t.parse(sys.argv[1]).getroot().findtext(sys.argv[2]) or "")' "$XML" "$1"
}
cmdline=$(field os/cmdline)
mem=$(field memory)
cpus=$(field vcpu)
check "the example boots the image make bare builds" \
	test "$(basename "$(field os/kernel)")" = "$(basename $ELF)"
check "the example's disk is virtio-blk" grep -q '<target dev="vda" bus="virtio"/>' "$XML"
check "the example's NIC is virtio-net" grep -q '<model type="virtio"/>' "$XML"

IMG=$SCRATCH/web.img
make -s image IMAGE="$IMG" >/dev/null 2>&1 || fail "make image"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
qemu_test_opts
scripts/qemu-run.sh $ELF "${QEMU_TEST_OPTS[@]}" --smp "$cpus" --mem "${mem}M" --vdisk "$IMG" \
	--nic virtio-net-pci --fwd "tcp:127.0.0.1:$PORT-:80" --append "$cmdline" \
	</dev/null >"$SCRATCH/serial" 2>&1 &
QEMU_RUN=$!
trap 'kill $QEMU_RUN 2>/dev/null; rm -rf "$SCRATCH"' EXIT
served=0
for _ in $(seq 300); do
	if curl -s -m 5 -o "$SCRATCH/index" "http://127.0.0.1:$PORT/"; then served=1; break; fi
	kill -0 $QEMU_RUN 2>/dev/null || break
	sleep 1
done
check "the described machine serves index.html (virtio-blk disk, virtio-net, cmdline '$cmdline')" \
	test $served = 1 -a -s "$SCRATCH/index"
check "the page is the image's" cmp -s "$SCRATCH/index" build/ToroFiles/web/index.html
grep -q "^virtio-blk .*virtio 1.x" "$SCRATCH/serial" && pass "the disk was virtio-blk" ||
	{ fail "the disk was virtio-blk"; show "$SCRATCH/serial"; }
kill $QEMU_RUN 2>/dev/null
wait $QEMU_RUN 2>/dev/null
finish
