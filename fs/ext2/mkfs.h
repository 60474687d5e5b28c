/*
 * mkfs.h: format a block device as ext2 (revision 1, sparse_super,
 * filetype, large_file), the way mke2fs -t ext2 would without its optional
 * extras (no resize inode, no dir_index, no extended attributes); with the
 * journal option, ext3: the same plus has_journal and a journal in inode 8.
 */
#ifndef FS_EXT2_MKFS_H
#define FS_EXT2_MKFS_H

#include <stdbool.h>
#include <stdint.h>

struct blkdev;
struct ext2_inode;

struct ext2_mkfs_opts {
	uint64_t size;              /* bytes to use; 0: the whole device */
	uint32_t block_size;        /* 1024 to 65536, a power of 2; 0: 1024 below 512 MiB, else 4096 */
	uint32_t inode_size;        /* 128 or 256; 0: 256 */
	uint32_t bytes_per_inode;   /* one inode per this many bytes; 0: 4096 or 16384, or a block */
	uint32_t reserved_percent;  /* blocks kept for the super user, 0..50 */
	const char *label;          /* volume name, up to 16 bytes; NULL: none */
	bool journal;               /* ext3: an internal journal (has_journal, inode 8) */
	uint32_t journal_blocks;    /* its size in blocks, >= 1024; 0: by the fs size */
};

/* ext2_mkfs(dev, opts): write a new, empty, clean file system (root
 * directory and lost+found) on dev and flush it. 0 or -errno: -EINVAL for
 * bad options or a device too small, -EROFS, -EIO. May block. */
int ext2_mkfs(struct blkdev *dev, const struct ext2_mkfs_opts *opts);

/* mkfs_journal.c: the journal's default size for a file system of blocks
 * (0: too small for one), the blocks it takes with its indirect blocks, and
 * writing it: n blocks from start on dev, the inode describing them in *out.
 * Up to double indirect blocks. 0 or -errno. */
uint32_t ext2_mkfs_journal_default(uint32_t blocks, uint32_t blocks_per_group);
uint32_t ext2_mkfs_journal_footprint(uint32_t bsize, uint32_t n);
int ext2_mkfs_journal(struct blkdev *dev, uint32_t bsize, uint32_t start, uint32_t n,
                      const uint8_t uuid[16], uint32_t now, struct ext2_inode *out);

#endif
