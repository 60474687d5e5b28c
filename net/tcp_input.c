/*
 * tcp_input.c: segment arrival. tcp_input() checks the header on whatever
 * CPU received it and hands the segment to the CPU that owns (or will own)
 * its connection; there tcp_input_owned() finds the connection and
 * tcp_conn_input() runs RFC 9293 §3.10.7 "SEGMENT ARRIVES" in its order,
 * with RFC 5961's checks against blind attacks and RFC 7323's PAWS.
 * tcp_set_state() is the one place where a connection changes state.
 */
#include <errno.h>

#include "tcp_impl.h"

/* ---- The boundary: any CPU ---------------------------------------------- */

void tcp_input(struct netbuf *nb)
{
	/* RFC 9293 §3.1: at least the fixed header, a data offset of 5..15
	 * words inside the segment, no port 0, and a right checksum. */
	if (nb->len < TCP_HDR_MIN) {
		tcp_count(nb, TCP_BAD_HDR);
		netbuf_free(nb);
		return;
	}
	unsigned doff = (nb->data[TCP_OFF_DOFF] >> 4) * 4u;
	uint16_t sport = tcp_get16(nb->data + TCP_OFF_SPORT);
	uint16_t dport = tcp_get16(nb->data + TCP_OFF_DPORT);
	if (doff < TCP_HDR_MIN || doff > nb->len || sport == 0 || dport == 0) {
		tcp_count(nb, TCP_BAD_HDR);
		netbuf_free(nb);
		return;
	}
	if (!net_l4_checksum_ok(nb, IP_PROTO_TCP)) {
		tcp_count(nb, TCP_BAD_CSUM);
		netbuf_free(nb);
		return;
	}
	unsigned here = hal_cpu_id();
	int cpu = tcp_conn_lookup_cpu(nb->dst_ip, dport, nb->src_ip, sport);
	if (cpu < 0) {
		struct tcp_conn *l = tcp_listener_find(nb->dst_ip, dport);
		if (l) {
			struct tcp_seg s = { .src = nb->src_ip, .dst = nb->dst_ip,
			                     .sport = sport, .dport = dport };
			cpu = (int)tcp_listen_pick_cpu(l, &s, nb->netif && nb->netif->queues > 1);
			tcp_listener_put(l);
		} else {
			cpu = (int)here;
		}
	}
	if ((unsigned)cpu == here)
		tcp_input_owned(nb);
	else
		net_run_on((unsigned)cpu, nb, tcp_input_owned);
}

int tcp_seg_parse(struct netbuf *nb, struct tcp_seg *s)
{
	const uint8_t *th = nb->data;
	unsigned doff = (th[TCP_OFF_DOFF] >> 4) * 4u;
	if (doff < TCP_HDR_MIN || doff > nb->len)
		return -EINVAL;
	s->src = nb->src_ip;
	s->dst = nb->dst_ip;
	s->sport = tcp_get16(th + TCP_OFF_SPORT);
	s->dport = tcp_get16(th + TCP_OFF_DPORT);
	s->seq = tcp_get32(th + TCP_OFF_SEQ);
	s->ack = tcp_get32(th + TCP_OFF_ACK);
	s->flags = th[TCP_OFF_FLAGS] & 0x3f;
	s->wnd = tcp_get16(th + TCP_OFF_WND);
	bool syn = s->flags & TCP_SYN;
	if (tcp_options_parse(th + TCP_HDR_MIN, doff - TCP_HDR_MIN, syn, &s->opts) < 0)
		return -EINVAL;
	/* Flag combinations no TCP sends. */
	if ((s->flags & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST) ||
	    (s->flags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN))
		return -EINVAL;
	netbuf_pull(nb, doff);
	s->len = nb->len;
	s->seg_size = nb->gso_size;
	nb->gso_size = 0;               /* input's meaning ends here */
	s->nb = nb;
	return 0;
}

/* ---- State changes ------------------------------------------------------- */

