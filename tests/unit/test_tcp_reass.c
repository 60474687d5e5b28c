/*
 * test_tcp_reass.c: the receive queues of a connection (tcp_reass.c) in a
 * running kernel: data in order, out of order and filled in, overlaps and
 * duplicates, a FIN after a gap, the bound on out-of-order memory, SACK
 * blocks with the latest first, and the window (never shrinking, opened
 * only by a useful amount: receiver SWS avoidance); data that arrives
 * again while held out of order, reported once as a D-SACK with the block
 * that holds it after it (RFC 2883); receive buffer autotuning grows the
 * buffer for a reader that keeps pace, not for a slow one, and never once
 * RCVBUF was set.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "tcp_impl.h"
#include "thread.h"

#define BASE 0xfffffe00u        /* RCV.NXT just below the wrap */

struct reass_result {
	char text[128];
	size_t textlen;
	bool in_order[8], fin_seen;
	uint32_t rcv_nxt_after;
	unsigned nsack;
	uint32_t sack0_left, sack0_right, sack1_left;
	uint32_t ooo_bufs_bounded;
	uint32_t wnd_initial, wnd_after_small_read, wnd_after_big_read, wnd_never_shrinks;
	unsigned left;
};

/* seg: a segment of text at seq, with or without a FIN. */
static bool feed(struct tcp_conn *c, uint32_t seq, const char *text, bool fin, bool *fin_now)
{
	struct netbuf *nb = netbuf_alloc();
	size_t n = strlen(text);
	memcpy(netbuf_put(nb, n), text, n);
	struct tcp_seg s = { .seq = seq, .len = (uint32_t)n, .flags = fin ? TCP_FIN : 0, .nb = nb };
	/* The caller's trim (tcp_conn_input) first: nothing before RCV.NXT. */
	if (seq_lt(s.seq, c->rcv_nxt)) {
		uint32_t dup = c->rcv_nxt - s.seq;
		netbuf_pull(nb, dup);
		s.seq += dup;
		s.len -= dup;
	}
	bool f = false;
	bool r = tcp_rcv_data(c, &s, &f);
	if (f) {
		c->rcv_nxt++;
		*fin_now = true;
	}
	return r;
}

static int reass_body(void *arg)
{
	struct reass_result *r = arg;
	struct tcp_conn *c = tcp_conn_new(0);
	c->rcv_nxt = BASE;
	c->rcvbuf = 64 * 1024;
	c->adv_mss = 1460;
	c->sack_ok = true;
	bool fin = false;
	/* "hello, world, !!": "hello" in order; "ld" after a gap; "!!" and
	 * the FIN after another; then the gaps filled by overlapping sends. */
	r->in_order[0] = feed(c, BASE, "hello", false, &fin);
	r->in_order[1] = feed(c, BASE + 10, "ld", false, &fin);           /* gap 5..9 */
	r->in_order[2] = feed(c, BASE + 14, "!!", true, &fin);            /* gap 12..13 */
	struct tcp_opts o = { 0 };
	r->nsack = tcp_rcv_sack_blocks(c, &o, 3);
	r->sack0_left = o.sack[0].left - BASE;
	r->sack0_right = o.sack[0].right - BASE;
	r->sack1_left = o.sack[1].left - BASE;
	r->in_order[3] = feed(c, BASE + 10, "ld", false, &fin);           /* duplicate */
	r->in_order[4] = feed(c, BASE + 3, "lo, wor", false, &fin);       /* overlaps the front */
	r->in_order[5] = feed(c, BASE + 11, "d, ", false, &fin);          /* overlaps both */
	r->fin_seen = fin;
	r->rcv_nxt_after = c->rcv_nxt - BASE;
	r->textlen = tcp_rcv_copy(c, (uint8_t *)r->text, sizeof(r->text) - 1, true);

	/* Out-of-order memory is bounded: far segments beyond it are dropped. */
	char chunk[1001];
	memset(chunk, 'x', 1000);
	chunk[1000] = 0;
	for (unsigned i = 0; i < 400; i++)
		feed(c, c->rcv_nxt + 2000 + 1000 * i, chunk, false, &fin);
	r->ooo_bufs_bounded = c->ooo_bytes <= c->rcvbuf && c->ooo_bufs <= 256;
	tcp_rcv_purge(c);

	/* The window: the whole buffer at first. */
	c->rcv_adv = c->rcv_nxt;
	r->wnd_initial = tcp_rcv_window(c) << c->rcv_wscale;
	c->rcv_adv = c->rcv_nxt + r->wnd_initial;
	/* Fill 60000 bytes: the window left is what was announced minus that. */
	for (unsigned i = 0; i < 60; i++)
		feed(c, c->rcv_nxt, chunk, false, &fin);
	uint8_t sink[4096];
	/* Reading 100 bytes would open it by less than an MSS: not announced. */
	tcp_rcv_copy(c, sink, 100, true);
	r->wnd_after_small_read = tcp_rcv_window(c);
	/* Reading 4000 more opens it. */
	tcp_rcv_copy(c, sink, 4000, true);
	r->wnd_after_big_read = tcp_rcv_window(c);
	/* Announce a large window, then fill the buffer past it: the window
	 * announced is never taken back (the right edge stays). */
	c->rcv_adv = c->rcv_nxt + r->wnd_after_big_read;
	uint32_t edge = c->rcv_adv;
	for (unsigned i = 0; i < 3; i++)
		feed(c, c->rcv_nxt, chunk, false, &fin);
	r->wnd_never_shrinks = seq_geq(c->rcv_nxt + tcp_rcv_window(c), edge);
	tcp_rcv_purge(c);
	c->user_ref = false;
	tcp_conn_maybe_free(c);
	r->left = tcp_conn_count();
	return 0;
}

