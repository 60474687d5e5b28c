/*
 * tcp_sack.c: the sender's SACK scoreboard (RFC 2018, RFC 6675) kept per
 * segment: a record for each data segment sent and not yet cumulatively
 * acknowledged, in sequence order, with when it was last sent and whether
 * the peer SACKed it, loss detection (tcp_rack.c) took it as lost, or it
 * was sent again. RACK-TLP (RFC 8985) needs the send times; a record per
 * segment also holds every SACKed range, however many holes there are.
 *
 * The records are an array used from head (cumulative ACKs advance head;
 * appending at the end moves the live part down when it reaches the end,
 * or doubles the array). Sequence order makes the search for a block's
 * first record a binary search. When the array cannot grow, a new segment
 * joins the last record if that one is plainly in flight, else it is not
 * recorded: loss detection then cannot see it, and the RTO still covers it.
 *
 * pipe (RFC 6675 §4 SetPipe) from the byte counts kept with the flags:
 * flight - SACKed - lost + resent, so a lost segment counts again once it
 * is resent, and one resent while not taken as lost (a loss probe) twice.
 */
#include <string.h>

#include "alloc.h"
#include "tcp_impl.h"

#define SACK_FIRST_CAP 64
#define SACK_MAX_CAP   16384    /* 384 KiB of records: 23 MB in flight at 1448 */

void tcp_sack_free(struct tcp_sackboard *sb)
{
	kfree(sb->seg);
	memset(sb, 0, sizeof(*sb));
}

void tcp_sack_clear(struct tcp_sackboard *sb)
{
	for (uint32_t i = 0; i < sb->n; i++)
		sb->seg[sb->head + i].flags &= TCP_SEG_RESENT;
	sb->sacked = sb->lost = sb->retrans = 0;
}

static struct tcp_sent_seg *seg_at(const struct tcp_sackboard *sb, uint32_t i)
{
	return &sb->seg[sb->head + i];
}

/* count_flags: add or take len bytes to the counts of the flags (SACKED,
 * LOST, RETRANS: the first three bits). set_flags / clear_flags: change
 * s's flags, keeping the counts. */
static void count_flags(struct tcp_sackboard *sb, uint8_t flags, uint32_t len, bool add)
{
	uint32_t *cnt[3] = { &sb->sacked, &sb->lost, &sb->retrans };
	for (unsigned b = 0; b < 3; b++)
		if (flags & (1u << b))
			*cnt[b] = add ? *cnt[b] + len : *cnt[b] - len;
}

static void set_flags(struct tcp_sackboard *sb, struct tcp_sent_seg *s, uint8_t flags)
{
	count_flags(sb, (uint8_t)(flags & ~s->flags), s->len, true);
	s->flags |= flags;
}

static void clear_flags(struct tcp_sackboard *sb, struct tcp_sent_seg *s, uint8_t flags)
{
	count_flags(sb, (uint8_t)(flags & s->flags), s->len, false);
	s->flags &= (uint8_t)~flags;
}

/* room_for: make room for one more record at the end; false if none. */
static bool room_for(struct tcp_sackboard *sb)
{
	if (sb->head + sb->n < sb->cap)
		return true;
	if (sb->head > 0 && sb->n < sb->cap) {
		memmove(sb->seg, sb->seg + sb->head, sb->n * sizeof(*sb->seg));
		sb->head = 0;
		return true;
	}
	uint32_t cap = sb->cap ? 2 * sb->cap : SACK_FIRST_CAP;
	if (cap > SACK_MAX_CAP)
		return false;
	struct tcp_sent_seg *seg = kmalloc(cap * sizeof(*seg));
	if (!seg)
		return false;
	if (sb->n)
		memcpy(seg, sb->seg + sb->head, sb->n * sizeof(*seg));
	kfree(sb->seg);
	sb->seg = seg;
	sb->cap = cap;
	sb->head = 0;
	return true;
}

