#!/bin/sh
# Installs the Debian packages the build and the tests need, when missing.
# Safe to run again: does nothing once everything is there.
set -e
PKGS="gcc make binutils qemu-system-x86 libfuse3-dev fuse3 fuse2fs libaio-dev
libcriterion-dev libslirp-dev libglib2.0-dev e2fsprogs genext2fs pkg-config curl python3
iproute2 iputils-ping iputils-arping util-linux python3-scapy libpcap0.8 netcat-openbsd ethtool wrk
slowhttptest libvirt-clients
clang libclang-rt-dev attr acl stress-ng"
# Node.js for the strict HTTP client of the web tests (npm's undici):
# Debian's, unless the machine has a node of its own already.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
