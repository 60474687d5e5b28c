/*
 * virtio_net.c: virtio-net (virtio 1.x section 5.1) behind hal_net_*, over
 * any virtio transport (virtio.h); one queue pair: receiveq 0, transmitq 1.
 *
 * Features asked for: MAC (the address in the configuration), STATUS (link
 * state, updated on configuration interrupts), MRG_RXBUF (a frame may span
 * several receive buffers: num_buffers in the header says how many), CSUM
 * (-> HAL_NET_TX_CSUM: the device fills in csum_start/csum_offset
 * checksums), GUEST_CSUM (-> HAL_NET_RX_CSUM: DATA_VALID marks checked
 * frames; a NEEDS_CSUM one, whose checksum is still partial, is completed
 * here). No segmentation offloads, so no frame exceeds HAL_NET_FRAME_MAX.
 * QEMU offers neither checksum offload with user networking (slirp has no
 * virtio header), only with a tap backend.
 *
 * Buffers: every receive and transmit slot has a buffer of its own (2 KiB:
 * header + frame), allocated at start; frames are copied between them and
 * the caller's. The header goes in the same descriptor as the frame
 * (VERSION_1 or ANY_LAYOUT), or in a descriptor of its own on a legacy
 * device without ANY_LAYOUT. The receive ring is kept full: a buffer is
 * given back to the device as soon as its frame is copied out. Transmit
 * slots are reaped at the next hal_net_transmit.
 *
 * Notification (hal.h): `armed` is set by arm and taken (exchanged to 0)
 * by whoever calls notify, so each arm gives at most one notify. Arm sets
 * it, turns interrupts on, then looks at the rings itself (after a full
 * fence): work already there is handed to the interrupt handler through a
 * self IPI, so notify always runs in irq context, and a frame that arrived
 * between the last receive and the arm is not lost. The handler only reads
 * the rings (virtq_has_used); the queue's owner turns device interrupts
 * off again (NO_INTERRUPT) when it finds itself unarmed. Transmit room
 * counts only after a transmit came back short (tx_wanted).
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "bare.h"
#include "console.h"
#include "nic.h"
#include "virtio.h"

#define NET_F_CSUM          (1ull << 0)
#define NET_F_GUEST_CSUM    (1ull << 1)
#define NET_F_MAC           (1ull << 5)
#define NET_F_MRG_RXBUF     (1ull << 15)
#define NET_F_STATUS        (1ull << 16)

#define CFG_MAC             0
#define CFG_STATUS          6
#define STATUS_LINK_UP      1

#define HDR_F_NEEDS_CSUM    1
#define HDR_F_DATA_VALID    2

struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;       /* MRG_RXBUF or VERSION_1 only */
} __attribute__((packed));

#define BUF_SIZE    2048u
#define QUEUE_MAX   256u
#define ETH_MIN     14u

struct vnet {
	struct hal_netdev hal;          /* first: nic.c hands us this */
	struct virtio_dev *vd;
	unsigned hdr_len;               /* 12, or 10 on legacy without MRG_RXBUF */
	unsigned segs;                  /* descriptors per buffer: 1, or 2 (header apart) */
	bool started;

	/* The queues and buffers belong to queue 0's caller (one CPU at a
	 * time); the interrupt handler only reads the used rings' indexes. */
	struct virtq rx, tx;
	uint8_t *rx_mem, *tx_mem;
	uint8_t **tx_free;              /* stack of free transmit buffers */
	unsigned tx_nfree;

	int armed;                      /* atomic: a notify is owed */
	int tx_wanted;                  /* atomic: a transmit came back short */
};

/* ---- Interrupts --------------------------------------------------------- */

static bool work_waiting(struct vnet *n)
{
	return virtq_has_used(&n->rx) ||
	       (__atomic_load_n(&n->tx_wanted, __ATOMIC_RELAXED) && virtq_has_used(&n->tx));
}

static void queue_irq(void *arg)
{
	struct vnet *n = arg;
	if (__atomic_load_n(&n->armed, __ATOMIC_ACQUIRE) && work_waiting(n) &&
	    __atomic_exchange_n(&n->armed, 0, __ATOMIC_ACQ_REL))
		bare_nic_notify(&n->hal, 0);
}

