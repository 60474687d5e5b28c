/*
 * check.c: at mount, what allocation relies on, compared with itself.
 *
 * Allocation trusts the bitmaps and the descriptors' free counts; when they
 * lie, a write lands on a block or inode in use and spreads the damage. So
 * before a mount, for every group: the bitmaps lie inside the group and off
 * its superblock copy, descriptors and inode table; the block bitmap marks
 * that metadata used and the inode bitmap the reserved inodes; the number
 * of clear bits equals the descriptor's free count. And the bad-blocks
 * inode's list (inode 1) names only blocks inside the file system, none of
 * them metadata, all marked used. Each group costs two bitmap reads.
 *
 * What is found is not an error of the mounted file system (nothing is
 * written): ext2_check_allocation describes the first problem in
 * fs->damage, and the mount then goes read-only or is refused (super.c).
 * The bad-blocks list is kept, sorted, for ext2_is_bad_block.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "alloc.h"
#include "console.h"
#include "ext2.h"

#define BADBLOCKS_MAX 4096      /* a longer list is taken as damage (a dying disk) */

static bool test_bit(const uint8_t *map, uint32_t bit) { return map[bit >> 3] & (1u << (bit & 7)); }

/* Bits set in w (SWAR: the bare build has no libgcc for the builtin). */
static uint32_t popcount64(uint64_t w)
{
	w -= (w >> 1) & 0x5555555555555555ull;
	w = (w & 0x3333333333333333ull) + ((w >> 2) & 0x3333333333333333ull);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (uint32_t)((w * 0x0101010101010101ull) >> 56);
}

static uint32_t count_clear(const uint8_t *map, uint32_t nbits)
{
	uint32_t set = 0, i = 0;
	for (; i + 64 <= nbits; i += 64) {
		uint64_t w;
		memcpy(&w, map + i / 8, 8);
		set += popcount64(w);
	}
	for (; i < nbits; i++)
		set += test_bit(map, i);
	return nbits - set;
}

