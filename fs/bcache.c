/*
 * bcache.c: the block cache (see bcache.h for the buffer lifecycle).
 *
 * Locks: bc->lock (spinlock) guards the hash, the LRU list, and each
 * buffer's refs/valid/dirty/meta; it is never held across I/O or a sleep.
 * A buffer's own mutex guards its data and is held across its I/O.
 * Lock order: buffer mutex before bc->lock; a thread holding one buffer's
 * mutex may take another's only if that buffer is new (not yet visible) or
 * it is the file system's documented order (ext2: under its fs mutex).
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "bcache.h"
#include "blkdev.h"
#include "console.h"
#include "spinlock.h"

#define RA_MAX 32           /* blocks read ahead at most */
#define WB_BATCH 256        /* buffers written back per eviction batch */
#define RUN_MAX 64          /* blocks per coalesced write */

struct bcache {
	struct blkdev *dev;
	uint32_t bsize;
	uint32_t sectors_per_block;
	size_t max_bufs;

	/* wb_lock: one write-back at a time, so two writes of one block are
	 * never in flight together (the newer could land first). Taken with
	 * no buffer lock held, or in bwrite; write-back from eviction only
	 * trylocks buffers (their holders may be waiting for wb_lock). */
	struct mutex wb_lock;

	struct spinlock lock;       /* guards everything below */
	struct list *hash;          /* nbuckets heads */
	size_t nbuckets;
	struct list lru;            /* unreferenced buffers, LRU first */
	size_t nbufs;
	uint64_t dirty_seq;         /* counts clean -> dirty transitions */
	uint64_t last_miss;         /* sequential read detection */
	unsigned ra_window;
	struct bcache_stats st;
};

static size_t bucket(struct bcache *bc, uint64_t n)
{
	return (size_t)((n * 0x9e3779b97f4a7c15ull) >> 40) & (bc->nbuckets - 1);
}

struct bcache *bcache_create(struct blkdev *dev, uint32_t bsize, size_t max_bytes)
{
	if (!dev || bsize == 0 || bsize % dev->sector_size)
		return NULL;
	struct bcache *bc = kzalloc(sizeof(*bc));
	if (!bc)
		return NULL;
	bc->dev = dev;
	bc->bsize = bsize;
	bc->sectors_per_block = bsize / dev->sector_size;
	bc->max_bufs = max_bytes / bsize;
	if (bc->max_bufs < 64)
		bc->max_bufs = 64;
	bc->nbuckets = 64;
	while (bc->nbuckets < bc->max_bufs && bc->nbuckets < 65536)
		bc->nbuckets <<= 1;
	bc->hash = kmalloc(bc->nbuckets * sizeof(struct list));
	if (!bc->hash) {
		kfree(bc);
		return NULL;
	}
	for (size_t i = 0; i < bc->nbuckets; i++)
		list_init(&bc->hash[i]);
	list_init(&bc->lru);
	spin_init(&bc->lock, "bcache");
	mutex_init(&bc->wb_lock, "bcache.wb");
	bc->last_miss = UINT64_MAX - 1;
	bc->ra_window = 4;
	return bc;
}

static void free_buf(struct buf *b)
{
	kfree(b->data);
	kfree(b);
}

void bcache_destroy(struct bcache *bc)
{
	if (!bc)
		return;
	for (size_t i = 0; i < bc->nbuckets; i++) {
		struct list *l;
		while ((l = list_pop_front(&bc->hash[i])) != NULL) {
			struct buf *b = list_entry(l, struct buf, hash_link);
			if (b->refs)
				panic("bcache_destroy: block %lu still referenced", (unsigned long)b->blockno);
			free_buf(b);
		}
	}
	kfree(bc->hash);
	kfree(bc);
}

static struct buf *lookup_locked(struct bcache *bc, uint64_t n)
{
	list_for_each(l, &bc->hash[bucket(bc, n)]) {
		struct buf *b = list_entry(l, struct buf, hash_link);
		if (b->blockno == n)
			return b;
	}
	return NULL;
}

