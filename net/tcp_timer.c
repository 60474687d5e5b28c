/*
 * tcp_timer.c: the three timers of a connection, all run by its owner
 * CPU's network thread:
 *   rtx_timer     retransmission (RFC 6298 §5, with backoff) of the SYN,
 *                 data or FIN at snd_una; or, while the peer's window is
 *                 zero, the persist timer sending window probes (§3.8.6.1)
 *   delack_timer  the delayed ACK (RFC 9293 §3.8.6.3: at most 40 ms here)
 *   keep_timer    by state: keep-alive probes (§3.8.4), the FIN-WAIT-2
 *                 limit after close, TIME-WAIT's 2 MSL
 *   rack_timer    RACK-TLP's (tcp_rack.c): the end of a reordering window,
 *                 the tail loss probe; lazy as rtx_timer, due at the
 *                 earlier of rack.reo_due_ns and rack.pto_due_ns
 */
#include <errno.h>

#include "tcp_impl.h"

static void rtx_fire(struct net_timer *t);
static void delack_fire(struct net_timer *t);
static void keep_fire(struct net_timer *t);
static void rack_fire(struct net_timer *t);

void tcp_timers_init(struct tcp_conn *c)
{
	net_timer_init(&c->rtx_timer, rtx_fire);
	net_timer_init(&c->delack_timer, delack_fire);
	net_timer_init(&c->keep_timer, keep_fire);
	net_timer_init(&c->rack_timer, rack_fire);
}

void tcp_timers_cancel(struct tcp_conn *c)
{
	c->rtx_due_ns = c->delack_due_ns = 0;
	net_timer_cancel(&c->rtx_timer);
	net_timer_cancel(&c->delack_timer);
	net_timer_cancel(&c->keep_timer);
	c->rack.reo_due_ns = c->rack.pto_due_ns = 0;
	net_timer_cancel(&c->rack_timer);
}

/* lazy_arm: make t fire by due (see tcp_impl.h on lazy timers). */
static void lazy_arm(struct net_timer *t, uint64_t due)
{
	if (!net_timer_armed(t) || t->deadline_ns > due)
		net_timer_arm(t, due);
}

void tcp_timers_hand_over(struct tcp_conn *c)
{
	/* An ACK owed goes now rather than wait for the new owner's timer:
	 * input there arms the delayed ACK only when none is owed. */
	if (c->delack_due_ns)
		tcp_send_ack(c);
	c->delack_due_ns = 0;
	net_timer_cancel(&c->rtx_timer);
	net_timer_cancel(&c->delack_timer);
	net_timer_cancel(&c->keep_timer);
	net_timer_cancel(&c->rack_timer);
}

/* rack_due: when RACK-TLP next needs the connection (0: never), the
 * earlier of the reordering window's end and the probe's time. */
static uint64_t rack_due(const struct tcp_conn *c)
{
	uint64_t reo = c->rack.reo_due_ns, pto = c->rack.pto_due_ns;
	return !reo ? pto : !pto ? reo : reo < pto ? reo : pto;
}

void tcp_timers_take_over(struct tcp_conn *c)
{
	if (rack_due(c))
		lazy_arm(&c->rack_timer, rack_due(c));
	if (c->rtx_due_ns)
		lazy_arm(&c->rtx_timer, c->rtx_due_ns);
	if (c->delack_due_ns)
		lazy_arm(&c->delack_timer, c->delack_due_ns);
	tcp_keep_arm(c);
}

/* lazy_due: on firing, whether the timer is really due; re-arms it for
 * later if not. */
static bool lazy_due(struct net_timer *t, uint64_t *due)
{
	if (*due == 0)
		return false;
	if (hal_clock_ns() < *due) {
		net_timer_arm(t, *due);
		return false;
	}
	*due = 0;
	return true;
}

void tcp_rtx_arm(struct tcp_conn *c)
{
	c->rtx_due_ns = hal_clock_ns() + 1000ull * tcp_rtt_rto(&c->rtt, c->backoff);
	lazy_arm(&c->rtx_timer, c->rtx_due_ns);
}

void tcp_rtx_stop(struct tcp_conn *c)
{
	c->rtx_due_ns = 0;
}

void tcp_delack_stop(struct tcp_conn *c)
{
	c->delack_due_ns = 0;
}

void tcp_rack_timer_arm(struct tcp_conn *c, uint64_t due_ns)
{
	lazy_arm(&c->rack_timer, due_ns);
}

void tcp_persist_arm(struct tcp_conn *c)
{
	c->persisting = true;
	tcp_rtx_arm(c);
}

void tcp_delack_arm(struct tcp_conn *c)
{
	if (c->delack_due_ns)
		return;         /* already owed: the first segment's 40 ms count */
	c->delack_due_ns = hal_clock_ns() + TCP_DELACK_NS;
	lazy_arm(&c->delack_timer, c->delack_due_ns);
}

