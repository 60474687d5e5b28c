/*
 * net_tap.c: a NIC of the posix HAL on a Linux TAP interface
 * (--net tap:IFNAME[,mq][,tso][,mac=M]), through /dev/net/tun.
 *
 * Each queue is one file descriptor on the TAP (IFF_TAP | IFF_NO_PI, so a
 * read or write is one whole Ethernet frame). With mq the TAP is opened
 * IFF_MULTI_QUEUE once per CPU (at most TAP_MAX_QUEUES), and Linux spreads
 * the frames it sends over the queues by flow. IFF_VNET_HDR puts a
 * virtio_net_hdr before every frame: on transmit it carries the stack's
 * HAL_NET_CSUM_PARTIAL (Linux then never computes that checksum for local
 * delivery); on receive TUN_F_CSUM lets Linux send us frames whose
 * checksum it left partial (NEEDS_CSUM: we finish it here, so the stack
 * gets a whole frame) or had checked (DATA_VALID); both come up
 * HAL_NET_CSUM_VALID. With ,tso the TAP offers HAL_NET_TX_TSO: a frame with a
 * gso_size goes to Linux as one write with GSO_TCPV4 in its header, and
 * Linux cuts it into segments (a write per 64 KiB, not per 1500 bytes).
 * It offers HAL_NET_RX_GSO as well and asks for TUN_F_TSO4: Linux then
 * hands over its TCP TSO packets whole (GSO_TCPV4, up to 64 KiB, checksum
 * left partial), a read per 64 KiB instead of per 1500 bytes. Their
 * checksum is not finished here: nothing crossed a wire, and summing 64
 * KiB for a field nobody reads would cost what the syscalls saved.
 * No TUN_F_TSO_ECN: we never negotiate ECN, so Linux never marks CWR.
 *
 * Receiving: each queue's fd is non-blocking and watched with
 * hal_posix_watch_fd_on its CPU, so a frame from Linux wakes that CPU if it
 * idles (else another idle one), which runs tap_ready in irq context: no
 * host thread, no polling.
 * hal_net_receive reads until EAGAIN or until the batch is full. A queue
 * records `pending` when frames may be waiting (an edge came, or a batch
 * stopped before EAGAIN), so hal_net_arm can tell at once whether to
 * notify: an edge between the last read and the arm is never lost.
 *
 * Transmitting: a writev per frame. Linux's TAP takes every frame at once
 * (its socket send buffer is unbounded), so transmit takes every frame; a
 * frame Linux refuses all the same (no room, the interface down) is
 * dropped and counted, as a wire would lose it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net_posix.h"

/* Each queue takes one of the HAL's POSIX_MAX_WATCHES fd watches. */
#define TAP_MAX_QUEUES 8
#define VNET_HDR_LEN ((int)sizeof(struct virtio_net_hdr))
#define ETH_HLEN_MIN 14

struct tap_nic;

struct tap_queue {
	struct tap_nic *nic;
	unsigned index;
	int fd;                     /* non-blocking; -1: not open */
	bool watched;

	/* lock guards the fields below. */
	pthread_mutex_t lock;
	bool armed;                 /* one notify owed on the next edge */
	bool pending;               /* frames may be waiting in fd */
	unsigned long notify_failed;/* hal_posix_raise_irq had no memory */
	unsigned long rx_dropped;   /* too long, too short, bad header */
	unsigned long tx_dropped;   /* refused by us (length, flags) or by Linux */
};

struct tap_nic {
	struct hal_netdev dev;      /* first: hal_netdev * is a tap_nic * */
	bool rx_gso;                /* TUN_F_TSO4 asked for: frames up to 64 KiB */
	struct tap_queue q[TAP_MAX_QUEUES];
};

/* ---- notify ---- */

static void notify_irq(void *arg)
{
	struct tap_queue *q = arg;
	posix_net_notify(&q->nic->dev, q->index);
}

/* tap_ready: fd has news (an edge), in irq context on some kernel CPU. */
static void tap_ready(void *arg)
{
	struct tap_queue *q = arg;
	pthread_mutex_lock(&q->lock);
	q->pending = true;
	bool notify = q->armed;
	q->armed = false;
	pthread_mutex_unlock(&q->lock);
	if (notify)
		notify_irq(q);
}

