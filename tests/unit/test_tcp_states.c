/*
 * test_tcp_states.c: RFC 9293's state transitions, end to end over the
 * in-memory link (memlink.h: 10.9.0.1 "A" on interface 0, 10.9.0.2 "B" on
 * interface 1). The link is stepped frame by frame (memlink_hold: let one
 * SYN through, hold its SYN-ACK...), so each intermediate state can be
 * looked at on both ends: the connection is found by its 4-tuple in the
 * stack's table (tcp_conn_lookup), -1 once it is gone.
 *
 * Covered: active and passive open, simultaneous open, active and passive
 * close (FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, TIME-WAIT),
 * simultaneous close (CLOSING), half-close with data flowing the other
 * way, RST in SYN-SENT, SYN-RECEIVED, ESTABLISHED, FIN-WAIT-2, CLOSE-WAIT,
 * LAST-ACK and TIME-WAIT, the FIN-WAIT-2 and TIME-WAIT timers running out
 * (60 s each, in one test), and a regression: ACKs sent after an RTO went
 * back (tcp_output.c bare_seq).
 *
 * One CPU: every socket and connection is CPU 0's, like the test thread.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "link_util.h"
#include "posix.h"
#include "tcp_impl.h"
#include "thread.h"
#include "toro.h"

#define PORT 6001
#define STEP_MS 5000    /* the longest any awaited transition may take */

static struct memlink *link_of(void) { return memlink_current(); }

/* state: of the connection laddr:lport -> raddr:rport, -1 if none. */
static int state(ip4_addr la, uint16_t lp, ip4_addr ra, uint16_t rp)
{
	struct tcp_conn *c = tcp_conn_lookup(la, lp, ra, rp);
	return c ? (int)c->state : -1;
}

/* A pair's two ends: A (10.9.0.1:aport) and B (10.9.0.2:bport). */
struct ends {
	uint16_t aport, bport;
};

static int st_a(const struct ends *e) { return state(LINK_A_IP, e->aport, LINK_B_IP, e->bport); }
static int st_b(const struct ends *e) { return state(LINK_B_IP, e->bport, LINK_A_IP, e->aport); }

/* wait_for: until the end's state is want (or STEP_MS passed). */
static bool wait_for(int (*st)(const struct ends *), const struct ends *e, int want)
{
	for (unsigned ms = 0; ms < STEP_MS; ms++) {
		if (st(e) == want)
			return true;
		thread_sleep_ms(1);
	}
	return st(e) == want;
}

static void hold_both(uint32_t pass)
{
	memlink_hold(link_of(), 0, pass);
	memlink_hold(link_of(), 1, pass);
}

static TSocket listener(uint16_t port)
{
	TSocket l = SysSocket(SOCKET_STREAM);
	struct TSockAddr b = { LINK_B_IP, port };
	if (SysSocketBind(l, &b) < 0 || SysSocketListen(l, 4) < 0)
		return -1;
	return l;
}

/* start_connect: A's socket, bound to port (0: any), connecting to B:to
 * without waiting; the port it got. */
static TSocket start_connect(uint16_t port, ip4_addr from, ip4_addr to, uint16_t to_port,
                             uint16_t *got)
{
	TSocket s = SysSocket(SOCKET_STREAM);
	struct TSockAddr a = { from, port }, b = { to, to_port }, local;
	SysSocketSetOpt(s, SOCKOPT_NONBLOCK, 1);
	SysSocketSetOpt(s, SOCKOPT_NODELAY, 1);
	SysSocketBind(s, &a);
	int rc = SysSocketConnect(s, &b);
	SysSocketLocalAddr(s, &local);
	*got = local.port;
	SysSocketSetOpt(s, SOCKOPT_NONBLOCK, 0);
	return rc == -EINPROGRESS ? s : -1;
}

/* warm_arp: one exchange on an open link, so that the steps counted
 * frame by frame are TCP's only (ARP entries outlive every test). */
