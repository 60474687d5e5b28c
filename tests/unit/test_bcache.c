/*
 * test_bcache.c: the block cache: write-back through eviction under a
 * small memory bound, flush, read-ahead on sequential reads, the
 * per-buffer lock under threads on several CPUs, forget.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "bcache.h"
#include "blkdev.h"
#include "hal.h"
#include "harness.h"
#include "thread.h"

#define BS 1024
#define NBLK 4096           /* 4 MiB image */

static char img[256];

static void make_image(void)
{
	snprintf(img, sizeof(img), "/tmp/bcache-%d.img", getpid());
	FILE *f = fopen(img, "w");
	cr_assert(f);
	cr_assert_eq(ftruncate(fileno(f), (off_t)NBLK * BS), 0);
	fclose(f);
}

static uint32_t word(uint64_t blk, unsigned i) { return (uint32_t)(blk * 2654435761u + i); }

struct res {
	int errors;
	struct bcache_stats after_writes, after_reads, after_seq;
	int flush, verify, reread, forget_kept;
	uint32_t counters_sum;
};

#define THREADS 4
#define ROUNDS 300

struct tharg {
	struct bcache *bc;
	int id, errors;
};

static int hammer(void *arg)
{
	struct tharg *t = arg;
	for (int r = 0; r < ROUNDS; r++) {
		struct buf *b;
		uint64_t blk = 3000 + (uint64_t)((r * 7 + t->id) % 16);
		if (bread(t->bc, blk, &b) != 0) {
			t->errors++;
			continue;
		}
		uint32_t v;
		memcpy(&v, b->data, 4);
		if (r % 5 == 0)
			thread_yield();     /* hold the buffer lock across a switch */
		v++;
		memcpy(b->data, &v, 4);
		bdirty(b, false);
		brelse(b);
	}
	return 0;
}

static int body(void *arg)
{
	struct res *r = arg;
	struct blkdev *dev = blkdev_get(0);
	struct bcache *bc = bcache_create(dev, BS, 64 * BS);
	if (!bc)
		return 1;
	/* Writes: 1000 blocks through a 64-buffer cache. */
	for (uint64_t blk = 10; blk < 1010; blk++) {
		struct buf *b;
		if (bget_zero(bc, blk, &b) != 0) {
			r->errors++;
			continue;
		}
		for (unsigned i = 0; i < BS / 4; i++) {
			uint32_t w = word(blk, i);
			memcpy(b->data + 4 * i, &w, 4);
		}
		bdirty(b, false);   /* BK_EARLY: eviction may write it (BK_LINKS waits for a checkpoint) */
		brelse(b);
	}
	bcache_stats(bc, &r->after_writes);
	r->flush = bcache_flush(bc);
	/* Straight from the device: every block arrived. */
	uint8_t *raw = kmalloc_aligned(BS, 4096);
	for (uint64_t blk = 10; blk < 1010; blk++) {
		blkdev_read(dev, blk * (BS / 512), raw, BS / 512);
		for (unsigned i = 0; i < BS / 4; i++) {
			uint32_t w;
			memcpy(&w, raw + 4 * i, 4);
			if (w != word(blk, i)) {
				r->verify++;
				break;
			}
		}
	}
	/* Random re-reads through the cache. */
	for (uint64_t k = 0; k < 300; k++) {
		uint64_t blk = 10 + (k * 337) % 1000;
		struct buf *b;
		uint32_t w;
		if (bread(bc, blk, &b) != 0) {
			r->errors++;
			continue;
		}
		memcpy(&w, b->data + 8, 4);
		if (w != word(blk, 2))
			r->reread++;
		brelse(b);
	}
	bcache_stats(bc, &r->after_reads);
	/* Sequential reads: read-ahead kicks in. */
	for (uint64_t blk = 2000; blk < 2200; blk++) {
		struct buf *b;
		if (bread(bc, blk, &b) != 0)
			r->errors++;
		else
			brelse(b);
	}
	bcache_stats(bc, &r->after_seq);
	/* Forget: a dirty block that was freed is not written. */
	struct buf *b;
	bread(bc, 2500, &b);
	memset(b->data, 0xab, BS);
	bdirty(b, false);
	brelse(b);
	bcache_forget(bc, 2500);
	bcache_flush(bc);
	blkdev_read(dev, 2500 * (BS / 512), raw, BS / 512);
	r->forget_kept = raw[0] == 0;
	/* Threads on all CPUs incrementing counters under the buffer lock. */
	struct tharg ta[THREADS];
	struct thread *th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		ta[i] = (struct tharg){ bc, i, 0 };
		th[i] = thread_create((unsigned)i % hal_cpu_count(), hammer, &ta[i], 0);
	}
	for (int i = 0; i < THREADS; i++) {
		thread_join(th[i]);
		r->errors += ta[i].errors;
	}
	bcache_flush(bc);
	for (uint64_t blk = 3000; blk < 3016; blk++) {
		blkdev_read(dev, blk * (BS / 512), raw, BS / 512);
		uint32_t v;
		memcpy(&v, raw, 4);
		r->counters_sum += v;
	}
	kfree(raw);
	bcache_destroy(bc);
	return 0;
}

Test(bcache, writeback_eviction_readahead_locking)
{
	make_image();
	struct posix_config cfg = { .cpus = 2, .ndisks = 1 };
	cfg.disk_path[0] = img;
	static struct res r;
	cr_assert_eq(run_in_kernel_cfg(&cfg, body, &r), 0);
	cr_expect_eq(r.errors, 0);
	cr_expect_leq(r.after_writes.buffers, 64, "bounded: %zu buffers", r.after_writes.buffers);
	cr_expect_gt(r.after_writes.evictions, 0);
	cr_expect_gt(r.after_writes.writes, 0, "eviction wrote back");
	cr_expect_lt(r.after_writes.writes, 1000, "write-back coalesced (%lu requests)",
	             (unsigned long)r.after_writes.writes);
	cr_expect_eq(r.flush, 0);
	cr_expect_eq(r.verify, 0, "blocks on disk");
	cr_expect_eq(r.reread, 0, "blocks re-read");
	cr_expect_gt(r.after_seq.readahead, r.after_reads.readahead, "read-ahead on sequential reads");
	cr_expect_lt(r.after_seq.misses - r.after_reads.misses, 100,
	             "sequential misses %lu for 200 blocks",
	             (unsigned long)(r.after_seq.misses - r.after_reads.misses));
	cr_expect(r.forget_kept);
	cr_expect_eq(r.counters_sum, THREADS * ROUNDS, "no lost increments: %u", r.counters_sum);
	unlink(img);
}
