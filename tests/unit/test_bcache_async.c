/*
 * test_bcache_async.c: the block cache's requests in flight: asynchronous
 * read-ahead (contents, waiting readers on several CPUs, a bget_zero in the
 * window, destroy while it is in flight), several writes in flight on a
 * flush with a failing device (-EIO, and the failed blocks are written by
 * the next flush), eviction write-back under a small bound.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "bcache.h"
#include "blkdev.h"
#include "hal.h"
#include "harness.h"
#include "thread.h"

#define BS 4096
#define SPB (BS / 512)
#define NBLK 4096           /* 16 MiB image */

static char img[256];

static void make_image(void)
{
	snprintf(img, sizeof(img), "/tmp/bcache-async-%d.img", getpid());
	FILE *f = fopen(img, "w");
	cr_assert(f);
	cr_assert_eq(ftruncate(fileno(f), (off_t)NBLK * BS), 0);
	fclose(f);
}

static uint32_t word(uint64_t blk, unsigned gen) { return (uint32_t)(blk * 2654435761u + gen); }

static bool block_is(const uint8_t *p, uint64_t blk, unsigned gen)
{
	uint32_t w;
	memcpy(&w, p, 4);
	uint32_t tail;
	memcpy(&tail, p + BS - 4, 4);
	return w == word(blk, gen) && tail == word(blk, gen);
}

static void stamp(uint8_t *p, uint64_t blk, unsigned gen)
{
	uint32_t w = word(blk, gen);
	memset(p, 0, BS);
	memcpy(p, &w, 4);
	memcpy(p + BS - 4, &w, 4);
}

/* Put generation gen of blocks [from, to) on the device directly. */
static int fill_device(struct blkdev *dev, uint64_t from, uint64_t to, unsigned gen)
{
	uint8_t *p = kmalloc_aligned(BS, 4096);
	int rc = 0;
	for (uint64_t b = from; b < to && rc == 0; b++) {
		stamp(p, b, gen);
		rc = blkdev_write(dev, b * SPB, p, SPB);
	}
	kfree(p);
	return rc;
}

/* Blocks of [from, to) on the device that do not hold generation gen. */
static int check_device(struct blkdev *dev, uint64_t from, uint64_t to, unsigned gen)
{
	uint8_t *p = kmalloc_aligned(BS, 4096);
	int bad = 0;
	for (uint64_t b = from; b < to; b++)
		if (blkdev_read(dev, b * SPB, p, SPB) != 0 || !block_is(p, b, gen))
			bad++;
	kfree(p);
	return bad;
}

struct reader {
	struct bcache *bc;
	uint64_t from, to;
	int bad;
};

static int read_seq(void *arg)
{
	struct reader *r = arg;
	for (uint64_t n = r->from; n < r->to; n++) {
		struct buf *b;
		if (bread(r->bc, n, &b) != 0) {
			r->bad++;
			continue;
		}
		if (!block_is(b->data, n, 1))
			r->bad++;
		brelse(b);
	}
	return 0;
}

struct ra_res {
	int setup, bad_seq, bad_threads, zeroed, bad_after_zero;
	struct bcache_stats st;
};

static int ra_body(void *arg)
{
	struct ra_res *r = arg;
	struct blkdev *dev = blkdev_get(0);
	r->setup = fill_device(dev, 0, NBLK, 1);
	/* 512 buffers: read-ahead windows are capped at a quarter. */
	struct bcache *bc = bcache_create(dev, BS, 512 * BS);
	struct reader one = { bc, 100, 2100, 0 };
	read_seq(&one);
	r->bad_seq = one.bad;
	bcache_stats(bc, &r->st);
	/* Two readers on two CPUs over the same fresh range: one waits for
	 * the other's read-ahead. */
	struct reader ta[2] = { { bc, 2200, 3200, 0 }, { bc, 2200, 3200, 0 } };
	struct thread *th[2];
	for (int i = 0; i < 2; i++)
		th[i] = thread_create((unsigned)i % hal_cpu_count(), read_seq, &ta[i], 0);
	for (int i = 0; i < 2; i++)
		thread_join(th[i]);
	r->bad_threads = ta[0].bad + ta[1].bad;
	/* A sequential run starts read-ahead past 3420; zero a block in it. */
	struct reader lead = { bc, 3400, 3420, 0 };
	read_seq(&lead);
	struct buf *b;
	if (bget_zero(bc, 3430, &b) == 0) {
		r->zeroed = b->data[0] == 0 && b->data[BS - 1] == 0;
		brelse(b);
	}
	struct reader after = { bc, 3431, 3600, 0 };
	read_seq(&after);
	r->bad_after_zero = lead.bad + after.bad;
	/* Destroy with read-ahead in flight: it waits for it. */
	struct reader last = { bc, 3700, 3730, 0 };
	read_seq(&last);
	bcache_destroy(bc);
	return 0;
}

Test(bcache_async, readahead_contents_waiters_destroy)
{
	make_image();
	struct posix_config cfg = { .cpus = 2, .ndisks = 1 };
	cfg.disk_path[0] = img;
	static struct ra_res r;
	cr_assert_eq(run_in_kernel_cfg(&cfg, ra_body, &r), 0);
	cr_expect_eq(r.setup, 0);
	cr_expect_eq(r.bad_seq, 0, "sequential contents: %d bad", r.bad_seq);
	cr_expect_gt(r.st.readahead, 1900, "read ahead %lu of 2000", (unsigned long)r.st.readahead);
	cr_expect_lt(r.st.misses, 20, "%lu misses for 2000 sequential blocks",
	             (unsigned long)r.st.misses);
	cr_expect_eq(r.bad_threads, 0, "two readers: %d bad", r.bad_threads);
	cr_expect(r.zeroed, "bget_zero in a read-ahead window gives zeros");
	cr_expect_eq(r.bad_after_zero, 0);
	unlink(img);
}

