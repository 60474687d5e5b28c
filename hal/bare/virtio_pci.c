/*
 * virtio_pci.c: the virtio PCI transport (virtio.h): modern (virtio 1.x
 * section 4.1, registers in memory BARs found through vendor capabilities)
 * or, for a device without them, legacy 0.9.5 (one I/O BAR).
 *
 * A function is a virtio device when its vendor is 0x1af4 and its device
 * id is 0x1000-0x103f (transitional: the type is the subsystem id) or
 * 0x1040 + type (modern only). A transitional device offering usable
 * capabilities is driven the modern way.
 *
 * Interrupts: MSI-X when the function has at least two table entries
 * (entry 0 configuration changes, entry 1 every queue), each entry its own
 * vector, so the handlers need not read the ISR. Otherwise INTx through
 * the I/O APIC (pci_irq.c), shared: the handler reads the ISR status, which
 * also lowers the line, and runs the queue and configuration handlers
 * that its bits name. virtio_irq_raise (virtio.c) sends a self IPI to one
 * more vector of the device's own whose handler is the queue handler
 * (irq.h: never to a level-triggered pin's vector).
 *
 * Legacy layout: with MSI-X enabled two vector registers follow the ISR
 * and the device configuration moves from offset 20 to 24, so MSI-X is
 * turned on (irq_setup) before anything reads the configuration again.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "bare.h"
#include "console.h"
#include "pci.h"
#include "virtio.h"

#define VIRTIO_VENDOR   0x1af4
#define CFG_SUBSYS_ID   0x2e

#define CAP_VENDOR      0x09
#define CAP_TYPE        3
#define CAP_BAR         4
#define CAP_OFFSET      8
#define CAP_LENGTH      12
#define CAP_NOTIFY_MULT 16
enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4 };

/* Modern common configuration (section 4.1.4.3). */
#define COM_DFSELECT    0
#define COM_DF          4
#define COM_GFSELECT    8
#define COM_GF          12
#define COM_MSIX_CONFIG 16
#define COM_NUM_QUEUES  18
#define COM_STATUS      20
#define COM_GENERATION  21
#define COM_Q_SELECT    22
#define COM_Q_SIZE      24
#define COM_Q_MSIX      26
#define COM_Q_ENABLE    28
#define COM_Q_NOTIFY    30
#define COM_Q_DESC      32
#define COM_Q_DRIVER    40
#define COM_Q_DEVICE    48

/* Legacy I/O registers. */
#define LEG_FEATURES    0
#define LEG_GFEATURES   4
#define LEG_Q_PFN       8
#define LEG_Q_SIZE      12
#define LEG_Q_SELECT    14
#define LEG_Q_NOTIFY    16
#define LEG_STATUS      18
#define LEG_ISR         19
#define LEG_MSIX_CONFIG 20
#define LEG_MSIX_QUEUE  22
#define LEG_CONFIG      20
#define LEG_CONFIG_MSIX 24

#define NO_VECTOR       0xffff
#define ISR_QUEUE       1
#define ISR_CONFIG      2
#define RESET_TIMEOUT_NS 1000000000ull

struct vpci {
	struct virtio_dev vd;           /* first: the ops get this */
	const struct pci_dev *pci;
	/* Modern: mapped register blocks (identity map). */
	uintptr_t common, notify, isr, device;
	uint32_t notify_mult, notify_len;
	/* Legacy: the I/O BAR, and where the configuration starts. */
	uint16_t io;
	uint16_t config_base;
	/* Interrupts, set by irq_setup. */
	bare_irq_fn queue_fn, config_fn;
	void *arg;
};

static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t mmio_read16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void mmio_write16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void mmio_write64(uintptr_t a, uint64_t v)
{
	mmio_write32(a, (uint32_t)v);
	mmio_write32(a + 4, (uint32_t)(v >> 32));
}

static struct vpci *vpci_of(struct virtio_dev *vd) { return (struct vpci *)vd; }

/* ---- Modern ------------------------------------------------------------- */

static uint8_t modern_get_status(struct virtio_dev *vd)
{
	return mmio_read8(vpci_of(vd)->common + COM_STATUS);
}

static void modern_set_status(struct virtio_dev *vd, uint8_t s)
{
	mmio_write8(vpci_of(vd)->common + COM_STATUS, s);
}