void tcp_set_state(struct tcp_conn *c, enum tcp_state st)
{
	enum tcp_state old = c->state;
	c->state = st;
	switch (st) {
	case TCP_ESTABLISHED:
		if (c->parent)
			tcp_listen_established(c);
		c->last_rx_ns = hal_clock_ns();
		tcp_keep_arm(c);
		break;
	case TCP_FIN_WAIT_2:
		tcp_keep_arm(c);
		break;
	case TCP_TIME_WAIT:
		tcp_rtx_stop(c);
		tcp_delack_stop(c);
		tcp_keep_arm(c);
		/* Its 2 MSL are long: a server closing thousands of connections
		 * a second would otherwise hold each one's send ring (16 KiB at
		 * least) for a minute, and run out of memory. */
		tcp_sbuf_release(c);
		tcp_sack_free(&c->sb);
		break;
	case TCP_CLOSED:
		tcp_timers_cancel(c);
		tcp_conn_hash_remove(c);
		if (c->parent)
			tcp_listen_detach(c);
		break;
	default:
		break;
	}
	if (old != st)
		waitq_wake_all(&c->wait);
}

void tcp_drop(struct tcp_conn *c, int err)
{
	if (err)
		c->error = err;
	tcp_set_state(c, TCP_CLOSED);
}

/* ---- No connection, and SYN-SENT --------------------------------------- */

/* time_wait_reuse: RFC 9293 §3.10.7.4 note and RFC 6191: a new SYN for a
 * connection in TIME-WAIT whose listener is still there may start a new
 * incarnation when its ISN (or timestamp) is above the old one. */
static bool time_wait_reuse(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (s->flags != TCP_SYN)
		return false;
	if (c->ts_ok && s->opts.has_ts)
		return seq_gt(s->opts.tsval, c->ts_recent);
	return seq_gt(s->seq, c->rcv_nxt);
}

void tcp_input_owned(struct netbuf *nb)
{
	int owner;
	struct tcp_conn *c = tcp_conn_lookup_here(nb->dst_ip, tcp_get16(nb->data + TCP_OFF_DPORT),
	                                          nb->src_ip, tcp_get16(nb->data + TCP_OFF_SPORT),
	                                          &owner);
	if (!c && owner >= 0) {
		/* Handed here before its listener gave the connection to an
		 * accepting CPU (tcp_listen.c): follow it. */
		net_run_on((unsigned)owner, nb, tcp_input_owned);
		return;
	}
	struct tcp_seg s;
	if (tcp_seg_parse(nb, &s) < 0) {
		tcp_count(nb, TCP_BAD_HDR);
		netbuf_free(nb);
		return;
	}
	if (c && c->state == TCP_TIME_WAIT && time_wait_reuse(c, &s)) {
		struct tcp_conn *l = tcp_listener_find(s.dst, s.dport);
		if (l) {
			tcp_set_state(c, TCP_CLOSED);
			tcp_conn_maybe_free(c);
			tcp_listen_input(l, &s);
			tcp_listener_put(l);
			return;
		}
	}
	if (c) {
		tcp_conn_input(c, &s);
		return;
	}
	struct tcp_conn *l = tcp_listener_find(s.dst, s.dport);
	if (l) {
		tcp_listen_input(l, &s);
		tcp_listener_put(l);
		return;
	}
	/* §3.10.7.1 CLOSED: answer anything but a RST with a RST. */
	tcp_count(nb, TCP_NO_SOCKET);
	tcp_send_reset_for(&s);
	netbuf_free(nb);
}

