/*
 * test_net_stack.c: the stack as a whole in a booted kernel with a slirp
 * NIC (libslirp's DHCP server configures it, as for a service): frames made
 * here are handed to ether_input as if they had come in, so malformed ones
 * can be counted as dropped per layer; well-formed and fragmented datagrams
 * reach UDP sockets; and the socket calls' rules: owner CPU, deadlines,
 * non-blocking, select, close waking a blocked reader, bind conflicts.
 *
 * The kernel side records the first failed check; Criterion asserts after.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "socket.h"
#include "stack.h"
#include "thread.h"
#include "toro.h"
#include "wire.h"

struct result {
	int line;
	char what[160];
};

#define CHECK(r, cond) do { \
	if (!(cond) && !(r)->line) { \
		(r)->line = __LINE__; \
		strncpy((r)->what, #cond, sizeof((r)->what) - 1); \
	} \
} while (0)

#define GUEST IP4(10, 0, 2, 15)
#define PEER  IP4(10, 0, 2, 2)
#define PORT  5555

static const uint8_t peer_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

/* ---- frames ---- */

/* frame: a netbuf holding an Ethernet frame to nif of type with len bytes
 * of room after the header; *body points there. */
static struct netbuf *frame(struct netif *nif, uint16_t type, size_t len, uint8_t **body)
{
	struct netbuf *nb = netbuf_alloc();
	uint8_t *e = nb ? netbuf_put(nb, ETH_HLEN + len) : NULL;
	if (!e) {
		netbuf_free(nb);
		return NULL;
	}
	memcpy(e + ETH_DST, nif->mac, 6);
	memcpy(e + ETH_SRC, peer_mac, 6);
	put_be16(e + ETH_TYPE, type);
	memset(e + ETH_HLEN, 0, len);
	nb->netif = nif;
	*body = e + ETH_HLEN;
	return nb;
}

static void ip_header(uint8_t *h, unsigned totlen, uint8_t proto, uint16_t id, uint16_t frag)
{
	h[IP_VER_IHL] = 0x45;
	put_be16(h + IP_TOTLEN, (uint16_t)totlen);
	put_be16(h + IP_ID, id);
	put_be16(h + IP_FRAG, frag);
	h[IP_TTL] = 64;
	h[IP_PROTO] = proto;
	put_be32(h + IP_SRC, PEER);
	put_be32(h + IP_DST, GUEST);
	put_be16(h + IP_CSUM, 0);
	put_be16(h + IP_CSUM, inet_fold(inet_sum(h, IP_HLEN, 0)));
}

/* udp_frame: a whole UDP datagram from PEER:sport to GUEST:dport. */
static struct netbuf *udp_frame(struct netif *nif, uint16_t sport, uint16_t dport,
                                const void *data, size_t n, bool csum)
{
	uint8_t *ip;
	struct netbuf *nb = frame(nif, ETHERTYPE_IPV4, IP_HLEN + UDP_HLEN + n, &ip);
	if (!nb)
		return NULL;
	ip_header(ip, IP_HLEN + UDP_HLEN + n, IP_PROTO_UDP, 1, 0);
	uint8_t *u = ip + IP_HLEN;
	put_be16(u + UDP_SPORT, sport);
	put_be16(u + UDP_DPORT, dport);
	put_be16(u + UDP_LEN, (uint16_t)(UDP_HLEN + n));
	memcpy(u + UDP_HLEN, data, n);
	if (csum) {
		uint32_t ps = inet_pseudo_sum(PEER, GUEST, IP_PROTO_UDP, (uint16_t)(UDP_HLEN + n));
		put_be16(u + UDP_CSUM, inet_fold(inet_sum(u, UDP_HLEN + n, ps)));
	}
	return nb;
}

static uint64_t stat_of(struct netif *nif, size_t offset)
{
	return __atomic_load_n((uint64_t *)((char *)&nif->stats + offset), __ATOMIC_RELAXED);
}

#define STAT(nif, field) stat_of(nif, offsetof(struct net_counters, field))

/* inject: hand nb to the stack and say whether counter field grew by one. */
#define DROPPED_AS(r, nif, nb, field) do { \
	uint64_t before_ = STAT(nif, field); \
	ether_input(nif, nb); \
	CHECK(r, STAT(nif, field) == before_ + 1); \
} while (0)

