/*
 * test_tcp_dsack.c: the D-SACKs (RFC 2883) a receiver sends, end to end
 * over the in-memory link (memlink.h): A (10.9.0.1) sends, B (10.9.0.2)
 * receives, and the test stands on the wire between them. It holds A's
 * frames and hands copies of them to B in the order and as often as it
 * chooses (a segment lost, one arriving twice), and reads B's ACKs off the
 * wire before A gets them.
 *
 * A duplicate below RCV.NXT: the ACK it triggers reports it as its one
 * SACK block, the next ACK reports nothing, and A, a Toro sender, takes it
 * as a D-SACK (RACK's reordering window widens, tcp_rack.c). A duplicate
 * of data held out of order: its range first, then the block that holds
 * it, then the other blocks as room allows: 3 with timestamps, 4 without;
 * the next ACK has the usual blocks only. Without SACK agreed, no SACK
 * option at all. What the connection agrees on is chosen by editing A's
 * SYN on the wire (SACK-permitted or timestamps turned into NOPs).
 *
 * One CPU, whose scheduler is cooperative: between two calls of the test
 * thread that do not sleep, no segment is sent or received.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "link_util.h"
#include "net.h"
#include "tcp_impl.h"
#include "thread.h"
#include "toro.h"
#include "wire.h"

#define PORT    6301
#define WAIT_MS 2000            /* the longest any awaited frame may take */
#define SEGS    12              /* 4 in the first part, 8 in the second */

enum { OPT_SACK_PERMITTED = 4, OPT_TIMESTAMPS = 8, OPT_NOP = 1 };

struct frame {
	size_t len;
	uint8_t data[HAL_NET_FRAME_MAX];
};

/* What the test reads of a frame's TCP segment. */
struct seg_view {
	uint32_t seq, ack, len;
	uint8_t flags;
	struct tcp_opts opts;
};

static struct memlink *link_of(void) { return memlink_current(); }

/* tcp_at: the TCP header of an IPv4 frame (checked by view first). */
static uint8_t *tcp_at(struct frame *f)
{
	return f->data + ETH_HLEN + (f->data[ETH_HLEN + IP_VER_IHL] & 0xf) * 4u;
}

static bool view(struct frame *f, struct seg_view *v)
{
	const uint8_t *ip = f->data + ETH_HLEN;
	if (f->len < ETH_HLEN + IP_HLEN + TCP_HDR_MIN ||
	    tcp_get16(f->data + ETH_TYPE) != ETHERTYPE_IPV4 || ip[IP_PROTO] != IP_PROTO_TCP)
		return false;
	const uint8_t *th = tcp_at(f);
	unsigned doff = (th[TCP_OFF_DOFF] >> 4) * 4u;
	v->seq = tcp_get32(th + TCP_OFF_SEQ);
	v->ack = tcp_get32(th + TCP_OFF_ACK);
	v->flags = th[TCP_OFF_FLAGS];
	v->len = tcp_get16(ip + IP_TOTLEN) - (uint32_t)(th - ip) - doff;
	return tcp_options_parse(th + TCP_HDR_MIN, doff - TCP_HDR_MIN, v->flags & TCP_SYN,
	                         &v->opts) == 0;
}

/* drop_option: option kind of f's TCP header made NOPs, the checksum
 * made right again (the IP header does not change). */
static void drop_option(struct frame *f, uint8_t kind)
{
	uint8_t *ip = f->data + ETH_HLEN, *th = tcp_at(f);
	unsigned doff = (th[TCP_OFF_DOFF] >> 4) * 4u;
	for (unsigned i = TCP_HDR_MIN; i < doff;) {
		if (th[i] == OPT_NOP) {
			i++;
			continue;
		}
		unsigned olen = th[i + 1];
		if (th[i] == kind)
			memset(th + i, OPT_NOP, olen);
		i += olen;
	}
	uint16_t seg_len = (uint16_t)(tcp_get16(ip + IP_TOTLEN) - (th - ip));
	uint32_t sum = inet_pseudo_sum(tcp_get32(ip + IP_SRC), tcp_get32(ip + IP_DST), IP_PROTO_TCP,
	                               seg_len);
	tcp_put16(th + TCP_OFF_CSUM, 0);
	tcp_put16(th + TCP_OFF_CSUM, inet_fold(inet_sum(th, seg_len, sum)));
}

