/*
 * arp.c: ARP for IPv4 over Ethernet (RFC 826): answers who-has for our
 * address, learns from requests and replies aimed at us, resolves next hops
 * for ether_output_ip with retried requests, and announces an address when
 * it is configured (a gratuitous ARP, RFC 5227 §3).
 */
#include <string.h>

#include "arp_cache.h"
#include "stack.h"
#include "wire.h"

/* arp_lock guards cache. Leaf lock: packets are sent and freed outside. */
static struct spinlock arp_lock = SPINLOCK_INIT("arp_lock");
static struct arp_cache cache;

void arp_init(void)
{
	spin_lock(&arp_lock);
	arp_cache_init(&cache);
	spin_unlock(&arp_lock);
}

static void free_list(struct list *l)
{
	struct list *link;
	while ((link = list_pop_front(l)) != NULL)
		netbuf_free(list_entry(link, struct netbuf, link));
}

static void send_arp(struct netif *nif, uint16_t oper, const uint8_t tha[6], ip4_addr tpa,
                     ip4_addr spa, const uint8_t eth_dst[6])
{
	struct netbuf *nb = netbuf_alloc();
	if (!nb)
		return;
	uint8_t *p = netbuf_put(nb, ARP_LEN);
	if (!p) {
		netbuf_free(nb);
		return;
	}
	put_be16(p + ARP_HTYPE, 1);
	put_be16(p + ARP_PTYPE, ETHERTYPE_IPV4);
	p[ARP_HLEN] = 6;
	p[ARP_PLEN] = 4;
	put_be16(p + ARP_OPER, oper);
	memcpy(p + ARP_SHA, nif->mac, 6);
	put_be32(p + ARP_SPA, spa);
	memcpy(p + ARP_THA, tha, 6);
	put_be32(p + ARP_TPA, tpa);
	ether_output(nif, nb, eth_dst, ETHERTYPE_ARP);
}

static void send_request(struct netif *nif, ip4_addr ip)
{
	static const uint8_t unknown[6];
	ip4_addr addr;
	netif_config(nif, &addr, NULL, NULL);
	send_arp(nif, ARP_REQUEST, unknown, ip, addr, ETH_BROADCAST);
}

void arp_announce(struct netif *nif)
{
	static const uint8_t unknown[6];
	ip4_addr addr;
	netif_config(nif, &addr, NULL, NULL);
	if (addr)
		send_arp(nif, ARP_REQUEST, unknown, addr, addr, ETH_BROADCAST);
}

/* send_ready: packets whose next hop just resolved to mac. */
static void send_ready(struct netif *nif, struct list *ready, const uint8_t mac[6])
{
	struct list *link;
	while ((link = list_pop_front(ready)) != NULL)
		ether_output(nif, list_entry(link, struct netbuf, link), mac, ETHERTYPE_IPV4);
}

void arp_input(struct netif *nif, struct netbuf *nb)
{
	const uint8_t *p = nb->data;
	if (nb->len < ARP_LEN || get_be16(p + ARP_HTYPE) != 1 ||
	    get_be16(p + ARP_PTYPE) != ETHERTYPE_IPV4 || p[ARP_HLEN] != 6 || p[ARP_PLEN] != 4) {
		NET_COUNT(nif, bad_arp);
		netbuf_free(nb);
		return;
	}
	uint16_t oper = get_be16(p + ARP_OPER);
	ip4_addr spa = get_be32(p + ARP_SPA), tpa = get_be32(p + ARP_TPA);
	uint8_t sha[6];
	memcpy(sha, p + ARP_SHA, 6);
	netbuf_free(nb);

	ip4_addr addr;
	netif_config(nif, &addr, NULL, NULL);
	/* A group or null sender hardware address, or a sender claiming a
	 * broadcast or our own protocol address, teaches nothing. */
	static const uint8_t zero[6];
	if ((oper != ARP_REQUEST && oper != ARP_REPLY) || (sha[0] & 1) || !memcmp(sha, zero, 6) ||
	    spa == 0xffffffff || (addr && spa == addr)) {
		NET_COUNT(nif, bad_arp);
		return;
	}
	bool for_us = addr && tpa == addr;
	struct list ready, dropped;
	list_init(&ready);
	list_init(&dropped);
	if (spa) {
		spin_lock(&arp_lock);
		arp_cache_update(&cache, nif, spa, sha, hal_clock_ns(), for_us, &ready, &dropped);
		spin_unlock(&arp_lock);
	}
	send_ready(nif, &ready, sha);
	free_list(&dropped);
	if (for_us && oper == ARP_REQUEST)
		send_arp(nif, ARP_REPLY, sha, spa, addr, sha);
}

bool arp_resolve(struct netif *nif, ip4_addr ip, struct netbuf *nb, uint8_t mac[6])
{
	struct list dropped;
	bool ask;
	list_init(&dropped);
	spin_lock(&arp_lock);
	bool known = arp_cache_lookup(&cache, nif, ip, nb, mac, hal_clock_ns(),
	                              &ask, &dropped);
	spin_unlock(&arp_lock);
	if (!list_empty(&dropped)) {
		__atomic_add_fetch(&nif->stats.arp_dropped, 1, __ATOMIC_RELAXED);
		free_list(&dropped);
	}
	if (ask)
		send_request(nif, ip);
	return known;
}

void arp_forget_netif(struct netif *nif)
{
	struct list dropped;
	list_init(&dropped);
	spin_lock(&arp_lock);
	arp_cache_forget_netif(&cache, nif, &dropped);
	spin_unlock(&arp_lock);
	free_list(&dropped);
}

void arp_tick(uint64_t now)
{
	struct arp_retry retry[8];
	struct list dropped;
	list_init(&dropped);
	spin_lock(&arp_lock);
	unsigned n = arp_cache_expire(&cache, now, retry, 8, &dropped);
	spin_unlock(&arp_lock);
	free_list(&dropped);
	for (unsigned i = 0; i < n; i++)
		send_request(retry[i].nif, retry[i].ip);
}
