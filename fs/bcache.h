/*
 * bcache.h: the block cache between a file system and its block device.
 *
 * One cache per mounted file system, shared by all CPUs, in units of the
 * file system's block size. Lifecycle of a cached block (struct buf):
 *
 *   bread(bc, n)      finds block n in the hash or takes a new buffer (the
 *                     least recently used unreferenced one once the cache
 *                     is at its memory bound), reads it from the device
 *                     (with read-ahead when the misses are sequential) and
 *                     returns it referenced and locked (its sleeping lock).
 *   bget_zero(bc, n)  the same without reading: the caller overwrites it
 *                     (a newly allocated block); contents are zeros.
 *   bdirty(b, meta)   the caller changed b->data; it will be written back
 *                     later. meta: file system metadata (written after data
 *                     on a flush, so a crash never leaves metadata pointing
 *                     at blocks whose contents never reached the disk).
 *                     Clears checked: a caller that knows the block is still
 *                     valid in its own sense sets checked again after.
 *   brelse(b)         unlock and drop the reference. An unreferenced buffer
 *                     stays cached (on the LRU list) until it is evicted.
 *   bunlock / block_buf / bput   keep a reference without the lock (pinned
 *                     buffers such as the superblock), then drop it.
 *   bcache_flush(bc)  writes every dirty buffer (data, a device flush, then
 *                     metadata, then a device flush): fsync, sync, unmount.
 *
 * Dirty buffers are written back by bcache_flush, or by eviction when the
 * cache is full: unreferenced dirty buffers are then written in a batch
 * (sorted, contiguous runs in one request each, several requests in
 * flight). Eviction does not wait for its batch: the next write-back does,
 * so the device writes while the writer fills the buffers freed before. A
 * write that fails leaves its buffers dirty for the next flush. Sequential
 * reads are read ahead asynchronously, a window ahead of the reader.
 * Buffers are never freed while referenced. checked is the file system's own mark ("this block's contents
 * passed validation"), cleared whenever the buffer is (re)filled from disk.
 *
 * Journalling (ext3's JBD2, fs/ext2/journal.c) hooks in here and nowhere
 * else: with a journal attached (bcache_set_journal), bdirty(b, true) does
 * queue b for write-back: join(ctx, b) is called, which, unless
 * b->journaled says b is in the running transaction already, takes a
 * reference on b (bhold) and adds it; b's dirty state is cleared (its last committed
 * contents are in the journal already; the new ones must not reach home
 * before they commit). join may refuse (a transaction too large for the
 * journal): b is then dirty as without a journal. After the commit the
 * journal hands b back with
 * bcache_journal_done: dirty metadata again (the home copy, written back
 * as usual), its reference dropped. A journalled buffer is referenced, so
 * it is never evicted: the journal commits before transactions grow large.
 */
#ifndef FS_BCACHE_H
#define FS_BCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "mutex.h"

struct blkdev;
struct bcache;

struct buf {
	/* Set when the buffer takes its identity; read-only while referenced. */
	uint64_t blockno;
	uint8_t *data;              /* bsize bytes; guarded by lock */
	struct bcache *bc;

	struct mutex lock;          /* the buffer's sleeping lock: data, checked */
	bool checked;               /* file system: contents validated */
	bool journaled;             /* in the running transaction (the journal's, under its fs lock) */

	/* Guarded by the cache's spinlock. */
	int refs;
	bool valid;                 /* data holds the block */
	bool dirty;
	bool meta;
	bool reading;               /* an asynchronous read-ahead fills data */
	bool ra_mark;               /* a hit starts the next read-ahead */
	uint64_t dirty_seq;         /* when it last went from clean to dirty */
	struct list hash_link;
	struct list lru_link;       /* unreferenced buffers, oldest first */
};

/* bcache_create: a cache for dev in blocks of bsize bytes (a multiple of
 * the sector size), using at most about max_bytes for block data. */
struct bcache *bcache_create(struct blkdev *dev, uint32_t bsize, size_t max_bytes);
/* bcache_destroy: free everything; dirty buffers are lost (flush first).
 * No buffer may be referenced. */
void bcache_destroy(struct bcache *bc);

int bread(struct bcache *bc, uint64_t blockno, struct buf **out);
int bget_zero(struct bcache *bc, uint64_t blockno, struct buf **out);
void bdirty(struct buf *b, bool meta);
void brelse(struct buf *b);
void bunlock(struct buf *b);
void block_buf(struct buf *b);
void bput(struct buf *b);

/* bcache_flush: write every buffer dirtied before the call and make it
 * durable (buffers dirtied meanwhile by other threads may wait for the
 * next flush). The caller holds no buffer lock. 0 or -EIO. */
int bcache_flush(struct bcache *bc);

/* bwrite: write b now if dirty, then flush the device. The caller holds a
 * reference but not b's lock (a pinned buffer such as the superblock). */
int bwrite(struct buf *b);

/* bcache_forget: block n was freed; drop its dirty contents if cached and
 * unreferenced (nothing to write back any more). */
void bcache_forget(struct bcache *bc, uint64_t blockno);

/* bcache_flush_data: write every dirty data (non-metadata) buffer and flush
 * the device: ordered journalling, before a commit. 0 or -EIO. */
int bcache_flush_data(struct bcache *bc);

/* Journalling (see above). join is called from bdirty with b locked (or
 * pinned) by the caller and no cache lock held; true: taken. NULL detaches.
 * bhold: another reference on b (the caller holds one). */
typedef bool (*bcache_join_fn)(void *ctx, struct buf *b);
void bhold(struct buf *b);
void bcache_set_journal(struct bcache *bc, bcache_join_fn join, void *ctx);
void bcache_journal_done(struct buf *b);

struct bcache_stats {
	uint64_t hits, misses, readahead, writes, evictions;
	size_t buffers, dirty;
};
void bcache_stats(struct bcache *bc, struct bcache_stats *out);

#endif
