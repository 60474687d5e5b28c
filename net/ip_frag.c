/*
 * ip_frag.c: IPv4 reassembly (RFC 791 §3.2, the bookkeeping of RFC 815
 * done as a sorted list of received pieces: a hole is a gap between
 * neighbours). The bounds and the overlap rule are in ip_frag.h.
 */
#include <string.h>

#include "ip_frag.h"
#include "stack.h"
#include "wire.h"

void frag_table_init(struct frag_table *t)
{
	memset(t, 0, sizeof(*t));
}

static void drop_dgram(struct frag_table *t, struct frag_dgram *d)
{
	for (unsigned i = 0; i < d->npieces; i++) {
		t->bytes -= d->piece[i].nb->size;
		netbuf_free(d->piece[i].nb);
		t->dropped++;
	}
	d->npieces = 0;
	d->used = false;
}

static void drop_piece(struct frag_table *t, struct netbuf *nb)
{
	t->dropped++;
	netbuf_free(nb);
}

unsigned frag_table_in_progress(const struct frag_table *t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < FRAG_MAX_DGRAMS; i++)
		n += t->d[i].used;
	return n;
}

void frag_table_expire(struct frag_table *t, uint64_t now)
{
	for (unsigned i = 0; i < FRAG_MAX_DGRAMS; i++) {
		if (t->d[i].used && t->d[i].deadline_ns <= now) {
			t->timeouts++;
			drop_dgram(t, &t->d[i]);
		}
	}
}

void frag_table_clear(struct frag_table *t)
{
	for (unsigned i = 0; i < FRAG_MAX_DGRAMS; i++) {
		if (t->d[i].used)
			drop_dgram(t, &t->d[i]);
	}
}

static struct frag_dgram *find(struct frag_table *t, ip4_addr src, ip4_addr dst, uint16_t id,
                               uint8_t proto)
{
	for (unsigned i = 0; i < FRAG_MAX_DGRAMS; i++) {
		struct frag_dgram *d = &t->d[i];
		if (d->used && d->src == src && d->dst == dst && d->id == id && d->proto == proto)
			return d;
	}
	return NULL;
}

static struct frag_dgram *new_dgram(struct frag_table *t, uint64_t now)
{
	frag_table_expire(t, now);
	for (unsigned i = 0; i < FRAG_MAX_DGRAMS; i++) {
		if (!t->d[i].used)
			return &t->d[i];
	}
	return NULL;        /* full: the datagrams in progress keep their place */
}

/* complete: the pieces cover 0..total without a gap. */
static bool complete(const struct frag_dgram *d)
{
	unsigned end = 0;
	if (!d->total)
		return false;
	for (unsigned i = 0; i < d->npieces; i++) {
		if (d->piece[i].off != end)
			return false;
		end += d->piece[i].len;
	}
	return end == d->total;
}

/* assemble: one netbuf with the first fragment's header and every piece's
 * payload; the datagram's entry is freed. NULL when out of memory. */
static struct netbuf *assemble(struct frag_table *t, struct frag_dgram *d)
{
	const struct frag_piece *first = &d->piece[0];
	unsigned hlen = first->hlen;
	struct netbuf *out = netbuf_alloc_large(hlen + d->total);
	if (!out) {
		drop_dgram(t, d);
		return NULL;
	}
	out->netif = first->nb->netif;
	out->flags = 0;             /* a NIC's checksum verdict was per frame */
	uint8_t *h = netbuf_put(out, hlen + d->total);
	if (!h) {
		netbuf_free(out);
		drop_dgram(t, d);
		return NULL;
	}
	memcpy(h, first->nb->data, hlen);
	for (unsigned i = 0; i < d->npieces; i++) {
		const struct frag_piece *p = &d->piece[i];
		memcpy(h + hlen + p->off, p->nb->data + p->hlen, p->len);
	}
	put_be16(h + IP_TOTLEN, (uint16_t)(hlen + d->total));
	put_be16(h + IP_FRAG, 0);
	put_be16(h + IP_CSUM, 0);
	put_be16(h + IP_CSUM, inet_fold(inet_sum(h, hlen, 0)));
	for (unsigned i = 0; i < d->npieces; i++) {
		t->bytes -= d->piece[i].nb->size;
		netbuf_free(d->piece[i].nb);
	}
	d->npieces = 0;
	d->used = false;
	t->reassembled++;
	return out;
}

