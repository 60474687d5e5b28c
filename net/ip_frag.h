/*
 * ip_frag.h: the IPv4 reassembly table as a data structure (ip_frag.c adds
 * the lock and the clock), so tests can drive it with their own time.
 *
 * Bounds: FRAG_MAX_DGRAMS datagrams in progress, FRAG_MAX_PIECES fragments
 * each, FRAG_MAX_BYTES of buffers held in all; a datagram not complete
 * FRAG_TIMEOUT_NS after its first fragment is dropped (RFC 791's timer, as
 * RFC 1122 §3.3.2 suggests: 30 s). A fragment that overlaps another of its
 * datagram drops the whole datagram (RFC 5722's rule, taken for IPv4 too:
 * overlaps are how filters are evaded); an exact duplicate is dropped alone.
 */
#ifndef NET_IP_FRAG_H
#define NET_IP_FRAG_H

#include "net.h"

#define FRAG_MAX_DGRAMS 8
#define FRAG_MAX_PIECES 64             /* 64 * 1480 bytes > 64 KiB */
#define FRAG_MAX_BYTES  (256 * 1024)
#define FRAG_TIMEOUT_NS (30 * 1000000000ull)

struct frag_piece {
	uint16_t off, len;          /* of the payload, in the datagram */
	uint16_t hlen;              /* IPv4 header length in nb */
	struct netbuf *nb;          /* data at its IPv4 header */
};

struct frag_dgram {
	bool used;
	ip4_addr src, dst;
	uint16_t id;
	uint8_t proto;
	uint64_t deadline_ns;
	unsigned total;             /* payload length; 0 until the last fragment */
	unsigned npieces;
	struct frag_piece piece[FRAG_MAX_PIECES];   /* by offset, none overlapping */
};

struct frag_table {
	struct frag_dgram d[FRAG_MAX_DGRAMS];
	size_t bytes;               /* buffer bytes held */
	uint64_t dropped;           /* fragments dropped, for the counters */
	uint64_t timeouts, overlaps, reassembled;
};

void frag_table_init(struct frag_table *t);
/* frag_table_input: as ip_frag_input (stack.h), on t. */
struct netbuf *frag_table_input(struct frag_table *t, struct netbuf *nb, uint64_t now);
void frag_table_expire(struct frag_table *t, uint64_t now);
unsigned frag_table_in_progress(const struct frag_table *t);
void frag_table_clear(struct frag_table *t);

#endif
