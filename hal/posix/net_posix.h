/*
 * net_posix.h: between net.c (hal_net_* and the NIC table) and the NIC
 * backends of the posix HAL (net_slirp.c, net_tap.c).
 *
 * A backend embeds struct hal_netdev first in its own device and fills in
 * ops and info when it opens one. net.c checks the arguments of every
 * hal_net_* call (device, queue, started) before it calls the backend, so a
 * backend sees only a started device and a queue below info.queues.
 */
#ifndef HAL_POSIX_NET_POSIX_H
#define HAL_POSIX_NET_POSIX_H

#include "hal.h"
#include "posix.h"

struct posix_nic_ops {
	int (*start)(struct hal_netdev *dev);
	unsigned (*receive)(struct hal_netdev *dev, unsigned queue,
	                    struct hal_net_frame *frames, unsigned max);
	unsigned (*transmit)(struct hal_netdev *dev, unsigned queue,
	                     const struct hal_net_frame *frames, unsigned n);
	void (*arm)(struct hal_netdev *dev, unsigned queue);
	/* After the kernel has stopped: end host threads, close, free. */
	void (*close)(struct hal_netdev *dev);
};

struct hal_netdev {
	const struct posix_nic_ops *ops;
	struct hal_net_info info;
	/* Set once by hal_net_start (claimed through starting), before the
	 * backend's start; started is set after it, with release order. */
	hal_net_notify_fn notify;
	void *notify_arg;
	bool starting, started;
};

/* Each opens one NIC of cfg (index: its place among the NICs, for
 * messages and default MACs); NULL after a one-line message on stderr. */
struct hal_netdev *posix_slirp_open(const struct posix_net_config *cfg, unsigned index);
struct hal_netdev *posix_tap_open(const struct posix_net_config *cfg, unsigned index,
                                  unsigned cpus);

/* posix_net_notify: what a backend runs in irq context for an armed queue. */
static inline void posix_net_notify(struct hal_netdev *dev, unsigned queue)
{
	dev->notify(dev->notify_arg, queue);
}

#endif
