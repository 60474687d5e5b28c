/*
 * mkfs.h: format a block device as ext2 (revision 1, sparse_super,
 * filetype, large_file), the way mke2fs -t ext2 would without its optional
 * extras (no resize inode, no dir_index, no extended attributes).
 */
#ifndef FS_EXT2_MKFS_H
#define FS_EXT2_MKFS_H

#include <stdint.h>

struct blkdev;

struct ext2_mkfs_opts {
	uint64_t size;              /* bytes to use; 0: the whole device */
	uint32_t block_size;        /* 1024 to 65536, a power of 2; 0: 1024 below 512 MiB, else 4096 */
	uint32_t inode_size;        /* 128 or 256; 0: 256 */
	uint32_t bytes_per_inode;   /* one inode per this many bytes; 0: 4096 or 16384, or a block */
	uint32_t reserved_percent;  /* blocks kept for the super user, 0..50 */
	const char *label;          /* volume name, up to 16 bytes; NULL: none */
};

/* ext2_mkfs(dev, opts): write a new, empty, clean file system (root
 * directory and lost+found) on dev and flush it. 0 or -errno: -EINVAL for
 * bad options or a device too small, -EROFS, -EIO. May block. */
int ext2_mkfs(struct blkdev *dev, const struct ext2_mkfs_opts *opts);

#endif
