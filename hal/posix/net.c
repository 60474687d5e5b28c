/*
 * net.c: hal_net_* of hal.h for the posix HAL: the table of the NICs the
 * --net options asked for (and devices the host program made itself,
 * POSIX_NET_DEVICE), opened before boot (posix_nics_open) and closed
 * after the kernel stops, and the checks every call passes before its
 * backend (net_slirp.c, net_tap.c; see net_posix.h) sees it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "net_posix.h"

/* Written before boot and after the kernel stops, read-only meanwhile. */
static struct hal_netdev *nics[POSIX_MAX_NICS];
static unsigned nnics;

int posix_nics_open(const struct posix_config *cfg, unsigned cpus)
{
	for (unsigned i = 0; i < cfg->nnets; i++) {
		const struct posix_net_config *nc = &cfg->net[i];
		struct hal_netdev *dev = nc->kind == POSIX_NET_DEVICE ? nc->device
		                       : nc->kind == POSIX_NET_SLIRP  ? posix_slirp_open(nc, i)
		                                                      : posix_tap_open(nc, i, cpus);
		if (!dev) {
			posix_nics_close();
			return -EIO;
		}
		nics[nnics++] = dev;
	}
	return 0;
}

void posix_nics_close(void)
{
	while (nnics > 0) {
		struct hal_netdev *dev = nics[--nnics];
		nics[nnics] = NULL;
		dev->ops->close(dev);
	}
}

unsigned hal_net_count(void)
{
	return nnics;
}

struct hal_netdev *hal_net_get(unsigned index)
{
	return index < nnics ? nics[index] : NULL;
}

void hal_net_info(struct hal_netdev *dev, struct hal_net_info *info)
{
	*info = dev->info;
}

int hal_net_start(struct hal_netdev *dev, hal_net_notify_fn notify, void *arg)
{
	if (!dev || !notify)
		return -EINVAL;
	if (__atomic_exchange_n(&dev->starting, true, __ATOMIC_ACQ_REL))
		return -EBUSY;      /* hal.h: once per device */
	dev->notify = notify;
	dev->notify_arg = arg;
	int rc = dev->ops->start(dev);
	if (rc == 0)
		__atomic_store_n(&dev->started, true, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&dev->starting, false, __ATOMIC_RELEASE);
	return rc;
}

/* usable: a started device and one of its queues. A call that breaks the
 * rules of hal.h is a bug in the stack: refuse it, and say so the first
 * time (a stack that loops on it must not flood the console). */
static bool usable(struct hal_netdev *dev, unsigned queue, const char *call)
{
	if (dev && __atomic_load_n(&dev->started, __ATOMIC_ACQUIRE) && queue < dev->info.queues)
		return true;
	static bool said;
	if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
		fprintf(stderr, "toro: %s on %s queue %u: %s\n", call,
		        dev ? dev->info.name : "no NIC", queue,
		        !dev ? "no device" : queue >= dev->info.queues ? "no such queue" : "not started");
	return false;
}

unsigned hal_net_receive(struct hal_netdev *dev, unsigned queue, struct hal_net_frame *frames,
                         unsigned max)
{
	if (!usable(dev, queue, "hal_net_receive") || max == 0)
		return 0;
	return dev->ops->receive(dev, queue, frames, max);
}

unsigned hal_net_transmit(struct hal_netdev *dev, unsigned queue,
                          const struct hal_net_frame *frames, unsigned n)
{
	if (!usable(dev, queue, "hal_net_transmit") || n == 0)
		return 0;
	return dev->ops->transmit(dev, queue, frames, n);
}

void hal_net_arm(struct hal_netdev *dev, unsigned queue)
{
	if (usable(dev, queue, "hal_net_arm"))
		dev->ops->arm(dev, queue);
}
