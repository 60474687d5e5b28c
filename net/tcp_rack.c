/*
 * tcp_rack.c: RACK-TLP loss detection (RFC 8985) for connections with
 * SACK. RACK: a segment is lost when one sent later (by more than the
 * reordering window) has been delivered, judged by the send times the
 * scoreboard keeps (tcp_sack.c); it works the same for first sends and
 * resends, so a lost resend is found without waiting for the RTO. TLP: a
 * probe timeout (about two round trips) after the last send or ACK sends a
 * new segment or the last one again, so a loss at the tail of a flight,
 * which brings no SACKs, is found by RACK from the probe's ACK instead of
 * by an RTO.
 *
 * On an RTO (§6.3) RACK marks what is lost, the segment at SND.UNA and
 * every other one sent a RACK.rtt + reo_wnd ago, and the scoreboard
 * resends those as slow start allows: SACKed data does not go again.
 *
 * What is left out of the RFC: RACK.min_RTT is the least sample of the
 * connection's life, not of a recent window.
 */
#include "tcp_impl.h"

/* A probe timeout at least this long (Linux's floor too): on a path of
 * a few hundred microseconds, 2 SRTT is within the jitter of the ACKs. */
#define TLP_MIN_PTO_US 10000u

/* §6.2 step 4: recoveries without a D-SACK before a widened reordering
 * window is narrowed back. */
#define REO_WND_PERSIST 16u

/* sent_after: §6.2 RACK_sent_after, with the end sequence breaking ties. */
static bool sent_after(uint64_t t1, uint32_t seq1, uint64_t t2, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && seq_gt(seq1, seq2));
}

void tcp_rack_delivered(struct tcp_rack *r, const struct tcp_sent_seg *s, uint64_t now_ns)
{
	uint32_t end = s->seq + s->len;
	uint64_t rtt_ns = now_ns > s->xmit_ns ? now_ns - s->xmit_ns : 0;
	uint32_t rtt_us = rtt_ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(rtt_ns / 1000);
	if (rtt_us == 0)
		rtt_us = 1;
	bool resent = s->flags & TCP_SEG_RESENT;
	/* Step 2: a resent segment's delivery may be the first send's; a
	 * round trip shorter than any seen says it was, and measures
	 * nothing. Step 1 takes samples of first sends only (Karn). */
	if (!resent && (!r->min_rtt_us || rtt_us < r->min_rtt_us))
		r->min_rtt_us = rtt_us;
	if (!resent || rtt_us >= r->min_rtt_us) {
		r->rtt_us = rtt_us;
		if (sent_after(s->xmit_ns, end, r->xmit_ns, r->end_seq)) {
			r->xmit_ns = s->xmit_ns;
			r->end_seq = end;
		}
	}
	/* Step 3: a first send delivered below the highest delivered end
	 * was overtaken: the path reorders. */
	if (seq_gt(end, r->fack))
		r->fack = end;
	else if (seq_lt(end, r->fack) && !resent)
		r->reordering_seen = true;
}

/* reo_wnd_us: step 4's window, for a connection in fast or RTO recovery
 * or not (recovering). */
static uint32_t reo_wnd_us(const struct tcp_conn *c, bool recovering)
{
	/* With no reordering seen, none in recovery or once DupThresh (3)
	 * segments are SACKed, as the DupAck rule would. */
	if (!c->rack.reordering_seen && (recovering || c->sb.sacked >= 3u * c->mss))
		return 0;
	uint64_t w = (uint64_t)c->rack.reo_wnd_mult * c->rack.min_rtt_us / 4;
	if (c->rtt.measured && w > c->rtt.srtt_us)
		w = c->rtt.srtt_us;
	return (uint32_t)w;
}

uint32_t tcp_rack_reo_wnd_us(const struct tcp_conn *c)
{
	return reo_wnd_us(c, c->in_recovery);
}

