/*
 * udp.c: UDP (RFC 768, RFC 1122 §4.1): the port table, input with its
 * checks, delivery on the socket's CPU, and sending.
 *
 * A datagram for a port no socket holds is answered with ICMP port
 * unreachable (unless it was broadcast); port 68 is the DHCP client's.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "stack.h"
#include "udp.h"
#include "wire.h"

#define EPHEMERAL_FIRST 49152
#define EPHEMERAL_LAST  65535
#define DHCP_CLIENT_PORT 68

struct udp_sock {
	struct list port_link;      /* on bound, under udp_lock */
	unsigned cpu;               /* the owner; set at creation */
	ip4_addr local_ip, remote_ip;
	uint16_t local_port, remote_port;   /* 0: unbound / not connected */

	/* Guarded by wait->lock (the socket's wait queue). */
	struct waitq *wait;
	struct list rxq;            /* netbufs at the payload, src_ip and port kept */
	size_t rx_bytes, rx_limit;  /* buffer bytes held (nb->size), and the bound */
	uint64_t rx_dropped;
	int error;                  /* pending ICMP error (connected only), or 0 */
};

/* The bound sockets, hashed by local port. udp_lock guards bound[], every
 * udp_sock's port_link, local_ip and local_port while bound, and
 * next_ephemeral. Leaf lock. */
#define PORT_BUCKETS 256
static struct spinlock udp_lock = SPINLOCK_INIT("udp_lock");
static struct list bound[PORT_BUCKETS];
static bool bound_ready;
static uint16_t next_ephemeral = EPHEMERAL_FIRST;

static struct list *bucket(uint16_t port)
{
	assert_held(&udp_lock);
	if (!bound_ready) {
		for (unsigned i = 0; i < PORT_BUCKETS; i++)
			list_init(&bound[i]);
		bound_ready = true;
	}
	return &bound[port % PORT_BUCKETS];
}

/* The datagram's source port rides in csum_offset while queued (input
 * netbufs do not use it). */
#define QUEUED_SPORT(nb) ((nb)->csum_offset)

int udp_parse(struct netbuf *nb, uint16_t *sport, uint16_t *dport)
{
	if (nb->len < UDP_HLEN)
		return -EINVAL;
	const uint8_t *h = nb->data;
	unsigned len = get_be16(h + UDP_LEN);
	if (len < UDP_HLEN || len > nb->len)
		return -EINVAL;
	netbuf_trim(nb, len);
	*sport = get_be16(h + UDP_SPORT);
	*dport = get_be16(h + UDP_DPORT);
	if (*sport == 0 && *dport == 0)
		return -EINVAL;
	return 0;
}

/* lookup: the socket for a datagram to (ip, port); exact address first.
 * Holds udp_lock. */
static struct udp_sock *lookup(ip4_addr ip, uint16_t port)
{
	struct udp_sock *wild = NULL;
	list_for_each(pos, bucket(port)) {
		struct udp_sock *u = list_entry(pos, struct udp_sock, port_link);
		if (u->local_port != port)
			continue;
		if (u->local_ip == ip)
			return u;
		if (u->local_ip == 0)
			wild = u;
	}
	return wild;
}

static bool port_taken(ip4_addr ip, uint16_t port)
{
	list_for_each(pos, bucket(port)) {
		struct udp_sock *u = list_entry(pos, struct udp_sock, port_link);
		if (u->local_port == port && (u->local_ip == 0 || ip == 0 || u->local_ip == ip))
			return true;
	}
	return false;
}

/* deliver_here: on the CPU that owned the socket when the datagram came
 * in; looks again, as it may have been closed meanwhile. */
static void deliver_here(struct netbuf *nb)
{
	const uint8_t *h = nb->data;
	spin_lock(&udp_lock);
	struct udp_sock *u = lookup(nb->dst_ip, get_be16(h + UDP_DPORT));
	if (u && u->cpu != hal_cpu_id())
		u = NULL;
	spin_unlock(&udp_lock);
	/* Only this CPU closes u, and it is running this: u stays. */
	if (!u || (u->remote_port && (u->remote_ip != nb->src_ip ||
	                              u->remote_port != get_be16(h + UDP_SPORT)))) {
		NET_COUNT(nb->netif, no_socket);
		netbuf_free(nb);
		return;
	}
	QUEUED_SPORT(nb) = get_be16(h + UDP_SPORT);
	netbuf_pull(nb, UDP_HLEN);
	spin_lock(&u->wait->lock);
	/* Counted by the memory held, so tiny datagrams cannot pile up. */
	if (u->rx_bytes + nb->size > u->rx_limit) {
		u->rx_dropped++;
		spin_unlock(&u->wait->lock);
		NET_COUNT(nb->netif, udp_dropped);
		netbuf_free(nb);
		return;
	}
	list_push_back(&u->rxq, &nb->link);
	u->rx_bytes += nb->size;
	waitq_wake_all_locked(u->wait);
	spin_unlock(&u->wait->lock);
}

