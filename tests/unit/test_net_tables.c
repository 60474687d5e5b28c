/*
 * test_net_tables.c: the stack's bounded tables, driven with their own
 * clock inside a booted kernel (they hold netbufs, which need its
 * allocator): IPv4 reassembly (order, overlap, duplicates, timeouts, the
 * bounds on datagrams, pieces and lengths) and the ARP cache (queued
 * packets, bounds, eviction, retries and timeouts). Every test also checks
 * that the kernel allocator holds no more bytes at its end than at its
 * start: whatever the tables drop is freed.
 *
 * The kernel side records the first failed check; Criterion asserts after.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "alloc.h"
#include "arp_cache.h"
#include "harness.h"
#include "ip_frag.h"
#include "stack.h"
#include "wire.h"

struct result {
	int line;           /* of the first failed check; 0 when all passed */
	char what[160];
};

#define CHECK(r, cond) do { \
	if (!(cond) && !(r)->line) { \
		(r)->line = __LINE__; \
		strncpy((r)->what, #cond, sizeof((r)->what) - 1); \
	} \
} while (0)

#define SRC IP4(192, 168, 7, 1)
#define DST IP4(192, 168, 7, 2)
#define NS  1000000000ull

/* fragment: an IPv4 fragment of datagram id carrying payload bytes
 * [off, off + len) of a pattern (byte i is i * 13 % 251). */
static struct netbuf *fragment(uint16_t id, unsigned off, unsigned len, bool more)
{
	struct netbuf *nb = netbuf_alloc();
	if (!nb)
		return NULL;
	uint8_t *h = netbuf_put(nb, IP_HLEN + len);
	if (!h) {
		netbuf_free(nb);
		return NULL;
	}
	memset(h, 0, IP_HLEN);
	h[IP_VER_IHL] = 0x45;
	put_be16(h + IP_TOTLEN, (uint16_t)(IP_HLEN + len));
	put_be16(h + IP_ID, id);
	put_be16(h + IP_FRAG, (uint16_t)((more ? IP_FLAG_MF : 0) | (off / 8)));
	h[IP_TTL] = 64;
	h[IP_PROTO] = IP_PROTO_UDP;
	put_be32(h + IP_SRC, SRC);
	put_be32(h + IP_DST, DST);
	put_be16(h + IP_CSUM, inet_fold(inet_sum(h, IP_HLEN, 0)));
	for (unsigned i = 0; i < len; i++)
		h[IP_HLEN + i] = (uint8_t)((off + i) * 13 % 251);
	return nb;
}

/* whole_ok: nb is the reassembled datagram of total payload bytes. */
static bool whole_ok(struct netbuf *nb, unsigned total)
{
	const uint8_t *h = nb->data;
	unsigned hlen, tot;
	if (ipv4_check(h, nb->len, &hlen, &tot) != IPV4_OK || tot != IP_HLEN + total ||
	    (get_be16(h + IP_FRAG) & (IP_FLAG_MF | IP_OFFSET_MASK)))
		return false;
	for (unsigned i = 0; i < total; i++) {
		if (h[IP_HLEN + i] != (uint8_t)(i * 13 % 251))
			return false;
	}
	return true;
}

static uint64_t bytes_in_use(void)
{
	struct alloc_stats s;
	alloc_stats(-1, &s);
	return s.bytes_in_use;
}

/* The three fragments of a 4008-byte payload (ping -s 4000 and its
 * ICMP header) over a 1500-byte MTU. */
static const unsigned piece_off[3] = { 0, 1480, 2960 };
static const unsigned piece_len[3] = { 1480, 1480, 1048 };
#define TOTAL 4008

static struct netbuf *feed(struct frag_table *t, uint16_t id, unsigned i, uint64_t now)
{
	return frag_table_input(t, fragment(id, piece_off[i], piece_len[i], i < 2), now);
}

