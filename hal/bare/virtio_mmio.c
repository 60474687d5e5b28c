/*
 * virtio_mmio.c: the virtio-mmio transport (virtio.h; virtio 1.x section
 * 4.2): one register block per device, as QEMU's microvm machine and
 * Firecracker-class VMMs offer them.
 *
 * Devices are found on the kernel command line, in the form Linux reads
 * and QEMU's microvm appends for each device when it boots a kernel with
 * -kernel and has no ACPI (acpi=off; auto-kernel-cmdline is on by
 * default): virtio_mmio.device=SIZE@BASE:IRQ[:ID] (SIZE with an optional
 * K/M/G; BASE and SIZE hex with 0x or decimal); and in the DSDT, where
 * microvm with ACPI (its default) describes them instead (acpi.c). They
 * are numbered command line first, in its order, then the DSDT's devices
 * that the command line did not name, in DSDT order. A block must
 * lie below 4 GiB (the identity map, uncached there since it holds no
 * RAM), answer with the magic "virt", version 1 (legacy) or 2 (modern),
 * and a device id that is not 0 (an empty slot).
 *
 * Interrupts: IRQ is a GSI of the I/O APIC, edge triggered, active high
 * (microvm's). The device raises it when its interrupt status goes from 0
 * to non-zero; the handler reads the status, acknowledges those bits (so a
 * later event makes a new edge) and only then runs the queue and
 * configuration handlers, which therefore see every chain the device
 * returned before the acknowledgement. virtio_irq_raise works as on PCI
 * (virtio.c).
 *
 * Legacy (version 1): the guest page size is set to 4 KiB, a queue is
 * given by page frame number with 4 KiB alignment of its used ring (the
 * layout virtqueue.c allocates), and QueueNum is still ours to choose.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "bare.h"
#include "console.h"
#include "virtio.h"

#define MAGIC               0x74726976u     /* "virt" */

#define R_MAGIC             0x000
#define R_VERSION           0x004
#define R_DEVICE_ID         0x008
#define R_DEV_FEATURES      0x010
#define R_DEV_FEATURES_SEL  0x014
#define R_DRV_FEATURES      0x020
#define R_DRV_FEATURES_SEL  0x024
#define R_GUEST_PAGE_SIZE   0x028           /* legacy */
#define R_QUEUE_SEL         0x030
#define R_QUEUE_NUM_MAX     0x034
#define R_QUEUE_NUM         0x038
#define R_QUEUE_ALIGN       0x03c           /* legacy */
#define R_QUEUE_PFN         0x040           /* legacy */
#define R_QUEUE_READY       0x044
#define R_QUEUE_NOTIFY      0x050
#define R_INT_STATUS        0x060
#define R_INT_ACK           0x064
#define R_STATUS            0x070
#define R_QUEUE_DESC        0x080
#define R_QUEUE_DRIVER      0x090
#define R_QUEUE_DEVICE      0x0a0
#define R_GENERATION        0x0fc
#define R_CONFIG            0x100

#define INT_QUEUE           1
#define INT_CONFIG          2
#define LEGACY_PAGE         4096u
#define RESET_TIMEOUT_NS    1000000000ull
#define PREFIX              "virtio_mmio.device="

struct vmmio {
	struct virtio_dev vd;           /* first: the ops get this */
	uintptr_t base;
	uint64_t size;
	uint32_t gsi;
	bare_irq_fn queue_fn, config_fn;
	void *arg;
};

static struct vmmio *vm_of(struct virtio_dev *vd) { return (struct vmmio *)vd; }
static uint32_t rd(struct vmmio *m, unsigned r) { return mmio_read32(m->base + r); }
static void wr(struct vmmio *m, unsigned r, uint32_t v) { mmio_write32(m->base + r, v); }

static void wr64(struct vmmio *m, unsigned r, uint64_t v)
{
	wr(m, r, (uint32_t)v);
	wr(m, r + 4, (uint32_t)(v >> 32));
}

static uint8_t vm_get_status(struct virtio_dev *vd) { return (uint8_t)rd(vm_of(vd), R_STATUS); }
static void vm_set_status(struct virtio_dev *vd, uint8_t s) { wr(vm_of(vd), R_STATUS, s); }

static void vm_reset(struct virtio_dev *vd)
{
	vm_set_status(vd, 0);
	uint64_t end = hal_clock_ns() + RESET_TIMEOUT_NS;
	while (vm_get_status(vd) != 0 && hal_clock_ns() < end)
		cpu_relax();
}

