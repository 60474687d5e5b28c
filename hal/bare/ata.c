/*
 * ata.c: ATA disks on an IDE controller (ata.h): probe, command queue per
 * channel, PIO and bus-master DMA, interrupts, deadlines.
 *
 * A channel is a task-file register block (cmd: data, error/features,
 * count, LBA 0-2, drive/head, status/command; ctrl: alternate status /
 * device control) with up to two drives, and one interrupt line. The
 * controller is found through PCI (class 01:01): a channel whose prog-if bit
 * says "native" uses BAR0/1 (BAR2/3) and is polled (its PCI interrupt is not
 * routed here); a channel in compatibility mode uses the legacy ports 0x1f0
 * /0x3f6 or 0x170/0x376 and ISA IRQ 14 or 15 through the I/O APIC. Without
 * a PCI IDE function the legacy ports are tried anyway. BAR4, when the
 * controller has it, is the bus-master DMA block (PIIX: 8 ports a channel).
 *
 * Life of a request: ata_submit takes a record from the pool and queues it
 * on the disk's channel; when the channel is idle it becomes the active
 * request at once. A request is done in commands of at most CHUNK sectors:
 * start_command programs the drive (LBA28 when the range fits, else LBA48),
 * points the channel's IRQ at the submitting CPU, and, for DMA, the PRD
 * table at the buffer. Each interrupt (channel_event) reads the status
 * (acknowledging the interrupt), moves a PIO sector or ends the DMA, and
 * either continues, starts the next command, or finishes the request: the
 * next queued request is started and the finished one's done is called,
 * after the channel lock is dropped, still in irq context on the CPU that
 * submitted it. ERR or DF in the status, a DMA error, or a deadline passing
 * (checked by hal_cpu_idle on the submitting CPU, ata_idle_expire) fail the
 * request with -EIO; a timeout also resets the channel.
 *
 * Locks: each channel's lock (a spin lock taken with interrupts off)
 * guards its queue, its active request, its registers and PRD table; it is
 * taken before ioapic.c's route lock (retargeting) and pool_lock, both
 * leaves. pool_lock guards the free list. No lock is held while done runs.
 */
#include <errno.h>
#include <string.h>

#include "ata.h"
#include "bare.h"
#include "irq.h"
#include "pci.h"

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
	struct hal_blkdev *dev;
	enum hal_blk_op op;
	uint64_t sector;            /* next sector of the request */
	uint8_t *buf;               /* where it goes / comes from */
	uint32_t left;              /* sectors not yet done */
	hal_blk_done_fn done;
	void *arg;
	unsigned cpu;               /* submitter: the IRQ goes there */
	uint32_t cmd_sectors;       /* sectors of the running command */
	uint32_t pio_left;          /* PIO: sectors of it still to move */
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

struct hal_blkdev {
	/* Set by ata_init, read-only after. */
	struct ata_channel *ch;
	unsigned drive;             /* 0 master, 1 slave */
	bool lba48;
	bool dma;
	uint64_t sectors;
	char name[32];
};

static struct ata_channel channels[2];
static struct hal_blkdev disks[ATA_MAX_DISKS];
static unsigned ndisks;
static int init_state;          /* atomic: 0 not begun, 1 probing, 2 done */

static int pool_lock;
static struct ata_req pool[POOL_SIZE];
static struct ata_req *free_reqs;   /* guarded by pool_lock */

/* ---- Locks ------------------------------------------------------------ */

static unsigned long lock_take(int *l)
{
	unsigned long irq = hal_irq_save();
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	return irq;
}

static void lock_drop(int *l, unsigned long irq)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
	hal_irq_restore(irq);
}

static struct ata_req *req_alloc(void)
{
	unsigned long irq = lock_take(&pool_lock);
	struct ata_req *r = free_reqs;
	if (r)
		free_reqs = r->next;
	lock_drop(&pool_lock, irq);
	return r;
}

static void req_free(struct ata_req *r)
{
	unsigned long irq = lock_take(&pool_lock);
	r->next = free_reqs;
	free_reqs = r;
	lock_drop(&pool_lock, irq);
}

/* ---- Registers ---------------------------------------------------------- */

static uint8_t alt_status(struct ata_channel *ch)
{
	return inb(ch->ctrl);
}

/* ~400 ns for the drive to show a valid status after a select or command. */
static void settle(struct ata_channel *ch)
{
	for (int i = 0; i < 4; i++)
		alt_status(ch);
}