static int malformed_frames_are_counted(void *arg)
{
	struct result *r = arg;
	struct netif *nif = net_netif(0);
	uint8_t *p;
	struct netbuf *nb;

	CHECK(r, nif && SysNetAddress() == GUEST);
	if (r->line)
		return 0;

	/* Ethernet: too short; a group address as source; not for us. */
	nb = frame(nif, ETHERTYPE_IPV4, 0, &p);
	netbuf_trim(nb, 10);
	DROPPED_AS(r, nif, nb, bad_ether);
	nb = frame(nif, ETHERTYPE_IPV4, 40, &p);
	nb->data[ETH_SRC] |= 1;
	DROPPED_AS(r, nif, nb, bad_ether);
	nb = frame(nif, ETHERTYPE_IPV4, 40, &p);
	nb->data[ETH_DST + 5] ^= 0x40;
	DROPPED_AS(r, nif, nb, rx_dropped);

	/* ARP: a hardware length of 8; cut short; a broadcast sender. */
	nb = frame(nif, ETHERTYPE_ARP, ARP_LEN, &p);
	put_be16(p + ARP_HTYPE, 1);
	put_be16(p + ARP_PTYPE, ETHERTYPE_IPV4);
	p[ARP_HLEN] = 8;
	p[ARP_PLEN] = 4;
	DROPPED_AS(r, nif, nb, bad_arp);
	nb = frame(nif, ETHERTYPE_ARP, 20, &p);
	DROPPED_AS(r, nif, nb, bad_arp);
	nb = frame(nif, ETHERTYPE_ARP, ARP_LEN, &p);
	put_be16(p + ARP_HTYPE, 1);
	put_be16(p + ARP_PTYPE, ETHERTYPE_IPV4);
	p[ARP_HLEN] = 6;
	p[ARP_PLEN] = 4;
	put_be16(p + ARP_OPER, ARP_REQUEST);
	memset(p + ARP_SHA, 0xff, 6);
	put_be32(p + ARP_SPA, PEER);
	put_be32(p + ARP_TPA, GUEST);
	DROPPED_AS(r, nif, nb, bad_arp);

	/* IPv4: each way a header can be wrong. */
	for (int kind = 0; kind < 8; kind++) {
		nb = frame(nif, ETHERTYPE_IPV4, 28, &p);
		ip_header(p, 28, IP_PROTO_UDP, 2, 0);
		switch (kind) {
		case 0: p[IP_VER_IHL] = 0x65; break;                /* version 6 */
		case 1: p[IP_VER_IHL] = 0x43; break;                /* IHL 12 */
		case 2: p[IP_VER_IHL] = 0x4f; break;                /* IHL 60 > 28 */
		case 3: put_be16(p + IP_TOTLEN, 1400); break;        /* past the frame */
		case 4: p[IP_CSUM] ^= 1; break;
		case 5: p[IP_TTL] = 0; break;
		case 6: put_be32(p + IP_SRC, 0xffffffff); break;
		case 7: netbuf_trim(nb, ETH_HLEN + 12); break;      /* truncated */
		}
		if (kind != 4 && kind != 7) {
			put_be16(p + IP_CSUM, 0);
			put_be16(p + IP_CSUM, inet_fold(inet_sum(p, IP_HLEN, 0)));
		}
		DROPPED_AS(r, nif, nb, bad_ip);
	}

	/* UDP: a length past the datagram; a wrong checksum. */
	nb = udp_frame(nif, 1000, PORT, "hello", 5, true);
	put_be16(nb->data + ETH_HLEN + IP_HLEN + UDP_LEN, 200);
	DROPPED_AS(r, nif, nb, bad_udp);
	nb = udp_frame(nif, 1000, PORT, "hello", 5, true);
	nb->data[ETH_HLEN + IP_HLEN + UDP_HLEN] ^= 1;
	DROPPED_AS(r, nif, nb, bad_udp);

	/* ICMP: a wrong checksum; shorter than its header. */
	nb = frame(nif, ETHERTYPE_IPV4, IP_HLEN + 12, &p);
	ip_header(p, IP_HLEN + 12, IP_PROTO_ICMP, 3, 0);
	p[IP_HLEN + ICMP_TYPE] = ICMP_ECHO_REQUEST;
	put_be16(p + IP_HLEN + ICMP_CSUM, 0x1234);
	DROPPED_AS(r, nif, nb, bad_icmp);
	nb = frame(nif, ETHERTYPE_IPV4, IP_HLEN + 4, &p);
	ip_header(p, IP_HLEN + 4, IP_PROTO_ICMP, 4, 0);
	DROPPED_AS(r, nif, nb, bad_icmp);

	/* Fragments that overlap: the datagram is dropped and counted. */
	uint64_t frag_before = STAT(nif, frag_dropped);
	nb = frame(nif, ETHERTYPE_IPV4, IP_HLEN + 1000, &p);
	ip_header(p, IP_HLEN + 1000, IP_PROTO_UDP, 77, IP_FLAG_MF);
	ether_input(nif, nb);
	nb = frame(nif, ETHERTYPE_IPV4, IP_HLEN + 1000, &p);
	ip_header(p, IP_HLEN + 1000, IP_PROTO_UDP, 77, IP_FLAG_MF | 100);    /* at 800 */
	ether_input(nif, nb);
	CHECK(r, STAT(nif, frag_dropped) == frag_before + 2);
	CHECK(r, ip_frag_in_progress() == 0);

	/* A datagram for a port no one holds. */
	nb = udp_frame(nif, 1000, 9, "x", 1, true);
	DROPPED_AS(r, nif, nb, no_socket);
	return 0;
}

