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
 *   bget_overwrite(bc, n)  the same, contents left as they are (stale or
 *                     garbage): the caller overwrites every byte before it
 *                     unlocks the buffer (a whole block of a file write).
 *   bdirty_kind(b, k) the caller changed b->data; it will be written back
 *                     later, in write-back phase k (below). Clears checked:
 *                     a caller that knows the block is still valid in its
 *                     own sense sets checked again after.
 *   bdirty(b, meta)   bdirty_kind with BK_LINKS (meta) or BK_DATA.
 *   bdirty_owned(b, k, owner)  the same, naming who changed it (ext2: the
 *                     inode whose data or block map it is), so that one
 *                     file's blocks can be written without the others'
 *                     (bcache_write_owned: fsync). 0: none; a buffer dirty
 *                     again with owner 0 keeps the owner it had.
 *   brelse(b)         unlock and drop the reference. An unreferenced buffer
 *                     stays cached (on the LRU list) until it is evicted.
 *   bunlock / block_buf / bput   keep a reference without the lock (pinned
 *                     buffers such as the superblock), then drop it.
 *   bcache_flush(bc)  a checkpoint: writes every dirty buffer, phase by
 *                     phase (below): sync, unmount, an fsync that cannot
 *                     write its file alone (bcache_write_owned), and
 *                     whenever bcache_checkpoint_wanted says the cache
 *                     needs it.
 *
 * ORDERED WRITE-BACK (crash consistency without a journal). Each dirty
 * buffer carries the phase it must be written in (enum bkind); a checkpoint
 * writes phase after phase, and a phase is on disk (written, then a device
 * flush) before the next one starts:
 *   BK_EARLY  blocks that may reach the disk at any time, since nothing on
 *             disk that is in use depends on their contents yet: file data
 *             (BK_DATA, written in this phase; a kind of its own so that a
 *             journal tells it from metadata; BK_DATA_NEW for data an
 *             ordered commit must write first: in a block allocated for
 *             it, or past the file's old size), metadata blocks allocated
 *             since the last checkpoint (a new indirect
 *             block: nothing on disk points to it), bitmaps, group
 *             descriptors and the superblock (counts; a bit set early only
 *             leaks a block until e2fsck).
 *   BK_INODE  inode tables: an inode then points only at blocks on disk,
 *             and its size covers only data on disk. (An indirect block on
 *             disk that would gain or lose a pointer is copied instead,
 *             the copy BK_EARLY: its pointers and the size that covers
 *             them then reach the disk in the inode's one write;
 *             fs/ext2/inode.c.)
 *   BK_LINKS  blocks that name others and are already reachable:
 *             directory blocks (an entry names an inode already on disk);
 *             and the block a truncation cut, its tail zeroed (after the
 *             smaller size, or a crash shows zeros inside the file).
 * A buffer dirtied twice keeps the earlier of its two phases until written
 * (a new indirect block stays BK_EARLY while it is unreachable on disk),
 * and metadata wins over data within a phase, new data over old; dirtied
 * as file data it takes the data kind whatever it was (the block was freed
 * and reused).
 * Eviction under memory pressure writes only BK_EARLY buffers; when it
 * finds none, the cache grows past its bound and bcache_checkpoint_wanted
 * turns true until the next flush: the file system runs one as soon as its
 * metadata is consistent (at the end of an operation, under its lock).
 * What the cache cannot order, the file system does (fs/ext2/deferred.c):
 * a freed block or inode is released only after a checkpoint made its
 * unlinking durable (bcache_checkpoints counts them), so it is never reused
 * while the disk still points at it; and a directory block that becomes
 * reachable starts its write at once (bwrite_new), a copy taken before any
 * entry is made in it, so that the entries are a later write of their own.
 * A journal (below) orders by itself: the phases then only tell metadata
 * from data.
 *
 * Dirty buffers are written back by bcache_flush, or by eviction when the
 * cache is full: unreferenced dirty BK_EARLY buffers are then written in a batch
 * (sorted, contiguous runs in one request each, several requests in
 * flight). Eviction does not wait for its batch: the next write-back does,
 * so the device writes while the writer fills the buffers freed before. A
 * write that fails leaves its buffers dirty for the next flush. Sequential
 * reads are read ahead asynchronously, a window ahead of the reader.
 * Buffers are never freed while referenced. checked is the file system's own mark ("this block's contents
 * passed validation"), cleared whenever the buffer is (re)filled from disk.
 *
 * Journalling (ext3's JBD2, fs/ext2/journal.c) hooks in here and nowhere
 * else: with a journal attached (bcache_set_journal), bdirty_kind(b, k) of
 * any metadata kind (every k but BK_DATA and BK_DATA_NEW) does not queue b
 * for write-back: join(ctx, b) is called, which, unless
 * b->journaled says b is in the running transaction already, takes a
 * reference on b (bhold) and adds it; b's dirty state is cleared (its last committed
 * contents are in the journal already; the new ones must not reach home
 * before they commit). join may refuse (a transaction too large for the
 * journal): b is then dirty as without a journal. After the commit the
 * journal hands b back with
 * bcache_journal_done: dirty metadata again (the home copy, written back
 * as usual), its reference dropped. A journalled buffer is referenced, so
 * it is never evicted: the journal commits before transactions grow large.
 * Every other dirty buffer (file data, committed metadata going home) may
 * then be written at any time: eviction takes any phase, and bwrite_new
 * only joins b to the transaction.
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

/* Write-back phases, in the order a checkpoint writes them (see above);
 * BK_DATA, file data, is written in BK_EARLY's phase, and so is
 * BK_DATA_NEW, file data an ordered commit must write first. */
enum bkind { BK_EARLY, BK_INODE, BK_LINKS, BK_DATA, BK_DATA_NEW };

static inline bool bkind_is_data(enum bkind kind)
{
	return kind == BK_DATA || kind == BK_DATA_NEW;
}

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
	uint8_t kind;               /* enum bkind: the phase it is written in */
	uint32_t owner;             /* who dirtied it last (bdirty_owned), 0: none */
	bool reading;               /* an asynchronous read-ahead fills data */
	bool ra_mark;               /* a hit starts the next read-ahead */
	uint64_t dirty_seq;         /* when it last went from clean to dirty */
	struct list hash_link;
	struct list lru_link;       /* unreferenced buffers, oldest first */
	struct list dirty_link;     /* bc->dirty_bufs while dirty */
};

