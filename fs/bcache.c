/*
 * bcache.c: the block cache (see bcache.h for the buffer lifecycle).
 *
 * Locks: bc->lock (spinlock) guards the hash, the LRU list, and each
 * buffer's refs/valid/dirty/kind; it is never held across I/O or a sleep.
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
#include "waitq.h"

#define RA_MAX 256          /* blocks per read-ahead request at most */
#define RA_ASYNC 16         /* read-ahead window from which it goes async */
#define WB_BATCH 1024       /* buffers written back per batch at most */
#define FLUSH_BATCH 65536   /* buffers a flush sorts together at most */
#define RUN_MAX 256         /* blocks per coalesced write */
#define WB_DEPTH 8          /* write requests in flight before reaping */

/* A coalesced write in flight: its buffers stay referenced (so they are
 * not reused) but clean and unlocked until it is reaped. */
struct wb_io {
	struct blkdev_req req;
	struct list link;           /* bc->wb_list */
	uint8_t *stage;
	size_t count;
	bool cold;
	bool fresh;                 /* bwrite_new's: dirty again in BK_EARLY if it fails */
	struct buf *bufs[RUN_MAX];
};

/* An asynchronous read-ahead: its buffers are referenced, in the hash and
 * marked reading; the completion (irq context) fills and releases them. */
struct ra_io {
	struct blkdev_req req;
	struct bcache *bc;
	uint8_t *stage;
	size_t count;
	struct buf *bufs[RA_MAX];
};

struct bcache {
	struct blkdev *dev;
	uint32_t bsize;
	uint32_t sectors_per_block;
	size_t max_bufs;

	/* wb_lock: one write-back at a time, so two writes of one block are
	 * never in flight together (the newer could land first). Taken with
	 * no buffer lock held, or in bwrite; eviction, whose caller may hold
	 * buffer locks, trylocks it (and the buffers it writes) until the
	 * cache is twice its bound.
	 * Every write-back reaps the requests still in flight before it
	 * collects, so a block is never in two of them. */
	struct mutex wb_lock;
	struct list wb_list;        /* struct wb_io in flight, oldest first */
	size_t wb_count;
	size_t wb_batch;            /* buffers per eviction batch */

	/* io_wq.lock guards nreads; io_wq wakes threads waiting for a
	 * buffer's read-ahead (the condition, buf->reading, is bc->lock's:
	 * io_wq.lock is taken first). */
	struct waitq io_wq;
	unsigned nreads;            /* ra_io in flight */

	struct spinlock lock;       /* guards everything below */
	struct list *hash;          /* nbuckets heads */
	size_t nbuckets;
	/* Unreferenced buffers, least recently used first: clean ones (what
	 * eviction takes at once) and dirty ones (write-back's), apart so that
	 * neither has to step over the other. */
	struct list lru;
	struct list dirty_lru;
	size_t idle_dirty;          /* on dirty_lru */
	/* Every dirty buffer, referenced or not: what write-back looks at, so
	 * that an fsync costs its own dirt, not a walk of the whole cache. */
	struct list dirty_bufs;
	size_t nbufs;
	uint64_t dirty_seq;         /* counts clean -> dirty transitions */
	bool ckpt_wanted;           /* eviction found only ordered dirt */
	uint64_t checkpoints;       /* completed bcache_flush calls (atomic) */
	size_t wb_pinned;           /* buffers held by wb_io in flight */
	uint64_t last_miss;         /* sequential read detection */
	uint64_t ra_next;           /* block after the last read-ahead */
	unsigned ra_window;
	struct bcache_stats st;

	/* Set while the file system is quiet (mount, unmount). */
	bcache_join_fn join;        /* journalling, see bcache.h */
	void *join_ctx;
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
	list_init(&bc->dirty_lru);
	list_init(&bc->dirty_bufs);
	spin_init(&bc->lock, "bcache");
	mutex_init(&bc->wb_lock, "bcache.wb");
	list_init(&bc->wb_list);
	bc->wb_batch = bc->max_bufs / 4 < WB_BATCH ? bc->max_bufs / 4 : WB_BATCH;
	waitq_init(&bc->io_wq, "bcache.io");
	bc->last_miss = UINT64_MAX - 1;
	bc->ra_window = 4;
	return bc;
}

static void free_buf(struct buf *b)
{
	kfree(b->data);
	kfree(b);
}

static int reap_all(struct bcache *bc);