/* Writing 0 resets; the device says it is done by reading back 0. */
static void modern_reset(struct virtio_dev *vd)
{
	modern_set_status(vd, 0);
	uint64_t end = hal_clock_ns() + RESET_TIMEOUT_NS;
	while (modern_get_status(vd) != 0 && hal_clock_ns() < end)
		cpu_relax();
}

static uint64_t modern_device_features(struct virtio_dev *vd)
{
	uintptr_t c = vpci_of(vd)->common;
	mmio_write32(c + COM_DFSELECT, 0);
	uint64_t lo = mmio_read32(c + COM_DF);
	mmio_write32(c + COM_DFSELECT, 1);
	return lo | (uint64_t)mmio_read32(c + COM_DF) << 32;
}

static void modern_set_features(struct virtio_dev *vd, uint64_t f)
{
	uintptr_t c = vpci_of(vd)->common;
	mmio_write32(c + COM_GFSELECT, 0);
	mmio_write32(c + COM_GF, (uint32_t)f);
	mmio_write32(c + COM_GFSELECT, 1);
	mmio_write32(c + COM_GF, (uint32_t)(f >> 32));
}

/* Fields are read at their own width: 2 and 4 byte ones whole, the rest
 * (the MAC) byte by byte; again while the generation changes under us. */
static void modern_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
	struct vpci *p = vpci_of(vd);
	uint8_t gen;
	do {
		gen = mmio_read8(p->common + COM_GENERATION);
		uintptr_t a = p->device + off;
		if (len == 4 && !(off & 3)) {
			uint32_t v = mmio_read32(a);
			memcpy(buf, &v, 4);
		} else if (len == 2 && !(off & 1)) {
			uint16_t v = mmio_read16(a);
			memcpy(buf, &v, 2);
		} else {
			for (unsigned i = 0; i < len; i++)
				((uint8_t *)buf)[i] = mmio_read8(a + i);
		}
	} while (mmio_read8(p->common + COM_GENERATION) != gen);
}

static int modern_queue_setup(struct virtio_dev *vd, struct virtq *vq, uint16_t index,
                              uint16_t max_size)
{
	struct vpci *p = vpci_of(vd);
	uintptr_t c = p->common;
	if (index >= mmio_read16(c + COM_NUM_QUEUES))
		return -ENOENT;
	mmio_write16(c + COM_Q_SELECT, index);
	uint16_t size = mmio_read16(c + COM_Q_SIZE);
	if (size == 0)
		return -ENOENT;
	if (size > max_size)
		size = max_size;
	if (size > VIRTQ_MAX_SIZE)
		size = VIRTQ_MAX_SIZE;
	while (size & (size - 1))
		size &= (uint16_t)(size - 1);   /* a power of 2 */
	int rc = virtq_alloc(vq, index, size);
	if (rc < 0)
		return rc;
	mmio_write16(c + COM_Q_SIZE, size);
	if (vd->msix) {
		mmio_write16(c + COM_Q_MSIX, 1);
		if (mmio_read16(c + COM_Q_MSIX) != 1) {
			virtq_free(vq);
			return -EIO;
		}
	}
	mmio_write64(c + COM_Q_DESC, virtq_desc_addr(vq));
	mmio_write64(c + COM_Q_DRIVER, virtq_avail_addr(vq));
	mmio_write64(c + COM_Q_DEVICE, virtq_used_addr(vq));
	uint64_t notify_off = (uint64_t)mmio_read16(c + COM_Q_NOTIFY) * p->notify_mult;
	if (notify_off + 2 > p->notify_len) {
		virtq_free(vq);
		return -EIO;            /* its doorbell outside the notify window */
	}
	vq->notify_addr = p->notify + (uintptr_t)notify_off;
	mmio_write16(c + COM_Q_ENABLE, 1);
	return 0;
}

static void modern_queue_notify(struct virtio_dev *vd, struct virtq *vq)
{
	mmio_write16(vq->notify_addr, vq->index);
}

static uint8_t modern_isr(struct vpci *p) { return mmio_read8(p->isr); }

/* ---- Legacy ------------------------------------------------------------- */

static uint8_t legacy_get_status(struct virtio_dev *vd)
{
	return inb(vpci_of(vd)->io + LEG_STATUS);
}

static void legacy_set_status(struct virtio_dev *vd, uint8_t s)
{
	outb(vpci_of(vd)->io + LEG_STATUS, s);
}

