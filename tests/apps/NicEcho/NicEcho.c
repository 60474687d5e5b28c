/*
 * NicEcho: a test service that proves a NIC's data path from raw frames,
 * with no TCP/IP stack: on NIC 0 it answers ARP who-has for its address,
 * ICMP echo requests to it and UDP datagrams to its port 7 (echo, RFC 862),
 * and nothing else. One thread per queue, on the queue's CPU, in the NAPI
 * loop of hal.h (receive a batch, answer it in one transmit, arm and sleep
 * when empty). It checks every checksum itself, whatever the NIC says (so a
 * NIC's receive offload that finished a checksum wrong shows as drops), and
 * its replies use the NIC's TX checksum offload when it has one.
 *
 *   NicEcho ADDRESS [SECONDS]     e.g. NicEcho 192.168.7.2 20 (default 20)
 *
 * Runs for SECONDS, then prints "NicEcho: arp N, echo N, udp N, dropped N"
 * and one line per queue with the frames it received, and exits 0 (1: no
 * NIC, or a bad argument). Not a network stack: every frame it does not
 * understand is counted and dropped.
 */
#include <errno.h>
#include <string.h>

#include "hal.h"
#include "thread.h"
#include "toro.h"
#include "waitq.h"

TORO_NO_NET_STACK;      /* the NICs are ours: no TCP/IP stack */

#define BATCH 8

struct queue {
	struct waitq wq;
	bool notified;              /* guarded by wq.lock */
};

static struct hal_netdev *dev;
static struct hal_net_info info;
static uint32_t my_ip;
static uint64_t deadline_ns;
static struct queue queues[HAL_MAX_CPUS];
static unsigned long arp_answered, echo_answered, udp_answered, dropped;    /* atomic */
static unsigned long frames_on[HAL_MAX_CPUS];   /* per queue: its thread's own */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint16_t inet_csum_from(uint32_t sum, const uint8_t *p, unsigned len)
{
	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t inet_csum(const uint8_t *p, unsigned len)
{
	return inet_csum_from(0, p, len);
}

/* pseudo_sum: the IPv4 pseudo-header (RFC 768) of ip's addresses, proto
 * and a transport length, as a 32-bit sum to start a checksum with. */
static uint32_t pseudo_sum(const uint8_t *ip, unsigned len)
{
	return (uint32_t)get16(ip + 12) + get16(ip + 14) + get16(ip + 16) + get16(ip + 18) +
	       ip[9] + len;
}

/* set_checksum: the transport checksum at field (offset from start of
 * the transport header th, length len): by the NIC when it offers it
 * (the field holds the folded pseudo-header sum meanwhile), else here. */
static void set_checksum(struct hal_net_frame *f, uint8_t *th, unsigned len, unsigned field,
                         uint32_t pseudo)
{
	put16(th + field, 0);
	if (info.offloads & HAL_NET_TX_CSUM) {
		put16(th + field, (uint16_t)~inet_csum_from(pseudo, NULL, 0));
		f->flags = HAL_NET_CSUM_PARTIAL;
		f->csum_start = (uint16_t)(th - (uint8_t *)f->data);
		f->csum_offset = (uint16_t)field;
	} else {
		f->flags = 0;
		put16(th + field, inet_csum_from(pseudo, th, len));
	}
}

/* ipv4_to_me: the IPv4 header of f if it is a whole, unfragmented packet
 * of protocol proto to my_ip with a right header checksum; NULL if not. */
static uint8_t *ipv4_to_me(struct hal_net_frame *f, uint8_t proto, unsigned *ihl_out,
                           unsigned *total_out)
{
	uint8_t *ip = (uint8_t *)f->data + 14;
	if (f->len < 14 + 20)
		return NULL;
	unsigned ihl = (ip[0] & 15) * 4u, total = get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl + 8 || 14u + total > f->len ||
	    inet_csum(ip, ihl) != 0 || (get16(ip + 6) & 0x3fff) /* a fragment */ ||
	    ip[9] != proto || get32(ip + 16) != my_ip)
		return NULL;
	*ihl_out = ihl;
	*total_out = total;
	return ip;
}

