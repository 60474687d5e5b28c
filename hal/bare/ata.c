/*
 * ata.c: the ATA driver's I/O path (ata.h): command queue per channel, PIO
 * and bus-master DMA, interrupts, deadlines. ata_probe.c finds the disks.
 *
 * Life of a request: ata_submit takes a record from the pool and queues it
 * on the disk's channel; when the channel is idle it becomes the active
 * request at once. A request is done in commands of at most CHUNK sectors:
 * start_command programs the drive (LBA28 when the range fits, else LBA48),
 * points the channel's IRQ at the submitting CPU, and, for DMA, the PRD
 * table at the buffer. Each interrupt (channel_event) reads the status
 * (acknowledging the interrupt), moves a PIO block (one sector, or the
 * READ/WRITE MULTIPLE block set at probe) or ends the DMA, and
 * either continues, starts the next command, or finishes the request: the
 * next queued request is started and the finished one's done is called,
 * after the channel lock is dropped, still in irq context on the CPU that
 * submitted it. A polled channel (no IRQ) runs the request to its end
 * inside ata_submit. ERR or DF in the status, a DMA error, or a deadline
 * passing (checked by hal_cpu_idle on the submitting CPU, ata_idle_expire)
 * fail the request with -EIO; a timeout also resets the channel.
 *
 * Locks: each channel's lock (a spin lock taken with interrupts off)
 * guards its queue, its active request, its registers and PRD table; it is
 * taken before ioapic.c's route lock (retargeting) and pool_lock, both
 * leaves. pool_lock guards the free list. No lock is held while done runs.
 */
#include <errno.h>
#include <string.h>

#include "ata_hw.h"
#include "irq.h"

static int pool_lock;
static struct ata_req pool[POOL_SIZE];
static struct ata_req *free_reqs;   /* guarded by pool_lock */

/* ---- Registers ---------------------------------------------------------- */

/* Wait until BSY clears (and, with want_drq, DRQ or ERR sets): the last
 * alternate status, or 0xff... with BSY set when the deadline passed. */
uint8_t ata_wait_ready(struct ata_channel *ch, bool want_drq, uint64_t timeout_ns)
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

void ata_channel_reset(struct ata_channel *ch, bool irq_on)
{
	outb(ch->ctrl, CTL_NIEN | CTL_SRST);
	for (int i = 0; i < 40; i++)        /* >= 5 us */
		alt_status(ch);
	outb(ch->ctrl, irq_on ? 0 : CTL_NIEN);
	settle(ch);
	ata_wait_ready(ch, false, PROBE_TIMEOUT_NS);
	inb(ch->cmd + REG_STATUS);
}

void ata_pool_init(void)
{
	for (unsigned i = 0; i < POOL_SIZE; i++) {
		pool[i].next = free_reqs;
		free_reqs = &pool[i];
	}
}

static struct ata_req *req_alloc(void)
{
	unsigned long irq = bare_lock_take(&pool_lock);
	struct ata_req *r = free_reqs;
	if (r)
		free_reqs = r->next;
	bare_lock_drop(&pool_lock, irq);
	return r;
}

static void req_free(struct ata_req *r)
{
	unsigned long irq = bare_lock_take(&pool_lock);
	r->next = free_reqs;
	free_reqs = r;
	bare_lock_drop(&pool_lock, irq);
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
	bare_assert_locked(&ch->lock, "ata");
	struct ata_disk *d = r->dev;
	uint16_t io = ch->cmd;

	uint8_t s = ata_wait_ready(ch, false, PROBE_TIMEOUT_NS);
	outb(io + REG_DRIVE, (uint8_t)(0xe0 | d->drive << 4));
	settle(ch);
	s = ata_wait_ready(ch, false, PROBE_TIMEOUT_NS);
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
		if (d->mult > 1)
			cmd = r->op == HAL_BLK_READ ? (ext ? CMD_READ_MULT_EXT : CMD_READ_MULT)
			                            : (ext ? CMD_WRITE_MULT_EXT : CMD_WRITE_MULT);
		else
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
		/* PIO write: the first block goes now, the rest one per IRQ. */
		s = ata_wait_ready(ch, true, IO_TIMEOUT_NS);
		if ((s & (ST_BSY | ST_ERR | ST_DF)) || !(s & ST_DRQ)) {
			r->status = -EIO;
			ata_channel_reset(ch, ch->isa_irq >= 0);
			return false;
		}
		uint32_t k = n < d->mult ? n : d->mult;
		outsw(io + REG_DATA, r->buf, k * (SECTOR / 2));
		r->pio_block = k;
		r->pio_left = n - k;
	} else {
		r->pio_left = n;
	}
	return true;
}

