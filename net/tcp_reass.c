/*
 * tcp_reass.c: the receive side's queues: data in order waiting for the
 * reader (rcvq), segments that arrived ahead of a gap (oooq, bounded in
 * bytes and buffers), the SACK blocks that report them (RFC 2018) and
 * data that arrived twice (D-SACK, RFC 2883), and the window we announce
 * (RFC 9293 §3.8.6.2.2, the receiver's silly-window avoidance).
 *
 * Arriving payloads stay in their netbufs (no copy) unless small: a small
 * payload is copied onto the end of the last queued buffer when it fits,
 * so a peer that sends 1-byte segments cannot make us hold a 1.5 KB
 * buffer per byte. Memory per connection: rcvq up to about rcvbuf of
 * payload, plus at most rcvbuf bytes and OOO_MAX_BUFS buffers out of
 * order (a 64 KiB receive buffer counting as the small ones it replaces).
 *
 * While a segment sits in oooq, its netbuf's src_ip field holds the
 * sequence number of its first byte and dst_ip its FIN flag (the
 * addresses are the connection's, and no longer needed).
 */
#include <string.h>

#include "tcp_impl.h"

#define SMALL_PAYLOAD 512
#define OOO_MAX_BUFS  256

static uint32_t ooo_seq(const struct netbuf *nb) { return nb->src_ip; }
static bool ooo_fin(const struct netbuf *nb) { return nb->dst_ip != 0; }

/* bufs_of: the buffers nb counts as: a large receive buffer (HAL_NET_RX_GSO)
 * as the small ones it takes the place of, so that the limits on buffers
 * bound memory, not list entries. */
static uint32_t bufs_of(const struct netbuf *nb)
{
	return (nb->size + NETBUF_SIZE - 1) / NETBUF_SIZE;
}

static uint32_t rcvq_mem_limit(const struct tcp_conn *c)
{
	/* buffers held, counted whole: twice the payload limit allows for
	 * segments smaller than a buffer. */
	return 2 * (c->rcvbuf / 1460 + 4);
}

/* rcvq_append: payload of nb (all of it) onto the in-order queue. */
static void rcvq_append(struct tcp_conn *c, struct netbuf *nb)
{
	c->rcvq_bytes += nb->len;
	if (!list_empty(&c->rcvq) && nb->len <= SMALL_PAYLOAD) {
		struct netbuf *tail = list_entry(c->rcvq.prev, struct netbuf, link);
		uint8_t *end = tail->data + tail->len;
		if ((size_t)(tail->buf + tail->size - end) >= nb->len) {
			memcpy(end, nb->data, nb->len);
			tail->len += nb->len;
			netbuf_free(nb);
			return;
		}
	}
	if (nb->len == 0) {
		netbuf_free(nb);
		return;
	}
	list_push_back(&c->rcvq, &nb->link);
	c->rcvq_bufs += bufs_of(nb);
}

/* ooo_drain: move what now follows rcv_nxt from oooq to rcvq. */
static bool ooo_drain(struct tcp_conn *c)
{
	bool fin = false;
	while (!list_empty(&c->oooq) && !fin) {
		struct netbuf *nb = list_entry(c->oooq.next, struct netbuf, link);
		uint32_t seq = ooo_seq(nb);
		if (seq_gt(seq, c->rcv_nxt))
			break;
		list_remove(&nb->link);
		c->ooo_bytes -= nb->len;
		c->ooo_bufs -= bufs_of(nb);
		uint32_t end = seq + nb->len;
		if (seq_leq(end, c->rcv_nxt) && !(ooo_fin(nb) && end == c->rcv_nxt)) {
			netbuf_free(nb);        /* wholly old */
			continue;
		}
		netbuf_pull(nb, c->rcv_nxt - seq);
		c->rcv_nxt += nb->len;
		fin = ooo_fin(nb);
		rcvq_append(c, nb);
	}
	return fin;
}

static void ooo_insert(struct tcp_conn *c, struct netbuf *nb, uint32_t seq, bool fin)
{
	if (c->ooo_bufs + bufs_of(nb) > OOO_MAX_BUFS || c->ooo_bytes + nb->len > c->rcvbuf) {
		netbuf_free(nb);        /* bounded: the peer sends it again */
		return;
	}
	nb->src_ip = seq;
	nb->dst_ip = fin;
	uint32_t end = seq + nb->len;
	/* Keep oooq sorted by start; drop a segment wholly covered by one
	 * already held (retransmissions), keep partial overlaps (ooo_drain
	 * trims them). */
	struct list *pos = c->oooq.next;
	for (; pos != &c->oooq; pos = pos->next) {
		struct netbuf *o = list_entry(pos, struct netbuf, link);
		uint32_t os = ooo_seq(o), oe = os + o->len;
		if (seq_leq(os, seq) && seq_geq(oe, end) && (!fin || ooo_fin(o))) {
			netbuf_free(nb);
			return;
		}
		if (seq_gt(os, seq))
			break;
	}
	list_insert_before(pos, &nb->link);
	c->ooo_bytes += nb->len;
	c->ooo_bufs += bufs_of(nb);
}

