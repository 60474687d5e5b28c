/*
 * tcp_rtt.c: the retransmission timeout of RFC 6298 from round-trip
 * measurements (Karn's rule, §3, is the caller's: it never feeds a sample
 * from a retransmitted segment).
 */
#include "tcp_impl.h"

void tcp_rtt_init(struct tcp_rtt *r)
{
	r->srtt_us = 0;
	r->rttvar_us = 0;
	r->rto_us = TCP_RTO_INITIAL_US;       /* §2.1 */
	r->measured = false;
}

static uint32_t clamp_rto(uint64_t rto)
{
	if (rto < TCP_RTO_MIN_US)
		return TCP_RTO_MIN_US;
	if (rto > TCP_RTO_MAX_US)
		return TCP_RTO_MAX_US;
	return (uint32_t)rto;
}

void tcp_rtt_sample(struct tcp_rtt *r, uint32_t r_us)
{
	if (r_us == 0)
		r_us = 1;
	if (!r->measured) {
		/* §2.2: SRTT <- R, RTTVAR <- R/2. */
		r->srtt_us = r_us;
		r->rttvar_us = r_us / 2;
		r->measured = true;
	} else {
		/* §2.3 with alpha 1/8, beta 1/4; RTTVAR first, from the old SRTT. */
		uint32_t diff = r->srtt_us > r_us ? r->srtt_us - r_us : r_us - r->srtt_us;
		r->rttvar_us = r->rttvar_us - r->rttvar_us / 4 + diff / 4;
		r->srtt_us = r->srtt_us - r->srtt_us / 8 + r_us / 8;
	}
	uint64_t k_rttvar = 4ull * r->rttvar_us;
	r->rto_us = clamp_rto((uint64_t)r->srtt_us + (k_rttvar > TCP_RTT_G_US ? k_rttvar : TCP_RTT_G_US));
}

uint32_t tcp_rtt_rto(const struct tcp_rtt *r, unsigned backoff)
{
	uint64_t rto = r->rto_us;
	for (unsigned i = 0; i < backoff && rto < TCP_RTO_MAX_US; i++)
		rto *= 2;       /* §5.5 */
	return clamp_rto(rto);
}
