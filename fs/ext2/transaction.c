/*
 * transaction.c: writing ext2 metadata through the JBD2 journal, ordered
 * mode (journal.h). One running transaction at a time:
 *
 *   join      bdirty_kind(b, k) of a metadata kind (bcache.h's
 *             journalling: bitmaps, descriptors, superblock, inode tables,
 *             directory, indirect and attribute blocks) hands b here: b is
 *             held in the transaction and not written home.
 *   commit    at a quiet point (fs lock held, no file write between
 *             mapping and size update): every dirty data block that the
 *             transaction may point at (BK_DATA_NEW: in a block allocated
 *             for it; an overwrite needs no ordering) to disk first, then
 *             descriptor blocks with copies of the transaction's blocks
 *             and revoke blocks, one device flush for both, the commit
 *             block, a flush; then the blocks go home by ordinary write-back
 *             (at once at a sync: ext2_journal_sync).
 *             Triggered by sync, unmount, fsync of a file the transaction
 *             changed (fsync.c), and the commit thread: on a timer (a
 *             transaction older than the interval) and when a transaction
 *             grows large. The log carries the checksums the journal
 *             superblock asks for (none, v1, v2 or v3) as Linux writes
 *             them, so that e2fsck and Linux replay it.
 *   checkpoint  once the log is half used, right after a commit (no
 *             transaction running, so every journalled block's latest
 *             contents are committed): write every dirty block home, then
 *             mark the log empty and start again at its first block.
 *
 * The log never wraps: a checkpoint resets it, and a transaction may use
 * at most what is left. Revokes: a freed block that the log holds a copy
 * of gets a revoke record, so replay never writes it over its next user.
 *
 * Freeing (deferred.c) happens in the transaction of the operation that
 * freed (the bitmap with the pointer's removal, atomically), before each
 * commit at the latest. A block freed in the running transaction is busy
 * until it commits: the disk's committed state still points at it, so the
 * allocator leaves it alone (file data written there before the commit
 * would land in a file a crash brings back) unless nothing else is free.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "ext2.h"
#include "hal.h"
#include "jbd2.h"
#include "journal.h"
#include "thread.h"

#define STAGE_BLOCKS 64             /* log blocks written per request at most */
#define TICK_NS 500000000ull        /* the commit thread looks this often */
#define NO_BLOCK UINT32_MAX         /* a free slot of the logged set */

/* ---- The set of blocks the log (or the running transaction) holds ------- */

static uint32_t *logged_slot(struct ext2_journal *j, uint32_t blk)
{
	uint32_t mask = j->logged_cap - 1;
	uint32_t i = (uint32_t)((blk * 0x9e3779b97f4a7c15ull) >> 32) & mask;
	while (j->logged[i] != NO_BLOCK && j->logged[i] != blk)
		i = (i + 1) & mask;
	return &j->logged[i];
}

static void logged_add(struct ext2_journal *j, uint32_t blk)
{
	uint32_t *slot = logged_slot(j, blk);
	if (*slot == NO_BLOCK) {
		*slot = blk;
		j->nlogged++;
	}
}

static void logged_clear(struct ext2_journal *j)
{
	memset(j->logged, 0xff, j->logged_cap * sizeof(*j->logged));
	j->nlogged = 0;
}

/* ---- Space ---------------------------------------------------------------- */

/* Descriptor and revoke blocks end with a checksum with csum v2/v3. */
static uint32_t tail_bytes(struct ext2_journal *j)
{
	return j->csum ? sizeof(struct jbd2_tail) : 0;
}

static uint32_t tags_per_desc(struct ext2_journal *j)
{
	/* The first tag carries the 16-byte uuid. */
	return (j->fs->bsize - sizeof(struct jbd2_header) - 16 - tail_bytes(j)) / j->tag_bytes;
}

static uint32_t revokes_per_block(struct ext2_journal *j)
{
	uint32_t rec = (j->incompat & JBD2_INCOMPAT_64BIT) ? 8 : 4;
	return (j->fs->bsize - sizeof(struct jbd2_revoke_header) - tail_bytes(j)) / rec;
}

/* Log blocks a transaction of ntx blocks and nrev revokes takes. */
static uint32_t log_need(struct ext2_journal *j, uint32_t ntx, uint32_t nrev)
{
	uint32_t per = tags_per_desc(j), rper = revokes_per_block(j);
	return (ntx + per - 1) / per + ntx + (nrev + rper - 1) / rper + 1;
}