unsigned tcp_rack_detect_loss(struct tcp_conn *c, uint64_t now_ns, uint64_t *wait_ns)
{
	struct tcp_rack *r = &c->rack;
	struct tcp_sackboard *sb = &c->sb;
	*wait_ns = 0;
	if (!r->xmit_ns)
		return 0;               /* nothing delivered yet */
	uint64_t window = ((uint64_t)r->rtt_us + tcp_rack_reo_wnd_us(c)) * 1000;
	unsigned marked = 0;
	for (uint32_t i = 0; i < sb->n; i++) {
		struct tcp_sent_seg *s = &sb->seg[sb->head + i];
		/* SACKed, or marked and not resent yet: nothing to decide. */
		if ((s->flags & TCP_SEG_SACKED) ||
		    (s->flags & (TCP_SEG_LOST | TCP_SEG_RETRANS)) == TCP_SEG_LOST)
			continue;
		if (!sent_after(r->xmit_ns, r->end_seq, s->xmit_ns, s->seq + s->len))
			continue;
		uint64_t due = s->xmit_ns + window;
		if (due <= now_ns) {
			tcp_sack_lost(sb, s);
			marked++;
		} else if (due - now_ns > *wait_ns) {
			*wait_ns = due - now_ns;        /* §6.2 step 5: the latest */
		}
	}
	return marked;
}

/* forget_probe: §7.1, on entering fast or RTO recovery: no probe is
 * outstanding any more, and none is due. */
static void forget_probe(struct tcp_rack *r)
{
	r->tlp_out = r->tlp_is_retrans = false;
	r->pto_due_ns = 0;
}

/* losses_found: n segments newly marked lost (or some left marked and
 * not resent when recovery ended): into recovery, the first resend. */
static void losses_found(struct tcp_conn *c, unsigned n)
{
	if (n)
		TCP_COUNT_N(rack_lost, n);
	else if (c->in_recovery || !c->sb.lost || !tcp_sack_next_lost(&c->sb))
		return;
	if (tcp_cc_loss(c)) {
		forget_probe(&c->rack);
		tcp_sack_fast_retransmit(c);
	}
}

bool tcp_rack_rto(struct tcp_conn *c, uint64_t now_ns)
{
	struct tcp_rack *r = &c->rack;
	struct tcp_sackboard *sb = &c->sb;
	forget_probe(r);
	r->reo_due_ns = 0;
	struct tcp_sent_seg *head = sb->n ? &sb->seg[sb->head] : NULL;
	if (!head || head->seq != c->snd_una) {
		tcp_sack_clear(sb);
		return false;
	}
	/* SND.UNA's segment SACKed and yet not acked: the receiver threw
	 * SACKed data away (RFC 2018 §8), so no SACK of it holds. */
	if (head->flags & TCP_SEG_SACKED)
		tcp_sack_clear(sb);
	/* The caller enters RTO recovery: the window is recovery's. */
	uint64_t window = ((uint64_t)r->rtt_us + reo_wnd_us(c, true)) * 1000;
	unsigned marked = 0;
	for (uint32_t i = 0; i < sb->n; i++) {
		struct tcp_sent_seg *s = &sb->seg[sb->head + i];
		if (s->flags & TCP_SEG_SACKED)
			continue;
		if (s == head || s->xmit_ns + window <= now_ns) {
			if ((s->flags & (TCP_SEG_LOST | TCP_SEG_RETRANS)) != TCP_SEG_LOST)
				marked++;
			tcp_sack_lost(sb, s);
		}
	}
	TCP_COUNT_N(rack_lost, marked);
	return true;
}

static void detect_and_arm(struct tcp_conn *c, uint64_t now_ns)
{
	uint64_t wait;
	unsigned n = tcp_rack_detect_loss(c, now_ns, &wait);
	c->rack.reo_due_ns = wait ? now_ns + wait : 0;
	if (wait)
		tcp_rack_timer_arm(c, c->rack.reo_due_ns);
	losses_found(c, n);
}

/* dsack: whether the ACK reports a duplicate (RFC 2883 §4: a first block
 * at or below the cumulative ACK, or within the second block). */
static bool dsack(const struct tcp_seg *s)
{
	const struct tcp_opts *o = &s->opts;
	if (!o->nsack)
		return false;
	if (seq_leq(o->sack[0].right, s->ack))
		return true;
	return o->nsack >= 2 && seq_geq(o->sack[0].left, o->sack[1].left) &&
	       seq_leq(o->sack[0].right, o->sack[1].right);
}

/* adapt_reo_wnd: §6.2 step 4. A D-SACK says a resend was not needed, the
 * original only late: the window widens, once a round trip, and is kept
 * for REO_WND_PERSIST recoveries after the last D-SACK. */