/* reply_ipv4: turn f's Ethernet and IPv4 headers around, in place. */
static void reply_ipv4(struct hal_net_frame *f, uint8_t *ip, unsigned ihl, unsigned total)
{
	uint8_t *e = f->data;
	memcpy(e, e + 6, 6);
	memcpy(e + 6, info.mac, 6);
	memcpy(ip + 16, ip + 12, 4);
	put32(ip + 12, my_ip);
	ip[8] = 64;
	put16(ip + 10, 0);
	put16(ip + 10, inet_csum(ip, ihl));
	f->len = (uint16_t)(14 + total);    /* without the peer's padding */
}

/* arp: a who-has for my_ip becomes, in place, the reply. */
static bool arp(struct hal_net_frame *f)
{
	uint8_t *e = f->data, *a = e + 14;
	if (f->len < 14 + 28 || get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != 6 ||
	    a[5] != 4 || get16(a + 6) != 1 || get32(a + 24) != my_ip)
		return false;
	memcpy(e, a + 8, 6);                /* to the asker */
	memcpy(e + 6, info.mac, 6);
	put16(a + 6, 2);
	memcpy(a + 18, a + 8, 10);          /* target: the asker's MAC and IP */
	memcpy(a + 8, info.mac, 6);
	put32(a + 14, my_ip);
	f->len = 14 + 28;
	f->flags = 0;
	return true;
}

/* echo: an ICMP echo request to my_ip becomes, in place, the reply. */
static bool echo(struct hal_net_frame *f)
{
	unsigned ihl, total;
	uint8_t *ip = ipv4_to_me(f, 1, &ihl, &total);
	if (!ip)
		return false;
	uint8_t *icmp = ip + ihl;
	unsigned icmp_len = total - ihl;
	if (icmp[0] != 8 || icmp[1] != 0 || inet_csum(icmp, icmp_len) != 0)
		return false;
	reply_ipv4(f, ip, ihl, total);
	icmp[0] = 0;
	set_checksum(f, icmp, icmp_len, 2, 0);     /* ICMP: no pseudo-header */
	return true;
}

/* udp_echo: a UDP datagram to my_ip port 7 goes back whole to its sender. */
static bool udp_echo(struct hal_net_frame *f)
{
	unsigned ihl, total;
	uint8_t *ip = ipv4_to_me(f, 17, &ihl, &total);
	if (!ip)
		return false;
	uint8_t *udp = ip + ihl;
	unsigned udp_len = get16(udp + 4);
	if (udp_len < 8 || udp_len != total - ihl || get16(udp + 2) != 7 ||
	    (get16(udp + 6) != 0 && inet_csum_from(pseudo_sum(ip, udp_len), udp, udp_len) != 0))
		return false;
	reply_ipv4(f, ip, ihl, total);
	uint8_t port[2];
	memcpy(port, udp, 2);
	memcpy(udp, udp + 2, 2);
	memcpy(udp + 2, port, 2);
	set_checksum(f, udp, udp_len, 6, pseudo_sum(ip, udp_len));
	if (!(f->flags & HAL_NET_CSUM_PARTIAL) && get16(udp + 6) == 0)
		put16(udp + 6, 0xffff);         /* RFC 768: 0 means "none" */
	return true;
}

static void on_notify(void *arg, unsigned q)
{
	struct queue *qs = &queues[q];
	spin_lock(&qs->wq.lock);
	qs->notified = true;
	waitq_wake_all_locked(&qs->wq);
	spin_unlock(&qs->wq.lock);
}

static void wait_notify(struct queue *qs)
{
	spin_lock(&qs->wq.lock);
	while (!qs->notified && hal_clock_ns() < deadline_ns)
		waitq_wait_locked(&qs->wq, deadline_ns);
	qs->notified = false;
	spin_unlock(&qs->wq.lock);
}