static bool fits(struct ext2_journal *j, uint32_t ntx, uint32_t nrev)
{
	return j->head + log_need(j, ntx, nrev) <= j->maxlen;
}

static void wake_thread(struct ext2_journal *j)
{
	spin_lock(&j->wq.lock);
	j->due = true;
	waitq_wake_all_locked(&j->wq);
	spin_unlock(&j->wq.lock);
}

static void overflow(struct ext2_journal *j)
{
	if (!j->overflowed)
		kprintf("ext2: %s: a transaction outgrew the journal; some changes are written "
		        "without it\n", j->fs->vfs.dev->name);
	j->overflowed = true;
	wake_thread(j);
}

/* ---- Joining -------------------------------------------------------------- */

static bool join(void *ctx, struct buf *b)
{
	struct ext2_journal *j = ctx;
	EXT2_ASSERT_LOCKED(j->fs);
	/* Freed and taken again as metadata in this transaction: its revoke
	 * would skip this transaction's copy too (a revoke covers its own
	 * transaction), so it goes. Only a block freed in it (busy) can have
	 * one: the check keeps the search off every other join. */
	if (ext2_journal_block_busy(j->fs, (uint32_t)b->blockno))
		for (uint32_t i = 0; i < j->nrev; i++)
			if (j->revokes[i] == b->blockno)
				j->revokes[i--] = j->revokes[--j->nrev];
	if (b->journaled)
		return true;
	if (j->ntx == j->tx_cap || !fits(j, j->ntx + 1, j->nrev)) {
		overflow(j);
		return false;
	}
	bhold(b);
	b->journaled = true;
	j->tx[j->ntx++] = b;
	logged_add(j, (uint32_t)b->blockno);
	if (j->ntx == 1)
		j->tx_start_ns = hal_clock_ns();
	if (j->ntx == j->tx_limit)
		wake_thread(j);
	return true;
}

/* ---- Freed blocks --------------------------------------------------------- */

/* Where blk is in the busy bitmaps: its group, and its bit there. */
static uint32_t busy_place(struct ext2_fs *fs, uint32_t blk, uint32_t *bit)
{
	uint32_t g = (blk - fs->first_data_block) / fs->blocks_per_group;
	*bit = blk - ext2_group_first_block(fs, g);
	return g;
}

int ext2_journal_block_freed(struct ext2_fs *fs, uint32_t blk)
{
	struct ext2_journal *j = fs->journal;
	if (!j || !j->writing)
		return 0;
	uint32_t bit, g = busy_place(fs, blk, &bit);
	if (!j->busy[g]) {
		j->busy[g] = kzalloc(fs->blocks_per_group / 8 + 1);
		if (!j->busy[g])
			return -ENOMEM;
	}
	if (!(j->busy[g][bit >> 3] & (1u << (bit & 7)))) {
		j->busy[g][bit >> 3] |= (uint8_t)(1u << (bit & 7));
		j->nbusy++;
	}
	if (*logged_slot(j, blk) != blk)
		return 0;
	if (j->nrev == j->rev_cap || !fits(j, j->ntx, j->nrev + 1))
		overflow(j);
	else
		j->revokes[j->nrev++] = blk;
	return 0;
}

bool ext2_journal_writing(struct ext2_fs *fs)
{
	return fs->journal && fs->journal->writing;
}

bool ext2_journal_block_busy(struct ext2_fs *fs, uint32_t blk)
{
	struct ext2_journal *j = fs->journal;
	if (!j || !j->writing || j->nbusy == 0 || blk < fs->first_data_block)
		return false;
	uint32_t bit, g = busy_place(fs, blk, &bit);
	return j->busy[g] && (j->busy[g][bit >> 3] & (1u << (bit & 7)));
}

/* The transaction that freed them committed: they may be reused. */
static void busy_clear(struct ext2_journal *j)
{
	for (uint32_t g = 0; g < j->fs->ngroups && j->nbusy; g++) {
		kfree(j->busy[g]);
		j->busy[g] = NULL;
	}
	j->nbusy = 0;
}

/* ---- Writing the log ------------------------------------------------------ */

struct log_writer {
	struct ext2_journal *j;
	uint8_t *stage;
	uint32_t pos;               /* log block of stage's first block */
	uint32_t n;                 /* blocks staged */
	uint32_t crc;               /* checksum v1: crc32_be of the descriptors and copies */
};

