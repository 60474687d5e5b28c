/*
 * test_tcp_rack.c: loss detection with SACK: the per-segment scoreboard
 * (tcp_sack.c) and RACK-TLP (tcp_rack.c, RFC 8985).
 *
 * The decisions first, on a connection record built by hand with send
 * times chosen by the test: SACKed ranges and pipe; a segment marked lost
 * once a later one was delivered and its reordering window passed, and not
 * a moment before; no window once three segments are SACKed (unless the
 * path reorders); a lost resend found lost again; an ambiguous resend's
 * delivery not taken as a round trip. At an RTO (§6.3): SND.UNA's segment
 * and every one sent a RACK.rtt before marked lost, the SACKed ones not
 * (unless the receiver reneged on them). D-SACKs widening the reordering
 * window, sixteen recoveries narrowing it back; cwnd kept when SACK
 * recovery ends.
 *
 * Then end to end over the in-memory link (memlink.h): a burst whose last
 * segment (or last two) the link drops brings no SACK at all, so only a
 * tail loss probe recovers it before the RTO: the data must arrive well
 * before the 200 ms minimum RTO, with no RTO counted.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "alloc.h"
#include "link_util.h"
#include "tcp_impl.h"
#include "thread.h"
#include "toro.h"

#define MS 1000000ull           /* ns */
#define SEG 1000u               /* the hand-made connection's MSS */

static struct tcp_opts sack_of(uint32_t l, uint32_t r)
{
	struct tcp_opts o = { .nsack = 1 };
	o.sack[0].left = l;
	o.sack[0].right = r;
	return o;
}

/* conn_with: a connection record with n segments of SEG from una, the
 * i-th sent at t0 + i ms; an SRTT of srtt_us. */
static struct tcp_conn *conn_with(uint32_t una, unsigned n, uint64_t t0, uint32_t srtt_us)
{
	struct tcp_conn *c = kzalloc(sizeof(*c));
	if (!c)
		return NULL;
	c->sack_ok = true;
	c->mss = SEG;
	c->snd_una = una;
	c->snd_max = una + n * SEG;
	tcp_cc_init(c);
	c->rtt.measured = true;
	c->rtt.srtt_us = srtt_us;
	for (unsigned i = 0; i < n; i++)
		tcp_sack_sent(&c->sb, una + i * SEG, SEG, SEG, t0 + i * MS);
	return c;
}

static void conn_free(struct tcp_conn *c)
{
	tcp_sack_free(&c->sb);
	kfree(c);
}

static struct tcp_sent_seg *seg_of(struct tcp_conn *c, uint32_t seq)
{
	for (uint32_t i = 0; i < c->sb.n; i++)
		if (c->sb.seg[c->sb.head + i].seq == seq)
			return &c->sb.seg[c->sb.head + i];
	return NULL;
}

static void run(kernel_body body)
{
	static struct link_result r;
	memset(&r, 0, sizeof(r));
	cr_assert_eq(run_in_kernel(1, body, &r), 0);
	cr_assert_eq(r.line, 0, "line %d: %s (%ld)", r.line, r.what, r.value);
}

/* ---- the scoreboard ---- */

