/*
 * file.c: reading and writing file contents through the block map and the
 * block cache. Holes read as zeros; a write allocates the blocks it
 * touches (a block written whole, or new, is not read first) and grows the
 * size. Files past 2 GiB set the large_file feature (revision 1 only).
 *
 * Locking: the file's io_lock is held for the whole call, so its size and
 * block map stay put (writers and truncate take it too); the fs lock only
 * while mapping (and allocating) a run of blocks and updating the inode.
 * Data is copied with no fs lock held, so reads and writes of different
 * files proceed in parallel on different CPUs.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "ext2.h"
#include "journal.h"

#define RUN 16      /* blocks mapped per turn of the fs lock */

ssize_t ext2_file_read(struct ext2_fs *fs, struct ext2_inode_info *ii, void *buf,
                       size_t len, uint64_t off)
{
	uint32_t pblk[RUN];
	size_t done = 0;
	int rc = 0;

	ext2_lock(fs);
	uint64_t size = ii->size;
	ext2_unlock(fs);
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	while (done < len && rc == 0) {
		uint64_t first = (off + done) / fs->bsize;
		uint64_t last = (off + len - 1) / fs->bsize;
		unsigned n = last - first + 1 < RUN ? (unsigned)(last - first + 1) : RUN;
		ext2_lock(fs);
		for (unsigned i = 0; i < n && rc == 0;) {
			int got = ext2_bmap_run(fs, ii, first + i, n - i, &pblk[i]);
			if (got < 0)
				rc = got;
			else
				i += (unsigned)got;
		}
		ext2_unlock(fs);
		for (unsigned i = 0; i < n && rc == 0; i++) {
			uint64_t pos = off + done;
			uint32_t boff = (uint32_t)(pos % fs->bsize);
			size_t k = fs->bsize - boff;
			if (k > len - done)
				k = len - done;
			if (!pblk[i]) {
				memset((char *)buf + done, 0, k);
			} else {
				struct buf *b;
				rc = bread(fs->bc, pblk[i], &b);
				if (rc < 0)
					break;
				memcpy((char *)buf + done, b->data + boff, k);
				brelse(b);
			}
			done += k;
		}
	}
	return done ? (ssize_t)done : rc;
}

ssize_t ext2_file_write(struct ext2_fs *fs, struct ext2_inode_info *ii, const void *buf,
                        size_t len, uint64_t off)
{
	uint64_t max = ext2_max_size(fs);
	uint32_t pblk[RUN];
	bool fresh[RUN];
	size_t done = 0;
	int rc = 0;

	if (len == 0)
		return 0;
	if (off >= max)
		return -EFBIG;
	if (len > max - off)
		len = (size_t)(max - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	ext2_lock(fs);
	if (off + len > 0x7fffffffull && !(fs->ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE)) {
		fs->ro_compat |= EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
		st32(&fs->sb->s_feature_ro_compat, fs->ro_compat);
		ext2_sb_dirty(fs);
	}
	ext2_unlock(fs);
	while (done < len && rc == 0) {
		uint64_t first = (off + done) / fs->bsize;
		uint64_t last = (off + len - 1) / fs->bsize;
		unsigned n = last - first + 1 < RUN ? (unsigned)(last - first + 1) : RUN;
		unsigned mapped = 0;
		ext2_lock(fs);
		/* No commit or checkpoint from mapping to the size update. */
		ext2_write_handle_start(fs);
		uint64_t old_size = ii->size;
		rc = ext2_check_writable(fs);
		for (; mapped < n && rc == 0; mapped++)
			rc = ext2_bmap(fs, ii, first + mapped, true, &pblk[mapped], &fresh[mapped]);
		if (rc < 0 && mapped)
			mapped--;       /* the failed one */
		ext2_unlock(fs);
		size_t before = done;
		for (unsigned i = 0; i < mapped; i++) {
			uint64_t pos = off + done;
			uint32_t boff = (uint32_t)(pos % fs->bsize);
			size_t k = fs->bsize - boff;
			if (k > len - done)
				k = len - done;
			/* A whole block is not read first, nor zeroed; the rest of
			 * a new one is zeros; an old one partly written is read. */
			struct buf *b;
			int brc = k == fs->bsize ? bget_overwrite(fs->bc, pblk[i], &b)
			          : fresh[i]     ? bget_zero(fs->bc, pblk[i], &b)
			                         : bread(fs->bc, pblk[i], &b);
			if (brc < 0) {
				rc = brc;
				break;
			}
			memcpy(b->data + boff, (const char *)buf + done, k);
			b->checked = false;
			/* What a commit must write first: a new block's data, and
			 * data the new size will cover (else zeros after a crash). */
			bool ordered = fresh[i] || pos + k > old_size;
			bdirty_owned(b, ordered ? BK_DATA_NEW : BK_DATA, ii->ino);
			brelse(b);
			done += k;
		}
		mutex_lock(&fs->lock);     /* not ext2_lock: no commit while the handle is held */
		if (done > before) {
			if (off + done > ii->size)
				ext2_grow_size(fs, ii, off + done);
			ext2_touch(ii, true, true);
		}
		/* Written even if nothing was copied: mapping changed the map. */
		int wrc = ext2_write_inode(fs, ii);
		ext2_write_handle_stop(fs);
		ext2_unlock(fs);
		if (rc == 0)
			rc = wrc;
	}
	return done ? (ssize_t)done : rc;
}

/* Take a reference on a regular file, for a data call. */
static int get_file(struct ext2_fs *fs, uint64_t ino, bool write, struct ext2_inode_info **out)
{
	if (ino > UINT32_MAX || !ext2_valid_ino(fs, (uint32_t)ino))
		return -ENOENT;
	ext2_lock(fs);
	int rc = write ? ext2_check_writable(fs) : 0;
	if (rc == 0)
		rc = ext2_iget(fs, (uint32_t)ino, out);
	if (rc == 0 && !S_ISREG((*out)->mode)) {
		rc = S_ISDIR((*out)->mode) ? -EISDIR : -EINVAL;
		ext2_iput(fs, *out);
	}
	ext2_unlock(fs);
	return rc;
}

static int put_file(struct ext2_fs *fs, struct ext2_inode_info *ii)
{
	ext2_lock(fs);
	int rc = ext2_iput(fs, ii);
	ext2_unlock(fs);
	return rc;
}

ssize_t ext2_read(struct fs *vfs, uint64_t ino, void *buf, size_t len, uint64_t off)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	ssize_t rc = get_file(fs, ino, false, &ii);
	if (rc < 0)
		return rc;
	mutex_lock(&ii->io_lock);
	rc = ext2_file_read(fs, ii, buf, len, off);
	mutex_unlock(&ii->io_lock);
	put_file(fs, ii);
	return rc;
}

ssize_t ext2_write(struct fs *vfs, uint64_t ino, const void *buf, size_t len, uint64_t off)
{
	struct ext2_fs *fs = EXT2(vfs);
	struct ext2_inode_info *ii;
	ssize_t rc = get_file(fs, ino, true, &ii);
	if (rc < 0)
		return rc;
	mutex_lock(&ii->io_lock);
	rc = ext2_file_write(fs, ii, buf, len, off);
	mutex_unlock(&ii->io_lock);
	int prc = put_file(fs, ii);
	if (rc >= 0 && prc < 0)
		rc = prc;
	return rc;
}
