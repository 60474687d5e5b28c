/*
 * ata.h: the ATA (IDE) disk driver, as blk.c uses it.
 *
 * ata_init (blk.h) probes once: the IDE controller found through PCI (class 01:01),
 * or the legacy ports when there is none; both channels, master and slave.
 * Each ATA disk is registered with blk.c (bare_blk_add) in slot order.
 * ATAPI devices and empty slots are skipped. blk.c checks ranges and
 * read-only before calling ata_submit (the disk's ops); the driver queues
 * the request on its channel (one command in flight per channel) and calls
 * done in irq context on the submitting CPU.
 */
#ifndef HAL_BARE_ATA_H
#define HAL_BARE_ATA_H

#include <stdbool.h>
#include <stdint.h>

#include "hal.h"

#define ATA_MAX_DISKS 4

int ata_submit(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
               void *buf, uint32_t count, hal_blk_done_fn done, void *arg);

/* Deadlines (apic.c's hal_cpu_idle, interrupts off): ata_idle_deadline is
 * the earliest deadline of a command submitted from CPU cpu (0: none);
 * ata_idle_expire fails those past it with -EIO and returns true when it
 * completed any (a thread may have become ready). */
uint64_t ata_idle_deadline(unsigned cpu);
bool ata_idle_expire(unsigned cpu);

#endif