struct wb_res {
	int setup, first, second, bad, bad_evict, evict_flush;
	struct bcache_stats st;
};

/* Dirty blocks [from, to) with generation gen, every other one metadata. */
static int dirty_range(struct bcache *bc, uint64_t from, uint64_t to, unsigned gen)
{
	int errors = 0;
	for (uint64_t n = from; n < to; n++) {
		struct buf *b;
		if (bget_zero(bc, n, &b) != 0) {
			errors++;
			continue;
		}
		stamp(b->data, n, gen);
		bdirty(b, false);   /* BK_EARLY: eviction may write it */
		brelse(b);
	}
	return errors;
}

static int wb_body(void *arg)
{
	struct wb_res *r = arg;
	struct blkdev *dev = blkdev_get(0);
	r->setup = fill_device(dev, 0, 2000, 1);
	/* Big enough for no eviction: the flush writes 1800 blocks in runs
	 * of up to 256, several in flight, and the device fails after 3. */
	struct bcache *bc = bcache_create(dev, BS, 4096 * BS);
	r->setup += dirty_range(bc, 100, 1900, 2);
	hal_posix_blk_fail(0, 1u << HAL_BLK_WRITE, 3);
	r->first = bcache_flush(bc);
	hal_posix_blk_fail(0, 0, 0);
	r->second = bcache_flush(bc);
	r->bad = check_device(dev, 100, 1900, 2);
	bcache_destroy(bc);
	/* Eviction under a 64-buffer bound: batches in flight while the
	 * writer goes on; the flush reaps them. */
	bc = bcache_create(dev, BS, 64 * BS);
	r->setup += dirty_range(bc, 2000, 3500, 3);
	bcache_stats(bc, &r->st);
	r->evict_flush = bcache_flush(bc);
	r->bad_evict = check_device(dev, 2000, 3500, 3);
	bcache_destroy(bc);
	return 0;
}

Test(bcache_async, writes_in_flight_errors_eviction)
{
	make_image();
	struct posix_config cfg = { .cpus = 2, .ndisks = 1 };
	cfg.disk_path[0] = img;
	static struct wb_res r;
	cr_assert_eq(run_in_kernel_cfg(&cfg, wb_body, &r), 0);
	cr_expect_eq(r.setup, 0);
	cr_expect_eq(r.first, -EIO, "failing writes: flush %d", r.first);
	cr_expect_eq(r.second, 0, "the next flush writes what failed: %d", r.second);
	cr_expect_eq(r.bad, 0, "%d blocks not on disk", r.bad);
	cr_expect_leq(r.st.buffers, 64, "bounded: %zu buffers", r.st.buffers);
	cr_expect_gt(r.st.evictions, 1000);
	cr_expect_eq(r.evict_flush, 0);
	cr_expect_eq(r.bad_evict, 0, "%d evicted blocks not on disk", r.bad_evict);
	unlink(img);
}

/*
 * A flush that waits for a buffer a writer holds, while that writer misses
 * the cache and the cache is full of buffers dirtied after the flush began:
 * eviction must not wait for the flush's wb_lock (both would wait forever);
 * the writer gets a buffer and lets go, and the flush ends.
 */
struct held_res {
	int setup, flush_rc, bad;
	bool got;
	struct bcache_stats st;
};

struct flusher {
	struct bcache *bc;
	int rc;
};

static int flush_thread(void *arg)
{
	struct flusher *f = arg;
	f->rc = bcache_flush(f->bc);
	return 0;
}

static int held_body(void *arg)
{
	struct held_res *r = arg;
	struct blkdev *dev = blkdev_get(0);
	struct bcache *bc = bcache_create(dev, BS, 64 * BS);
	struct buf *x, *y;
	r->setup = bget_zero(bc, 0, &x);        /* held, locked, to the end */
	stamp(x->data, 0, 5);
	bdirty(x, false);
	struct flusher f = { bc, 1 };
	struct thread *t = thread_create(1, flush_thread, &f, 0);
	thread_sleep_ms(50);                    /* the flush now waits for x */
	r->setup += dirty_range(bc, 1, 64, 5);  /* full, dirty after the flush began */
	r->got = bget_zero(bc, 100, &y) == 0;   /* the miss */
	if (r->got) {
		stamp(y->data, 100, 5);
		bdirty(y, false);
		brelse(y);
	}
	brelse(x);
	thread_join(t);
	r->flush_rc = f.rc;
	bcache_stats(bc, &r->st);
	r->setup += bcache_flush(bc);
	r->bad = check_device(dev, 0, 64, 5) + check_device(dev, 100, 101, 5);
	bcache_destroy(bc);
	return 0;
}

Test(bcache_async, miss_while_a_flush_waits_for_a_held_buffer, .timeout = 60)
{
	make_image();
	struct posix_config cfg = { .cpus = 2, .ndisks = 1 };
	cfg.disk_path[0] = img;
	static struct held_res r;
	cr_assert_eq(run_in_kernel_cfg(&cfg, held_body, &r), 0);
	cr_expect_eq(r.setup, 0);
	cr_expect(r.got, "the miss got a buffer");
	cr_expect_eq(r.flush_rc, 0);
	cr_expect_leq(r.st.buffers, 128, "at most twice the bound: %zu", r.st.buffers);
	cr_expect_eq(r.bad, 0, "%d blocks not on disk", r.bad);
	unlink(img);
}