static void warm_arp(void)
{
	TSocket l = listener(PORT + 100);
	uint16_t p;
	TSocket a = start_connect(0, LINK_A_IP, LINK_B_IP, PORT + 100, &p);
	SysSocketSelectOne(a, SOCKET_WRITABLE, STEP_MS);
	TSocket b = SysSocketAccept(l, NULL);
	SysSocketSetOpt(a, SOCKOPT_LINGER_S, 0);
	SysSocketClose(a);
	SysSocketClose(b);
	SysSocketClose(l);
	thread_sleep_ms(20);
}

/* connected: an established pair over an open link. */
static bool connected(TSocket l, struct ends *e, TSocket *a, TSocket *b)
{
	e->bport = PORT;
	*a = start_connect(0, LINK_A_IP, LINK_B_IP, PORT, &e->aport);
	if (*a < 0 || SysSocketSelectOne(*a, SOCKET_WRITABLE, STEP_MS) != SOCKET_WRITABLE)
		return false;
	*b = SysSocketAccept(l, NULL);
	return *b >= 0 && st_a(e) == TCP_ESTABLISHED && wait_for(st_b, e, TCP_ESTABLISHED);
}

static const struct memlink_config clean = { .seed = 7, .delay_us = 50, .queue_max = 512 };

/* Each test: a body recording into a link_result, asserted on after. */
static void run(kernel_body body, const struct memlink_config *lc)
{
	static struct link_result r;
	memset(&r, 0, sizeof(r));
	cr_assert_eq(link_boot(1, lc ? lc : &clean, body, &r), 0);
	cr_assert_eq(r.line, 0, "line %d: %s (%ld)", r.line, r.what, r.value);
}

/* ---- opening ---- */

static int open_close_body(void *arg)
{
	struct link_result *r = arg;
	struct ends e = { 0, PORT };
	warm_arp();
	TSocket l = listener(PORT);
	struct TNetStats ns;
	SysNetStats(-1, &ns);
	LCHECK(r, ns.tcp_states[TNET_LISTEN] == 1, ns.tcp_states[TNET_LISTEN]);

	/* Three-way handshake, one segment at a time. */
	hold_both(0);
	TSocket a = start_connect(0, LINK_A_IP, LINK_B_IP, PORT, &e.aport);
	LCHECK(r, a >= 0, a);
	LCHECK(r, st_a(&e) == TCP_SYN_SENT, st_a(&e));
	LCHECK(r, st_b(&e) == -1, st_b(&e));
	memlink_hold(link_of(), 0, 1);                  /* the SYN */
	LCHECK(r, wait_for(st_b, &e, TCP_SYN_RECEIVED), st_b(&e));
	LCHECK(r, st_a(&e) == TCP_SYN_SENT, st_a(&e));
	memlink_hold(link_of(), 1, 1);                  /* the SYN-ACK */
	LCHECK(r, wait_for(st_a, &e, TCP_ESTABLISHED), st_a(&e));
	LCHECK(r, st_b(&e) == TCP_SYN_RECEIVED, st_b(&e));
	memlink_hold(link_of(), 0, 1);                  /* the ACK */
	LCHECK(r, wait_for(st_b, &e, TCP_ESTABLISHED), st_b(&e));
	TSocket b = SysSocketAccept(l, NULL);
	LCHECK(r, b >= 0, b);

	/* A closes first: FIN-WAIT-1, -2, TIME-WAIT; B: CLOSE-WAIT, LAST-ACK. */
	SysSocketClose(a);
	LCHECK(r, st_a(&e) == TCP_FIN_WAIT_1, st_a(&e));
	memlink_hold(link_of(), 0, 1);                  /* A's FIN */
	LCHECK(r, wait_for(st_b, &e, TCP_CLOSE_WAIT), st_b(&e));
	LCHECK(r, st_a(&e) == TCP_FIN_WAIT_1, st_a(&e));
	memlink_hold(link_of(), 1, 1);                  /* B's ACK of it */
	LCHECK(r, wait_for(st_a, &e, TCP_FIN_WAIT_2), st_a(&e));
	char c;
	LCHECK(r, SysSocketRecv(b, &c, 1, 0) == 0, 0);  /* end of stream */
	SysSocketClose(b);
	LCHECK(r, st_b(&e) == TCP_LAST_ACK, st_b(&e));
	memlink_hold(link_of(), 1, 1);                  /* B's FIN */
	LCHECK(r, wait_for(st_a, &e, TCP_TIME_WAIT), st_a(&e));
	LCHECK(r, st_b(&e) == TCP_LAST_ACK, st_b(&e));
	memlink_hold(link_of(), 0, 1);                  /* A's ACK of it */
	LCHECK(r, wait_for(st_b, &e, -1), st_b(&e));
	LCHECK(r, st_a(&e) == TCP_TIME_WAIT, st_a(&e));
	hold_both(MEMLINK_OPEN);
	SysSocketClose(l);
	return 0;
}

