/*
 * checksum.c: the Internet checksum (RFC 1071) and the TCP/UDP checksum
 * with the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1), done here or left to
 * the NIC (HAL_NET_CSUM_PARTIAL) when the interface offers it.
 */
#include "net.h"
#include "wire.h"

uint32_t inet_sum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	/* 16-bit big-endian words; a 64-bit accumulator cannot overflow for
	 * any packet, and is folded to 32 bits once at the end. */
	while (len >= 2) {
		acc += get_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;     /* odd byte: padded with zero */
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

/* fold32: the 16-bit ones' complement sum of a 32-bit running sum. */
static uint16_t fold32(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t inet_fold(uint32_t sum)
{
	return (uint16_t)~fold32(sum);
}

uint32_t inet_pseudo_sum(ip4_addr src, ip4_addr dst, uint8_t proto, uint16_t len)
{
	uint32_t sum = (src >> 16) + (src & 0xffff);
	sum += (dst >> 16) + (dst & 0xffff);
	sum += proto;
	sum += len;
	return sum;
}

/* The frame the output path builds: Ethernet, then IPv4 without options
 * (ipv4_output never sends any), so the transport header starts here. */
#define L4_FRAME_OFFSET (ETH_HLEN + IP_HLEN)

void net_l4_checksum(struct netbuf *nb, struct netif *out, ip4_addr src, ip4_addr dst,
                     uint8_t proto, uint16_t csum_offset)
{
	uint32_t pseudo = inet_pseudo_sum(src, dst, proto, nb->len);
	uint8_t *field = nb->data + csum_offset;

	/* The NIC can do it only for a packet it sends whole: one that
	 * ipv4_output will fragment is checksummed here. */
	if (out && (out->offloads & HAL_NET_TX_CSUM) &&
	    (nb->len + IP_HLEN <= out->mtu || nb->gso_size)) {
		put_be16(field, fold32(pseudo));
		nb->flags |= HAL_NET_CSUM_PARTIAL;
		nb->csum_start = L4_FRAME_OFFSET;
		nb->csum_offset = csum_offset;
		return;
	}
	put_be16(field, 0);
	uint16_t csum = inet_fold(inet_sum(nb->data, nb->len, pseudo));
	/* UDP sends a computed zero as all ones: zero means "no checksum". */
	if (csum == 0 && proto == IP_PROTO_UDP)
		csum = 0xffff;
	put_be16(field, csum);
	nb->flags &= (uint16_t)~HAL_NET_CSUM_PARTIAL;
}

/* net_l4_checksum_finish: compute in software a checksum left to the NIC
 * (for a packet that is fragmented after all, or an interface without the
 * offload). */
void net_l4_checksum_finish(struct netbuf *nb, uint8_t proto)
{
	if (!(nb->flags & HAL_NET_CSUM_PARTIAL))
		return;
	uint8_t *field = nb->data + nb->csum_offset;
	/* The field holds the folded pseudo-header sum: summing the whole
	 * transport packet over it gives the checksum. */
	uint16_t csum = inet_fold(inet_sum(nb->data, nb->len, 0));
	if (csum == 0 && proto == IP_PROTO_UDP)
		csum = 0xffff;
	put_be16(field, csum);
	nb->flags &= (uint16_t)~HAL_NET_CSUM_PARTIAL;
}

bool net_l4_checksum_ok(const struct netbuf *nb, uint8_t proto)
{
	if (nb->flags & HAL_NET_CSUM_VALID)
		return true;
	uint32_t sum = inet_pseudo_sum(nb->src_ip, nb->dst_ip, proto, nb->len);
	return inet_fold(inet_sum(nb->data, nb->len, sum)) == 0;
}