/* Write the staged blocks, one request per physically contiguous run. */
static int lw_flush(struct log_writer *w)
{
	struct ext2_journal *j = w->j;
	uint32_t bsize = j->fs->bsize, spb = bsize / j->fs->vfs.dev->sector_size;
	int rc = 0;
	for (uint32_t i = 0; i < w->n && rc == 0;) {
		uint32_t run = 1;
		while (i + run < w->n && j->map[w->pos + i + run] == j->map[w->pos + i] + run)
			run++;
		rc = blkdev_write(j->fs->vfs.dev, (uint64_t)j->map[w->pos + i] * spb,
		                  w->stage + (size_t)i * bsize, run * spb);
		i += run;
	}
	w->pos += w->n;
	j->log_blocks += w->n;
	w->n = 0;
	return rc;
}

/* The next log block, to be filled by the caller (zeroed). */
static int lw_next(struct log_writer *w, uint8_t **out)
{
	int rc = 0;
	if (w->n == STAGE_BLOCKS)
		rc = lw_flush(w);
	*out = w->stage + (size_t)w->n++ * w->j->fs->bsize;
	memset(*out, 0, w->j->fs->bsize);
	return rc;
}

static void header(void *block, uint32_t type, uint32_t seq)
{
	struct jbd2_header *h = block;
	stb32(&h->h_magic, JBD2_MAGIC);
	stb32(&h->h_blocktype, type);
	stb32(&h->h_sequence, seq);
}

/* A tag in the journal's format (jbd2.h); the high half of a 64bit
 * block number stays 0. csum: the copy's checksum (csum v2/v3). */
static void put_tag(struct ext2_journal *j, uint8_t *p, uint32_t blk, uint32_t flags,
                    uint32_t csum)
{
	if (j->incompat & JBD2_INCOMPAT_CSUM_V3) {
		struct jbd2_tag3 *t = (struct jbd2_tag3 *)p;
		stb32(&t->t_blocknr, blk);
		stb32(&t->t_flags, flags);
		stb32(&t->t_checksum, csum);
		return;
	}
	struct jbd2_tag *t = (struct jbd2_tag *)p;
	stb32(&t->t_blocknr, blk);
	stb16(&t->t_flags, (uint16_t)flags);
	if (j->incompat & JBD2_INCOMPAT_CSUM_V2)
		stb16(&t->t_checksum, (uint16_t)csum);
}

/* A descriptor or revoke block is complete: its tail checksum (v2/v3). */
static void seal_tail(struct ext2_journal *j, uint8_t *block)
{
	if (!j->csum)
		return;
	size_t off = j->fs->bsize - sizeof(struct jbd2_tail);
	stb32(&((struct jbd2_tail *)(block + off))->t_checksum,
	      ext2_journal_block_csum(j, block, off));
}

/* A descriptor or a copy is complete: fold it into the v1 checksum. */
static void sum_v1(struct log_writer *w, const uint8_t *block)
{
	if (w->j->compat & JBD2_COMPAT_CHECKSUM)
		w->crc = jbd2_crc32_be(w->crc, block, w->j->fs->bsize);
}

/* Descriptors, each followed by the copies of its blocks. */
static int write_blocks(struct log_writer *w)
{
	struct ext2_journal *j = w->j;
	uint32_t bsize = j->fs->bsize, per = tags_per_desc(j);
	int rc = 0;
	for (uint32_t i = 0; i < j->ntx && rc == 0; i += per) {
		uint32_t n = j->ntx - i < per ? j->ntx - i : per;
		uint8_t *desc;
		rc = lw_next(w, &desc);
		header(desc, JBD2_DESCRIPTOR_BLOCK, j->tx_seq);
		size_t off = sizeof(struct jbd2_header);
		/* The descriptor is complete before its copies are staged: a
		 * full stage may be written out in between. */
		for (uint32_t k = 0; k < n; k++) {
			const struct buf *b = j->tx[i + k];
			be32 first;
			memcpy(&first, b->data, sizeof(first));
			bool escape = ldb32(first) == JBD2_MAGIC;
			uint32_t flags = (k ? JBD2_FLAG_SAME_UUID : 0) |
			                 (k == n - 1 ? JBD2_FLAG_LAST_TAG : 0) |
			                 (escape ? JBD2_FLAG_ESCAPE : 0);
			uint32_t csum = j->csum ?
			                ext2_journal_copy_csum(j, j->tx_seq, b->data, escape) : 0;
			put_tag(j, desc + off, (uint32_t)b->blockno, flags, csum);
			off += j->tag_bytes;
			if (k == 0) {
				memcpy(desc + off, ((struct jbd2_super *)j->jsb)->s_uuid, 16);
				off += 16;
			}
		}
		seal_tail(j, desc);
		sum_v1(w, desc);
		for (uint32_t k = 0; k < n && rc == 0; k++) {
			const struct buf *b = j->tx[i + k];
			uint8_t *copy;
			rc = lw_next(w, &copy);
			memcpy(copy, b->data, bsize);
			be32 first;
			memcpy(&first, copy, sizeof(first));
			if (ldb32(first) == JBD2_MAGIC)
				memset(copy, 0, sizeof(first));     /* escaped: replay restores it */
			sum_v1(w, copy);
		}
	}
	return rc;
}