static int serve(void *arg)
{
	unsigned q = (unsigned)(uintptr_t)arg;
	static uint8_t bufs[HAL_MAX_CPUS][BATCH][HAL_NET_FRAME_MAX];
	while (hal_clock_ns() < deadline_ns) {
		struct hal_net_frame rx[BATCH], tx[BATCH];
		for (int i = 0; i < BATCH; i++)
			rx[i] = (struct hal_net_frame){ .data = bufs[q][i], .len = HAL_NET_FRAME_MAX };
		unsigned got = hal_net_receive(dev, q, rx, BATCH), ntx = 0;
		frames_on[q] += got;
		for (unsigned i = 0; i < got; i++) {
			uint16_t type = rx[i].len >= 14 ? get16((uint8_t *)rx[i].data + 12) : 0;
			if (type == 0x0806 && arp(&rx[i])) {
				__atomic_add_fetch(&arp_answered, 1, __ATOMIC_RELAXED);
				tx[ntx++] = rx[i];
			} else if (type == 0x0800 && echo(&rx[i])) {
				__atomic_add_fetch(&echo_answered, 1, __ATOMIC_RELAXED);
				tx[ntx++] = rx[i];
			} else if (type == 0x0800 && udp_echo(&rx[i])) {
				__atomic_add_fetch(&udp_answered, 1, __ATOMIC_RELAXED);
				tx[ntx++] = rx[i];
			} else {
				__atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
			}
		}
		for (unsigned sent = 0; sent < ntx;) {
			unsigned n = hal_net_transmit(dev, q, tx + sent, ntx - sent);
			sent += n;
			if (n == 0) {           /* ring full: wait for room */
				hal_net_arm(dev, q);
				wait_notify(&queues[q]);
				if (hal_clock_ns() >= deadline_ns)
					break;
			}
		}
		if (got == 0) {
			hal_net_arm(dev, q);
			wait_notify(&queues[q]);
		}
	}
	return 0;
}

/* parse_ipv4: dotted quad to a host-order address; false if malformed. */
static bool parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int part = 0; part < 4; part++) {
		unsigned n = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || n > 255 || *s != (part < 3 ? '.' : '\0'))
			return false;
		s++;
		v = v << 8 | n;
	}
	*out = v;
	return true;
}

static bool parse_seconds(const char *s, unsigned *out)
{
	unsigned v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return v > 0;
}

int main(int argc, char **argv)
{
	unsigned seconds = 20;
	if (argc < 2 || argc > 3 || !parse_ipv4(argv[1], &my_ip) ||
	    (argc == 3 && !parse_seconds(argv[2], &seconds))) {
		WriteConsoleF("usage: NicEcho ADDRESS [SECONDS]\n");
		return 1;
	}
	dev = hal_net_get(0);
	if (!dev) {
		WriteConsoleF("NicEcho: no NIC\n");
		return 1;
	}
	hal_net_info(dev, &info);
	unsigned nq = info.queues;
	for (unsigned q = 0; q < nq; q++)
		waitq_init(&queues[q].wq, "NicEcho");
	deadline_ns = hal_clock_ns() + seconds * 1000000000ull;
	int rc = hal_net_start(dev, on_notify, NULL);
	if (rc < 0) {
		WriteConsoleF("NicEcho: %s does not start: %d\n", info.name, rc);
		return 1;
	}
	WriteConsoleF("NicEcho: %s %02x:%02x:%02x:%02x:%02x:%02x, %u queues, answering for %s for %u s\n",
	              info.name, info.mac[0], info.mac[1], info.mac[2], info.mac[3], info.mac[4],
	              info.mac[5], nq, argv[1], seconds);

	struct thread *t[HAL_MAX_CPUS];
	for (unsigned q = 0; q < nq; q++)
		t[q] = thread_create(q % hal_cpu_count(), serve, (void *)(uintptr_t)q, 0);
	for (unsigned q = 0; q < nq; q++)
		if (t[q])
			thread_join(t[q]);
	WriteConsoleF("NicEcho: arp %lu, echo %lu, udp %lu, dropped %lu\n", arp_answered,
	              echo_answered, udp_answered, dropped);
	for (unsigned q = 0; q < nq; q++)
		WriteConsoleF("NicEcho: queue %u received %lu frames\n", q, frames_on[q]);
	return 0;
}