static int reassembly_orders(void *arg)
{
	struct result *r = arg;
	static struct frag_table t;
	static const unsigned orders[6][3] = {
		{ 0, 1, 2 }, { 2, 1, 0 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 0, 2, 1 },
	};
	uint64_t before = bytes_in_use();
	frag_table_init(&t);
	for (unsigned o = 0; o < 6; o++) {
		struct netbuf *w = NULL;
		for (unsigned k = 0; k < 3; k++) {
			w = feed(&t, (uint16_t)(100 + o), orders[o][k], 0);
			CHECK(r, (w != NULL) == (k == 2));
		}
		CHECK(r, w && whole_ok(w, TOTAL));
		netbuf_free(w);
	}
	CHECK(r, t.reassembled == 6);
	CHECK(r, frag_table_in_progress(&t) == 0 && t.bytes == 0);
	CHECK(r, bytes_in_use() == before);
	return 0;
}

static int reassembly_overlap_and_duplicates(void *arg)
{
	struct result *r = arg;
	static struct frag_table t;
	uint64_t before = bytes_in_use();
	frag_table_init(&t);

	/* An exact duplicate is dropped alone: the datagram still completes. */
	CHECK(r, !feed(&t, 1, 0, 0));
	CHECK(r, !feed(&t, 1, 0, 0));
	CHECK(r, !feed(&t, 1, 2, 0));
	struct netbuf *w = feed(&t, 1, 1, 0);
	CHECK(r, w && whole_ok(w, TOTAL));
	netbuf_free(w);

	/* A fragment overlapping another drops the whole datagram; what
	 * comes after starts a new one that never completes. */
	CHECK(r, !feed(&t, 2, 0, 0));
	CHECK(r, !frag_table_input(&t, fragment(2, 8, 1480, true), 0));
	CHECK(r, t.overlaps == 1 && frag_table_in_progress(&t) == 0);
	CHECK(r, !feed(&t, 2, 1, 0));
	CHECK(r, !feed(&t, 2, 2, 0));
	CHECK(r, frag_table_in_progress(&t) == 1);

	/* Overlap from the front: a later fragment reaching into the next. */
	CHECK(r, !frag_table_input(&t, fragment(3, 1480, 1480, true), 0));
	CHECK(r, !frag_table_input(&t, fragment(3, 0, 1488, true), 0));
	CHECK(r, t.overlaps == 2);

	/* Two different ends; data past the end; a middle piece not a
	 * multiple of 8; past 64 KiB; empty. */
	CHECK(r, !frag_table_input(&t, fragment(4, 1480, 100, false), 0));
	CHECK(r, !frag_table_input(&t, fragment(4, 1480, 200, false), 0));
	CHECK(r, !frag_table_input(&t, fragment(5, 96, 8, false), 0));
	CHECK(r, !frag_table_input(&t, fragment(5, 200, 104, true), 0));
	CHECK(r, !frag_table_input(&t, fragment(6, 0, 100, true), 0));
	CHECK(r, !frag_table_input(&t, fragment(7, 8189 * 8, 100, false), 0));
	CHECK(r, !frag_table_input(&t, fragment(8, 80, 0, true), 0));

	frag_table_clear(&t);
	CHECK(r, t.bytes == 0);
	CHECK(r, bytes_in_use() == before);
	return 0;
}

