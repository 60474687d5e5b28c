/*
 * test_tcp_logic.c: the pure parts of TCP: sequence arithmetic across the
 * wrap, option parsing (malformed options refused), the RTO of RFC 6298,
 * ISNs (RFC 6528) and SYN cookies, and how far the send buffer may grow.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "tcp_impl.h"

Test(tcp_seq, compare_across_wrap)
{
	cr_assert(seq_lt(0xfffffff0u, 0x10));
	cr_assert(seq_gt(0x10, 0xfffffff0u));
	cr_assert(seq_leq(5, 5) && seq_geq(5, 5) && !seq_lt(5, 5));
	cr_assert(seq_lt(0x7ffffffeu, 0x7fffffffu));
	cr_assert(seq_in(0xffffffffu, 0xfffffff0u, 0x20));
	cr_assert(seq_in(0, 0xfffffff0u, 0x20));
	cr_assert(!seq_in(0x20, 0xfffffff0u, 0x20));
	cr_assert(!seq_in(0xffffffefu, 0xfffffff0u, 0x20));
	cr_assert_eq(seq_max(0xfffffff0u, 3), 3);
	cr_assert_eq(seq_min(0xfffffff0u, 3), 0xfffffff0u);
}

Test(tcp_options, syn_round_trip)
{
	struct tcp_opts o = { .has_mss = true, .mss = 1460, .has_ws = true, .wscale = 7,
	                      .sack_permitted = true, .has_ts = true, .tsval = 0x01020304,
	                      .tsecr = 0 };
	uint8_t buf[40];
	size_t n = tcp_options_write(buf, &o, true);
	cr_assert_eq(n, tcp_options_size(&o, true));
	cr_assert_eq(n % 4, 0);
	struct tcp_opts p;
	cr_assert_eq(tcp_options_parse(buf, n, true, &p), 0);
	cr_assert(p.has_mss && p.mss == 1460 && p.has_ws && p.wscale == 7);
	cr_assert(p.sack_permitted && p.has_ts && p.tsval == 0x01020304 && p.tsecr == 0);
	/* The same bytes on a non-SYN: MSS, WS and SACK-permitted ignored. */
	cr_assert_eq(tcp_options_parse(buf, n, false, &p), 0);
	cr_assert(!p.has_mss && !p.has_ws && !p.sack_permitted && p.has_ts);
}

Test(tcp_options, data_round_trip_with_sack)
{
	struct tcp_opts o = { .has_ts = true, .tsval = 7, .tsecr = 9, .nsack = 3 };
	for (unsigned i = 0; i < 3; i++) {
		o.sack[i].left = 1000 * i;
		o.sack[i].right = 1000 * i + 500;
	}
	uint8_t buf[40];
	size_t n = tcp_options_write(buf, &o, false);
	cr_assert_eq(n, 12 + 4 + 24);
	struct tcp_opts p;
	cr_assert_eq(tcp_options_parse(buf, n, false, &p), 0);
	cr_assert_eq(p.nsack, 3);
	cr_assert_eq(p.sack[2].right, 2500);
	cr_assert(p.tsval == 7 && p.tsecr == 9);
}

static int parse(const uint8_t *b, size_t n)
{
	struct tcp_opts o;
	return tcp_options_parse(b, n, true, &o);
}

Test(tcp_options, malformed_refused)
{
	const uint8_t len_zero[] = { 2, 0, 0, 0 };
	const uint8_t len_one[] = { 8, 1, 0, 0 };
	const uint8_t past_end[] = { 1, 1, 8, 10, 0, 0 };
	const uint8_t lone_kind[] = { 1, 1, 1, 2 };
	const uint8_t mss_len3[] = { 2, 3, 5, 1 };
	const uint8_t ws_len4[] = { 3, 4, 7, 1 };
	const uint8_t sackp_len3[] = { 4, 3, 0, 1 };
	const uint8_t ts_len8[] = { 8, 8, 0, 0, 0, 0, 0, 0 };
	const uint8_t sack_len9[] = { 5, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1 };
	const uint8_t sack_len42[] = { 5, 42 };
	cr_assert_eq(parse(len_zero, sizeof(len_zero)), -EINVAL);
	cr_assert_eq(parse(len_one, sizeof(len_one)), -EINVAL);
	cr_assert_eq(parse(past_end, sizeof(past_end)), -EINVAL);
	cr_assert_eq(parse(lone_kind, sizeof(lone_kind)), -EINVAL);
	cr_assert_eq(parse(mss_len3, sizeof(mss_len3)), -EINVAL);
	cr_assert_eq(parse(ws_len4, sizeof(ws_len4)), -EINVAL);
	cr_assert_eq(parse(sackp_len3, sizeof(sackp_len3)), -EINVAL);
	cr_assert_eq(parse(ts_len8, sizeof(ts_len8)), -EINVAL);
	cr_assert_eq(parse(sack_len9, sizeof(sack_len9)), -EINVAL);
	cr_assert_eq(parse(sack_len42, sizeof(sack_len42)), -EINVAL);
}

