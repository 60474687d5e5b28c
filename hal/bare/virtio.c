/*
 * virtio.c: the device initialisation every virtio driver goes through
 * (virtio 1.x section 3.1), over any transport (virtio.h).
 */
#include <errno.h>
#include <string.h>

#include "virtio.h"

int virtio_begin(struct virtio_dev *vd, uint64_t wanted)
{
	const struct virtio_ops *ops = vd->ops;
	ops->reset(vd);
	ops->set_status(vd, VIRTIO_STATUS_ACK);
	ops->set_status(vd, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	uint64_t offered = ops->device_features(vd);
	if (!vd->legacy)
		wanted |= VIRTIO_F_VERSION_1;
	else
		wanted &= 0xffffffffull;        /* 32 feature bits on legacy */
	vd->features = offered & wanted;
	if (!vd->legacy && !(vd->features & VIRTIO_F_VERSION_1)) {
		virtio_fail(vd);
		return -EIO;                /* a modern interface without 1.x? */
	}
	ops->set_features(vd, vd->features);
	if (vd->legacy)
		return 0;                   /* no FEATURES_OK before 1.0 */
	uint8_t s = VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	ops->set_status(vd, s);
	if (!(ops->get_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_fail(vd);
		return -EIO;
	}
	return 0;
}

int virtio_driver_ok(struct virtio_dev *vd)
{
	uint8_t s = vd->ops->get_status(vd);
	vd->ops->set_status(vd, s | VIRTIO_STATUS_DRIVER_OK);
	if (vd->ops->get_status(vd) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED))
		return -EIO;
	return 0;
}

void virtio_fail(struct virtio_dev *vd)
{
	vd->ops->set_status(vd, vd->ops->get_status(vd) | VIRTIO_STATUS_FAILED);
}

void virtio_probe_each(unsigned type, void (*attach)(struct virtio_dev *vd))
{
	struct virtio_dev *vd;
	unsigned from = 0;
	while ((vd = virtio_pci_next(type, &from)))
		attach(vd);
	from = 0;
	while ((vd = virtio_mmio_next(type, &from)))
		attach(vd);
}

int virtio_raise_setup(struct virtio_dev *vd, bare_irq_fn queue_fn, void *arg)
{
	vd->raise_vector = bare_irq_alloc_vector(queue_fn, arg);
	return vd->raise_vector < 0 ? vd->raise_vector : 0;
}

void virtio_irq_raise(struct virtio_dev *vd)
{
	bare_irq_self((unsigned)vd->raise_vector);
}

void virtio_read_stable(struct virtio_dev *vd, virtio_raw_read read, unsigned off, void *buf,
                        unsigned len)
{
	uint8_t again[64];
	if (len > sizeof(again))
		len = sizeof(again);
	for (int tries = 0; tries < 8; tries++) {
		read(vd, off, buf, len);
		read(vd, off, again, len);
		if (memcmp(buf, again, len) == 0)
			return;
	}
}