/* bcache_create: a cache for dev in blocks of bsize bytes (a multiple of
 * the sector size), using at most about max_bytes for block data. */
struct bcache *bcache_create(struct blkdev *dev, uint32_t bsize, size_t max_bytes);
/* bcache_destroy: free everything; dirty buffers are lost (flush first).
 * No buffer may be referenced. */
void bcache_destroy(struct bcache *bc);

int bread(struct bcache *bc, uint64_t blockno, struct buf **out);
int bget_zero(struct bcache *bc, uint64_t blockno, struct buf **out);
int bget_overwrite(struct bcache *bc, uint64_t blockno, struct buf **out);
void bdirty_kind(struct buf *b, enum bkind kind);
void bdirty_owned(struct buf *b, enum bkind kind, uint32_t owner);
void bdirty(struct buf *b, bool meta);
void brelse(struct buf *b);
void bunlock(struct buf *b);
void block_buf(struct buf *b);
void bput(struct buf *b);

/* bcache_flush: write every buffer dirtied before the call and make it
 * durable (buffers dirtied meanwhile by other threads may wait for the
 * next flush). The caller holds no buffer lock. 0 or -EIO. */
int bcache_flush(struct bcache *bc);
/* bcache_flush_within: the same from inside an operation that may hold
 * buffers locked (the allocator at a full disk): a buffer the caller holds
 * is half changed, so the flush writes the rest of its phase and stops
 * there with -EBUSY, the later phases unwritten (as after an I/O error). */
