/*
 * netif.c: the interfaces over hal.h's NICs, and the kernel's two calls into
 * the stack: net_init and net_print_stats (here beside net_init, so that
 * the stack's archive member the kernel links brings the counters with it).
 *
 * Each NIC becomes a struct netif with one netif_queue per queue pair. Queue
 * q is served by CPU q % hal_cpu_count(): the driver's notify marks the
 * queue's poller and wakes that CPU's network thread (netcpu.c), which
 * drains the receive ring in batches, hands each frame to ether_input, and
 * re-arms. Transmit goes to the calling CPU's queue; when the ring is full
 * the frame waits in the queue's bounded backlog, which the serving thread
 * sends on the next notify (transmit room is notified like receive).
 *
 * The interface table is filled once by net_init, before the network
 * threads start, and read-only after that.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "console.h"
#include "netcpu.h"
#include "socket.h"
#include "stack.h"
#include "wire.h"

#define RX_BATCH        16      /* frames per hal_net_receive */
#define RX_BUDGET       64      /* frames per poll before other threads run */
#define TX_BACKLOG_MAX  256     /* frames waiting for ring room, per queue */
#define RX_OFFSET       (NETBUF_HEADROOM - 2)  /* IPv4 header 4-aligned */
#define RX_LARGE_OFFSET 2                      /* the same, no headroom */
#define HOUSEKEEPING_NS 1000000000ull
#define RX_OOM_RETRY_NS 10000000ull    /* out of buffers: look again in 10 ms */

struct netif_queue {
	struct net_poller poller;
	struct netif *nif;
	unsigned index;

	/* lock: every hal_net_* call on this queue (the HAL's rule: one CPU at
	 * a time), and the backlog. Leaf lock. */
	struct spinlock lock;
	struct list backlog;        /* netbufs, oldest first */
	unsigned backlog_len;

	/* The serving CPU's: receive buffers not used by the last batch, and
	 * the timer that polls again when there were none to be had. */
	struct netbuf *spare[RX_BATCH];
	struct net_timer oom_retry;
};

struct netif_dev {
	struct netif nif;
	struct netif_queue queue[HAL_MAX_CPUS];
};

_Static_assert(NETBUF_RX_LARGE_ROOM - RX_LARGE_OFFSET >= HAL_NET_RX_GSO_BUF,
               "a large receive buffer holds what hal.h promises");

static struct netif_dev *netifs[NET_MAX_IFS];   /* written by net_init only */
static unsigned netif_count;
static struct net_timer housekeeping;           /* CPU 0's */

unsigned net_netif_count(void) { return netif_count; }

struct netif *net_netif(unsigned index)
{
	return index < netif_count ? &netifs[index]->nif : NULL;
}

struct netif *netif_by_index(unsigned index) { return net_netif(index); }

struct netif *netif_any(void)
{
	return netif_count ? &netifs[0]->nif : NULL;
}

static struct netif_queue *queue_of(struct netif *nif, unsigned q)
{
	return &container_of(nif, struct netif_dev, nif)->queue[q];
}

/* ---- transmit ------------------------------------------------------------ */

static struct hal_net_frame frame_of(struct netbuf *nb)
{
	struct hal_net_frame f = {
		.data = nb->data, .len = nb->len, .flags = nb->flags & HAL_NET_CSUM_PARTIAL,
		.csum_start = nb->csum_start, .csum_offset = nb->csum_offset,
		.gso_size = nb->gso_size,
	};
	return f;
}

/* send_backlog: as much of the backlog as the ring takes. Holds q->lock. */
static void send_backlog(struct netif_queue *q)
{
	struct hal_net_frame frames[RX_BATCH];
	struct netbuf *nbs[RX_BATCH];

	assert_held(&q->lock);
	while (q->backlog_len) {
		unsigned n = 0;
		list_for_each(pos, &q->backlog) {
			if (n == RX_BATCH)
				break;
			nbs[n] = list_entry(pos, struct netbuf, link);
			frames[n] = frame_of(nbs[n]);
			n++;
		}
		unsigned sent = hal_net_transmit(q->nif->dev, q->index, frames, n);
		for (unsigned i = 0; i < sent; i++) {
			list_remove(&nbs[i]->link);
			netbuf_free(nbs[i]);
		}
		q->backlog_len -= sent;
		__atomic_add_fetch(&q->nif->stats.tx_frames, sent, __ATOMIC_RELAXED);
		if (sent < n) {
			hal_net_arm(q->nif->dev, q->index);   /* notify when room */
			return;
		}
	}
}