void bcache_destroy(struct bcache *bc)
{
	if (!bc)
		return;
	mutex_lock(&bc->wb_lock);
	reap_all(bc);               /* failures: the dirty data is lost anyway */
	mutex_unlock(&bc->wb_lock);
	spin_lock(&bc->io_wq.lock);
	while (bc->nreads)
		waitq_wait_locked(&bc->io_wq, 0);
	spin_unlock(&bc->io_wq.lock);
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

/* b's last reference went: onto the idle list its state says (cold: to be
 * reused first). Caller holds bc->lock. */
static void idle_push(struct bcache *bc, struct buf *b, bool cold)
{
	struct list *l = b->dirty ? &bc->dirty_lru : &bc->lru;
	if (b->dirty)
		bc->idle_dirty++;
	if (cold)
		list_push_front(l, &b->lru_link);
	else
		list_push_back(l, &b->lru_link);
}

/* b (idle) is taken. Caller holds bc->lock. */
static void idle_remove(struct bcache *bc, struct buf *b)
{
	list_remove(&b->lru_link);
	if (b->dirty)
		bc->idle_dirty--;
}

/* b's dirty flag, and its place on bc->dirty_bufs. Caller holds bc->lock. */
static void set_dirty(struct bcache *bc, struct buf *b)
{
	if (!b->dirty)
		list_push_back(&bc->dirty_bufs, &b->dirty_link);
	b->dirty = true;
}

static void set_clean(struct buf *b)
{
	if (b->dirty)
		list_remove(&b->dirty_link);
	b->dirty = false;
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
	list_init(&b->dirty_link);
	return b;
}

/* ---- Writing ------------------------------------------------------------- */

/* The write-back phase of a kind: file data goes with BK_EARLY. */
static enum bkind phase(enum bkind kind)
{
	return bkind_is_data(kind) ? BK_EARLY : kind;
}

static int cmp_buf(const struct buf *a, const struct buf *b)
{
	if (phase(a->kind) != phase(b->kind))
		return phase(a->kind) > phase(b->kind) ? 1 : -1;
	return a->blockno < b->blockno ? -1 : a->blockno > b->blockno;
}

static void swap_bufs(struct buf **v, size_t i, size_t j)
{
	struct buf *t = v[i];
	v[i] = v[j];
	v[j] = t;
}

/* Move v[root] down the heap v[0..n) to where it is not less than its
 * children. */
static void sift_down(struct buf **v, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && cmp_buf(v[child], v[child + 1]) < 0)
			child++;
		if (cmp_buf(v[root], v[child]) >= 0)
			return;
		swap_bufs(v, root, child);
		root = child;
	}
}

/* Sort by (phase, blockno): a heap sort, n log n however large a flush's
 * batch is, without recursion. */
static void sort_bufs(struct buf **v, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n; end-- > 1;) {
		swap_bufs(v, 0, end);
		sift_down(v, 0, end);
	}
}

static void bput_at(struct buf *b, bool cold);

/* Wait for io, release its buffers (dirty again if it failed: the next
 * flush writes them, whatever sequence it flushes up to). Caller holds
 * wb_lock and took io off wb_list. */
static int reap(struct bcache *bc, struct wb_io *io)
{
	int rc = blkdev_wait(&io->req);
	spin_lock(&bc->lock);
	for (size_t k = 0; k < io->count; k++) {
		if (rc < 0) {
			set_dirty(bc, io->bufs[k]);
			io->bufs[k]->dirty_seq = 0;
			if (io->fresh)
				io->bufs[k]->kind = BK_EARLY;   /* before the inode naming it */
		}
	}
	bc->wb_pinned -= io->count;
	spin_unlock(&bc->lock);
	for (size_t k = 0; k < io->count; k++)
		bput_at(io->bufs[k], io->cold);
	kfree(io->stage);
	kfree(io);
	return rc;
}

static int reap_oldest(struct bcache *bc)
{
	struct list *l = list_pop_front(&bc->wb_list);
	if (!l)
		return 0;
	bc->wb_count--;
	return reap(bc, list_entry(l, struct wb_io, link));
}

/* Reap every write in flight: 0 or the first error. Caller holds wb_lock. */
static int reap_all(struct bcache *bc)
{
	int err = 0;
	while (bc->wb_count) {
		int rc = reap_oldest(bc);
		if (rc < 0 && err == 0)
			err = rc;
	}
	return err;
}

/* Start io (or drop it if empty); past WB_DEPTH requests in flight, reap
 * the oldest: 0 or its error. Caller holds wb_lock. */
static int submit_run(struct bcache *bc, struct wb_io *io)
{
	if (!io)
		return 0;
	if (io->count == 0) {
		kfree(io->stage);
		kfree(io);
		return 0;
	}
	spin_lock(&bc->lock);
	bc->wb_pinned += io->count;
	spin_unlock(&bc->lock);
	list_push_back(&bc->wb_list, &io->link);
	bc->wb_count++;
	io->req.done = NULL;
	blkdev_submit(bc->dev, true, io->bufs[0]->blockno * bc->sectors_per_block, io->stage,
	              (uint32_t)(io->count * bc->sectors_per_block), &io->req);
	__atomic_add_fetch(&bc->st.writes, 1, __ATOMIC_RELAXED);
	return bc->wb_count > WB_DEPTH ? reap_oldest(bc) : 0;
}

