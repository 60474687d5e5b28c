/*
 * blk.c: block devices (hal_blk_* of hal.h) over the ATA driver (ata.h).
 *
 * The disks are probed when the kernel first asks for them, not at boot,
 * so a service without disks pays nothing. Here the contract of hal.h is
 * checked (-EINVAL for a range outside the device or a bad op, -EROFS never
 * arises: ATA disks are writable); the driver does the rest.
 */
#include <errno.h>
#include <string.h>

#include "ata.h"
#include "bare.h"

unsigned hal_blk_count(void)
{
	ata_init();
	return ata_disk_count();
}

struct hal_blkdev *hal_blk_get(unsigned index)
{
	ata_init();
	return ata_disk(index);
}

void hal_blk_info(struct hal_blkdev *dev, struct hal_blk_info *info)
{
	ata_disk_info(dev, info);
}

int hal_blk_submit(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
                   void *buf, uint32_t count, hal_blk_done_fn done, void *arg)
{
	struct hal_blk_info info;
	if (!dev || !done)
		return -EINVAL;
	ata_disk_info(dev, &info);
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
	return ata_submit(dev, op, sector, buf, count, done, arg);
}
