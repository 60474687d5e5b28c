#!/usr/bin/env bash
# fuse_uring.sh again with torofuse built with ASan and UBSan (make SAN=1
# posix): the ring code's copies and teardown.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TOROFUSE=$TOP/build/posix-san/bin/torofuse exec "$(dirname "$0")/fuse_uring.sh"