/* Wait until BSY clears (and, with want_drq, DRQ or ERR sets): the last
 * alternate status, or 0xff... with BSY set when the deadline passed. */
static uint8_t wait_ready(struct ata_channel *ch, bool want_drq, uint64_t timeout_ns)
{
	uint64_t end = 0;
	for (unsigned spins = 0;; spins++) {
		uint8_t s = alt_status(ch);
		if (s == 0xff)
			return s;           /* floating bus: nothing there */
		if (!(s & ST_BSY) && (!want_drq || (s & (ST_DRQ | ST_ERR | ST_DF))))
			return s;
		if (spins == 64)        /* quick ones never read the clock */
			end = hal_clock_ns() + timeout_ns;
		else if (spins > 64 && (spins & 63) == 0 && hal_clock_ns() > end)
			return s | ST_BSY;
		cpu_relax();
	}
}

static void channel_reset(struct ata_channel *ch, bool irq_on)
{
	outb(ch->ctrl, CTL_NIEN | CTL_SRST);
	for (int i = 0; i < 40; i++)        /* >= 5 us */
		alt_status(ch);
	outb(ch->ctrl, irq_on ? 0 : CTL_NIEN);
	settle(ch);
	wait_ready(ch, false, PROBE_TIMEOUT_NS);
	inb(ch->cmd + REG_STATUS);
}

/* ---- Commands ----------------------------------------------------------- */

/* Describe buf..buf+bytes in the channel's PRD table (no entry crosses a
 * 64 KiB boundary). False when the buffer is not reachable by 32-bit DMA. */
static bool build_prdt(struct ata_channel *ch, uintptr_t buf, uint32_t bytes)
{
	if (buf + bytes > 0x100000000ull || (buf & 1))
		return false;
	unsigned n = 0;
	while (bytes) {
		if (n == PRD_MAX)
			return false;
		uint32_t room = 0x10000 - (uint32_t)(buf & 0xffff);
		uint32_t len = bytes < room ? bytes : room;
		ch->prdt[n].addr = (uint32_t)buf;
		ch->prdt[n].bytes = (uint16_t)len;     /* 64 KiB wraps to 0 */
		ch->prdt[n].flags = 0;
		buf += len;
		bytes -= len;
		n++;
	}
	ch->prdt[n - 1].flags = 0x8000;
	return true;
}

/* Program and start the next command of the active request r. Returns
 * false if the drive did not take it (r->status set). Channel lock held. */