void tcp_rcv_dsack(struct tcp_conn *c, uint32_t left, uint32_t right)
{
	if (!c->sack_ok || !seq_lt(left, right))
		return;
	/* Two duplicates of one arrival (its part below RCV.NXT and data
	 * held out of order) join when they touch; else the latest is the
	 * one reported (§4: the first block is the most recent duplicate). */
	if (c->dsack_due && seq_leq(left, c->dsack_right) && seq_geq(right, c->dsack_left)) {
		left = seq_min(left, c->dsack_left);
		right = seq_max(right, c->dsack_right);
	}
	c->dsack_due = true;
	c->dsack_left = left;
	c->dsack_right = right;
	c->ack_now = true;      /* the ACK this duplicate triggers carries it */
}

/* dsack_held: a D-SACK for the first stretch of [seq, end) that oooq
 * holds already (across held segments that touch). One stretch only: a
 * SACK block is one contiguous range, and what lies beyond a gap in the
 * held data is new. */
static void dsack_held(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	bool found = false;
	uint32_t left = 0, right = 0;
	list_for_each(pos, &c->oooq) {
		const struct netbuf *o = list_entry(pos, struct netbuf, link);
		uint32_t os = ooo_seq(o), oe = os + o->len;
		if (!seq_lt(os, end))
			break;          /* sorted by start: none further overlaps */
		if (!o->len || !seq_gt(oe, seq))
			continue;
		uint32_t l = seq_max(os, seq), r = seq_min(oe, end);
		if (!found) {
			left = l;
			right = r;
			found = true;
		} else if (seq_leq(l, right)) {
			right = seq_max(right, r);
		} else {
			break;
		}
	}
	if (found)
		tcp_rcv_dsack(c, left, right);
}

bool tcp_rcv_data(struct tcp_conn *c, struct tcp_seg *s, bool *fin_in_order)
{
	struct netbuf *nb = s->nb;
	s->nb = NULL;
	bool fin = s->flags & TCP_FIN;
	*fin_in_order = false;
	netbuf_trim(nb, s->len);
	if (c->sack_ok && s->len && !list_empty(&c->oooq))
		dsack_held(c, s->seq, s->seq + s->len);
	if (s->seq != c->rcv_nxt) {
		c->last_ooo_seq = s->seq;
		ooo_insert(c, nb, s->seq, fin);
		return false;
	}
	if (c->rcvq_bufs >= rcvq_mem_limit(c) && s->len > SMALL_PAYLOAD) {
		netbuf_free(nb);        /* per-connection memory limit */
		return false;
	}
	c->rcv_nxt += s->len;
	rcvq_append(c, nb);
	if (!fin && !list_empty(&c->oooq))
		fin = ooo_drain(c);
	*fin_in_order = fin;
	return true;
}

/* A run of contiguous data held in oooq: what one SACK block reports. */
struct sack_run {
	uint32_t left, right;
};

/* run_holding: the index of the run that holds seq, nrun if none. */
static unsigned run_holding(const struct sack_run *run, unsigned nrun, uint32_t seq)
{
	for (unsigned i = 0; i < nrun; i++)
		if (seq_in(seq, run[i].left, run[i].right))
			return i;
	return nrun;
}

/* put_block: [left, right) as the next of o's SACK blocks, if below max. */
static void put_block(struct tcp_opts *o, unsigned max, uint32_t left, uint32_t right)
{
	if (o->nsack >= max)
		return;
	o->sack[o->nsack].left = left;
	o->sack[o->nsack].right = right;
	o->nsack++;
}

unsigned tcp_rcv_sack_blocks(struct tcp_conn *c, struct tcp_opts *o, unsigned max)
{
	/* The runs of contiguous data in oooq, in order. */
	struct sack_run run[OOO_MAX_BUFS];
	unsigned nrun = 0;
	list_for_each(pos, &c->oooq) {
		const struct netbuf *nb = list_entry(pos, struct netbuf, link);
		uint32_t l = ooo_seq(nb), r = l + nb->len;
		if (nrun && seq_leq(l, run[nrun - 1].right)) {
			run[nrun - 1].right = seq_max(run[nrun - 1].right, r);
			continue;
		}
		run[nrun].left = l;
		run[nrun].right = r;
		nrun++;
	}
	o->nsack = 0;
	/* First the D-SACK, in this segment only; next the run that holds
	 * it (RFC 2883 §4) if there is one, else the run of the latest
	 * arrival (RFC 2018 §4); then the others, highest first. */
	unsigned first = run_holding(run, nrun, c->last_ooo_seq);
	if (c->dsack_due && max) {
		put_block(o, max, c->dsack_left, c->dsack_right);
		c->dsack_due = false;
		unsigned holder = run_holding(run, nrun, c->dsack_left);
		if (holder < nrun)
			first = holder;
	}
	if (first < nrun)
		put_block(o, max, run[first].left, run[first].right);
	for (unsigned i = nrun; i-- > 0 && o->nsack < max;)
		if (i != first && run[i].left != run[i].right)
			put_block(o, max, run[i].left, run[i].right);
	return o->nsack;
}

