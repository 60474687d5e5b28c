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

struct blk_wait {
	struct waitq wq;        /* wq.lock guards done and status */
	bool done;
	int status;
};

static void blk_done(void *arg, int status)
{
	struct blk_wait *w = arg;
	spin_lock(&w->wq.lock);
	w->status = status;
	w->done = true;
	waitq_wake_all_locked(&w->wq);
	spin_unlock(&w->wq.lock);
}

static int blk_io(struct blkdev *dev, enum hal_blk_op op, uint64_t sector,
                  void *buf, uint32_t count)
{
	struct blk_wait w;

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
	waitq_init(&w.wq, "blkdev.io");
	w.done = false;
	w.status = 0;
	int rc = hal_blk_submit(dev->hal, op, sector, buf, count, blk_done, &w);
	if (rc < 0)
		return rc;
	spin_lock(&w.wq.lock);
	while (!w.done)
		waitq_wait_locked(&w.wq, 0);
	spin_unlock(&w.wq.lock);
	return w.status;
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
	return blk_io(dev, HAL_BLK_FLUSH, 0, NULL, 0);
}
