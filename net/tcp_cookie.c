/*
 * tcp_cookie.c: SYN cookies, the ISN of a SYN-ACK sent when a listener's
 * backlog is full, so that the connection can be made from the ACK alone
 * without state kept for the SYN (RFC 4987 §3.6).
 *
 * Layout of the 32-bit cookie:
 *   bits 31..27  time slot: seconds / 64, low 5 bits
 *   bits 26..24  index of the peer's MSS in mss_table (rounded down)
 *   bits 23..0   SipHash under the boot secret of the 4-tuple, the peer's
 *                ISN, the whole slot number and the MSS index
 * A cookie is good in its slot and the next (64..128 s). What it cannot
 * carry (window scale, SACK, timestamps) a cookie connection does without.
 */
#include "tcp_impl.h"

#define SLOT_SECONDS 64

static const uint16_t mss_table[8] = { 536, 1024, 1220, 1360, 1400, 1440, 1452, 1460 };

static uint32_t cookie_hash(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                            uint32_t irs, uint64_t slot, unsigned idx)
{
	uint64_t extra = (uint64_t)irs << 32 ^ slot << 3 ^ idx ^ 0x636f6f6b00000000ull;
	return (uint32_t)tcp_secret_hash(laddr, lport, raddr, rport, extra) & 0xffffff;
}

uint32_t tcp_cookie_make(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                         uint32_t irs, uint16_t mss, uint64_t now_s)
{
	unsigned idx = 0;
	for (unsigned i = 0; i < 8; i++)
		if (mss_table[i] <= mss)
			idx = i;
	uint64_t slot = now_s / SLOT_SECONDS;
	return (uint32_t)(slot & 31) << 27 | (uint32_t)idx << 24 |
	       cookie_hash(laddr, lport, raddr, rport, irs, slot, idx);
}

uint16_t tcp_cookie_check(ip4_addr laddr, uint16_t lport, ip4_addr raddr, uint16_t rport,
                          uint32_t irs, uint32_t cookie, uint64_t now_s)
{
	uint64_t now_slot = now_s / SLOT_SECONDS;
	unsigned idx = cookie >> 24 & 7;
	for (uint64_t age = 0; age < 2 && age <= now_slot; age++) {
		uint64_t slot = now_slot - age;
		if ((slot & 31) != cookie >> 27)
			continue;
		if (cookie_hash(laddr, lport, raddr, rport, irs, slot, idx) == (cookie & 0xffffff))
			return mss_table[idx];
	}
	return 0;
}