static int scoreboard_body(void *arg)
{
	struct link_result *r = arg;
	uint32_t una = 0xfffff000u;             /* across the wrap */
	struct tcp_conn *c = conn_with(una, 10, 1000, 1000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	struct tcp_sackboard *sb = &c->sb;
	LCHECK(r, sb->n == 10, sb->n);
	struct tcp_opts o = sack_of(una + 3000, una + 5000);
	LCHECK(r, tcp_sack_update(sb, &c->rack, una, c->snd_max, &o, 5 * MS), 0);
	LCHECK(r, sb->sacked == 2000, sb->sacked);
	LCHECK(r, tcp_sack_pipe(sb, una, c->snd_max) == 8000, tcp_sack_pipe(sb, una, c->snd_max));
	LCHECK(r, !tcp_sack_update(sb, &c->rack, una, c->snd_max, &o, 5 * MS), 0);
	/* A block covering a segment only in part SACKs none of it. */
	o = sack_of(una + 5500, una + 7000);
	LCHECK(r, tcp_sack_update(sb, &c->rack, una, c->snd_max, &o, 5 * MS), 0);
	LCHECK(r, sb->sacked == 3000, sb->sacked);
	/* Blocks outside (SND.UNA, SND.MAX] count for nothing. */
	o = sack_of(una - 500, una);
	LCHECK(r, !tcp_sack_update(sb, &c->rack, una, c->snd_max, &o, 5 * MS), 0);
	/* Lost: out of the pipe; resent: back in it. */
	tcp_sack_lost(sb, seg_of(c, una));
	LCHECK(r, tcp_sack_pipe(sb, una, c->snd_max) == 6000, tcp_sack_pipe(sb, una, c->snd_max));
	LCHECK(r, tcp_sack_next_lost(sb) == seg_of(c, una), 0);
	tcp_sack_sent(sb, una, SEG, SEG, 6 * MS);
	LCHECK(r, tcp_sack_next_lost(sb) == NULL, 0);
	LCHECK(r, tcp_sack_pipe(sb, una, c->snd_max) == 7000, tcp_sack_pipe(sb, una, c->snd_max));
	/* A resend across two records cuts them at its edges. */
	tcp_sack_sent(sb, una + 7500, SEG, SEG, 7 * MS);
	LCHECK(r, sb->n == 12, sb->n);
	LCHECK(r, seg_of(c, una + 7500) && (seg_of(c, una + 7500)->flags & TCP_SEG_RETRANS), 0);
	LCHECK(r, seg_of(c, una + 7000) && !(seg_of(c, una + 7000)->flags & TCP_SEG_RETRANS), 0);
	LCHECK(r, sb->retrans == 2000, sb->retrans);
	/* Cumulative ACKs: records go, one acked in part is trimmed. */
	o.nsack = 0;
	tcp_sack_update(sb, &c->rack, una + 4500, c->snd_max, &o, 8 * MS);
	LCHECK(r, sb->n == 8, sb->n);
	LCHECK(r, sb->seg[sb->head].seq == una + 4500, sb->seg[sb->head].seq);
	LCHECK(r, sb->sacked == 1500, sb->sacked);
	LCHECK(r, sb->lost == 0 && sb->retrans == 1000, sb->retrans);
	/* New data goes in a record per MSS. */
	tcp_sack_sent(sb, c->snd_max, 2500, SEG, 9 * MS);
	LCHECK(r, sb->n == 11, sb->n);
	conn_free(c);
	return 0;
}

Test(tcp_sack, scoreboard_per_segment)
{
	run(scoreboard_body);
}

/* ---- RACK's decisions ---- */

#define T0 (1000 * MS)

/* Ten segments sent 1 ms apart from T0; the path's round trip is 8 ms,
 * so the reordering window (min RTT / 4) is 2 ms. */
static int reo_window_body(void *arg)
{
	struct link_result *r = arg;
	struct tcp_conn *c = conn_with(1000, 10, T0, 8000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	/* Segment 5 (sent at T0 + 5 ms) is SACKed a round trip later. */
	uint64_t now = T0 + 13 * MS, wait;
	struct tcp_opts o = sack_of(6000, 7000);
	tcp_sack_update(&c->sb, &c->rack, 1000, c->snd_max, &o, now);
	LCHECK(r, c->rack.min_rtt_us == 8000 && c->rack.rtt_us == 8000, c->rack.rtt_us);
	LCHECK(r, tcp_rack_reo_wnd_us(c) == 2000, tcp_rack_reo_wnd_us(c));
	/* Sent 2 ms (the window) or more before it: lost now. Segment 4,
	 * 1 ms before: not yet, in 1 ms. Those sent after it: never. */
	LCHECK(r, tcp_rack_detect_loss(c, now, &wait) == 4, c->sb.lost);
	LCHECK(r, wait == 1 * MS, wait);
	for (unsigned i = 0; i < 4; i++)
		LCHECK(r, seg_of(c, 1000 + i * SEG)->flags & TCP_SEG_LOST, i);
	LCHECK(r, tcp_rack_detect_loss(c, now + MS - 1000, &wait) == 0, wait);
	LCHECK(r, !(seg_of(c, 5000)->flags & TCP_SEG_LOST), 0);
	LCHECK(r, tcp_rack_detect_loss(c, now + MS, &wait) == 1, wait);
	LCHECK(r, seg_of(c, 5000)->flags & TCP_SEG_LOST, 0);
	LCHECK(r, wait == 0, wait);
	for (unsigned i = 6; i < 10; i++)
		LCHECK(r, !(seg_of(c, 1000 + i * SEG)->flags & TCP_SEG_LOST), i);
	/* Marked once: the same again marks nothing. */
	LCHECK(r, tcp_rack_detect_loss(c, now + 2 * MS, &wait) == 0, wait);
	conn_free(c);
	return 0;
}

Test(tcp_rack, lost_after_the_reordering_window_not_before)
{
	run(reo_window_body);
}

static int dupthresh_body(void *arg)
{
	struct link_result *r = arg;
	struct tcp_conn *c = conn_with(1000, 10, T0, 8000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	/* Three SACKed and no reordering seen: no window (the DupAck
	 * threshold's rule), segment 5 is lost at once. */
	uint64_t now = T0 + 16 * MS, wait;
	struct tcp_opts o = sack_of(7000, 10000);
	tcp_sack_update(&c->sb, &c->rack, 1000, c->snd_max, &o, now);
	LCHECK(r, tcp_rack_reo_wnd_us(c) == 0, tcp_rack_reo_wnd_us(c));
	LCHECK(r, tcp_rack_detect_loss(c, now, &wait) == 6, c->sb.lost);
	LCHECK(r, !c->rack.reordering_seen, 0);
	/* A first send delivered below the highest delivered: the path
	 * reorders, and the window is back. */
	o = sack_of(6000, 7000);
	tcp_sack_update(&c->sb, &c->rack, 1000, c->snd_max, &o, now);
	LCHECK(r, c->rack.reordering_seen, 0);
	LCHECK(r, tcp_rack_reo_wnd_us(c) == c->rack.min_rtt_us / 4, tcp_rack_reo_wnd_us(c));
	conn_free(c);
	return 0;
}

Test(tcp_rack, no_window_at_dupthresh_until_reordering)
{
	run(dupthresh_body);
}

static int lost_resend_body(void *arg)
{
	struct link_result *r = arg;
	struct tcp_conn *c = conn_with(1000, 4, T0, 8000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	/* Segment 3 SACKed at 11 ms: 0 and 1 are lost (2 ms before it). */
	uint64_t now = T0 + 11 * MS, wait;
	struct tcp_opts o = sack_of(4000, 5000);
	tcp_sack_update(&c->sb, &c->rack, 1000, c->snd_max, &o, now);
	LCHECK(r, tcp_rack_detect_loss(c, now, &wait) == 2, c->sb.lost);
	/* Segment 0 resent now, new data 1 ms later; the new data is
	 * SACKed, the resend is not: lost again once its window passed. */
	tcp_sack_sent(&c->sb, 1000, SEG, SEG, now);
	LCHECK(r, tcp_sack_next_lost(&c->sb) == seg_of(c, 2000), 0);
	tcp_sack_sent(&c->sb, 5000, SEG, SEG, now + MS);
	c->snd_max += SEG;
	o = sack_of(5000, 6000);
	tcp_sack_update(&c->sb, &c->rack, 1000, c->snd_max, &o, now + 9 * MS);
	/* Segment 2, left 1 ms short of its window before, goes now; the
	 * resend 1 ms after its own window's end. */
	LCHECK(r, tcp_rack_detect_loss(c, now + 9 * MS, &wait) == 1, wait);
	LCHECK(r, seg_of(c, 3000)->flags & TCP_SEG_LOST, 0);
	LCHECK(r, wait == 1 * MS, wait);
	LCHECK(r, tcp_rack_detect_loss(c, now + 10 * MS, &wait) == 1, wait);
	struct tcp_sent_seg *s = seg_of(c, 1000);
	LCHECK(r, (s->flags & (TCP_SEG_LOST | TCP_SEG_RETRANS)) == TCP_SEG_LOST, s->flags);
	LCHECK(r, tcp_sack_next_lost(&c->sb) == s, 0);
	LCHECK(r, s->flags & TCP_SEG_RESENT, s->flags);
	/* A resend acked sooner than any round trip: the first send's ACK,
	 * no news of when the resend was sent. */
	uint64_t xmit = c->rack.xmit_ns;
	tcp_sack_sent(&c->sb, 2000, SEG, SEG, now + 20 * MS);
	o.nsack = 0;
	tcp_sack_update(&c->sb, &c->rack, 3000, c->snd_max, &o, now + 21 * MS);
	LCHECK(r, c->rack.xmit_ns == xmit, c->rack.xmit_ns - xmit);
	conn_free(c);
	return 0;
}

Test(tcp_rack, lost_resend_found_again_and_ambiguous_acks_ignored)
{
	run(lost_resend_body);
}

/* ---- the RTO (§6.3) ---- */

/* Ten segments 1 ms apart from T0, a round trip of 8 ms; segment 2 is
 * SACKed, which makes RACK.rtt 8 ms. At the RTO, 16.5 ms after T0, lost
 * are SND.UNA's segment and all sent 8 ms (RACK.rtt; no reordering
 * window in recovery) before or more: 0, 1 and 3 to 8; not segment 9,
 * nor the SACKed one. The probe and the RACK timer are forgotten. */
static int rto_marks_body(void *arg)
{
	struct link_result *r = arg;
	struct tcp_conn *c = conn_with(1000, 10, T0, 8000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	struct tcp_opts o = sack_of(3000, 4000);
	tcp_sack_update(&c->sb, &c->rack, 1000, c->snd_max, &o, T0 + 10 * MS);
	LCHECK(r, c->rack.rtt_us == 8000, c->rack.rtt_us);
	c->rack.tlp_out = c->rack.tlp_is_retrans = true;
	c->rack.pto_due_ns = c->rack.reo_due_ns = T0 + 20 * MS;
	LCHECK(r, tcp_rack_rto(c, T0 + 16 * MS + MS / 2), 0);
	for (unsigned i = 0; i < 10; i++) {
		bool lost = seg_of(c, 1000 + i * SEG)->flags & TCP_SEG_LOST;
		LCHECK(r, lost == (i != 2 && i != 9), i);
	}
	LCHECK(r, seg_of(c, 3000)->flags & TCP_SEG_SACKED, 0);
	LCHECK(r, c->sb.lost == 8 * SEG, c->sb.lost);
	LCHECK(r, tcp_sack_pipe(&c->sb, c->snd_una, c->snd_max) == SEG,
	       tcp_sack_pipe(&c->sb, c->snd_una, c->snd_max));
	LCHECK(r, !c->rack.tlp_out && !c->rack.tlp_is_retrans, 0);
	LCHECK(r, c->rack.pto_due_ns == 0 && c->rack.reo_due_ns == 0, 0);
	/* The resends go in order from SND.UNA, the SACKed one skipped. */
	LCHECK(r, tcp_sack_next_lost(&c->sb) == seg_of(c, 1000), 0);
	tcp_sack_sent(&c->sb, 1000, SEG, SEG, T0 + 17 * MS);
	tcp_sack_sent(&c->sb, 2000, SEG, SEG, T0 + 17 * MS);
	LCHECK(r, tcp_sack_next_lost(&c->sb) == seg_of(c, 4000), 0);
	/* A second RTO takes the resends as lost again (SND.UNA's first). */
	LCHECK(r, tcp_rack_rto(c, T0 + 17 * MS + MS / 2), 0);
	LCHECK(r, tcp_sack_next_lost(&c->sb) == seg_of(c, 1000), 0);
	LCHECK(r, seg_of(c, 2000)->flags & TCP_SEG_RETRANS, 0);       /* 0.5 ms ago: in flight */
	conn_free(c);
	return 0;
}

Test(tcp_rack, rto_marks_head_and_all_sent_a_round_trip_before)
{
	run(rto_marks_body);
}

static int rto_reneged_body(void *arg)
{
	struct link_result *r = arg;
	/* SND.UNA's segment SACKed but not acked: the receiver dropped
	 * what it SACKed, so every SACK is forgotten and all of it lost. */
	struct tcp_conn *c = conn_with(1000, 4, T0, 8000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	struct tcp_opts o = sack_of(1000, 3000);
	tcp_sack_update(&c->sb, &c->rack, 1000, c->snd_max, &o, T0 + 10 * MS);
	LCHECK(r, c->sb.sacked == 2 * SEG, c->sb.sacked);
	LCHECK(r, tcp_rack_rto(c, T0 + 300 * MS), 0);
	LCHECK(r, c->sb.sacked == 0 && c->sb.lost == 4 * SEG, c->sb.lost);
	conn_free(c);
	/* Nothing on the board (only a FIN out): the caller goes back. */
	c = conn_with(1000, 0, T0, 8000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	c->snd_max = 1001;
	LCHECK(r, !tcp_rack_rto(c, T0 + 300 * MS), 0);
	conn_free(c);
	return 0;
}

Test(tcp_rack, rto_after_reneging_forgets_sacks_and_without_board_goes_back)
{
	run(rto_reneged_body);
}

/* ---- the reordering window's adaptation (§6.2 step 4) ---- */

/* ack_with_dsack: an ACK of una whose first SACK block reports a
 * duplicate below it. */
static struct tcp_seg ack_with_dsack(uint32_t una, bool dsack)
{
	struct tcp_seg s = { .ack = una, .flags = TCP_ACK };
	if (dsack)
		s.opts = sack_of(una - SEG, una);
	return s;
}

static int dsack_body(void *arg)
{
	struct link_result *r = arg;
	/* An empty board, a least RTT of 8 ms: one quarter is 2 ms, and
	 * SRTT (7 ms) bounds the window. */
	struct tcp_conn *c = conn_with(1000, 0, T0, 7000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	c->rack.min_rtt_us = 8000;
	c->snd_max = 20000;
	LCHECK(r, tcp_rack_reo_wnd_us(c) == 2000, tcp_rack_reo_wnd_us(c));
	struct tcp_seg s = ack_with_dsack(c->snd_una, true);
	tcp_rack_ack(c, &s, false, T0);
	LCHECK(r, tcp_rack_reo_wnd_us(c) == 4000, tcp_rack_reo_wnd_us(c));
	/* Within the same round trip (SND.UNA short of SND.NXT then): no
	 * more widening. */
	c->snd_una = 10000;
	s = ack_with_dsack(c->snd_una, true);
	tcp_rack_ack(c, &s, false, T0);
	LCHECK(r, tcp_rack_reo_wnd_us(c) == 4000, tcp_rack_reo_wnd_us(c));
	/* A D-SACK inside the second block counts too (RFC 2883 §4.2). */
	c->snd_una = 20000;
	c->snd_max = 30000;
	s = (struct tcp_seg){ .ack = c->snd_una, .flags = TCP_ACK };
	s.opts.nsack = 2;
	s.opts.sack[0].left = 25000;
	s.opts.sack[0].right = 26000;
	s.opts.sack[1].left = 24000;
	s.opts.sack[1].right = 27000;
	tcp_rack_ack(c, &s, false, T0);
	LCHECK(r, c->rack.reo_wnd_mult == 3, c->rack.reo_wnd_mult);
	LCHECK(r, tcp_rack_reo_wnd_us(c) == 6000, tcp_rack_reo_wnd_us(c));
	c->rack.reo_wnd_mult = 4;
	LCHECK(r, tcp_rack_reo_wnd_us(c) == 7000, tcp_rack_reo_wnd_us(c));
	/* Fifteen recoveries without a D-SACK keep it; the sixteenth ends
	 * it; plain ACKs count for nothing. */
	c->snd_una = c->snd_max;
	s = ack_with_dsack(c->snd_una, false);
	for (unsigned i = 0; i < 15; i++) {
		tcp_rack_ack(c, &s, true, T0);
		tcp_rack_ack(c, &s, false, T0);
	}
	LCHECK(r, c->rack.reo_wnd_mult == 4, c->rack.reo_wnd_mult);
	tcp_rack_ack(c, &s, true, T0);
	LCHECK(r, c->rack.reo_wnd_mult == 1, c->rack.reo_wnd_mult);
	LCHECK(r, tcp_rack_reo_wnd_us(c) == 2000, tcp_rack_reo_wnd_us(c));
	conn_free(c);
	return 0;
}

Test(tcp_rack, dsack_widens_the_reordering_window_sixteen_recoveries_long)
{
	run(dsack_body);
}

/* ---- leaving SACK recovery ---- */

static int recovery_exit_body(void *arg)
{
	struct link_result *r = arg;
	/* A full ACK that takes everything: with SACK cwnd stays what
	 * recovery made it; without, it is deflated to the flight + 1. */
	struct tcp_conn *c = conn_with(1000, 0, T0, 8000);
	LCHECK(r, c != NULL, 0);
	if (!c)
		return 0;
	for (unsigned sack = 0; sack < 2; sack++) {
		c->sack_ok = sack;
		c->in_recovery = true;
		c->recover = c->snd_max = c->snd_una = 50000;
		c->ssthresh = c->cwnd = 8 * SEG;
		LCHECK(r, !tcp_cc_recovery_ack(c, 50000, 10 * SEG), sack);
		LCHECK(r, !c->in_recovery, sack);
		LCHECK(r, c->cwnd == (sack ? 8 * SEG : SEG), c->cwnd);
	}
	conn_free(c);
	return 0;
}

Test(tcp_cc, leaving_sack_recovery_keeps_cwnd)
{
	run(recovery_exit_body);
}

/* ---- a tail loss over the link: TLP, no RTO ---- */

#define PORT 6201
#define BURST 8
#define WIRE_MSS 1448           /* 1460 less the timestamps */

struct tail_case {
	unsigned drop;              /* the burst's last frames the link loses */
	struct link_result r;
	uint64_t recover_ms;
	struct TNetStats before, after;
};

static bool recv_all(TSocket s, uint8_t *buf, long n)
{
	for (long got = 0; got < n;) {
		long k = SysSocketRecv(s, buf + got, (size_t)(n - got), 0);
		if (k <= 0)
			return false;
		got += k;
	}
	return true;
}

static int tail_body(void *arg)
{
	struct tail_case *tc = arg;
	struct link_result *r = &tc->r;
	struct memlink *link = memlink_current();
	static uint8_t buf[64 * 1024];

	TSocket l = SysSocket(SOCKET_STREAM);
	struct TSockAddr b = { LINK_B_IP, PORT }, a = { LINK_A_IP, 0 };
	LCHECK(r, SysSocketBind(l, &b) == 0 && SysSocketListen(l, 4) == 0, 0);
	TSocket s = SysSocket(SOCKET_STREAM);
	SysSocketBind(s, &a);
	SysSocketSetOpt(s, SOCKOPT_NONBLOCK, 1);
	SysSocketSetOpt(s, SOCKOPT_NODELAY, 1);
	int rc = SysSocketConnect(s, &b);
	LCHECK(r, rc == -EINPROGRESS, rc);
	LCHECK(r, SysSocketSelectOne(s, SOCKET_WRITABLE, 5000) == SOCKET_WRITABLE, 0);
	SysSocketSetOpt(s, SOCKOPT_NONBLOCK, 0);
	TSocket t = SysSocketAccept(l, NULL);
	LCHECK(r, t >= 0, t);
	SysSocketSetOpt(t, SOCKOPT_RCVTIMEO_MS, 5000);
	if (r->line)
		return 0;

	/* Round trips measured, the window open past the burst. */
	for (unsigned i = 0; i < 4; i++) {
		LCHECK(r, SysSocketSend(s, buf, sizeof(buf), 0) == (long)sizeof(buf), i);
		LCHECK(r, recv_all(t, buf, sizeof(buf)), i);
	}
	thread_sleep_ms(50);            /* every ACK home */
	SysNetStats(-1, &tc->before);

	/* The burst, held on the wire; its last frames dropped. */
	memlink_hold(link, 0, 0);
	LCHECK(r, SysSocketSend(s, buf, BURST * WIRE_MSS, 0) == BURST * WIRE_MSS, 0);
	for (unsigned ms = 0; ms < 1000 && memlink_queued(link, 0) < BURST; ms++)
		thread_sleep_ms(1);
	LCHECK(r, memlink_queued(link, 0) == BURST, memlink_queued(link, 0));
	memlink_discard_newest(link, 0, tc->drop);
	uint64_t start = hal_clock_ns();
	memlink_hold(link, 0, MEMLINK_OPEN);
	LCHECK(r, recv_all(t, buf, BURST * WIRE_MSS), 0);
	tc->recover_ms = (hal_clock_ns() - start) / 1000000;
	SysNetStats(-1, &tc->after);

	SysSocketSetOpt(s, SOCKOPT_LINGER_S, 0);
	SysSocketClose(s);
	SysSocketClose(t);
	SysSocketClose(l);
	return 0;
}

static const struct memlink_config clean_link = { .seed = 3, .delay_us = 50, .queue_max = 512 };

/* run_tail: the burst with its last drop frames lost: recovered by a
 * probe (and RACK finding at least min_rack_lost from its ACK) well
 * before the RTO, which never fires. */
static void run_tail(unsigned drop, uint64_t min_rack_lost)
{
	static struct tail_case tc;
	memset(&tc, 0, sizeof(tc));
	tc.drop = drop;
	cr_assert_eq(link_boot(1, &clean_link, tail_body, &tc), 0);
	cr_assert_eq(tc.r.line, 0, "line %d: %s (%ld)", tc.r.line, tc.r.what, tc.r.value);
	uint64_t rtos = tc.after.tcp_timeouts - tc.before.tcp_timeouts;
	uint64_t tlps = tc.after.tcp_tlp_probes - tc.before.tcp_tlp_probes;
	uint64_t lost = tc.after.tcp_rack_lost - tc.before.tcp_rack_lost;
	cr_log_info("last %u of %u dropped: all there after %lu ms, %lu TLPs, %lu RACK-lost, "
	            "%lu RTOs\n", drop, BURST, (unsigned long)tc.recover_ms,
	            (unsigned long)tlps, (unsigned long)lost, (unsigned long)rtos);
	cr_assert_eq(rtos, 0, "an RTO fired");
	cr_assert_geq(tlps, 1, "no loss probe went");
	cr_assert_geq(lost, min_rack_lost, "RACK found %lu lost from the probe's ACK",
	              (unsigned long)lost);
	/* The RTO is at least 200 ms: recovery well before it was not one. */
	cr_assert_lt(tc.recover_ms, 150);
}

Test(tcp_rack, tail_drop_of_one_recovered_by_the_probe, .timeout = 60)
{
	run_tail(1, 0);
}

/* The probe resends the last segment; its SACK shows the one before lost. */
Test(tcp_rack, tail_drop_of_two_probe_then_rack, .timeout = 60)
{
	run_tail(2, 1);
}