struct netbuf *frag_table_input(struct frag_table *t, struct netbuf *nb, uint64_t now)
{
	const uint8_t *h = nb->data;
	unsigned hlen = (h[IP_VER_IHL] & 0xf) * 4u;
	unsigned totlen = get_be16(h + IP_TOTLEN);
	uint16_t frag = get_be16(h + IP_FRAG);
	unsigned off = (frag & IP_OFFSET_MASK) * 8u;
	unsigned len = totlen - hlen;
	bool more = frag & IP_FLAG_MF;

	/* Every fragment but the last carries a multiple of 8 bytes, and no
	 * datagram is longer than 64 KiB. */
	if (len == 0 || (more && len % 8) || hlen + off + len > IP_MAX_LEN) {
		drop_piece(t, nb);
		return NULL;
	}
	ip4_addr src = get_be32(h + IP_SRC), dst = get_be32(h + IP_DST);
	struct frag_dgram *d = find(t, src, dst, get_be16(h + IP_ID), h[IP_PROTO]);
	if (!d) {
		d = new_dgram(t, now);
		if (!d) {
			drop_piece(t, nb);
			return NULL;
		}
		memset(d, 0, sizeof(*d));
		d->used = true;
		d->src = src;
		d->dst = dst;
		d->id = get_be16(h + IP_ID);
		d->proto = h[IP_PROTO];
		d->deadline_ns = now + FRAG_TIMEOUT_NS;
	}
	if (t->bytes + nb->size > FRAG_MAX_BYTES) {
		drop_piece(t, nb);
		if (d->npieces == 0)
			d->used = false;
		return NULL;
	}

	unsigned end = off + len;
	if (!more) {
		/* Two different ends, or data past this end: inconsistent. */
		if ((d->total && d->total != end) ||
		    (d->npieces && d->piece[d->npieces - 1].off + d->piece[d->npieces - 1].len > end))
			goto bad_dgram;
		d->total = end;
	} else if (d->total && end > d->total) {
		goto bad_dgram;
	}

	/* Where it goes, by offset; check its neighbours for overlap. */
	unsigned at = 0;
	while (at < d->npieces && d->piece[at].off < off)
		at++;
	if (at < d->npieces && d->piece[at].off == off && d->piece[at].len == len) {
		drop_piece(t, nb);              /* an exact duplicate */
		return NULL;
	}
	if ((at > 0 && d->piece[at - 1].off + d->piece[at - 1].len > off) ||
	    (at < d->npieces && d->piece[at].off < end)) {
		t->overlaps++;
		goto bad_dgram;
	}
	if (d->npieces == FRAG_MAX_PIECES)
		goto bad_dgram;
	memmove(&d->piece[at + 1], &d->piece[at], (d->npieces - at) * sizeof(d->piece[0]));
	d->piece[at] = (struct frag_piece){ .off = (uint16_t)off, .len = (uint16_t)len,
	                                    .hlen = (uint16_t)hlen, .nb = nb };
	d->npieces++;
	t->bytes += nb->size;
	return complete(d) ? assemble(t, d) : NULL;

bad_dgram:
	drop_piece(t, nb);
	drop_dgram(t, d);
	return NULL;
}

/* ---- the stack's table ------------------------------------------------------- */

/* frag_lock guards table (fragments of one datagram may come in on
 * several CPUs' queues). Leaf lock. */
static struct spinlock frag_lock = SPINLOCK_INIT("frag_lock");
static struct frag_table table;

void ip_frag_init(void)
{
	spin_lock(&frag_lock);
	frag_table_init(&table);
	spin_unlock(&frag_lock);
}

struct netbuf *ip_frag_input(struct netbuf *nb, uint64_t now)
{
	struct netif *nif = nb->netif;
	spin_lock(&frag_lock);
	uint64_t before = table.dropped;
	struct netbuf *whole = frag_table_input(&table, nb, now);
	uint64_t dropped = table.dropped - before;
	spin_unlock(&frag_lock);
	if (dropped && nif)
		__atomic_add_fetch(&nif->stats.frag_dropped, dropped, __ATOMIC_RELAXED);
	return whole;
}

void ip_frag_tick(uint64_t now)
{
	spin_lock(&frag_lock);
	uint64_t before = table.dropped;
	frag_table_expire(&table, now);
	uint64_t dropped = table.dropped - before;
	spin_unlock(&frag_lock);
	struct netif *nif = netif_any();
	if (dropped && nif)
		__atomic_add_fetch(&nif->stats.frag_dropped, dropped, __ATOMIC_RELAXED);
}

unsigned ip_frag_in_progress(void)
{
	spin_lock(&frag_lock);
	unsigned n = frag_table_in_progress(&table);
	spin_unlock(&frag_lock);
	return n;
}