int bcache_flush_within(struct bcache *bc);

/* bcache_checkpoint_wanted: eviction found only buffers it may not write
 * (BK_INODE, BK_LINKS) and the cache is past its bound: run bcache_flush
 * when the metadata is consistent. bcache_checkpoints: how many
 * bcache_flush calls have completed without error. */
bool bcache_checkpoint_wanted(struct bcache *bc);
uint64_t bcache_checkpoints(struct bcache *bc);

/* bwrite_new: start writing b (locked by the caller) as it is now, and mark
 * it clean: the caller may change it at once (a later write). Not waited
 * for: every write-back reaps it before it writes, and the next
 * checkpoint's first phase flushes the device after it (synchronously
 * when the write-back lock is busy). Only for a block allocated since the
 * last checkpoint, so that no other write of it is in flight: a new
 * directory block, before entries in it are made. 0, or -errno of a
 * synchronous write; an asynchronous one that fails leaves b dirty in
 * BK_EARLY for the next flush.
 * With a journal attached: bdirty_kind(b, BK_EARLY), which joins it. */
int bwrite_new(struct buf *b);

/* bwrite: write b now if dirty, then flush the device. The caller holds a
 * reference but not b's lock (a pinned buffer such as the superblock). */
int bwrite(struct buf *b);

/* bcache_forget: block n was freed; drop its dirty contents if cached and
 * unreferenced (nothing to write back any more). */
void bcache_forget(struct bcache *bc, uint64_t blockno);

/* bcache_hasten: block blockno, if cached and dirty in a later phase than
 * kind's (a block whose write was put after the inode), is written in
 * kind's phase instead. Caller holds what keeps checkpoints out. */
void bcache_hasten(struct bcache *bc, uint64_t blockno, enum bkind kind);

/* bcache_write_dirty: write every buffer dirty now, whatever its phase, in
 * one sorted pass (long runs), without a device flush: only where the
 * phases' order does not matter (a journal holds the metadata). The number
 * of writes to make durable, or -errno. */
long bcache_write_dirty(struct bcache *bc);

/* bcache_write_data: write every dirty BK_DATA_NEW buffer (file data in
 * new blocks or past the old size: what metadata about to be committed
 * points at or covers), without a device flush: ordered journalling,
 * before a commit, whose flush before its commit block makes the data
 * durable too. Data overwriting what was on disk needs no ordering. The
 * number of writes to make durable (a device flush is due when it is not
 * 0), or -errno. */
long bcache_write_data(struct bcache *bc);

/* Writing one file (fsync), without a device flush (the caller flushes
 * between phases). bcache_write_owned: every dirty buffer of phase ph that
 * owner dirtied last, and with shared_early (ph BK_EARLY only) every dirty
 * metadata buffer of BK_EARLY too (bitmaps, descriptors, the superblock,
 * new blocks nothing on disk points at: they may reach the disk at any
 * time, and what owner's metadata points at may be among them). The number
 * of buffers written, or -errno.
 * bcache_write_part: write len bytes at off of block blockno, with the
 * rest of the block as it is on the device (read first), not as cached:
 * one inode of an inode-table block whose other inodes must not reach the
 * disk yet. The cached buffer stays as it is (dirty: the next checkpoint
 * writes it whole). The caller holds no buffer lock. 0 or -errno.
 * bis_dirty: b (referenced) has changes not written.
 * bis_dirty_early: b is dirty and waits for the BK_EARLY phase as
 * metadata: a new block that, in ext2, nothing on disk points at yet. */
long bcache_write_owned(struct bcache *bc, uint32_t owner, enum bkind ph, bool shared_early);
int bcache_write_part(struct bcache *bc, uint64_t blockno, uint32_t off, const void *src,
                      uint32_t len);
bool bis_dirty(struct buf *b);
bool bis_dirty_early(struct buf *b);

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