static int reassembly_timeout_and_bounds(void *arg)
{
	struct result *r = arg;
	static struct frag_table t;
	uint64_t before = bytes_in_use();
	frag_table_init(&t);

	/* 30 s after its first fragment a datagram is dropped. */
	CHECK(r, !feed(&t, 1, 0, 0));
	frag_table_expire(&t, FRAG_TIMEOUT_NS - 1);
	CHECK(r, frag_table_in_progress(&t) == 1);
	CHECK(r, !feed(&t, 1, 1, FRAG_TIMEOUT_NS - 1));
	frag_table_expire(&t, FRAG_TIMEOUT_NS);
	CHECK(r, frag_table_in_progress(&t) == 0 && t.timeouts == 1 && t.bytes == 0);
	CHECK(r, !feed(&t, 1, 2, FRAG_TIMEOUT_NS));       /* too late: a new one */
	frag_table_clear(&t);

	/* At most FRAG_MAX_DGRAMS in progress; the ones there keep it. */
	for (unsigned id = 0; id < FRAG_MAX_DGRAMS + 5; id++)
		CHECK(r, !feed(&t, (uint16_t)(1000 + id), 0, 0));
	CHECK(r, frag_table_in_progress(&t) == FRAG_MAX_DGRAMS);
	struct netbuf *w = feed(&t, 1000, 1, 0);
	CHECK(r, !w);
	w = feed(&t, 1000, 2, 0);
	CHECK(r, w && whole_ok(w, TOTAL));
	netbuf_free(w);
	CHECK(r, !feed(&t, 1000 + FRAG_MAX_DGRAMS, 1, 0));      /* was refused */
	frag_table_clear(&t);

	/* At most FRAG_MAX_PIECES pieces: tiny ones with gaps between. */
	for (unsigned i = 0; i < FRAG_MAX_PIECES; i++)
		CHECK(r, !frag_table_input(&t, fragment(9, i * 16, 8, true), 0));
	CHECK(r, frag_table_in_progress(&t) == 1);
	CHECK(r, !frag_table_input(&t, fragment(9, FRAG_MAX_PIECES * 16, 8, true), 0));
	CHECK(r, frag_table_in_progress(&t) == 0);

	/* The memory bound: buffers held never pass FRAG_MAX_BYTES. */
	for (unsigned i = 0; i < 4000; i++) {
		frag_table_input(&t, fragment((uint16_t)(i % FRAG_MAX_DGRAMS), (i / FRAG_MAX_DGRAMS) * 16, 8, true), 0);
		CHECK(r, t.bytes <= FRAG_MAX_BYTES);
	}
	frag_table_clear(&t);
	CHECK(r, t.bytes == 0);
	CHECK(r, bytes_in_use() == before);
	return 0;
}

static void run(kernel_body body)
{
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel(1, body, &r), 0);
	cr_assert_eq(r.line, 0, "line %d: %s", r.line, r.what);
}

Test(ip_frag, any_order_completes) { run(reassembly_orders); }
Test(ip_frag, overlaps_and_inconsistencies_drop) { run(reassembly_overlap_and_duplicates); }
Test(ip_frag, timeout_and_bounds) { run(reassembly_timeout_and_bounds); }

/* ---- the ARP cache ---- */

static void free_list(struct list *l, unsigned *count)
{
	struct list *link;
	while ((link = list_pop_front(l)) != NULL) {
		netbuf_free(list_entry(link, struct netbuf, link));
		if (count)
			(*count)++;
	}
}

static int arp_queue_and_resolve(void *arg)
{
	struct result *r = arg;
	static struct arp_cache c;
	struct netif *nif = (struct netif *)&c;     /* any distinct pointer */
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	uint8_t got[6];
	bool ask;
	struct list ready, dropped;
	unsigned nready = 0, ndropped = 0;
	uint64_t before = bytes_in_use();

	list_init(&ready);
	list_init(&dropped);
	arp_cache_init(&c);
	for (unsigned i = 0; i < ARP_QUEUE_MAX + 2; i++) {
		CHECK(r, !arp_cache_lookup(&c, nif, SRC, netbuf_alloc(), got, 0, &ask, &dropped));
		CHECK(r, ask == (i == 0));              /* one request, not one a packet */
	}
	free_list(&dropped, &ndropped);
	CHECK(r, ndropped == 2);
	CHECK(r, arp_cache_update(&c, nif, SRC, mac, 0, false, &ready, &dropped));
	free_list(&ready, &nready);
	CHECK(r, nready == ARP_QUEUE_MAX);
	CHECK(r, arp_cache_lookup(&c, nif, SRC, NULL, got, 0, &ask, &dropped));
	CHECK(r, memcmp(got, mac, 6) == 0 && !ask);

	/* An answer for an address no one asked about is not learned unless
	 * the caller says so (it was aimed at us). */
	CHECK(r, !arp_cache_update(&c, nif, DST, mac, 0, false, &ready, &dropped));
	CHECK(r, arp_cache_update(&c, nif, DST, mac, 0, true, &ready, &dropped));
	CHECK(r, arp_cache_used(&c) == 2);
	CHECK(r, bytes_in_use() == before);
	return 0;
}