/* The active request's command finished (ok) or failed: advance it, or move
 * it to *finished and start the next request. Channel lock held. */
static void command_done(struct ata_channel *ch, bool ok, struct ata_req **finished)
{
	bare_assert_locked(&ch->lock, "ata");
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
	bare_assert_locked(&ch->lock, "ata");
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
		uint32_t k = r->pio_left < r->dev->mult ? r->pio_left : r->dev->mult;
		insw(ch->cmd + REG_DATA, r->buf, k * (SECTOR / 2));
		r->buf += k * SECTOR;
		r->pio_left -= k;
		if (r->pio_left == 0) {
			inb(ch->cmd + REG_STATUS);
			command_done(ch, true, finished);
		}
		return;
	}
	/* PIO write: the drive took the last block we sent. */
	r->buf += r->pio_block * SECTOR;
	if (r->pio_left == 0) {
		command_done(ch, true, finished);
		return;
	}
	if (!(s & ST_DRQ)) {
		command_done(ch, false, finished);
		return;
	}
	uint32_t k = r->pio_left < r->dev->mult ? r->pio_left : r->dev->mult;
	outsw(ch->cmd + REG_DATA, r->buf, k * (SECTOR / 2));
	r->pio_block = k;
	r->pio_left -= k;
}

void ata_channel_irq(void *arg)
{
	struct ata_channel *ch = arg;
	struct ata_req *finished = NULL;
	unsigned long irq = bare_lock_take(&ch->lock);
	channel_event(ch, &finished);
	bare_lock_drop(&ch->lock, irq);
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
			ata_channel_reset(ch, false);
			if (r->dma)
				outb(ch->bm + BM_CMD, 0);
			command_done(ch, false, finished);
		} else {
			cpu_relax();
		}
	}
}

int ata_submit(struct hal_blkdev *blk, enum hal_blk_op op, uint64_t sector,
               void *buf, uint32_t count, hal_blk_done_fn done, void *arg)
{
	struct ata_disk *d = (struct ata_disk *)blk;
	struct ata_channel *ch = d->ch;
	struct ata_req *r = req_alloc();
	if (!r)
		return -ENOMEM;
	*r = (struct ata_req){ .dev = d, .op = op, .sector = sector, .buf = buf,
	                       .left = op == HAL_BLK_FLUSH ? 1 : count,
	                       .done = done, .arg = arg, .cpu = hal_cpu_id() };
	struct ata_req *finished = NULL;
	unsigned long irq = bare_lock_take(&ch->lock);
	r->cpu = hal_cpu_id();
	if (ch->active) {
		*ch->tail = r;
		ch->tail = &r->next;
		bare_lock_drop(&ch->lock, irq);
		return 0;
	}
	if (!start_command(ch, r)) {
		bare_lock_drop(&ch->lock, irq);
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
	if (__atomic_load_n(&ata_init_state, __ATOMIC_ACQUIRE) != 2)
		return 0;
	for (unsigned i = 0; i < 2; i++) {
		struct ata_channel *ch = &ata_channels[i];
		if (!ch->cmd)
			continue;
		unsigned long irq = bare_lock_take(&ch->lock);
		if (ch->active && ch->active->cpu == cpu && (!best || ch->deadline < best))
			best = ch->deadline;
		bare_lock_drop(&ch->lock, irq);
	}
	return best;
}

bool ata_idle_expire(unsigned cpu)
{
	bool any = false;
	if (__atomic_load_n(&ata_init_state, __ATOMIC_ACQUIRE) != 2)
		return false;
	for (unsigned i = 0; i < 2; i++) {
		struct ata_channel *ch = &ata_channels[i];
		if (!ch->cmd)
			continue;
		struct ata_req *finished = NULL;
		unsigned long irq = bare_lock_take(&ch->lock);
		struct ata_req *r = ch->active;
		if (r && r->cpu == cpu && hal_clock_ns() > ch->deadline) {
			bare_printf("ata: %s: command timed out; resetting the channel\n",
			            r->dev->name);
			if (r->dma)
				outb(ch->bm + BM_CMD, 0);
			ata_channel_reset(ch, ch->isa_irq >= 0);
			command_done(ch, false, &finished);
		}
		bare_lock_drop(&ch->lock, irq);
		if (finished) {
			any = true;
			complete(finished);
		}
	}
	return any;
}