static void read_link(struct vnet *n)
{
	if (!virtio_has(n->vd, NET_F_STATUS))
		return;
	uint16_t status;
	n->vd->ops->config_read(n->vd, CFG_STATUS, &status, 2);
	__atomic_store_n(&n->hal.info.link_up, (status & STATUS_LINK_UP) != 0, __ATOMIC_RELAXED);
}

static void config_irq(void *arg)
{
	read_link(arg);
}

/* ---- Receive ------------------------------------------------------------ */

/* Offer one receive buffer to the device. */
static void rx_give(struct vnet *n, uint8_t *buf)
{
	struct virtq_seg segs[2] = {
		{ buf, BUF_SIZE, true },
		{ buf + n->hdr_len, BUF_SIZE - n->hdr_len, true },
	};
	if (n->segs == 2)
		segs[0].len = n->hdr_len;
	virtq_add(&n->rx, segs, n->segs, buf);
}

/* Take one frame (one or, with MRG_RXBUF, several buffers) off the used
 * ring into f; its buffers go back to the device. 1: a frame in f; 0:
 * nothing waiting; -1: a frame dropped (counted). */
static int rx_one(struct vnet *n, struct hal_net_frame *f)
{
	uint32_t len;
	uint8_t *buf = virtq_get_used(&n->rx, &len);
	if (!buf)
		return 0;
	struct net_hdr hdr = { 0 };
	bool bad = len < n->hdr_len || len > BUF_SIZE;
	if (!bad)
		memcpy(&hdr, buf, n->hdr_len);
	unsigned nbufs = virtio_has(n->vd, NET_F_MRG_RXBUF) && !bad ? hdr.num_buffers : 1;
	if (nbufs == 0)
		bad = true, nbufs = 1;
	unsigned room = f->len < HAL_NET_FRAME_MAX ? f->len : HAL_NET_FRAME_MAX;
	unsigned got = 0;
	bool too_long = false;
	for (unsigned i = 0;;) {
		if (!bad) {
			unsigned part = len - n->hdr_len * (i == 0);
			uint8_t *from = i == 0 ? buf + n->hdr_len : buf;
			if (got + part > room)
				too_long = true;
			else
				memcpy((uint8_t *)f->data + got, from, part);
			got += part;
		}
		rx_give(n, buf);
		if (++i == nbufs)
			break;
		buf = virtq_get_used(&n->rx, &len);
		if (!buf) {
			bad = true;         /* fewer buffers than num_buffers said */
			break;
		}
		bad |= len > BUF_SIZE;
	}
	if (bad || got < ETH_MIN) {
		n->hal.stats.rx_bad++;
		return -1;
	}
	if (too_long) {
		n->hal.stats.rx_too_long++;
		return -1;
	}
	f->len = (uint16_t)got;
	f->flags = 0;
	if (hdr.flags & HDR_F_NEEDS_CSUM) {
		if (!bare_nic_csum_fill(f->data, got, hdr.csum_start, hdr.csum_offset)) {
			n->hal.stats.rx_bad++;
			return -1;
		}
		f->flags = HAL_NET_CSUM_VALID;
	} else if (hdr.flags & HDR_F_DATA_VALID) {
		f->flags = HAL_NET_CSUM_VALID;
	}
	return 1;
}

static unsigned vnet_receive(struct hal_netdev *dev, unsigned queue,
                             struct hal_net_frame *frames, unsigned max)
{
	struct vnet *n = (struct vnet *)dev;
	if (!n->started)
		return 0;
	unsigned got = 0;
	bool gave = false;
	while (got < max) {
		int r = rx_one(n, &frames[got]);
		if (r == 0)
			break;
		gave = true;
		if (r > 0)
			got++;
	}
	if (gave && virtq_publish(&n->rx))
		n->vd->ops->queue_notify(n->vd, &n->rx);
	if (!__atomic_load_n(&n->armed, __ATOMIC_ACQUIRE))
		virtq_interrupts(&n->rx, false);
	return got;
}

