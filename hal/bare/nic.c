/*
 * nic.c: hal_net_* of hal.h over the NIC drivers registered in nic.h.
 *
 * The drivers probe when the kernel first asks for NICs, not at boot, so a
 * service without a network pays nothing. Each driver's probe is listed
 * in probe_all(), in the order their devices are numbered.
 */
#include <errno.h>

#include "bare.h"
#include "nic.h"

static struct hal_netdev *nics[BARE_MAX_NICS];
static unsigned nic_count;
static int probed;                      /* atomic: 0 no, 1 running, 2 done */

int bare_nic_add(struct hal_netdev *dev)
{
	if (nic_count >= BARE_MAX_NICS)
		return -ENOSPC;
	nics[nic_count++] = dev;
	return 0;
}

static void probe_all(void)
{
	int expected = 0;
	if (__atomic_compare_exchange_n(&probed, &expected, 1, false, __ATOMIC_ACQUIRE,
	                                __ATOMIC_RELAXED)) {
		virtio_net_probe();
		e1000_probe();
		__atomic_store_n(&probed, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&probed, __ATOMIC_ACQUIRE) != 2)
		hal_cpu_relax();
}

unsigned hal_net_count(void)
{
	probe_all();
	return nic_count;
}

struct hal_netdev *hal_net_get(unsigned index)
{
	probe_all();
	return index < nic_count ? nics[index] : NULL;
}

void hal_net_info(struct hal_netdev *dev, struct hal_net_info *info)
{
	*info = dev->info;
}

int hal_net_start(struct hal_netdev *dev, hal_net_notify_fn notify, void *arg)
{
	if (__atomic_exchange_n(&dev->started, 1, __ATOMIC_ACQ_REL))
		return -EBUSY;          /* once per device: keep the first notify */
	dev->notify_arg = arg;
	dev->notify = notify;
	return dev->ops->start(dev);
}

unsigned hal_net_receive(struct hal_netdev *dev, unsigned queue,
                         struct hal_net_frame *frames, unsigned max)
{
	return queue < dev->info.queues ? dev->ops->receive(dev, queue, frames, max) : 0;
}

unsigned hal_net_transmit(struct hal_netdev *dev, unsigned queue,
                          const struct hal_net_frame *frames, unsigned n)
{
	return queue < dev->info.queues ? dev->ops->transmit(dev, queue, frames, n) : 0;
}

void hal_net_arm(struct hal_netdev *dev, unsigned queue)
{
	if (queue < dev->info.queues)
		dev->ops->arm(dev, queue);
}

bool bare_nic_csum_fill(uint8_t *frame, unsigned len, unsigned start, unsigned offset)
{
	if (start >= len || offset + 2 > len - start)
		return false;
	uint8_t *field = frame + start + offset;
	uint32_t sum = 0;
	for (unsigned i = start; i + 1 < len; i += 2)
		sum += (uint32_t)frame[i] << 8 | frame[i + 1];
	if ((len - start) & 1)
		sum += (uint32_t)frame[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	if (c == 0)
		c = 0xffff;             /* the same sum, and UDP's 0 means "none" */
	field[0] = (uint8_t)(c >> 8);
	field[1] = (uint8_t)c;
	return true;
}
