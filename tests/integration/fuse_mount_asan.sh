#!/usr/bin/env bash
# fuse_mount.sh again with torofuse built with ASan and UBSan (make SAN=1
# posix): corrupt images, signals, a full disk, many clients, a second user.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TOROFUSE=$TOP/build/posix-san/bin/torofuse exec "$(dirname "$0")/fuse_mount.sh"
