#!/usr/bin/env bash
# fuse_ops.sh again with every request through torofuse's io_uring queues
# (fusemount/uring.h), where the host's FUSE has them.
FUSE_URING=1 exec "$(dirname "$0")/fuse_ops.sh"
