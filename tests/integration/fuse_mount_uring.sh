#!/usr/bin/env bash
# fuse_mount.sh again with the requests through torofuse's io_uring queues
# (fusemount/uring.h): signals, kill -9, a full disk and many clients while
# the rings wait.
FUSE_URING=1 exec "$(dirname "$0")/fuse_mount.sh"