/* ---- Transmit ----------------------------------------------------------- */

static void tx_reap(struct vnet *n)
{
	uint32_t len;
	uint8_t *buf;
	while ((buf = virtq_get_used(&n->tx, &len)))
		n->tx_free[n->tx_nfree++] = buf;
}

/* A frame the caller may give: Ethernet-sized, and checksum fields inside
 * it when it asks for one. */
static bool tx_frame_ok(const struct hal_net_frame *f)
{
	if (f->len < ETH_MIN || f->len > HAL_NET_FRAME_MAX)
		return false;
	if (!(f->flags & HAL_NET_CSUM_PARTIAL))
		return true;
	return f->csum_start < f->len && f->csum_offset + 2u <= (unsigned)(f->len - f->csum_start);
}

static unsigned vnet_transmit(struct hal_netdev *dev, unsigned queue,
                              const struct hal_net_frame *frames, unsigned count)
{
	struct vnet *n = (struct vnet *)dev;
	if (!n->started)
		return 0;
	tx_reap(n);
	unsigned taken = 0;
	bool added = false;
	for (; taken < count; taken++) {
		const struct hal_net_frame *f = &frames[taken];
		if (!tx_frame_ok(f)) {
			n->hal.stats.tx_bad++;
			continue;           /* taken and dropped */
		}
		if (n->tx_nfree == 0 || n->tx.num_free < n->segs)
			break;
		uint8_t *buf = n->tx_free[--n->tx_nfree];
		struct net_hdr hdr = { 0 };
		memcpy(buf + n->hdr_len, f->data, f->len);
		if (f->flags & HAL_NET_CSUM_PARTIAL) {
			if (virtio_has(n->vd, NET_F_CSUM)) {
				hdr.flags = HDR_F_NEEDS_CSUM;
				hdr.csum_start = f->csum_start;
				hdr.csum_offset = f->csum_offset;
			} else {
				bare_nic_csum_fill(buf + n->hdr_len, f->len, f->csum_start, f->csum_offset);
			}
		}
		memcpy(buf, &hdr, n->hdr_len);
		struct virtq_seg segs[2] = {
			{ buf, n->hdr_len + f->len, false },
			{ buf + n->hdr_len, f->len, false },
		};
		if (n->segs == 2)
			segs[0].len = n->hdr_len;
		virtq_add(&n->tx, segs, n->segs, buf);
		added = true;
	}
	if (added && virtq_publish(&n->tx))
		n->vd->ops->queue_notify(n->vd, &n->tx);
	bool short_taken = taken < count;
	__atomic_store_n(&n->tx_wanted, short_taken, __ATOMIC_RELEASE);
	if (!short_taken)
		virtq_interrupts(&n->tx, false);
	return taken;
}

/* ---- Arm, start, probe -------------------------------------------------- */

