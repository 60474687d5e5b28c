/*
 * ipv4.c: IPv4 in and out (RFC 791, with RFC 1122's host rules), routing.
 *
 * Input checks each header once (ipv4_check) before any field is used,
 * takes what is addressed to us (our address, the limited or our subnet's
 * broadcast; anything UDP while the interface has no address yet, for
 * DHCP), gives fragments to ip_frag.c and the rest to its transport.
 * Options are not interpreted: the header length steps over them.
 *
 * Output routes (the interface whose subnet holds dst, else the first one
 * with a gateway; the source address's own interface first), adds a
 * header without options and cuts a packet longer than the MTU into
 * fragments (TCP sets DF and never needs it: its MSS fits the MTU).
 */
#include <errno.h>
#include <string.h>

#include "stack.h"
#include "wire.h"

static uint16_t next_id;        /* atomic: identification of sent datagrams */

static bool is_multicast_or_reserved(ip4_addr a)
{
	return (a >> 28) >= 0xe;    /* 224/4 multicast, 240/4 reserved and broadcast */
}

enum ipv4_bad ipv4_check(const uint8_t *p, size_t len, unsigned *hlen, unsigned *totlen)
{
	if (len < IP_HLEN)
		return IPV4_SHORT;
	if (p[IP_VER_IHL] >> 4 != 4)
		return IPV4_VERSION;
	unsigned ihl = (p[IP_VER_IHL] & 0xf) * 4u;
	if (ihl < IP_HLEN || ihl > len)
		return IPV4_IHL;
	unsigned tot = get_be16(p + IP_TOTLEN);
	if (tot < ihl || tot > len)
		return IPV4_TOTLEN;
	if (inet_fold(inet_sum(p, ihl, 0)) != 0)
		return IPV4_CSUM;
	/* RFC 1122 §3.2.1.7: a host never sends TTL 0, so such a packet is
	 * broken; a host must take TTL 1 (it is not forwarding). */
	if (p[IP_TTL] == 0)
		return IPV4_TTL;
	/* RFC 1122 §3.2.1.3: a source is never a broadcast or multicast. */
	ip4_addr src = get_be32(p + IP_SRC);
	if (is_multicast_or_reserved(src) || (src >> 24) == 127)
		return IPV4_SRC;
	*hlen = ihl;
	*totlen = tot;
	return IPV4_OK;
}

/* accepts: dst is for us on nif (proto for the no-address-yet case). */
static bool accepts(struct netif *nif, ip4_addr dst, uint8_t proto)
{
	ip4_addr addr, netmask;
	netif_config(nif, &addr, &netmask, NULL);
	if (dst == 0xffffffff)
		return true;
	if (!addr)
		return proto == IP_PROTO_UDP;   /* a DHCP offer to the offered address */
	return dst == addr || dst == (addr | ~netmask);
}

static void deliver(struct netbuf *nb, uint8_t proto)
{
	switch (proto) {
	case IP_PROTO_ICMP:
		icmp_input(nb);
		break;
	case IP_PROTO_UDP:
		udp_input(nb);
		break;
	case IP_PROTO_TCP:
		tcp_input(nb);
		break;
	default:
		NET_COUNT(nb->netif, rx_dropped);
		netbuf_free(nb);
	}
}

