/*
 * tcp_output.c: building segments and sending them: new data as the
 * windows, Nagle (RFC 9293 §3.7.4) and the sender's silly-window avoidance
 * (§3.8.6.2.1) allow; retransmissions from the send buffer; ACKs, SYNs and
 * resets.
 *
 * The send buffer is a ring holding every byte from snd_una (sent or not):
 * a segment is copied out of it into a fresh netbuf each time it is sent,
 * the one copy on the way out; the checksum goes to the NIC through
 * net_l4_checksum when it offers that.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "tcp_impl.h"
#include "wire.h"

uint32_t tcp_ts_now(const struct tcp_conn *c)
{
	/* RFC 7323 §5.4: a 1 ms clock, offset per connection (§7.1). */
	return (uint32_t)(hal_clock_ns() / 1000000) + c->ts_offset;
}

/* Send buffer autotuning, as Linux's tcp_sndbuf_expand: a fast path the
 * windows open wide would idle on a ring smaller than what may be in
 * flight, so the ring may grow to twice the smaller of the congestion and
 * the peer's windows (between sndbuf and TCP_SNDBUF_AUTO_MAX). A slow
 * reader keeps its window, and so our ring, small. */
uint32_t tcp_sbuf_limit(const struct tcp_conn *c)
{
	if (!c->sndbuf_auto)
		return c->sndbuf;
	uint64_t wnd = c->cwnd < c->max_snd_wnd ? c->cwnd : c->max_snd_wnd;
	uint64_t want = 2 * wnd;
	if (want > TCP_SNDBUF_AUTO_MAX)
		want = TCP_SNDBUF_AUTO_MAX;
	return want > c->sndbuf ? (uint32_t)want : c->sndbuf;
}

uint32_t tcp_sbuf_space(const struct tcp_conn *c)
{
	uint32_t limit = tcp_sbuf_limit(c);
	if (!c->sbuf || c->sbuf_size < limit)
		return limit > c->sbuf_len ? limit - c->sbuf_len : 0;
	return c->sbuf_size - c->sbuf_len;
}

void tcp_sbuf_drop(struct tcp_conn *c, uint32_t n)
{
	if (n > c->sbuf_len)
		n = c->sbuf_len;
	if (!n)
		return;
	c->sbuf_head = (c->sbuf_head + n) % c->sbuf_size;
	c->sbuf_len -= n;
	c->sbuf_seq += n;
}

/* sbuf_copy_out: n bytes at offset off from the ring's start into dst. */
static void sbuf_copy_out(const struct tcp_conn *c, uint32_t off, uint32_t n, uint8_t *dst)
{
	uint32_t at = (c->sbuf_head + off) % c->sbuf_size;
	uint32_t first = c->sbuf_size - at < n ? c->sbuf_size - at : n;
	memcpy(dst, c->sbuf + at, first);
	memcpy(dst + first, c->sbuf, n - first);
}

int tcp_sbuf_reserve(struct tcp_conn *c)
{
	uint32_t limit = tcp_sbuf_limit(c);
	if (c->sbuf && (c->sbuf_len < c->sbuf_size || c->sbuf_size >= limit))
		return 0;
	/* Start small and double when full, up to the limit: a connection
	 * that sends a short answer never holds a large ring. */
	uint32_t size = c->sbuf ? 2 * c->sbuf_size : TCP_SBUF_INITIAL;
	if (size > limit)
		size = limit;
	uint8_t *ring = kmalloc(size);
	if (!ring)
		return c->sbuf ? 0 : -ENOMEM;  /* full stays full: the caller waits */
	if (c->sbuf) {
		sbuf_copy_out(c, 0, c->sbuf_len, ring);
		kfree(c->sbuf);
	}
	c->sbuf = ring;
	c->sbuf_size = size;
	c->sbuf_head = 0;
	return 0;
}

void tcp_sbuf_release(struct tcp_conn *c)
{
	if (!c->sbuf || c->sbuf_len || c->sending)
		return;
	kfree(c->sbuf);
	c->sbuf = NULL;
	c->sbuf_size = 0;
	c->sbuf_head = 0;
}

/* out_seg: build and send one segment of c: len bytes of the send buffer
 * from seq (0: none), flags, with the options that fit the state. */
/* tso_max: the most payload one segment may carry for the NIC to cut up
 * (whole MSS-sized pieces of a frame within HAL_NET_TSO_MAX); 0 when the
 * interface has no TCP segmentation offload. */
