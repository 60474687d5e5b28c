/*
 * nic.h: the NIC drivers of hal/bare behind hal.h's hal_net_* calls.
 *
 * A driver probes PCI for its devices (nic.c calls each driver's probe once,
 * when the kernel first asks for NICs) and registers each device it brings
 * up with bare_nic_add(); nic.c numbers them in that order and forwards the
 * hal_net_* calls through the device's ops. The driver embeds struct
 * hal_netdev at the start of its own device record.
 */
#ifndef BARE_NIC_H
#define BARE_NIC_H

#include "hal.h"

struct bare_nic_ops {
	int (*start)(struct hal_netdev *dev);
	unsigned (*receive)(struct hal_netdev *dev, unsigned queue,
	                    struct hal_net_frame *frames, unsigned max);
	unsigned (*transmit)(struct hal_netdev *dev, unsigned queue,
	                     const struct hal_net_frame *frames, unsigned n);
	void (*arm)(struct hal_netdev *dev, unsigned queue);
};

/* What a driver dropped and why; the queue's owner adds (one CPU at a
 * time), so plain fields, read only for messages. */
struct bare_nic_stats {
	uint64_t rx_bad;                    /* device said error, or a malformed buffer */
	uint64_t rx_too_long;               /* longer than the caller's buffer or HAL_NET_FRAME_MAX */
	uint64_t tx_bad;                    /* frames refused: length, checksum fields */
};

struct hal_netdev {
	const struct bare_nic_ops *ops;
	struct hal_net_info info;           /* filled by the driver at probe */
	hal_net_notify_fn notify;           /* set by hal_net_start, before ops->start */
	void *notify_arg;
	int started;                        /* atomic: hal_net_start was called */
	struct bare_nic_stats stats;
};

#define BARE_MAX_NICS 8

/* bare_nic_add: register a probed device; -ENOSPC past BARE_MAX_NICS. */
int bare_nic_add(struct hal_netdev *dev);

/* bare_nic_notify: a driver's interrupt handler tells the stack that an
 * armed queue has work (irq context). */
static inline void bare_nic_notify(struct hal_netdev *dev, unsigned queue)
{
	if (dev->notify)
		dev->notify(dev->notify_arg, queue);
}

/* Driver probes, called in this order by nic.c's probe_all (thread
 * context, once). */
void virtio_net_probe(void);
void e1000_probe(void);

/*
 * bare_nic_csum_fill: the Internet checksum (RFC 1071) of
 * frame[start..len), folded into the 16-bit field at start + offset,
 * which holds the pseudo-header sum on entry (HAL_NET_CSUM_PARTIAL's
 * contract). False, frame untouched, when the field lies outside the
 * frame. For a device without the offload, or a frame the device left
 * with a partial checksum.
 */
bool bare_nic_csum_fill(uint8_t *frame, unsigned len, unsigned start, unsigned offset);

#endif