void ipv4_input(struct netif *nif, struct netbuf *nb)
{
	unsigned hlen, totlen;
	nb->netif = nif;
	if (ipv4_check(nb->data, nb->len, &hlen, &totlen) != IPV4_OK) {
		NET_COUNT(nif, bad_ip);
		netbuf_free(nb);
		return;
	}
	netbuf_trim(nb, totlen);                /* Ethernet padding */
	const uint8_t *h = nb->data;
	uint8_t proto = h[IP_PROTO];
	/* A frame of many segments (HAL_NET_RX_GSO) is TCP, never a fragment:
	 * anything else claiming to be one is malformed. */
	if (nb->gso_size && (proto != IP_PROTO_TCP ||
	                     (get_be16(h + IP_FRAG) & (IP_FLAG_MF | IP_OFFSET_MASK)))) {
		NET_COUNT(nif, bad_ip);
		netbuf_free(nb);
		return;
	}
	ip4_addr dst = get_be32(h + IP_DST);
	if (!accepts(nif, dst, proto)) {
		NET_COUNT(nif, rx_dropped);
		netbuf_free(nb);
		return;
	}
	uint16_t frag = get_be16(h + IP_FRAG);
	if (frag & (IP_FLAG_MF | IP_OFFSET_MASK)) {
		nb = ip_frag_input(nb, hal_clock_ns());
		if (!nb)
			return;
		h = nb->data;                   /* the whole datagram */
		hlen = (h[IP_VER_IHL] & 0xf) * 4u;
	}
	nb->src_ip = get_be32(h + IP_SRC);
	nb->dst_ip = get_be32(h + IP_DST);
	nb->ip_hlen = (uint16_t)hlen;
	netbuf_pull(nb, hlen);
	deliver(nb, proto);
}

/* ---- routing ------------------------------------------------------------ */

/* route_on: the interface among those whose address is from (0: any),
 * source address and next hop for dst: the interface whose subnet holds
 * dst, else the first with a gateway. */
static struct netif *route_on(ip4_addr from, ip4_addr dst, ip4_addr *src, ip4_addr *next_hop)
{
	struct netif *via_gateway = NULL;
	ip4_addr gw_src = 0, gw = 0;

	for (unsigned i = 0; i < net_netif_count(); i++) {
		struct netif *nif = net_netif(i);
		ip4_addr addr, netmask, gateway;
		netif_config(nif, &addr, &netmask, &gateway);
		if (!addr || (from && addr != from))
			continue;
		if (dst == 0xffffffff || (dst & netmask) == (addr & netmask)) {
			*src = addr;
			*next_hop = dst;
			return nif;
		}
		if (gateway && !via_gateway) {
			via_gateway = nif;
			gw_src = addr;
			gw = gateway;
		}
	}
	*src = gw_src;
	*next_hop = gw;
	return via_gateway;
}

/* route: as route_on, for a packet whose source address is from (0: not
 * chosen yet). A chosen source leaves through its own interface when that
 * one reaches dst (RFC 1122 §3.3.4.2 lets a multihomed host tie a
 * datagram to the interface of its source address): two interfaces on one
 * subnet each send their own connections' segments, and the peer's ARP
 * answer and ours stay on the link they belong to. Else any interface. */
static struct netif *route(ip4_addr from, ip4_addr dst, ip4_addr *src, ip4_addr *next_hop)
{
	struct netif *nif = from ? route_on(from, dst, src, next_hop) : NULL;
	return nif ? nif : route_on(0, dst, src, next_hop);
}

struct netif *ipv4_route_from(ip4_addr from, ip4_addr dst, ip4_addr *src)
{
	ip4_addr s, hop;
	struct netif *nif = route(from, dst, &s, &hop);
	if (nif && src)
		*src = s;
	return nif;
}

struct netif *ipv4_route(ip4_addr dst, ip4_addr *src)
{
	return ipv4_route_from(0, dst, src);
}

bool ipv4_is_local(ip4_addr addr)
{
	for (unsigned i = 0; i < net_netif_count(); i++) {
		ip4_addr a;
		netif_config(net_netif(i), &a, NULL, NULL);
		if (a && a == addr)
			return true;
	}
	return false;
}

/* ---- output ---------------------------------------------------------------- */