static uint64_t vm_device_features(struct virtio_dev *vd)
{
	struct vmmio *m = vm_of(vd);
	wr(m, R_DEV_FEATURES_SEL, 0);
	uint64_t lo = rd(m, R_DEV_FEATURES);
	wr(m, R_DEV_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(m, R_DEV_FEATURES) << 32;
}

static void vm_set_features(struct virtio_dev *vd, uint64_t f)
{
	struct vmmio *m = vm_of(vd);
	wr(m, R_DRV_FEATURES_SEL, 0);
	wr(m, R_DRV_FEATURES, (uint32_t)f);
	wr(m, R_DRV_FEATURES_SEL, 1);
	wr(m, R_DRV_FEATURES, (uint32_t)(f >> 32));
}

/* Fields at their own width (virtio 1.x 4.2.2.2): 4- and 8-byte ones as
 * aligned 32-bit reads, 2-byte ones as 16-bit, the rest byte by byte. */
static void read_bytes(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
	uintptr_t a = vm_of(vd)->base + R_CONFIG + off;
	if (len % 4 == 0 && off % 4 == 0) {
		for (unsigned i = 0; i < len; i += 4) {
			uint32_t v = mmio_read32(a + i);
			memcpy((uint8_t *)buf + i, &v, 4);
		}
	} else if (len == 2 && off % 2 == 0) {
		uint16_t v = *(volatile uint16_t *)a;
		memcpy(buf, &v, 2);
	} else {
		for (unsigned i = 0; i < len; i++)
			((uint8_t *)buf)[i] = *(volatile uint8_t *)(a + i);
	}
}

/* Modern: again while the generation changes under us; legacy: until two
 * reads agree (virtio_read_stable). */
static void vm_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
	struct vmmio *m = vm_of(vd);
	if (R_CONFIG + (uint64_t)off + len > m->size) {
		memset(buf, 0, len);    /* outside the block: nothing to read */
		return;
	}
	if (vd->legacy) {
		virtio_read_stable(vd, read_bytes, off, buf, len);
		return;
	}
	uint32_t gen;
	do {
		gen = rd(m, R_GENERATION);
		read_bytes(vd, off, buf, len);
	} while (rd(m, R_GENERATION) != gen);
}

static int vm_queue_setup(struct virtio_dev *vd, struct virtq *vq, uint16_t index,
                          uint16_t max_size)
{
	struct vmmio *m = vm_of(vd);
	wr(m, R_QUEUE_SEL, index);
	if (!vd->legacy && rd(m, R_QUEUE_READY))
		return -EIO;            /* in use already: the reset did not take */
	uint32_t size = rd(m, R_QUEUE_NUM_MAX);
	if (size == 0)
		return -ENOENT;
	if (size > max_size)
		size = max_size;
	if (size > VIRTQ_MAX_SIZE)
		size = VIRTQ_MAX_SIZE;
	while (size & (size - 1))
		size &= size - 1;       /* a power of 2 */
	int rc = virtq_alloc(vq, index, (uint16_t)size);
	if (rc < 0)
		return rc;
	wr(m, R_QUEUE_NUM, size);
	if (vd->legacy) {
		wr(m, R_GUEST_PAGE_SIZE, LEGACY_PAGE);     /* a reset may forget it */
		wr(m, R_QUEUE_ALIGN, LEGACY_PAGE);
		wr(m, R_QUEUE_PFN, (uint32_t)(virtq_desc_addr(vq) / LEGACY_PAGE));
		return 0;
	}
	wr64(m, R_QUEUE_DESC, virtq_desc_addr(vq));
	wr64(m, R_QUEUE_DRIVER, virtq_avail_addr(vq));
	wr64(m, R_QUEUE_DEVICE, virtq_used_addr(vq));
	wr(m, R_QUEUE_READY, 1);
	return 0;
}

static void vm_queue_notify(struct virtio_dev *vd, struct virtq *vq)
{
	wr(vm_of(vd), R_QUEUE_NOTIFY, vq->index);
}

static void vm_irq(void *arg)
{
	struct vmmio *m = arg;
	uint32_t isr = rd(m, R_INT_STATUS);
	if (!isr)
		return;
	wr(m, R_INT_ACK, isr);
	if ((isr & INT_CONFIG) && m->config_fn)
		m->config_fn(m->arg);
	if (isr & INT_QUEUE)
		m->queue_fn(m->arg);
}

