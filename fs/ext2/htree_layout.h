/*
 * htree_layout.h: what htree.c (walking and updating a hash index) and
 * htree_build.c (building one from a directory's entries) share: where the
 * tables lie in root and node blocks (struct dx_entry in ext2.h), the name
 * hash as an index uses it, and the leaf entries they sort and lay out.
 * Internal to fs/ext2; the fs lock is held throughout.
 */
#ifndef FS_EXT2_HTREE_LAYOUT_H
#define FS_EXT2_HTREE_LAYOUT_H

#include "ext2.h"

static inline uint32_t dx_table_offset(unsigned level)
{
	return level == 0 ? EXT2_DX_ROOT_TABLE : EXT2_DX_NODE_TABLE;
}

static inline uint32_t dx_table_limit(struct ext2_fs *fs, unsigned level)
{
	return (fs->bsize - dx_table_offset(level)) / sizeof(struct dx_entry);
}

static inline struct dx_entry *dx_table_of(uint8_t *block, unsigned level)
{
	return (struct dx_entry *)(block + dx_table_offset(level));
}

static inline struct dx_countlimit *dx_countlimit(struct dx_entry *t)
{
	return (struct dx_countlimit *)t;
}

static inline struct dx_root_info *dx_root_info(uint8_t *root)
{
	return (struct dx_root_info *)(root + 24);
}

/* A live entry of a leaf being laid out: its hash, where it is in the
 * copy it is taken from, its record's size without slack. */
struct leaf_entry {
	uint32_t hash;
	uint32_t off;
	uint16_t size;
};

/* The in-memory hash version (EXT2_HASH_* + EXT2_HASH_UNSIGNED) of an index
 * whose root says disk_version; the hash of a name under it (and its minor
 * hash if minor is not NULL: 0 for the legacy hash). */
unsigned ext2_dx_hash_version(struct ext2_fs *fs, unsigned disk_version);
int ext2_dx_name_hash(struct ext2_fs *fs, unsigned version, const char *name, size_t len,
                      uint32_t *hash, uint32_t *minor);

/* Write entries v[0..n) (from src) into dst, one after the other, the last
 * one reaching the block's end (an empty block if n is 0). */
void ext2_dx_write_leaf(struct ext2_fs *fs, uint8_t *dst, const uint8_t *src,
                        const struct leaf_entry *v, uint32_t n);

/* A new block at the directory's end, as an empty directory block;
 * returned locked, *blk its index in the directory. */
int ext2_dx_append_block(struct ext2_fs *fs, struct ext2_inode_info *dir, uint32_t *blk,
                         struct buf **out);

#endif