/* find: the index of the first record that ends after seq (n if none). */
static uint32_t find(const struct tcp_sackboard *sb, uint32_t seq)
{
	uint32_t lo = 0, hi = sb->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct tcp_sent_seg *s = seg_at(sb, mid);
		if (seq_leq(s->seq + s->len, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* split: make seq a record boundary if it falls inside one; false when
 * there is no room (the caller then takes the record whole). */
static bool split(struct tcp_sackboard *sb, uint32_t seq)
{
	uint32_t i = find(sb, seq);
	if (i == sb->n)
		return true;
	struct tcp_sent_seg *s = seg_at(sb, i);
	if (!seq_gt(seq, s->seq))
		return true;
	if (!room_for(sb))
		return false;
	s = seg_at(sb, i);      /* room_for may have moved the array */
	memmove(s + 1, s, (sb->n - i) * sizeof(*s));
	sb->n++;
	uint32_t first = seq - s->seq;
	s[1].seq = seq;
	s[1].len = s->len - first;
	s->len = first;
	return true;
}

static void append(struct tcp_sackboard *sb, uint32_t seq, uint32_t len, uint64_t now_ns)
{
	struct tcp_sent_seg *last = sb->n ? seg_at(sb, sb->n - 1) : NULL;
	if (!room_for(sb)) {
		if (last && !last->flags && last->seq + last->len == seq) {
			last->len += len;
			last->xmit_ns = now_ns;
		}
		return;
	}
	struct tcp_sent_seg *s = seg_at(sb, sb->n++);
	s->seq = seq;
	s->len = len;
	s->xmit_ns = now_ns;
	s->flags = 0;
}

void tcp_sack_sent(struct tcp_sackboard *sb, uint32_t seq, uint32_t len, uint32_t mss,
                   uint64_t now_ns)
{
	const struct tcp_sent_seg *last = sb->n ? seg_at(sb, sb->n - 1) : NULL;
	if (!last || seq_geq(seq, last->seq + last->len)) {
		/* New data: a record per segment the peer will see (a TSO
		 * frame is cut into MSS-sized ones on the way). */
		for (uint32_t off = 0; off < len; off += mss)
			append(sb, seq + off, len - off < mss ? len - off : mss, now_ns);
		return;
	}
	/* Sent again: the records it covers, cut to its edges. */
	split(sb, seq);
	split(sb, seq + len);
	for (uint32_t i = find(sb, seq); i < sb->n; i++) {
		struct tcp_sent_seg *s = seg_at(sb, i);
		if (!seq_lt(s->seq, seq + len))
			break;
		s->xmit_ns = now_ns;
		set_flags(sb, s, TCP_SEG_RETRANS | TCP_SEG_RESENT);
	}
}

void tcp_sack_lost(struct tcp_sackboard *sb, struct tcp_sent_seg *s)
{
	/* A resent segment taken as lost again is to be resent again. */
	clear_flags(sb, s, TCP_SEG_RETRANS);
	set_flags(sb, s, TCP_SEG_LOST);
}

bool tcp_sack_update(struct tcp_sackboard *sb, struct tcp_rack *rack, uint32_t snd_una,
                     uint32_t snd_max, const struct tcp_opts *o, uint64_t now_ns)
{
	/* Cumulatively acked: delivered unless SACKed before, then gone. */
	while (sb->n) {
		struct tcp_sent_seg *s = seg_at(sb, 0);
		if (seq_gt(s->seq + s->len, snd_una)) {
			if (seq_lt(s->seq, snd_una)) {
				/* Partly acked: keep the rest (not a delivery). */
				uint32_t cut = snd_una - s->seq;
				count_flags(sb, s->flags, cut, false);
				s->seq = snd_una;
				s->len -= cut;
			}
			break;
		}
		if (!(s->flags & TCP_SEG_SACKED))
			tcp_rack_delivered(rack, s, now_ns);
		clear_flags(sb, s, TCP_SEG_SACKED | TCP_SEG_LOST | TCP_SEG_RETRANS);
		sb->head++;
		sb->n--;
	}
	if (!sb->n)
		sb->head = 0;
	bool more = false;
	for (unsigned b = 0; b < o->nsack; b++) {
		uint32_t l = o->sack[b].left, r = o->sack[b].right;
		/* RFC 2018 §4: only blocks inside what was sent and not yet
		 * cumulatively acked mean anything (a D-SACK, RFC 2883, lies
		 * at or below SND.UNA: tcp_rack.c looks at it). */
		if (!seq_lt(l, r) || seq_leq(r, snd_una) || seq_gt(r, snd_max))
			continue;
		for (uint32_t i = find(sb, l); i < sb->n; i++) {
			struct tcp_sent_seg *s = seg_at(sb, i);
			if (!seq_leq(s->seq + s->len, r))
				break;          /* past the block, or only partly in it */
			if (seq_lt(s->seq, l) || (s->flags & TCP_SEG_SACKED))
				continue;
			tcp_rack_delivered(rack, s, now_ns);
			clear_flags(sb, s, TCP_SEG_LOST | TCP_SEG_RETRANS);
			set_flags(sb, s, TCP_SEG_SACKED);
			more = true;
		}
	}
	return more;
}

struct tcp_sent_seg *tcp_sack_next_lost(const struct tcp_sackboard *sb)
{
	for (uint32_t i = 0; i < sb->n; i++) {
		struct tcp_sent_seg *s = seg_at(sb, i);
		if ((s->flags & (TCP_SEG_LOST | TCP_SEG_RETRANS | TCP_SEG_SACKED)) == TCP_SEG_LOST)
			return s;
	}
	return NULL;
}

uint32_t tcp_sack_pipe(const struct tcp_sackboard *sb, uint32_t snd_una, uint32_t snd_max)
{
	uint64_t pipe = (uint64_t)(snd_max - snd_una) + sb->retrans;
	uint64_t out = (uint64_t)sb->sacked + sb->lost;
	return pipe > out ? (uint32_t)(pipe - out) : 0;
}