/* take_syn_options: what the peer's SYN (or SYN-ACK) negotiates. */
static void take_syn_options(struct tcp_conn *c, const struct tcp_seg *s)
{
	uint16_t mss = s->opts.has_mss ? s->opts.mss : TCP_DEFAULT_MSS;
	if (mss < 64)
		mss = 64;       /* nonsense MSS: the smallest we will use */
	if (mss > c->adv_mss)
		mss = c->adv_mss;
	c->mss = mss;
	/* RFC 7323 §2.2: scaling only if both sides sent the option. */
	if (s->opts.has_ws && (c->state == TCP_LISTEN || c->state == TCP_SYN_RECEIVED || c->ws_ok ||
	                       c->state == TCP_SYN_SENT)) {
		c->ws_ok = true;
		c->snd_wscale = s->opts.wscale;
	} else {
		c->ws_ok = false;
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	c->sack_ok = s->opts.sack_permitted;    /* RFC 2018 §2 */
	c->ts_ok = s->opts.has_ts;
	if (c->ts_ok) {
		c->ts_recent = s->opts.tsval;
		c->ts_recent_ns = hal_clock_ns();
		/* RFC 9293 §3.7.1: the MSS leaves out options; ours ride in
		 * every segment, so take them off the payload. */
		c->mss -= TCP_TS_OPT_LEN;
	}
}

static void syn_sent_input(struct tcp_conn *c, struct tcp_seg *s)
{
	bool ack_ok = false;
	if (s->flags & TCP_ACK) {
		/* §3.10.7.3 first: an ACK outside ISS < ACK <= SND.NXT. */
		if (seq_leq(s->ack, c->iss) || seq_gt(s->ack, c->snd_max)) {
			if (!(s->flags & TCP_RST))
				tcp_send_reset_for(s);
			return;
		}
		ack_ok = true;
	}
	if (s->flags & TCP_RST) {
		/* Second: a RST counts only with an acceptable ACK (RFC 5961
		 * §3.2 keeps that for SYN-SENT). */
		if (ack_ok)
			tcp_drop(c, -ECONNREFUSED);
		return;
	}
	if (!(s->flags & TCP_SYN))
		return;
	/* Fourth: the SYN. */
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	take_syn_options(c, s);
	tcp_cc_init(c);
	if (ack_ok) {
		c->snd_una = s->ack;
		c->snd_wnd = s->wnd;            /* never scaled on a SYN */
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (c->rtt_timing && c->backoff == 0)
			tcp_rtt_sample(&c->rtt, (uint32_t)((hal_clock_ns() - c->rtt_start_ns) / 1000));
		c->rtt_timing = false;
		c->backoff = 0;
		c->retries = 0;
		tcp_rtx_stop(c);
		tcp_set_state(c, TCP_ESTABLISHED);
		c->ack_now = true;
		tcp_output(c);
		return;
	}
	/* Simultaneous open (§3.5 figure 8): SYN-RECEIVED, SYN-ACK out. */
	tcp_set_state(c, TCP_SYN_RECEIVED);
	tcp_send_syn(c);
}

/* ---- Synchronized states ----------------------------------------------- */

/* dsack_old_data: s's data below RCV.NXT came twice: reported in the
 * ACK it gets (RFC 2883 D-SACK, tcp_rcv_dsack). */
static void dsack_old_data(struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t left = s->seq + !!(s->flags & TCP_SYN);
	if (s->len && seq_lt(left, c->rcv_nxt))
		tcp_rcv_dsack(c, left, seq_min(left + s->len, c->rcv_nxt));
}

/* seq_acceptable: §3.10.7.4 first check, the four cases. */
static bool seq_acceptable(const struct tcp_conn *c, const struct tcp_seg *s, uint32_t wnd)
{
	uint32_t space = tcp_seg_space(s);
	if (space == 0) {
		if (wnd == 0)
			return s->seq == c->rcv_nxt;
		return seq_in(s->seq, c->rcv_nxt, c->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return seq_in(s->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
	       seq_in(s->seq + space - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

/* rst_input: §3.10.7.4 second check, with RFC 5961 §3.2. */
static void rst_input(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (s->seq != c->rcv_nxt) {
		tcp_send_challenge_ack(c);      /* in window but not exact */
		return;
	}
	switch (c->state) {
	case TCP_SYN_RECEIVED:
		/* Passive open: the embryo just goes (back to LISTEN for the
		 * listener); active (simultaneous) open: refused. */
		tcp_drop(c, c->parent ? 0 : -ECONNREFUSED);
		break;
	case TCP_ESTABLISHED: case TCP_FIN_WAIT_1: case TCP_FIN_WAIT_2: case TCP_CLOSE_WAIT:
		tcp_rcv_purge(c);
		tcp_drop(c, -ECONNRESET);
		break;
	default:        /* CLOSING, LAST-ACK, TIME-WAIT */
		tcp_drop(c, 0);
		break;
	}
}

/* ack_input: §3.10.7.4 fifth check on a synchronized connection; false
 * when the segment is to be dropped. */
static bool ack_input(struct tcp_conn *c, struct tcp_seg *s)
{
	uint32_t ack = s->ack;
	if (c->state == TCP_SYN_RECEIVED) {
		if (!seq_gt(ack, c->snd_una) || seq_gt(ack, c->snd_max)) {
			tcp_send_reset_for(s);
			return false;
		}
		c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = ack;
		tcp_set_state(c, TCP_ESTABLISHED);
		if (c->state != TCP_ESTABLISHED)
			return false;   /* the listener went away meanwhile */
	}
	/* RFC 5961 §5.2: acceptable is SND.UNA - MAX.SND.WND <= ACK <=
	 * SND.NXT; else a challenge ACK and drop. */
	if (seq_gt(ack, c->snd_max) || seq_lt(ack, c->snd_una - c->max_snd_wnd - 1)) {
		tcp_send_challenge_ack(c);
		return false;
	}
	uint32_t wnd = (uint32_t)s->wnd << c->snd_wscale;
	if (seq_gt(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;
		if (seq_gt(ack, c->sbuf_seq))
			tcp_sbuf_drop(c, ack - c->sbuf_seq);
		c->snd_una = ack;
		if (seq_lt(c->snd_nxt, ack))
			c->snd_nxt = ack;
		if (c->sack_ok)
			tcp_sack_update(&c->sb, &c->rack, c->snd_una, c->snd_max, &s->opts,
			                hal_clock_ns());
		if (c->rtt_timing && seq_geq(ack, c->rtt_seq)) {
			tcp_rtt_sample(&c->rtt, (uint32_t)((hal_clock_ns() - c->rtt_start_ns) / 1000));
			c->rtt_timing = false;
		}
		c->backoff = 0;
		c->retries = 0;
		bool was_recovering = c->in_recovery;
		if (c->in_recovery) {
			if (tcp_cc_recovery_ack(c, ack, acked)) {
				tcp_retransmit_first(c);
				tcp_rtx_arm(c);
			}
		} else {
			tcp_cc_ack(c, acked);
		}
		/* RFC 6298 §5.2-5.3. */
		if (c->snd_una == c->snd_max)
			tcp_rtx_stop(c);
		else
			tcp_rtx_arm(c);
		if (c->sack_ok)
			tcp_rack_ack(c, s, was_recovering && !c->in_recovery, hal_clock_ns());
		waitq_wake_all(&c->wait);       /* room in the send buffer */
	} else if (ack == c->snd_una && c->snd_una != c->snd_max) {
		/* RFC 5681 §2 duplicate ACK: no data, no window change; or,
		 * with SACK, one that SACKs more (RFC 6675 §2 note: data
		 * riding on it does not matter then). */
		bool more_sacked = c->sack_ok && s->opts.nsack &&
		                   tcp_sack_update(&c->sb, &c->rack, c->snd_una, c->snd_max,
		                                   &s->opts, hal_clock_ns());
		bool plain_dup = s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN)) && wnd == c->snd_wnd;
		/* Without SACK the third starts fast retransmit; with it,
		 * RACK finds the losses. */
		if ((more_sacked || plain_dup) && tcp_cc_dupack(c))
			tcp_retransmit_first(c);
		if (c->sack_ok)
			tcp_rack_ack(c, s, false, hal_clock_ns());
	}
	c->retries = 0;
	/* Window update (§3.10.7.4, SND.WL1/WL2). */
	if (seq_lt(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && seq_leq(c->snd_wl2, ack))) {
		bool opened = c->snd_wnd == 0 && wnd > 0;
		c->snd_wnd = wnd;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = ack;
		if (opened && c->persisting) {
			c->persisting = false;
			c->backoff = 0;
			tcp_rtx_stop(c);
			if (c->snd_una != c->snd_max)
				tcp_rtx_arm(c);
		}
	}
	bool fin_acked = c->fin_sent && seq_gt(ack, c->fin_seq);
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		if (fin_acked)
			tcp_set_state(c, TCP_FIN_WAIT_2);
		break;
	case TCP_CLOSING:
		if (fin_acked)
			tcp_set_state(c, TCP_TIME_WAIT);
		break;
	case TCP_LAST_ACK:
		if (fin_acked) {
			tcp_set_state(c, TCP_CLOSED);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* segments_in: how many of the sender's segments got new bytes make: one
 * for an ordinary segment, its share of the sender's MSS for a frame of
 * many segments (HAL_NET_RX_GSO). */
static unsigned segments_in(const struct tcp_seg *s, uint32_t got)
{
	if (!got)
		return 0;
	if (!s->seg_size || got <= s->seg_size)
		return 1;
	return (unsigned)((got + s->seg_size - 1) / s->seg_size);
}

/* text_input: §3.10.7.4 seventh and eighth: data and FIN. */
static void text_input(struct tcp_conn *c, struct tcp_seg *s)
{
	bool has_text = s->len > 0 || (s->flags & TCP_FIN);
	if (!has_text)
		return;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2)
		return;         /* the peer's FIN came before: ignore */
	if (s->len > 0 && !c->user_ref && !c->parent) {
		/* Data for a connection its user closed: nobody will read
		 * it, so reset (RFC 9293 §3.6 / RFC 2525 §2.17). */
		tcp_send_rst(c);
		tcp_drop(c, 0);
		return;
	}
	uint32_t seq_before = c->rcv_nxt;
	bool fin = false;
	bool in_order = tcp_rcv_data(c, s, &fin);
	if (c->rd_shut && c->rcvq_bytes) {
		tcp_rcv_purge(c);       /* shutdown(0): read and thrown away */
		c->rcvq_bytes = 0;
	}
	if (!in_order) {
		c->ack_now = true;      /* RFC 5681 §4.2: out of order, at once */
	} else {
		uint32_t got = c->rcv_nxt - seq_before;
		c->unacked_segs += segments_in(s, got);
		/* §3.8.6.3: at least every second full segment (a frame of
		 * many segments is acked at once, as they would be); filling
		 * a gap is acked at once (RFC 5681 §4.2). */
		if (c->unacked_segs >= 2 || !list_empty(&c->oooq) || got > s->len)
			c->ack_now = true;
		else
			tcp_delack_arm(c);
		if (got)
			waitq_wake_all(&c->wait);
	}
	if (!fin)
		return;
	/* Eighth: the FIN, now in order. */
	c->rcv_nxt++;
	c->fin_rcvd = true;
	c->ack_now = true;
	switch (c->state) {
	case TCP_ESTABLISHED:
		tcp_set_state(c, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		if (c->fin_sent && seq_gt(c->snd_una, c->fin_seq))
			tcp_set_state(c, TCP_TIME_WAIT);
		else
			tcp_set_state(c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_set_state(c, TCP_TIME_WAIT);
		break;
	default:
		break;
	}
	waitq_wake_all(&c->wait);
}

void tcp_conn_input(struct tcp_conn *c, struct tcp_seg *s)
{
	c->last_rx_ns = hal_clock_ns();
	c->dsack_due = false;   /* an arrival's D-SACK goes in its own ACK or none */
	if (c->state == TCP_SYN_SENT) {
		syn_sent_input(c, s);
		goto done;
	}
	if (c->state == TCP_CLOSED || c->state == TCP_LISTEN) {
		tcp_send_reset_for(s);
		goto done;
	}
	/* RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent (and that not
	 * older than 24 days) marks an old duplicate: ACK it, drop it. */
	if (c->ts_ok && s->opts.has_ts && !(s->flags & TCP_RST) &&
	    seq_lt(s->opts.tsval, c->ts_recent) &&
	    hal_clock_ns() - c->ts_recent_ns < 24ull * 86400 * 1000000000ull) {
		dsack_old_data(c, s);
		tcp_send_ack(c);
		goto done;
	}
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* First: sequence number. */
	if (!seq_acceptable(c, s, wnd)) {
		if (s->flags & TCP_RST)
			goto done;
		if (c->state == TCP_SYN_RECEIVED && s->flags == TCP_SYN && s->seq == c->irs) {
			tcp_send_syn(c);        /* the peer's SYN again: our SYN-ACK was lost */
			goto done;
		}
		/* A zero window still takes ACKs at RCV.NXT: fall through
		 * with the text dropped; else ACK and drop. */
		if (!(wnd == 0 && s->seq == c->rcv_nxt)) {
			dsack_old_data(c, s);
			tcp_send_ack(c);
			if (c->state == TCP_TIME_WAIT && (s->flags & TCP_FIN))
				tcp_keep_arm(c);        /* FIN again: restart 2 MSL */
			goto done;
		}
		s->len = 0;
		s->flags &= (uint8_t)~TCP_FIN;
		c->ack_now = true;      /* a window probe: answer with our window */
	}
	/* Second: RST (RFC 5961 §3.2). */
	if (s->flags & TCP_RST) {
		rst_input(c, s);
		goto done;
	}
	/* RFC 7323 §4.3: TS.Recent from a segment at or before the left
	 * edge of what we acknowledged. */
	if (c->ts_ok && s->opts.has_ts && seq_leq(s->seq, c->rcv_nxt) &&
	    seq_geq(s->opts.tsval, c->ts_recent)) {
		c->ts_recent = s->opts.tsval;
		c->ts_recent_ns = hal_clock_ns();
	}
	/* Trim what came before RCV.NXT and what lies past the window. */
	if (seq_lt(s->seq, c->rcv_nxt)) {
		dsack_old_data(c, s);
		uint32_t dup = c->rcv_nxt - s->seq;
		if (s->flags & TCP_SYN) {
			s->flags &= (uint8_t)~TCP_SYN;
			s->seq++;
			dup--;
		}
		if (dup > s->len) {
			dup = s->len;
			s->flags &= (uint8_t)~TCP_FIN;  /* an old FIN */
		}
		netbuf_pull(s->nb, dup);
		s->seq += dup;
		s->len -= dup;
		if (dup)
			c->ack_now = true;      /* a resend: our ACK was lost */
	}
	if (seq_gt(s->seq + s->len, c->rcv_nxt + wnd)) {
		s->len = c->rcv_nxt + wnd - s->seq;
		s->flags &= (uint8_t)~TCP_FIN;
	}
	/* Fourth: SYN in a synchronized state (RFC 5961 §4.2). */
	if (s->flags & TCP_SYN) {
		tcp_send_challenge_ack(c);
		goto done;
	}
	/* Fifth: ACK. */
	if (!(s->flags & TCP_ACK))
		goto done;
	if (!ack_input(c, s))
		goto done;
	if (c->state == TCP_TIME_WAIT) {
		if (s->flags & TCP_FIN) {
			c->ack_now = true;
			tcp_keep_arm(c);
		}
	} else {
		/* Sixth (URG) is not offered; seventh and eighth. */
		text_input(c, s);
	}
	if (c->state != TCP_CLOSED)
		tcp_output(c);
done:
	netbuf_free(s->nb);
	s->nb = NULL;
	if (c->state == TCP_CLOSED)
		tcp_conn_maybe_free(c);
	else if ((c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT) && c->keepidle_s &&
	         (c->keep_probes || !net_timer_armed(&c->keep_timer))) {
		c->keep_probes = 0;     /* the peer is there: idle time again */
		tcp_keep_arm(c);
	}
}
