/*
 * test_tcp_input.c: tcp_input() at the boundary, in a running kernel with
 * no NIC: every malformed segment is dropped and counted in the arriving
 * interface's counters (bad_tcp, bad_csum), and one for no socket counts
 * as no_socket; none of them crashes or leaves anything behind.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "tcp_impl.h"

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