Test(tcp_states, open_then_active_and_passive_close, .timeout = 60)
{
	run(open_close_body, NULL);
}

static int simultaneous_open_body(void *arg)
{
	struct link_result *r = arg;
	struct ends e = { PORT + 1, PORT + 2 };
	uint16_t p;
	warm_arp();
	hold_both(0);
	TSocket a = start_connect(e.aport, LINK_A_IP, LINK_B_IP, e.bport, &p);
	TSocket b = start_connect(e.bport, LINK_B_IP, LINK_A_IP, e.aport, &p);
	LCHECK(r, a >= 0 && b >= 0, a);
	LCHECK(r, st_a(&e) == TCP_SYN_SENT && st_b(&e) == TCP_SYN_SENT, st_b(&e));
	/* §3.5 figure 8: each SYN finds the other end in SYN-SENT. */
	memlink_hold(link_of(), 0, 1);
	LCHECK(r, wait_for(st_b, &e, TCP_SYN_RECEIVED), st_b(&e));
	memlink_hold(link_of(), 1, 1);
	LCHECK(r, wait_for(st_a, &e, TCP_SYN_RECEIVED), st_a(&e));
	hold_both(MEMLINK_OPEN);                        /* the SYN-ACKs cross */
	LCHECK(r, wait_for(st_a, &e, TCP_ESTABLISHED), st_a(&e));
	LCHECK(r, wait_for(st_b, &e, TCP_ESTABLISHED), st_b(&e));
	LCHECK(r, SysSocketSelectOne(a, SOCKET_WRITABLE, STEP_MS) == SOCKET_WRITABLE, 0);
	LCHECK(r, SysSocketSend(a, "x", 1, 0) == 1, 0);
	char c = 0;
	LCHECK(r, SysSocketRecv(b, &c, 1, 0) == 1 && c == 'x', c);
	SysSocketClose(a);
	SysSocketClose(b);
	return 0;
}

Test(tcp_states, simultaneous_open, .timeout = 60)
{
	run(simultaneous_open_body, NULL);
}

/* ---- closing ---- */

static int simultaneous_close_body(void *arg)
{
	struct link_result *r = arg;
	struct ends e;
	TSocket a, b;
	warm_arp();
	TSocket l = listener(PORT);
	LCHECK(r, connected(l, &e, &a, &b), st_b(&e));
	hold_both(0);
	SysSocketClose(a);
	SysSocketClose(b);
	LCHECK(r, st_a(&e) == TCP_FIN_WAIT_1 && st_b(&e) == TCP_FIN_WAIT_1, st_b(&e));
	hold_both(1);                                   /* the FINs cross */
	LCHECK(r, wait_for(st_a, &e, TCP_CLOSING), st_a(&e));
	LCHECK(r, wait_for(st_b, &e, TCP_CLOSING), st_b(&e));
	hold_both(MEMLINK_OPEN);                        /* the ACKs */
	LCHECK(r, wait_for(st_a, &e, TCP_TIME_WAIT), st_a(&e));
	LCHECK(r, wait_for(st_b, &e, TCP_TIME_WAIT), st_b(&e));
	SysSocketClose(l);
	return 0;
}

