/*
 * tcp_sack.c: the sender's SACK scoreboard (RFC 2018, RFC 6675): which
 * ranges above SND.UNA the peer holds, where the holes are, and how much
 * is in the network (pipe) during loss recovery.
 *
 * Simplifications of RFC 6675, named where they are made: a hole counts as
 * lost once data above it is SACKed (IsLost with DupThresh 1 instead of 3:
 * it resends a little early under reordering, never wrongly); pipe counts
 * what lies above the highest SACKed byte plus what was resent into holes
 * (HighRxt), §4's SetPipe restricted to those two kinds of octets.
 */
#include "tcp_impl.h"

void tcp_sack_reset(struct tcp_sackboard *sb, uint32_t snd_una)
{
	sb->n = 0;
	sb->sacked = 0;
	sb->high_rxt = snd_una;
}

static void recount(struct tcp_sackboard *sb)
{
	sb->sacked = 0;
	for (unsigned i = 0; i < sb->n; i++)
		sb->sacked += sb->blk[i].right - sb->blk[i].left;
}

/* prune: drop what snd_una passed. */
static void prune(struct tcp_sackboard *sb, uint32_t snd_una)
{
	unsigned k = 0;
	for (unsigned i = 0; i < sb->n; i++) {
		if (seq_leq(sb->blk[i].right, snd_una))
			continue;
		sb->blk[k] = sb->blk[i];
		if (seq_lt(sb->blk[k].left, snd_una))
			sb->blk[k].left = snd_una;
		k++;
	}
	sb->n = (uint8_t)k;
	if (seq_lt(sb->high_rxt, snd_una))
		sb->high_rxt = snd_una;
}

/* add: merge [l, r) into the sorted, disjoint list; true if it covered
 * octets the list did not. */
static bool add(struct tcp_sackboard *sb, uint32_t l, uint32_t r)
{
	unsigned i = 0;
	while (i < sb->n && seq_lt(sb->blk[i].right, l))
		i++;
	/* Blocks i.. that touch [l, r) merge into it. */
	unsigned j = i;
	uint32_t old = 0;
	while (j < sb->n && seq_leq(sb->blk[j].left, r)) {
		l = seq_min(l, sb->blk[j].left);
		r = seq_max(r, sb->blk[j].right);
		old += sb->blk[j].right - sb->blk[j].left;
		j++;
	}
	if (j == i && sb->n == TCP_SACK_SCOREBOARD) {
		/* Full: forget the highest range (it is reported again). */
		if (i == sb->n)
			return false;
		sb->n--;
	}
	/* Replace blk[i..j) by the one merged block. */
	unsigned tail = sb->n - j;
	for (unsigned t = 0; t < tail; t++)
		sb->blk[i + 1 + t] = sb->blk[j + t];
	sb->blk[i].left = l;
	sb->blk[i].right = r;
	sb->n = (uint8_t)(i + 1 + tail);
	return r - l > old;
}

bool tcp_sack_update(struct tcp_sackboard *sb, uint32_t snd_una, uint32_t snd_max,
                     const struct tcp_opts *o)
{
	bool grew = false;
	prune(sb, snd_una);
	for (unsigned b = 0; b < o->nsack; b++) {
		uint32_t l = o->sack[b].left, r = o->sack[b].right;
		/* RFC 2018 §4: only blocks inside what was sent and not yet
		 * cumulatively acked mean anything (a D-SACK, RFC 2883, lies
		 * below SND.UNA and is ignored). */
		if (!seq_lt(l, r) || seq_leq(r, snd_una) || seq_gt(r, snd_max))
			continue;
		if (seq_lt(l, snd_una))
			l = snd_una;
		grew |= add(sb, l, r);
	}
	recount(sb);
	return grew;
}

bool tcp_sack_high(const struct tcp_sackboard *sb, uint32_t *high)
{
	if (!sb->n)
		return false;
	*high = sb->blk[sb->n - 1].right;
	return true;
}

bool tcp_sack_next_hole(const struct tcp_sackboard *sb, uint32_t snd_una, uint32_t *seq,
                        uint32_t *len)
{
	uint32_t from = seq_max(sb->high_rxt, snd_una);
	for (unsigned i = 0; i < sb->n; i++) {
		if (seq_geq(from, sb->blk[i].right))
			continue;
		if (seq_lt(from, sb->blk[i].left)) {
			*seq = from;
			*len = sb->blk[i].left - from;
			return true;
		}
		from = sb->blk[i].right;        /* inside a SACKed block: skip it */
	}
	return false;
}

uint32_t tcp_sack_pipe(const struct tcp_sackboard *sb, uint32_t snd_una, uint32_t snd_max)
{
	uint32_t high;
	if (!tcp_sack_high(sb, &high))
		return snd_max - snd_una;
	uint32_t pipe = snd_max - high;
	/* Octets resent into holes: [snd_una, high_rxt) minus the SACKed. */
	uint32_t rxt_end = seq_min(sb->high_rxt, high);
	if (seq_gt(rxt_end, snd_una)) {
		uint32_t resent = rxt_end - snd_una;
		for (unsigned i = 0; i < sb->n; i++) {
			uint32_t l = sb->blk[i].left, r = seq_min(sb->blk[i].right, rxt_end);
			if (seq_lt(l, r))
				resent -= r - l;
		}
		pipe += resent;
	}
	return pipe;
}
