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
 *
 * With a journal (transaction.c) the freeing must instead be in the same
 * transaction as the change that dropped the pointer (else a crash between
 * the two commits leaks the block or leaves a deleted inode behind), so
 * every record is due at once: at the end of the operation and before any
 * commit. The journal itself keeps a freed block from reuse until the
 * commit (ext2_journal_block_busy), and a checkpoint is a commit.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "ext2.h"
#include "journal.h"
#include "thread.h"

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

/* Run the due records once; false if there were none (or no memory). */
static bool run_due(struct ext2_fs *fs)
{
	uint64_t done = bcache_checkpoints(fs->bc);
	/* Records are in order of their checkpoint: take the due prefix (the
	 * records run_one adds go after it). */
	size_t due = 0;
	while (due < fs->ndeferred && (ext2_journal_writing(fs) || fs->deferred[due].after < done))
		due++;
	if (due == 0)
		return false;
	struct ext2_deferred *batch = kmalloc(due * sizeof(*batch));
	if (!batch)
		return false;     /* next time */
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
	return true;
}

void ext2_deferred_run(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	/* A release defers its own freeing: with a journal, that is due too. */
	for (int round = 0; round < 4 && run_due(fs) && ext2_journal_writing(fs); round++)
		;
}

void ext2_write_handle_start(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	while (fs->quiesce_wanted) {
		mutex_unlock(&fs->lock);
		thread_sleep_ms(1);
		mutex_lock(&fs->lock);
	}
	fs->write_handles++;
}

void ext2_write_handle_stop(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	fs->write_handles--;
}

void ext2_wait_writes(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	while (fs->write_handles > 0) {
		fs->quiesce_wanted = true;
		mutex_unlock(&fs->lock);
		thread_sleep_ms(1);
		mutex_lock(&fs->lock);
	}
	fs->quiesce_wanted = false;
}

/* A plain image's checkpoint; the caller made sure no file write is
 * between mapping and size update, or must not wait for it. */
static int flush_and_run(struct ext2_fs *fs)
{
	int rc = bcache_flush(fs->bc);
	if (rc == 0)
		ext2_deferred_run(fs);
	return rc;
}

/* The same from inside an operation, which may hold buffers locked. */
static int flush_within_and_run(struct ext2_fs *fs)
{
	int rc = bcache_flush_within(fs->bc);
	if (rc == 0)
		ext2_deferred_run(fs);
	return rc;
}

int ext2_checkpoint(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	if (ext2_journal_writing(fs))
		return ext2_journal_sync(fs);     /* runs the records first */
	ext2_wait_writes(fs);
	return flush_and_run(fs);
}

static int drain(struct ext2_fs *fs, int (*checkpoint)(struct ext2_fs *))
{
	/* A release defers its own freeing: a few rounds empty the list. */
	int rc = 0;
	for (int round = 0; round < 4 && fs->ndeferred && rc == 0; round++)
		rc = checkpoint(fs);
	return rc;
}

int ext2_deferred_drain(struct ext2_fs *fs)
{
	return drain(fs, ext2_checkpoint);
}

int ext2_reclaim_deferred(struct ext2_fs *fs)
{
	if (fs->ndeferred == 0 || fs->vfs.read_only)
		return -ENOSPC;
	if (ext2_journal_writing(fs)) {
		/* No commit in the middle of an operation: its freeing joins the
		 * running transaction now (busy blocks are a last resort). */
		ext2_deferred_run(fs);
		return 0;
	}
	/* The allocator may run inside the caller's own write handle: no wait
	 * for handles. So near a full disk, a crash may leave a pointer to a
	 * new block whose data had not landed (it holds what it held before).
	 * A buffer the caller holds stops the checkpoint (-EBUSY): then the
	 * deferred blocks wait for the next one and the caller finds the disk
	 * full. */
	int rc = drain(fs, flush_within_and_run);
	return rc < 0 && rc != -EBUSY ? rc : 0;
}

void ext2_unlock(struct ext2_fs *fs)
{
	/* With a journal, never a commit here: a file write may hold a handle
	 * (ext2_lock and the commit thread commit). */
	if (ext2_journal_writing(fs)) {
		ext2_deferred_run(fs);
	} else if (!fs->vfs.read_only) {
		bool due = bcache_checkpoint_wanted(fs->bc) || fs->ndeferred > DEFER_CHECKPOINT ||
		           (fs->ndeferred && (fs->free_blocks < fs->blocks_count / 16 ||
		                              fs->free_inodes < fs->inodes_count / 16));
		if (due && fs->write_handles > 0) {
			/* Maybe our own handle: the last one's unlock runs it. */
			fs->quiesce_wanted = true;
		} else if (due || fs->quiesce_wanted) {
			if (ext2_checkpoint(fs) < 0)
				kprintf("ext2: %s: checkpoint failed\n", fs->vfs.dev->name);
		} else {
			ext2_deferred_run(fs);
		}
	}
	mutex_unlock(&fs->lock);
}
