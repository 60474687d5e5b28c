/*
 * test_tcp_link.c: bulk TCP through the whole stack, two ends over the
 * in-memory link of memlink.h (10.9.0.1 on interface 0, 10.9.0.2 on
 * interface 1; see memlink.c for why one kernel holds both): 64 MiB from
 * one end to the other, each way, and both ways at once over one
 * connection, on a clean link and on one that drops 5% of the frames,
 * duplicates 2%, holds 3% back so later ones overtake them, and delays
 * every frame. Every byte is checked where it lands against the sender's
 * pattern (its offset in the stream picks it), so loss, a duplicate or a
 * reordering that got through would show as the first wrong offset. The
 * link's counters show that the impairments really happened, and TCP's
 * that it retransmitted.
 *
 * Through Toro's socket API (socket.h), as a service would: the connecting
 * end on CPU 0, the accepting end on CPU 1.
 *
 * Run time: on the lossy link RACK-TLP (tcp_rack.c) repairs nearly every
 * loss within a round trip or a probe timeout, yet a few RTOs (at least
 * 200 ms each, idle) remain: about 10 s for 16 MiB one way, 40 s for the
 * both-ways test (before RACK-TLP: 22 s and 100 s, some 70 and 640 RTOs).
 * So the one-way lossy streams are 16 MiB unless TORO_LINK_MIB says
 * otherwise (make test-link-stress: 64), and the both-ways test, whose two
 * streams wait in parallel, is 64 MiB each way. Each test prints its RTO,
 * TLP and RACK counts.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "hal.h"
#include "link_util.h"
#include "thread.h"
#include "toro.h"

#define PORT        5001
#define STREAM_MIB  64
#define CHUNK       (64 * 1024)
#define IO_TIMEOUT_MS 100000    /* a stall fails the test instead of hanging it */

/* One direction of data: what the sender wrote, what the receiver found. */
struct stream {
	uint64_t seed;
	size_t bytes;
	long sent;                  /* bytes, or -errno */
	long received;              /* bytes in order and right, or -errno */
	long bad_at;                /* first wrong offset, -1 none */
};

/* ---- the pattern: byte p of a stream is byte p % 8 of mix(seed + p / 8) ---- */

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void pattern(uint64_t seed, size_t off, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t pos = off + i;
		uint64_t w = mix(seed + pos / 8);
		for (unsigned b = pos % 8; b < 8 && i < n; b++, i++)
			buf[i] = (uint8_t)(w >> (8 * b));
	}
}

/* ---- one end ---- */

static long send_stream(TSocket s, struct stream *st)
{
	uint8_t *buf = kmalloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	size_t off = 0;
	long rc = 0;
	while (off < st->bytes) {
		size_t n = st->bytes - off < CHUNK ? st->bytes - off : CHUNK;
		pattern(st->seed, off, buf, n);
		rc = SysSocketSend(s, buf, n, 0);
		if (rc < 0)
			break;
		off += (size_t)rc;
	}
	kfree(buf);
	if (rc >= 0)
		rc = SysSocketShutdown(s, 1);       /* FIN after the data */
	return rc < 0 ? rc : (long)off;
}

static long recv_stream(TSocket s, struct stream *st)
{
	uint8_t *buf = kmalloc(CHUNK), *want = kmalloc(CHUNK);
	long got = 0;
	if (!buf || !want)
		got = -ENOMEM;
	while (got >= 0) {
		long n = SysSocketRecv(s, buf, CHUNK, 0);
		if (n <= 0) {
			got = n < 0 ? n : got;
			break;
		}
		pattern(st->seed, (size_t)got, want, (size_t)n);
		if (memcmp(buf, want, (size_t)n) != 0 && st->bad_at < 0) {
			long i = 0;
			while (buf[i] == want[i])
				i++;
			st->bad_at = got + i;
		}
		got += n;
	}
	kfree(buf);
	kfree(want);
	return got;
}

struct end {
	TSocket s;
	struct stream *out, *in;    /* what this end sends, receives (or NULL) */
};

static int recv_thread(void *arg)
{
	struct end *e = arg;
	e->in->received = recv_stream(e->s, e->in);
	return 0;
}

/* run_end: send out and receive in at once (a thread of this CPU, which
 * owns the socket, receives), then close. */
