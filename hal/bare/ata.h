/*
 * ata.h: the ATA (IDE) disk driver, as blk.c uses it.
 *
 * ata_init probes once: the IDE controller found through PCI (class 01:01),
 * or the legacy ports when there is none; both channels, master and slave.
 * Each ATA disk becomes a struct hal_blkdev. ATAPI devices and empty slots
 * are skipped. blk.c checks ranges and read-only before calling
 * ata_submit; the driver queues the request on its channel (one command in
 * flight per channel) and calls done in irq context on the submitting CPU.
 */
#ifndef HAL_BARE_ATA_H
#define HAL_BARE_ATA_H

#include <stdbool.h>
#include <stdint.h>

#include "hal.h"

#define ATA_MAX_DISKS 4

void ata_init(void);                    /* once; thread context (it polls) */
unsigned ata_disk_count(void);
struct hal_blkdev *ata_disk(unsigned index);
void ata_disk_info(struct hal_blkdev *dev, struct hal_blk_info *info);
int ata_submit(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
               void *buf, uint32_t count, hal_blk_done_fn done, void *arg);

/* Deadlines (apic.c's hal_cpu_idle, interrupts off): ata_idle_deadline is
 * the earliest deadline of a command submitted from CPU cpu (0: none);
 * ata_idle_expire fails those past it with -EIO and returns true when it
 * completed any (a thread may have become ready). */
uint64_t ata_idle_deadline(unsigned cpu);
bool ata_idle_expire(unsigned cpu);

#endif