Test(net_stack, malformed_frames_are_dropped_and_counted)
{
	struct result r = { 0 };
	struct posix_config cfg = { .cpus = 2, .nnets = 1 };
	cfg.net[0].kind = POSIX_NET_SLIRP;
	cr_assert_eq(run_in_kernel_cfg(&cfg, malformed_frames_are_counted, &r), 0);
	cr_assert_eq(r.line, 0, "line %d: %s", r.line, r.what);
}

/* ---- datagrams to sockets ---- */

struct blocked {
	TSocket s;
	long rc;
};

static int recv_blocked(void *arg)
{
	struct blocked *b = arg;
	char buf[16];
	b->rc = SysSocketRecvFrom(b->s, buf, sizeof(buf), 0, NULL);
	return 0;
}

static int recv_elsewhere(void *arg)
{
	struct blocked *b = arg;
	char buf[16];
	b->rc = SysSocketRecvFrom(b->s, buf, sizeof(buf), SOCKET_DONTWAIT, NULL);
	return 0;
}

static int datagrams_reach_sockets(void *arg)
{
	struct result *r = arg;
	struct netif *nif = net_netif(0);
	char buf[5000];
	struct TSockAddr from, local = { 0, PORT };

	CHECK(r, nif && SysNetAddress() == GUEST);
	if (r->line)
		return 0;
	CHECK(r, SysSocket(42) == -EPROTONOSUPPORT);
	TSocket s = SysSocket(SOCKET_DGRAM);
	CHECK(r, s >= 0);
	CHECK(r, SysSocketBind(s, &local) == 0);
	TSocket t = SysSocket(SOCKET_DGRAM);
	CHECK(r, SysSocketBind(t, &local) == -EADDRINUSE);
	struct TSockAddr any = { 0, 0 };
	CHECK(r, SysSocketBind(t, &any) == 0);
	CHECK(r, SysSocketLocalAddr(t, &from) == 0 && from.port >= 49152);
	CHECK(r, SysSocketClose(t) == 0);
	CHECK(r, SysSocketClose(t) == -EBADF);

	/* Nothing there: non-blocking, a receive timeout, select. */
	CHECK(r, SysSocketRecvFrom(s, buf, sizeof(buf), SOCKET_DONTWAIT, &from) == -EAGAIN);
	CHECK(r, SysSocketSelectOne(s, SOCKET_READABLE, 0) == 0);
	uint64_t t0 = hal_clock_ns();
	CHECK(r, SysSocketSelectOne(s, SOCKET_READABLE, 30) == 0);
	CHECK(r, hal_clock_ns() - t0 >= 30000000);
	CHECK(r, SysSocketSetOpt(s, SOCKOPT_RCVTIMEO_MS, 40) == 0);
	t0 = hal_clock_ns();
	CHECK(r, SysSocketRecvFrom(s, buf, sizeof(buf), 0, &from) == -ETIMEDOUT);
	CHECK(r, hal_clock_ns() - t0 >= 40000000);
	CHECK(r, SysSocketSelectOne(s, SOCKET_WRITABLE, 0) == SOCKET_WRITABLE);

	/* A datagram comes in: select sees it, recvfrom gets it and its
	 * sender; a zero checksum means none (RFC 768). */
	ether_input(nif, udp_frame(nif, 1234, PORT, "hello", 5, true));
	CHECK(r, SysSocketSelectOne(s, SOCKET_READABLE, 0) == SOCKET_READABLE);
	CHECK(r, SysSocketRecvFrom(s, buf, sizeof(buf), SOCKET_PEEK, &from) == 5);
	CHECK(r, SysSocketRecvFrom(s, buf, 3, 0, &from) == 3);   /* cut to len */
	CHECK(r, memcmp(buf, "hel", 3) == 0 && from.ip == PEER && from.port == 1234);
	ether_input(nif, udp_frame(nif, 1235, PORT, "nocsum", 6, false));
	CHECK(r, SysSocketRecvFrom(s, buf, sizeof(buf), 0, &from) == 6 && from.port == 1235);

	/* A 4000-byte datagram in three fragments, last first. */
	static uint8_t big[4000];
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31);
	uint8_t udp[UDP_HLEN + sizeof(big)];
	put_be16(udp + UDP_SPORT, 1236);
	put_be16(udp + UDP_DPORT, PORT);
	put_be16(udp + UDP_LEN, sizeof(udp));
	put_be16(udp + UDP_CSUM, 0);
	memcpy(udp + UDP_HLEN, big, sizeof(big));
	put_be16(udp + UDP_CSUM, inet_fold(inet_sum(udp, sizeof(udp),
	         inet_pseudo_sum(PEER, GUEST, IP_PROTO_UDP, sizeof(udp)))));
	static const unsigned off[3] = { 2960, 1480, 0 };
	for (int i = 0; i < 3; i++) {
		unsigned n = off[i] == 2960 ? sizeof(udp) - 2960 : 1480;
		uint8_t *p;
		struct netbuf *nb = frame(nif, ETHERTYPE_IPV4, IP_HLEN + n, &p);
		ip_header(p, IP_HLEN + n, IP_PROTO_UDP, 99, (uint16_t)((off[i] == 2960 ? 0 : IP_FLAG_MF) | off[i] / 8));
		memcpy(p + IP_HLEN, udp + off[i], n);
		ether_input(nif, nb);
	}
	CHECK(r, SysSocketRecvFrom(s, buf, sizeof(buf), SOCKET_DONTWAIT, &from) == sizeof(big));
	CHECK(r, memcmp(buf, big, sizeof(big)) == 0);

	/* Sending: too long; no route (no gateway behind restricted slirp);
	 * long enough to be fragmented. */
	struct TSockAddr peer = { PEER, 9 }, far = { IP4(192, 0, 2, 1), 9 };
	CHECK(r, SysSocketSendTo(s, big, 70000, &peer) == -EMSGSIZE);
	CHECK(r, SysSocketSendTo(s, "x", 1, &far) == -EHOSTUNREACH);
	CHECK(r, SysSocketSendTo(s, big, sizeof(big), &peer) == sizeof(big));
	CHECK(r, SysSocketSend(s, "x", 1, 0) == -EDESTADDRREQ);

	/* ICMP port unreachable about a datagram a connected socket sent: its
	 * next receive says -ECONNREFUSED (once), select shows SOCKET_ERROR;
	 * an unconnected socket hears nothing of it. */
	TSocket c = SysSocket(SOCKET_DGRAM);
	struct TSockAddr closed = { PEER, 9 }, mine;
	CHECK(r, SysSocketConnect(c, &closed) == 0);
	CHECK(r, SysSocketSend(c, "q", 1, 0) == 1);
	CHECK(r, SysSocketLocalAddr(c, &mine) == 0);
	for (int which = 0; which < 2; which++) {
		uint8_t *p;
		unsigned n = ICMP_HLEN + IP_HLEN + UDP_HLEN + 1;
		struct netbuf *nb = frame(nif, ETHERTYPE_IPV4, IP_HLEN + n, &p);
		ip_header(p, IP_HLEN + n, IP_PROTO_ICMP, 5, 0);
		uint8_t *icmp = p + IP_HLEN, *q = icmp + ICMP_HLEN;
		icmp[ICMP_TYPE] = ICMP_DEST_UNREACH;
		icmp[ICMP_CODE] = ICMP_PORT_UNREACH;
		q[IP_VER_IHL] = 0x45;
		put_be16(q + IP_TOTLEN, IP_HLEN + UDP_HLEN + 1);
		q[IP_TTL] = 64;
		q[IP_PROTO] = IP_PROTO_UDP;
		put_be32(q + IP_SRC, GUEST);
		put_be32(q + IP_DST, PEER);
		/* the first about c's datagram; the second about s's port */
		put_be16(q + IP_HLEN + UDP_SPORT, which == 0 ? mine.port : PORT);
		put_be16(q + IP_HLEN + UDP_DPORT, 9);
		put_be16(icmp + ICMP_CSUM, inet_fold(inet_sum(icmp, n, 0)));
		ether_input(nif, nb);
	}
	CHECK(r, SysSocketSelectOne(c, SOCKET_READABLE, 0) & SOCKET_ERROR);
	CHECK(r, SysSocketRecv(c, buf, sizeof(buf), SOCKET_DONTWAIT) == -ECONNREFUSED);
	CHECK(r, SysSocketRecv(c, buf, sizeof(buf), SOCKET_DONTWAIT) == -EAGAIN);
	CHECK(r, SysSocketRecvFrom(s, buf, sizeof(buf), SOCKET_DONTWAIT, &from) == -EAGAIN);
	CHECK(r, SysSocketClose(c) == 0);

	/* The owner rule: from CPU 1 the socket is -EXDEV. */
	struct blocked b = { s, 0 };
	struct thread *th = thread_create(1, recv_elsewhere, &b, 0);
	thread_join(th);
	CHECK(r, b.rc == -EXDEV);

	/* Close wakes a reader blocked in the socket. */
	CHECK(r, SysSocketSetOpt(s, SOCKOPT_RCVTIMEO_MS, 0) == 0);
	b.rc = 0;
	th = thread_create(0, recv_blocked, &b, 0);
	thread_sleep_ms(20);
	CHECK(r, b.rc == 0);
	CHECK(r, SysSocketClose(s) == 0);
	thread_join(th);
	CHECK(r, b.rc == -EBADF);
	return 0;
}

