/*
 * test_blkdev.c: the posix disk driver and the kernel's blocking block layer.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "blkdev.h"
#include "hal.h"
#include "harness.h"
#include "thread.h"

#define IMG_SECTORS 8192    /* 4 MiB */

static char img[256];

static void make_image(const char *dir)
{
	snprintf(img, sizeof(img), "%s/blk-%d.img", dir, getpid());
	FILE *f = fopen(img, "w");
	cr_assert(f);
	cr_assert_eq(ftruncate(fileno(f), IMG_SECTORS * 512), 0);
	fclose(f);
}

struct result {
	int count;
	uint64_t sectors;
	int rw, rd, cmp, flush, range, zero;
	int threads_ok;
};

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7);
}

struct worker_arg {
	struct blkdev *dev;
	unsigned id;
	int ok;
};

static int worker(void *arg)
{
	struct worker_arg *w = arg;
	uint8_t *a = kmalloc_aligned(8 * 512, 4096), *b = kmalloc_aligned(8 * 512, 4096);
	w->ok = 1;
	for (unsigned round = 0; round < 50; round++) {
		uint64_t sector = 1024 + (w->id * 50 + round) * 8;
		fill(a, 8 * 512, w->id * 1000 + round);
		if (blkdev_write(w->dev, sector, a, 8) != 0 || blkdev_read(w->dev, sector, b, 8) != 0 ||
		    memcmp(a, b, 8 * 512) != 0)
			w->ok = 0;
	}
	kfree(a);
	kfree(b);
	return 0;
}

static int body(void *arg)
{
	struct result *r = arg;
	r->count = (int)blkdev_count();
	struct blkdev *d = blkdev_get(0);
	if (!d)
		return 1;
	r->sectors = d->sectors;
	uint8_t *a = kmalloc_aligned(64 * 512, 4096), *b = kmalloc_aligned(64 * 512, 4096);
	fill(a, 64 * 512, 7);
	r->rw = blkdev_write(d, 100, a, 64);
	memset(b, 0, 64 * 512);
	r->rd = blkdev_read(d, 100, b, 64);
	r->cmp = memcmp(a, b, 64 * 512);
	r->flush = blkdev_flush(d);
	r->range = blkdev_read(d, IMG_SECTORS - 1, b, 2);
	r->zero = blkdev_read(d, 0, b, 1) == 0 && b[0] == 0 && b[511] == 0;

	struct worker_arg wa[4];
	struct thread *t[4];
	for (unsigned i = 0; i < 4; i++) {
		wa[i] = (struct worker_arg){ d, i, 0 };
		t[i] = thread_create(i % hal_cpu_count(), worker, &wa[i], 0);
	}
	r->threads_ok = 1;
	for (unsigned i = 0; i < 4; i++) {
		thread_join(t[i]);
		r->threads_ok &= wa[i].ok;
	}
	kfree(a);
	kfree(b);
	return 0;
}

Test(blkdev, read_write_flush_range)
{
	make_image("/tmp");
	struct posix_config cfg = { .cpus = 2, .ndisks = 1 };
	cfg.disk_path[0] = img;
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel_cfg(&cfg, body, &r), 0);
	cr_expect_eq(r.count, 1);
	cr_expect_eq(r.sectors, IMG_SECTORS);
	cr_expect_eq(r.rw, 0);
	cr_expect_eq(r.rd, 0);
	cr_expect_eq(r.cmp, 0);
	cr_expect_eq(r.flush, 0);
	cr_expect_eq(r.range, -EINVAL);
	cr_expect(r.zero);
	cr_expect(r.threads_ok);

	/* The data reached the image file. */
	FILE *f = fopen(img, "r");
	uint8_t want[512], got[512];
	fill(want, 512, 7);
	fseek(f, 100 * 512, SEEK_SET);
	cr_assert_eq(fread(got, 1, 512, f), 512);
	fclose(f);
	cr_expect_eq(memcmp(want, got, 512), 0);
	unlink(img);
}

