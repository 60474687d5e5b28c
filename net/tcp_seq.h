/*
 * tcp_seq.h: sequence number arithmetic modulo 2^32 (RFC 9293 §3.4).
 *
 * Two sequence numbers compare by the sign of their 32-bit difference, so
 * the comparisons hold across the wrap as long as the numbers are less than
 * 2^31 apart, which windows (at most 2^30 with scaling, RFC 7323 §2.3)
 * guarantee.
 */
#ifndef NET_TCP_SEQ_H
#define NET_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

/* seq_in: lo <= a < hi, the test of a window [lo, hi). */
static inline bool seq_in(uint32_t a, uint32_t lo, uint32_t hi)
{
	return seq_leq(lo, a) && seq_lt(a, hi);
}

#endif