static int arp_bounds_and_timeouts(void *arg)
{
	struct result *r = arg;
	static struct arp_cache c;
	struct netif *nif = (struct netif *)&c;
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 2 };
	uint8_t got[6];
	bool ask;
	struct list ready, dropped;
	struct arp_retry retry[ARP_CACHE_SIZE];
	uint64_t before = bytes_in_use();

	list_init(&ready);
	list_init(&dropped);
	arp_cache_init(&c);

	/* Bounded: more addresses than entries; the oldest resolved go. */
	for (unsigned i = 0; i < ARP_CACHE_SIZE + 10; i++)
		arp_cache_update(&c, nif, IP4(10, 0, 0, 1) + i, mac, i, true, &ready, &dropped);
	CHECK(r, arp_cache_used(&c) == ARP_CACHE_SIZE);
	CHECK(r, !arp_cache_find(&c, nif, IP4(10, 0, 0, 1)));
	CHECK(r, arp_cache_find(&c, nif, IP4(10, 0, 0, 1) + ARP_CACHE_SIZE + 9));

	/* Resolved entries are forgotten ARP_REACHABLE_NS after their update. */
	unsigned n = arp_cache_expire(&c, ARP_REACHABLE_NS + 19, retry, ARP_CACHE_SIZE, &dropped);
	CHECK(r, n == 0 && arp_cache_used(&c) == ARP_CACHE_SIZE - 10);
	arp_cache_expire(&c, ARP_REACHABLE_NS + 100, retry, ARP_CACHE_SIZE, &dropped);
	CHECK(r, arp_cache_used(&c) == 0);

	/* An unanswered address: asked again each ARP_RETRY_NS, ARP_TRIES
	 * requests in all, then forgotten with its waiting packet. */
	CHECK(r, !arp_cache_lookup(&c, nif, DST, netbuf_alloc(), got, 0, &ask, &dropped) && ask);
	unsigned asked = 1;
	for (uint64_t now = 0; now <= 10 * NS; now += NS / 2)
		asked += arp_cache_expire(&c, now, retry, ARP_CACHE_SIZE, &dropped);
	CHECK(r, asked == ARP_TRIES);
	CHECK(r, arp_cache_used(&c) == 0);
	unsigned ndropped = 0;
	free_list(&dropped, &ndropped);
	CHECK(r, ndropped == 1);

	/* A full cache of unresolved entries still takes a new one, dropping
	 * the oldest entry's packets. */
	for (unsigned i = 0; i < ARP_CACHE_SIZE + 1; i++)
		arp_cache_lookup(&c, nif, IP4(10, 1, 0, 1) + i, netbuf_alloc(), got, i, &ask, &dropped);
	CHECK(r, arp_cache_used(&c) == ARP_CACHE_SIZE);
	ndropped = 0;
	free_list(&dropped, &ndropped);
	CHECK(r, ndropped == 1);
	arp_cache_forget_netif(&c, nif, &dropped);
	free_list(&dropped, NULL);
	CHECK(r, arp_cache_used(&c) == 0);
	free_list(&ready, NULL);
	CHECK(r, bytes_in_use() == before);
	return 0;
}

Test(arp_cache, queues_then_resolves) { run(arp_queue_and_resolve); }
Test(arp_cache, bounds_and_timeouts) { run(arp_bounds_and_timeouts); }