/* Also on a host file system that refuses O_DIRECT (tmpfs), if there is one. */
Test(blkdev, buffered_fallback)
{
	if (access("/dev/shm", W_OK) != 0)
		return;
	make_image("/dev/shm");
	struct posix_config cfg = { .cpus = 2, .ndisks = 1 };
	cfg.disk_path[0] = img;
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel_cfg(&cfg, body, &r), 0);
	cr_expect_eq(r.rw, 0);
	cr_expect_eq(r.cmp, 0);
	cr_expect_eq(r.flush, 0);
	cr_expect(r.threads_ok);
	unlink(img);
}

static int ro_body(void *arg)
{
	int *rc = arg;
	struct blkdev *d = blkdev_get(0);
	uint8_t *a = kmalloc_aligned(512, 512);
	memset(a, 1, 512);
	rc[0] = blkdev_write(d, 0, a, 1);
	rc[1] = blkdev_read(d, 0, a, 1);
	rc[2] = blkdev_get(1) == NULL;
	kfree(a);
	return 0;
}

Test(blkdev, read_only)
{
	make_image("/tmp");
	struct posix_config cfg = { .cpus = 1, .ndisks = 1 };
	cfg.disk_path[0] = img;
	cfg.disk_read_only[0] = true;
	int rc[3] = { 1, 1, 0 };
	cr_assert_eq(run_in_kernel_cfg(&cfg, ro_body, rc), 0);
	cr_expect_eq(rc[0], -EROFS);
	cr_expect_eq(rc[1], 0);
	cr_expect(rc[2]);
	unlink(img);
}

Test(blkdev, missing_image_is_status_2)
{
	struct posix_config cfg = { .cpus = 1, .ndisks = 1 };
	cfg.disk_path[0] = "/nonexistent/disk.img";
	int rc[3];
	cr_expect_eq(run_in_kernel_cfg(&cfg, ro_body, rc), 2);
}

Test(blkdev, parse_disk_option)
{
	struct posix_config cfg = { 0 };
	char a0[] = "svc", a1[] = "--disk", a2[] = "a.img", a3[] = "x", a4[] = "--disk",
	     a5[] = "b.img,ro";
	char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };
	int argc = hal_posix_parse_options(&cfg, 6, argv);
	cr_assert_eq(argc, 2);
	cr_expect_str_eq(argv[1], "x");
	cr_assert_eq(cfg.ndisks, 2);
	cr_expect_str_eq(cfg.disk_path[0], "a.img");
	cr_expect(!cfg.disk_read_only[0]);
	cr_expect_str_eq(cfg.disk_path[1], "b.img");
	cr_expect(cfg.disk_read_only[1]);
}

/* Injected device errors come back as -EIO through the completion. */
static int inject_body(void *arg)
{
	int *rc = arg;
	struct blkdev *d = blkdev_get(0);
	uint8_t *a = kmalloc_aligned(4096, 4096);
	memset(a, 5, 4096);
	hal_posix_blk_fail(0, 1u << HAL_BLK_READ, 1);
	rc[0] = blkdev_read(d, 0, a, 8);        /* still fine */
	rc[1] = blkdev_read(d, 0, a, 8);        /* fails */
	rc[2] = blkdev_write(d, 0, a, 8);       /* writes unaffected */
	hal_posix_blk_fail(0, 1u << HAL_BLK_WRITE | 1u << HAL_BLK_FLUSH, 0);
	rc[3] = blkdev_write(d, 0, a, 8);
	rc[4] = blkdev_flush(d);
	hal_posix_blk_fail(0, 0, 0);
	rc[5] = blkdev_read(d, 0, a, 8);
	rc[6] = blkdev_flush(d);
	kfree(a);
	return 0;
}

Test(blkdev, injected_errors)
{
	make_image("/tmp");
	struct posix_config cfg = { .cpus = 1, .ndisks = 1 };
	cfg.disk_path[0] = img;
	int rc[7];
	memset(rc, 0x7f, sizeof(rc));
	cr_assert_eq(run_in_kernel_cfg(&cfg, inject_body, rc), 0);
	int want[7] = { 0, -EIO, 0, -EIO, -EIO, 0, 0 };
	for (int i = 0; i < 7; i++)
		cr_expect_eq(rc[i], want[i], "step %d: %d", i, rc[i]);
	unlink(img);
}
