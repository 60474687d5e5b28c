/*
 * ata_hw.h: what ata.c (the I/O path) and ata_probe.c (finding the disks)
 * share: the ATA task-file and bus-master registers, the channel, disk and
 * request records, and the register helpers. Not seen outside the driver.
 *
 * A channel is a task-file register block (cmd: data, error/features,
 * count, LBA 0-2, drive/head, status/command; ctrl: alternate status /
 * device control) with up to two drives and one interrupt line, plus, on a
 * bus-master IDE controller, 8 ports of DMA engine (bm).
 */
#ifndef HAL_BARE_ATA_HW_H
#define HAL_BARE_ATA_HW_H

#include <stdbool.h>
#include <stdint.h>

#include "ata.h"
#include "bare.h"
#include "blk.h"

/* Task-file registers, offsets from the command block. */
#define REG_DATA        0
#define REG_ERROR       1
#define REG_COUNT       2
#define REG_LBA0        3
#define REG_LBA1        4
#define REG_LBA2        5
#define REG_DRIVE       6
#define REG_STATUS      7       /* read: status (acknowledges the interrupt) */
#define REG_COMMAND     7       /* write */

/* Control block: alternate status (read), device control (write). */
#define CTL_NIEN        0x02    /* interrupts off */
#define CTL_SRST        0x04    /* software reset */

#define ST_ERR          0x01
#define ST_DRQ          0x08
#define ST_DF           0x20
#define ST_BSY          0x80

#define CMD_READ_PIO        0x20
#define CMD_READ_PIO_EXT    0x24
#define CMD_READ_DMA_EXT    0x25
#define CMD_WRITE_PIO       0x30
#define CMD_WRITE_PIO_EXT   0x34
#define CMD_WRITE_DMA_EXT   0x35
#define CMD_READ_DMA        0xc8
#define CMD_WRITE_DMA       0xca
#define CMD_FLUSH           0xe7
#define CMD_FLUSH_EXT       0xea
#define CMD_IDENTIFY        0xec
#define CMD_READ_MULT       0xc4    /* PIO, one interrupt per block of sectors */
#define CMD_WRITE_MULT      0xc5
#define CMD_SET_MULT        0xc6
#define CMD_READ_MULT_EXT   0x29
#define CMD_WRITE_MULT_EXT  0x39

/* Bus-master block, per channel. */
#define BM_CMD          0
#define BM_STATUS       2
#define BM_PRDT         4
#define BM_CMD_START    0x01
#define BM_CMD_READ     0x08    /* device to memory */
#define BM_ST_ACTIVE    0x01
#define BM_ST_ERR       0x02
#define BM_ST_IRQ       0x04

#define SECTOR          512u
#define CHUNK           256u    /* sectors per command (128 KiB) */
#define LBA28_LIMIT     (1u << 28)
#define IO_TIMEOUT_NS   (10ull * 1000000000)
#define FLUSH_TIMEOUT_NS (30ull * 1000000000)
#define PROBE_TIMEOUT_NS (2ull * 1000000000)
#define POOL_SIZE       128
#define PRD_MAX         8

struct prd {
	uint32_t addr;              /* physical, even */
	uint16_t bytes;             /* 0 means 64 KiB */
	uint16_t flags;             /* 0x8000: last entry */
};

struct ata_req {
	struct ata_disk *dev;
	enum hal_blk_op op;
	uint64_t sector;            /* next sector of the request */
	uint8_t *buf;               /* where it goes / comes from */
	uint32_t left;              /* sectors not yet done */
	hal_blk_done_fn done;
	void *arg;
	unsigned cpu;               /* submitter: the IRQ goes there */
	uint32_t cmd_sectors;       /* sectors of the running command */
	uint32_t pio_left;          /* PIO: sectors of it still to move */
	uint32_t pio_block;         /* PIO write: sectors in the block last sent */
	bool dma;                   /* the running command uses DMA */
	int status;
	struct ata_req *next;       /* channel queue, free list, finished list */
};

struct ata_channel {
	/* Set by ata_init, read-only after. */
	unsigned index;             /* 0 primary, 1 secondary */
	uint16_t cmd, ctrl, bm;     /* bm 0: no bus master */
	int isa_irq;                /* -1: polled */

	/* Guarded by lock. */
	int lock;
	struct ata_req *active;
	struct ata_req *head, **tail;   /* waiting, FIFO */
	uint64_t deadline;          /* of the active command */
	struct prd prdt[PRD_MAX] __attribute__((aligned(64)));
};

struct ata_disk {
	struct hal_blkdev blk;      /* first: blk.c hands us this */
	/* Set by ata_init, read-only after. */
	struct ata_channel *ch;
	unsigned drive;             /* 0 master, 1 slave */
	bool lba48;
	bool dma;
	unsigned mult;              /* PIO sectors per interrupt: 1, or READ/WRITE MULTIPLE's block */
	uint64_t sectors;
	char name[32];
};

/* The driver's tables (ata_probe.c): written by ata_init before it sets
 * ata_init_state to 2, read-only after. */
extern struct ata_channel ata_channels[2];
extern struct ata_disk ata_disks[ATA_MAX_DISKS];
extern unsigned ata_ndisks;
extern int ata_init_state;          /* atomic: 0 not begun, 1 probing, 2 done */

static inline uint8_t alt_status(struct ata_channel *ch)
{
	return inb(ch->ctrl);
}

/* ~400 ns for the drive to show a valid status after a select or command. */
static inline void settle(struct ata_channel *ch)
{
	for (int i = 0; i < 4; i++)
		alt_status(ch);
}

/* ata.c */
uint8_t ata_wait_ready(struct ata_channel *ch, bool want_drq, uint64_t timeout_ns);
void ata_channel_reset(struct ata_channel *ch, bool irq_on);
void ata_channel_irq(void *arg);    /* irq.h handler of a channel */
void ata_pool_init(void);

#endif
