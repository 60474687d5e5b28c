/*
 * blk.h: the disk drivers of hal/bare behind hal.h's hal_blk_* calls.
 *
 * A driver probes for its devices (blk.c calls each driver's probe once,
 * when the kernel first asks for disks) and registers each disk it brings
 * up with bare_blk_add(); blk.c numbers them in that order (ATA first, in
 * slot order hda..hdd, then virtio-blk, PCI functions in bus order, then
 * virtio-mmio devices in command-line order), checks the arguments of
 * hal_blk_submit against the disk's info (range, op, read-only), and
 * forwards the rest through the disk's ops. The driver embeds struct
 * hal_blkdev at the start of its own disk record.
 */
#ifndef HAL_BARE_BLK_H
#define HAL_BARE_BLK_H

#include "hal.h"

struct bare_blk_ops {
	void (*info)(struct hal_blkdev *dev, struct hal_blk_info *info);
	/* Called with arguments already checked (hal.h's contract). */
	int (*submit)(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
	              void *buf, uint32_t count, hal_blk_done_fn done, void *arg);
};

struct hal_blkdev {
	const struct bare_blk_ops *ops;
};

#define BARE_MAX_DISKS 16

/* bare_blk_add: register a probed disk; -ENOSPC past BARE_MAX_DISKS. */
int bare_blk_add(struct hal_blkdev *dev);

/* Driver probes, called in this order by blk.c (thread context, once). */
void ata_init(void);
void virtio_blk_probe(void);

#endif
