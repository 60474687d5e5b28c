/*
 * test_bcache_overwrite.c: blocks the cache writes without reading them
 * first. bget_overwrite never reads the device (every read fails meanwhile),
 * cached or not, and what the caller puts in reaches the disk; a partial
 * change (bread) still reads, and keeps the rest of the block. bwrite_new
 * writes the block as it was when called, without waiting: the flush after
 * finds that copy on disk, and a later change is a write of its own.
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

#define BS 4096
#define SPB (BS / 512)
#define NBLK 256            /* 1 MiB image */

static char img[256];

static void make_image(void)
{
	snprintf(img, sizeof(img), "/tmp/bcache-overwrite-%d.img", getpid());
	FILE *f = fopen(img, "w");
	cr_assert(f);
	cr_assert_eq(ftruncate(fileno(f), (off_t)NBLK * BS), 0);
	fclose(f);
}

static uint32_t word(uint64_t blk, unsigned gen) { return (uint32_t)(blk * 2654435761u + gen); }

/* Generation head of block blk in its first word, tail in its last. */
static void stamp2(uint8_t *p, uint64_t blk, unsigned head, unsigned tail)
{
	uint32_t h = word(blk, head), t = word(blk, tail);
	memset(p, 0, BS);
	memcpy(p, &h, 4);
	memcpy(p + BS - 4, &t, 4);
}

static bool holds(const uint8_t *p, uint64_t blk, unsigned head, unsigned tail)
{
	uint32_t h, t;
	memcpy(&h, p, 4);
	memcpy(&t, p + BS - 4, 4);
	return h == word(blk, head) && t == word(blk, tail);
}

/* Whether block blk on the device holds generations head and tail. */
static bool on_disk(struct blkdev *dev, uint64_t blk, unsigned head, unsigned tail)
{
	uint8_t *p = kmalloc_aligned(BS, 4096);
	bool ok = blkdev_read(dev, blk * SPB, p, SPB) == 0 && holds(p, blk, head, tail);
	kfree(p);
	return ok;
}

struct res {
	int setup;
	int cached_read;        /* bread of block 11 before reads fail */
	int over_miss;          /* bget_overwrite of 10 (not cached), reads failing */
	int over_hit;           /* bget_overwrite of 11 (cached), reads failing */
	int partial_failing;    /* bread of 12 (not cached), reads failing */
	int partial;            /* bread of 12 after */
	int flush1, flush2, flush3;
	bool disk10, disk11, disk12;
	int new_rc;
	bool new_copy, new_later;
};

static int body(void *arg)
{
	struct res *r = arg;
	struct blkdev *dev = blkdev_get(0);
	uint8_t *p = kmalloc_aligned(BS, 4096);
	for (uint64_t n = 0; n < 32; n++) {
		stamp2(p, n, 1, 1);
		r->setup += blkdev_write(dev, n * SPB, p, SPB) != 0;
	}
	kfree(p);
	struct bcache *bc = bcache_create(dev, BS, 64 * BS);
	struct buf *b;

	r->cached_read = bread(bc, 11, &b);
	if (r->cached_read == 0)
		brelse(b);
	hal_posix_blk_fail(0, 1u << HAL_BLK_READ, 0);
	r->over_miss = bget_overwrite(bc, 10, &b);
	if (r->over_miss == 0) {
		stamp2(b->data, 10, 2, 2);
		bdirty(b, false);
		brelse(b);
	}
	r->over_hit = bget_overwrite(bc, 11, &b);
	if (r->over_hit == 0) {
		stamp2(b->data, 11, 2, 2);
		bdirty(b, false);
		brelse(b);
	}
	r->partial_failing = bread(bc, 12, &b);
	if (r->partial_failing == 0)
		brelse(b);
	hal_posix_blk_fail(0, 0, 0);
	/* A partial change: the first word only; the tail stays as read. */
	r->partial = bread(bc, 12, &b);
	if (r->partial == 0) {
		uint32_t w = word(12, 3);
		memcpy(b->data, &w, 4);
		bdirty(b, false);
		brelse(b);
	}
	r->flush1 = bcache_flush(bc);
	r->disk10 = on_disk(dev, 10, 2, 2);
	r->disk11 = on_disk(dev, 11, 2, 2);
	r->disk12 = on_disk(dev, 12, 3, 1);

	/* bwrite_new: the block as it is at the call; the change after it,
	 * not dirtied, is not written by the flush; once dirtied, it is. */
	r->new_rc = bget_zero(bc, 20, &b);
	if (r->new_rc == 0) {
		stamp2(b->data, 20, 4, 4);
		r->new_rc = bwrite_new(b);
		stamp2(b->data, 20, 5, 5);
		brelse(b);
	}
	r->flush2 = bcache_flush(bc);
	r->new_copy = on_disk(dev, 20, 4, 4);
	if (bread(bc, 20, &b) == 0) {
		bdirty(b, true);
		brelse(b);
	}
	r->flush3 = bcache_flush(bc);
	r->new_later = on_disk(dev, 20, 5, 5);
	bcache_destroy(bc);
	return 0;
}

Test(bcache_overwrite, never_read_partial_read_new_block_copy)
{
	make_image();
	struct posix_config cfg = { .cpus = 1, .ndisks = 1 };
	cfg.disk_path[0] = img;
	static struct res r;
	cr_assert_eq(run_in_kernel_cfg(&cfg, body, &r), 0);
	cr_expect_eq(r.setup, 0);
	cr_expect_eq(r.cached_read, 0);
	cr_expect_eq(r.over_miss, 0, "bget_overwrite of an uncached block read it: %d", r.over_miss);
	cr_expect_eq(r.over_hit, 0, "bget_overwrite of a cached block read it: %d", r.over_hit);
	cr_expect_eq(r.partial_failing, -EIO, "bread did not read: %d", r.partial_failing);
	cr_expect_eq(r.partial, 0);
	cr_expect_eq(r.flush1, 0);
	cr_expect(r.disk10, "overwritten uncached block not on disk");
	cr_expect(r.disk11, "overwritten cached block not on disk");
	cr_expect(r.disk12, "partial change lost the rest of the block, or is not on disk");
	cr_expect_eq(r.new_rc, 0);
	cr_expect_eq(r.flush2, 0);
	cr_expect(r.new_copy, "bwrite_new did not write the block as it was at the call");
	cr_expect_eq(r.flush3, 0);
	cr_expect(r.new_later, "the change after bwrite_new is not on disk");
	unlink(img);
}