Test(tcp_reass, order_gaps_overlaps_fin)
{
	struct reass_result r;
	memset(&r, 0, sizeof(r));
	cr_assert_eq(run_in_kernel(1, reass_body, &r), 0);
	cr_assert(r.in_order[0] && !r.in_order[1] && !r.in_order[2] && !r.in_order[3]);
	cr_assert(r.in_order[4] && r.in_order[5]);
	cr_assert_eq(r.nsack, 2);
	cr_assert(r.sack0_left == 14 && r.sack0_right == 16, "latest arrival first (%u-%u)",
	          r.sack0_left, r.sack0_right);
	cr_assert_eq(r.sack1_left, 10);
	r.text[r.textlen] = 0;
	cr_assert_str_eq(r.text, "hello, world, !!");
	cr_assert(r.fin_seen, "the FIN after the gap is taken once the gap fills");
	cr_assert_eq(r.rcv_nxt_after, 17, "16 bytes and the FIN");
	cr_assert(r.ooo_bufs_bounded);
	cr_assert_eq(r.left, 0, "the connection is freed");
}

Test(tcp_reass, window)
{
	struct reass_result r;
	memset(&r, 0, sizeof(r));
	cr_assert_eq(run_in_kernel(1, reass_body, &r), 0);
	cr_assert_eq(r.wnd_initial, 64 * 1024 - 1, "the buffer, in the unscaled field");
	cr_assert_eq(r.wnd_after_small_read, 64 * 1024 - 1 - 60000,
	             "100 bytes read do not open it (SWS): %u", r.wnd_after_small_read);
	cr_assert_eq(r.wnd_after_big_read, 64 * 1024 - 60000 + 4100);
	cr_assert(r.wnd_never_shrinks);
}

/* ---- D-SACK of data already held (RFC 2883) ---- */

struct dsack_result {
	unsigned n_in_order, n_again, n_partial, n_no_sack;
	uint32_t in_order[2], partial[4];
	bool no_sack_due;
};

/* blocks_of: o's first n SACK blocks as offsets from BASE, left and right. */
static void blocks_of(const struct tcp_opts *o, uint32_t *out, unsigned n)
{
	for (unsigned i = 0; i < n && i < o->nsack; i++) {
		out[2 * i] = o->sack[i].left - BASE;
		out[2 * i + 1] = o->sack[i].right - BASE;
	}
}

static int dsack_held_body(void *arg)
{
	struct dsack_result *r = arg;
	struct tcp_conn *c = tcp_conn_new(0);
	c->rcv_nxt = BASE;
	c->rcvbuf = 64 * 1024;
	c->sack_ok = true;
	bool fin = false;
	struct tcp_opts o = { 0 };
	/* "ab" and "ef" held; "abcdefgh" in order covers both, with "cd"
	 * between them new: only the first stretch held, "ab", came twice. */
	feed(c, BASE + 2, "ab", false, &fin);
	feed(c, BASE + 6, "ef", false, &fin);
	tcp_rcv_sack_blocks(c, &o, 3);              /* the plain blocks, sent */
	feed(c, BASE, "xxabcdefgh", false, &fin);
	r->n_in_order = tcp_rcv_sack_blocks(c, &o, 3);
	blocks_of(&o, r->in_order, 1);
	r->n_again = tcp_rcv_sack_blocks(c, &o, 3);     /* reported once */
	/* Out of order: "mnop" held, "opqr" arrives: "op" came twice, and
	 * the block holding it is now "mnopqr"; "vw" held further on. */
	feed(c, BASE + 20, "vw", false, &fin);
	feed(c, BASE + 12, "mnop", false, &fin);
	feed(c, BASE + 14, "opqr", false, &fin);
	r->n_partial = tcp_rcv_sack_blocks(c, &o, 2);   /* room for two */
	blocks_of(&o, r->partial, 2);
	/* No SACK agreed: nothing to report. */
	c->sack_ok = false;
	feed(c, BASE + 12, "mn", false, &fin);
	r->no_sack_due = c->dsack_due;
	tcp_rcv_purge(c);
	c->user_ref = false;
	tcp_conn_maybe_free(c);
	return 0;
}

