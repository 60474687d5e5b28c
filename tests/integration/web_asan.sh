#!/usr/bin/env bash
# web.sh again with TorowithFileSystem built with ASan and UBSan (make SAN=1
# posix): every request shape, slow clients, the bound, SIGINT and kill -9.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WEB_BIN=$TOP/build/posix-san/bin/TorowithFileSystem exec "$(dirname "$0")/web.sh"
