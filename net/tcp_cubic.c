/*
 * tcp_cubic.c: CUBIC congestion avoidance (RFC 9438), the window growth
 * tcp_cc.c uses above ssthresh, and its reduction on congestion. Integer
 * arithmetic only (the bare build has no floating point): windows in
 * bytes, time in milliseconds, C = 0.4 and beta = 0.7 as fractions.
 */
#include "tcp_impl.h"

#define CUBIC_BETA_NUM   7      /* beta_cubic = 0.7 (§4.6) */
#define CUBIC_BETA_DEN   10
#define CUBIC_ALPHA_MIL  529    /* alpha_cubic = 3(1-beta)/(1+beta), per mille (§4.3) */

/* cbrt64: the integer cube root (rounded down) of x. */
static uint64_t cbrt64(uint64_t x)
{
	uint64_t lo = 0, hi = 2097152;  /* 2^21: (2^21)^3 = 2^63 */
	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		if (mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

uint32_t tcp_cubic_k_ms(uint32_t w_max, uint32_t cwnd_after, uint32_t mss)
{
	/* §4.2 (2): K = cbrt((W_max - cwnd_epoch) / C) seconds, in segments;
	 * in ms: cbrt(segments / 0.4 * 1e9). */
	if (w_max <= cwnd_after || mss == 0)
		return 0;
	uint64_t seg_milli = (uint64_t)(w_max - cwnd_after) * 1000 / mss;  /* segments * 1000 */
	return (uint32_t)cbrt64(seg_milli * 2500000ull);   /* / 0.4 * 1e9 / 1000 */
}

uint32_t tcp_cubic_window(uint32_t w_max, uint32_t k_ms, uint32_t t_ms, uint32_t mss)
{
	/* §4.2 (1): W_cubic(t) = C (t - K)^3 + W_max, in segments. */
	int64_t d = (int64_t)t_ms - k_ms;
	if (d > 1000000)
		d = 1000000;            /* 1000 s past K: far beyond any window */
	if (d < -1000000)
		d = -1000000;
	int64_t cube = d * d * d;                       /* ms^3 */
	int64_t bytes = cube * 4 / 10000000 * (int64_t)mss / 1000;  /* 0.4 * s^3 segments */
	int64_t w = (int64_t)w_max + bytes;
	if (w < (int64_t)2 * mss)
		w = 2 * mss;
	if (w > (int64_t)1 << 30)
		w = (int64_t)1 << 30;
	return (uint32_t)w;
}

uint32_t tcp_cubic_reduce(struct tcp_conn *c)
{
	/* §4.6-4.7: remember where the loss came (with fast convergence
	 * when the window was below the last such point), cut to 0.7. */
	uint32_t w = c->cwnd;
	if (w < c->cubic_w_last_max)
		c->cubic_w_max = (uint32_t)((uint64_t)w * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
		                            (2 * CUBIC_BETA_DEN));
	else
		c->cubic_w_max = w;
	c->cubic_w_last_max = w;
	c->cubic_epoch_ns = 0;
	uint32_t cut = (uint32_t)((uint64_t)w * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
	return cut > 2u * c->mss ? cut : 2u * c->mss;
}

void tcp_cubic_ack(struct tcp_conn *c, uint32_t acked)
{
	uint64_t now = hal_clock_ns();
	if (c->cubic_epoch_ns == 0) {
		/* §4.2: a new epoch with the first ACK in avoidance. */
		c->cubic_epoch_ns = now;
		if (c->cubic_w_max < c->cwnd)
			c->cubic_w_max = c->cwnd;
		c->cubic_k_ms = tcp_cubic_k_ms(c->cubic_w_max, c->cwnd, c->mss);
		c->cubic_w_est = c->cwnd;
	}
	uint32_t rtt_ms = c->rtt.srtt_us / 1000;
	uint32_t t_ms = (uint32_t)((now - c->cubic_epoch_ns) / 1000000) + rtt_ms;
	uint32_t target = tcp_cubic_window(c->cubic_w_max, c->cubic_k_ms, t_ms, c->mss);
	/* §4.3: the Reno-friendly estimate grows by alpha per window. */
	c->cubic_w_est += (uint32_t)((uint64_t)CUBIC_ALPHA_MIL * acked / 1000 * c->mss / c->cwnd);
	if (target < c->cwnd)
		target = c->cwnd;
	if (target > c->cwnd + c->cwnd / 2)
		target = c->cwnd + c->cwnd / 2;         /* §4.4: at most 1.5 cwnd */
	uint32_t inc;
	if (c->cubic_w_est > target) {
		inc = c->cubic_w_est > c->cwnd ? c->cubic_w_est - c->cwnd : 0;
		if (inc > acked)
			inc = acked;
	} else {
		/* §4.4: (target - cwnd) / cwnd segments per segment acked. */
		inc = (uint32_t)((uint64_t)(target - c->cwnd) * acked / c->cwnd);
	}
	c->cwnd += inc;
}
