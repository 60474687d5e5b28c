/*
 * test_tcp_listen_cpu.c: where a listener's connections live, and what a
 * closed one keeps, in a running kernel with no NIC (segments go straight
 * into tcp_input, as if from an interface; what we send has no route and
 * is dropped).
 *
 *   - A SYN from a NIC with a receive queue per CPU stays on the CPU it
 *     arrived on when that CPU accepts on the listener: no hand-over.
 *   - From a NIC with one queue, SYNs are spread over the accepting CPUs.
 *   - A connection we closed first keeps no send ring in TIME-WAIT.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "socket.h"
#include "tcp_impl.h"
#include "toro.h"

#define SRC IP4(192, 168, 7, 1)
#define DST IP4(192, 168, 7, 2)
#define PORT 7
#define SPREAD_SYNS 32

static struct netif fake_nif;

/* seg: a segment from SRC:sport to our PORT, checksummed, into tcp_input
 * on the calling CPU. */
static void seg(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, size_t len)
{
	struct netbuf *nb = netbuf_alloc();
	size_t total = TCP_HDR_MIN + len;
	uint8_t *p = nb ? netbuf_put(nb, total) : NULL;
	if (!p) {
		if (nb)
			netbuf_free(nb);
		return;
	}
	memset(p, 0, TCP_HDR_MIN);
	memset(p + TCP_HDR_MIN, 'x', len);
	tcp_put16(p + TCP_OFF_SPORT, sport);
	tcp_put16(p + TCP_OFF_DPORT, PORT);
	tcp_put32(p + TCP_OFF_SEQ, seq);
	tcp_put32(p + TCP_OFF_ACK, ack);
	p[TCP_OFF_DOFF] = 5 << 4;
	p[TCP_OFF_FLAGS] = flags;
	tcp_put16(p + TCP_OFF_WND, 60000);
	nb->src_ip = SRC;
	nb->dst_ip = DST;
	nb->netif = &fake_nif;
	uint32_t sum = inet_pseudo_sum(SRC, DST, IP_PROTO_TCP, (uint16_t)total);
	tcp_put16(p + TCP_OFF_CSUM, inet_fold(inet_sum(p, total, sum)));
	tcp_input(nb);
}

static int owner_of(uint16_t sport)
{
	return tcp_conn_lookup_cpu(DST, PORT, SRC, sport);
}

struct result {
	TSocket listener;
	int here_owner[4];              /* queue per CPU: SYNs injected on CPU 1 */
	unsigned spread[2];             /* one queue: connections per CPU */
	int spread_missing;
	int tw_state;
	bool tw_ring_left, tw_found;
	int failures;
};

/* On CPU 1: mark it an accepter (a poll does), then inject SYNs. */
static int cpu1_body(void *arg)
{
	struct result *r = arg;
	SysSocketSelectOne(r->listener, SOCKET_READABLE, 0);
	fake_nif.queues = 2;
	for (uint16_t i = 0; i < 4; i++) {
		seg(2000 + i, 5000, 0, TCP_SYN, 0);
		r->here_owner[i] = owner_of(2000 + i);
	}
	fake_nif.queues = 1;
	for (uint16_t i = 0; i < SPREAD_SYNS; i++)
		seg(3000 + i, 5000, 0, TCP_SYN, 0);
	return 0;
}

/* time_wait_ring: a connection on CPU 0 that we close first, driven to
 * TIME-WAIT by hand-made segments. */
static void time_wait_ring(struct result *r)
{
	const uint16_t sport = 4000;
	fake_nif.queues = 2;            /* stays here, on CPU 0 */
	seg(sport, 1000, 0, TCP_SYN, 0);
	struct tcp_conn *c = tcp_conn_lookup(DST, PORT, SRC, sport);
	if (!c) {
		r->failures++;
		return;
	}
	uint32_t iss = c->iss;
	seg(sport, 1001, iss + 1, TCP_ACK, 0);
	TSocket s = SysSocketAccept(r->listener, NULL);
	while (s >= 0) {                /* the one just made, not the others */
		struct TSockAddr peer;
		if (SysSocketPeerAddr(s, &peer) == 0 && peer.port == sport)
			break;
		SysSocketClose(s);
		s = SysSocketAccept(r->listener, NULL);
	}
	if (s < 0 || SysSocketSend(s, "hello", 5, 0) != 5) {
		r->failures++;
		return;
	}
	SysSocketClose(s);              /* FIN-WAIT-1 */
	seg(sport, 1001, iss + 1 + 5 + 1, TCP_ACK, 0);          /* FIN-WAIT-2 */
	seg(sport, 1001, iss + 1 + 5 + 1, TCP_FIN | TCP_ACK, 0); /* TIME-WAIT */
	c = tcp_conn_lookup(DST, PORT, SRC, sport);
	r->tw_found = c != NULL;
	if (c) {
		r->tw_state = c->state;
		r->tw_ring_left = c->sbuf != NULL;
	}
}

static int body(void *arg)
{
	struct result *r = arg;
	if (net_init(NULL, 0) < 0)      /* no NIC: only the network threads */
		return 1;
	r->listener = SysSocket(SOCKET_STREAM);
	struct TSockAddr local = { 0, PORT };
	if (r->listener < 0 || SysSocketBind(r->listener, &local) < 0 ||
	    SysSocketListen(r->listener, 64) < 0)
		return 1;
	SysSocketSelectOne(r->listener, SOCKET_READABLE, 0);    /* CPU 0 accepts */
	TThread *t = BeginJoinableThread(0, cpu1_body, r, 1);
	if (!t)
		return 1;
	WaitThread(t);
	Sleep(100);                     /* the SYNs handed to CPU 0 */
	for (uint16_t i = 0; i < SPREAD_SYNS; i++) {
		int cpu = owner_of(3000 + i);
		if (cpu < 0 || cpu > 1)
			r->spread_missing++;
		else
			r->spread[cpu]++;
	}
	time_wait_ring(r);
	SysSocketClose(r->listener);
	return 0;
}

Test(tcp_listen_cpu, syn_stays_spreads_and_time_wait_frees_ring)
{
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel(2, body, &r), 0);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(r.here_owner[i], 1, "SYN %u from a queue of CPU 1 went to CPU %d", i,
		             r.here_owner[i]);
	cr_assert_eq(r.spread_missing, 0);
	cr_assert(r.spread[0] > 0 && r.spread[1] > 0, "one queue: %u on CPU 0, %u on CPU 1",
	          r.spread[0], r.spread[1]);
	cr_assert_eq(r.failures, 0);
	cr_assert(r.tw_found);
	cr_assert_eq(r.tw_state, TCP_TIME_WAIT);
	cr_assert(!r.tw_ring_left, "TIME-WAIT kept its send ring");
}
