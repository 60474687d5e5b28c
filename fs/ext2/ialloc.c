/*
 * ialloc.c: inode allocation. A new file's inode goes to its directory's
 * group (then a quadratic probe, then any group), so its blocks land near
 * it; a new directory goes to a group with at least the average number of
 * free inodes and the most free blocks, spreading directories out as Linux
 * ext2 does. Bitmaps, descriptors and the superblock change together.
 */
#include <errno.h>

#include "ext2.h"

uint32_t ext2_ino_group(struct ext2_fs *fs, uint32_t ino)
{
	return (ino - 1) / fs->inodes_per_group;
}

static bool group_ok(struct ext2_fs *fs, uint32_t g)
{
	return ld16(ext2_gd(fs, g)->bg_free_inodes_count) > 0;
}

static uint32_t pick_group_dir(struct ext2_fs *fs, uint32_t parent_group)
{
	uint32_t avg = fs->free_inodes / fs->ngroups;
	uint32_t best = UINT32_MAX, best_blocks = 0;
	for (uint32_t i = 0; i < fs->ngroups; i++) {
		uint32_t g = (fs->dir_rotor + i) % fs->ngroups;
		struct ext2_group_desc *gd = ext2_gd(fs, g);
		uint32_t fi = ld16(gd->bg_free_inodes_count), fb = ld16(gd->bg_free_blocks_count);
		if (fi == 0 || fi < avg)
			continue;
		if (best == UINT32_MAX || fb > best_blocks) {
			best = g;
			best_blocks = fb;
		}
	}
	if (best != UINT32_MAX) {
		fs->dir_rotor = (best + 1) % fs->ngroups;
		return best;
	}
	for (uint32_t i = 0; i < fs->ngroups; i++) {
		uint32_t g = (parent_group + i) % fs->ngroups;
		if (group_ok(fs, g))
			return g;
	}
	return UINT32_MAX;
}

static uint32_t pick_group_file(struct ext2_fs *fs, uint32_t pg)
{
	if (group_ok(fs, pg) && ld16(ext2_gd(fs, pg)->bg_free_blocks_count))
		return pg;
	for (uint32_t step = 1; step < fs->ngroups; step <<= 1) {
		uint32_t g = (pg + step) % fs->ngroups;
		if (group_ok(fs, g) && ld16(ext2_gd(fs, g)->bg_free_blocks_count))
			return g;
	}
	for (uint32_t i = 0; i < fs->ngroups; i++) {
		uint32_t g = (pg + i) % fs->ngroups;
		if (group_ok(fs, g))
			return g;
	}
	return UINT32_MAX;
}

int ext2_new_inode(struct ext2_fs *fs, uint32_t dir_ino, bool is_dir, uint32_t *out)
{
	EXT2_ASSERT_LOCKED(fs);
	if (fs->free_inodes == 0) {
		int rc = ext2_reclaim_deferred(fs);
		if (rc < 0)
			return rc;
		if (fs->free_inodes == 0)
			return -ENOSPC;
	}
	uint32_t pg = ext2_ino_group(fs, dir_ino);
	uint32_t g = is_dir ? pick_group_dir(fs, pg) : pick_group_file(fs, pg);
	if (g == UINT32_MAX)
		return EXT2_CORRUPT(fs, "free inode count %u but no group has a free inode",
		                    fs->free_inodes);
	struct ext2_group_desc *gd = ext2_gd(fs, g);
	struct buf *b;
	int rc = bread(fs->bc, fs->groups[g].inode_bitmap, &b);
	if (rc < 0)
		return rc;
	uint32_t limit = fs->inodes_per_group;
	if ((uint64_t)g * fs->inodes_per_group + limit > fs->inodes_count)
		limit = fs->inodes_count - g * fs->inodes_per_group;
	uint32_t start = g == 0 ? fs->first_ino - 1 : 0;
	uint32_t bit = ext2_find_zero_bit(b->data, start, limit);
	if (bit >= limit) {
		brelse(b);
		return EXT2_CORRUPT(fs, "group %u: free inode count %u but bitmap full", g,
		                    ld16(gd->bg_free_inodes_count));
	}
	b->data[bit >> 3] |= (uint8_t)(1u << (bit & 7));
	bdirty_kind(b, BK_EARLY);
	brelse(b);
	st16(&gd->bg_free_inodes_count, ld16(gd->bg_free_inodes_count) - 1);
	if (is_dir)
		st16(&gd->bg_used_dirs_count, ld16(gd->bg_used_dirs_count) + 1);
	ext2_gd_dirty(fs, g);
	fs->free_inodes--;
	ext2_sb_update_counts(fs);
	*out = g * fs->inodes_per_group + bit + 1;
	return 0;
}

int ext2_free_inode_bit(struct ext2_fs *fs, uint32_t ino, bool is_dir)
{
	EXT2_ASSERT_LOCKED(fs);
	if (ino < fs->first_ino || ino > fs->inodes_count)
		return EXT2_CORRUPT(fs, "freeing reserved or bad inode %u", ino);
	return ext2_defer(fs, is_dir ? EXT2_DEFER_DIR_INODE : EXT2_DEFER_INODE, ino);
}

int ext2_release_inode_bit(struct ext2_fs *fs, uint32_t ino, bool is_dir)
{
	EXT2_ASSERT_LOCKED(fs);
	if (ino < fs->first_ino || ino > fs->inodes_count)
		return EXT2_CORRUPT(fs, "freeing reserved or bad inode %u", ino);
	uint32_t g = ext2_ino_group(fs, ino), bit = (ino - 1) % fs->inodes_per_group;
	struct buf *b;
	int rc = bread(fs->bc, fs->groups[g].inode_bitmap, &b);
	if (rc < 0)
		return rc;
	if (!(b->data[bit >> 3] & (1u << (bit & 7)))) {
		brelse(b);
		return EXT2_CORRUPT(fs, "freeing inode %u, already free", ino);
	}
	b->data[bit >> 3] &= (uint8_t)~(1u << (bit & 7));
	bdirty_kind(b, BK_EARLY);
	brelse(b);
	struct ext2_group_desc *gd = ext2_gd(fs, g);
	st16(&gd->bg_free_inodes_count, ld16(gd->bg_free_inodes_count) + 1);
	if (is_dir && ld16(gd->bg_used_dirs_count))
		st16(&gd->bg_used_dirs_count, ld16(gd->bg_used_dirs_count) - 1);
	ext2_gd_dirty(fs, g);
	fs->free_inodes++;
	ext2_sb_update_counts(fs);
	return 0;
}
