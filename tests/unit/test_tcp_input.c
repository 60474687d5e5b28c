/*
 * test_tcp_input.c: tcp_input() at the boundary, in a running kernel with
 * no NIC: every malformed segment is dropped and counted in the arriving
 * interface's counters (bad_tcp, bad_csum), and one for no socket counts
 * as no_socket; none of them crashes or leaves anything behind.
 *
 * Large receive (HAL_NET_RX_GSO): one frame of 45 segments enters an
 * established connection whole, is acked at once (RFC 9293 §3.8.6.3: at
 * least every second full segment) where a single segment only arms the
 * delayed ACK, and reads back byte for byte; IPv4 refuses a "frame of many
 * segments" that is not TCP or is a fragment.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "stack.h"
#include "tcp_impl.h"
#include "wire.h"

#define SRC IP4(192, 168, 7, 1)
#define DST IP4(192, 168, 7, 2)

struct input_result {
	uint64_t bad_tcp, bad_csum, no_socket;
	unsigned conns_left;
};

static struct netif fake_nif;

/* segment: a TCP header (doff_words, flags) with options and payload, the
 * checksum right unless bad_csum; len_cut shortens the packet after. */
static void send_seg(unsigned doff_words, uint8_t flags, const uint8_t *opts, size_t olen,
                     uint16_t sport, bool bad_csum, size_t total_len)
{
	struct netbuf *nb = netbuf_alloc();
	uint8_t *p = netbuf_put(nb, total_len);
	memset(p, 0, total_len);
	if (total_len >= 20) {
		tcp_put16(p + TCP_OFF_SPORT, sport);
		tcp_put16(p + TCP_OFF_DPORT, 7);
		tcp_put32(p + TCP_OFF_SEQ, 1000);
		p[TCP_OFF_DOFF] = (uint8_t)(doff_words << 4);
		p[TCP_OFF_FLAGS] = flags;
		tcp_put16(p + TCP_OFF_WND, 1000);
		if (olen && 20 + olen <= total_len)
			memcpy(p + 20, opts, olen);
	}
	nb->src_ip = SRC;
	nb->dst_ip = DST;
	nb->netif = &fake_nif;
	if (total_len >= 18) {
		uint32_t sum = inet_pseudo_sum(SRC, DST, IP_PROTO_TCP, (uint16_t)total_len);
		uint16_t c = inet_fold(inet_sum(p, total_len, sum));
		tcp_put16(p + TCP_OFF_CSUM, bad_csum ? (uint16_t)(c ^ 0x5555) : c);
	}
	tcp_input(nb);
}

static int input_body(void *arg)
{
	struct input_result *r = arg;
	const uint8_t mss_len3[] = { 2, 3, 5, 1 };
	const uint8_t ts_past_end[] = { 1, 1, 8, 10 };
	const uint8_t good_mss[] = { 2, 4, 5, 0xb4 };
	send_seg(5, TCP_SYN, NULL, 0, 1000, false, 12);         /* shorter than a header */
	send_seg(4, TCP_SYN, NULL, 0, 1001, false, 20);         /* data offset 16 bytes */
	send_seg(8, TCP_SYN, NULL, 0, 1002, false, 24);         /* offset past the end */
	send_seg(5, TCP_SYN, NULL, 0, 0, false, 20);            /* source port 0 */
	send_seg(6, TCP_SYN, mss_len3, 4, 1003, false, 24);     /* MSS of length 3 */
	send_seg(6, TCP_SYN, ts_past_end, 4, 1004, false, 24);  /* TS past the end */
	send_seg(5, TCP_SYN | TCP_RST, NULL, 0, 1005, false, 20);
	send_seg(5, TCP_SYN | TCP_FIN, NULL, 0, 1006, false, 20);
	send_seg(6, TCP_SYN, good_mss, 4, 1007, true, 24);      /* bad checksum */
	send_seg(5, TCP_ACK, NULL, 0, 1008, true, 120);         /* bad checksum, data */
	send_seg(6, TCP_SYN, good_mss, 4, 1009, false, 24);     /* fine, but no listener */
	r->bad_tcp = fake_nif.stats.bad_tcp;
	r->bad_csum = fake_nif.stats.bad_csum;
	r->no_socket = fake_nif.stats.no_socket;
	r->conns_left = tcp_conn_count();
	return 0;
}