Test(tcp_states, simultaneous_close, .timeout = 60)
{
	run(simultaneous_close_body, NULL);
}

static int half_close_body(void *arg)
{
	struct link_result *r = arg;
	struct ends e;
	TSocket a, b;
	char buf[8];
	warm_arp();
	TSocket l = listener(PORT);
	LCHECK(r, connected(l, &e, &a, &b), st_b(&e));
	LCHECK(r, SysSocketShutdown(a, 1) == 0, 0);
	LCHECK(r, wait_for(st_a, &e, TCP_FIN_WAIT_2), st_a(&e));
	LCHECK(r, wait_for(st_b, &e, TCP_CLOSE_WAIT), st_b(&e));
	LCHECK(r, SysSocketRecv(b, buf, sizeof(buf), 0) == 0, 0);
	LCHECK(r, SysSocketSend(a, "no", 2, 0) == -EPIPE, 0);
	/* The other half still carries data. */
	LCHECK(r, SysSocketSend(b, "hello", 5, 0) == 5, 0);
	long n = SysSocketRecv(a, buf, sizeof(buf), 0);
	LCHECK(r, n == 5 && memcmp(buf, "hello", 5) == 0, n);
	LCHECK(r, st_a(&e) == TCP_FIN_WAIT_2, st_a(&e));
	SysSocketClose(b);
	LCHECK(r, wait_for(st_a, &e, TCP_TIME_WAIT), st_a(&e));
	LCHECK(r, wait_for(st_b, &e, -1), st_b(&e));
	LCHECK(r, SysSocketRecv(a, buf, sizeof(buf), 0) == 0, 0);
	SysSocketClose(a);
	SysSocketClose(l);
	return 0;
}

Test(tcp_states, half_close, .timeout = 60)
{
	run(half_close_body, NULL);
}

/* ---- resets ---- */

/* rst_from: a RST as end (la:lp) would send it to (ra:rp), with the
 * sequence number the other end expects. */
static void rst_from(ip4_addr la, uint16_t lp, ip4_addr ra, uint16_t rp)
{
	struct tcp_conn *c = tcp_conn_lookup(ra, rp, la, lp);      /* the receiver */
	if (c)
		tcp_send_raw(la, lp, ra, rp, c->rcv_nxt, 0, TCP_RST, 0, NULL);
}