static bool start_command(struct ata_channel *ch, struct ata_req *r)
{
	struct hal_blkdev *d = r->dev;
	uint16_t io = ch->cmd;

	uint8_t s = wait_ready(ch, false, PROBE_TIMEOUT_NS);
	outb(io + REG_DRIVE, (uint8_t)(0xe0 | d->drive << 4));
	settle(ch);
	s = wait_ready(ch, false, PROBE_TIMEOUT_NS);
	if (s & ST_BSY) {
		r->status = -EIO;
		return false;
	}
	if (ch->isa_irq >= 0)
		bare_irq_retarget_isa((unsigned)ch->isa_irq, r->cpu);

	uint32_t n = r->left < CHUNK ? r->left : CHUNK;
	uint64_t lba = r->sector;
	bool ext = d->lba48 && (lba + n > LBA28_LIMIT || r->op == HAL_BLK_FLUSH);
	uint8_t cmd;
	r->cmd_sectors = n;
	r->dma = false;
	if (r->op == HAL_BLK_FLUSH) {
		cmd = ext ? CMD_FLUSH_EXT : CMD_FLUSH;
		n = 0;
		lba = 0;
	} else if (d->dma && build_prdt(ch, (uintptr_t)r->buf, n * SECTOR)) {
		r->dma = true;
		cmd = r->op == HAL_BLK_READ ? (ext ? CMD_READ_DMA_EXT : CMD_READ_DMA)
		                            : (ext ? CMD_WRITE_DMA_EXT : CMD_WRITE_DMA);
	} else {
		cmd = r->op == HAL_BLK_READ ? (ext ? CMD_READ_PIO_EXT : CMD_READ_PIO)
		                            : (ext ? CMD_WRITE_PIO_EXT : CMD_WRITE_PIO);
	}

	if (r->dma) {
		outb(ch->bm + BM_CMD, 0);
		outl(ch->bm + BM_PRDT, (uint32_t)(uintptr_t)ch->prdt);
		outb(ch->bm + BM_STATUS, inb(ch->bm + BM_STATUS) | BM_ST_ERR | BM_ST_IRQ);
		outb(ch->bm + BM_CMD, r->op == HAL_BLK_READ ? BM_CMD_READ : 0);
	}
	if (ext) {
		outb(io + REG_DRIVE, (uint8_t)(0x40 | d->drive << 4));
		outb(io + REG_COUNT, (uint8_t)(n >> 8));
		outb(io + REG_LBA0, (uint8_t)(lba >> 24));
		outb(io + REG_LBA1, (uint8_t)(lba >> 32));
		outb(io + REG_LBA2, (uint8_t)(lba >> 40));
	} else {
		outb(io + REG_DRIVE, (uint8_t)(0xe0 | d->drive << 4 | ((lba >> 24) & 0xf)));
	}
	outb(io + REG_COUNT, (uint8_t)n);           /* 256 is written as 0 */
	outb(io + REG_LBA0, (uint8_t)lba);
	outb(io + REG_LBA1, (uint8_t)(lba >> 8));
	outb(io + REG_LBA2, (uint8_t)(lba >> 16));
	ch->deadline = hal_clock_ns() +
	               (r->op == HAL_BLK_FLUSH ? FLUSH_TIMEOUT_NS : IO_TIMEOUT_NS);
	outb(io + REG_COMMAND, cmd);
	settle(ch);

	if (r->dma) {
		outb(ch->bm + BM_CMD, (uint8_t)(inb(ch->bm + BM_CMD) | BM_CMD_START));
	} else if (r->op == HAL_BLK_WRITE) {
		/* PIO write: the first sector goes now, the rest one per IRQ. */
		s = wait_ready(ch, true, IO_TIMEOUT_NS);
		if ((s & (ST_BSY | ST_ERR | ST_DF)) || !(s & ST_DRQ)) {
			r->status = -EIO;
			channel_reset(ch, ch->isa_irq >= 0);
			return false;
		}
		outsw(io + REG_DATA, r->buf, SECTOR / 2);
		r->pio_left = n - 1;
	} else {
		r->pio_left = n;
	}
	return true;
}

/* The active request's command finished (ok) or failed: advance it, or move
 * it to *finished and start the next request. Channel lock held. */
static void command_done(struct ata_channel *ch, bool ok, struct ata_req **finished)
{
	struct ata_req *r = ch->active;
	if (ok && r->op != HAL_BLK_FLUSH) {
		if (r->dma)
			r->buf += r->cmd_sectors * SECTOR;  /* PIO moved it already */
		r->sector += r->cmd_sectors;
		r->left -= r->cmd_sectors;
		if (r->left > 0 && start_command(ch, r))
			return;
		ok = r->left == 0;
	}
	if (!ok && r->status == 0)
		r->status = -EIO;
	for (;;) {
		r->next = *finished;
		*finished = r;
		r = ch->head;
		ch->active = r;
		if (!r)
			return;
		ch->head = r->next;
		if (!ch->head)
			ch->tail = &ch->head;
		if (start_command(ch, r))
			return;
	}
}

/* Complete the finished requests (channel lock dropped). */
static void complete(struct ata_req *list)
{
	while (list) {
		struct ata_req *r = list;
		list = r->next;
		hal_blk_done_fn done = r->done;
		void *arg = r->arg;
		int status = r->status;
		req_free(r);
		done(arg, status);
	}
}