static uint32_t tso_max(const struct tcp_conn *c)
{
	const unsigned need = HAL_NET_TX_TSO | HAL_NET_TX_CSUM;
	if (!c->nif || (c->nif->offloads & need) != need || !c->mss)
		return 0;
	uint32_t room = HAL_NET_TSO_MAX - ETH_HLEN - IP_HLEN - TCP_HDR_MAX;
	return room - room % c->mss;
}

/* tso_defer: whether to hold back a TSO frame the windows allow only room
 * bytes of, when avail are waiting: each ACK opens a segment or two, and
 * sending at once would make that many small frames (a write each)
 * instead of one large one. Held only while enough is in flight that
 * ACKs keep coming soon (a receiver acks every second segment at once)
 * and less than a full TSO frame and a third of the smaller window (the
 * congestion window or the peer's) is open: the idea of Linux's
 * tcp_tso_should_defer. The next ACK runs tcp_output again. */
static bool tso_defer(const struct tcp_conn *c, uint32_t room, uint32_t avail, uint32_t flight,
                      uint32_t big)
{
	if (room >= avail || room >= big || flight < 2u * c->mss)
		return false;
	uint32_t wnd = c->cwnd < c->snd_wnd ? c->cwnd : c->snd_wnd;
	return room < wnd / 3;
}

static int out_seg(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	/* Longer than the MSS only from tcp_output, for a NIC with TSO. */
	bool tso = len > c->mss;
	struct netbuf *nb = tso ? netbuf_alloc_large(len) : netbuf_alloc();
	if (!nb)
		return -ENOBUFS;
	if (tso)
		nb->gso_size = (uint16_t)c->mss;
	if (len) {
		uint8_t *p = netbuf_put(nb, len);
		if (!p) {
			netbuf_free(nb);
			return -EMSGSIZE;
		}
		sbuf_copy_out(c, seq - c->sbuf_seq, len, p);
	}
	bool syn = flags & TCP_SYN;
	bool sack_left_out = false;
	struct tcp_opts o = { 0 };
	if (syn) {
		o.has_mss = true;
		o.mss = c->adv_mss;
		o.has_ws = c->ws_ok || c->state == TCP_SYN_SENT;
		o.wscale = c->rcv_wscale;
		o.has_ts = c->ts_ok || c->state == TCP_SYN_SENT;
		o.sack_permitted = c->sack_ok || c->state == TCP_SYN_SENT;
	} else {
		o.has_ts = c->ts_ok;
		/* SACK blocks (RFC 2018) while data waits out of order or a
		 * duplicate is to be reported (RFC 2883), as many as fit in
		 * the options and beside the payload. */
		if (c->sack_ok && (!list_empty(&c->oooq) || c->dsack_due)) {
			uint32_t room = c->mss > len ? c->mss - len : 0;
			unsigned max = room >= 4 + 8 ? (room - 4) / 8 : 0;
			unsigned fit = c->ts_ok ? 3 : 4;
			tcp_rcv_sack_blocks(c, &o, max < fit ? max : fit);
			sack_left_out = o.nsack == 0;
		}
	}
	if (o.has_ts) {
		o.tsval = tcp_ts_now(c);
		o.tsecr = (flags & TCP_ACK) ? c->ts_recent : 0;
	}
	size_t olen = tcp_options_size(&o, syn);
	uint8_t *th = netbuf_push(nb, TCP_HDR_MIN + olen);
	if (!th) {
		netbuf_free(nb);
		return -EMSGSIZE;
	}
	uint16_t wnd;
	if (syn) {
		/* RFC 7323 §2.2: the window of a SYN is never scaled. */
		uint32_t w = c->rcvbuf < 65535 ? c->rcvbuf : 65535;
		wnd = (uint16_t)w;
		c->rcv_adv = c->rcv_nxt + w;
	} else {
		wnd = (uint16_t)tcp_rcv_window(c);
		c->rcv_adv = c->rcv_nxt + ((uint32_t)wnd << c->rcv_wscale);
	}
	tcp_put16(th + TCP_OFF_SPORT, c->lport);
	tcp_put16(th + TCP_OFF_DPORT, c->rport);
	tcp_put32(th + TCP_OFF_SEQ, seq);
	tcp_put32(th + TCP_OFF_ACK, (flags & TCP_ACK) ? c->rcv_nxt : 0);
	th[TCP_OFF_DOFF] = (uint8_t)((TCP_HDR_MIN + olen) / 4) << 4;
	th[TCP_OFF_FLAGS] = flags;
	tcp_put16(th + TCP_OFF_WND, wnd);
	tcp_put16(th + TCP_OFF_CSUM, 0);
	tcp_put16(th + TCP_OFF_URP, 0);
	tcp_options_write(th + TCP_HDR_MIN, &o, syn);
	if ((flags & TCP_ACK) && !sack_left_out) {
		/* This segment acknowledges all we have: no ACK is owed. A
		 * full segment has no room for SACK blocks, though: without
		 * them, the ACK that out-of-order data is owed still goes
		 * (tcp_output), else the peer learns of no hole until its RTO
		 * whenever both ends are sending. */
		c->unacked_segs = 0;
		c->ack_now = false;
		tcp_delack_stop(c);
	}
	nb->netif = c->nif;
	net_l4_checksum(nb, c->nif, c->laddr, c->raddr, IP_PROTO_TCP, TCP_OFF_CSUM);
	return ipv4_output(nb, c->laddr, c->raddr, IP_PROTO_TCP);
}