void netif_transmit(struct netif *nif, struct netbuf *nb)
{
	struct netif_queue *q = queue_of(nif, hal_cpu_id() % nif->queues);

	if (nb->len < ETH_ZLEN) {               /* pad to the shortest frame */
		size_t pad = ETH_ZLEN - nb->len;
		uint8_t *end = netbuf_put(nb, pad);
		if (end)
			memset(end, 0, pad);
	}
	spin_lock(&q->lock);
	if (q->backlog_len == 0) {
		struct hal_net_frame f = frame_of(nb);
		if (hal_net_transmit(nif->dev, q->index, &f, 1) == 1) {
			spin_unlock(&q->lock);
			NET_COUNT(nif, tx_frames);
			netbuf_free(nb);
			return;
		}
	}
	if (q->backlog_len >= TX_BACKLOG_MAX) {
		spin_unlock(&q->lock);
		NET_COUNT(nif, tx_dropped);
		netbuf_free(nb);
		return;
	}
	list_push_back(&q->backlog, &nb->link);
	if (q->backlog_len++ == 0)
		hal_net_arm(nif->dev, q->index);
	spin_unlock(&q->lock);
}

/* ---- receive --------------------------------------------------------------- */

/* Receive buffers: small ones, or with HAL_NET_RX_GSO 64 KiB ones that can
 * take a frame of many segments (hal.h). A frame that fits a small buffer
 * is copied into one, so a 60-byte ACK never pins 64 KiB in a queue, and
 * the large buffer stays a spare. */
static bool rx_large(const struct netif *nif)
{
	return nif->offloads & HAL_NET_RX_GSO;
}

static unsigned rx_offset(const struct netif *nif)
{
	return rx_large(nif) ? RX_LARGE_OFFSET : RX_OFFSET;
}

static bool fill_spares(struct netif_queue *q)
{
	bool large = rx_large(q->nif);
	for (unsigned i = 0; i < RX_BATCH; i++) {
		if (!q->spare[i] && !(q->spare[i] = large ? netbuf_alloc_rx_large() : netbuf_alloc()))
			return false;
	}
	return true;
}

/* rx_take: the netbuf for received frame f in spare i, which stays a spare
 * when f is copied into a small buffer; NULL: dropped (counted). */
static struct netbuf *rx_take(struct netif_queue *q, unsigned i, const struct hal_net_frame *f)
{
	struct netif *nif = q->nif;
	struct netbuf *nb = q->spare[i];
	unsigned off = rx_offset(nif);
	if (f->len > nb->size - off) {
		NET_COUNT(nif, rx_dropped);     /* a driver bug: the spare stays */
		return NULL;
	}
	struct netbuf *small = NULL;
	if (rx_large(nif) && f->len <= NETBUF_SIZE - RX_OFFSET && (small = netbuf_alloc())) {
		memcpy(small->buf + RX_OFFSET, f->data, f->len);
		nb = small;
		off = RX_OFFSET;
	} else {
		q->spare[i] = NULL;
	}
	nb->data = nb->buf + off;
	nb->len = f->len;
	nb->flags = f->flags & HAL_NET_CSUM_VALID;
	nb->gso_size = rx_large(nif) ? f->gso_size : 0;
	nb->netif = nif;
	return nb;
}