Test(tcp_options, tolerated)
{
	/* Unknown kinds skipped by length, EOL ends, WS above 14 is 14. */
	const uint8_t b[] = { 30, 4, 0xaa, 0xbb, 3, 3, 200, 1, 0, 2, 0 };
	struct tcp_opts o;
	cr_assert_eq(tcp_options_parse(b, sizeof(b), true, &o), 0);
	cr_assert(o.has_ws && o.wscale == 14 && !o.has_mss);
	cr_assert_eq(tcp_options_parse(b, 0, true, &o), 0);
}

Test(tcp_rtt, rfc6298_examples)
{
	struct tcp_rtt r;
	tcp_rtt_init(&r);
	cr_assert_eq(tcp_rtt_rto(&r, 0), 1000000);     /* §2.1: 1 s */
	cr_assert_eq(tcp_rtt_rto(&r, 2), 4000000);     /* §5.5 doubling */
	/* §2.2: first R = 400 ms: SRTT 400, RTTVAR 200, RTO 400 + 4*200 = 1.2 s. */
	tcp_rtt_sample(&r, 400000);
	cr_assert_eq(r.srtt_us, 400000);
	cr_assert_eq(r.rttvar_us, 200000);
	cr_assert_eq(r.rto_us, 1200000);
	/* §2.3: R' = 200 ms: RTTVAR = 3/4*200 + 1/4*|400-200| = 200,
	 * SRTT = 7/8*400 + 1/8*200 = 375, RTO = 375 + 800. */
	tcp_rtt_sample(&r, 200000);
	cr_assert_eq(r.rttvar_us, 200000);
	cr_assert_eq(r.srtt_us, 375000);
	cr_assert_eq(r.rto_us, 1175000);
	/* Small RTTs are bounded below; backoff is bounded above (§2.5). */
	for (int i = 0; i < 50; i++)
		tcp_rtt_sample(&r, 100);
	cr_assert_eq(tcp_rtt_rto(&r, 0), TCP_RTO_MIN_US);
	cr_assert_eq(tcp_rtt_rto(&r, 30), TCP_RTO_MAX_US);
}

struct isn_result {
	uint32_t a0, a1, a2, b0, c0;
	uint32_t cookie, bad_cookie_mss, good_mss, old_mss, expired_mss, other_tuple_mss;
	uint32_t other_irs_mss, flipped_mss, small_mss;
};

static int isn_body(void *arg)
{
	struct isn_result *r = arg;
	ip4_addr l = IP4(192, 168, 7, 2), rm = IP4(192, 168, 7, 1);
	uint64_t t = 1000000000ull;
	r->a0 = tcp_isn_at(l, 80, rm, 40000, t);
	r->a1 = tcp_isn_at(l, 80, rm, 40000, t + 4000);
	r->a2 = tcp_isn_at(l, 80, rm, 40000, t + 4000000);
	r->b0 = tcp_isn_at(l, 80, rm, 40001, t);
	r->c0 = tcp_isn_at(l, 81, rm, 40000, t);

	uint64_t now = 100000;
	uint32_t c = tcp_cookie_make(l, 80, rm, 40000, 12345, 1460, now);
	r->cookie = c;
	r->good_mss = tcp_cookie_check(l, 80, rm, 40000, 12345, c, now + 10);
	r->old_mss = tcp_cookie_check(l, 80, rm, 40000, 12345, c, now + 64);
	r->expired_mss = tcp_cookie_check(l, 80, rm, 40000, 12345, c, now + 200);
	r->other_tuple_mss = tcp_cookie_check(l, 80, rm, 40001, 12345, c, now);
	r->other_irs_mss = tcp_cookie_check(l, 80, rm, 40000, 12346, c, now);
	r->flipped_mss = tcp_cookie_check(l, 80, rm, 40000, 12345, c ^ 0x100, now);
	uint32_t c2 = tcp_cookie_make(l, 80, rm, 40000, 1, 1300, now);
	r->small_mss = tcp_cookie_check(l, 80, rm, 40000, 1, c2, now);
	return 0;
}

