/*
 * balloc.c: block allocation. One bitmap block per group; a set bit is a
 * used block. The group descriptors' free counts and the superblock's total
 * change with every bit, under the fs lock. Allocation takes the goal (the
 * block after the file's previous one, or its inode's group) and searches
 * forward from it, then the following groups.
 */
#include <errno.h>
#include <string.h>

#include "ext2.h"
#include "journal.h"

static bool test_bit(const uint8_t *map, uint32_t bit) { return map[bit >> 3] & (1u << (bit & 7)); }
static void set_bit(uint8_t *map, uint32_t bit) { map[bit >> 3] |= (uint8_t)(1u << (bit & 7)); }
static void clear_bit(uint8_t *map, uint32_t bit) { map[bit >> 3] &= (uint8_t)~(1u << (bit & 7)); }

uint32_t ext2_find_zero_bit(const uint8_t *map, uint32_t from, uint32_t to)
{
	uint32_t b = from;
	while (b < to && (b & 63)) {
		if (!test_bit(map, b))
			return b;
		b++;
	}
	/* A full bitmap is scanned often (a group filling up, and the inodes
	 * of a group from its first): 64 bits at a time. */
	while (b + 64 <= to) {
		uint64_t w;
		memcpy(&w, map + (b >> 3), sizeof(w));
		if (w != UINT64_MAX)
			break;
		b += 64;
	}
	for (; b < to; b++)
		if (!test_bit(map, b))
			return b;
	return to;
}

/* Blocks of fs metadata: boot block, superblocks, descriptors, bitmaps,
 * inode tables; also anything past the end. */
bool ext2_block_is_meta(struct ext2_fs *fs, uint32_t blk)
{
	if (blk < fs->first_data_block || blk >= fs->blocks_count)
		return true;
	uint32_t g = (blk - fs->first_data_block) / fs->blocks_per_group;
	uint32_t first = ext2_group_first_block(fs, g);
	if (ext2_group_has_super(fs, g) && blk - first < 1 + fs->gdt_blocks + fs->reserved_gdt)
		return true;
	struct ext2_group *gr = &fs->groups[g];
	return blk == gr->block_bitmap || blk == gr->inode_bitmap ||
	       (blk >= gr->inode_table && blk - gr->inode_table < fs->itb_per_group);
}

/* A block a file may hold: not metadata, and not on the bad-blocks list
 * (a map naming one is corrupt; freeing it would make it allocatable). */
bool ext2_valid_data_block(struct ext2_fs *fs, uint32_t blk)
{
	return blk != 0 && !ext2_block_is_meta(fs, blk) && !ext2_is_bad_block(fs, blk);
}

/* Read group g's block bitmap; the first time, check that it marks the
 * group's own metadata as used (STYLE.md 6). */
int ext2_read_block_bitmap(struct ext2_fs *fs, uint32_t g, struct buf **out)
{
	struct ext2_group *gr = &fs->groups[g];
	int rc = bread(fs->bc, gr->block_bitmap, out);
	if (rc < 0)
		return rc;
	if (gr->bitmap_checked)
		return 0;
	uint32_t first = ext2_group_first_block(fs, g);
	const uint8_t *map = (*out)->data;
	bool ok = test_bit(map, gr->block_bitmap - first) && test_bit(map, gr->inode_bitmap - first);
	for (uint32_t i = 0; ok && i < fs->itb_per_group; i++)
		ok = test_bit(map, gr->inode_table - first + i);
	if (ok && ext2_group_has_super(fs, g))
		for (uint32_t i = 0; ok && i < 1 + fs->gdt_blocks + fs->reserved_gdt &&
		     i < ext2_group_nblocks(fs, g); i++)
			ok = test_bit(map, i);
	if (!ok) {
		brelse(*out);
		*out = NULL;
		return EXT2_CORRUPT(fs, "block bitmap of group %u does not mark its metadata used", g);
	}
	gr->bitmap_checked = true;
	return 0;
}

/* First bit in [from, to) of group g that is clear in map and, with
 * skip_busy, not freed in the running transaction; or to. */
static uint32_t find_free(struct ext2_fs *fs, uint32_t g, const uint8_t *map, uint32_t from,
                          uint32_t to, bool skip_busy)
{
	uint32_t first = ext2_group_first_block(fs, g);
	uint32_t bit = ext2_find_zero_bit(map, from, to);
	while (skip_busy && bit < to && ext2_journal_block_busy(fs, first + bit))
		bit = ext2_find_zero_bit(map, bit + 1, to);
	return bit;
}

/* Take a free block from goal on; skip_busy: not one freed in the running
 * transaction (journal.h), -ENOSPC if only those are left. */