static int resets_body(void *arg)
{
	struct link_result *r = arg;
	struct ends e;
	TSocket a, b;
	char c;
	warm_arp();
	TSocket l = listener(PORT);

	/* SYN-SENT: no listener on the port, B answers the SYN with a RST. */
	uint16_t p;
	a = start_connect(0, LINK_A_IP, LINK_B_IP, PORT + 50, &p);
	int rc = SysSocketSelectOne(a, SOCKET_WRITABLE, STEP_MS);
	LCHECK(r, rc & SOCKET_ERROR, rc);
	LCHECK(r, state(LINK_A_IP, p, LINK_B_IP, PORT + 50) == -1, 0);
	SysSocketClose(a);

	/* SYN-RECEIVED (passive): the embryo goes, the listener stays. */
	e.bport = PORT;
	memlink_hold(link_of(), 1, 0);                  /* no SYN-ACK for A */
	a = start_connect(0, LINK_A_IP, LINK_B_IP, PORT, &e.aport);
	LCHECK(r, wait_for(st_b, &e, TCP_SYN_RECEIVED), st_b(&e));
	rst_from(LINK_A_IP, e.aport, LINK_B_IP, PORT);
	LCHECK(r, wait_for(st_b, &e, -1), st_b(&e));
	struct TNetStats ns;
	SysNetStats(-1, &ns);
	LCHECK(r, ns.tcp_states[TNET_LISTEN] == 1, ns.tcp_states[TNET_LISTEN]);
	memlink_discard(link_of(), 1, 100);             /* the held SYN-ACKs */
	memlink_hold(link_of(), 1, MEMLINK_OPEN);
	SysSocketSetOpt(a, SOCKOPT_LINGER_S, 0);
	SysSocketClose(a);
	thread_sleep_ms(20);

	/* ESTABLISHED: an abortive close resets the peer. */
	LCHECK(r, connected(l, &e, &a, &b), st_b(&e));
	SysSocketSetOpt(a, SOCKOPT_LINGER_S, 0);
	SysSocketClose(a);
	LCHECK(r, st_a(&e) == -1, st_a(&e));
	LCHECK(r, wait_for(st_b, &e, -1), st_b(&e));
	LCHECK(r, SysSocketRecv(b, &c, 1, 0) == -ECONNRESET, 0);
	SysSocketClose(b);

	/* FIN-WAIT-2 (A) and CLOSE-WAIT (B): B's abort resets A. */
	LCHECK(r, connected(l, &e, &a, &b), st_b(&e));
	SysSocketShutdown(a, 1);
	LCHECK(r, wait_for(st_a, &e, TCP_FIN_WAIT_2), st_a(&e));
	LCHECK(r, wait_for(st_b, &e, TCP_CLOSE_WAIT), st_b(&e));
	SysSocketSetOpt(b, SOCKOPT_LINGER_S, 0);
	SysSocketClose(b);
	LCHECK(r, wait_for(st_a, &e, -1), st_a(&e));
	LCHECK(r, SysSocketRecv(a, &c, 1, 0) == -ECONNRESET, 0);
	SysSocketClose(a);

	/* CLOSE-WAIT (B) reset by A. */
	LCHECK(r, connected(l, &e, &a, &b), st_b(&e));
	SysSocketShutdown(a, 1);
	LCHECK(r, wait_for(st_b, &e, TCP_CLOSE_WAIT), st_b(&e));
	SysSocketSetOpt(a, SOCKOPT_LINGER_S, 0);
	SysSocketClose(a);
	LCHECK(r, wait_for(st_b, &e, -1), st_b(&e));
	SysSocketClose(b);

	/* LAST-ACK (B): its FIN reaches A, A's ACK is lost, a RST ends it;
	 * TIME-WAIT (A) then takes a RST too (RFC 9293 §3.10.7.4). */
	LCHECK(r, connected(l, &e, &a, &b), st_b(&e));
	SysSocketShutdown(a, 1);
	LCHECK(r, wait_for(st_b, &e, TCP_CLOSE_WAIT), st_b(&e));
	LCHECK(r, wait_for(st_a, &e, TCP_FIN_WAIT_2), st_a(&e));
	memlink_hold(link_of(), 0, 0);
	SysSocketClose(b);
	LCHECK(r, wait_for(st_a, &e, TCP_TIME_WAIT), st_a(&e));
	LCHECK(r, st_b(&e) == TCP_LAST_ACK, st_b(&e));
	memlink_discard(link_of(), 0, 100);             /* A's ACK of the FIN */
	rst_from(LINK_A_IP, e.aport, LINK_B_IP, PORT);
	memlink_hold(link_of(), 0, MEMLINK_OPEN);
	LCHECK(r, wait_for(st_b, &e, -1), st_b(&e));
	rst_from(LINK_B_IP, PORT, LINK_A_IP, e.aport);
	LCHECK(r, wait_for(st_a, &e, -1), st_a(&e));
	SysSocketClose(a);
	SysSocketClose(l);
	return 0;
}

Test(tcp_states, reset_in_each_state, .timeout = 60)
{
	run(resets_body, NULL);
}

/* ---- timers ---- */