Test(tcp_input, malformed_dropped_and_counted)
{
	struct input_result r;
	cr_assert_eq(run_in_kernel(2, input_body, &r), 0);
	cr_assert_eq(r.bad_tcp, 8, "short, offset < 5, offset past end, port 0, 2 options, 2 flag sets (%lu)",
	             (unsigned long)r.bad_tcp);
	cr_assert_eq(r.bad_csum, 2);
	cr_assert_eq(r.no_socket, 1);
	cr_assert_eq(r.conns_left, 0);
}

/* ---- Large receive ---- */

#define LPORT 7
#define RPORT 40000
#define IRS   5000u
#define GSO_MSS 1448
#define GSO_SEGS 45

struct large_result {
	uint32_t rcv_advance;           /* rcv_nxt moved by the big frame */
	uint32_t queued;                /* rcvq_bytes after it */
	unsigned unacked_after_big;     /* 0: acked at once */
	bool delack_after_big;
	unsigned unacked_after_small;   /* 1: one segment owed */
	bool delack_after_small;
	bool bytes_equal;
	uint64_t bad_ip;
	unsigned conns_left;
};

static uint8_t pattern(uint32_t i) { return (uint8_t)(i * 7 + (i >> 9)); }

/* established: a connection as after a handshake, on no interface (its
 * ACKs find no route and are dropped, after the ACK state was settled). */
static struct tcp_conn *established(void)
{
	struct tcp_conn *c = tcp_conn_new(hal_cpu_id());
	if (!c)
		return NULL;
	c->state = TCP_ESTABLISHED;
	c->user_ref = true;
	c->laddr = DST;
	c->raddr = SRC;
	c->lport = LPORT;
	c->rport = RPORT;
	c->iss = c->snd_una = c->snd_nxt = c->snd_max = 100;
	c->snd_wnd = c->max_snd_wnd = 65535;
	c->irs = IRS;
	c->rcv_nxt = IRS + 1;
	c->rcv_wscale = 3;
	c->rcv_adv = c->rcv_nxt + c->rcvbuf;
	c->ws_ok = true;
	c->mss = c->adv_mss = GSO_MSS;
	return c;
}

/* segment_in: an ACK with len payload bytes from offset from, into c the
 * way a NIC hands it up: big ones in a large buffer with gso_size. */
static bool segment_in(struct tcp_conn *c, uint32_t from, uint32_t len, uint16_t gso_size)
{
	struct netbuf *nb = gso_size ? netbuf_alloc_rx_large() : netbuf_alloc();
	uint8_t *p = nb ? netbuf_put(nb, TCP_HDR_MIN + len) : NULL;
	if (!p) {
		netbuf_free(nb);
		return false;
	}
	memset(p, 0, TCP_HDR_MIN);
	tcp_put16(p + TCP_OFF_SPORT, RPORT);
	tcp_put16(p + TCP_OFF_DPORT, LPORT);
	tcp_put32(p + TCP_OFF_SEQ, IRS + 1 + from);
	tcp_put32(p + TCP_OFF_ACK, 100);
	p[TCP_OFF_DOFF] = 5 << 4;
	p[TCP_OFF_FLAGS] = TCP_ACK;
	tcp_put16(p + TCP_OFF_WND, 65535);
	for (uint32_t i = 0; i < len; i++)
		p[TCP_HDR_MIN + i] = pattern(from + i);
	nb->src_ip = SRC;
	nb->dst_ip = DST;
	nb->netif = &fake_nif;
	nb->flags = HAL_NET_CSUM_VALID;
	nb->gso_size = gso_size;
	struct tcp_seg s;
	if (tcp_seg_parse(nb, &s) < 0) {
		netbuf_free(nb);
		return false;
	}
	tcp_conn_input(c, &s);
	return true;
}