Test(tcp_reass, dsack_of_held_data)
{
	struct dsack_result r;
	memset(&r, 0, sizeof(r));
	cr_assert_eq(run_in_kernel(1, dsack_held_body, &r), 0);
	cr_assert_eq(r.n_in_order, 1, "the D-SACK alone: nothing is held any more");
	cr_assert(r.in_order[0] == 2 && r.in_order[1] == 4, "%u-%u", r.in_order[0], r.in_order[1]);
	cr_assert_eq(r.n_again, 0, "a D-SACK goes in one segment only");
	cr_assert_eq(r.n_partial, 2);
	cr_assert(r.partial[0] == 14 && r.partial[1] == 16, "the overlap first (%u-%u)",
	          r.partial[0], r.partial[1]);
	cr_assert(r.partial[2] == 12 && r.partial[3] == 18, "then the block holding it (%u-%u)",
	          r.partial[2], r.partial[3]);
	cr_assert(!r.no_sack_due);
}

/* ---- Autotuning ---- */

struct autotune_result {
	uint8_t wscale;
	uint32_t after_fast, after_slow, after_cap, locked, unscaled;
};

static int autotune_body(void *arg)
{
	struct autotune_result *r = arg;
	struct tcp_conn *c = tcp_conn_new(0);
	if (!c)
		return -1;
	r->wscale = c->rcv_wscale = tcp_rcv_wscale(c);
	/* No RTT measured: a round trip counts as 1 ms. A reader that took
	 * 200000 bytes in one (more than half the buffer) doubles that. */
	c->rcv_epoch_ns = hal_clock_ns();
	tcp_rcv_autotune(c, 200000);
	thread_sleep_ms(2);
	tcp_rcv_autotune(c, 0);
	r->after_fast = c->rcvbuf;
	/* A slow one: 10000 bytes in a round trip change nothing. */
	tcp_rcv_autotune(c, 10000);
	thread_sleep_ms(2);
	tcp_rcv_autotune(c, 0);
	r->after_slow = c->rcvbuf;
	/* Growth stops at the ceiling. */
	tcp_rcv_autotune(c, 3u * 1024 * 1024);
	thread_sleep_ms(2);
	tcp_rcv_autotune(c, 0);
	r->after_cap = c->rcvbuf;
	/* RCVBUF set by the user: as asked, whatever the pace. */
	c->rcvbuf = 65536;
	c->rcvbuf_auto = false;
	tcp_rcv_autotune(c, 3u * 1024 * 1024);
	thread_sleep_ms(2);
	tcp_rcv_autotune(c, 0);
	r->locked = c->rcvbuf;
	/* A peer without window scaling: the field says at most 64 KiB, and
	 * the buffer stays as it is (never shrinks to that). */
	c->rcvbuf = TCP_DEFAULT_BUF;
	c->rcvbuf_auto = true;
	c->rcv_wscale = 0;
	tcp_rcv_autotune(c, 3u * 1024 * 1024);
	thread_sleep_ms(2);
	tcp_rcv_autotune(c, 0);
	r->unscaled = c->rcvbuf;
	tcp_conn_maybe_free(c);
	return 0;
}

Test(tcp_reass, autotune)
{
	struct autotune_result r;
	cr_assert_eq(run_in_kernel(1, autotune_body, &r), 0);
	cr_assert_eq(r.wscale, 7, "the scale offered can say the 4 MiB ceiling");
	cr_assert_eq(r.after_fast, 400000, "a reader keeping pace: twice its pace (%u)", r.after_fast);
	cr_assert_eq(r.after_slow, 400000, "a slow reader: unchanged");
	cr_assert_eq(r.after_cap, TCP_RCVBUF_AUTO_MAX);
	cr_assert_eq(r.locked, 65536);
	cr_assert_eq(r.unscaled, TCP_DEFAULT_BUF);
}