static void fill_header(uint8_t *h, uint16_t totlen, uint16_t id, uint16_t frag, uint8_t proto,
                        ip4_addr src, ip4_addr dst)
{
	h[IP_VER_IHL] = 0x45;
	h[IP_TOS] = 0;
	put_be16(h + IP_TOTLEN, totlen);
	put_be16(h + IP_ID, id);
	put_be16(h + IP_FRAG, frag);
	h[IP_TTL] = IP_DEFAULT_TTL;
	h[IP_PROTO] = proto;
	put_be16(h + IP_CSUM, 0);
	put_be32(h + IP_SRC, src);
	put_be32(h + IP_DST, dst);
	put_be16(h + IP_CSUM, inet_fold(inet_sum(h, IP_HLEN, 0)));
}

/* fragment_out: send the transport packet in nb (too long for the MTU) as
 * fragments of at most mtu bytes each (RFC 791 §3.2 "fragmentation"). */
static int fragment_out(struct netif *nif, struct netbuf *nb, ip4_addr src, ip4_addr dst,
                        uint8_t proto, ip4_addr next_hop, uint16_t id)
{
	size_t chunk = (size_t)(nif->mtu - IP_HLEN) & ~(size_t)7;
	size_t total = nb->len;

	net_l4_checksum_finish(nb, proto);
	for (size_t off = 0; off < total; off += chunk) {
		size_t n = total - off < chunk ? total - off : chunk;
		struct netbuf *f = netbuf_alloc();
		if (!f) {
			netbuf_free(nb);
			return -ENOBUFS;
		}
		uint8_t *payload = netbuf_put(f, n);
		uint8_t *h = payload ? netbuf_push(f, IP_HLEN) : NULL;
		if (!h) {
			netbuf_free(f);
			netbuf_free(nb);
			return -ENOBUFS;
		}
		memcpy(payload, nb->data + off, n);
		uint16_t flags = off + n < total ? IP_FLAG_MF : 0;
		fill_header(h, (uint16_t)(IP_HLEN + n), id, (uint16_t)(flags | (off / 8)), proto, src, dst);
		ether_output_ip(nif, f, next_hop);
	}
	netbuf_free(nb);
	return 0;
}

int ipv4_output_on(struct netif *nif, struct netbuf *nb, ip4_addr src, ip4_addr dst,
                   uint8_t proto, ip4_addr next_hop)
{
	uint16_t id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);

	if ((size_t)nb->len + IP_HLEN > IP_MAX_LEN) {
		netbuf_free(nb);
		return -EMSGSIZE;
	}
	/* A TSO packet (TCP only) is cut by the NIC, into segments that fit. */
	bool tso = nb->gso_size && proto == IP_PROTO_TCP && (nif->offloads & HAL_NET_TX_TSO) &&
	           (nb->flags & HAL_NET_CSUM_PARTIAL);
	if (nb->gso_size && !tso) {
		netbuf_free(nb);
		return -EMSGSIZE;
	}
	if (nb->len + IP_HLEN > nif->mtu && !tso) {
		if (proto == IP_PROTO_TCP) {    /* sent with DF: never cut */
			netbuf_free(nb);
			return -EMSGSIZE;
		}
		return fragment_out(nif, nb, src, dst, proto, next_hop, id);
	}
	if (!(nif->offloads & HAL_NET_TX_CSUM))
		net_l4_checksum_finish(nb, proto);
	uint8_t *h = netbuf_push(nb, IP_HLEN);
	if (!h) {
		netbuf_free(nb);
		return -ENOBUFS;
	}
	uint16_t frag = proto == IP_PROTO_TCP ? IP_FLAG_DF : 0;
	fill_header(h, nb->len, id, frag, proto, src, dst);
	ether_output_ip(nif, nb, next_hop);
	return 0;
}

int ipv4_output(struct netbuf *nb, ip4_addr src, ip4_addr dst, uint8_t proto)
{
	ip4_addr route_src, next_hop;
	struct netif *nif = route(src, dst, &route_src, &next_hop);
	if (!nif) {
		struct netif *any = netif_any();
		if (any)
			NET_COUNT(any, no_route);
		netbuf_free(nb);
		return -EHOSTUNREACH;
	}
	return ipv4_output_on(nif, nb, src ? src : route_src, dst, proto, next_hop);
}