static int timers_body(void *arg)
{
	struct link_result *r = arg;
	struct ends fw2, tw;
	TSocket a, b, a2, b2;
	warm_arp();
	TSocket l = listener(PORT);
	/* fw2: A closed, B never does: FIN-WAIT-2 until its limit. */
	LCHECK(r, connected(l, &fw2, &a, &b), st_b(&fw2));
	SysSocketClose(a);
	LCHECK(r, wait_for(st_a, &fw2, TCP_FIN_WAIT_2), st_a(&fw2));
	/* tw: a whole close, A first: TIME-WAIT for 2 MSL. */
	LCHECK(r, connected(l, &tw, &a2, &b2), st_b(&tw));
	SysSocketClose(a2);
	SysSocketClose(b2);
	LCHECK(r, wait_for(st_a, &tw, TCP_TIME_WAIT), st_a(&tw));
	/* Both limits are 60 s: still there shortly before, gone after. The
	 * clock jumps the minute (hal_posix_clock_jump); the timers due run in
	 * a few real milliseconds. */
	hal_posix_clock_jump(55000000000ull);
	thread_sleep_ms(200);
	LCHECK(r, st_a(&fw2) == TCP_FIN_WAIT_2, st_a(&fw2));
	LCHECK(r, st_a(&tw) == TCP_TIME_WAIT, st_a(&tw));
	hal_posix_clock_jump(2 * TCP_MSL_NS - 55000000000ull + 2000000000ull);
	uint64_t give_up = hal_clock_ns() + 5000000000ull;
	while (hal_clock_ns() < give_up && (st_a(&fw2) != -1 || st_a(&tw) != -1))
		thread_sleep_ms(10);
	LCHECK(r, st_a(&fw2) == -1, st_a(&fw2));
	LCHECK(r, st_a(&tw) == -1, st_a(&tw));
	LCHECK(r, st_b(&fw2) == TCP_CLOSE_WAIT, st_b(&fw2));
	SysSocketClose(b);
	SysSocketClose(l);
	return 0;
}

Test(tcp_states, fin_wait_2_and_time_wait_expire, .timeout = 60)
{
	run(timers_body, NULL);
}

/* ---- regression: ACKs after an RTO went back ---- */

/* Data both ways, every ACK lost: both ends time out and resend from
 * SND.UNA (from the SACK scoreboard, or going back without one). Their
 * ACKs must still carry SND.MAX, or each end drops the other's (below
 * RCV.NXT) and neither learns its data arrived. */
static int rto_ack_body(void *arg)
{
	struct link_result *r = arg;
	struct ends e;
	TSocket a, b;
	static char data[4 * 1448];
	warm_arp();
	TSocket l = listener(PORT);
	LCHECK(r, connected(l, &e, &a, &b), st_b(&e));
	struct memlink_config slow = clean, dead = clean;
	slow.delay_us = 100000;
	dead.delay_us = 100000;
	dead.drop_ppm = 1000000;
	memlink_set(link_of(), &slow);
	LCHECK(r, SysSocketSend(a, data, sizeof(data), 0) == (long)sizeof(data), 0);
	LCHECK(r, SysSocketSend(b, data, sizeof(data), 0) == (long)sizeof(data), 0);
	memlink_set(link_of(), &dead);          /* the data arrives, no ACK will */
	struct tcp_conn *ca = tcp_conn_lookup(LINK_A_IP, e.aport, LINK_B_IP, PORT);
	struct tcp_conn *cb = tcp_conn_lookup(LINK_B_IP, PORT, LINK_A_IP, e.aport);
	LCHECK(r, ca && cb, 0);
	for (unsigned ms = 0; ms < STEP_MS && ca && cb && !(ca->backoff && cb->backoff); ms++)
		thread_sleep_ms(1);
	LCHECK(r, ca && ca->backoff, 0);        /* A timed out */
	LCHECK(r, cb && cb->backoff, 0);        /* B timed out */
	memlink_set(link_of(), &clean);
	uint64_t until = hal_clock_ns() + 5000000000ull;
	while (hal_clock_ns() < until && (ca->snd_una != ca->snd_max || cb->snd_una != cb->snd_max))
		thread_sleep_ms(10);
	LCHECK(r, ca->snd_una == ca->snd_max, ca->snd_max - ca->snd_una);
	LCHECK(r, cb->snd_una == cb->snd_max, cb->snd_max - cb->snd_una);
	SysSocketClose(a);
	SysSocketClose(b);
	SysSocketClose(l);
	return 0;
}

Test(tcp_states, acks_after_rto_go_back_are_taken, .timeout = 60)
{
	run(rto_ack_body, NULL);
}