/* Receive buffer autotuning, the idea of Linux's dynamic right-sizing: a
 * reader that takes more than half the buffer within one round trip keeps
 * up with a sender the window holds back, so the buffer grows to twice
 * that pace (up to TCP_RCVBUF_AUTO_MAX and what the window scale can
 * say). A slow reader never makes it grow: what it leaves queued shrinks
 * the window instead. Round trip: our smoothed RTT, 1 ms before any. */
void tcp_rcv_autotune(struct tcp_conn *c, uint32_t copied)
{
	if (!c->rcvbuf_auto)
		return;
	uint64_t now = hal_clock_ns();
	uint64_t rtt_ns = c->rtt.measured ? (uint64_t)c->rtt.srtt_us * 1000u : 1000000u;
	c->rcv_copied += copied;
	if (!c->rcv_epoch_ns)
		c->rcv_epoch_ns = now;          /* the first read starts the first */
	if (now - c->rcv_epoch_ns < rtt_ns)
		return;
	uint64_t want = 2ull * c->rcv_copied;
	uint64_t max = (uint64_t)65535 << c->rcv_wscale;
	if (max > TCP_RCVBUF_AUTO_MAX)
		max = TCP_RCVBUF_AUTO_MAX;
	if (want > max)
		want = max;
	if (want > c->rcvbuf)
		c->rcvbuf = (uint32_t)want;     /* only ever grows */
	c->rcv_copied = 0;
	c->rcv_epoch_ns = now;
}

uint8_t tcp_rcv_wscale(const struct tcp_conn *c)
{
	uint32_t most = c->rcvbuf_auto && c->rcvbuf < TCP_RCVBUF_AUTO_MAX ? TCP_RCVBUF_AUTO_MAX
	                                                                 : c->rcvbuf;
	uint8_t ws = 0;
	while (ws < 14 && (65535u << ws) < most)
		ws++;
	return ws;
}

uint32_t tcp_rcv_window(struct tcp_conn *c)
{
	uint32_t space = c->rcvbuf > c->rcvq_bytes ? c->rcvbuf - c->rcvq_bytes : 0;
	if (c->rcvq_bufs >= rcvq_mem_limit(c))
		space = 0;
	uint32_t cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* Never take back a window announced (§3.8.6.2.2 would allow it but
	 * RFC 9293 §3.10.7.4 tells the sender not to expect it), and open it
	 * only by at least min(rcvbuf / 2, MSS) (receiver SWS avoidance). */
	uint32_t step = c->rcvbuf / 2 < c->adv_mss ? c->rcvbuf / 2 : c->adv_mss;
	if (space < cur || space - cur < step)
		space = cur;
	uint32_t max = (uint32_t)65535 << c->rcv_wscale;
	if (space > max)
		space = max;
	/* What the scaled field can say, rounded up so as never to shrink. */
	uint32_t unit = (uint32_t)1 << c->rcv_wscale;
	uint32_t field = space >> c->rcv_wscale;
	if ((field << c->rcv_wscale) < cur)
		field = (cur + unit - 1) >> c->rcv_wscale;
	if (field > 65535)
		field = 65535;
	return field;
}

void tcp_rcv_purge(struct tcp_conn *c)
{
	struct list *l;
	while ((l = list_pop_front(&c->rcvq)))
		netbuf_free(list_entry(l, struct netbuf, link));
	while ((l = list_pop_front(&c->oooq)))
		netbuf_free(list_entry(l, struct netbuf, link));
	c->rcvq_bytes = c->rcvq_bufs = 0;
	c->ooo_bytes = c->ooo_bufs = 0;
}

size_t tcp_rcv_copy(struct tcp_conn *c, uint8_t *buf, size_t len, bool consume)
{
	size_t done = 0;
	struct list *pos = c->rcvq.next;
	while (done < len && pos != &c->rcvq) {
		struct netbuf *nb = list_entry(pos, struct netbuf, link);
		pos = pos->next;
		size_t n = len - done < nb->len ? len - done : nb->len;
		memcpy(buf + done, nb->data, n);
		done += n;
		if (!consume)
			continue;
		netbuf_pull(nb, n);
		if (nb->len == 0) {
			list_remove(&nb->link);
			c->rcvq_bufs -= bufs_of(nb);
			netbuf_free(nb);
		}
	}
	if (consume)
		c->rcvq_bytes -= (uint32_t)done;
	return done;
}