/* How many of v[j..n) follow v[j] block by block, in the same phase. */
static size_t run_len(struct buf **v, size_t j, size_t n)
{
	size_t run = 1;
	while (j + run < n && run < RUN_MAX && v[j + run]->blockno == v[j]->blockno + run &&
	       phase(v[j + run]->kind) == phase(v[j]->kind))
		run++;
	return run;
}

static struct wb_io *new_run(struct bcache *bc, size_t cap, bool cold)
{
	struct wb_io *io = kmalloc(sizeof(*io));
	if (!io)
		return NULL;
	io->stage = kmalloc_aligned(cap * bc->bsize, PAGE_SIZE);
	if (!io->stage) {
		kfree(io);
		return NULL;
	}
	io->count = 0;
	io->cold = cold;
	io->fresh = false;
	list_init(&io->link);
	return io;
}

/* Write b (locked) from its own data, synchronously: bwrite, or out of
 * memory for a staging area. Dirty again if it failed. */
static int write_one(struct bcache *bc, struct buf *b)
{
	int rc = blkdev_write(bc->dev, b->blockno * bc->sectors_per_block, b->data,
	                      bc->sectors_per_block);
	__atomic_add_fetch(&bc->st.writes, 1, __ATOMIC_RELAXED);
	if (rc < 0) {
		spin_lock(&bc->lock);
		set_dirty(bc, b);
		spin_unlock(&bc->lock);
	}
	return rc;
}

/* How write_bufs takes each buffer's lock: waiting for it; skipping a
 * buffer whose lock is taken (eviction); or, for a flush from inside an
 * operation, waiting except for a buffer the calling thread holds (half
 * changed: it is left dirty and the write-back fails with -EBUSY). */
enum wb_locking { WB_WAIT, WB_SKIP_BUSY, WB_SKIP_OWN };

/* Write the referenced buffers v[0..n) (sorted), coalescing contiguous
 * blocks into requests started without waiting (reap them later); each
 * buffer is locked while copied, and marked clean. The refs pass to the
 * requests or are dropped; cold: the buffers go back to the front of the
 * LRU (evicted first). Returns 0 or the first error seen so far. Caller
 * holds wb_lock. */
static int write_bufs(struct bcache *bc, struct buf **v, size_t n, bool cold,
                      enum wb_locking locking)
{
	int err = 0, rc;
	struct wb_io *io = NULL;
	for (size_t j = 0; j < n; j++) {
		struct buf *b = v[j];
		if (io && io->count) {
			struct buf *last = io->bufs[io->count - 1];
			if (b->blockno != last->blockno + 1 || phase(b->kind) != phase(last->kind) ||
			    io->count == RUN_MAX) {
				rc = submit_run(bc, io);
				err = err ? err : rc;
				io = NULL;
			}
		}
		if (locking == WB_SKIP_BUSY && !mutex_trylock(&b->lock)) {
			bput_at(b, cold);   /* busy: leave it dirty for later */
			continue;
		}
		if (locking == WB_SKIP_OWN && mutex_held(&b->lock)) {
			err = err ? err : -EBUSY;
			bput_at(b, cold);
			continue;
		}
		if (locking != WB_SKIP_BUSY)
			mutex_lock(&b->lock);
		spin_lock(&bc->lock);
		bool dirty = b->dirty && b->valid;
		set_clean(b);
		spin_unlock(&bc->lock);
		if (dirty && !io)
			io = new_run(bc, run_len(v, j, n), cold);
		if (dirty && io) {
			memcpy(io->stage + io->count * bc->bsize, b->data, bc->bsize);
			io->bufs[io->count++] = b;
			mutex_unlock(&b->lock);
			continue;
		}
		if (dirty) {
			rc = write_one(bc, b);
			err = err ? err : rc;
		}
		mutex_unlock(&b->lock);
		bput_at(b, cold);
	}
	rc = submit_run(bc, io);
	return err ? err : rc;
}

/* Which dirty buffers a write-back takes: those of one phase (or of any,
 * any_phase) dirtied at or before sequence upto, and of them (pick) every
 * one, only new file data, or only those one owner dirtied last (plus,
 * with shared_early, every metadata buffer of the phase). */
enum pick_kind { PICK_ALL, PICK_NEW_DATA, PICK_OWNER, PICK_OWNER_AND_SHARED };
struct pick {
	uint64_t upto;
	bool any_phase;
	enum bkind phase;
	enum pick_kind kind;
	uint32_t owner;
};