static int write_revokes(struct log_writer *w)
{
	struct ext2_journal *j = w->j;
	uint32_t per = revokes_per_block(j);
	bool wide = j->incompat & JBD2_INCOMPAT_64BIT;
	int rc = 0;
	for (uint32_t i = 0; i < j->nrev && rc == 0; i += per) {
		uint32_t n = j->nrev - i < per ? j->nrev - i : per;
		uint8_t *blk;
		rc = lw_next(w, &blk);
		header(blk, JBD2_REVOKE_BLOCK, j->tx_seq);
		be32 *rec = (be32 *)(blk + sizeof(struct jbd2_revoke_header));
		for (uint32_t k = 0; k < n; k++) {
			if (wide)
				rec++;      /* high half 0 */
			stb32(rec++, j->revokes[i + k]);
		}
		stb32(&((struct jbd2_revoke_header *)blk)->r_count,
		      (uint32_t)((uint8_t *)rec - blk));
		seal_tail(j, blk);
	}
	return rc;
}

/* The commit block, after the transaction's other blocks. */
static void fill_commit(struct log_writer *w, uint8_t *cb)
{
	struct ext2_journal *j = w->j;
	struct jbd2_commit *c = (struct jbd2_commit *)cb;
	header(cb, JBD2_COMMIT_BLOCK, j->tx_seq);
	stb32(&c->h_commit_sec_lo, ext2_now());
	if (j->csum) {
		size_t off = offsetof(struct jbd2_commit, h_chksum);
		stb32(&c->h_chksum[0], ext2_journal_block_csum(j, cb, off));
	} else if (j->compat & JBD2_COMPAT_CHECKSUM) {
		c->h_chksum_type = JBD2_CRC32_CHKSUM;
		c->h_chksum_size = JBD2_CRC32_CHKSUM_SIZE;
		stb32(&c->h_chksum[0], w->crc);
	}
}

/* Write the journal superblock (log start and sequence) now. */
static int write_jsb(struct ext2_journal *j)
{
	struct jbd2_super *sb = (struct jbd2_super *)j->jsb;
	stb32(&sb->s_start, j->start);
	stb32(&sb->s_sequence, j->sequence);
	ext2_journal_super_seal(j, sb);
	uint32_t spb = j->fs->bsize / j->fs->vfs.dev->sector_size;
	return blkdev_write(j->fs->vfs.dev, (uint64_t)j->map[0] * spb, j->jsb, spb);
}

/* ---- Commit and checkpoint ------------------------------------------------ */

/* Every home block written, then the log empty: only with no transaction
 * running (right after a commit), when every journalled block is dirty with
 * its committed contents. */
static int checkpoint(struct ext2_journal *j)
{
	int rc = bcache_flush(j->fs->bc);
	if (rc < 0)
		return rc;
	j->start = 0;
	j->sequence = j->tx_seq;
	rc = write_jsb(j);
	if (rc == 0)
		rc = blkdev_flush(j->fs->vfs.dev);
	if (rc == 0) {
		j->head = j->first;
		logged_clear(j);
		j->checkpoints++;
	}
	return rc;
}