/* grab_syn: A's SYN, held on the wire (an ARP request before it is let
 * through: B answers, then the SYN comes). */
static bool grab_syn(struct frame *f)
{
	struct memlink *l = link_of();
	for (unsigned ms = 0; ms < WAIT_MS; ms++) {
		struct seg_view v;
		if (memlink_queued(l, 0)) {
			f->len = memlink_peek(l, 0, 0, f->data, sizeof(f->data));
			if (view(f, &v) && (v.flags & TCP_SYN))
				return true;
			memlink_hold(l, 0, 1);
		}
		thread_sleep_ms(1);
	}
	return false;
}

/* grab: a copy of the segment A sent with data at seq, held on the wire. */
static bool grab(uint32_t seq, struct frame *f)
{
	struct memlink *l = link_of();
	for (unsigned ms = 0; ms < WAIT_MS; ms++) {
		unsigned n = memlink_queued(l, 0);
		for (unsigned i = 0; i < n; i++) {
			struct seg_view v;
			f->len = memlink_peek(l, 0, i, f->data, sizeof(f->data));
			if (f->len && view(f, &v) && v.seq == seq && v.len)
				return true;
		}
		thread_sleep_ms(1);
	}
	return false;
}

/* send_grab: A sends segments first .. first + n - 1 of out (mss bytes
 * each, the stream starting at base); copies of them, held on the wire,
 * into seg[first ..]. */
static bool send_grab(TSocket a, const uint8_t *out, uint32_t base, uint32_t mss, unsigned first,
                      unsigned n, struct frame *seg)
{
	if (SysSocketSend(a, out + first * mss, n * mss, 0) != (long)(n * mss))
		return false;
	for (unsigned i = first; i < first + n; i++)
		if (!grab(base + i * mss, &seg[i]))
			return false;
	return true;
}

/* deliver: f to B, and nothing else A sent meanwhile (on its own: a loss
 * probe, a resend), which is thrown away; true once B's NIC took it. */
static bool deliver(const struct frame *f)
{
	struct memlink *l = link_of();
	struct memlink_stats st;
	memlink_stats(l, 0, &st);
	uint64_t before = st.delivered;
	memlink_discard(l, 0, memlink_queued(l, 0));
	if (!memlink_inject(l, 0, f->data, f->len))
		return false;
	memlink_hold(l, 0, 1);
	for (unsigned ms = 0; ms < WAIT_MS; ms++) {
		memlink_stats(l, 0, &st);
		if (st.delivered > before)
			return true;
		thread_sleep_ms(1);
	}
	return false;
}

/* b_sent: B's n-th frame held on the wire (from 0), waited for. */
static bool b_sent(unsigned n, struct seg_view *v)
{
	static struct frame f;
	struct memlink *l = link_of();
	for (unsigned ms = 0; ms < WAIT_MS && memlink_queued(l, 1) <= n; ms++)
		thread_sleep_ms(1);
	f.len = memlink_peek(l, 1, n, f.data, sizeof(f.data));
	return f.len && view(&f, v);
}

/* wait_until: *word == want, polled. */
static bool wait_until(const volatile uint32_t *word, uint32_t want)
{
	for (unsigned ms = 0; ms < WAIT_MS && *word != want; ms++)
		thread_sleep_ms(1);
	return *word == want;
}

static uint8_t pattern(uint32_t off) { return (uint8_t)(off * 7 + (off >> 8)); }

/* One connection A -> B; what A's SYN loses on the way. */
struct dsack_case {
	bool no_sack, no_ts;
	struct link_result r;
	uint8_t mult_before, mult_after;        /* A's RACK reo_wnd_mult */
};

/* acks_with: v acknowledges ack and has SACK blocks blk[0..n) (in
 * segments from base); n 0: no SACK option. */
