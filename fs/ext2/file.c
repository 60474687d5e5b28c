/*
 * file.c: reading and writing file contents through the block map and the
 * block cache. Holes read as zeros; a write allocates the blocks it
 * touches (a block written whole, or new, is not read first) and grows the
 * size. Files past 2 GiB set the large_file feature (revision 1 only).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "ext2.h"

ssize_t ext2_file_read(struct ext2_fs *fs, struct ext2_inode_info *ii, void *buf,
                       size_t len, uint64_t off)
{
	if (off >= ii->size)
		return 0;
	if (len > ii->size - off)
		len = (size_t)(ii->size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size_t done = 0;
	while (done < len) {
		uint64_t pos = off + done;
		uint32_t boff = (uint32_t)(pos % fs->bsize);
		size_t n = fs->bsize - boff;
		if (n > len - done)
			n = len - done;
		uint32_t pblk;
		int rc = ext2_bmap(fs, ii, pos / fs->bsize, false, &pblk, NULL);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		if (!pblk) {
			memset((char *)buf + done, 0, n);
		} else {
			struct buf *b;
			rc = bread(fs->bc, pblk, &b);
			if (rc < 0)
				return done ? (ssize_t)done : rc;
			memcpy((char *)buf + done, b->data + boff, n);
			brelse(b);
		}
		done += n;
	}
	return (ssize_t)done;
}

ssize_t ext2_file_write(struct ext2_fs *fs, struct ext2_inode_info *ii, const void *buf,
                        size_t len, uint64_t off)
{
	uint64_t max = ext2_max_size(fs);
	if (len == 0)
		return 0;
	if (off >= max)
		return -EFBIG;
	if (len > max - off)
		len = (size_t)(max - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (off + len > 0x7fffffffull && S_ISREG(ii->mode) &&
	    !(fs->ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE)) {
		fs->ro_compat |= EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
		st32(&fs->sb->s_feature_ro_compat, fs->ro_compat);
		ext2_sb_dirty(fs);
	}
	size_t done = 0;
	int rc = 0;
	while (done < len) {
		uint64_t pos = off + done;
		uint32_t boff = (uint32_t)(pos % fs->bsize);
		size_t n = fs->bsize - boff;
		if (n > len - done)
			n = len - done;
		uint32_t pblk;
		bool fresh;
		rc = ext2_bmap(fs, ii, pos / fs->bsize, true, &pblk, &fresh);
		if (rc < 0)
			break;
		struct buf *b;
		if (fresh || n == fs->bsize)
			rc = bget_zero(fs->bc, pblk, &b);
		else
			rc = bread(fs->bc, pblk, &b);
		if (rc < 0)
			break;
		memcpy(b->data + boff, (const char *)buf + done, n);
		b->checked = false;
		bdirty(b, S_ISDIR(ii->mode));
		brelse(b);
		done += n;
		if (off + done > ii->size)
			ii->size = off + done;
	}
	if (done) {
		ext2_touch(ii, true, true);
		return (ssize_t)done;
	}
	return rc;
}

ssize_t ext2_read(struct fs *vfs, uint64_t ino, void *buf, size_t len, uint64_t off)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	if (ino > UINT32_MAX)
		return -ENOENT;
	mutex_lock(&fs->lock);
	ssize_t rc = ext2_iget(fs, (uint32_t)ino, &ii);
	if (rc == 0) {
		if (S_ISDIR(ii->mode))
			rc = -EISDIR;
		else if (!S_ISREG(ii->mode))
			rc = -EINVAL;
		else
			rc = ext2_file_read(fs, ii, buf, len, off);
		ext2_iput(fs, ii);
	}
	mutex_unlock(&fs->lock);
	return rc;
}

ssize_t ext2_write(struct fs *vfs, uint64_t ino, const void *buf, size_t len, uint64_t off)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	if (ino > UINT32_MAX)
		return -ENOENT;
	mutex_lock(&fs->lock);
	ssize_t rc = ext2_check_writable(fs);
	if (rc == 0)
		rc = ext2_iget(fs, (uint32_t)ino, &ii);
	if (rc == 0) {
		if (S_ISDIR(ii->mode))
			rc = -EISDIR;
		else if (!S_ISREG(ii->mode))
			rc = -EINVAL;
		else
			rc = ext2_file_write(fs, ii, buf, len, off);
		int prc = ext2_iput(fs, ii);
		if (rc >= 0 && prc < 0)
			rc = prc;
	}
	mutex_unlock(&fs->lock);
	return rc;
}