static void run_end(struct end *e)
{
	struct thread *rx = NULL;
	if (e->in) {
		rx = thread_create(hal_cpu_id(), recv_thread, e, 0);
		if (!rx)
			e->in->received = -ENOMEM;
	}
	if (e->out)
		e->out->sent = send_stream(e->s, e->out);
	if (rx)
		thread_join(rx);
	/* A one-way sender waits for the receiver's close (its FIN). */
	if (!e->in) {
		char c;
		SysSocketRecv(e->s, &c, 1, 0);
	}
	SysSocketClose(e->s);
}

static void set_timeouts(TSocket s)
{
	SysSocketSetOpt(s, SOCKOPT_RCVTIMEO_MS, IO_TIMEOUT_MS);
	SysSocketSetOpt(s, SOCKOPT_SNDTIMEO_MS, IO_TIMEOUT_MS);
}

/* ---- a transfer ---- */

struct transfer {
	struct memlink_config link;
	struct stream ab, ba;       /* 10.9.0.1 -> 10.9.0.2 and back; bytes 0: none */
	struct link_result r;
	TSocket listener;
	int listening;              /* 1 once the listener is up, -1 if it failed */
	struct end server;
	int accepted;
	struct memlink_stats wire[2];
	uint64_t retransmits, timeouts, tlp_probes, rack_lost;
	uint32_t established_after;
	uint64_t elapsed_ms;
};

/* server_thread: listens and accepts on CPU 1. The listener is made here,
 * not on CPU 0: a SYN that comes before any thread accepts goes to the
 * listener's own CPU, and only a thread of that CPU can accept it. */
static int server_thread(void *arg)
{
	struct transfer *t = arg;
	struct TSockAddr b = { LINK_B_IP, PORT };
	t->listener = SysSocket(SOCKET_STREAM);
	if (SysSocketBind(t->listener, &b) < 0 || SysSocketListen(t->listener, 4) < 0) {
		__atomic_store_n(&t->listening, -1, __ATOMIC_RELEASE);
		return 0;
	}
	set_timeouts(t->listener);
	__atomic_store_n(&t->listening, 1, __ATOMIC_RELEASE);
	TSocket c = SysSocketAccept(t->listener, NULL);
	SysSocketClose(t->listener);
	t->accepted = c;
	if (c < 0)
		return 0;
	set_timeouts(c);
	t->server.s = c;
	run_end(&t->server);
	return 0;
}

static int transfer_body(void *arg)
{
	struct transfer *t = arg;
	struct link_result *r = &t->r;
	uint64_t start = hal_clock_ns();

	struct TSockAddr b = { LINK_B_IP, PORT }, a = { LINK_A_IP, 0 };
	t->server = (struct end){ -1, t->ba.bytes ? &t->ba : NULL, t->ab.bytes ? &t->ab : NULL };
	struct thread *srv = thread_create(1, server_thread, t, 0);
	LCHECK(r, srv != NULL, 0);
	while (srv && !__atomic_load_n(&t->listening, __ATOMIC_ACQUIRE))
		thread_sleep_ms(1);
	LCHECK(r, t->listening == 1, t->listening);

	TSocket s = SysSocket(SOCKET_STREAM);
	set_timeouts(s);
	LCHECK(r, SysSocketBind(s, &a) == 0, 0);
	int rc = SysSocketConnect(s, &b);
	LCHECK(r, rc == 0, rc);
	if (rc == 0) {
		struct end client = { s, t->ab.bytes ? &t->ab : NULL, t->ba.bytes ? &t->ba : NULL };
		run_end(&client);
	} else {
		SysSocketClose(s);
	}
	if (srv)
		thread_join(srv);
	t->elapsed_ms = (hal_clock_ns() - start) / 1000000;

	struct TNetStats ns;
	SysNetStats(-1, &ns);
	t->retransmits = ns.tcp_retransmits;
	t->timeouts = ns.tcp_timeouts;
	t->tlp_probes = ns.tcp_tlp_probes;
	t->rack_lost = ns.tcp_rack_lost;
	t->established_after = ns.tcp_states[TNET_ESTABLISHED];
	memlink_stats(memlink_current(), 0, &t->wire[0]);
	memlink_stats(memlink_current(), 1, &t->wire[1]);
	return 0;
}

static const struct memlink_config clean_link = {
	.seed = 1, .delay_us = 50, .queue_max = 2048,
};