/* Whether p takes b. Caller holds bc->lock. */
static bool picked(const struct buf *b, const struct pick *p)
{
	if (!b->dirty || b->dirty_seq > p->upto || (!p->any_phase && phase(b->kind) != p->phase))
		return false;
	switch (p->kind) {
	case PICK_ALL:
		return true;
	case PICK_NEW_DATA:
		return b->kind == BK_DATA_NEW;
	case PICK_OWNER:
		return b->owner == p->owner;
	case PICK_OWNER_AND_SHARED:
		return b->owner == p->owner || !bkind_is_data(b->kind);
	}
	return false;
}

/* Take up to max dirty buffers that p picks, with a reference on each. */
static size_t collect_dirty(struct bcache *bc, struct buf **v, size_t max, const struct pick *p)
{
	size_t n = 0;
	spin_lock(&bc->lock);
	list_for_each(l, &bc->dirty_bufs) {
		struct buf *b = list_entry(l, struct buf, dirty_link);
		if (!picked(b, p))
			continue;
		if (b->refs++ == 0)
			idle_remove(bc, b);
		v[n++] = b;
		if (n == max)
			break;
	}
	spin_unlock(&bc->lock);
	return n;
}

/* Room for a flush's batch: every buffer of the cache if it can, so that
 * the dirty ones, collected in the order they became dirty, are sorted into long
 * runs (up to FLUSH_BATCH; WB_BATCH when memory is short). */
static struct buf **flush_batch(struct bcache *bc, size_t *cap)
{
	spin_lock(&bc->lock);
	size_t n = bc->nbufs;
	spin_unlock(&bc->lock);
	*cap = n < WB_BATCH ? WB_BATCH : n > FLUSH_BATCH ? FLUSH_BATCH : n;
	struct buf **v = kmalloc(*cap * sizeof(*v));
	if (!v && *cap > WB_BATCH) {
		*cap = WB_BATCH;
		v = kmalloc(*cap * sizeof(*v));
	}
	return v;
}

/* Write every dirty buffer that p picks; the number of buffers written and
 * of earlier writes reaped (a device flush is due when it is not 0), or
 * -errno. No device flush. */
static long write_picked(struct bcache *bc, const struct pick *p, enum wb_locking locking)
{
	size_t cap;
	struct buf **v = flush_batch(bc, &cap);
	if (!v)
		return -ENOMEM;
	mutex_lock(&bc->wb_lock);
	long total = (long)bc->wb_count;
	reap_all(bc);   /* eviction's, bwrite_new's: a failed one is dirty again, written below */
	int rc = 0;
	while (rc == 0) {
		size_t n = collect_dirty(bc, v, cap, p);
		if (n == 0)
			break;
		sort_bufs(v, n);
		rc = write_bufs(bc, v, n, false, locking);
		total += (long)n;
	}
	int wrc = reap_all(bc);
	mutex_unlock(&bc->wb_lock);
	kfree(v);
	rc = rc ? rc : wrc;
	return rc < 0 ? rc : total;
}

static uint64_t dirty_seq_now(struct bcache *bc)
{
	spin_lock(&bc->lock);
	uint64_t seq = bc->dirty_seq;
	spin_unlock(&bc->lock);
	return seq;
}

static int flush_phases(struct bcache *bc, enum wb_locking locking)
{
	spin_lock(&bc->lock);
	struct pick p = { .upto = bc->dirty_seq, .kind = PICK_ALL };   /* later dirt: the next flush's */
	bc->ckpt_wanted = false;
	spin_unlock(&bc->lock);
	/* The phases in order, each made durable before the next starts (a
	 * device flush after each that wrote something): see bcache.h. */
	long rc = 0;
	for (int ph = BK_EARLY; ph <= BK_LINKS && rc >= 0; ph++) {
		p.phase = (enum bkind)ph;
		rc = write_picked(bc, &p, locking);
		if (rc > 0)
			rc = blkdev_flush(bc->dev);
	}
	if (rc < 0)
		return (int)rc;
	__atomic_add_fetch(&bc->checkpoints, 1, __ATOMIC_RELEASE);
	return 0;
}

int bcache_flush(struct bcache *bc)
{
	return flush_phases(bc, WB_WAIT);
}

int bcache_flush_within(struct bcache *bc)
{
	return flush_phases(bc, WB_SKIP_OWN);
}

long bcache_write_dirty(struct bcache *bc)
{
	struct pick p = { .upto = dirty_seq_now(bc), .any_phase = true, .kind = PICK_ALL };
	return write_picked(bc, &p, WB_WAIT);
}