/* An interrupt (or, polled, a ready status) on the channel. Lock held. */
static void channel_event(struct ata_channel *ch, struct ata_req **finished)
{
	struct ata_req *r = ch->active;
	if (!r) {
		inb(ch->cmd + REG_STATUS);  /* late or spurious: acknowledge */
		return;
	}
	if (r->dma) {
		/* Finished when the controller saw the drive's interrupt, or,
		 * polled (nIEN: no interrupt reaches the controller either),
		 * when the engine stopped and the drive is no longer busy. */
		uint8_t bms = inb(ch->bm + BM_STATUS);
		bool end = (bms & (BM_ST_IRQ | BM_ST_ERR)) ||
		           (ch->isa_irq < 0 && !(bms & BM_ST_ACTIVE) && !(alt_status(ch) & ST_BSY));
		if (!end)
			return;             /* not finished yet */
		outb(ch->bm + BM_CMD, 0);
		outb(ch->bm + BM_STATUS, bms | BM_ST_IRQ | BM_ST_ERR);
		uint8_t s = inb(ch->cmd + REG_STATUS);
		command_done(ch, !(s & (ST_ERR | ST_DF | ST_BSY)) && !(bms & BM_ST_ERR), finished);
		return;
	}
	uint8_t s = inb(ch->cmd + REG_STATUS);
	if (s & ST_BSY)
		return;
	if (s & (ST_ERR | ST_DF)) {
		command_done(ch, false, finished);
		return;
	}
	if (r->op == HAL_BLK_FLUSH) {
		command_done(ch, true, finished);
		return;
	}
	if (r->op == HAL_BLK_READ) {
		if (!(s & ST_DRQ)) {
			command_done(ch, false, finished);
			return;
		}
		insw(ch->cmd + REG_DATA, r->buf, SECTOR / 2);
		r->buf += SECTOR;
		if (--r->pio_left == 0) {
			inb(ch->cmd + REG_STATUS);
			command_done(ch, true, finished);
		}
		return;
	}
	/* PIO write: the drive took the last sector we sent. */
	r->buf += SECTOR;
	if (r->pio_left == 0) {
		command_done(ch, true, finished);
		return;
	}
	if (!(s & ST_DRQ)) {
		command_done(ch, false, finished);
		return;
	}
	outsw(ch->cmd + REG_DATA, r->buf, SECTOR / 2);
	r->pio_left--;
}

static void channel_irq(void *arg)
{
	struct ata_channel *ch = arg;
	struct ata_req *finished = NULL;
	unsigned long irq = lock_take(&ch->lock);
	channel_event(ch, &finished);
	lock_drop(&ch->lock, irq);
	complete(finished);
}

/* Polled channels: run r to its end here, interrupts off. Lock held. */
static void channel_poll(struct ata_channel *ch, struct ata_req *r,
                         struct ata_req **finished)
{
	while (ch->active == r) {
		if (!(alt_status(ch) & ST_BSY)) {
			channel_event(ch, finished);
		} else if (hal_clock_ns() > ch->deadline) {
			channel_reset(ch, false);
			if (r->dma)
				outb(ch->bm + BM_CMD, 0);
			command_done(ch, false, finished);
		} else {
			cpu_relax();
		}
	}
}

int ata_submit(struct hal_blkdev *d, enum hal_blk_op op, uint64_t sector,
               void *buf, uint32_t count, hal_blk_done_fn done, void *arg)
{
	struct ata_channel *ch = d->ch;
	struct ata_req *r = req_alloc();
	if (!r)
		return -ENOMEM;
	*r = (struct ata_req){ .dev = d, .op = op, .sector = sector, .buf = buf,
	                       .left = op == HAL_BLK_FLUSH ? 1 : count,
	                       .done = done, .arg = arg, .cpu = hal_cpu_id() };
	struct ata_req *finished = NULL;
	unsigned long irq = lock_take(&ch->lock);
	r->cpu = hal_cpu_id();
	if (ch->active) {
		*ch->tail = r;
		ch->tail = &r->next;
		lock_drop(&ch->lock, irq);
		return 0;
	}
	if (!start_command(ch, r)) {
		lock_drop(&ch->lock, irq);
		int status = r->status;
		req_free(r);
		return status;
	}
	ch->active = r;
	if (ch->isa_irq < 0)
		channel_poll(ch, r, &finished);
	/* Polled: done runs before we return, with interrupts still off (as
	 * in a handler) and the channel lock dropped. */
	__atomic_store_n(&ch->lock, 0, __ATOMIC_RELEASE);
	complete(finished);
	hal_irq_restore(irq);
	return 0;
}

/* ---- Deadlines ---------------------------------------------------------- */

uint64_t ata_idle_deadline(unsigned cpu)
{
	uint64_t best = 0;
	if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 2)
		return 0;
	for (unsigned i = 0; i < 2; i++) {
		struct ata_channel *ch = &channels[i];
		if (!ch->cmd)
			continue;
		unsigned long irq = lock_take(&ch->lock);
		if (ch->active && ch->active->cpu == cpu && (!best || ch->deadline < best))
			best = ch->deadline;
		lock_drop(&ch->lock, irq);
	}
	return best;
}