static void adapt_reo_wnd(struct tcp_conn *c, const struct tcp_seg *s, bool recovery_ended)
{
	struct tcp_rack *r = &c->rack;
	if (r->dsack_round_open && seq_geq(c->snd_una, r->dsack_round))
		r->dsack_round_open = false;
	if (!r->dsack_round_open && dsack(s)) {
		r->dsack_round_open = true;
		r->dsack_round = c->snd_max;
		if (r->reo_wnd_mult < UINT8_MAX)
			r->reo_wnd_mult++;
		r->reo_wnd_persist = REO_WND_PERSIST;
	} else if (recovery_ended && r->reo_wnd_persist && --r->reo_wnd_persist == 0) {
		r->reo_wnd_mult = 1;
	}
}

void tcp_rack_ack(struct tcp_conn *c, const struct tcp_seg *s, bool recovery_ended,
                  uint64_t now_ns)
{
	struct tcp_rack *r = &c->rack;
	adapt_reo_wnd(c, s, recovery_ended);
	/* §7.4.2: the probe answered. A resend that was not reported as a
	 * duplicate repaired a loss, which congestion control hears of. */
	if (r->tlp_out && seq_geq(s->ack, r->tlp_end_seq)) {
		r->tlp_out = false;
		if (r->tlp_is_retrans && !dsack(s))
			tcp_cc_tlp_repaired(c);
	}
	if (c->snd_una == c->snd_max) {
		r->reo_due_ns = r->pto_due_ns = 0;
		return;
	}
	detect_and_arm(c, now_ns);
	tcp_tlp_schedule(c, now_ns);
}

static bool sending_state(const struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_ESTABLISHED: case TCP_CLOSE_WAIT: case TCP_FIN_WAIT_1:
	case TCP_CLOSING: case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

void tcp_tlp_schedule(struct tcp_conn *c, uint64_t now_ns)
{
	struct tcp_rack *r = &c->rack;
	r->pto_due_ns = 0;
	/* §7.2: not in recovery, SACK agreed, no probe unanswered; and
	 * something in flight that an RTO would otherwise resend. */
	if (!c->sack_ok || c->in_recovery || r->tlp_out || c->persisting ||
	    c->snd_una == c->snd_max || !sending_state(c) || !c->sb.n)
		return;
	uint64_t pto_us = 1000000;
	if (c->rtt.measured) {
		pto_us = 2ull * c->rtt.srtt_us;
		if (c->snd_max - c->snd_una <= c->mss)
			pto_us += TCP_TLP_WCDELACK_US;  /* one segment: its ACK may be delayed */
		if (pto_us < TLP_MIN_PTO_US)
			pto_us = TLP_MIN_PTO_US;
	}
	uint64_t due = now_ns + pto_us * 1000;
	if (c->rtx_due_ns && due > c->rtx_due_ns)
		due = c->rtx_due_ns;    /* never after the RTO */
	r->pto_due_ns = due;
	tcp_rack_timer_arm(c, due);
}

bool tcp_tlp_due(const struct tcp_conn *c, uint64_t now_ns)
{
	return c->rack.pto_due_ns && c->rack.pto_due_ns <= now_ns;
}

/* send_probe: §7.3. */
static void send_probe(struct tcp_conn *c)
{
	struct tcp_rack *r = &c->rack;
	bool resent;
	if (c->in_recovery || c->snd_una == c->snd_max || !sending_state(c))
		return;
	if (tcp_tlp_send_probe(c, &resent)) {
		TCP_COUNT(tlp_probes);
		r->tlp_out = true;
		r->tlp_is_retrans = resent;
		r->tlp_end_seq = c->snd_max;
	}
	/* The RTO, not another probe, guards what is in flight now. */
	tcp_rtx_arm(c);
}

void tcp_rack_timeout(struct tcp_conn *c, uint64_t now_ns)
{
	struct tcp_rack *r = &c->rack;
	if (r->reo_due_ns && r->reo_due_ns <= now_ns) {
		r->reo_due_ns = 0;
		detect_and_arm(c, now_ns);
		tcp_output(c);
	}
	if (tcp_tlp_due(c, now_ns)) {
		r->pto_due_ns = 0;
		send_probe(c);
	}
	if (r->pto_due_ns)
		tcp_rack_timer_arm(c, r->pto_due_ns);
}
