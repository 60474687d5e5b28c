#!/usr/bin/env bash
# fuse_ops.sh on an image with 64 KiB blocks from mke2fs, the largest block
# (entries spanning a whole block have rec_len 65535 on disk);
# fs_blocksizes.sh runs the storage suite on 8, 16, 32 and 64 KiB blocks.
FUSE_KINDS="mke2fs-64k" exec "$(dirname "$0")/fuse_ops.sh"
