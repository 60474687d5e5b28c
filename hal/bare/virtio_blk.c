/*
 * virtio_blk.c: virtio-blk (virtio 1.x section 5.2) behind hal_blk_*, over
 * any virtio transport (virtio.h); one request queue (queue 0).
 *
 * Requests: every hal_blk_submit becomes one or more pieces, each one
 * descriptor chain: a 16-byte header (type, sector), the data (one
 * descriptor per size_max bytes, at most seg_max of them), and a status
 * byte the device writes. A transfer larger than a chain may carry is split
 * into several pieces; the request completes when its last piece does,
 * with the first error seen. Pieces go into the ring while descriptors
 * last (a queue as deep as the device offers); the rest wait, in order, on
 * a software queue that the interrupt handler feeds from as chains come
 * back. The request record and its pieces are one allocation, freed after
 * done has run.
 *
 * Features asked for: SIZE_MAX, SEG_MAX (the chain limits above; without
 * SIZE_MAX a descriptor carries up to 1 MiB, less with the HAL option
 * --virtio-blk-seg=BYTES, which tests use to make requests split), RO (->
 * hal_blk_info.read_only; blk.c refuses writes with -EROFS), BLK_SIZE (->
 * sector_size when it is 512 or 4096; the device's sector field stays in
 * 512-byte units), FLUSH (HAL_BLK_FLUSH becomes a FLUSH request, which the
 * device completes once the writes it completed before are durable).
 * Without FLUSH the device has no volatile write cache to flush (virtio
 * 1.x 5.2.6: such a device writes through), so a FLUSH completes at once:
 * a completed write is then as durable as the device makes it, no more.
 * A status other than OK, or a chain returned without its status byte, is
 * -EIO (counted in errors, as are used entries that name no chain).
 *
 * Interrupts: the device's go to the CPU that probed it. A request
 * submitted from another CPU is finished there too (hal.h: done runs on
 * the submitting CPU): the handler puts it on that CPU's list and sends
 * it an IPI on a vector of the device's own (bare_irq_send), whose handler
 * runs the list.
 *
 * Locks: lock (spin, interrupts off) guards the queue, the software queue
 * and the counters; each CPU's finished list has its own lock. Neither is
 * held while done runs. There is no timeout: a device that never returns
 * a chain leaves its request pending (virtio has no reset of one request).
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "bare.h"
#include "blk.h"
#include "console.h"
#include "virtio.h"

#define BLK_F_SIZE_MAX      (1ull << 1)
#define BLK_F_SEG_MAX       (1ull << 2)
#define BLK_F_RO            (1ull << 5)
#define BLK_F_BLK_SIZE      (1ull << 6)
#define BLK_F_FLUSH         (1ull << 9)

#define CFG_CAPACITY        0       /* u64, 512-byte sectors */
#define CFG_SIZE_MAX        8       /* u32 */
#define CFG_SEG_MAX         12      /* u32 */
#define CFG_BLK_SIZE        20      /* u32 */

#define T_IN                0
#define T_OUT               1
#define T_FLUSH             4
#define S_OK                0

#define QUEUE_MAX           256u
#define SEGS_MAX            16u         /* data descriptors per chain, our limit */
#define SEG_DEFAULT         (1u << 20)  /* bytes per descriptor without SIZE_MAX */

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;                /* 512-byte units */
};

struct vblk_req;

struct vblk_piece {                     /* one descriptor chain */
	struct blk_hdr hdr;
	uint8_t status;                 /* the device writes it */
	uint8_t *buf;
	uint32_t bytes;
	struct vblk_req *req;
	struct vblk_piece *next;        /* software queue */
};

struct vblk_req {                       /* one hal_blk_submit */
	hal_blk_done_fn done;
	void *arg;
	unsigned cpu;                   /* submitter: done runs there */
	int status;
	unsigned pieces_left;           /* guarded by the device lock */
	struct vblk_req *next;          /* a finished list */
	struct vblk_piece pieces[];
};

struct cpu_done {                       /* requests finished for one CPU */
	int lock;
	struct vblk_req *head;
};

struct vblk {
	/* Set at probe, read-only after. */
	struct hal_blkdev hal;          /* first: blk.c hands us this */
	struct virtio_dev *vd;
	struct hal_blk_info info;
	uint32_t units;                 /* 512-byte device sectors per hal sector */
	uint32_t seg_bytes;             /* bytes per data descriptor */
	uint32_t piece_bytes;           /* bytes per chain */
	unsigned route_cpu;             /* where the device interrupts */
	int ipi_vector;                 /* finished requests of other CPUs */
	struct cpu_done *finished;      /* per CPU, each under its own lock */

	/* Guarded by lock (taken before a cpu_done lock, never inside one). */
	int lock;
	struct virtq vq;
	struct vblk_piece *waiting, **waiting_tail;     /* FIFO, not yet in the ring */
	uint64_t errors;                /* failed pieces, bogus used entries */
};

/* ---- Completion ----------------------------------------------------------- */

/* Run done on this CPU (irq context: interrupts off) and free the request. */
static void finish_here(struct vblk_req *r)
{
	r->done(r->arg, r->status);
	kfree(r);
}

