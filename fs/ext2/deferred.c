/*
 * deferred.c: freeing that waits for a checkpoint (ordered write-back
 * without a journal; the phases are in fs/bcache.h).
 *
 * A block or inode freed by an operation is still pointed at on disk until
 * the change that dropped the pointer (an inode, an indirect block, a
 * directory entry) is written; reusing it before would make two owners
 * after a crash. So ext2_free_block and ext2_free_inode_bit only record
 * the number here, and the bitmap bit is cleared once a checkpoint
 * (bcache_flush) has completed after the record: bcache_checkpoints()
 * went past the value noted with it. Likewise the release of an unlinked
 * inode (truncate, dtime, its own freeing): its directory entry's removal
 * is on disk first, so no entry ever names a deleted inode.
 *
 * ext2_unlock ends every operation that changes the fs: it runs a
 * checkpoint if the cache asks for one (or enough freeing waits), then the
 * records that are due. Guarded by the fs lock.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "ext2.h"

/* Freeing that waits: past this many, the next ext2_unlock checkpoints. */
#define DEFER_CHECKPOINT 4096

int ext2_defer(struct ext2_fs *fs, enum ext2_defer_kind kind, uint32_t num)
{
	EXT2_ASSERT_LOCKED(fs);
	if (fs->ndeferred == fs->deferred_cap) {
		size_t cap = fs->deferred_cap ? 2 * fs->deferred_cap : 256;
		struct ext2_deferred *d = kmalloc(cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		if (fs->ndeferred)
			memcpy(d, fs->deferred, fs->ndeferred * sizeof(*d));
		kfree(fs->deferred);
		fs->deferred = d;
		fs->deferred_cap = cap;
	}
	fs->deferred[fs->ndeferred++] = (struct ext2_deferred){
		.kind = kind, .num = num, .after = bcache_checkpoints(fs->bc),
	};
	return 0;
}

/* Do one record that is due. */
static int run_one(struct ext2_fs *fs, struct ext2_deferred d)
{
	switch (d.kind) {
	case EXT2_DEFER_BLOCK:
		return ext2_release_block_bit(fs, d.num);
	case EXT2_DEFER_INODE:
	case EXT2_DEFER_DIR_INODE:
		return ext2_release_inode_bit(fs, d.num, d.kind == EXT2_DEFER_DIR_INODE);
	case EXT2_DEFER_RELEASE: {
		struct ext2_inode_info *ii = ext2_ifind(fs, d.num);
		return ii ? ext2_iput(fs, ii) : 0;   /* the reference the record held */
	}
	}
	return 0;
}

void ext2_deferred_run(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	uint64_t done = bcache_checkpoints(fs->bc);
	/* Records are in order of their checkpoint: take the due prefix (the
	 * records run_one adds go after it). */
	size_t due = 0;
	while (due < fs->ndeferred && fs->deferred[due].after < done)
		due++;
	if (due == 0)
		return;
	struct ext2_deferred *batch = kmalloc(due * sizeof(*batch));
	if (!batch)
		return;     /* next time */
	memcpy(batch, fs->deferred, due * sizeof(*batch));
	fs->ndeferred -= due;
	memmove(fs->deferred, fs->deferred + due, fs->ndeferred * sizeof(*batch));
	for (size_t i = 0; i < due; i++) {
		int rc = run_one(fs, batch[i]);
		if (rc < 0)
			kprintf("ext2: %s: deferred freeing of %u failed (%d)\n", fs->vfs.dev->name,
			        batch[i].num, rc);
	}
	kfree(batch);
}

int ext2_checkpoint(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	int rc = bcache_flush(fs->bc);
	if (rc == 0)
		ext2_deferred_run(fs);
	return rc;
}

int ext2_deferred_drain(struct ext2_fs *fs)
{
	/* A release defers its own freeing: a few rounds empty the list. */
	int rc = 0;
	for (int round = 0; round < 4 && fs->ndeferred && rc == 0; round++)
		rc = ext2_checkpoint(fs);
	return rc;
}

int ext2_reclaim_deferred(struct ext2_fs *fs)
{
	if (fs->ndeferred == 0 || fs->vfs.read_only)
		return -ENOSPC;
	int rc = ext2_deferred_drain(fs);
	return rc < 0 ? rc : 0;
}

void ext2_unlock(struct ext2_fs *fs)
{
	if (!fs->vfs.read_only) {
		if (bcache_checkpoint_wanted(fs->bc) || fs->ndeferred > DEFER_CHECKPOINT ||
		    (fs->ndeferred && (fs->free_blocks < fs->blocks_count / 16 ||
		                       fs->free_inodes < fs->inodes_count / 16))) {
			if (ext2_checkpoint(fs) < 0)
				kprintf("ext2: %s: checkpoint failed\n", fs->vfs.dev->name);
		} else {
			ext2_deferred_run(fs);
		}
	}
	mutex_unlock(&fs->lock);
}
