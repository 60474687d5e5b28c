/*
 * blk.c: hal_blk_* of hal.h over the disk drivers registered in blk.h.
 *
 * The disks are probed when the kernel first asks for them, not at boot,
 * so a service without disks pays nothing. Each driver's probe is listed
 * in probe_all(), in the order their disks are numbered. Here the contract
 * of hal.h is checked (-EINVAL for a range outside the device or a bad op,
 * -EROFS for a write to a read-only disk); the driver does the rest.
 */
#include <errno.h>
#include <string.h>

#include "bare.h"
#include "blk.h"

static struct hal_blkdev *disks[BARE_MAX_DISKS];
static unsigned disk_count;
static int probed;                      /* atomic: 0 no, 1 running, 2 done */

int bare_blk_add(struct hal_blkdev *dev)
{
	if (disk_count >= BARE_MAX_DISKS)
		return -ENOSPC;
	disks[disk_count++] = dev;
	return 0;
}

static void probe_all(void)
{
	int expected = 0;
	if (__atomic_compare_exchange_n(&probed, &expected, 1, false, __ATOMIC_ACQUIRE,
	                                __ATOMIC_RELAXED)) {
		ata_init();
		virtio_blk_probe();
		__atomic_store_n(&probed, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&probed, __ATOMIC_ACQUIRE) != 2)
		hal_cpu_relax();
}

unsigned hal_blk_count(void)
{
	probe_all();
	return disk_count;
}

struct hal_blkdev *hal_blk_get(unsigned index)
{
	probe_all();
	return index < disk_count ? disks[index] : NULL;
}

void hal_blk_info(struct hal_blkdev *dev, struct hal_blk_info *info)
{
	dev->ops->info(dev, info);
}

int hal_blk_submit(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
                   void *buf, uint32_t count, hal_blk_done_fn done, void *arg)
{
	struct hal_blk_info info;
	if (!dev || !done)
		return -EINVAL;
	dev->ops->info(dev, &info);
	switch (op) {
	case HAL_BLK_FLUSH:
		break;
	case HAL_BLK_READ:
	case HAL_BLK_WRITE:
		if (count == 0 || !buf || sector > info.sectors || count > info.sectors - sector)
			return -EINVAL;
		if (op == HAL_BLK_WRITE && info.read_only)
			return -EROFS;
		break;
	default:
		return -EINVAL;
	}
	return dev->ops->submit(dev, op, sector, buf, count, done, arg);
}