/* Requests finished by the interrupt handler: each to its submitter. */
static void deliver(struct vblk *b, struct vblk_req *list)
{
	unsigned me = hal_cpu_id();
	while (list) {
		struct vblk_req *r = list;
		list = r->next;
		if (r->cpu == me) {
			finish_here(r);
			continue;
		}
		struct cpu_done *c = &b->finished[r->cpu];
		unsigned long irq = bare_lock_take(&c->lock);
		r->next = c->head;
		c->head = r;
		bare_lock_drop(&c->lock, irq);
		bare_irq_send(r->cpu, (unsigned)b->ipi_vector);
	}
}

static void ipi_irq(void *arg)
{
	struct vblk *b = arg;
	struct cpu_done *c = &b->finished[hal_cpu_id()];
	unsigned long irq = bare_lock_take(&c->lock);
	struct vblk_req *list = c->head;
	c->head = NULL;
	bare_lock_drop(&c->lock, irq);
	while (list) {
		struct vblk_req *r = list;
		list = r->next;
		finish_here(r);
	}
}

/* ---- The ring ------------------------------------------------------------- */

/* Move waiting pieces into the ring while descriptors last; true when any
 * went in. Lock held. */
static bool fill_ring(struct vblk *b)
{
	bare_assert_locked(&b->lock, "virtio-blk");
	bool added = false;
	struct vblk_piece *p;
	while ((p = b->waiting)) {
		struct virtq_seg segs[SEGS_MAX + 2];
		unsigned n = 0;
		segs[n++] = (struct virtq_seg){ &p->hdr, sizeof(p->hdr), false };
		for (uint32_t off = 0; off < p->bytes; off += b->seg_bytes) {
			uint32_t len = p->bytes - off < b->seg_bytes ? p->bytes - off : b->seg_bytes;
			segs[n++] = (struct virtq_seg){ p->buf + off, len, p->hdr.type == T_IN };
		}
		segs[n++] = (struct virtq_seg){ &p->status, 1, true };
		if (virtq_add(&b->vq, segs, n, p) < 0)
			break;              /* full: the interrupt handler goes on */
		b->waiting = p->next;
		added = true;
	}
	if (!b->waiting)
		b->waiting_tail = &b->waiting;
	return added;
}

static void kick(struct vblk *b)
{
	if (virtq_publish(&b->vq))
		b->vd->ops->queue_notify(b->vd, &b->vq);
}

static void queue_irq(void *arg)
{
	struct vblk *b = arg;
	struct vblk_req *finished = NULL;
	unsigned long irq = bare_lock_take(&b->lock);
	uint32_t len;
	while (virtq_has_used(&b->vq)) {
		struct vblk_piece *p = virtq_get_used(&b->vq, &len);
		if (!p) {
			b->errors++;        /* a used entry naming no chain of ours */
			continue;
		}
		struct vblk_req *r = p->req;
		/* The status byte starts as 0xff: a chain returned without it
		 * written is an error too (len is not trusted for this). */
		if (p->status != S_OK) {
			b->errors++;
			if (r->status == 0)
				r->status = -EIO;
		}
		if (--r->pieces_left == 0) {
			r->next = finished;
			finished = r;
		}
	}
	if (fill_ring(b))
		kick(b);
	bare_lock_drop(&b->lock, irq);
	deliver(b, finished);
}

/* ---- Submit --------------------------------------------------------------- */

static int vblk_submit(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
                       void *buf, uint32_t count, hal_blk_done_fn done, void *arg)
{
	struct vblk *b = (struct vblk *)dev;
	if (op == HAL_BLK_FLUSH && !virtio_has(b->vd, BLK_F_FLUSH)) {
		unsigned long irq = hal_irq_save();     /* done in irq context */
		done(arg, 0);
		hal_irq_restore(irq);
		return 0;
	}
	uint64_t bytes = op == HAL_BLK_FLUSH ? 0 : (uint64_t)count * b->info.sector_size;
	uint64_t npieces = bytes ? (bytes + b->piece_bytes - 1) / b->piece_bytes : 1;
	struct vblk_req *r = kmalloc(sizeof(*r) + npieces * sizeof(struct vblk_piece));
	if (!r)
		return -ENOMEM;
	r->done = done;
	r->arg = arg;
	r->status = 0;
	r->pieces_left = (unsigned)npieces;
	uint32_t type = op == HAL_BLK_READ ? T_IN : op == HAL_BLK_WRITE ? T_OUT : T_FLUSH;
	uint64_t unit = sector * b->units;
	for (uint64_t i = 0; i < npieces; i++) {
		struct vblk_piece *p = &r->pieces[i];
		uint64_t off = i * b->piece_bytes;
		p->hdr = (struct blk_hdr){ .type = type, .sector = type == T_FLUSH ? 0 : unit + off / 512 };
		p->status = 0xff;
		p->buf = (uint8_t *)buf + off;
		p->bytes = (uint32_t)(bytes - off < b->piece_bytes ? bytes - off : b->piece_bytes);
		p->req = r;
		p->next = i + 1 < npieces ? &r->pieces[i + 1] : NULL;
	}
	unsigned long irq = bare_lock_take(&b->lock);
	r->cpu = hal_cpu_id();
	*b->waiting_tail = &r->pieces[0];
	b->waiting_tail = &r->pieces[npieces - 1].next;
	if (fill_ring(b))
		kick(b);
	bare_lock_drop(&b->lock, irq);
	return 0;
}