static void legacy_reset(struct virtio_dev *vd)
{
	legacy_set_status(vd, 0);
	legacy_get_status(vd);          /* the read flushes the reset */
}

static uint64_t legacy_device_features(struct virtio_dev *vd)
{
	return inl(vpci_of(vd)->io + LEG_FEATURES);
}

static void legacy_set_features(struct virtio_dev *vd, uint64_t f)
{
	outl(vpci_of(vd)->io + LEG_GFEATURES, (uint32_t)f);
}

static void legacy_config_bytes(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
	struct vpci *p = vpci_of(vd);
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)buf)[i] = inb((uint16_t)(p->io + p->config_base + off + i));
}

static void legacy_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
	virtio_read_stable(vd, legacy_config_bytes, off, buf, len);
}

static int legacy_queue_setup(struct virtio_dev *vd, struct virtq *vq, uint16_t index,
                              uint16_t max_size)
{
	struct vpci *p = vpci_of(vd);
	outw(p->io + LEG_Q_SELECT, index);
	uint16_t size = inw(p->io + LEG_Q_SIZE);
	if (size == 0)
		return -ENOENT;
	if (size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;         /* the size is the device's: no choice */
	int rc = virtq_alloc(vq, index, size);
	if (rc < 0)
		return rc;
	if (vd->msix) {
		outw(p->io + LEG_MSIX_QUEUE, 1);
		if (inw(p->io + LEG_MSIX_QUEUE) != 1) {
			virtq_free(vq);
			return -EIO;
		}
	}
	outl(p->io + LEG_Q_PFN, (uint32_t)(virtq_desc_addr(vq) >> 12));
	return 0;
}

static void legacy_queue_notify(struct virtio_dev *vd, struct virtq *vq)
{
	outw(vpci_of(vd)->io + LEG_Q_NOTIFY, vq->index);
}

/* ---- Interrupts --------------------------------------------------------- */

static void intx_irq(void *arg)
{
	struct vpci *p = arg;
	uint8_t isr = p->vd.legacy ? inb(p->io + LEG_ISR) : modern_isr(p);
	if (isr & ISR_CONFIG)
		p->config_fn(p->arg);
	if (isr & ISR_QUEUE)
		p->queue_fn(p->arg);
}

/* Entry 0 to config_fn, entry 1 to queue_fn, then the device told which
 * entry is which. False (MSI-X left off) when anything refuses. */
static bool setup_msix(struct vpci *p, unsigned cpu)
{
	if (bare_msix_entries(p->pci) < 2)
		return false;
	int cv = bare_irq_route_msix(p->pci, 0, cpu, p->config_fn, p->arg);
	int qv = cv < 0 ? cv : bare_irq_route_msix(p->pci, 1, cpu, p->queue_fn, p->arg);
	if (qv < 0)
		return false;           /* a vector may be lost: they are plenty */
	bare_msix_enable(p->pci, true);
	uint16_t got;
	if (p->vd.legacy) {
		p->config_base = LEG_CONFIG_MSIX;
		outw(p->io + LEG_MSIX_CONFIG, 0);
		got = inw(p->io + LEG_MSIX_CONFIG);
	} else {
		mmio_write16(p->common + COM_MSIX_CONFIG, 0);
		got = mmio_read16(p->common + COM_MSIX_CONFIG);
	}
	if (got != 0) {
		bare_msix_enable(p->pci, false);
		p->config_base = LEG_CONFIG;
		return false;
	}
	p->vd.queue_vector = qv;
	return true;
}

static void noop_config(void *arg) { }

static int vpci_irq_setup(struct virtio_dev *vd, unsigned cpu, bare_irq_fn queue_fn,
                          bare_irq_fn config_fn, void *arg)
{
	struct vpci *p = vpci_of(vd);
	p->queue_fn = queue_fn;
	p->config_fn = config_fn ? config_fn : noop_config;
	p->arg = arg;
	int rc = virtio_raise_setup(vd, queue_fn, arg);
	if (rc < 0)
		return rc;
	if (setup_msix(p, cpu)) {
		vd->msix = true;
		vd->irq_kind = "MSI-X";
		return 0;
	}
	int v = bare_irq_route_pci(p->pci, cpu, intx_irq, p);
	if (v < 0)
		return v;
	vd->queue_vector = v;
	vd->irq_kind = "INTx";
	return 0;
}

static const struct virtio_ops modern_ops = {
	.reset = modern_reset,
	.device_features = modern_device_features,
	.set_features = modern_set_features,
	.get_status = modern_get_status,
	.set_status = modern_set_status,
	.config_read = modern_config_read,
	.queue_setup = modern_queue_setup,
	.queue_notify = modern_queue_notify,
	.irq_setup = vpci_irq_setup,
};

static const struct virtio_ops legacy_ops = {
	.reset = legacy_reset,
	.device_features = legacy_device_features,
	.set_features = legacy_set_features,
	.get_status = legacy_get_status,
	.set_status = legacy_set_status,
	.config_read = legacy_config_read,
	.queue_setup = legacy_queue_setup,
	.queue_notify = legacy_queue_notify,
	.irq_setup = vpci_irq_setup,
};

/* ---- Discovery ---------------------------------------------------------- */

/* The address of a capability's window, or 0 when its BAR is not a memory
 * BAR inside the identity map (below 4 GiB) or the window overruns it. */
static uintptr_t cap_window(const struct pci_dev *d, uint8_t cap, uint32_t min_len)
{
	uint8_t bar = pci_read8(d, cap + CAP_BAR);
	uint32_t off = pci_read32(d, cap + CAP_OFFSET);
	uint32_t len = pci_read32(d, cap + CAP_LENGTH);
	if (bar > 5 || len < min_len)
		return 0;
	const struct pci_bar *b = &d->bar[bar];
	if (b->io || !b->base || (uint64_t)off + len > b->size ||
	    b->base + b->size > 0x100000000ull)
		return 0;
	return (uintptr_t)(b->base + off);
}

/* Map the modern capabilities; false when one is missing or unusable. */
static bool find_modern(struct vpci *p)
{
	const struct pci_dev *d = p->pci;
	for (uint8_t cap = pci_find_cap(d, CAP_VENDOR, 0); cap;
	     cap = pci_find_cap(d, CAP_VENDOR, cap)) {
		switch (pci_read8(d, cap + CAP_TYPE)) {
		case CFG_COMMON:
			if (!p->common)
				p->common = cap_window(d, cap, 56);
			break;
		case CFG_NOTIFY:
			if (!p->notify) {
				p->notify = cap_window(d, cap, 2);
				p->notify_mult = pci_read32(d, cap + CAP_NOTIFY_MULT);
				p->notify_len = pci_read32(d, cap + CAP_LENGTH);
			}
			break;
		case CFG_ISR:
			if (!p->isr)
				p->isr = cap_window(d, cap, 1);
			break;
		case CFG_DEVICE:
			if (!p->device)
				p->device = cap_window(d, cap, 1);
			break;
		}
	}
	return p->common && p->notify && p->isr;
}

static unsigned type_of(const struct pci_dev *d)
{
	if (d->device >= 0x1000 && d->device <= 0x103f)
		return pci_read16(d, CFG_SUBSYS_ID);
	if (d->device >= 0x1041 && d->device <= 0x107f)
		return d->device - 0x1040u;
	return 0;
}

struct virtio_dev *virtio_pci_next(unsigned type, unsigned *from)
{
	pci_init();
	struct pci_dev *d;
	while ((d = pci_find_dev(VIRTIO_VENDOR, 0xffff, from))) {
		if (type_of(d) != type)
			continue;
		struct vpci *p = kzalloc(sizeof(*p));
		if (!p)
			return NULL;
		p->pci = d;
		p->vd.type = type;
		p->config_base = LEG_CONFIG;
		ksnprintf(p->vd.where, sizeof(p->vd.where), "%02x:%02x.%x", d->bus, d->dev, d->fn);
		if (find_modern(p)) {
			p->vd.ops = &modern_ops;
		} else if (d->bar[0].io && d->bar[0].base && d->bar[0].size >= 24 &&
		           d->device < 0x1040) {
			p->io = (uint16_t)d->bar[0].base;
			p->vd.ops = &legacy_ops;
			p->vd.legacy = true;
		} else {
			bare_printf("virtio %s: no usable registers, skipped\n", p->vd.where);
			kfree(p);
			continue;
		}
		pci_enable(d, true);
		return &p->vd;
	}
	return NULL;
}