void tcp_keep_arm(struct tcp_conn *c)
{
	uint64_t now = hal_clock_ns();
	switch (c->state) {
	case TCP_TIME_WAIT:
		net_timer_arm(&c->keep_timer, now + 2 * TCP_MSL_NS);
		break;
	case TCP_FIN_WAIT_2:
		if (!c->user_ref)
			net_timer_arm(&c->keep_timer, now + TCP_FIN_WAIT_2_NS);
		break;
	case TCP_ESTABLISHED: case TCP_CLOSE_WAIT:
		if (c->keepidle_s)
			net_timer_arm(&c->keep_timer, c->last_rx_ns + c->keepidle_s * 1000000000ull);
		else
			net_timer_cancel(&c->keep_timer);
		break;
	default:
		net_timer_cancel(&c->keep_timer);
		break;
	}
}

static void rtx_fire(struct net_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, rtx_timer);
	if (!lazy_due(t, &c->rtx_due_ns))
		return;
	if (c->persisting || (c->snd_wnd == 0 && c->state >= TCP_ESTABLISHED &&
	                      c->sbuf_len > 0 && c->snd_una - c->sbuf_seq < c->sbuf_len)) {
		/* Persist: probe without end while the peer keeps its window
		 * shut and answers (its ACKs reset retries in input). */
		c->persisting = true;
		tcp_persist_probe(c);
		if (c->backoff < 16)
			c->backoff++;
		tcp_rtx_arm(c);
		return;
	}
	if (c->snd_una == c->snd_max)
		return;         /* everything acked meanwhile */
	if (tcp_tlp_due(c, hal_clock_ns())) {
		/* The loss probe was due as soon (its timeout is capped at
		 * the RTO's): it goes first, and re-arms this timer. */
		tcp_rack_timeout(c, hal_clock_ns());
		return;
	}
	unsigned limit = c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED ?
	                 TCP_SYN_RETRIES : TCP_DATA_RETRIES;
	if (++c->retries > limit) {
		if (c->state != TCP_SYN_SENT)
			tcp_send_rst(c);
		tcp_drop(c, -ETIMEDOUT);
		tcp_conn_maybe_free(c);
		return;
	}
	/* RFC 6298 §5.5-5.7: back off, resend the earliest unacked (and,
	 * with SACK, mark for resending what else RACK takes as lost). */
	TCP_COUNT(timeouts);
	if (c->backoff < 16)
		c->backoff++;
	c->rtt_timing = false;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
		tcp_send_syn(c);
	} else {
		tcp_cc_timeout(c);
		if (c->in_recovery) {
			/* RTO recovery: SND.UNA's segment, marked lost, goes
			 * now whatever the pipe; the rest as ACKs open cwnd. */
			tcp_sack_fast_retransmit(c);
		} else {
			c->snd_nxt = c->snd_una;        /* go back: resend from snd_una */
			tcp_output(c);
			if (c->snd_nxt == c->snd_una)   /* nothing could go (window) */
				tcp_retransmit_first(c);
		}
	}
	tcp_rtx_arm(c);
}

static void delack_fire(struct net_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, delack_timer);
	if (!lazy_due(t, &c->delack_due_ns))
		return;
	if (c->state >= TCP_SYN_RECEIVED && c->state != TCP_TIME_WAIT)
		tcp_send_ack(c);
}

static void keep_fire(struct net_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, keep_timer);
	uint64_t now = hal_clock_ns();
	switch (c->state) {
	case TCP_TIME_WAIT:
	case TCP_FIN_WAIT_2:
		tcp_set_state(c, TCP_CLOSED);
		tcp_conn_maybe_free(c);
		return;
	case TCP_ESTABLISHED: case TCP_CLOSE_WAIT:
		if (!c->keepidle_s)
			return;
		if (now - c->last_rx_ns < c->keepidle_s * 1000000000ull) {
			c->keep_probes = 0;
			tcp_keep_arm(c);
			return;
		}
		if (c->keep_probes >= TCP_KEEP_PROBES) {
			tcp_send_rst(c);
			tcp_drop(c, -ETIMEDOUT);
			tcp_conn_maybe_free(c);
			return;
		}
		c->keep_probes++;              /* §3.8.4 */
		tcp_send_keepalive(c);
		net_timer_arm(&c->keep_timer, now + TCP_KEEP_INTVL_NS);
		return;
	default:
		return;
	}
}

static void rack_fire(struct net_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, rack_timer);
	uint64_t due = rack_due(c);
	if (!due)
		return;
	uint64_t now = hal_clock_ns();
	if (now < due) {
		net_timer_arm(t, due);
		return;
	}
	tcp_rack_timeout(c, now);
}