bool ata_idle_expire(unsigned cpu)
{
	bool any = false;
	if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 2)
		return false;
	for (unsigned i = 0; i < 2; i++) {
		struct ata_channel *ch = &channels[i];
		if (!ch->cmd)
			continue;
		struct ata_req *finished = NULL;
		unsigned long irq = lock_take(&ch->lock);
		struct ata_req *r = ch->active;
		if (r && r->cpu == cpu && hal_clock_ns() > ch->deadline) {
			bare_printf("ata: %s: command timed out; resetting the channel\n",
			            r->dev->name);
			if (r->dma)
				outb(ch->bm + BM_CMD, 0);
			channel_reset(ch, ch->isa_irq >= 0);
			command_done(ch, false, &finished);
		}
		lock_drop(&ch->lock, irq);
		if (finished) {
			any = true;
			complete(finished);
		}
	}
	return any;
}

/* ---- Probe -------------------------------------------------------------- */

static void identify_string(char *out, const uint16_t *words, unsigned nwords)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nwords; i++) {
		out[n++] = (char)(words[i] >> 8);
		out[n++] = (char)words[i];
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == 0))
		n--;
	out[n] = 0;
}

/* IDENTIFY DEVICE on one drive, polled with interrupts off at the drive.
 * Returns true for an ATA disk (id filled in); ATAPI and empty slots give
 * false. */
static bool identify(struct ata_channel *ch, unsigned drive, uint16_t id[256], bool *atapi)
{
	uint16_t io = ch->cmd;
	*atapi = false;
	outb(io + REG_DRIVE, (uint8_t)(0xa0 | drive << 4));
	settle(ch);
	if (wait_ready(ch, false, PROBE_TIMEOUT_NS) & ST_BSY)
		return false;
	outb(io + REG_COUNT, 0);
	outb(io + REG_LBA0, 0);
	outb(io + REG_LBA1, 0);
	outb(io + REG_LBA2, 0);
	outb(io + REG_COMMAND, CMD_IDENTIFY);
	settle(ch);
	uint8_t s = alt_status(ch);
	if (s == 0 || s == 0xff)
		return false;           /* no drive */
	s = wait_ready(ch, false, PROBE_TIMEOUT_NS);
	if (s & ST_BSY)
		return false;
	uint8_t mid = inb(io + REG_LBA1), high = inb(io + REG_LBA2);
	if ((mid == 0x14 && high == 0xeb) || (mid == 0x69 && high == 0x96)) {
		*atapi = true;          /* packet device: answers IDENTIFY PACKET */
		inb(io + REG_STATUS);
		return false;
	}
	if (mid || high) {
		inb(io + REG_STATUS);
		return false;           /* not ATA (SATA signature, ...) */
	}
	s = wait_ready(ch, true, PROBE_TIMEOUT_NS);
	if ((s & (ST_BSY | ST_ERR | ST_DF)) || !(s & ST_DRQ)) {
		inb(io + REG_STATUS);
		return false;
	}
	insw(io + REG_DATA, id, 256);
	inb(io + REG_STATUS);
	return !(id[0] & 0x8000);
}

static void probe_channel(struct ata_channel *ch, bool force_pio)
{
	static const char *names[4] = { "hda", "hdb", "hdc", "hdd" };
	if (inb(ch->cmd + REG_STATUS) == 0xff && inb(ch->ctrl) == 0xff)
		return;                 /* floating bus: no drives */
	/* No software reset here: the firmware left the drives reset, and
	 * QEMU performs SRST later, in a bottom half, which raced the
	 * IDENTIFY that followed (drives then read as absent). */
	outb(ch->ctrl, CTL_NIEN);
	for (unsigned drive = 0; drive < 2; drive++) {
		uint16_t id[256];
		bool atapi;
		if (!identify(ch, drive, id, &atapi)) {
			if (atapi)
				bare_printf("ata: %s: ATAPI device, not used\n",
				            names[ch->index * 2 + drive]);
			continue;
		}
		if (!(id[49] & (1u << 9)) || ndisks == ATA_MAX_DISKS)
			continue;           /* CHS only: not supported */
		struct hal_blkdev *d = &disks[ndisks++];
		d->ch = ch;
		d->drive = drive;
		d->sectors = (uint32_t)id[60] | (uint32_t)id[61] << 16;
		if (id[83] & (1u << 10)) {
			uint64_t s48 = (uint64_t)id[100] | (uint64_t)id[101] << 16 |
			               (uint64_t)id[102] << 32 | (uint64_t)id[103] << 48;
			d->lba48 = true;
			if (s48 > d->sectors)
				d->sectors = s48;
		}
		d->dma = ch->bm && (id[49] & (1u << 8)) && !force_pio;
		char model[41];
		identify_string(model, &id[27], 20);
		size_t n = strlen(names[ch->index * 2 + drive]);
		memcpy(d->name, names[ch->index * 2 + drive], n);
		memcpy(d->name + n, ": ", 2);
		n += 2;
		size_t m = strnlen(model, sizeof(d->name) - 1 - n);
		memcpy(d->name + n, model, m);
		d->name[n + m] = 0;
	}
}