void tcp_send_syn(struct tcp_conn *c)
{
	uint8_t flags = c->state == TCP_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;
	out_seg(c, c->iss, 0, flags);
	if (seq_lt(c->snd_nxt, c->iss + 1))
		c->snd_nxt = c->iss + 1;
	c->snd_max = seq_max(c->snd_max, c->snd_nxt);
	if (!tcp_rtx_pending(c))
		tcp_rtx_arm(c);
}

/* bare_seq: the sequence number of a segment without data, SYN or FIN:
 * SND.MAX, not SND.NXT. After an RTO, SND.NXT goes back to SND.UNA for
 * the resend; a peer that already holds everything up to SND.MAX finds a
 * segment numbered below its RCV.NXT unacceptable (RFC 9293 §3.10.7.4) and
 * drops it with its ACK field unread. When both ends had gone back (data
 * both ways, both ACK streams lost), each dropped the other's ACKs and
 * both stalled in RTO backoff until the retries ran out. */
static uint32_t bare_seq(const struct tcp_conn *c)
{
	return seq_max(c->snd_nxt, c->snd_max);
}

void tcp_send_ack(struct tcp_conn *c)
{
	out_seg(c, bare_seq(c), 0, TCP_ACK);
}

void tcp_send_keepalive(struct tcp_conn *c)
{
	/* RFC 9293 §3.8.4: SEG.SEQ = SND.NXT - 1 and no data, below what the
	 * peer expects, so that it answers with an ACK if it is there. */
	out_seg(c, c->snd_una - 1, 0, TCP_ACK);
}

void tcp_send_challenge_ack(struct tcp_conn *c)
{
	/* RFC 5961 §7: a bound on challenge ACKs; ours is per connection,
	 * 10 a second, so a blind attacker cannot use us as an amplifier. */
	uint64_t now = hal_clock_ns();
	if (now - c->last_challenge_ns > 1000000000ull) {
		c->last_challenge_ns = now;
		c->challenges = 0;
	}
	if (c->challenges++ < 10) {
		TCP_COUNT(challenge_acks);
		tcp_send_ack(c);
	}
}

void tcp_send_rst(struct tcp_conn *c)
{
	out_seg(c, bare_seq(c), 0, TCP_RST | TCP_ACK);
}

void tcp_send_raw(ip4_addr src, uint16_t sport, ip4_addr dst, uint16_t dport,
                  uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                  const struct tcp_opts *o)
{
	ip4_addr route_src;
	struct netif *nif = ipv4_route_from(src, dst, &route_src);
	if (!nif)
		return;
	struct netbuf *nb = netbuf_alloc();
	if (!nb)
		return;
	bool syn = flags & TCP_SYN;
	size_t olen = o ? tcp_options_size(o, syn) : 0;
	uint8_t *th = netbuf_push(nb, TCP_HDR_MIN + olen);
	tcp_put16(th + TCP_OFF_SPORT, sport);
	tcp_put16(th + TCP_OFF_DPORT, dport);
	tcp_put32(th + TCP_OFF_SEQ, seq);
	tcp_put32(th + TCP_OFF_ACK, ack);
	th[TCP_OFF_DOFF] = (uint8_t)((TCP_HDR_MIN + olen) / 4) << 4;
	th[TCP_OFF_FLAGS] = flags;
	tcp_put16(th + TCP_OFF_WND, wnd);
	tcp_put16(th + TCP_OFF_CSUM, 0);
	tcp_put16(th + TCP_OFF_URP, 0);
	if (o)
		tcp_options_write(th + TCP_HDR_MIN, o, syn);
	nb->netif = nif;
	net_l4_checksum(nb, nif, src, dst, IP_PROTO_TCP, TCP_OFF_CSUM);
	ipv4_output(nb, src, dst, IP_PROTO_TCP);
}