/* 5% loss, 2% duplicates, 3% overtaken, every frame 100-150 us late. */
static const struct memlink_config lossy_link = {
	.seed = 0x70726f, .drop_ppm = 50000, .dup_ppm = 20000, .reorder_ppm = 30000,
	.delay_us = 100, .jitter_us = 50, .reorder_us = 500, .queue_max = 2048,
};

static void run_transfer(struct transfer *t, size_t ab_bytes, size_t ba_bytes)
{
	t->ab = (struct stream){ 0xab, ab_bytes, 0, 0, -1 };
	t->ba = (struct stream){ 0xba, ba_bytes, 0, 0, -1 };
	cr_assert_eq(link_boot(2, &t->link, transfer_body, t), 0);
	cr_log_info("%zu+%zu bytes in %lu ms, %lu retransmits, %lu RTOs, %lu TLPs, %lu RACK-lost; "
	            "wire a->b sent %lu dropped %lu dup %lu reordered %lu refused %lu; "
	            "b->a sent %lu dropped %lu\n",
	            ab_bytes, ba_bytes, (unsigned long)t->elapsed_ms, (unsigned long)t->retransmits,
	            (unsigned long)t->timeouts, (unsigned long)t->tlp_probes,
	            (unsigned long)t->rack_lost,
	            (unsigned long)t->wire[0].sent, (unsigned long)t->wire[0].dropped,
	            (unsigned long)t->wire[0].duplicated, (unsigned long)t->wire[0].reordered,
	            (unsigned long)t->wire[0].refused, (unsigned long)t->wire[1].sent,
	            (unsigned long)t->wire[1].dropped);
	cr_assert_eq(t->r.line, 0, "line %d: %s (%ld)", t->r.line, t->r.what, t->r.value);
	cr_assert_geq(t->accepted, 0, "accept: %d", t->accepted);
	struct stream *both[2] = { &t->ab, &t->ba };
	for (unsigned i = 0; i < 2; i++) {
		struct stream *st = both[i];
		if (!st->bytes)
			continue;
		cr_assert_eq(st->sent, (long)st->bytes, "%s sent %ld", i ? "b->a" : "a->b", st->sent);
		cr_assert_eq(st->bad_at, -1, "%s: byte %ld wrong", i ? "b->a" : "a->b", st->bad_at);
		cr_assert_eq(st->received, (long)st->bytes, "%s received %ld", i ? "b->a" : "a->b",
		             st->received);
	}
	cr_assert_eq(t->established_after, 0);
	cr_assert_eq(t->wire[0].bad + t->wire[1].bad, 0, "frames the link could not carry");
}

static void assert_impaired(const struct transfer *t, unsigned side)
{
	const struct memlink_stats *w = &t->wire[side];
	cr_assert_gt(w->dropped, w->sent / 40, "side %u: %lu of %lu dropped", side,
	             (unsigned long)w->dropped, (unsigned long)w->sent);
	cr_assert_gt(w->duplicated, 0);
	cr_assert_gt(w->reordered, 0);
	cr_assert_gt(t->retransmits, 0);
}

#define MIB ((size_t)1 << 20)

/* one_way_bytes: TORO_LINK_MIB MiB (1..1024), else 16 MiB. */
static size_t one_way_bytes(void)
{
	const char *e = getenv("TORO_LINK_MIB");
	long mib = e ? strtol(e, NULL, 10) : 0;
	return (mib >= 1 && mib <= 1024 ? (size_t)mib : 16) * MIB;
}

Test(tcp_link, clean_64mib_one_way, .timeout = 300)
{
	static struct transfer t = { .link = clean_link };
	run_transfer(&t, STREAM_MIB * MIB, 0);
	cr_assert_eq(t.wire[0].dropped, 0);
}

Test(tcp_link, lossy_a_to_b, .timeout = 600)
{
	static struct transfer t = { .link = lossy_link };
	run_transfer(&t, one_way_bytes(), 0);
	assert_impaired(&t, 0);
}

Test(tcp_link, lossy_b_to_a, .timeout = 600)
{
	static struct transfer t = { .link = lossy_link };
	run_transfer(&t, 0, one_way_bytes());
	assert_impaired(&t, 1);
}

Test(tcp_link, lossy_64mib_both_ways_at_once, .timeout = 600)
{
	static struct transfer t = { .link = lossy_link };
	size_t n = getenv("TORO_LINK_MIB") ? one_way_bytes() : STREAM_MIB * MIB;
	run_transfer(&t, n, n);
	assert_impaired(&t, 0);
	assert_impaired(&t, 1);
}