long bcache_write_data(struct bcache *bc)
{
	struct pick p = { .upto = dirty_seq_now(bc), .phase = BK_EARLY, .kind = PICK_NEW_DATA };
	return write_picked(bc, &p, WB_WAIT);
}

long bcache_write_owned(struct bcache *bc, uint32_t owner, enum bkind ph, bool shared_early)
{
	struct pick p = {
		.upto = dirty_seq_now(bc), .phase = ph, .owner = owner,
		.kind = shared_early && ph == BK_EARLY ? PICK_OWNER_AND_SHARED : PICK_OWNER,
	};
	return write_picked(bc, &p, WB_WAIT);
}

int bcache_write_part(struct bcache *bc, uint64_t blockno, uint32_t off, const void *src,
                      uint32_t len)
{
	if (off > bc->bsize || len > bc->bsize - off)
		return -EINVAL;
	uint8_t *block = kmalloc_aligned(bc->bsize, bc->bsize < PAGE_SIZE ? bc->bsize : PAGE_SIZE);
	if (!block)
		return -ENOMEM;
	uint64_t sector = blockno * bc->sectors_per_block;
	/* Under wb_lock with nothing in flight: no other write of the block
	 * lands between this read and this write. */
	mutex_lock(&bc->wb_lock);
	reap_all(bc);
	int rc = blkdev_read(bc->dev, sector, block, bc->sectors_per_block);
	if (rc == 0) {
		memcpy(block + off, src, len);
		rc = blkdev_write(bc->dev, sector, block, bc->sectors_per_block);
		__atomic_add_fetch(&bc->st.writes, 1, __ATOMIC_RELAXED);
	}
	mutex_unlock(&bc->wb_lock);
	kfree(block);
	return rc;
}

bool bis_dirty(struct buf *b)
{
	spin_lock(&b->bc->lock);
	bool dirty = b->dirty;
	spin_unlock(&b->bc->lock);
	return dirty;
}

bool bis_dirty_early(struct buf *b)
{
	spin_lock(&b->bc->lock);
	bool early = b->dirty && b->kind == BK_EARLY;
	spin_unlock(&b->bc->lock);
	return early;
}

int bwrite(struct buf *b)
{
	struct bcache *bc = b->bc;
	int rc = 0;
	mutex_lock(&bc->wb_lock);
	reap_all(bc);   /* b may be in flight; a failed one stays dirty */
	mutex_lock(&b->lock);
	spin_lock(&bc->lock);
	bool dirty = b->dirty && b->valid;
	set_clean(b);
	spin_unlock(&bc->lock);
	if (dirty)
		rc = write_one(bc, b);
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
	if (b && b->refs == 0 && b->dirty) {
		idle_remove(bc, b);
		set_clean(b);
		idle_push(bc, b, true);
	}
	spin_unlock(&bc->lock);
}

void bcache_hasten(struct bcache *bc, uint64_t blockno, enum bkind kind)
{
	spin_lock(&bc->lock);
	struct buf *b = lookup_locked(bc, blockno);
	if (b && b->dirty && phase(kind) < phase(b->kind))
		b->kind = kind;
	spin_unlock(&bc->lock);
}

/* ---- Finding a buffer ------------------------------------------------------ */

/* Write back the oldest idle dirty buffers that may reach the disk at any
 * time (BK_EARLY: see bcache.h), so that eviction finds clean ones at the
 * front of the LRU list: first reap the previous batch (its buffers are the
 * clean ones), then start the next one and return. The others wait for a
 * checkpoint (bcache_flush), which the file system runs when
 * bcache_checkpoint_wanted says so. False if nothing was reaped or
 * started, or if another write-back or a flush is running and wait is
 * false. */
static bool writeback_idle(struct bcache *bc, bool wait)
{
	if (wait)
		mutex_lock(&bc->wb_lock);
	else if (!mutex_trylock(&bc->wb_lock))
		return false;
	struct buf **v = kmalloc(bc->wb_batch * sizeof(*v));
	size_t reaped = bc->wb_count;
	int rc = reap_all(bc);
	size_t n = 0;
	spin_lock(&bc->lock);
	struct list *l = bc->dirty_lru.next;
	while (v && n < bc->wb_batch && l != &bc->dirty_lru) {
		struct buf *b = list_entry(l, struct buf, lru_link);
		l = l->next;
		/* With a journal, what is dirty here is committed or data. */
		if (!bc->join && phase(b->kind) != BK_EARLY)
			continue;
		b->refs++;
		idle_remove(bc, b);
		v[n++] = b;
	}
	if (n == 0 && reaped == 0)
		bc->ckpt_wanted = true;
	spin_unlock(&bc->lock);
	sort_bufs(v, n);
	int wrc = write_bufs(bc, v, n, true, WB_SKIP_BUSY);
	mutex_unlock(&bc->wb_lock);
	if (rc < 0 || wrc < 0)
		kprintf("bcache: %s: write-back error\n", bc->dev->name);
	kfree(v);
	return n > 0 || reaped > 0;
}