static int vm_irq_setup(struct virtio_dev *vd, unsigned cpu, bare_irq_fn queue_fn,
                        bare_irq_fn config_fn, void *arg)
{
	struct vmmio *m = vm_of(vd);
	m->queue_fn = queue_fn;
	m->config_fn = config_fn;
	m->arg = arg;
	int rc = virtio_raise_setup(vd, queue_fn, arg);
	if (rc < 0)
		return rc;
	int v = bare_irq_route_gsi(m->gsi, false, cpu, vm_irq, m);
	if (v < 0)
		return v;
	vd->queue_vector = v;
	vd->irq_kind = "GSI edge";
	return 0;
}

static const struct virtio_ops mmio_ops = {
	.reset = vm_reset,
	.device_features = vm_device_features,
	.set_features = vm_set_features,
	.get_status = vm_get_status,
	.set_status = vm_set_status,
	.config_read = vm_config_read,
	.queue_setup = vm_queue_setup,
	.queue_notify = vm_queue_notify,
	.irq_setup = vm_irq_setup,
};

/* ---- Discovery ---------------------------------------------------------- */

/* SIZE@BASE:IRQ[:ID] into m; false (a message said why, unless quiet)
 * when malformed or out of reach. */
static bool parse_device(const char *s, struct vmmio *m, bool quiet)
{
	uint64_t size, base, irq;
	const char *p = s;
	if (!bare_parse_num(&p, &size, true) || *p++ != '@' ||
	    !bare_parse_num(&p, &base, false) || *p++ != ':' ||
	    !bare_parse_num(&p, &irq, false) || (*p && *p != ':')) {
		if (!quiet)
			bare_printf("virtio-mmio: '%s': not SIZE@BASE:IRQ, ignored\n", s);
		return false;
	}
	if (size < R_CONFIG || base + size < base || base + size > 0x100000000ull ||
	    (base & 3) || irq > 255) {
		if (!quiet)
			bare_printf("virtio-mmio: '%s': outside what we map, ignored\n", s);
		return false;
	}
	m->base = (uintptr_t)base;
	m->size = size;
	m->gsi = (uint32_t)irq;
	return true;
}

/* Is base named by a virtio_mmio.device= word of the command line? */
static bool on_cmdline(uintptr_t base)
{
	const char *s;
	struct vmmio m;
	for (unsigned i = 0; (s = bare_cmdline_value(PREFIX, i)); i++)
		if (parse_device(s, &m, true) && m.base == base)
			return true;
	return false;
}

/* Slot i of the devices described: the command line's words first, then
 * the DSDT's devices not named there. 1: m filled; 0: slot i unusable;
 * -1: past the last. */
static int describe(unsigned i, struct vmmio *m)
{
	unsigned ncmd = 0;
	while (bare_cmdline_value(PREFIX, ncmd))
		ncmd++;
	if (i < ncmd)
		return parse_device(bare_cmdline_value(PREFIX, i), m, false) ? 1 : 0;
	const struct acpi_mmio_dev *d = acpi_virtio_mmio(i - ncmd);
	if (!d)
		return -1;
	if (d->size < R_CONFIG || on_cmdline(d->base))
		return 0;
	m->base = d->base;
	m->size = d->size;
	m->gsi = d->gsi;
	return 1;
}

struct virtio_dev *virtio_mmio_next(unsigned type, unsigned *from)
{
	int r;
	struct vmmio m;
	for (; (r = describe(*from, &m)) >= 0; (*from)++) {
		if (r == 0)
			continue;
		uint32_t magic = rd(&m, R_MAGIC), version = rd(&m, R_VERSION);
		if (magic != MAGIC || (version != 1 && version != 2)) {
			bare_printf("virtio-mmio %lx: magic %x version %u, skipped\n",
			            (unsigned long)m.base, magic, version);
			continue;
		}
		if (rd(&m, R_DEVICE_ID) != type)
			continue;           /* another type, or 0: an empty slot */
		struct vmmio *p = kzalloc(sizeof(*p));
		if (!p)
			return NULL;
		(*from)++;
		p->base = m.base;
		p->size = m.size;
		p->gsi = m.gsi;
		p->vd.ops = &mmio_ops;
		p->vd.type = type;
		p->vd.legacy = version == 1;
		ksnprintf(p->vd.where, sizeof(p->vd.where), "mmio@%lx", (unsigned long)m.base);
		return &p->vd;
	}
	return NULL;
}