/* poll_queue: the serving CPU's network thread, after a notify. */
static bool poll_queue(struct net_poller *p)
{
	struct netif_queue *q = container_of(p, struct netif_queue, poller);
	struct netif *nif = q->nif;
	struct hal_net_frame frames[RX_BATCH];
	unsigned done = 0;
	bool oom = false;

	while (done < RX_BUDGET) {
		if (!fill_spares(q)) {
			oom = true;     /* the ring keeps the frames meanwhile */
			break;
		}
		unsigned off = rx_offset(nif);
		for (unsigned i = 0; i < RX_BATCH; i++) {
			uint32_t room = q->spare[i]->size - off;
			frames[i].data = q->spare[i]->buf + off;
			frames[i].len = (uint16_t)(room < 65535 ? room : 65535);
			frames[i].flags = 0;
			frames[i].gso_size = 0;
		}
		spin_lock(&q->lock);
		unsigned n = hal_net_receive(nif->dev, q->index, frames, RX_BATCH);
		spin_unlock(&q->lock);
		if (n > RX_BATCH)
			n = 0;          /* a driver bug: trust none of it */
		for (unsigned i = 0; i < n; i++) {
			NET_COUNT(nif, rx_frames);
			struct netbuf *nb = rx_take(q, i, &frames[i]);
			if (nb)
				ether_input(nif, nb);
		}
		done += n;
		if (n < RX_BATCH)
			break;
	}

	spin_lock(&q->lock);
	send_backlog(q);
	/* Arming with frames waiting and no buffers would notify at once,
	 * over and over: without memory, come back on a timer instead. */
	if (done < RX_BUDGET && !oom)
		hal_net_arm(nif->dev, q->index);
	spin_unlock(&q->lock);
	if (oom)
		net_timer_arm(&q->oom_retry, hal_clock_ns() + RX_OOM_RETRY_NS);
	return done >= RX_BUDGET;
}

static void oom_retry(struct net_timer *t)
{
	struct netif_queue *q = container_of(t, struct netif_queue, oom_retry);
	net_poller_notify(&q->poller);
}

static void notify(void *arg, unsigned queue)
{
	struct netif *nif = arg;
	if (queue < nif->queues)
		net_poller_notify(&queue_of(nif, queue)->poller);
}

/* ---- bring-up ---------------------------------------------------------------- */

static int add_netif(unsigned index, struct hal_netdev *dev)
{
	struct hal_net_info info;
	memset(&info, 0, sizeof(info));
	hal_net_info(dev, &info);
	if (info.queues == 0 || info.queues > HAL_MAX_CPUS || info.mtu < 576 || info.mtu > 1500)
		return -EINVAL;

	struct netif_dev *d = kzalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	struct netif *nif = &d->nif;
	nif->dev = dev;
	nif->index = index;
	memcpy(nif->mac, info.mac, 6);
	nif->mtu = info.mtu;
	nif->queues = info.queues;
	nif->offloads = info.offloads;
	spin_init(&nif->lock, "netif.lock");
	for (unsigned q = 0; q < info.queues; q++) {
		struct netif_queue *nq = &d->queue[q];
		nq->nif = nif;
		nq->index = q;
		spin_init(&nq->lock, "netif_queue.lock");
		list_init(&nq->backlog);
		net_timer_init(&nq->oom_retry, oom_retry);
		net_poller_init(&nq->poller, q % hal_cpu_count(), poll_queue);
		net_poller_add(&nq->poller);
	}
	netifs[netif_count++] = d;
	kprintf("net: %s %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u queue%s\n", info.name,
	        info.mac[0], info.mac[1], info.mac[2], info.mac[3], info.mac[4], info.mac[5],
	        info.mtu, info.queues, info.queues == 1 ? "" : "s");
	return 0;
}

static void housekeeping_tick(struct net_timer *t)
{
	uint64_t now = hal_clock_ns();
	arp_tick(now);
	ip_frag_tick(now);
	icmp_tick(now);
	net_timer_arm(t, now + HOUSEKEEPING_NS);
}

#define DHCP_BOOT_WAIT_NS (10 * 1000000000ull)

