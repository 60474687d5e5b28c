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
 *   - A connection made on a CPU where nobody accepts ends up on the CPU
 *     whose thread accepts it, and works there: one made before any accept
 *     (on the listener's CPU) is pulled by the accepter that comes later;
 *     one established where nobody waits is pushed to a waiting accepter;
 *     a segment handed to the old owner follows the connection.
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

/* seg_to: a segment from SRC:sport to our PORT, checksummed, into
 * tcp_input on the calling CPU, or (handed) into tcp_input_owned, as if
 * tcp_input had handed it here. */
static void seg_to(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, size_t len,
                   bool handed)
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
	if (handed)
		tcp_input_owned(nb);
	else
		tcp_input(nb);
}

static void seg(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, size_t len)
{
	seg_to(sport, seq, ack, flags, len, false);
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

/* ---- Stranded connections move to the accepting CPU ------------------- */

#define PULLED_PORT 5000
#define PUSHED_PORT 5001
#define PEER_ISN    7000u

struct moved {
	TSocket listener;
	volatile bool accepted;         /* the CPU 1 thread has its connection */
	int accept_rc;
	int owner_after_accept;         /* tcp_conn_lookup_cpu, on CPU 1 */
	long received, sent;            /* on CPU 1, after the data segment */
	uint32_t iss;                   /* ours, for the peer's ACKs */
	int setup_failures;
};

/* handshake: SYN and ACK for sport injected on CPU 0 (the ACK handed
 * straight to the owner of the SYN, CPU 0): established there. */
static int handshake_on_cpu0(uint16_t sport, uint32_t *iss)
{
	seg(sport, PEER_ISN, 0, TCP_SYN, 0);
	struct tcp_conn *c = tcp_conn_lookup(DST, PORT, SRC, sport);
	if (!c)
		return -1;
	*iss = c->iss;
	seg(sport, PEER_ISN + 1, *iss + 1, TCP_ACK, 0);
	return 0;
}

/* accept_on_cpu1: accept (the listener's 3 s limit), then the data the
 * peer sends, and an answer. */
static int accept_on_cpu1(void *arg)
{
	struct moved *m = arg;
	struct TSockAddr peer;
	TSocket s = SysSocketAccept(m->listener, &peer);
	m->accept_rc = s < 0 ? s : 0;
	if (s >= 0)
		m->owner_after_accept = owner_of(peer.port);
	m->accepted = true;
	if (s < 0)
		return 0;
	SysSocketSetOpt(s, SOCKOPT_RCVTIMEO_MS, 3000);
	char buf[16];
	m->received = SysSocketRecv(s, buf, sizeof(buf), 0);
	m->sent = SysSocketSend(s, "hello", 5, 0);
	SysSocketSetOpt(s, SOCKOPT_LINGER_S, 0);
	SysSocketClose(s);
	return 0;
}

/* serve_on_cpu1: run accept_on_cpu1 on CPU 1 while CPU 0 readies the
 * connection of sport (before, or after the accept has begun to wait), and
 * send 4 bytes on it as a segment handed to CPU 0, its first owner. */
static void serve_on_cpu1(struct moved *m, uint16_t sport, bool handshake_first)
{
	m->accepted = false;
	if (handshake_first && handshake_on_cpu0(sport, &m->iss) < 0)
		m->setup_failures++;
	TThread *t = BeginJoinableThread(0, accept_on_cpu1, m, 1);
	if (!t) {
		m->setup_failures++;
		return;
	}
	if (!handshake_first) {
		Sleep(100);             /* the accepter waits by now */
		if (handshake_on_cpu0(sport, &m->iss) < 0)
			m->setup_failures++;
	}
	for (unsigned i = 0; i < 400 && !m->accepted; i++)
		Sleep(10);
	if (m->accepted && m->accept_rc == 0)
		seg_to(sport, PEER_ISN + 1, m->iss + 1, TCP_ACK, 4, true);
	WaitThread(t);
}

static int moved_body(void *arg)
{
	struct moved *m = arg;
	if (net_init(NULL, 0) < 0)
		return 1;
	m->listener = SysSocket(SOCKET_STREAM);
	struct TSockAddr local = { 0, PORT };
	if (m->listener < 0 || SysSocketSetOpt(m->listener, SOCKOPT_RCVTIMEO_MS, 3000) < 0 ||
	    SysSocketBind(m->listener, &local) < 0 || SysSocketListen(m->listener, 64) < 0)
		return 1;
	fake_nif.queues = 2;            /* SYNs stay on CPU 0 once it accepts */
	struct moved *pulled = m, *pushed = m + 1;
	pulled->listener = pushed->listener = m->listener;
	serve_on_cpu1(pulled, PULLED_PORT, true);
	SysSocketSelectOne(m->listener, SOCKET_READABLE, 0);    /* CPU 0 accepts too */
	serve_on_cpu1(pushed, PUSHED_PORT, false);
	SysSocketClose(m->listener);
	return 0;
}

static void check_moved(const struct moved *m, const char *how)
{
	cr_assert_eq(m->setup_failures, 0, "%s: setup", how);
	cr_assert_eq(m->accept_rc, 0, "%s: accept on CPU 1: %d", how, m->accept_rc);
	cr_assert_eq(m->owner_after_accept, 1, "%s: accepted on CPU 1, owned by CPU %d", how,
	             m->owner_after_accept);
	cr_assert_eq(m->received, 4, "%s: receive on CPU 1: %ld", how, m->received);
	cr_assert_eq(m->sent, 5, "%s: send on CPU 1: %ld", how, m->sent);
}

Test(tcp_listen_cpu, stranded_connection_moves_to_the_accepting_cpu)
{
	struct moved m[2] = { 0 };
	cr_assert_eq(run_in_kernel(2, moved_body, m), 0);
	check_moved(&m[0], "made before any accept (pulled)");
	check_moved(&m[1], "established where nobody waits (pushed)");
}
