/*
 * blk.c: block devices. There is no disk driver yet (the ATA driver comes
 * with its own issue and will route its IRQ through irq.h), so the machine
 * reports no disks and every request fails with -ENODEV.
 */
#include <errno.h>
#include <string.h>

#include "bare.h"

unsigned hal_blk_count(void)
{
	return 0;
}

struct hal_blkdev *hal_blk_get(unsigned index)
{
	return NULL;
}

void hal_blk_info(struct hal_blkdev *dev, struct hal_blk_info *info)
{
	memset(info, 0, sizeof(*info));
}

int hal_blk_submit(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
                   void *buf, uint32_t count, hal_blk_done_fn done, void *arg)
{
	return -ENODEV;
}