int net_init(const char *const ip_options[], unsigned count)
{
	ip4_addr addr[NET_MAX_IP_OPTIONS], netmask[NET_MAX_IP_OPTIONS], gateway[NET_MAX_IP_OPTIONS];
	if (count > NET_MAX_IP_OPTIONS)
		return -EINVAL;
	for (unsigned i = 0; i < count; i++) {
		if (ipconfig_parse(ip_options[i], &addr[i], &netmask[i], &gateway[i]) < 0) {
			kprintf("net: ip=%s is not ADDR/PREFIX[,gw=ADDR]\n", ip_options[i]);
			return -EINVAL;
		}
	}

	net_cpus_init();
	arp_init();
	ip_frag_init();
	unsigned n = hal_net_count();
	for (unsigned i = 0; i < n && netif_count < NET_MAX_IFS; i++) {
		int rc = add_netif(netif_count, hal_net_get(i));
		if (rc < 0)
			kprintf("net: NIC %u left out (%d)\n", i, rc);
	}
	int rc = net_cpus_start();
	if (rc < 0)
		return rc;

	for (unsigned i = 0; i < netif_count; i++) {
		struct netif *nif = &netifs[i]->nif;
		rc = hal_net_start(nif->dev, notify, nif);
		if (rc < 0) {
			kprintf("net: interface %u did not start (%d)\n", i, rc);
			continue;
		}
		for (unsigned q = 0; q < nif->queues; q++) {
			struct netif_queue *nq = queue_of(nif, q);
			spin_lock(&nq->lock);
			hal_net_arm(nif->dev, q);
			spin_unlock(&nq->lock);
		}
		if (i < count)
			netif_set_config(nif, addr[i], netmask[i], gateway[i]);
		else
			dhcp_start(nif);
	}
	net_timer_init(&housekeeping, housekeeping_tick);
	net_timer_arm(&housekeeping, hal_clock_ns() + HOUSEKEEPING_NS);

	if (netif_count && !net_wait_configured(hal_clock_ns() + DHCP_BOOT_WAIT_NS))
		kprintf("net: no address yet (DHCP goes on)\n");
	return 0;
}

/* One "netstat:" line a group, name=value pairs, so tests and people can
 * both read them. */
void net_print_stats(void)
{
	struct TNetStats s;
	for (unsigned i = 0; i < net_netif_count(); i++) {
		if (SysNetStats((int)i, &s) < 0)
			continue;
		kprintf("netstat: if%u rx_frames=%lu tx_frames=%lu rx_dropped=%lu tx_dropped=%lu\n", i,
		        (unsigned long)s.rx_frames, (unsigned long)s.tx_frames,
		        (unsigned long)s.rx_dropped, (unsigned long)s.tx_dropped);
		kprintf("netstat: if%u bad_ether=%lu bad_arp=%lu bad_ip=%lu bad_icmp=%lu bad_udp=%lu "
		        "bad_tcp=%lu bad_csum=%lu\n", i,
		        (unsigned long)s.bad_ether, (unsigned long)s.bad_arp, (unsigned long)s.bad_ip,
		        (unsigned long)s.bad_icmp, (unsigned long)s.bad_udp, (unsigned long)s.bad_tcp,
		        (unsigned long)s.bad_csum);
		kprintf("netstat: if%u no_socket=%lu frag_dropped=%lu no_route=%lu arp_dropped=%lu "
		        "udp_dropped=%lu\n", i,
		        (unsigned long)s.no_socket, (unsigned long)s.frag_dropped,
		        (unsigned long)s.no_route, (unsigned long)s.arp_dropped,
		        (unsigned long)s.udp_dropped);
	}
	if (SysNetStats(-1, &s) < 0)
		memset(&s, 0, sizeof(s));
	kprintf("netstat: tcp retransmits=%lu syn_cookies=%lu challenge_acks=%lu timeouts=%lu "
	        "tlp_probes=%lu rack_lost=%lu\n",
	        (unsigned long)s.tcp_retransmits, (unsigned long)s.tcp_syn_cookies,
	        (unsigned long)s.tcp_challenge_acks, (unsigned long)s.tcp_timeouts,
	        (unsigned long)s.tcp_tlp_probes, (unsigned long)s.tcp_rack_lost);
	const uint32_t *n = s.tcp_states;
	kprintf("netstat: tcp_states closed=%u listen=%u syn_sent=%u syn_received=%u "
	        "established=%u fin_wait_1=%u fin_wait_2=%u close_wait=%u closing=%u "
	        "last_ack=%u time_wait=%u\n", n[TNET_CLOSED], n[TNET_LISTEN], n[TNET_SYN_SENT],
	        n[TNET_SYN_RECEIVED], n[TNET_ESTABLISHED], n[TNET_FIN_WAIT_1], n[TNET_FIN_WAIT_2],
	        n[TNET_CLOSE_WAIT], n[TNET_CLOSING], n[TNET_LAST_ACK], n[TNET_TIME_WAIT]);
}
