/*
 * icmp.c: ICMP (RFC 792) as a host needs it: echo replies, and destination
 * unreachable for datagrams no one takes (the UDP port unreachable of RFC
 * 1122 §4.1.3.1). Errors are rate-limited (RFC 1812 §4.3.2.8) by a token
 * bucket refilled each second; errors that come in are counted and dropped.
 */
#include <string.h>

#include "stack.h"
#include "udp.h"
#include "wire.h"

#define ICMP_ERRORS_PER_S  100
#define ICMP_ERROR_QUOTE   (576 - IP_HLEN - ICMP_HLEN)   /* RFC 1812 §4.3.2.3 */

static int error_tokens = ICMP_ERRORS_PER_S;     /* atomic */

void icmp_tick(uint64_t now)
{
	__atomic_store_n(&error_tokens, ICMP_ERRORS_PER_S, __ATOMIC_RELAXED);
}

static bool take_token(void)
{
	int t = __atomic_load_n(&error_tokens, __ATOMIC_RELAXED);
	while (t > 0) {
		if (__atomic_compare_exchange_n(&error_tokens, &t, t - 1, false, __ATOMIC_RELAXED,
		                                __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static void echo_reply(struct netbuf *nb)
{
	ip4_addr to = nb->src_ip, from = nb->dst_ip;
	/* No answer to a broadcast ping (RFC 1122 §3.2.2.6 allows silence). */
	if (!ipv4_is_local(from) || to == 0) {
		netbuf_free(nb);
		return;
	}
	uint8_t *h = nb->data;
	h[ICMP_TYPE] = ICMP_ECHO_REPLY;
	h[ICMP_CODE] = 0;
	put_be16(h + ICMP_CSUM, 0);
	put_be16(h + ICMP_CSUM, inet_fold(inet_sum(h, nb->len, 0)));
	nb->flags = 0;
	ipv4_output(nb, from, to, IP_PROTO_ICMP);
}

void icmp_input(struct netbuf *nb)
{
	if (nb->len < ICMP_HLEN || inet_fold(inet_sum(nb->data, nb->len, 0)) != 0) {
		NET_COUNT(nb->netif, bad_icmp);
		netbuf_free(nb);
		return;
	}
	uint8_t type = nb->data[ICMP_TYPE], code = nb->data[ICMP_CODE];
	if (type == ICMP_ECHO_REQUEST && code == 0) {
		echo_reply(nb);
		return;
	}
	/* Destination unreachable about a UDP datagram of ours: the quoted
	 * IPv4 header and at least 8 bytes after it (RFC 792). */
	if (type == ICMP_DEST_UNREACH && nb->len >= ICMP_HLEN + IP_HLEN + UDP_HLEN) {
		const uint8_t *quoted = nb->data + ICMP_HLEN;
		if (quoted[IP_VER_IHL] >> 4 == 4 && quoted[IP_PROTO] == IP_PROTO_UDP) {
			netbuf_pull(nb, ICMP_HLEN);
			udp_icmp_error(nb, code);
			return;
		}
	}
	netbuf_free(nb);            /* replies and other errors: nothing waits for them */
}

void icmp_send_unreachable(struct netbuf *nb, uint8_t code)
{
	const uint8_t *ip = nb->data;
	unsigned hlen, totlen;

	/* Never about a packet that is itself odd, broadcast, a later
	 * fragment or an ICMP error (RFC 1122 §3.2.2). */
	if (ipv4_check(ip, nb->len, &hlen, &totlen) != IPV4_OK)
		goto out;
	ip4_addr src = get_be32(ip + IP_SRC), dst = get_be32(ip + IP_DST);
	if (!ipv4_is_local(dst) || src == 0 || (get_be16(ip + IP_FRAG) & IP_OFFSET_MASK))
		goto out;
	if (ip[IP_PROTO] == IP_PROTO_ICMP && (totlen < hlen + 1 || ip[hlen + ICMP_TYPE] != ICMP_ECHO_REQUEST))
		goto out;
	if (!take_token())
		goto out;

	struct netbuf *reply = netbuf_alloc();
	if (!reply)
		goto out;
	size_t quote = totlen < ICMP_ERROR_QUOTE ? totlen : ICMP_ERROR_QUOTE;
	uint8_t *h = netbuf_put(reply, ICMP_HLEN + quote);
	if (!h) {
		netbuf_free(reply);
		goto out;
	}
	memset(h, 0, ICMP_HLEN);
	h[ICMP_TYPE] = ICMP_DEST_UNREACH;
	h[ICMP_CODE] = code;
	memcpy(h + ICMP_HLEN, ip, quote);
	put_be16(h + ICMP_CSUM, inet_fold(inet_sum(h, reply->len, 0)));
	ipv4_output(reply, dst, src, IP_PROTO_ICMP);
out:
	netbuf_free(nb);
}
