/*
 * fsync.c: making one file durable without writing the rest of the file
 * system, and the notes that say when that is not enough.
 *
 * Without a journal a checkpoint (bcache_flush) writes every dirty buffer,
 * phase after phase (bcache.h). fsync of a regular file does the same for
 * that file alone, each step made durable (a device flush) before the next:
 *   1. its dirty data and the new blocks of its map (bdirty_owned: new
 *      indirect blocks and the copies that replace changed ones), with
 *      every BK_EARLY metadata buffer (bitmaps, descriptors, superblock,
 *      new blocks nothing on disk points at yet: those may be written at
 *      any time, and the inode may point at some of them);
 *   2. its inode. Only the inode's own slot of its inode-table block
 *      (bcache_write_part): the other inodes there may point at blocks
 *      whose data or indirect blocks are not written;
 *   3. the block its truncation cut, its tail zeroed (after the size).
 * A crash then finds the inode pointing only at blocks on disk, its size
 * covering only written data, as after a checkpoint, while other files'
 * dirty data stays in the cache.
 *
 * The file's name it cannot write alone: a directory block holds other
 * entries, which may name inodes not on disk. So while a name of the file
 * is newer than the last checkpoint (created, linked, unlinked or renamed
 * since: noted by dir.c), or a directory was moved since (every path
 * under it changed), or an attribute changed (a shared attribute block's
 * reference count goes with it), fsync runs the full checkpoint instead.
 * That is the first fsync of a new file, and rare when a file that exists
 * is appended to and fsync'ed (logs, databases), the case worth making
 * cheap. Directories and other types always take the checkpoint.
 *
 * With a journal (ordered mode) metadata is durable once its transaction
 * commits. fsync writes the file's dirty data, then commits the running
 * transaction only if it holds a change of the file that its data or its
 * name needs (size, block map, links, names, attributes: noted by
 * ext2_write_inode and dir.c); timestamps alone do not count (as
 * fdatasync: an overwrite's mtime waits for the next commit), so an
 * overwrite costs its data writes and a device flush.
 *
 * The notes: a table of slots indexed by a hash of the inode number (a
 * collision only costs a needless checkpoint or commit), each the epoch of
 * the last change plus one, the epoch being the checkpoint count (plain)
 * or the running transaction's sequence (journal). A change is durable
 * once the epoch passed it. The table outlives in-core inodes (a file's names do not wait
 * for its inode to stay cached). Guarded by the fs lock.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "blkdev.h"
#include "ext2.h"
#include "journal.h"

static uint64_t epoch(struct ext2_fs *fs)
{
	return ext2_journal_writing(fs) ? fs->journal->tx_seq : bcache_checkpoints(fs->bc);
}

/* ino's slot: hashed, since inode numbers a group's size apart (a
 * directory at the start of each group, the root) would share one. */
static uint64_t *slot_of(struct ext2_fs *fs, uint32_t ino)
{
	return &fs->changed[(ino * 0x9e3779b1u) >> (32 - EXT2_CHANGE_SLOT_BITS)];
}

void ext2_note_change(struct ext2_fs *fs, uint32_t ino)
{
	EXT2_ASSERT_LOCKED(fs);
	*slot_of(fs, ino) = epoch(fs) + 1;
}

void ext2_note_dir_moved(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	fs->dir_moved = epoch(fs) + 1;
}

/* No change noted for ino (or a directory moved) that is not durable. */
static bool settled(struct ext2_fs *fs, uint32_t ino)
{
	uint64_t now = epoch(fs);
	return *slot_of(fs, ino) <= now && fs->dir_moved <= now;
}

/* Step 2's inode: its slot of the inode-table block, over what the disk
 * holds for the others. */
static int write_slot(struct ext2_fs *fs, uint32_t ino)
{
	struct buf *b;
	uint32_t off;
	int rc = ext2_inode_buf(fs, ino, &b, &off);
	if (rc < 0)
		return rc;
	uint64_t blk = b->blockno;
	uint8_t *slot = NULL;
	if (bis_dirty(b)) {
		slot = kmalloc(fs->inode_size);
		if (slot)
			memcpy(slot, b->data + off, fs->inode_size);
		else
			rc = -ENOMEM;
	}
	brelse(b);
	if (slot)
		rc = bcache_write_part(fs->bc, blk, off, slot, fs->inode_size);
	kfree(slot);
	return rc;
}

static int sync_plain(struct ext2_fs *fs, uint32_t ino)
{
	struct blkdev *dev = fs->vfs.dev;
	/* Flushed even if nothing is written here: eviction may have written
	 * the file's data without a flush. */
	long rc = bcache_write_owned(fs->bc, ino, BK_EARLY, true);
	if (rc >= 0)
		rc = blkdev_flush(dev);
	if (rc >= 0)
		rc = write_slot(fs, ino);
	if (rc >= 0)
		rc = blkdev_flush(dev);
	if (rc >= 0)
		rc = bcache_write_owned(fs->bc, ino, BK_LINKS, false);
	if (rc > 0)
		rc = blkdev_flush(dev);
	return rc < 0 ? (int)rc : 0;
}

static int sync_journalled(struct ext2_fs *fs, uint32_t ino)
{
	long rc = bcache_write_owned(fs->bc, ino, BK_EARLY, false);
	if (rc < 0)
		return (int)rc;
	if (!settled(fs, ino))
		return ext2_journal_commit(fs);     /* flushes the device */
	return blkdev_flush(fs->vfs.dev);
}

/* The file ino, in core and written to its buffer, if fsync can take it
 * alone: a regular file with a name whose changes are all durable. */
static struct ext2_inode_info *file_alone(struct ext2_fs *fs, uint64_t ino)
{
	struct ext2_inode_info *ii;
	if (ino > UINT32_MAX || !ext2_valid_ino(fs, (uint32_t)ino) ||
	    ext2_iget(fs, (uint32_t)ino, &ii) < 0)
		return NULL;
	if (S_ISREG(ii->mode) && ii->links > 0 && (!ii->dirty || ext2_write_inode(fs, ii) == 0) &&
	    (ext2_journal_writing(fs) || settled(fs, ii->ino)))
		return ii;
	ext2_iput(fs, ii);
	return NULL;
}

int ext2_fsync(struct fs *vfs, uint64_t ino)
{
	struct ext2_fs *fs = EXT2(vfs);
	ext2_lock(fs);
	int rc = 0;
	if (!fs->vfs.read_only) {
		ext2_sb_update_counts(fs);
		/* No file write between mapping and size update (deferred.c). */
		ext2_wait_writes(fs);
		struct ext2_inode_info *ii = file_alone(fs, ino);
		if (!ii) {
			rc = ext2_checkpoint(fs);
		} else {
			rc = ext2_journal_writing(fs) ? sync_journalled(fs, ii->ino) : sync_plain(fs, ii->ino);
			int prc = ext2_iput(fs, ii);
			rc = rc ? rc : prc;
		}
	}
	ext2_unlock(fs);
	return rc;
}