static void tap_arm(struct hal_netdev *dev, unsigned queue)
{
	struct tap_queue *q = &((struct tap_nic *)dev)->q[queue];
	pthread_mutex_lock(&q->lock);
	q->armed = true;
	/* Raised, not called: notify runs in irq context, once this CPU
	 * takes interrupts again. On failure armed stays set: the next edge
	 * notifies. */
	if (q->pending) {
		if (hal_posix_raise_irq(hal_cpu_id(), notify_irq, q) == 0)
			q->armed = false;
		else
			q->notify_failed++;
	}
	pthread_mutex_unlock(&q->lock);
}

/* ---- receive ---- */

/* csum_fold_partial: finish the Internet checksum of data[start..len) into
 * data[start + offset] (it holds the pseudo-header sum meanwhile), as a
 * NIC does for VIRTIO_NET_HDR_F_NEEDS_CSUM. The caller checked the range. */
static void csum_fold_partial(uint8_t *data, unsigned len, unsigned start, unsigned offset)
{
	/* Summed in the host's byte order, 32 bits at a time into 64: the
	 * one's complement sum does not depend on the order (RFC 1071 §2(B)),
	 * so the folded result is stored as it is. Every received TCP frame
	 * from Linux comes this way: a byte at a time cost ~10% of a stream. */
	const uint8_t *p = data + start;
	unsigned n = len - start;
	uint64_t sum = 0;
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		sum += (w & 0xffffffffu) + (w >> 32);
	}
	for (; n >= 2; p += 2, n -= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		sum += w;
	}
	if (n) {
		uint16_t w = 0;
		memcpy(&w, p, 1);       /* the odd byte, padded with a zero after it */
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t csum = (uint16_t)~sum;
	/* 0 and 0xffff are the same one's complement sum; UDP reserves 0 for
	 * "no checksum" (RFC 768), so all ones it is, for TCP as well. */
	if (csum == 0)
		csum = 0xffff;
	memcpy(data + start + offset, &csum, 2);
}

/* accept_header: the frame's flags and gso_size from its virtio_net_hdr,
 * its checksum finished if Linux left it partial on a single segment;
 * false: drop it. */
static bool accept_header(const struct tap_nic *t, const struct virtio_net_hdr *h,
                          struct hal_net_frame *f)
{
	f->flags = 0;
	f->gso_size = 0;
	bool partial = h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if (partial && (unsigned)h->csum_start + h->csum_offset + 2u > f->len)
		return false;
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		/* Only what TUN_F_TSO4 asks for: TCP/IPv4 without ECN, its
		 * checksum partial (Linux never computed it). */
		if (!t->rx_gso || h->gso_type != VIRTIO_NET_HDR_GSO_TCPV4 || h->gso_size == 0 ||
		    !partial)
			return false;
		f->gso_size = h->gso_size;
		f->flags = HAL_NET_CSUM_VALID;
		return true;
	}
	if (partial) {
		csum_fold_partial(f->data, f->len, h->csum_start, h->csum_offset);
		f->flags = HAL_NET_CSUM_VALID;
	} else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		f->flags = HAL_NET_CSUM_VALID;
	}
	return true;
}

static unsigned tap_receive(struct hal_netdev *dev, unsigned queue,
                            struct hal_net_frame *frames, unsigned max)
{
	struct tap_nic *t = (struct tap_nic *)dev;
	struct tap_queue *q = &t->q[queue];
	unsigned frame_max = t->rx_gso ? 65535 : HAL_NET_FRAME_MAX;
	unsigned got = 0, dropped = 0;
	bool drained = false;

	pthread_mutex_lock(&q->lock);
	q->pending = false;         /* an edge from here on sets it again */
	pthread_mutex_unlock(&q->lock);