static struct buf *alloc_buf(struct bcache *bc)
{
	struct buf *b = kzalloc(sizeof(*b));
	if (!b)
		return NULL;
	b->data = kmalloc_aligned(bc->bsize, bc->bsize < PAGE_SIZE ? bc->bsize : PAGE_SIZE);
	if (!b->data) {
		kfree(b);
		return NULL;
	}
	b->bc = bc;
	mutex_init(&b->lock, "buf");
	list_init(&b->hash_link);
	list_init(&b->lru_link);
	return b;
}

/* ---- Writing ------------------------------------------------------------- */

static int cmp_buf(const struct buf *a, const struct buf *b)
{
	if (a->meta != b->meta)
		return a->meta ? 1 : -1;
	return a->blockno < b->blockno ? -1 : a->blockno > b->blockno;
}

/* Sort by (meta, blockno): insertion sort on runs of shell gaps. */
static void sort_bufs(struct buf **v, size_t n)
{
	for (size_t gap = n / 2; gap > 0; gap /= 2)
		for (size_t i = gap; i < n; i++)
			for (size_t j = i; j >= gap && cmp_buf(v[j - gap], v[j]) > 0; j -= gap) {
				struct buf *t = v[j];
				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

static void bput_at(struct buf *b, bool cold);

/* Write the referenced buffers v[0..n) (sorted), coalescing contiguous
 * blocks; each is locked while copied, and marked clean. Drops the refs;
 * cold: the buffers go back to the front of the LRU (evicted first); try:
 * skip buffers whose lock is taken. Caller holds wb_lock. */
static int write_bufs(struct bcache *bc, struct buf **v, size_t n, bool cold, bool try)
{
	int err = 0;
	uint8_t *stage = kmalloc_aligned((size_t)RUN_MAX * bc->bsize, PAGE_SIZE);
	size_t i = 0;
	while (i < n) {
		size_t run = 1;
		while (stage && i + run < n && run < RUN_MAX &&
		       v[i + run]->blockno == v[i]->blockno + run && v[i + run]->meta == v[i]->meta)
			run++;
		size_t count = 0;
		for (size_t k = 0; k < run; k++) {
			struct buf *b = v[i + k];
			if (try && !mutex_trylock(&b->lock)) {
				run = k;    /* busy: leave it dirty for later */
				break;
			}
			if (!try)
				mutex_lock(&b->lock);
			spin_lock(&bc->lock);
			bool dirty = b->dirty && b->valid;
			b->dirty = false;
			spin_unlock(&bc->lock);
			if (stage && dirty)
				memcpy(stage + count * bc->bsize, b->data, bc->bsize);
			if (!stage && dirty) {
				int rc = blkdev_write(bc->dev, b->blockno * bc->sectors_per_block, b->data,
				                      bc->sectors_per_block);
				if (rc < 0) {
					err = rc;
					spin_lock(&bc->lock);
					b->dirty = true;
					spin_unlock(&bc->lock);
				}
				__atomic_add_fetch(&bc->st.writes, 1, __ATOMIC_RELAXED);
			}
			mutex_unlock(&b->lock);
			if (stage && !dirty) {
				/* A hole in the run (cleaned meanwhile): write what we have. */
				run = k;
				break;
			}
			count++;
		}
		if (stage && count) {
			int rc = blkdev_write(bc->dev, v[i]->blockno * bc->sectors_per_block, stage,
			                      (uint32_t)(count * bc->sectors_per_block));
			__atomic_add_fetch(&bc->st.writes, 1, __ATOMIC_RELAXED);
			if (rc < 0) {
				err = rc;
				spin_lock(&bc->lock);
				for (size_t k = 0; k < count; k++)
					v[i + k]->dirty = true;
				spin_unlock(&bc->lock);
			}
		}
		if (run == 0)
			run = 1;    /* v[i] was clean: skip it */
		i += run;
	}
	kfree(stage);
	for (size_t k = 0; k < n; k++)
		bput_at(v[k], cold);
	return err;
}

/* Collect up to max buffers dirty since dirty_seq <= upto, taking a
 * reference on each. */
/* Take up to max dirty buffers of one kind (metadata or not) that were
 * dirtied at or before sequence upto. */
static size_t collect_dirty(struct bcache *bc, struct buf **v, size_t max, uint64_t upto,
                            bool meta)
{
	size_t n = 0;
	spin_lock(&bc->lock);
	for (size_t h = 0; h < bc->nbuckets && n < max; h++) {
		list_for_each(l, &bc->hash[h]) {
			struct buf *b = list_entry(l, struct buf, hash_link);
			if (!b->dirty || b->dirty_seq > upto || b->meta != meta)
				continue;
			if (b->refs++ == 0)
				list_remove(&b->lru_link);
			v[n++] = b;
			if (n == max)
				break;
		}
	}
	spin_unlock(&bc->lock);
	return n;
}

/* Write every dirty buffer of one kind up to sequence upto; the number of
 * buffers written, or -errno. */
static long flush_kind(struct bcache *bc, struct buf **v, uint64_t upto, bool meta)
{
	long total = 0;
	for (;;) {
		size_t n = collect_dirty(bc, v, WB_BATCH, upto, meta);
		if (n == 0)
			return total;
		sort_bufs(v, n);
		mutex_lock(&bc->wb_lock);
		int rc = write_bufs(bc, v, n, false, false);
		mutex_unlock(&bc->wb_lock);
		if (rc < 0)
			return rc;
		total += (long)n;
	}
}

int bcache_flush(struct bcache *bc)
{
	struct buf **v = kmalloc(WB_BATCH * sizeof(*v));
	if (!v)
		return -ENOMEM;
	spin_lock(&bc->lock);
	uint64_t upto = bc->dirty_seq;     /* later dirt is the next flush's */
	spin_unlock(&bc->lock);
	/* All the data, one barrier, then the metadata that points at it: a
	 * crash never leaves metadata naming blocks whose contents are lost. */
	long rc = flush_kind(bc, v, upto, false);
	if (rc > 0)
		rc = blkdev_flush(bc->dev);
	if (rc >= 0)
		rc = flush_kind(bc, v, upto, true);
	kfree(v);
	if (rc >= 0)
		rc = blkdev_flush(bc->dev);
	return rc < 0 ? (int)rc : 0;
}

int bwrite(struct buf *b)
{
	struct bcache *bc = b->bc;
	int rc = 0;
	mutex_lock(&bc->wb_lock);
	mutex_lock(&b->lock);
	spin_lock(&bc->lock);
	bool dirty = b->dirty && b->valid;
	b->dirty = false;
	spin_unlock(&bc->lock);
	if (dirty) {
		rc = blkdev_write(bc->dev, b->blockno * bc->sectors_per_block, b->data,
		                  bc->sectors_per_block);
		__atomic_add_fetch(&bc->st.writes, 1, __ATOMIC_RELAXED);
		if (rc < 0) {
			spin_lock(&bc->lock);
			b->dirty = true;
			spin_unlock(&bc->lock);
		}
	}
	mutex_unlock(&b->lock);
	mutex_unlock(&bc->wb_lock);
	if (rc == 0)
		rc = blkdev_flush(bc->dev);
	return rc;
}

void bcache_forget(struct bcache *bc, uint64_t blockno)
{
	spin_lock(&bc->lock);
	struct buf *b = lookup_locked(bc, blockno);
	if (b && b->refs == 0)
		b->dirty = false;
	spin_unlock(&bc->lock);
}

/* ---- Finding a buffer ------------------------------------------------------ */

/* Write back the oldest idle dirty buffers, so that eviction finds clean
 * ones at the front of the LRU list. */
static void writeback_idle(struct bcache *bc)
{
	struct buf **v = kmalloc(WB_BATCH * sizeof(*v));
	if (!v)
		return;
	size_t n = 0;
	spin_lock(&bc->lock);
	list_for_each_safe(l, tmp, &bc->lru) {
		struct buf *b = list_entry(l, struct buf, lru_link);
		if (!b->dirty)
			continue;
		b->refs++;
		list_remove(&b->lru_link);
		v[n++] = b;
		if (n == WB_BATCH)
			break;
	}
	spin_unlock(&bc->lock);
	sort_bufs(v, n);
	mutex_lock(&bc->wb_lock);
	int rc = write_bufs(bc, v, n, true, true);
	mutex_unlock(&bc->wb_lock);
	if (rc < 0)
		kprintf("bcache: %s: write-back error\n", bc->dev->name);
	kfree(v);
}

/* Take a buffer for a new identity, holding bc->lock: a clean idle one from
 * the LRU when the cache is full, else a new one (NULL: do write-back and
 * retry, or out of memory). On return with a buffer, bc->lock is held. */
static struct buf *grab_locked(struct bcache *bc, bool *need_wb)
{
	*need_wb = false;
	if (bc->nbufs >= bc->max_bufs) {
		unsigned scanned = 0;
		list_for_each(l, &bc->lru) {
			struct buf *b = list_entry(l, struct buf, lru_link);
			if (++scanned > 2 * WB_BATCH)
				break;      /* the old end is dirty: write some back */
			if (b->dirty)
				continue;
			list_remove(&b->lru_link);
			list_remove(&b->hash_link);
			bc->st.evictions++;
			return b;
		}
		if (!list_empty(&bc->lru)) {
			*need_wb = true;
			return NULL;
		}
		/* Everything is referenced: grow past the bound. */
	}
	spin_unlock(&bc->lock);
	struct buf *b = alloc_buf(bc);
	spin_lock(&bc->lock);
	if (b)
		bc->nbufs++;
	return b;
}

/* Insert a fresh buffer for block n (which is not cached), referenced and
 * locked, invalid. bc->lock held on entry and exit; may drop it. Returns
 * NULL if n got cached meanwhile (*raced) or out of memory. */
static struct buf *insert_new_locked(struct bcache *bc, uint64_t n, bool *raced)
{
	*raced = false;
	for (;;) {
		bool need_wb;
		struct buf *b = grab_locked(bc, &need_wb);
		if (need_wb) {
			spin_unlock(&bc->lock);
			writeback_idle(bc);
			spin_lock(&bc->lock);
			if (lookup_locked(bc, n)) {
				*raced = true;
				return NULL;
			}
			continue;
		}
		if (!b)
			return NULL;
		if (lookup_locked(bc, n)) {
			/* Someone cached n while we dropped the lock: give b back. */
			list_push_front(&bc->lru, &b->lru_link);
			b->blockno = UINT64_MAX;
			list_push_back(&bc->hash[bucket(bc, UINT64_MAX)], &b->hash_link);
			*raced = true;
			return NULL;
		}
		b->blockno = n;
		b->refs = 1;
		b->valid = false;
		b->dirty = false;
		b->meta = false;
		b->checked = false;
		list_push_back(&bc->hash[bucket(bc, n)], &b->hash_link);
		if (!mutex_trylock(&b->lock))
			panic("bcache: a free buffer was locked");
		return b;
	}
}

/* Read ahead blocks after n that are not cached, in the same request. */
static int read_cluster(struct bcache *bc, struct buf *first)
{
	struct buf *ra[RA_MAX];
	size_t nra = 0;
	uint64_t n = first->blockno;
	uint64_t nblocks = bc->dev->sectors / bc->sectors_per_block;

	spin_lock(&bc->lock);
	bool seq = n == bc->last_miss + 1;
	bc->last_miss = n;
	if (seq) {
		if (bc->ra_window < RA_MAX)
			bc->ra_window *= 2;
	} else {
		bc->ra_window = 4;
	}
	unsigned want = seq ? bc->ra_window - 1 : 0;
	if (want > bc->max_bufs / 4)
		want = (unsigned)(bc->max_bufs / 4);
	while (nra < want && n + 1 + nra < nblocks) {
		uint64_t m = n + 1 + nra;
		if (lookup_locked(bc, m))
			break;
		bool raced;
		struct buf *b = insert_new_locked(bc, m, &raced);
		if (!b)
			break;
		ra[nra++] = b;
	}
	if (nra)
		bc->last_miss = n + nra;
	spin_unlock(&bc->lock);

	int rc;
	if (nra == 0) {
		rc = blkdev_read(bc->dev, n * bc->sectors_per_block, first->data, bc->sectors_per_block);
	} else {
		uint8_t *stage = kmalloc_aligned((nra + 1) * bc->bsize, PAGE_SIZE);
		if (stage) {
			rc = blkdev_read(bc->dev, n * bc->sectors_per_block, stage,
			                 (uint32_t)((nra + 1) * bc->sectors_per_block));
			if (rc == 0) {
				memcpy(first->data, stage, bc->bsize);
				for (size_t i = 0; i < nra; i++)
					memcpy(ra[i]->data, stage + (i + 1) * bc->bsize, bc->bsize);
			}
			kfree(stage);
		} else {
			rc = blkdev_read(bc->dev, n * bc->sectors_per_block, first->data,
			                 bc->sectors_per_block);
			if (rc == 0)
				rc = 1;     /* the read-ahead buffers stay invalid */
		}
		spin_lock(&bc->lock);
		for (size_t i = 0; i < nra; i++)
			ra[i]->valid = rc == 0;
		bc->st.readahead += nra;
		spin_unlock(&bc->lock);
		for (size_t i = 0; i < nra; i++)
			brelse(ra[i]);
		if (rc == 1)
			rc = 0;
	}
	return rc;
}

static int get(struct bcache *bc, uint64_t n, bool read, struct buf **out)
{
	*out = NULL;
	if (n >= bc->dev->sectors / bc->sectors_per_block)
		return -EIO;
	for (;;) {
		spin_lock(&bc->lock);
		struct buf *b = lookup_locked(bc, n);
		if (b) {
			if (b->refs++ == 0)
				list_remove(&b->lru_link);
			bc->st.hits++;
			spin_unlock(&bc->lock);
			mutex_lock(&b->lock);
			spin_lock(&bc->lock);
			bool valid = b->valid;
			spin_unlock(&bc->lock);
			if (!valid) {
				/* A failed read left it invalid: try again ourselves. */
				if (!read) {
					memset(b->data, 0, bc->bsize);
				} else {
					int rc = blkdev_read(bc->dev, n * bc->sectors_per_block, b->data,
					                     bc->sectors_per_block);
					if (rc < 0) {
						brelse(b);
						return rc;
					}
				}
				b->checked = false;
				spin_lock(&bc->lock);
				b->valid = true;
				spin_unlock(&bc->lock);
			}
			if (!read) {
				memset(b->data, 0, bc->bsize);
				b->checked = false;
			}
			*out = b;
			return 0;
		}
		bool raced;
		b = insert_new_locked(bc, n, &raced);
		if (!b) {
			spin_unlock(&bc->lock);
			if (raced)
				continue;
			return -ENOMEM;
		}
		bc->st.misses++;
		spin_unlock(&bc->lock);
		int rc = 0;
		if (read)
			rc = read_cluster(bc, b);
		else
			memset(b->data, 0, bc->bsize);
		if (rc < 0) {
			brelse(b);
			return rc;
		}
		spin_lock(&bc->lock);
		b->valid = true;
		spin_unlock(&bc->lock);
		*out = b;
		return 0;
	}
}

int bread(struct bcache *bc, uint64_t blockno, struct buf **out)
{
	return get(bc, blockno, true, out);
}

int bget_zero(struct bcache *bc, uint64_t blockno, struct buf **out)
{
	return get(bc, blockno, false, out);
}

void bdirty(struct buf *b, bool meta)
{
	struct bcache *bc = b->bc;
	b->checked = false;     /* changed: no longer known to be valid */
	spin_lock(&bc->lock);
	if (!b->dirty)
		b->dirty_seq = ++bc->dirty_seq;
	b->dirty = true;
	b->meta = meta;
	spin_unlock(&bc->lock);
}

void bunlock(struct buf *b)
{
	mutex_unlock(&b->lock);
}

void block_buf(struct buf *b)
{
	mutex_lock(&b->lock);
}

static void bput_at(struct buf *b, bool cold)
{
	struct bcache *bc = b->bc;
	spin_lock(&bc->lock);
	if (b->refs <= 0)
		panic("bput: block %lu not referenced", (unsigned long)b->blockno);
	if (--b->refs == 0) {
		if (cold)
			list_push_front(&bc->lru, &b->lru_link);
		else
			list_push_back(&bc->lru, &b->lru_link);
	}
	spin_unlock(&bc->lock);
}

void bput(struct buf *b)
{
	bput_at(b, false);
}

void brelse(struct buf *b)
{
	mutex_unlock(&b->lock);
	bput(b);
}

void bcache_stats(struct bcache *bc, struct bcache_stats *out)
{
	spin_lock(&bc->lock);
	*out = bc->st;
	out->buffers = bc->nbufs;
	out->dirty = 0;
	for (size_t h = 0; h < bc->nbuckets; h++)
		list_for_each(l, &bc->hash[h])
			if (list_entry(l, struct buf, hash_link)->dirty)
				out->dirty++;
	spin_unlock(&bc->lock);
}