static int commit_locked(struct ext2_journal *j)
{
	struct ext2_fs *fs = j->fs;
	/* Ordered: data before what points at it, made durable by the flush
	 * before the commit block. */
	long wrote = bcache_write_data(fs->bc);
	if (wrote < 0)
		return (int)wrote;
	/* Blocks that became data after joining are not journalled. */
	uint32_t kept = 0;
	for (uint32_t i = 0; i < j->ntx; i++) {
		if (!bkind_is_data(j->tx[i]->kind))
			j->tx[kept++] = j->tx[i];
		else
			bcache_journal_done(j->tx[i]);
	}
	j->ntx = kept;
	if (j->ntx == 0 && j->nrev == 0) {
		busy_clear(j);
		return wrote > 0 ? blkdev_flush(fs->vfs.dev) : 0;     /* the data, durable */
	}

	struct log_writer w = { .j = j, .pos = j->head, .crc = ~0u };
	w.stage = kmalloc_aligned((size_t)STAGE_BLOCKS * fs->bsize, PAGE_SIZE);
	if (!w.stage)
		return -ENOMEM;
	int rc = write_blocks(&w);
	if (rc == 0)
		rc = write_revokes(&w);
	if (rc == 0)
		rc = lw_flush(&w);
	if (rc == 0 && j->start == 0) {
		j->start = j->head;
		j->sequence = j->tx_seq;
		rc = write_jsb(j);
	}
	if (rc == 0)
		rc = blkdev_flush(fs->vfs.dev);
	if (rc == 0) {
		uint8_t *cb;
		rc = lw_next(&w, &cb);
		fill_commit(&w, cb);
		if (rc == 0)
			rc = lw_flush(&w);
	}
	if (rc == 0)
		rc = blkdev_flush(fs->vfs.dev);
	kfree(w.stage);
	if (rc < 0)
		return rc;      /* not committed: the transaction stays, for the next try */

	j->head = w.pos;
	j->commits++;
	for (uint32_t i = 0; i < j->ntx; i++)
		bcache_journal_done(j->tx[i]);
	j->ntx = j->nrev = 0;
	busy_clear(j);
	j->tx_seq++;
	if (j->maxlen - j->head < (j->maxlen - j->first) / 2)
		rc = checkpoint(j);
	return rc;
}

int ext2_journal_commit(struct ext2_fs *fs)
{
	EXT2_ASSERT_LOCKED(fs);
	struct ext2_journal *j = fs->journal;
	ext2_wait_writes(fs);
	if (!j || !j->writing)
		return bcache_flush(fs->bc);
	ext2_deferred_run(fs);      /* finished operations' freeing belongs in it */
	uint64_t t0 = hal_clock_ns();
	int rc = commit_locked(j);
	j->commit_ns += hal_clock_ns() - t0;
	if (rc < 0)
		kprintf("ext2: %s: journal commit failed (%d)\n", fs->vfs.dev->name, rc);
	return rc;
}

int ext2_journal_sync(struct ext2_fs *fs)
{
	int rc = ext2_journal_commit(fs);
	if (rc < 0)
		return rc;
	long wrote = bcache_write_dirty(fs->bc);
	return wrote < 0 ? (int)wrote : 0;
}

/* ---- When to commit ------------------------------------------------------- */

static bool commit_needed(struct ext2_journal *j)
{
	if (j->ntx == 0 && j->nrev == 0)
		return false;
	/* Blocks busy until the commit are most of what is free. */
	bool short_of_space = j->nbusy && j->nbusy + j->fs->blocks_count / 16 > j->fs->free_blocks;
	return hal_clock_ns() - j->tx_start_ns >= j->interval_ns || j->ntx >= j->tx_limit ||
	       j->nrev >= j->tx_limit || short_of_space ||
	       j->overflowed || !fits(j, 2 * j->ntx, 2 * j->nrev);
}

/* Commit a transaction that commit_needed found due, counting why: its
 * age (the timer) or its size (or the space it holds). */
static void commit_due(struct ext2_journal *j)
{
	bool old = hal_clock_ns() - j->tx_start_ns >= j->interval_ns;
	uint64_t before = j->commits;
	ext2_journal_commit(j->fs);
	if (j->commits != before)
		(*(old ? &j->commits_timer : &j->commits_full))++;
	j->overflowed = false;
}

/* The commit thread may wait long for the fs lock (the mutex does not hand
 * over), so an operation that finds the transaction due commits it, after
 * the file writes in flight end their handles (ext2_wait_writes). The caller holds no handle
 * and no buffer lock. */
void ext2_lock(struct ext2_fs *fs)
{
	mutex_lock(&fs->lock);
	struct ext2_journal *j = fs->journal;
	if (j && j->writing && commit_needed(j))
		commit_due(j);
}

