#!/usr/bin/env bash
# fuse_ops.sh again with torofuse built with ASan and UBSan (make SAN=1 posix):
# every memory error or leak in the daemon fails the unmount that ends it.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TOROFUSE=$TOP/build/posix-san/bin/torofuse exec "$(dirname "$0")/fuse_ops.sh"
