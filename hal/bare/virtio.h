/*
 * virtio.h: virtio devices for hal/bare drivers, whatever the transport.
 *
 * A transport (virtio_pci.c, virtio_mmio.c) finds devices of a type and
 * hands each out as a struct virtio_dev with its ops. A device driver
 * (virtio_net.c, virtio_blk.c) only uses this header:
 *
 *	virtio_probe_each(VIRTIO_ID_NET, attach);   and in attach(vd):
 *		virtio_begin(vd, wanted_features);     reset, negotiate, FEATURES_OK
 *		vd->ops->irq_setup(vd, cpu, queue_fn, config_fn, arg);
 *		vd->ops->queue_setup(vd, &vq, 0, max);  each queue, after irq_setup
 *		... fill receive queues ...
 *		virtio_driver_ok(vd);
 *
 * then virtq_add/virtq_publish, and vd->ops->queue_notify when publish
 * says the device wants it; virtio_irq_raise to run queue_fn soon. Interrupts: queue_fn(arg) runs in irq context
 * when any queue of the device may have completed chains (the driver looks
 * at its queues), config_fn(arg) when the device configuration changed.
 */
#ifndef HAL_BARE_VIRTIO_H
#define HAL_BARE_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"
#include "virtqueue.h"

/* Device types (virtio 1.x section 5). */
#define VIRTIO_ID_NET   1
#define VIRTIO_ID_BLK   2

/* Status bits. */
#define VIRTIO_STATUS_ACK           1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_NEEDS_RESET   64
#define VIRTIO_STATUS_FAILED        128

/* Transport features. */
#define VIRTIO_F_ANY_LAYOUT         (1ull << 27)    /* legacy: headers need no descriptor of their own */
#define VIRTIO_F_VERSION_1          (1ull << 32)

struct virtio_dev;

struct virtio_ops {
	void (*reset)(struct virtio_dev *vd);   /* back to status 0, bounded wait */
	uint64_t (*device_features)(struct virtio_dev *vd);
	void (*set_features)(struct virtio_dev *vd, uint64_t features);
	uint8_t (*get_status)(struct virtio_dev *vd);
	void (*set_status)(struct virtio_dev *vd, uint8_t status);
	/* len bytes of the device configuration at off, read consistently
	 * (the generation counter on modern devices). */
	void (*config_read)(struct virtio_dev *vd, unsigned off, void *buf, unsigned len);
	/* Allocate queue index (at most max_size descriptors, the device's
	 * size when it cannot be changed), tell the device, enable it.
	 * 0, -ENOENT (no such queue), -ENOMEM, -EINVAL. */
	int (*queue_setup)(struct virtio_dev *vd, struct virtq *vq, uint16_t index,
	                   uint16_t max_size);
	void (*queue_notify)(struct virtio_dev *vd, struct virtq *vq);
	/* Route the device's interrupts to cpu (PCI: MSI-X when the function
	 * has it, else INTx; MMIO: its GSI), and set up virtio_irq_raise.
	 * Before queue_setup. 0 or -errno. */
	int (*irq_setup)(struct virtio_dev *vd, unsigned cpu, bare_irq_fn queue_fn,
	                 bare_irq_fn config_fn, void *arg);
};

struct virtio_dev {
	const struct virtio_ops *ops;
	unsigned type;                  /* VIRTIO_ID_* */
	uint64_t features;              /* negotiated (virtio_begin) */
	bool legacy;                    /* a 0.9.5 device: no FEATURES_OK, no VERSION_1 */
	bool msix;                      /* interrupts by MSI-X (after irq_setup) */
	int queue_vector;               /* the queues' vector (after irq_setup), for messages */
	const char *irq_kind;           /* "MSI-X", "INTx", "GSI edge" (after irq_setup), for messages */
	int raise_vector;               /* virtio_irq_raise's: queue_fn alone (virtio_raise_setup) */
	char where[16];                 /* "00:03.0", for messages */
};

/*
 * virtio_begin: reset the device, acknowledge it, and agree on features:
 * those of wanted the device offers (VERSION_1 always asked for, and
 * required of a modern device). Sets vd->features. 0, or -EIO (the device
 * refused FEATURES_OK; it is left FAILED).
 */
int virtio_begin(struct virtio_dev *vd, uint64_t wanted);

/* virtio_driver_ok: the driver is ready (queues set up). -EIO when the
 * device reports it needs a reset. */
int virtio_driver_ok(struct virtio_dev *vd);

/* virtio_fail: give up on the device (status FAILED). */
void virtio_fail(struct virtio_dev *vd);

/* virtio_raise_setup: a vector of the device's own whose handler is
 * queue_fn, for virtio_irq_raise (a transport's irq_setup calls it).
 * 0 or -ENOSPC. virtio_irq_raise: run queue_fn in irq context on the
 * calling CPU, soon (a self IPI: never a level-triggered pin's vector). */
int virtio_raise_setup(struct virtio_dev *vd, bare_irq_fn queue_fn, void *arg);
void virtio_irq_raise(struct virtio_dev *vd);

/* virtio_read_stable: a legacy device's configuration has no generation
 * counter, so read it (through the transport's raw reader) until two
 * reads agree, at most 8 times; len at most 64. */
typedef void (*virtio_raw_read)(struct virtio_dev *vd, unsigned off, void *buf, unsigned len);
void virtio_read_stable(struct virtio_dev *vd, virtio_raw_read read, unsigned off, void *buf,
                        unsigned len);

static inline bool virtio_has(const struct virtio_dev *vd, uint64_t feature)
{
	return (vd->features & feature) != 0;
}

/* virtio_pci_next: the next virtio PCI function of device type type at
 * PCI list index >= *from (*from set past it), set up as a virtio_dev
 * (modern when it offers the virtio 1.x capabilities, else legacy), or
 * NULL when none is left. */
struct virtio_dev *virtio_pci_next(unsigned type, unsigned *from);

/* virtio_mmio_next: the same for the virtio-mmio devices named on the
 * command line (virtio_mmio.device=SIZE@BASE:IRQ), *from counting them. */
struct virtio_dev *virtio_mmio_next(unsigned type, unsigned *from);

/* virtio_probe_each: attach(vd) for every device of type: PCI functions
 * in bus order, then virtio-mmio devices in command-line order (the order
 * the drivers number them in). Thread context. */
void virtio_probe_each(unsigned type, void (*attach)(struct virtio_dev *vd));

#endif