static int alloc_block(struct ext2_fs *fs, uint32_t goal, bool skip_busy, uint32_t *out)
{
	uint32_t g0 = (goal - fs->first_data_block) / fs->blocks_per_group;
	for (uint32_t i = 0; i <= fs->ngroups; i++) {
		uint32_t g = (g0 + i) % fs->ngroups;
		struct ext2_group_desc *gd = ext2_gd(fs, g);
		uint16_t nfree = ld16(gd->bg_free_blocks_count);
		if (nfree == 0)
			continue;
		struct buf *b;
		int rc = ext2_read_block_bitmap(fs, g, &b);
		if (rc < 0)
			return rc;
		uint32_t n = ext2_group_nblocks(fs, g);
		uint32_t start = i == 0 ? goal - ext2_group_first_block(fs, g) : 0;
		uint32_t bit = find_free(fs, g, b->data, start, n, skip_busy);
		if (bit == n && start) {
			/* Then below the goal, where "none" is start, not n. */
			bit = find_free(fs, g, b->data, 0, start, skip_busy);
			if (bit == start)
				bit = n;
		}
		if (bit == n) {
			brelse(b);
			if ((i == 0 && start) || skip_busy)
				continue;   /* searched whole group: corrupt count below */
			return EXT2_CORRUPT(fs, "group %u: free count %u but bitmap full", g, nfree);
		}
		uint32_t blk = ext2_group_first_block(fs, g) + bit;
		bool bad = ext2_is_bad_block(fs, blk);
		if (bad || ext2_block_is_meta(fs, blk)) {
			brelse(b);
			return EXT2_CORRUPT(fs, "block bitmap of group %u frees %s block %u", g,
			                    bad ? "bad" : "metadata", blk);
		}
		set_bit(b->data, bit);
		bdirty_kind(b, BK_EARLY);
		brelse(b);
		st16(&gd->bg_free_blocks_count, nfree - 1);
		ext2_gd_dirty(fs, g);
		fs->free_blocks--;
		ext2_sb_update_counts(fs);
		*out = blk;
		return 0;
	}
	if (skip_busy)
		return -ENOSPC;
	return EXT2_CORRUPT(fs, "free block count %u but no group has a free block", fs->free_blocks);
}

int ext2_new_block(struct ext2_fs *fs, uint32_t goal, uint32_t *out)
{
	EXT2_ASSERT_LOCKED(fs);
	if (fs->free_blocks == 0) {
		int rc = ext2_reclaim_deferred(fs);
		if (rc < 0)
			return rc;
		if (fs->free_blocks == 0)
			return -ENOSPC;
	}
	if (goal < fs->first_data_block || goal >= fs->blocks_count)
		goal = fs->first_data_block;
	/* A block freed in the running transaction only when nothing else is
	 * free: a crash before its commit could bring back its old owner. */
	int rc = alloc_block(fs, goal, true, out);
	return rc == -ENOSPC ? alloc_block(fs, goal, false, out) : rc;
}

int ext2_free_block(struct ext2_fs *fs, uint32_t blk)
{
	EXT2_ASSERT_LOCKED(fs);
	if (!ext2_valid_data_block(fs, blk))
		return EXT2_CORRUPT(fs, "freeing block %u, not a data block", blk);
	bcache_forget(fs->bc, blk);     /* its contents will not be needed */
	return ext2_defer(fs, EXT2_DEFER_BLOCK, blk);
}

int ext2_release_block_bit(struct ext2_fs *fs, uint32_t blk)
{
	EXT2_ASSERT_LOCKED(fs);
	if (!ext2_valid_data_block(fs, blk))
		return EXT2_CORRUPT(fs, "freeing block %u, not a data block", blk);
	uint32_t g = (blk - fs->first_data_block) / fs->blocks_per_group;
	struct buf *b;
	int rc = ext2_read_block_bitmap(fs, g, &b);
	if (rc < 0)
		return rc;
	uint32_t bit = blk - ext2_group_first_block(fs, g);
	if (!test_bit(b->data, bit)) {
		brelse(b);
		return EXT2_CORRUPT(fs, "freeing block %u, already free", blk);
	}
	rc = ext2_journal_block_freed(fs, blk);
	if (rc < 0) {
		brelse(b);
		return rc;
	}
	clear_bit(b->data, bit);
	bdirty_kind(b, BK_EARLY);
	brelse(b);
	struct ext2_group_desc *gd = ext2_gd(fs, g);
	st16(&gd->bg_free_blocks_count, ld16(gd->bg_free_blocks_count) + 1);
	ext2_gd_dirty(fs, g);
	fs->free_blocks++;
	ext2_sb_update_counts(fs);
	return 0;
}