static void vblk_info(struct hal_blkdev *dev, struct hal_blk_info *info)
{
	*info = ((struct vblk *)dev)->info;
}

static const struct bare_blk_ops vblk_ops = {
	.info = vblk_info,
	.submit = vblk_submit,
};

/* ---- Probe ---------------------------------------------------------------- */

static uint32_t config32(struct virtio_dev *vd, unsigned off)
{
	uint32_t v;
	vd->ops->config_read(vd, off, &v, 4);
	return v;
}

/* Sizes from the configuration: capacity, sector size, chain limits. */
static void read_geometry(struct vblk *b, unsigned queue_size)
{
	struct virtio_dev *vd = b->vd;
	uint64_t capacity;
	vd->ops->config_read(vd, CFG_CAPACITY, &capacity, 8);
	uint32_t bs = virtio_has(vd, BLK_F_BLK_SIZE) ? config32(vd, CFG_BLK_SIZE) : 512;
	b->info.sector_size = bs == 4096 ? 4096 : 512;
	b->units = b->info.sector_size / 512;
	b->info.sectors = capacity / b->units;
	b->info.read_only = virtio_has(vd, BLK_F_RO);
	uint32_t seg = virtio_has(vd, BLK_F_SIZE_MAX) ? config32(vd, CFG_SIZE_MAX) : SEG_DEFAULT;
	const char *opt = bare_cmdline_value("--virtio-blk-seg=", 0);
	uint64_t want;
	if (opt && bare_parse_num(&opt, &want, true) && want < seg)
		seg = (uint32_t)want;   /* tests: smaller descriptors, more pieces */
	seg &= ~(uint32_t)(b->info.sector_size - 1);
	b->seg_bytes = seg ? seg : b->info.sector_size;
	uint32_t segs = virtio_has(vd, BLK_F_SEG_MAX) ? config32(vd, CFG_SEG_MAX) : 1;
	if (segs > SEGS_MAX)
		segs = SEGS_MAX;
	if (segs > queue_size - 2)
		segs = queue_size - 2;  /* a chain must fit the ring */
	if (segs == 0)
		segs = 1;
	b->piece_bytes = b->seg_bytes * segs;
}

static void attach(struct virtio_dev *vd)
{
	const uint64_t wanted = BLK_F_SIZE_MAX | BLK_F_SEG_MAX | BLK_F_RO | BLK_F_BLK_SIZE |
	                        BLK_F_FLUSH;
	if (virtio_begin(vd, wanted) < 0) {
		bare_printf("virtio-blk %s: feature negotiation refused\n", vd->where);
		return;
	}
	struct vblk *b = kzalloc(sizeof(*b));
	struct cpu_done *fin = kzalloc(sizeof(*fin) * bare_cpu_count);
	if (!b || !fin) {
		kfree(b);
		kfree(fin);
		virtio_fail(vd);
		return;
	}
	b->vd = vd;
	b->hal.ops = &vblk_ops;
	b->finished = fin;
	b->waiting_tail = &b->waiting;
	b->route_cpu = hal_cpu_id();
	ksnprintf(b->info.name, sizeof(b->info.name), "virtio-blk %s", vd->where);
	b->ipi_vector = bare_irq_alloc_vector(ipi_irq, b);
	int rc = b->ipi_vector < 0 ? b->ipi_vector : 0;
	if (rc == 0)
		rc = vd->ops->irq_setup(vd, b->route_cpu, queue_irq, NULL, b);
	if (rc == 0)
		rc = vd->ops->queue_setup(vd, &b->vq, 0, QUEUE_MAX);
	if (rc == 0 && b->vq.size < 3)
		rc = -EINVAL;
	if (rc == 0) {
		read_geometry(b, b->vq.size);
		rc = virtio_driver_ok(vd);
	}
	if (rc < 0 || bare_blk_add(&b->hal) < 0) {
		bare_printf("%s: not used (%d)\n", b->info.name, rc);
		virtio_fail(vd);
		return;                 /* b stays: vectors may point at it */
	}
	bare_printf("%s: %s, %s vector %d, %lu sectors of %u, %u descriptors, "
	            "%u KiB a chain%s%s\n",
	            b->info.name, vd->legacy ? "legacy" : "virtio 1.x",
	            vd->irq_kind, vd->queue_vector,
	            (unsigned long)b->info.sectors, b->info.sector_size, b->vq.size,
	            b->piece_bytes / 1024, b->info.read_only ? ", read-only" : "",
	            virtio_has(vd, BLK_F_FLUSH) ? ", flush" : ", no flush (write-through)");
}

void virtio_blk_probe(void)
{
	virtio_probe_each(VIRTIO_ID_BLK, attach);
}
