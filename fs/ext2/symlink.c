/*
 * symlink.c: symbolic links. A target shorter than 60 bytes lives in the
 * inode's block map area (a fast symlink, no block); a longer one (up to a
 * block less one byte) in one data block (a slow symlink).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ext2.h"

/* The i_block area as the bytes it holds on disk. */
static void blocks_to_bytes(const uint32_t *blk, char *out)
{
	for (int i = 0; i < EXT2_N_BLOCKS; i++) {
		le32 v;
		st32(&v, blk[i]);
		memcpy(out + 4 * i, &v, 4);
	}
}

static void bytes_to_blocks(const char *in, uint32_t *blk)
{
	for (int i = 0; i < EXT2_N_BLOCKS; i++) {
		le32 v;
		memcpy(&v, in + 4 * i, 4);
		blk[i] = ld32(v);
	}
}

int ext2_symlink_write(struct ext2_fs *fs, struct ext2_inode_info *ii, const char *target,
                       size_t len)
{
	if (len <= EXT2_FAST_SYMLINK_MAX) {
		char area[EXT2_N_BLOCKS * 4] = { 0 };
		memcpy(area, target, len);
		bytes_to_blocks(area, ii->block);
		ii->size = len;
		ii->dirty = true;
		return 0;
	}
	struct buf *b;
	int rc = ext2_map_new_block(fs, ii, 0, &b);
	if (rc < 0)
		return rc;
	memcpy(b->data, target, len);
	bdirty_kind(b, BK_EARLY);      /* new: unreachable until the inode lands */
	brelse(b);
	ii->size = len;
	ii->dirty = true;
	return 0;
}

ssize_t ext2_readlink(struct fs *vfs, uint64_t ino, char *buf, size_t size)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	if (ino > UINT32_MAX || !ext2_valid_ino(fs, (uint32_t)ino))
		return -ENOENT;
	ext2_lock(fs);
	ssize_t rc = ext2_iget(fs, (uint32_t)ino, &ii);
	if (rc < 0)
		goto out;
	if (!S_ISLNK(ii->mode)) {
		rc = -EINVAL;
		goto put;
	}
	size_t len = (size_t)ii->size;      /* checked at read: 1..bsize-1 */
	size_t n = len < size ? len : size;
	if (ext2_is_fast_symlink(fs, ii)) {
		char area[EXT2_N_BLOCKS * 4];
		blocks_to_bytes(ii->block, area);
		memcpy(buf, area, n);
	} else {
		uint32_t pblk;
		rc = ext2_bmap(fs, ii, 0, false, &pblk, NULL);
		if (rc < 0)
			goto put;
		if (!pblk) {
			rc = EXT2_CORRUPT(fs, "slow symlink %u has no block", ii->ino);
			goto put;
		}
		struct buf *b;
		rc = bread(fs->bc, pblk, &b);
		if (rc < 0)
			goto put;
		memcpy(buf, b->data, n);
		brelse(b);
	}
	rc = (ssize_t)n;
put:
	ext2_iput(fs, ii);
out:
	ext2_unlock(fs);
	return rc;
}
