#!/usr/bin/env bash
# net_udp.sh again with ToroEcho built with ASan and UBSan (make SAN=1 posix):
# a sanitizer report in the service's log fails the checks that read it.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TORO_ECHO=$TOP/build/posix-san/bin/ToroEcho exec "$(dirname "$0")/net_udp.sh"