static void vnet_arm(struct hal_netdev *dev, unsigned queue)
{
	struct vnet *n = (struct vnet *)dev;
	if (!n->started)
		return;
	__atomic_store_n(&n->armed, 1, __ATOMIC_RELEASE);
	virtq_interrupts(&n->rx, true);
	bool tx_wanted = __atomic_load_n(&n->tx_wanted, __ATOMIC_RELAXED);
	if (tx_wanted)
		virtq_interrupts(&n->tx, true);
	/* Interrupts on before the look: a completion after it interrupts. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (work_waiting(n) || (tx_wanted && n->tx_nfree > 0))
		virtio_irq_raise(n->vd);
}

static int vnet_start(struct hal_netdev *dev)
{
	struct vnet *n = (struct vnet *)dev;
	struct virtio_dev *vd = n->vd;
	if (n->started)
		return -EBUSY;
	int rc = vd->ops->irq_setup(vd, 0, queue_irq, config_irq, n);
	if (rc == 0)
		rc = vd->ops->queue_setup(vd, &n->rx, 0, QUEUE_MAX);
	if (rc == 0)
		rc = vd->ops->queue_setup(vd, &n->tx, 1, QUEUE_MAX);
	unsigned nrx = n->rx.size / n->segs, ntx = n->tx.size / n->segs;
	if (rc == 0) {
		n->rx_mem = kmalloc_aligned((size_t)nrx * BUF_SIZE, PAGE_SIZE);
		n->tx_mem = kmalloc_aligned((size_t)ntx * BUF_SIZE, PAGE_SIZE);
		n->tx_free = kmalloc(sizeof(uint8_t *) * ntx);
		if (!n->rx_mem || !n->tx_mem || !n->tx_free)
			rc = -ENOMEM;
	}
	if (rc < 0) {
		bare_printf("%s: start failed (%d)\n", n->hal.info.name, rc);
		virtio_fail(vd);
		return -EIO;
	}
	for (unsigned i = 0; i < nrx; i++)
		rx_give(n, n->rx_mem + (size_t)i * BUF_SIZE);
	for (unsigned i = 0; i < ntx; i++)
		n->tx_free[n->tx_nfree++] = n->tx_mem + (size_t)i * BUF_SIZE;
	virtq_interrupts(&n->rx, false);
	virtq_interrupts(&n->tx, false);
	if (virtio_driver_ok(vd) < 0) {
		bare_printf("%s: device failed at DRIVER_OK\n", n->hal.info.name);
		return -EIO;
	}
	virtq_publish(&n->rx);
	vd->ops->queue_notify(vd, &n->rx);
	read_link(n);
	n->started = true;
	bare_printf("%s: %s, %s vector %d, %u+%u descriptors, %u-byte header%s\n",
	            n->hal.info.name, vd->legacy ? "legacy" : "virtio 1.x",
	            vd->irq_kind, vd->queue_vector, n->rx.size, n->tx.size,
	            n->hdr_len, n->segs == 2 ? " apart" : "");
	return 0;
}

static const struct bare_nic_ops vnet_ops = {
	.start = vnet_start,
	.receive = vnet_receive,
	.transmit = vnet_transmit,
	.arm = vnet_arm,
};

static void attach(struct virtio_dev *vd)
{
	const uint64_t wanted = NET_F_CSUM | NET_F_GUEST_CSUM | NET_F_MAC | NET_F_MRG_RXBUF |
	                        NET_F_STATUS | VIRTIO_F_ANY_LAYOUT;
	if (virtio_begin(vd, wanted) < 0) {
		bare_printf("virtio-net %s: feature negotiation refused\n", vd->where);
		return;
	}
	struct vnet *n = kzalloc(sizeof(*n));
	if (!n)
		return;
	n->vd = vd;
	n->hal.ops = &vnet_ops;
	bool modern = virtio_has(vd, VIRTIO_F_VERSION_1);
	n->hdr_len = modern || virtio_has(vd, NET_F_MRG_RXBUF) ? 12 : 10;
	n->segs = modern || virtio_has(vd, VIRTIO_F_ANY_LAYOUT) ? 1 : 2;
	struct hal_net_info *info = &n->hal.info;
	if (virtio_has(vd, NET_F_MAC)) {
		vd->ops->config_read(vd, CFG_MAC, info->mac, 6);
	} else {                    /* locally administered, a hash of the location */
		static const uint8_t base[6] = { 0x02, 0x54, 0x6f, 0x72, 0x6f, 0x00 };
		memcpy(info->mac, base, 6);
		for (const char *c = vd->where; *c; c++)
			info->mac[5] = (uint8_t)(info->mac[5] * 31 + *c);
	}
	info->mtu = 1500;
	info->queues = 1;
	info->offloads = (virtio_has(vd, NET_F_CSUM) ? HAL_NET_TX_CSUM : 0) |
	                 (virtio_has(vd, NET_F_GUEST_CSUM) ? HAL_NET_RX_CSUM : 0);
	info->link_up = true;
	ksnprintf(info->name, sizeof(info->name), "virtio-net %s", vd->where);
	read_link(n);
	if (bare_nic_add(&n->hal) < 0) {
		virtio_fail(vd);
		kfree(n);
	}
}

void virtio_net_probe(void)
{
	virtio_probe_each(VIRTIO_ID_NET, attach);
}