/* Record the first problem found. */
static __attribute__((format(printf, 2, 3))) void damage(struct ext2_fs *fs, const char *fmt, ...)
{
	if (fs->damage[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(fs->damage, sizeof(fs->damage), fmt, ap);
	va_end(ap);
}

/* Where a group's bitmaps may lie: inside it, past its superblock copy and
 * descriptors, off the inode table and each other. */
static bool bitmaps_placed(struct ext2_fs *fs, uint32_t g)
{
	struct ext2_group *gr = &fs->groups[g];
	uint32_t last = ext2_group_first_block(fs, g) + ext2_group_nblocks(fs, g) - 1;
	uint32_t meta_end = ext2_group_meta_end(fs, g);
	uint32_t it = gr->inode_table, bb = gr->block_bitmap, ib = gr->inode_bitmap;
	return bb >= meta_end && bb <= last && ib >= meta_end && ib <= last && bb != ib &&
	       !(bb >= it && bb - it < fs->itb_per_group) &&
	       !(ib >= it && ib - it < fs->itb_per_group);
}

/* Group g's block bitmap: its metadata used, its free count right. */
static int check_block_bitmap(struct ext2_fs *fs, uint32_t g)
{
	struct buf *b;
	int rc = bread(fs->bc, fs->groups[g].block_bitmap, &b);
	if (rc < 0)
		return rc;
	uint32_t first = ext2_group_first_block(fs, g), n = ext2_group_nblocks(fs, g);
	uint32_t metablk = 0;
	for (uint32_t i = 0; i < n && !metablk; i++)
		if (!test_bit(b->data, i) && ext2_block_is_meta(fs, first + i))
			metablk = first + i;
	uint32_t nfree = count_clear(b->data, n);
	brelse(b);
	uint32_t want = ld16(ext2_gd(fs, g)->bg_free_blocks_count);
	if (metablk)
		damage(fs, "block bitmap of group %u marks metadata block %u free", g, metablk);
	else if (nfree != want)
		damage(fs, "group %u: descriptor counts %u free blocks, its bitmap %u", g, want,
		       nfree);
	else
		fs->groups[g].bitmap_checked = true;
	return 0;
}

static int check_inode_bitmap(struct ext2_fs *fs, uint32_t g)
{
	struct buf *b;
	int rc = bread(fs->bc, fs->groups[g].inode_bitmap, &b);
	if (rc < 0)
		return rc;
	uint32_t n = fs->inodes_per_group;
	if ((uint64_t)(g + 1) * n > fs->inodes_count)
		n = fs->inodes_count - g * n;
	uint32_t reserved_free = 0;
	for (uint32_t i = 0; g == 0 && i < fs->first_ino - 1 && i < n && !reserved_free; i++)
		if (!test_bit(b->data, i))
			reserved_free = i + 1;
	uint32_t nfree = count_clear(b->data, n);
	brelse(b);
	uint32_t want = ld16(ext2_gd(fs, g)->bg_free_inodes_count);
	if (reserved_free)
		damage(fs, "inode bitmap marks reserved inode %u free", reserved_free);
	else if (nfree != want)
		damage(fs, "group %u: descriptor counts %u free inodes, its bitmap %u", g, want,
		       nfree);
	return 0;
}

/* Is blk marked used in its group's block bitmap? */
static int block_marked(struct ext2_fs *fs, uint32_t blk, bool *used)
{
	uint32_t g = (blk - fs->first_data_block) / fs->blocks_per_group;
	struct buf *b;
	int rc = bread(fs->bc, fs->groups[g].block_bitmap, &b);
	if (rc < 0)
		return rc;
	*used = test_bit(b->data, blk - ext2_group_first_block(fs, g));
	brelse(b);
	return 0;
}

/* One block of the bad-blocks list (a bad block, or one of the list's own
 * indirect blocks): inside the file system, not metadata, marked used. */
static int check_listed(struct ext2_fs *fs, uint32_t blk, const char *what)
{
	if (blk < fs->first_data_block || blk >= fs->blocks_count) {
		damage(fs, "bad-blocks inode lists %s %u, outside the file system", what, blk);
		return 0;
	}
	if (ext2_block_is_meta(fs, blk)) {
		damage(fs, "bad-blocks inode lists metadata block %u as %s", blk, what);
		return 0;
	}
	bool used;
	int rc = block_marked(fs, blk, &used);
	if (rc == 0 && !used)
		damage(fs, "%s %u of the bad-blocks inode is free in the block bitmap", what, blk);
	return rc;
}

static int add_bad(struct ext2_fs *fs, uint32_t blk)
{
	if (fs->nbad == BADBLOCKS_MAX) {
		damage(fs, "bad-blocks inode lists more than %u blocks", BADBLOCKS_MAX);
		return 0;
	}
	if (fs->nbad % 256 == 0) {
		uint32_t *v = kmalloc((fs->nbad + 256) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		if (fs->nbad)
			memcpy(v, fs->bad, fs->nbad * sizeof(*v));
		kfree(fs->bad);
		fs->bad = v;
	}
	uint32_t i = fs->nbad++;     /* kept sorted: insertion, the lists are short */
	for (; i > 0 && fs->bad[i - 1] > blk; i--)
		fs->bad[i] = fs->bad[i - 1];
	fs->bad[i] = blk;
	return check_listed(fs, blk, "bad block");
}

/* The bad blocks under block pointer blk at depth levels of indirection. */
static int walk_bad(struct ext2_fs *fs, uint32_t blk, int depth)
{
	if (depth == 0)
		return add_bad(fs, blk);
	int rc = check_listed(fs, blk, "indirect block");
	if (rc < 0 || fs->damage[0])
		return rc;
	struct buf *b;
	rc = bread(fs->bc, blk, &b);
	if (rc < 0)
		return rc;
	uint32_t *v = kmalloc(fs->addr_per_block * sizeof(*v));
	if (!v) {
		brelse(b);
		return -ENOMEM;
	}
	const le32 *e = (const le32 *)b->data;
	for (uint32_t i = 0; i < fs->addr_per_block; i++)
		v[i] = ld32(e[i]);
	brelse(b);      /* one buffer locked at a time */
	for (uint32_t i = 0; i < fs->addr_per_block && rc == 0 && !fs->damage[0]; i++)
		if (v[i])
			rc = walk_bad(fs, v[i], depth - 1);
	kfree(v);
	return rc;
}

static int load_bad_blocks(struct ext2_fs *fs)
{
	struct buf *b;
	int rc = bread(fs->bc, fs->groups[0].inode_table, &b);   /* inode 1: the first */
	if (rc < 0)
		return rc;
	uint32_t map[EXT2_N_BLOCKS];
	const struct ext2_inode *raw = (const struct ext2_inode *)b->data;
	for (int i = 0; i < EXT2_N_BLOCKS; i++)
		map[i] = ld32(raw->i_block[i]);
	brelse(b);
	for (int i = 0; i < EXT2_N_BLOCKS && rc == 0 && !fs->damage[0]; i++)
		if (map[i])
			rc = walk_bad(fs, map[i], i < EXT2_NDIR_BLOCKS ? 0 : i - EXT2_NDIR_BLOCKS + 1);
	return rc;
}

bool ext2_is_bad_block(struct ext2_fs *fs, uint32_t blk)
{
	uint32_t lo = 0, hi = fs->nbad;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (fs->bad[mid] == blk)
			return true;
		if (fs->bad[mid] < blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int ext2_check_allocation(struct ext2_fs *fs)
{
	/* With uninit_bg (mounted read-only for it) a group's bitmaps may never
	 * have been written; the flag means nothing without the feature. */
	bool uninit = fs->ro_compat & (EXT4_FEATURE_RO_COMPAT_GDT_CSUM |
	                               EXT4_FEATURE_RO_COMPAT_METADATA_CSUM);
	for (uint32_t g = 0; g < fs->ngroups && !fs->damage[0]; g++) {
		if (uninit && (ld16(ext2_gd(fs, g)->bg_flags) & EXT4_BG_UNINIT_FLAGS))
			continue;
		if (!bitmaps_placed(fs, g)) {
			damage(fs, "group %u: its bitmaps (blocks %u, %u) are misplaced", g,
			       fs->groups[g].block_bitmap, fs->groups[g].inode_bitmap);
			break;
		}
		int rc = check_block_bitmap(fs, g);
		if (rc == 0)
			rc = check_inode_bitmap(fs, g);
		if (rc < 0)
			return rc;
	}
	if (fs->damage[0])
		return 0;
	return load_bad_blocks(fs);
}
