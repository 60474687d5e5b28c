/*
 * mkfs_journal.c: the internal journal of a new file system (mkfs.h's
 * journal option): inode 8 mapping a contiguous run of blocks (data and
 * indirect blocks interleaved as the map needs them), all zeroed, block 0
 * holding a v2 journal superblock with an empty log, no features.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "ext2.h"
#include "jbd2.h"
#include "mkfs.h"

#define ZERO_BYTES (1u << 20)       /* zeros written per request at most */

uint32_t ext2_mkfs_journal_default(uint32_t blocks, uint32_t blocks_per_group)
{
	uint32_t n = blocks < 2048 ? 0 : blocks < 32768 ? 1024 : blocks < 262144 ? 4096 :
	             blocks < 524288 ? 8192 : 16384;
	while (n > blocks_per_group / 2)
		n /= 2;
	return n >= 1024 ? n : 0;
}

uint32_t ext2_mkfs_journal_footprint(uint32_t bsize, uint32_t n)
{
	uint32_t apb = bsize / 4, total = n;
	if (n <= EXT2_NDIR_BLOCKS)
		return total;
	n -= EXT2_NDIR_BLOCKS;
	total += 1;                                 /* the indirect block */
	if (n <= apb)
		return total;
	n -= apb;
	return total + 1 + (n + apb - 1) / apb;     /* double indirect and its children */
}

/* Where block lblk of the journal is, and make room for the indirect
 * blocks it needs on the way: *next is the next free block of the run. */
static uint32_t place(uint32_t lblk, uint32_t apb, uint32_t *next, le32 *i_block,
                      le32 *ind, le32 *dind, uint32_t *ind_blk, uint32_t *dind_blk)
{
	if (lblk < EXT2_NDIR_BLOCKS) {
		st32(&i_block[lblk], *next);
		return (*next)++;
	}
	lblk -= EXT2_NDIR_BLOCKS;
	if (lblk < apb) {
		if (lblk == 0) {
			*ind_blk = (*next)++;
			st32(&i_block[EXT2_IND_BLOCK], *ind_blk);
		}
		st32(&ind[lblk], *next);
		return (*next)++;
	}
	lblk -= apb;
	if (lblk == 0) {
		*dind_blk = (*next)++;
		st32(&i_block[EXT2_DIND_BLOCK], *dind_blk);
	}
	if (lblk % apb == 0) {
		*ind_blk = (*next)++;
		st32(&dind[lblk / apb], *ind_blk);
	}
	st32(&ind[lblk % apb], *next);
	return (*next)++;
}

int ext2_mkfs_journal(struct blkdev *dev, uint32_t bsize, uint32_t start, uint32_t n,
                      const uint8_t uuid[16], uint32_t now, struct ext2_inode *out)
{
	uint32_t spb = bsize / dev->sector_size, apb = bsize / 4;
	uint32_t run = ext2_mkfs_journal_footprint(bsize, n);
	if (n < 1024 || run - n > 1 + 1 + apb)
		return -EINVAL;
	/* Zeros for a run of blocks per request (a request per block made
	 * mkfs -j several times slower than mkfs). */
	uint32_t zrun = bsize < ZERO_BYTES ? ZERO_BYTES / bsize : 1;
	uint8_t *zero = kzalloc((size_t)zrun * bsize);
	le32 *ind = kzalloc(bsize), *dind = kzalloc(bsize);
	struct jbd2_super *jsb = kzalloc(bsize);
	int rc = -ENOMEM;
	if (!zero || !ind || !dind || !jsb)
		goto out;

	memset(out, 0, sizeof(*out));
	st16(&out->i_mode, 0100600);
	st16(&out->i_links_count, 1);
	st32(&out->i_size, n * bsize);
	st32(&out->i_atime, now);
	st32(&out->i_ctime, now);
	st32(&out->i_mtime, now);
	st32(&out->i_blocks, run * (bsize / 512));

	stb32(&jsb->s_header.h_magic, JBD2_MAGIC);
	stb32(&jsb->s_header.h_blocktype, JBD2_SUPERBLOCK_V2);
	stb32(&jsb->s_blocksize, bsize);
	stb32(&jsb->s_maxlen, n);
	stb32(&jsb->s_first, 1);
	stb32(&jsb->s_sequence, 1);
	stb32(&jsb->s_nr_users, 1);
	memcpy(jsb->s_uuid, uuid, 16);

	/* The journal's blocks (one contiguous run) zeroed, then the
	 * superblock and the indirect blocks in their places, in order, an
	 * indirect block once it is full. */
	rc = 0;
	for (uint32_t b = 0; b < run && rc == 0; b += zrun) {
		uint32_t k = run - b < zrun ? run - b : zrun;
		rc = blkdev_write(dev, (uint64_t)(start + b) * spb, zero, k * spb);
	}
	uint32_t next = start, ind_blk = 0, dind_blk = 0;
	for (uint32_t lblk = 0; lblk < n && rc == 0; lblk++) {
		uint32_t blk = place(lblk, apb, &next, out->i_block, ind, dind, &ind_blk, &dind_blk);
		if (lblk == 0)
			rc = blkdev_write(dev, (uint64_t)blk * spb, jsb, spb);
		uint32_t k = lblk - EXT2_NDIR_BLOCKS;
		bool ind_full = lblk >= EXT2_NDIR_BLOCKS &&
		                ((k < apb && (k == apb - 1 || lblk == n - 1)) ||
		                 (k >= apb && ((k - apb) % apb == apb - 1 || lblk == n - 1)));
		if (rc == 0 && ind_full) {
			rc = blkdev_write(dev, (uint64_t)ind_blk * spb, ind, spb);
			memset(ind, 0, bsize);
		}
	}
	if (rc == 0 && dind_blk)
		rc = blkdev_write(dev, (uint64_t)dind_blk * spb, dind, spb);
	if (rc == 0 && next != start + run)
		rc = -EINVAL;
out:
	kfree(zero);
	kfree(ind);
	kfree(dind);
	kfree(jsb);
	return rc;
}