void tcp_send_reset_for(const struct tcp_seg *s)
{
	if (s->flags & TCP_RST)
		return;
	/* RFC 9293 §3.10.7.1: with ACK, <SEQ=SEG.ACK><CTL=RST>; without,
	 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	if (s->flags & TCP_ACK)
		tcp_send_raw(s->dst, s->dport, s->src, s->sport, s->ack, 0, TCP_RST, 0, NULL);
	else
		tcp_send_raw(s->dst, s->dport, s->src, s->sport, 0, s->seq + tcp_seg_space(s),
		             TCP_RST | TCP_ACK, 0, NULL);
}

/* fin_due: the FIN goes at seq (all data before it is in the buffer). */
static bool fin_due(const struct tcp_conn *c, uint32_t seq)
{
	return c->fin_queued && seq == c->sbuf_seq + c->sbuf_len;
}

static void send_data_seg(struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin)
{
	uint8_t flags = TCP_ACK | (fin ? TCP_FIN : 0);
	if (len && seq + len == c->sbuf_seq + c->sbuf_len)
		flags |= TCP_PSH;
	out_seg(c, seq, len, flags);
	if (c->sack_ok && len)
		tcp_sack_sent(&c->sb, seq, len, c->mss, hal_clock_ns());
	if (fin) {
		c->fin_sent = true;
		c->fin_seq = seq + len;
	}
}

void tcp_retransmit_first(struct tcp_conn *c)
{
	TCP_COUNT(retransmits);
	uint32_t off = c->snd_una - c->sbuf_seq;
	uint32_t len = c->sbuf_len > off ? c->sbuf_len - off : 0;
	if (len > c->mss)
		len = c->mss;
	bool fin = fin_due(c, c->snd_una + len) && c->fin_sent;
	if (!len && !fin)
		return;
	c->rtt_timing = false;          /* Karn: no sample across a resend */
	send_data_seg(c, c->snd_una, len, fin);
}

/* resend_lost: send s (a segment marked lost) again, at most an MSS of
 * it (the rest stays marked); false if only the FIN is left of it. */
static bool resend_lost(struct tcp_conn *c, const struct tcp_sent_seg *s)
{
	uint32_t seq = s->seq, len = s->len < c->mss ? s->len : c->mss;
	uint32_t off = seq - c->sbuf_seq;
	if (off >= c->sbuf_len)
		return false;
	if (len > c->sbuf_len - off)
		len = c->sbuf_len - off;
	TCP_COUNT(retransmits);
	c->rtt_timing = false;          /* Karn: no sample across a resend */
	send_data_seg(c, seq, len, false);
	return true;
}

/* sack_resend: during SACK recovery, resend what is marked lost while
 * the pipe leaves room in cwnd (RFC 6675 §5 step C, NextSeg rule 1);
 * true if any went. Each resend clears its mark, so the loop ends. */
static bool sack_resend(struct tcp_conn *c)
{
	bool sent = false;
	const struct tcp_sent_seg *s;
	while (tcp_sack_pipe(&c->sb, c->snd_una, c->snd_max) + c->mss <= c->cwnd &&
	       (s = tcp_sack_next_lost(&c->sb)) && resend_lost(c, s))
		sent = true;
	return sent;
}

void tcp_sack_fast_retransmit(struct tcp_conn *c)
{
	const struct tcp_sent_seg *s = tcp_sack_next_lost(&c->sb);
	if (!s || !resend_lost(c, s))
		tcp_retransmit_first(c);
}

bool tcp_tlp_send_probe(struct tcp_conn *c, bool *resent)
{
	/* New data if there is some and the peer's window takes it. */
	uint32_t off = c->snd_nxt - c->sbuf_seq;
	uint32_t avail = c->sbuf_len > off ? c->sbuf_len - off : 0;
	uint32_t flight = c->snd_nxt - c->snd_una;
	uint32_t usable = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
	uint32_t len = avail < c->mss ? avail : c->mss;
	if (len > usable)
		len = usable;
	if (len && c->snd_nxt == c->snd_max) {
		send_data_seg(c, c->snd_nxt, len, false);
		c->snd_nxt += len;
		c->snd_max = c->snd_nxt;
		*resent = false;
		return true;
	}
	/* Else the last segment sent, again. */
	if (!c->sb.n)
		return false;
	const struct tcp_sent_seg *last = &c->sb.seg[c->sb.head + c->sb.n - 1];
	*resent = true;
	return resend_lost(c, last);
}

void tcp_output(struct tcp_conn *c)
{
	bool sent = false;
	switch (c->state) {
	case TCP_ESTABLISHED: case TCP_CLOSE_WAIT: case TCP_FIN_WAIT_1:
	case TCP_CLOSING: case TCP_LAST_ACK:
		break;
	case TCP_SYN_RECEIVED: case TCP_FIN_WAIT_2: case TCP_TIME_WAIT:
		if (c->ack_now)
			tcp_send_ack(c);
		return;
	default:
		return;
	}
	if (c->in_recovery && c->sack_ok)
		sent = sack_resend(c);
	for (;;) {
		uint32_t off = c->snd_nxt - c->sbuf_seq;
		uint32_t avail = c->sbuf_len > off ? c->sbuf_len - off : 0;
		uint32_t flight = c->snd_nxt - c->snd_una;
		uint32_t usable = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
		/* The congestion window limits what is in the network: the
		 * flight, or during SACK recovery the pipe (RFC 6675 §5). */
		uint32_t in_net = c->in_recovery && c->sack_ok ?
		                  tcp_sack_pipe(&c->sb, c->snd_una, c->snd_max) : flight;
		/* RFC 3042 limited transmit: a new segment for each of the
		 * first two duplicate ACKs, so a small window still makes
		 * the three that trigger fast retransmit. */
		uint32_t cwnd = c->cwnd;
		if (!c->in_recovery && c->dupacks && c->dupacks < 3)
			cwnd += c->dupacks * c->mss;
		uint32_t cw_room = cwnd > in_net ? cwnd - in_net : 0;
		if (usable > cw_room)
			usable = cw_room;
		uint32_t len = avail < c->mss ? avail : c->mss;
		if (len > usable)
			len = usable;
		/* With TSO, many full segments go down as one (not while
		 * recovering: there each segment is counted on its own). */
		if (len == c->mss && !c->in_recovery) {
			uint32_t room = avail < usable ? avail : usable;
			uint32_t big = tso_max(c);
			if (big && tso_defer(c, room, avail, flight, big))
				break;
			if (big > room)
				big = room - room % c->mss;
			if (big > len)
				len = big;
		}
		bool fin = fin_due(c, c->snd_nxt + len) && (!c->fin_sent || c->snd_nxt + len == c->fin_seq);
		if (c->fin_sent && seq_gt(c->snd_nxt, c->fin_seq))
			fin = false;    /* the FIN is out and not being resent */
		if (!len && !fin)
			break;
		if (len && len < c->mss) {
			bool all = len == avail;
			/* §3.8.6.2.1: a partial segment only if it is all we
			 * have, or half the largest window the peer offered;
			 * otherwise wait for the window to open. */
			if (!all && len < c->max_snd_wnd / 2)
				break;
			/* Nagle (§3.7.4), and SOCKET_MORE holding it back. */
			if (all && !fin && (c->cork || (!c->nodelay && flight > 0)))
				break;
		}
		send_data_seg(c, c->snd_nxt, len, fin);
		c->snd_nxt += len + fin;
		if (seq_gt(c->snd_nxt, c->snd_max)) {
			if (!c->rtt_timing && c->backoff == 0) {
				c->rtt_timing = true;
				c->rtt_seq = c->snd_nxt;
				c->rtt_start_ns = hal_clock_ns();
			}
			c->snd_max = c->snd_nxt;
		}
		sent = true;
		if (!tcp_rtx_pending(c) || c->persisting) {
			c->persisting = false;
			tcp_rtx_arm(c);
		}
		if (fin)
			break;
	}
	if (sent)
		tcp_tlp_schedule(c, hal_clock_ns());
	if (c->ack_now)
		tcp_send_ack(c);        /* none went, or one without SACK blocks */
	/* Zero window with data waiting and nothing in flight to bring an
	 * ACK: probe it (RFC 9293 §3.8.6.1). */
	if (c->snd_wnd == 0 && c->snd_una == c->snd_max && c->sbuf_len > c->snd_nxt - c->sbuf_seq &&
	    !tcp_rtx_pending(c))
		tcp_persist_arm(c);
}

/* tcp_persist_probe: one byte past the closed window (timer's call). */
void tcp_persist_probe(struct tcp_conn *c)
{
	uint32_t off = c->snd_una - c->sbuf_seq;
	if (c->sbuf_len > off) {
		send_data_seg(c, c->snd_una, 1, false);
		if (c->snd_nxt == c->snd_una) {
			c->snd_nxt++;
			c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		}
	} else {
		tcp_send_ack(c);
	}
}