/* The timer: a transaction older than the interval commits even when the
 * file system is idle. */
static int commit_thread(void *arg)
{
	struct ext2_journal *j = arg;
	struct ext2_fs *fs = j->fs;
	for (;;) {
		spin_lock(&j->wq.lock);
		if (!j->stop && !j->due)
			waitq_wait_locked(&j->wq, hal_clock_ns() + TICK_NS);
		bool stop = j->stop;
		j->due = false;
		spin_unlock(&j->wq.lock);
		if (stop)
			return 0;
		mutex_lock(&fs->lock);
		if (j->writing && commit_needed(j))
			commit_due(j);
		mutex_unlock(&fs->lock);
	}
}

/* ---- Start and stop ------------------------------------------------------- */

static void free_writer(struct ext2_journal *j)
{
	kfree(j->jsb);
	kfree(j->tx);
	kfree(j->revokes);
	kfree(j->logged);
	if (j->busy)
		busy_clear(j);
	kfree(j->busy);
	j->busy = NULL;
	j->jsb = NULL;
	j->tx = NULL;
	j->revokes = NULL;
	j->logged = NULL;
}

int ext2_journal_start(struct ext2_fs *fs, uint32_t interval_ms)
{
	struct ext2_journal *j = fs->journal;
	uint32_t loglen = j->maxlen - j->first;
	j->tx_cap = loglen / 2;
	j->rev_cap = loglen;
	j->logged_cap = 1;
	while (j->logged_cap < 4 * j->maxlen)
		j->logged_cap <<= 1;
	j->jsb = kmalloc_aligned(fs->bsize, PAGE_SIZE);
	j->tx = kmalloc(j->tx_cap * sizeof(*j->tx));
	j->revokes = kmalloc(j->rev_cap * sizeof(*j->revokes));
	j->logged = kmalloc(j->logged_cap * sizeof(*j->logged));
	j->busy = kzalloc(fs->ngroups * sizeof(*j->busy));
	j->nbusy = 0;
	if (!j->jsb || !j->tx || !j->revokes || !j->logged || !j->busy) {
		free_writer(j);
		return -ENOMEM;
	}
	uint32_t spb = fs->bsize / fs->vfs.dev->sector_size;
	int rc = blkdev_read(fs->vfs.dev, (uint64_t)j->map[0] * spb, j->jsb, spb);
	if (rc == 0) {
		/* Revoke records need the feature set before the first one. */
		struct jbd2_super *sb = (struct jbd2_super *)j->jsb;
		j->incompat |= JBD2_INCOMPAT_REVOKE;
		stb32(&sb->s_feature_incompat, j->incompat);
		j->start = 0;
		rc = write_jsb(j);
	}
	if (rc == 0)
		rc = blkdev_flush(fs->vfs.dev);
	if (rc < 0) {
		free_writer(j);
		return rc;
	}
	logged_clear(j);
	j->head = j->first;
	j->tx_seq = j->sequence;
	j->tx_limit = loglen / 4;
	j->interval_ns = (uint64_t)interval_ms * 1000000;
	j->ntx = j->nrev = 0;
	waitq_init(&j->wq, "ext2.commit");
	j->stop = j->due = false;
	j->thread = thread_create(0, commit_thread, j, 0);
	if (!j->thread) {
		free_writer(j);
		return -ENOMEM;
	}
	j->writing = true;
	bcache_set_journal(fs->bc, join, j);
	return 0;
}

int ext2_journal_stop(struct ext2_fs *fs)
{
	struct ext2_journal *j = fs->journal;
	if (!j || !j->writing)
		return 0;
	spin_lock(&j->wq.lock);
	j->stop = true;
	waitq_wake_all_locked(&j->wq);
	spin_unlock(&j->wq.lock);
	thread_join(j->thread);
	j->thread = NULL;
	mutex_lock(&fs->lock);
	int rc = ext2_journal_commit(fs);
	if (rc == 0)
		rc = checkpoint(j);
	/* A failed commit leaves blocks held: written home without the journal. */
	bcache_set_journal(fs->bc, NULL, NULL);
	for (uint32_t i = 0; i < j->ntx; i++)
		bcache_journal_done(j->tx[i]);
	j->ntx = 0;
	j->writing = false;
	mutex_unlock(&fs->lock);
	free_writer(j);
	return rc;
}
