/*
 * tcp_cc.c: congestion control: slow start (RFC 5681 §3.1, with
 * appropriate byte counting, RFC 3465, L = 2 SMSS) from an initial window
 * of 10 segments (RFC 6928); above ssthresh CUBIC's growth and cut
 * (tcp_cubic.c, RFC 9438), or Reno's (RFC 5681) with TCP_CC_CUBIC off;
 * fast retransmit and recovery: NewReno with partial ACKs (RFC 6582), or
 * SACK-based (RFC 6675, tcp_sack.c) when the peer offers SACK, with
 * RACK-TLP (RFC 8985, tcp_rack.c) deciding what is lost.
 */
#include <string.h>

#include "tcp_impl.h"

void tcp_cc_init(struct tcp_conn *c)
{
	/* RFC 6928 §2: min(10*MSS, max(2*MSS, 14600)). */
	uint32_t iw = 2 * c->mss > 14600 ? 2 * c->mss : 14600;
	c->cwnd = 10 * c->mss < iw ? 10 * c->mss : iw;
	c->ssthresh = UINT32_MAX;       /* RFC 5681 §3.1: arbitrarily high */
	c->dupacks = 0;
	c->in_recovery = false;
	c->recover = c->iss;
	tcp_sack_clear(&c->sb);
	memset(&c->rack, 0, sizeof(c->rack));
	c->rack.fack = c->snd_una;
	c->rack.reo_wnd_mult = 1;
}

/* reduced_ssthresh: the ssthresh after a congestion signal. */
static uint32_t reduced_ssthresh(struct tcp_conn *c)
{
	if (TCP_CC_CUBIC)
		return tcp_cubic_reduce(c);
	/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
	uint32_t h = tcp_flight(c) / 2;
	return h > 2u * c->mss ? h : 2u * c->mss;
}

void tcp_cc_ack(struct tcp_conn *c, uint32_t acked)
{
	c->dupacks = 0;
	if (c->cwnd < c->ssthresh) {
		uint32_t inc = acked < 2u * c->mss ? acked : 2u * c->mss;
		c->cwnd += inc;
	} else if (TCP_CC_CUBIC) {
		tcp_cubic_ack(c, acked);
	} else {
		/* About one MSS per RTT (RFC 5681 (3)). */
		uint32_t inc = (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd);
		c->cwnd += inc ? inc : 1;
	}
	if (c->cwnd > 1u << 30)
		c->cwnd = 1u << 30;
}

static void enter_recovery(struct tcp_conn *c)
{
	c->ssthresh = reduced_ssthresh(c);
	c->recover = c->snd_max;
	c->in_recovery = true;
	if (c->sack_ok) {
		/* RFC 6675 §5 step 4: cwnd = ssthresh; the scoreboard, not
		 * inflation, decides what may go. */
		c->cwnd = c->ssthresh;
	} else {
		c->cwnd = c->ssthresh + 3u * c->mss;    /* RFC 6582 §3.2 step 2 */
	}
}

bool tcp_cc_dupack(struct tcp_conn *c)
{
	if (c->in_recovery) {
		if (!c->sack_ok)
			c->cwnd += c->mss;      /* RFC 6582 §3.2 step 3: inflate */
		return false;
	}
	/* With SACK, RACK decides what is lost (tcp_rack.c); the count
	 * serves limited transmit only. */
	if (++c->dupacks != 3 || c->sack_ok)
		return false;
	/* RFC 6582 §3.2 step 2: only if the ACK covers more than recover,
	 * so one loss event does not cut the window twice. */
	if (!seq_gt(c->snd_una - 1, c->recover) && c->recover != c->iss)
		return false;
	enter_recovery(c);
	return true;
}

bool tcp_cc_loss(struct tcp_conn *c)
{
	if (c->in_recovery)
		return false;
	/* RFC 6582's rule, one cut per window: a loss among what was sent
	 * before the last cut (or RTO) is repaired without another. */
	if (seq_gt(c->snd_una, c->recover) || c->recover == c->iss)
		enter_recovery(c);
	else
		c->in_recovery = true;
	return true;
}

void tcp_cc_tlp_repaired(struct tcp_conn *c)
{
	if (c->in_recovery)
		return;
	c->ssthresh = reduced_ssthresh(c);
	c->cwnd = c->ssthresh;
}

bool tcp_cc_recovery_ack(struct tcp_conn *c, uint32_t ack, uint32_t acked)
{
	if (seq_geq(ack, c->recover)) {
		/* Full acknowledgment (step 5): deflate, leave recovery. With
		 * SACK cwnd was never inflated (ssthresh in fast recovery,
		 * slow start in RTO recovery): it stays. Deflating it to the
		 * flight would leave one segment when the ACK took all: a
		 * delayed ACK's wait, and an RTO if that one is lost. */
		uint32_t fl = tcp_flight(c) + c->mss;
		if (!c->sack_ok)
			c->cwnd = c->ssthresh < fl ? c->ssthresh : fl;
		c->in_recovery = false;
		c->dupacks = 0;
		return false;
	}
	if (c->sack_ok) {
		/* RFC 6675: the scoreboard finds what to resend. Recovery
		 * entered within an RTO's window (tcp_cc_loss) goes on in
		 * slow start, as after an RTO (RFC 8985 §6.3); in fast
		 * recovery cwnd is ssthresh already. */
		if (c->cwnd < c->ssthresh)
			c->cwnd += acked < 2u * c->mss ? acked : 2u * c->mss;
		return false;
	}
	/* Partial acknowledgment: deflate by what was acked, add back one
	 * MSS if that was at least one; the caller resends the next hole. */
	c->cwnd = c->cwnd > acked ? c->cwnd - acked : c->mss;
	if (acked >= c->mss)
		c->cwnd += c->mss;
	return true;
}

void tcp_cc_timeout(struct tcp_conn *c)
{
	/* RFC 5681 (4) and §3.1: one segment, slow start again; RFC 6582
	 * §3.2 step 4: recover = highest sent. */
	c->ssthresh = reduced_ssthresh(c);
	c->cwnd = c->mss;
	c->dupacks = 0;
	c->recover = c->snd_max;
	/* With SACK, RTO recovery (RFC 8985 §6.3): RACK marks what is lost
	 * and the scoreboard resends it as slow start lets it, until recover
	 * is acked; without, or when the board cannot say, go back N. */
	c->in_recovery = c->sack_ok && tcp_rack_rto(c, hal_clock_ns());
}