Test(tcp_isn, monotonic_per_tuple_and_keyed)
{
	struct isn_result r;
	cr_assert_eq(run_in_kernel(1, isn_body, &r), 0);
	/* M ticks every 4 µs: +1 after 4 µs, +1000 after 4 ms, same F. */
	cr_assert_eq(r.a1 - r.a0, 1);
	cr_assert_eq(r.a2 - r.a0, 1000);
	/* Another tuple, another offset. */
	cr_assert_neq(r.a0, r.b0);
	cr_assert_neq(r.a0, r.c0);
	cr_assert_neq(r.b0, r.c0);
}

Test(tcp_cookie, encode_decode)
{
	struct isn_result r;
	cr_assert_eq(run_in_kernel(1, isn_body, &r), 0);
	cr_assert_eq(r.good_mss, 1460);
	cr_assert_eq(r.old_mss, 1460, "a cookie of the previous slot is still good");
	cr_assert_eq(r.expired_mss, 0);
	cr_assert_eq(r.other_tuple_mss, 0);
	cr_assert_eq(r.other_irs_mss, 0);
	cr_assert_eq(r.flipped_mss, 0);
	cr_assert_eq(r.small_mss, 1220, "MSS rounds down to its class");
}

Test(tcp_cubic, rfc9438_window)
{
	const uint32_t mss = 1460, w_max = 100 * mss, after = 70 * mss;    /* beta 0.7 */
	/* K = cbrt((100 - 70) / 0.4) s = cbrt(75) = 4.2172 s. */
	uint32_t k = tcp_cubic_k_ms(w_max, after, mss);
	cr_assert(k >= 4216 && k <= 4218, "K %u ms", k);
	/* W(0) is the window after the cut, W(K) is W_max (within 1%), and
	 * one second past K it is 0.4 segments more (concave, then convex). */
	uint32_t w0 = tcp_cubic_window(w_max, k, 0, mss);
	cr_assert(w0 >= after - mss / 2 && w0 <= after + mss / 2, "W(0) %u", w0);
	cr_assert_eq(tcp_cubic_window(w_max, k, k, mss), w_max);
	uint32_t w1 = tcp_cubic_window(w_max, k, k + 1000, mss);
	cr_assert(w1 >= w_max + 580 && w1 <= w_max + 590, "W(K+1s) %u", w1);
	uint32_t wk_half = tcp_cubic_window(w_max, k, k / 2, mss);
	cr_assert(wk_half > w0 && wk_half < w_max);
	/* Far out it is bounded, and never below two segments. */
	cr_assert_eq(tcp_cubic_window(w_max, k, 4000000000u, mss), 1u << 30);
	cr_assert_eq(tcp_cubic_window(2 * mss, 100000, 0, mss), 2 * mss);
	cr_assert_eq(tcp_cubic_k_ms(after, w_max, mss), 0, "no K when the window is above W_max");
}

Test(tcp_sbuf, limit_follows_the_windows)
{
	struct tcp_conn c;
	memset(&c, 0, sizeof(c));
	c.sndbuf = TCP_DEFAULT_BUF;
	c.sndbuf_auto = true;
	/* Small windows: the default stands. */
	c.cwnd = 10 * 1448;
	c.max_snd_wnd = 65535;
	cr_assert_eq(tcp_sbuf_limit(&c), TCP_DEFAULT_BUF);
	/* Both wide: twice the smaller one. */
	c.cwnd = 1000000;
	c.max_snd_wnd = 600000;
	cr_assert_eq(tcp_sbuf_limit(&c), 1200000);
	/* A peer that reads slowly keeps it small, however wide cwnd is. */
	c.max_snd_wnd = 32768;
	cr_assert_eq(tcp_sbuf_limit(&c), TCP_DEFAULT_BUF);
	/* Never past the ceiling; never past SNDBUF once the user set it. */
	c.cwnd = c.max_snd_wnd = 64u << 20;
	cr_assert_eq(tcp_sbuf_limit(&c), TCP_SNDBUF_AUTO_MAX);
	c.sndbuf = 65536;
	c.sndbuf_auto = false;
	cr_assert_eq(tcp_sbuf_limit(&c), 65536);
}