Test(net_stack, datagrams_and_socket_rules)
{
	struct result r = { 0 };
	struct posix_config cfg = { .cpus = 2, .nnets = 1 };
	cfg.net[0].kind = POSIX_NET_SLIRP;
	cr_assert_eq(run_in_kernel_cfg(&cfg, datagrams_reach_sockets, &r), 0);
	cr_assert_eq(r.line, 0, "line %d: %s", r.line, r.what);
}

/* ---- select on several sockets, peek, non-blocking, counters ---- */

struct later {
	struct netif *nif;
	uint16_t dport;
};

/* send_later: 20 ms from now a datagram to dport arrives (same CPU). */
static int send_later(void *arg)
{
	struct later *l = arg;
	thread_sleep_ms(20);
	ether_input(l->nif, udp_frame(l->nif, 4321, l->dport, "later", 5, true));
	return 0;
}

static int select_peek_nonblock_stats(void *arg)
{
	struct result *r = arg;
	struct netif *nif = net_netif(0);
	char buf[2048];
	struct TSockAddr la = { 0, PORT + 1 }, lb = { 0, PORT + 2 };

	CHECK(r, nif && SysNetAddress() == GUEST);
	if (r->line)
		return 0;
	TSocket a = SysSocket(SOCKET_DGRAM), b = SysSocket(SOCKET_DGRAM);
	CHECK(r, SysSocketBind(a, &la) == 0 && SysSocketBind(b, &lb) == 0);

	/* Several sockets: nothing yet; then b gets a datagram while we wait,
	 * and only b's entry says so; a skipped entry stays 0. */
	struct TSocketPoll set[3] = {
		{ .socket = a, .events = SOCKET_READABLE },
		{ .socket = b, .events = SOCKET_READABLE },
		{ .socket = -1, .events = SOCKET_READABLE },
	};
	CHECK(r, SysSocketSelect(set, 3, 0) == 0);
	uint64_t t0 = hal_clock_ns();
	CHECK(r, SysSocketSelect(set, 3, 30) == 0);
	CHECK(r, hal_clock_ns() - t0 >= 30000000);
	struct later l = { nif, PORT + 2 };
	struct thread *th = thread_create(0, send_later, &l, 0);
	t0 = hal_clock_ns();
	CHECK(r, SysSocketSelect(set, 3, 5000) == 1);
	CHECK(r, hal_clock_ns() - t0 >= 15000000 && hal_clock_ns() - t0 < 4000000000ull);
	CHECK(r, set[0].revents == 0 && set[1].revents == SOCKET_READABLE && set[2].revents == 0);
	thread_join(th);
	set[0].events = SOCKET_WRITABLE;
	CHECK(r, SysSocketSelect(set, 3, 0) == 2);
	CHECK(r, set[0].revents == SOCKET_WRITABLE);
	CHECK(r, SysSocketSelect(set, SOCKET_SELECT_MAX + 1, 0) == -EINVAL);
	CHECK(r, SysSocketSelect(NULL, 0, 0) == 0);

	/* Peek leaves the datagram; Recv then takes it. */
	CHECK(r, SysSocketPeek(b, buf, sizeof(buf), 0) == 5);
	CHECK(r, SysSocketPeek(b, buf, 2, 0) == 2 && memcmp(buf, "la", 2) == 0);
	CHECK(r, SysSocketRecv(b, buf, sizeof(buf), 0) == 5 && memcmp(buf, "later", 5) == 0);
	CHECK(r, SysSocketPeek(b, buf, sizeof(buf), SOCKET_DONTWAIT) == -EAGAIN);

	/* Non-blocking as an option: no flag needed, and no wait. */
	CHECK(r, SysSocketSetOpt(a, SOCKOPT_NONBLOCK, 2) == -EINVAL);
	CHECK(r, SysSocketSetOpt(a, SOCKOPT_NONBLOCK, 1) == 0);
	t0 = hal_clock_ns();
	CHECK(r, SysSocketRecv(a, buf, sizeof(buf), 0) == -EAGAIN);
	CHECK(r, SysSocketPeek(a, buf, sizeof(buf), 0) == -EAGAIN);
	CHECK(r, hal_clock_ns() - t0 < 1000000000ull);
	CHECK(r, SysSocketSetOpt(a, SOCKOPT_NONBLOCK, 0) == 0);
	CHECK(r, SysSocketSelectOne(a, SOCKET_READABLE, 0) == 0);

	/* Counters: a closed socket in a set is SOCKET_INVALID; a datagram to
	 * nobody is no_socket; a full queue is udp_dropped. */
	struct TNetStats before, after;
	CHECK(r, SysNetStats(0, &before) == 0);
	CHECK(r, SysNetStats(7, &after) == -ENODEV && SysNetStats(0, NULL) == -EINVAL);
	ether_input(nif, udp_frame(nif, 1000, 9, "x", 1, true));
	CHECK(r, SysSocketSetOpt(b, SOCKOPT_RCVBUF, 4096) == 0);
	for (int i = 0; i < 8; i++)
		ether_input(nif, udp_frame(nif, 1000, PORT + 2, buf, 1400, true));
	CHECK(r, SysNetStats(0, &after) == 0);
	CHECK(r, after.no_socket == before.no_socket + 1);
	CHECK(r, after.udp_dropped > before.udp_dropped);
	CHECK(r, after.rx_frames >= before.rx_frames);
	struct TNetStats all;
	CHECK(r, SysNetStats(-1, &all) == 0 && all.no_socket >= after.no_socket);

	/* A TCP listener shows in the states. */
	TSocket t = SysSocket(SOCKET_STREAM);
	struct TSockAddr lt = { 0, PORT + 3 };
	CHECK(r, SysSocketBind(t, &lt) == 0 && SysSocketListen(t, 4) == 0);
	CHECK(r, SysNetStats(-1, &all) == 0 && all.tcp_states[TNET_LISTEN] >= 1);
	/* a listener with nothing to accept, non-blocking */
	CHECK(r, SysSocketSetOpt(t, SOCKOPT_NONBLOCK, 1) == 0);
	CHECK(r, SysSocketAccept(t, NULL) == -EAGAIN);

	CHECK(r, SysSocketClose(a) == 0);
	set[0].socket = a;
	CHECK(r, SysSocketSelect(set, 1, 1000) == 1 && set[0].revents == SOCKET_INVALID);
	CHECK(r, SysSocketSelectOne(a, SOCKET_READABLE, 0) == -EBADF);
	CHECK(r, SysSocketClose(b) == 0 && SysSocketClose(t) == 0);
	return 0;
}

Test(net_stack, select_peek_nonblock_and_counters)
{
	struct result r = { 0 };
	struct posix_config cfg = { .cpus = 2, .nnets = 1 };
	cfg.net[0].kind = POSIX_NET_SLIRP;
	cr_assert_eq(run_in_kernel_cfg(&cfg, select_peek_nonblock_stats, &r), 0);
	cr_assert_eq(r.line, 0, "line %d: %s", r.line, r.what);
}