void udp_input(struct netbuf *nb)
{
	struct netif *nif = nb->netif;
	uint16_t sport, dport;
	if (udp_parse(nb, &sport, &dport) < 0 ||
	    (get_be16(nb->data + UDP_CSUM) != 0 && !net_l4_checksum_ok(nb, IP_PROTO_UDP))) {
		NET_COUNT(nif, bad_udp);
		netbuf_free(nb);
		return;
	}
	if (dport == DHCP_CLIENT_PORT) {
		dhcp_input(nb);
		return;
	}
	spin_lock(&udp_lock);
	struct udp_sock *u = lookup(nb->dst_ip, dport);
	unsigned cpu = u ? u->cpu : 0;
	spin_unlock(&udp_lock);
	if (!u) {
		NET_COUNT(nif, no_socket);
		if (ipv4_is_local(nb->dst_ip) && netbuf_push(nb, nb->ip_hlen)) {
			icmp_send_unreachable(nb, ICMP_PORT_UNREACH);
			return;
		}
		netbuf_free(nb);
		return;
	}
	if (cpu == hal_cpu_id())
		deliver_here(nb);
	else
		net_run_on(cpu, nb, deliver_here);
}

/* ---- ICMP errors (RFC 1122 §4.1.3.3: passed up to the application) ---- */

/* The quoted datagram's addresses ride in the netbuf while handed over. */
static void icmp_error_here(struct netbuf *nb)
{
	const uint8_t *ip = nb->data;
	unsigned hlen = (ip[IP_VER_IHL] & 0xf) * 4u;
	ip4_addr src = get_be32(ip + IP_SRC), dst = get_be32(ip + IP_DST);
	uint16_t sport = get_be16(ip + hlen + UDP_SPORT), dport = get_be16(ip + hlen + UDP_DPORT);
	int err = nb->csum_offset == ICMP_PORT_UNREACH ? -ECONNREFUSED : -EHOSTUNREACH;
	netbuf_free(nb);

	spin_lock(&udp_lock);
	struct udp_sock *u = lookup(src, sport);
	if (u && u->cpu != hal_cpu_id())
		u = NULL;
	spin_unlock(&udp_lock);
	/* Only a connected socket hears of it (as on BSD and Linux): an
	 * unconnected one cannot tell whose datagram it was. */
	if (!u || u->remote_ip != dst || u->remote_port != dport)
		return;
	spin_lock(&u->wait->lock);
	u->error = err;
	waitq_wake_all_locked(u->wait);
	spin_unlock(&u->wait->lock);
}

void udp_icmp_error(struct netbuf *nb, uint8_t code)
{
	const uint8_t *ip = nb->data;
	unsigned hlen = (ip[IP_VER_IHL] & 0xf) * 4u;
	if (nb->len < IP_HLEN || hlen < IP_HLEN || nb->len < hlen + UDP_HLEN ||
	    !ipv4_is_local(get_be32(ip + IP_SRC))) {
		netbuf_free(nb);
		return;
	}
	spin_lock(&udp_lock);
	struct udp_sock *u = lookup(get_be32(ip + IP_SRC), get_be16(ip + hlen + UDP_SPORT));
	unsigned cpu = u ? u->cpu : 0;
	spin_unlock(&udp_lock);
	if (!u) {
		netbuf_free(nb);
		return;
	}
	nb->csum_offset = code;
	if (cpu == hal_cpu_id())
		icmp_error_here(nb);
	else
		net_run_on(cpu, nb, icmp_error_here);
}

/* ---- the socket side ----------------------------------------------------------- */

struct udp_sock *udp_sock_create(struct waitq *wait)
{
	struct udp_sock *u = kzalloc(sizeof(*u));
	if (!u)
		return NULL;
	list_init(&u->port_link);
	list_init(&u->rxq);
	u->cpu = hal_cpu_id();
	u->wait = wait;
	u->rx_limit = UDP_RCVQ_DEFAULT;
	return u;
}

void udp_sock_close(struct udp_sock *u)
{
	spin_lock(&udp_lock);
	list_remove(&u->port_link);
	spin_unlock(&udp_lock);
	struct list *link;
	while ((link = list_pop_front(&u->rxq)) != NULL)
		netbuf_free(list_entry(link, struct netbuf, link));
	kfree(u);
}