static bool acks_with(const struct seg_view *v, uint32_t ack, uint32_t base, uint32_t mss,
                      const unsigned (*blk)[2], unsigned n)
{
	if (v->ack != ack || v->opts.nsack != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (v->opts.sack[i].left != base + blk[i][0] * mss ||
		    v->opts.sack[i].right != base + blk[i][1] * mss)
			return false;
	return true;
}

static int dsack_body(void *arg)
{
	struct dsack_case *dc = arg;
	struct link_result *r = &dc->r;
	struct memlink *l = link_of();
	static struct frame syn, seg[SEGS];
	static uint8_t out[SEGS * 1460], in[SEGS * 1460];
	struct seg_view v;

	/* The handshake, A's SYN edited on the way. */
	TSocket lis = SysSocket(SOCKET_STREAM);
	struct TSockAddr b_addr = { LINK_B_IP, PORT }, a_addr = { LINK_A_IP, 0 };
	LCHECK(r, SysSocketBind(lis, &b_addr) == 0 && SysSocketListen(lis, 4) == 0, 0);
	memlink_hold(l, 0, 0);
	TSocket a = SysSocket(SOCKET_STREAM);
	SysSocketBind(a, &a_addr);
	SysSocketSetOpt(a, SOCKOPT_NONBLOCK, 1);
	SysSocketSetOpt(a, SOCKOPT_NODELAY, 1);
	LCHECK(r, SysSocketConnect(a, &b_addr) == -EINPROGRESS, 0);
	LCHECK(r, grab_syn(&syn), 0);
	if (dc->no_sack)
		drop_option(&syn, OPT_SACK_PERMITTED);
	if (dc->no_ts)
		drop_option(&syn, OPT_TIMESTAMPS);
	LCHECK(r, deliver(&syn), 0);
	memlink_hold(l, 0, MEMLINK_OPEN);
	LCHECK(r, SysSocketSelectOne(a, SOCKET_WRITABLE, WAIT_MS) == SOCKET_WRITABLE, 0);
	SysSocketSetOpt(a, SOCKOPT_NONBLOCK, 0);
	TSocket b = SysSocketAccept(lis, NULL);
	LCHECK(r, b >= 0, b);
	SysSocketSetOpt(b, SOCKOPT_RCVTIMEO_MS, WAIT_MS);
	struct TSockAddr a_local;
	SysSocketLocalAddr(a, &a_local);
	struct tcp_conn *ca = tcp_conn_lookup(LINK_A_IP, a_local.port, LINK_B_IP, PORT);
	struct tcp_conn *cb = tcp_conn_lookup(LINK_B_IP, PORT, LINK_A_IP, a_local.port);
	LCHECK(r, ca && cb, 0);
	if (r->line)
		return 0;
	LCHECK(r, cb->sack_ok == !dc->no_sack && ca->sack_ok == !dc->no_sack, cb->sack_ok);
	LCHECK(r, cb->ts_ok == !dc->no_ts && ca->ts_ok == !dc->no_ts, cb->ts_ok);
	bool sack = !dc->no_sack;
	uint32_t mss = ca->mss, base = ca->snd_max;
	for (uint32_t i = 0; i < SEGS * mss; i++)
		out[i] = pattern(i);

	/* Part 1: a duplicate below RCV.NXT. Segments 0 and 1 in order, 0
	 * again, then 2 and 3. */
	memlink_hold(l, 0, 0);
	memlink_hold(l, 1, 0);
	LCHECK(r, send_grab(a, out, base, mss, 0, 2, seg), 0);
	LCHECK(r, deliver(&seg[0]) && deliver(&seg[1]), 0);
	LCHECK(r, b_sent(0, &v), 0);
	LCHECK(r, acks_with(&v, base + 2 * mss, base, mss, NULL, 0), v.opts.nsack);
	LCHECK(r, deliver(&seg[0]), 0);
	LCHECK(r, b_sent(1, &v), 1);
	static const unsigned below[][2] = { { 0, 1 } };
	LCHECK(r, acks_with(&v, base + 2 * mss, base, mss, below, sack ? 1 : 0), v.opts.nsack);
	LCHECK(r, v.opts.has_ts == !dc->no_ts, v.opts.has_ts);
	LCHECK(r, send_grab(a, out, base, mss, 2, 2, seg), 0);
	LCHECK(r, deliver(&seg[2]) && deliver(&seg[3]), 0);
	LCHECK(r, b_sent(2, &v), 2);
	/* The D-SACK was reported once: not in this ACK. */
	LCHECK(r, acks_with(&v, base + 4 * mss, base, mss, NULL, 0), v.opts.nsack);
	/* A gets the three ACKs: the second is a duplicate ACK with a D-SACK. */
	dc->mult_before = ca->rack.reo_wnd_mult;
	memlink_hold(l, 1, MEMLINK_OPEN);
	LCHECK(r, wait_until(&ca->snd_una, base + 4 * mss), ca->snd_una - base);
	dc->mult_after = ca->rack.reo_wnd_mult;
	for (unsigned ms = 0; ms < WAIT_MS && memlink_queued(l, 1); ms++)
		thread_sleep_ms(1);
	LCHECK(r, memlink_queued(l, 1) == 0, memlink_queued(l, 1));
	if (r->line)
		return 0;

	/* Part 2: out of order. Of segments 4..11, 5, 7, 8 and 10 arrive
	 * (blocks 5, 7-8, 10), then 8 again, then 11, then the rest. */
	memlink_hold(l, 1, 0);
	LCHECK(r, send_grab(a, out, base, mss, 4, 8, seg), 0);
	static const unsigned arrive[] = { 5, 7, 8, 10 };
	for (unsigned i = 0; i < 4; i++) {
		LCHECK(r, deliver(&seg[arrive[i]]), arrive[i]);
		LCHECK(r, b_sent(i, &v), i);
	}
	static const unsigned held[][2] = { { 10, 11 }, { 7, 9 }, { 5, 6 } };
	LCHECK(r, acks_with(&v, base + 4 * mss, base, mss, held, sack ? 3 : 0), v.opts.nsack);
	LCHECK(r, deliver(&seg[8]), 8);
	LCHECK(r, b_sent(4, &v), 4);
	/* The duplicate, the block holding it, then the others, highest
	 * first, as many as fit. */
	static const unsigned dup[][2] = { { 8, 9 }, { 7, 9 }, { 10, 11 }, { 5, 6 } };
	unsigned fit = !sack ? 0 : dc->no_ts ? 4 : 3;
	LCHECK(r, acks_with(&v, base + 4 * mss, base, mss, dup, fit), v.opts.nsack);
	LCHECK(r, deliver(&seg[11]), 11);
	LCHECK(r, b_sent(5, &v), 5);
	static const unsigned after[][2] = { { 10, 12 }, { 7, 9 }, { 5, 6 } };
	LCHECK(r, acks_with(&v, base + 4 * mss, base, mss, after, sack ? 3 : 0), v.opts.nsack);
	static const unsigned rest[] = { 4, 6, 9 };
	for (unsigned i = 0; i < 3; i++)
		LCHECK(r, deliver(&seg[rest[i]]), rest[i]);
	memlink_hold(l, 0, MEMLINK_OPEN);
	memlink_hold(l, 1, MEMLINK_OPEN);

	/* B has every byte once, in order. */
	size_t got = 0;
	while (got < SEGS * mss) {
		long n = SysSocketRecv(b, in + got, SEGS * mss - got, 0);
		LCHECK(r, n > 0, n);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	LCHECK(r, got == SEGS * mss && memcmp(in, out, got) == 0, got);
	SysSocketSetOpt(a, SOCKOPT_LINGER_S, 0);
	SysSocketClose(a);
	SysSocketClose(b);
	SysSocketClose(lis);
	return 0;
}

static const struct memlink_config clean = { .seed = 9, .delay_us = 50, .queue_max = 512 };

static void run(struct dsack_case *dc)
{
	cr_assert_eq(link_boot(1, &clean, dsack_body, dc), 0);
	cr_assert_eq(dc->r.line, 0, "line %d: %s (%ld)", dc->r.line, dc->r.what, dc->r.value);
}

Test(tcp_dsack, with_timestamps_three_blocks, .timeout = 60)
{
	static struct dsack_case dc;
	run(&dc);
	cr_assert_eq(dc.mult_after, dc.mult_before + 1, "A's reordering window took the D-SACK");
}

Test(tcp_dsack, without_timestamps_four_blocks, .timeout = 60)
{
	static struct dsack_case dc = { .no_ts = true };
	run(&dc);
	cr_assert_eq(dc.mult_after, dc.mult_before + 1, "A's reordering window took the D-SACK");
}

Test(tcp_dsack, none_without_sack, .timeout = 60)
{
	static struct dsack_case dc = { .no_sack = true };
	run(&dc);
}
