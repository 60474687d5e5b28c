/*
 * dhcp.c: the DHCP client (RFC 2131 §4.4), one per interface that has no
 * ip= option, all run by CPU 0's network thread (replies that come in on
 * another CPU are handed to CPU 0).
 *
 *   INIT ---DISCOVER---> SELECTING ---OFFER/REQUEST---> REQUESTING
 *   REQUESTING ---ACK---> BOUND (address set)      ---NAK/4 tries---> INIT
 *   BOUND ---T1---> RENEWING (REQUEST to the server)
 *   RENEWING ---T2---> REBINDING (REQUEST to everyone) ---lease end---> INIT
 *   RENEWING/REBINDING ---ACK---> BOUND            ---NAK---> INIT
 *
 * Retransmission (§4.1): 4 s, doubled each time up to 64 s; while renewing
 * or rebinding, half the time left to T2 or the lease end, at least 60 s.
 */
#include <string.h>

#include "console.h"
#include "dhcp_msg.h"
#include "stack.h"
#include "wire.h"

#define NS_PER_S          1000000000ull
#define RETRY_FIRST_NS    (4 * NS_PER_S)
#define RETRY_MAX_NS      (64 * NS_PER_S)
#define RENEW_RETRY_MIN_NS (60 * NS_PER_S)
#define REQUEST_TRIES     4
#define LEASE_DEFAULT_S   3600          /* a server that gives no lease time */

enum dhcp_state { DHCP_OFF, DHCP_SELECTING, DHCP_REQUESTING, DHCP_BOUND, DHCP_RENEWING,
                  DHCP_REBINDING };

/* CPU 0's network thread (and net_init on CPU 0) only: no lock. */
struct dhcp_client {
	struct netif *nif;
	enum dhcp_state state;
	uint32_t xid;
	uint64_t started_ns;        /* of this exchange, for secs */
	uint64_t retry_ns;          /* the current retransmission interval */
	unsigned tries;
	ip4_addr offered, server;
	uint64_t t1_ns, t2_ns, end_ns;      /* absolute, while bound */
	struct net_timer timer;
};

static struct dhcp_client clients[NET_MAX_IFS];

static uint32_t new_xid(struct dhcp_client *c)
{
	uint64_t x = hal_clock_ns() ^ ((uint64_t)c->nif->mac[5] << 40) ^ ((uint64_t)c->nif->mac[4] << 32);
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(x ^ (x >> 32));
}

static void send_msg(struct dhcp_client *c, uint8_t type, ip4_addr ciaddr, ip4_addr requested,
                     ip4_addr server_id, ip4_addr to)
{
	struct netbuf *nb = netbuf_alloc();
	if (!nb)
		return;
	uint64_t secs = (hal_clock_ns() - c->started_ns) / NS_PER_S;
	uint8_t *h = netbuf_put(nb, UDP_HLEN + DHCP_MSG_MAX);
	if (!h) {
		netbuf_free(nb);
		return;
	}
	size_t len = dhcp_build(h + UDP_HLEN, type, c->xid, c->nif->mac,
	                        (uint16_t)(secs > 0xffff ? 0xffff : secs), ciaddr, requested, server_id);
	netbuf_trim(nb, UDP_HLEN + len);
	put_be16(h + UDP_SPORT, DHCP_CLIENT_PORT);
	put_be16(h + UDP_DPORT, DHCP_SERVER_PORT);
	put_be16(h + UDP_LEN, (uint16_t)(UDP_HLEN + len));
	net_l4_checksum(nb, c->nif, ciaddr, to, IP_PROTO_UDP, UDP_CSUM);
	if (to == 0xffffffff)
		ipv4_output_on(c->nif, nb, ciaddr, to, IP_PROTO_UDP, to);
	else
		ipv4_output(nb, ciaddr, to, IP_PROTO_UDP);
}

static void transmit(struct dhcp_client *c)
{
	ip4_addr addr;
	netif_config(c->nif, &addr, NULL, NULL);
	switch (c->state) {
	case DHCP_SELECTING:
		send_msg(c, DHCPDISCOVER, 0, 0, 0, 0xffffffff);
		break;
	case DHCP_REQUESTING:
		send_msg(c, DHCPREQUEST, 0, c->offered, c->server, 0xffffffff);
		break;
	case DHCP_RENEWING:
		send_msg(c, DHCPREQUEST, addr, 0, 0, c->server);
		break;
	case DHCP_REBINDING:
		send_msg(c, DHCPREQUEST, addr, 0, 0, 0xffffffff);
		break;
	default:
		break;
	}
}

static void begin(struct dhcp_client *c, enum dhcp_state state)
{
	c->state = state;
	c->tries = 0;
	c->retry_ns = RETRY_FIRST_NS;
	if (state == DHCP_SELECTING) {
		c->xid = new_xid(c);
		c->started_ns = hal_clock_ns();
	}
	transmit(c);
	uint64_t now = hal_clock_ns(), next = now + c->retry_ns;
	if (state == DHCP_RENEWING || state == DHCP_REBINDING) {
		uint64_t until = state == DHCP_RENEWING ? c->t2_ns : c->end_ns;
		uint64_t wait = until > now ? (until - now) / 2 : 0;
		next = now + (wait > RENEW_RETRY_MIN_NS ? wait : RENEW_RETRY_MIN_NS);
		if (next > until)
			next = until;
	}
	net_timer_arm(&c->timer, next);
}