	while (got < max) {
		struct hal_net_frame *f = &frames[got];
		struct virtio_net_hdr h;
		uint8_t overflow[64];   /* a frame reaching here is too long */
		unsigned room = f->len < frame_max ? f->len : frame_max;
		struct iovec iov[3] = {
			{ &h, VNET_HDR_LEN }, { f->data, room }, { overflow, sizeof(overflow) },
		};
		ssize_t n = readv(q->fd, iov, 3);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* EAGAIN: empty. Anything else (the TAP went away) ends the
			 * batch too; the edge it brings sets pending again. */
			drained = errno == EAGAIN;
			if (!drained)
				dropped++;
			break;
		}
		if (n < VNET_HDR_LEN + ETH_HLEN_MIN || n > VNET_HDR_LEN + (ssize_t)room) {
			dropped++;
			continue;
		}
		f->len = (uint16_t)(n - VNET_HDR_LEN);
		if (!accept_header(t, &h, f)) {
			dropped++;
			continue;
		}
		got++;
	}

	pthread_mutex_lock(&q->lock);
	q->rx_dropped += dropped;
	if (!drained)
		q->pending = true;      /* stopped on a full batch: more may wait */
	pthread_mutex_unlock(&q->lock);
	return got;
}

/* ---- transmit ---- */

/* tx_header: the virtio_net_hdr for f; false: a frame we must not send. */
static bool tx_header(const struct hal_net_frame *f, struct virtio_net_hdr *h)
{
	*h = (struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	if (f->len < ETH_HLEN_MIN || (f->len > HAL_NET_FRAME_MAX && !f->gso_size) ||
	    (f->flags & ~(unsigned)HAL_NET_CSUM_PARTIAL))
		return false;
	if (f->flags & HAL_NET_CSUM_PARTIAL) {
		if ((unsigned)f->csum_start + f->csum_offset + 2u > f->len || f->csum_start < ETH_HLEN_MIN)
			return false;
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = f->csum_start;
		h->csum_offset = f->csum_offset;
	}
	if (f->gso_size) {
		/* TSO: the TCP header's length tells where the payload starts
		 * (hal.h: the checksum is partial, the TCP header at
		 * csum_start). */
		const uint8_t *d = f->data;
		if (!(f->flags & HAL_NET_CSUM_PARTIAL) || (unsigned)f->csum_start + 20u > f->len)
			return false;
		unsigned hdr_len = f->csum_start + ((d[f->csum_start + 12] >> 4) * 4u);
		if (hdr_len >= f->len)
			return false;
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = f->gso_size;
		h->hdr_len = (uint16_t)hdr_len;
	}
	return true;
}

static unsigned tap_transmit(struct hal_netdev *dev, unsigned queue,
                             const struct hal_net_frame *frames, unsigned n)
{
	struct tap_queue *q = &((struct tap_nic *)dev)->q[queue];
	unsigned dropped = 0;
	for (unsigned i = 0; i < n; i++) {
		struct virtio_net_hdr h;
		if (!tx_header(&frames[i], &h)) {
			dropped++;
			continue;
		}
		struct iovec iov[2] = { { &h, VNET_HDR_LEN }, { frames[i].data, frames[i].len } };
		ssize_t w;
		do
			w = writev(q->fd, iov, 2);
		while (w < 0 && errno == EINTR);
		if (w != VNET_HDR_LEN + frames[i].len)
			dropped++;
	}
	if (dropped) {
		pthread_mutex_lock(&q->lock);
		q->tx_dropped += dropped;
		pthread_mutex_unlock(&q->lock);
	}
	return n;
}

/* ---- start and close ---- */

static int tap_start(struct hal_netdev *dev)
{
	struct tap_nic *t = (struct tap_nic *)dev;
	for (unsigned i = 0; i < dev->info.queues; i++) {
		struct tap_queue *q = &t->q[i];
		/* The stack serves queue i from CPU i % hal_cpu_count() (hal.h):
		 * its frames wake that CPU. */
		int rc = hal_posix_watch_fd_on(q->fd, i, tap_ready, q);
		if (rc < 0) {
			while (i-- > 0) {
				hal_posix_unwatch_fd(t->q[i].fd);
				t->q[i].watched = false;
			}
			return rc;
		}
		q->watched = true;
		/* Frames that came before the watch made no edge it saw. */
		pthread_mutex_lock(&q->lock);
		q->pending = true;
		pthread_mutex_unlock(&q->lock);
	}
	return 0;
}

static void tap_close(struct hal_netdev *dev)
{
	struct tap_nic *t = (struct tap_nic *)dev;
	for (unsigned i = 0; i < TAP_MAX_QUEUES; i++) {
		struct tap_queue *q = &t->q[i];
		if (q->watched)
			hal_posix_unwatch_fd(q->fd);
		/* The counts of what was dropped, where someone will see them. */
		if (q->rx_dropped || q->tx_dropped || q->notify_failed)
			fprintf(stderr, "toro: %s queue %u: dropped %lu received and %lu transmitted "
			        "frames, %lu notifies failed\n", dev->info.name, i, q->rx_dropped,
			        q->tx_dropped, q->notify_failed);
		if (q->fd >= 0)
			close(q->fd);
		pthread_mutex_destroy(&q->lock);
	}
	free(t);
}

static const struct posix_nic_ops tap_ops = {
	.start = tap_start,
	.receive = tap_receive,
	.transmit = tap_transmit,
	.arm = tap_arm,
	.close = tap_close,
};

/* ---- opening ---- */

/* open_queue: one fd attached to the TAP; -1 after a message. The
 * offloads belong to the interface: the first queue sets them. */
static int open_queue(const struct posix_net_config *cfg, bool first)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "--net tap:%s: /dev/net/tun: %s\n", cfg->ifname, strerror(errno));
		return -1;
	}
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	if (cfg->multi_queue)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, cfg->ifname, sizeof(cfg->ifname));
	int hdr_len = VNET_HDR_LEN;
	const char *step = NULL, *hint = "";
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		step = "cannot attach";
		if (errno == EINVAL)
			hint = cfg->multi_queue ? " (mq needs a TAP made with multi_queue)"
			                        : " (a multi_queue TAP needs ,mq)";
	} else if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		step = "cannot set the virtio header";
	} else if (first && ioctl(fd, TUNSETOFFLOAD,
	                          (unsigned long)(TUN_F_CSUM | (cfg->tso ? TUN_F_TSO4 : 0))) < 0) {
		step = "cannot set checksum offload";
	}
	if (!step)
		return fd;
	fprintf(stderr, "--net tap:%s: %s: %s%s\n", cfg->ifname, step, strerror(errno), hint);
	close(fd);
	return -1;
}

