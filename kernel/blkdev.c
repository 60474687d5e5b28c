/*
 * blkdev.c: blocking block I/O for kernel threads (kernel/blkdev.h).
 *
 * A request is submitted with hal_blk_submit; the calling thread sleeps on a
 * wait queue in a record on its own stack until the completion handler (irq
 * context, on the submitting CPU) records the status and wakes it. The
 * handler releases the queue's lock before the sleeper can take it, so the
 * record is never touched after the sleeper returns.
 */
#include <errno.h>
#include <string.h>

#include "blkdev.h"
#include "console.h"
#include "hal.h"
#include "spinlock.h"
#include "waitq.h"

#define BLKDEV_MAX 16

static struct blkdev devs[BLKDEV_MAX];
static struct spinlock devs_lock = SPINLOCK_INIT("blkdev");

unsigned blkdev_count(void)
{
	unsigned n = hal_blk_count();
	return n > BLKDEV_MAX ? BLKDEV_MAX : n;
}

struct blkdev *blkdev_get(unsigned index)
{
	if (index >= blkdev_count())
		return NULL;
	struct hal_blkdev *h = hal_blk_get(index);
	if (!h)
		return NULL;
	struct hal_blk_info info;
	hal_blk_info(h, &info);
	spin_lock(&devs_lock);
	struct blkdev *d = &devs[index];
	/* Refreshed on every call: a hosted process may boot more than once. */
	d->hal = h;
	d->sectors = info.sectors;
	d->sector_size = info.sector_size;
	d->read_only = info.read_only;
	memcpy(d->name, info.name, sizeof(d->name));
	d->name[sizeof(d->name) - 1] = '\0';
	spin_unlock(&devs_lock);
	return d;
}

static void blk_done(void *arg, int status)
{
	struct blkdev_req *req = arg;
	if (req->done) {
		req->done(req, status);     /* may free req */
		return;
	}
	spin_lock(&req->wq.lock);
	req->status = status;
	req->finished = true;
	waitq_wake_all_locked(&req->wq);
	spin_unlock(&req->wq.lock);
}

static int blk_start(struct blkdev *dev, enum hal_blk_op op, uint64_t sector,
                     void *buf, uint32_t count, struct blkdev_req *req)
{
	if (!dev)
		return -EINVAL;
	if (op != HAL_BLK_FLUSH) {
		if (count == 0 || sector > dev->sectors || count > dev->sectors - sector)
			return -EINVAL;
		if ((uintptr_t)buf % dev->sector_size)
			panic("blkdev: %s: buffer %p not sector aligned", dev->name, buf);
	}
	if (op != HAL_BLK_READ && dev->read_only)
		return -EROFS;
	return hal_blk_submit(dev->hal, op, sector, buf, count, blk_done, req);
}

int blkdev_submit(struct blkdev *dev, bool write, uint64_t sector, void *buf, uint32_t count,
                  struct blkdev_req *req)
{
	waitq_init(&req->wq, "blkdev.io");
	req->finished = false;
	req->status = 0;
	int rc = blk_start(dev, write ? HAL_BLK_WRITE : HAL_BLK_READ, sector, buf, count, req);
	if (rc < 0)
		blk_done(req, rc);  /* over already, the same way as a completion */
	return rc;
}

int blkdev_wait(struct blkdev_req *req)
{
	spin_lock(&req->wq.lock);
	while (!req->finished)
		waitq_wait_locked(&req->wq, 0);
	spin_unlock(&req->wq.lock);
	return req->status;
}

/* The handler releases the queue's lock before the sleeper can take it, so
 * the record on the stack is never touched after the sleeper returns. */
static int blk_io(struct blkdev *dev, enum hal_blk_op op, uint64_t sector,
                  void *buf, uint32_t count)
{
	struct blkdev_req req = { .done = NULL };
	waitq_init(&req.wq, "blkdev.io");
	int rc = blk_start(dev, op, sector, buf, count, &req);
	if (rc < 0)
		return rc;
	return blkdev_wait(&req);
}

int blkdev_read(struct blkdev *dev, uint64_t sector, void *buf, uint32_t count)
{
	return blk_io(dev, HAL_BLK_READ, sector, buf, count);
}

int blkdev_write(struct blkdev *dev, uint64_t sector, const void *buf, uint32_t count)
{
	return blk_io(dev, HAL_BLK_WRITE, sector, (void *)buf, count);
}

int blkdev_flush(struct blkdev *dev)
{
	__atomic_add_fetch(&dev->flushes, 1, __ATOMIC_RELAXED);
	return blk_io(dev, HAL_BLK_FLUSH, 0, NULL, 0);
}