static void restart(struct dhcp_client *c)
{
	netif_set_config(c->nif, 0, 0, 0);
	begin(c, DHCP_SELECTING);
}

static void on_timer(struct net_timer *t)
{
	struct dhcp_client *c = container_of(t, struct dhcp_client, timer);
	uint64_t now = hal_clock_ns();

	switch (c->state) {
	case DHCP_SELECTING:
	case DHCP_REQUESTING:
		if (c->state == DHCP_REQUESTING && ++c->tries >= REQUEST_TRIES) {
			begin(c, DHCP_SELECTING);
			return;
		}
		transmit(c);
		c->retry_ns = c->retry_ns * 2 > RETRY_MAX_NS ? RETRY_MAX_NS : c->retry_ns * 2;
		net_timer_arm(t, now + c->retry_ns);
		return;
	case DHCP_BOUND:
		begin(c, DHCP_RENEWING);
		return;
	case DHCP_RENEWING:
		begin(c, now >= c->t2_ns ? DHCP_REBINDING : DHCP_RENEWING);
		return;
	case DHCP_REBINDING:
		if (now >= c->end_ns) {
			kprintf("net: DHCP lease of interface %u ended\n", c->nif->index);
			restart(c);
		} else {
			begin(c, DHCP_REBINDING);
		}
		return;
	default:
		return;
	}
}

static void bind_lease(struct dhcp_client *c, const struct dhcp_reply *r)
{
	uint64_t now = hal_clock_ns();
	uint32_t lease = r->lease_s ? r->lease_s : LEASE_DEFAULT_S;
	/* T1 0.5 and T2 0.875 of the lease unless the server says (§4.4.5);
	 * a server's T1/T2 that do not fit the lease are not taken. */
	uint64_t t1 = (uint64_t)lease * NS_PER_S / 2, t2 = (uint64_t)lease * NS_PER_S * 7 / 8;
	if (r->t2_s && r->t2_s < lease)
		t2 = (uint64_t)r->t2_s * NS_PER_S;
	if (r->t1_s && r->t1_s < lease && (uint64_t)r->t1_s * NS_PER_S <= t2)
		t1 = (uint64_t)r->t1_s * NS_PER_S;
	if (t1 > t2)
		t1 = t2;
	c->t1_ns = now + t1;
	c->t2_ns = now + t2;
	c->end_ns = now + (uint64_t)lease * NS_PER_S;
	c->state = DHCP_BOUND;
	ip4_addr mask = r->netmask ? r->netmask : IP4(255, 255, 255, 0);
	ip4_addr gw = r->router && (r->router & mask) == (r->yiaddr & mask) ? r->router : 0;
	netif_set_config(c->nif, r->yiaddr, mask, gw);
	net_timer_arm(&c->timer, c->t1_ns);
}

static bool address_ok(ip4_addr a)
{
	return a != 0 && (a >> 28) < 0xe && (a >> 24) != 127 && (a >> 24) != 0;
}

static void input_here(struct netbuf *nb)
{
	struct netif *nif = nb->netif;
	struct dhcp_client *c = nif && nif->index < NET_MAX_IFS ? &clients[nif->index] : NULL;
	struct dhcp_reply r;

	if (!c || c->state == DHCP_OFF || !netbuf_pull(nb, UDP_HLEN) ||
	    get_be16(nb->data - UDP_HLEN + UDP_SPORT) != DHCP_SERVER_PORT) {
		netbuf_free(nb);
		return;
	}
	int rc = dhcp_parse(nb->data, nb->len, &r);
	netbuf_free(nb);
	if (rc < 0) {
		NET_COUNT(nif, bad_udp);
		return;
	}
	if (r.xid != c->xid || memcmp(r.chaddr, nif->mac, 6) != 0)
		return;                 /* someone else's exchange */

	switch (c->state) {
	case DHCP_SELECTING:
		if (r.type != DHCPOFFER || !address_ok(r.yiaddr) || !r.server_id)
			return;
		c->offered = r.yiaddr;
		c->server = r.server_id;
		begin(c, DHCP_REQUESTING);
		return;
	case DHCP_REQUESTING:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (r.type == DHCPNAK) {
			if (c->state == DHCP_REQUESTING || r.server_id == c->server || !r.server_id)
				restart(c);
			return;
		}
		if (r.type != DHCPACK || !address_ok(r.yiaddr))
			return;
		if (c->state == DHCP_REQUESTING && r.yiaddr != c->offered)
			return;
		if (r.server_id)
			c->server = r.server_id;
		bind_lease(c, &r);
		return;
	default:
		return;
	}
}

void dhcp_input(struct netbuf *nb)
{
	if (hal_cpu_id() == 0)
		input_here(nb);
	else
		net_run_on(0, nb, input_here);
}

void dhcp_start(struct netif *nif)
{
	if (nif->index >= NET_MAX_IFS)
		return;
	struct dhcp_client *c = &clients[nif->index];
	c->nif = nif;
	net_timer_init(&c->timer, on_timer);
	begin(c, DHCP_SELECTING);
}