/* Take a buffer for a new identity, holding bc->lock: a clean idle one from
 * the LRU when the cache is full, else a new one (grow: a new one in any
 * case; NULL: do write-back and retry, or out of memory). On return with a
 * buffer, bc->lock is held. */
static struct buf *grab_locked(struct bcache *bc, bool *need_wb, bool grow)
{
	*need_wb = false;
	if (bc->nbufs >= bc->max_bufs && !grow) {
		/* Mostly dirty: write some back rather than evict the few clean
		 * buffers, which are the recently used ones then. */
		bool write_first = bc->idle_dirty > bc->max_bufs / 2 || list_empty(&bc->lru);
		if (write_first && (bc->idle_dirty || bc->wb_pinned)) {
			*need_wb = true;
			return NULL;
		}
		if (!list_empty(&bc->lru)) {
			struct buf *b = list_entry(bc->lru.next, struct buf, lru_link);
			idle_remove(bc, b);
			list_remove(&b->hash_link);
			bc->st.evictions++;
			return b;
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
	bool grow = false;
	for (;;) {
		bool need_wb;
		struct buf *b = grab_locked(bc, &need_wb, grow);
		if (need_wb) {
			/* The caller may hold buffer locks that a flush holding
			 * wb_lock waits for: up to twice the bound, grow rather
			 * than wait for wb_lock. */
			bool wait = bc->nbufs >= 2 * bc->max_bufs;
			spin_unlock(&bc->lock);
			grow = !writeback_idle(bc, wait);
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
			idle_push(bc, b, true);
			b->blockno = UINT64_MAX;
			list_push_back(&bc->hash[bucket(bc, UINT64_MAX)], &b->hash_link);
			*raced = true;
			return NULL;
		}
		b->blockno = n;
		b->refs = 1;
		b->valid = false;
		b->dirty = false;
		b->kind = BK_EARLY;
		b->checked = false;
		list_push_back(&bc->hash[bucket(bc, n)], &b->hash_link);
		if (!mutex_trylock(&b->lock))
			panic("bcache: a free buffer was locked");
		return b;
	}
}

/* Completion of a read-ahead (irq context): fill the buffers, release
 * them and wake their waiters. A failed one leaves them invalid: get()
 * reads them again itself. */
static void ra_done(struct blkdev_req *req, int status)
{
	struct ra_io *io = (struct ra_io *)req;
	struct bcache *bc = io->bc;
	for (size_t i = 0; i < io->count && status == 0; i++)
		memcpy(io->bufs[i]->data, io->stage + i * bc->bsize, bc->bsize);
	spin_lock(&bc->lock);
	for (size_t i = 0; i < io->count; i++) {
		struct buf *b = io->bufs[i];
		b->valid = status == 0;
		b->reading = false;
		if (--b->refs == 0)
			idle_push(bc, b, false);
	}
	spin_unlock(&bc->lock);
	kfree(io->stage);
	kfree(io);
	spin_lock(&bc->io_wq.lock);
	bc->nreads--;
	waitq_wake_all_locked(&bc->io_wq);
	spin_unlock(&bc->io_wq.lock);
}

/* Start reading up to want blocks from start that are not cached, without
 * waiting; the first is marked so that a hit on it starts the next window. */
static void ra_launch(struct bcache *bc, uint64_t start, unsigned want)
{
	struct ra_io *io = kmalloc(sizeof(*io));
	if (!io)
		return;
	io->bc = bc;
	io->count = 0;
	uint64_t nblocks = bc->dev->sectors / bc->sectors_per_block;
	spin_lock(&bc->lock);
	if (want > RA_MAX)
		want = RA_MAX;
	if (want > bc->max_bufs / 4)
		want = (unsigned)(bc->max_bufs / 4);
	while (io->count < want && start + io->count < nblocks) {
		if (lookup_locked(bc, start + io->count))
			break;
		bool raced;
		struct buf *b = insert_new_locked(bc, start + io->count, &raced);
		if (!b)
			break;
		b->reading = true;
		io->bufs[io->count++] = b;
	}
	if (io->count) {
		io->bufs[0]->ra_mark = true;
		bc->ra_next = start + io->count;
		bc->last_miss = bc->ra_next - 1;
		bc->st.readahead += io->count;
	}
	spin_unlock(&bc->lock);
	for (size_t i = 0; i < io->count; i++)
		mutex_unlock(&io->bufs[i]->lock);   /* readers wait for !reading */
	if (io->count == 0) {
		kfree(io);
		return;
	}
	io->stage = kmalloc_aligned(io->count * bc->bsize, PAGE_SIZE);
	spin_lock(&bc->io_wq.lock);
	bc->nreads++;
	spin_unlock(&bc->io_wq.lock);
	io->req.done = ra_done;
	if (!io->stage) {
		ra_done(&io->req, -ENOMEM);
		return;
	}
	blkdev_submit(bc->dev, false, start * bc->sectors_per_block, io->stage,
	              (uint32_t)(io->count * bc->sectors_per_block), &io->req);
}

/* Wait until b (referenced) is no longer being read ahead. */
static void wait_read(struct bcache *bc, struct buf *b)
{
	spin_lock(&bc->io_wq.lock);
	for (;;) {
		spin_lock(&bc->lock);
		bool reading = b->reading;
		spin_unlock(&bc->lock);
		if (!reading)
			break;
		waitq_wait_locked(&bc->io_wq, 0);
	}
	spin_unlock(&bc->io_wq.lock);
}

/* Read first (a miss), with the blocks after it in the same request when
 * the misses are sequential; past RA_ASYNC blocks, start reading the next
 * window too, so that the reader finds it ready. */
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
	unsigned window = bc->ra_window;
	unsigned want = seq ? window - 1 : 0;
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
	bc->st.readahead += nra;
	spin_unlock(&bc->lock);

	uint8_t *stage = nra ? kmalloc_aligned((nra + 1) * bc->bsize, PAGE_SIZE) : NULL;
	struct blkdev_req req = { .done = NULL };
	blkdev_submit(bc->dev, false, n * bc->sectors_per_block, stage ? stage : first->data,
	              (uint32_t)((stage ? nra + 1 : 1) * bc->sectors_per_block), &req);
	if (seq && window >= RA_ASYNC)
		ra_launch(bc, n + 1 + nra, window);
	int rc = blkdev_wait(&req);
	if (stage && rc == 0) {
		memcpy(first->data, stage, bc->bsize);
		for (size_t i = 0; i < nra; i++)
			memcpy(ra[i]->data, stage + (i + 1) * bc->bsize, bc->bsize);
	}
	kfree(stage);
	spin_lock(&bc->lock);
	for (size_t i = 0; i < nra; i++)
		ra[i]->valid = rc == 0 && stage;  /* without a stage: left invalid */
	spin_unlock(&bc->lock);
	for (size_t i = 0; i < nra; i++)
		brelse(ra[i]);
	return rc;
}

/* What get does to the contents of the buffer it returns. */
enum fill {
	FILL_READ,                  /* the block's, from the device if not cached */
	FILL_ZERO,                  /* zeros */
	FILL_NONE,                  /* as they are: the caller overwrites them all */
};

static int get(struct bcache *bc, uint64_t n, enum fill fill, struct buf **out)
{
	bool read = fill == FILL_READ;
	*out = NULL;
	if (n >= bc->dev->sectors / bc->sectors_per_block)
		return -EIO;
	for (;;) {
		spin_lock(&bc->lock);
		struct buf *b = lookup_locked(bc, n);
		if (b) {
			if (b->refs++ == 0)
				idle_remove(bc, b);
			bc->st.hits++;
			bool reading = b->reading, mark = b->ra_mark;
			/* Valid with no read-ahead filling it: so it stays while
			 * referenced (a hit need not look again). */
			bool valid = !reading && b->valid;
			b->ra_mark = false;
			uint64_t next = bc->ra_next;
			if (mark && bc->ra_window < RA_MAX)
				bc->ra_window *= 2;
			unsigned window = bc->ra_window;
			spin_unlock(&bc->lock);
			/* The reader reached a read-ahead window: start the next. */
			if (mark && next > n && next - n <= 2 * RA_MAX)
				ra_launch(bc, next, window);
			if (reading)
				wait_read(bc, b);
			mutex_lock(&b->lock);
			if (!valid) {
				spin_lock(&bc->lock);
				valid = b->valid;
				spin_unlock(&bc->lock);
			}
			if (!valid) {
				/* A failed read left it invalid: try again ourselves
				 * (the contents are not wanted but for bread). */
				if (read) {
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
			if (fill == FILL_ZERO)
				memset(b->data, 0, bc->bsize);
			if (!read)
				b->checked = false;
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
		else if (fill == FILL_ZERO)
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
	return get(bc, blockno, FILL_READ, out);
}

int bget_zero(struct bcache *bc, uint64_t blockno, struct buf **out)
{
	return get(bc, blockno, FILL_ZERO, out);
}

int bget_overwrite(struct bcache *bc, uint64_t blockno, struct buf **out)
{
	return get(bc, blockno, FILL_NONE, out);
}

void bcache_set_journal(struct bcache *bc, bcache_join_fn join, void *ctx)
{
	bc->join = join;
	bc->join_ctx = ctx;
}

void bhold(struct buf *b)
{
	spin_lock(&b->bc->lock);
	if (b->refs <= 0)
		panic("bhold: block %lu not referenced", (unsigned long)b->blockno);
	b->refs++;
	spin_unlock(&b->bc->lock);
}

void bcache_journal_done(struct buf *b)
{
	struct bcache *bc = b->bc;
	spin_lock(&bc->lock);
	b->journaled = false;
	if (!bkind_is_data(b->kind)) {
		if (!b->dirty)
			b->dirty_seq = ++bc->dirty_seq;
		set_dirty(bc, b);
	}
	spin_unlock(&bc->lock);
	bput(b);
}

/* Whether a buffer dirty as old, dirtied again as kind, takes kind. File
 * data always takes over from metadata: the block was freed and taken by a
 * file, so what it held is dead, and a journal's commit writes only data
 * kinds before the metadata that exposes them (a committed new directory
 * block, freed, would otherwise keep BK_EARLY and miss that write). Between
 * data kinds, new data wins over overwritten data (a commit must write it
 * first). Between metadata kinds the earliest phase wins (see bcache.h),
 * and metadata wins over data in the same phase (a journal must log it). */
static bool kind_wins(enum bkind kind, enum bkind old)
{
	if (bkind_is_data(kind))
		return !bkind_is_data(old) || (old == BK_DATA && kind == BK_DATA_NEW);
	if (phase(kind) != phase(old))
		return phase(kind) < phase(old);
	return bkind_is_data(old);
}

void bdirty_owned(struct buf *b, enum bkind kind, uint32_t owner)
{
	struct bcache *bc = b->bc;
	b->checked = false;     /* changed: no longer known to be valid */
	if (!bkind_is_data(kind) && bc->join && bc->join(bc->join_ctx, b)) {
		spin_lock(&bc->lock);
		set_clean(b);       /* home only after the commit (bcache_journal_done) */
		b->kind = kind;
		b->owner = owner;
		spin_unlock(&bc->lock);
		return;
	}
	spin_lock(&bc->lock);
	if (!b->dirty) {
		b->dirty_seq = ++bc->dirty_seq;
		b->kind = kind;
		b->owner = owner;
	} else {
		if (kind_wins(kind, b->kind))
			b->kind = kind;
		if (owner)
			b->owner = owner;
	}
	set_dirty(bc, b);
	spin_unlock(&bc->lock);
}

void bdirty_kind(struct buf *b, enum bkind kind)
{
	bdirty_owned(b, kind, 0);
}

void bdirty(struct buf *b, bool meta)
{
	bdirty_kind(b, meta ? BK_LINKS : BK_DATA);
}

int bwrite_new(struct buf *b)
{
	struct bcache *bc = b->bc;
	if (bc->join) {
		/* The transaction orders it: in the log before anything that
		 * names it commits, home after. */
		bdirty_kind(b, BK_EARLY);
		return 0;
	}
	/* Started, not waited for: every write-back reaps the writes in
	 * flight before it writes anything, so this one is on disk before
	 * the checkpoint that writes the inode naming b (its first phase
	 * flushes the device after reaping it) and before any later write
	 * of b. The request writes a copy: the caller may change b at once.
	 * wb_lock only tried (the caller holds b's lock): a flush or an
	 * eviction running, write it synchronously. */
	struct wb_io *io = NULL;
	if (mutex_trylock(&bc->wb_lock)) {
		io = new_run(bc, 1, false);
		if (!io)
			mutex_unlock(&bc->wb_lock);
	}
	spin_lock(&bc->lock);
	set_clean(b);
	if (io)
		b->refs++;              /* the request's */
	spin_unlock(&bc->lock);
	if (!io)
		return write_one(bc, b);
	memcpy(io->stage, b->data, bc->bsize);
	io->bufs[io->count++] = b;
	io->fresh = true;
	submit_run(bc, io);         /* an older write's error: dirty again, for the next flush */
	mutex_unlock(&bc->wb_lock);
	return 0;
}

bool bcache_checkpoint_wanted(struct bcache *bc)
{
	spin_lock(&bc->lock);
	bool wanted = bc->ckpt_wanted;
	spin_unlock(&bc->lock);
	return wanted;
}

uint64_t bcache_checkpoints(struct bcache *bc)
{
	return __atomic_load_n(&bc->checkpoints, __ATOMIC_ACQUIRE);
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
	if (--b->refs == 0)
		idle_push(bc, b, cold);
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