/* gso_frame_in: an IPv4 frame claiming to be many segments, to ipv4_input. */
static void gso_frame_in(uint8_t proto, uint16_t frag)
{
	struct netbuf *nb = netbuf_alloc();
	uint8_t *h = nb ? netbuf_put(nb, IP_HLEN + 40) : NULL;
	if (!h) {
		netbuf_free(nb);
		return;         /* no bad_ip counted: the test fails */
	}
	memset(h, 0, IP_HLEN + 40);
	h[IP_VER_IHL] = 0x45;
	put_be16(h + IP_TOTLEN, IP_HLEN + 40);
	put_be16(h + IP_FRAG, frag);
	h[IP_TTL] = 64;
	h[IP_PROTO] = proto;
	put_be32(h + IP_SRC, SRC);
	put_be32(h + IP_DST, DST);
	put_be16(h + IP_CSUM, inet_fold(inet_sum(h, IP_HLEN, 0)));
	nb->flags = HAL_NET_CSUM_VALID;
	nb->gso_size = GSO_MSS;
	ipv4_input(&fake_nif, nb);
}

static int large_body(void *arg)
{
	struct large_result *r = arg;
	struct tcp_conn *c = established();
	if (!c)
		return -1;
	uint32_t big = GSO_SEGS * GSO_MSS;
	if (!segment_in(c, 0, big, GSO_MSS))
		return -2;
	r->rcv_advance = c->rcv_nxt - (IRS + 1);
	r->queued = c->rcvq_bytes;
	r->unacked_after_big = c->unacked_segs;
	r->delack_after_big = c->delack_due_ns != 0;
	if (!segment_in(c, big, 100, 0))
		return -3;
	r->unacked_after_small = c->unacked_segs;
	r->delack_after_small = c->delack_due_ns != 0;

	static uint8_t got[GSO_SEGS * GSO_MSS + 100];
	size_t n = tcp_rcv_copy(c, got, sizeof(got), true);
	r->bytes_equal = n == sizeof(got);
	for (uint32_t i = 0; i < n && r->bytes_equal; i++)
		r->bytes_equal = got[i] == pattern(i);

	uint64_t bad_before = fake_nif.stats.bad_ip;
	gso_frame_in(IP_PROTO_UDP, 0);
	gso_frame_in(IP_PROTO_TCP, IP_FLAG_MF);
	r->bad_ip = fake_nif.stats.bad_ip - bad_before;

	c->user_ref = false;
	tcp_set_state(c, TCP_CLOSED);
	tcp_conn_maybe_free(c);
	r->conns_left = tcp_conn_count();
	return 0;
}

Test(tcp_input, large_receive_many_segments_in_one_frame)
{
	/* A NIC, so that the stack (its timers) runs: restricted slirp, with
	 * no route to the peer, so the ACKs go nowhere. */
	struct large_result r;
	struct posix_config cfg = { .cpus = 1, .nnets = 1 };
	cfg.net[0].kind = POSIX_NET_SLIRP;
	cr_assert_eq(run_in_kernel_cfg(&cfg, large_body, &r), 0);
	cr_assert_eq(r.rcv_advance, GSO_SEGS * GSO_MSS + 0u, "RCV.NXT moved by %u", r.rcv_advance);
	cr_assert_eq(r.queued, GSO_SEGS * GSO_MSS + 0u);
	cr_assert_eq(r.unacked_after_big, 0, "45 segments in one frame are acked at once");
	cr_assert(!r.delack_after_big);
	cr_assert_eq(r.unacked_after_small, 1, "one segment after it waits for the delayed ACK");
	cr_assert(r.delack_after_small);
	cr_assert(r.bytes_equal, "the bytes read back are the bytes sent");
	cr_assert_eq(r.bad_ip, 2, "a many-segment frame that is UDP or a fragment is malformed");
	cr_assert_eq(r.conns_left, 0);
}