static void setup_channel(struct ata_channel *ch, const struct pci_dev *pci, bool native,
                          bool bus_master)
{
	unsigned i = ch->index;
	ch->tail = &ch->head;
	ch->isa_irq = -1;
	if (native && pci && pci->bar[2 * i].io && pci->bar[2 * i + 1].io &&
	    pci->bar[2 * i].base && pci->bar[2 * i + 1].base) {
		ch->cmd = (uint16_t)pci->bar[2 * i].base;
		ch->ctrl = (uint16_t)(pci->bar[2 * i + 1].base + 2);
	} else if (!native) {
		ch->cmd = i == 0 ? 0x1f0 : 0x170;
		ch->ctrl = i == 0 ? 0x3f6 : 0x376;
		ch->isa_irq = i == 0 ? 14 : 15;
	} else {
		return;                 /* native without usable BARs */
	}
	if (bus_master)
		ch->bm = (uint16_t)(pci->bar[4].base + 8 * i);
}

void ata_init(void)
{
	int expect = 0;
	if (!__atomic_compare_exchange_n(&init_state, &expect, 1, false,
	                                 __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 2)
			cpu_relax();
		return;
	}
	for (unsigned i = 0; i < POOL_SIZE; i++) {
		pool[i].next = free_reqs;
		free_reqs = &pool[i];
	}
	pci_init();
	unsigned from = 0;
	struct pci_dev *pci = pci_find_class(0x01, 0x01, &from);
	bool force_pio = bare_cmdline_has("--ata-pio");
	bool force_poll = bare_cmdline_has("--ata-poll");     /* tests: no IRQs */
	bool bus_master = pci && (pci->prog_if & 0x80) && pci->bar[4].io &&
	                  pci->bar[4].base && pci->bar[4].size >= 16;
	if (pci)
		pci_enable(pci, bus_master);
	for (unsigned i = 0; i < 2; i++) {
		struct ata_channel *ch = &channels[i];
		ch->index = i;
		bool native = pci && (pci->prog_if & (1u << (2 * i)));
		setup_channel(ch, pci, native, bus_master);
		if (!ch->cmd)
			continue;
		unsigned before = ndisks;
		probe_channel(ch, force_pio);
		if (ndisks == before) {
			ch->cmd = 0;        /* nothing to serve */
			continue;
		}
		if (force_poll)
			ch->isa_irq = -1;
		if (ch->isa_irq >= 0 && bare_irq_route_isa((unsigned)ch->isa_irq, 0,
		                                           channel_irq, ch) < 0)
			ch->isa_irq = -1;   /* no I/O APIC: polled */
		outb(ch->ctrl, ch->isa_irq >= 0 ? 0 : CTL_NIEN);
		inb(ch->cmd + REG_STATUS);
	}
	for (unsigned i = 0; i < ndisks; i++) {
		struct hal_blkdev *d = &disks[i];
		bare_printf("ata: %s, %lu sectors, LBA%s, %s%s\n", d->name,
		            (unsigned long)d->sectors, d->lba48 ? "48" : "28",
		            d->dma ? "DMA" : "PIO", d->ch->isa_irq >= 0 ? "" : ", polled");
	}
	__atomic_store_n(&init_state, 2, __ATOMIC_RELEASE);
}

unsigned ata_disk_count(void)
{
	return ndisks;
}

struct hal_blkdev *ata_disk(unsigned index)
{
	return index < ndisks ? &disks[index] : NULL;
}

void ata_disk_info(struct hal_blkdev *d, struct hal_blk_info *info)
{
	memset(info, 0, sizeof(*info));
	info->sectors = d->sectors;
	info->sector_size = SECTOR;
	info->read_only = false;
	memcpy(info->name, d->name, sizeof(info->name));
}