int udp_sock_bind(struct udp_sock *u, const struct TSockAddr *local)
{
	if (u->local_port)
		return -EINVAL;
	if (local->ip && !ipv4_is_local(local->ip))
		return -EADDRNOTAVAIL;
	spin_lock(&udp_lock);
	uint16_t port = local->port;
	if (port == 0) {
		for (unsigned tries = 0; tries <= EPHEMERAL_LAST - EPHEMERAL_FIRST; tries++) {
			uint16_t p = next_ephemeral;
			next_ephemeral = p == EPHEMERAL_LAST ? EPHEMERAL_FIRST : p + 1;
			if (!port_taken(local->ip, p)) {
				port = p;
				break;
			}
		}
	}
	if (port == 0 || port_taken(local->ip, port)) {
		spin_unlock(&udp_lock);
		return port ? -EADDRINUSE : -EAGAIN;
	}
	u->local_ip = local->ip;
	u->local_port = port;
	list_push_back(bucket(port), &u->port_link);
	spin_unlock(&udp_lock);
	return 0;
}

static int autobind(struct udp_sock *u)
{
	struct TSockAddr any = { 0, 0 };
	return u->local_port ? 0 : udp_sock_bind(u, &any);
}

int udp_sock_connect(struct udp_sock *u, const struct TSockAddr *remote)
{
	if (remote->ip == 0 || remote->port == 0)
		return -EINVAL;
	int rc = autobind(u);
	if (rc < 0)
		return rc;
	u->remote_ip = remote->ip;
	u->remote_port = remote->port;
	return 0;
}

long udp_sock_sendto(struct udp_sock *u, const void *buf, size_t len, const struct TSockAddr *to)
{
	struct TSockAddr dest = { u->remote_ip, u->remote_port };
	if (to)
		dest = *to;
	if (dest.ip == 0 || dest.port == 0)
		return to ? -EINVAL : -EDESTADDRREQ;
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	int rc = autobind(u);
	if (rc < 0)
		return rc;

	ip4_addr src;
	struct netif *nif = ipv4_route_from(u->local_ip, dest.ip, &src);
	if (!nif)
		return -EHOSTUNREACH;
	if (u->local_ip)
		src = u->local_ip;
	struct netbuf *nb = len + UDP_HLEN + IP_HLEN + ETH_HLEN > HAL_NET_FRAME_MAX
	                            ? netbuf_alloc_large(UDP_HLEN + len)
	                            : netbuf_alloc();
	if (!nb)
		return -ENOBUFS;
	uint8_t *h = netbuf_put(nb, UDP_HLEN + len);
	if (!h) {
		netbuf_free(nb);
		return -ENOBUFS;
	}
	put_be16(h + UDP_SPORT, u->local_port);
	put_be16(h + UDP_DPORT, dest.port);
	put_be16(h + UDP_LEN, (uint16_t)(UDP_HLEN + len));
	memcpy(h + UDP_HLEN, buf, len);
	net_l4_checksum(nb, nif, src, dest.ip, IP_PROTO_UDP, UDP_CSUM);
	rc = ipv4_output(nb, src, dest.ip, IP_PROTO_UDP);
	return rc < 0 ? rc : (long)len;
}

bool udp_sock_readable(struct udp_sock *u)
{
	assert_held(&u->wait->lock);
	return !list_empty(&u->rxq) || u->error;
}

int udp_sock_error(struct udp_sock *u)
{
	assert_held(&u->wait->lock);
	return u->error;
}

long udp_sock_recvfrom(struct udp_sock *u, void *buf, size_t len, int flags,
                       struct TSockAddr *from)
{
	spin_lock(&u->wait->lock);
	struct list *link = u->rxq.next;
	if (link == &u->rxq) {
		/* Nothing queued: a pending error is reported once, instead. */
		int err = u->error;
		u->error = 0;
		spin_unlock(&u->wait->lock);
		return err ? err : -EAGAIN;
	}
	struct netbuf *nb = list_entry(link, struct netbuf, link);
	if (!(flags & SOCKET_PEEK)) {
		list_remove(link);
		u->rx_bytes -= nb->size;
	}
	spin_unlock(&u->wait->lock);

	size_t n = nb->len < len ? nb->len : len;
	memcpy(buf, nb->data, n);
	if (from) {
		from->ip = nb->src_ip;
		from->port = QUEUED_SPORT(nb);
	}
	if (!(flags & SOCKET_PEEK))
		netbuf_free(nb);
	return (long)n;
}

int udp_sock_local(struct udp_sock *u, struct TSockAddr *out)
{
	out->ip = u->local_ip;
	out->port = u->local_port;
	return 0;
}

int udp_sock_peer(struct udp_sock *u, struct TSockAddr *out)
{
	if (!u->remote_port)
		return -ENOTCONN;
	out->ip = u->remote_ip;
	out->port = u->remote_port;
	return 0;
}

void udp_sock_set_rcvbuf(struct udp_sock *u, size_t bytes)
{
	spin_lock(&u->wait->lock);
	u->rx_limit = bytes;
	spin_unlock(&u->wait->lock);
}