struct hal_netdev *posix_tap_open(const struct posix_net_config *cfg, unsigned index,
                                  unsigned cpus)
{
	struct tap_nic *t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(stderr, "--net tap:%s: out of memory\n", cfg->ifname);
		return NULL;
	}
	t->dev.ops = &tap_ops;
	for (unsigned i = 0; i < TAP_MAX_QUEUES; i++) {
		t->q[i] = (struct tap_queue){ .nic = t, .index = i, .fd = -1 };
		pthread_mutex_init(&t->q[i].lock, NULL);
	}

	struct hal_net_info *info = &t->dev.info;
	unsigned queues = cfg->multi_queue ? cpus : 1;
	if (queues > TAP_MAX_QUEUES)
		queues = TAP_MAX_QUEUES;
	for (unsigned i = 0; i < queues; i++) {
		t->q[i].fd = open_queue(cfg, i == 0);
		if (t->q[i].fd < 0) {
			tap_close(&t->dev);
			return NULL;
		}
	}
	/* Locally administered, unicast: 02:54:6f:72:6f ("Toro") and the index. */
	static const uint8_t toro_mac[6] = { 0x02, 0x54, 0x6f, 0x72, 0x6f, 0x00 };
	memcpy(info->mac, cfg->has_mac ? cfg->mac : toro_mac, 6);
	if (!cfg->has_mac)
		info->mac[5] = (uint8_t)index;
	info->mtu = 1500;
	info->queues = queues;
	info->offloads = HAL_NET_TX_CSUM | HAL_NET_RX_CSUM |
	                 (cfg->tso ? HAL_NET_TX_TSO | HAL_NET_RX_GSO : 0);
	t->rx_gso = cfg->tso;
	info->link_up = true;
	snprintf(info->name, sizeof(info->name), "%s", cfg->ifname);
	return &t->dev;
}
