/*
 * ether.c: Ethernet II in and out. Input takes frames addressed to us or to
 * everyone and hands them to ARP or IPv4 by type; everything else (other
 * hosts' frames, multicast, VLAN tags, IEEE 802.3 lengths) is dropped.
 */
#include <string.h>

#include "stack.h"
#include "wire.h"

void ether_input(struct netif *nif, struct netbuf *nb)
{
	if (nb->len < ETH_HLEN) {
		NET_COUNT(nif, bad_ether);
		netbuf_free(nb);
		return;
	}
	const uint8_t *h = nb->data;
	bool to_us = memcmp(h + ETH_DST, nif->mac, 6) == 0;
	bool to_all = memcmp(h + ETH_DST, ETH_BROADCAST, 6) == 0;
	/* A group address as source is forbidden (IEEE 802.3 §3.2.3). */
	if (h[ETH_SRC] & 1) {
		NET_COUNT(nif, bad_ether);
		netbuf_free(nb);
		return;
	}
	if (!to_us && !to_all) {
		NET_COUNT(nif, rx_dropped);
		netbuf_free(nb);
		return;
	}
	uint16_t type = get_be16(h + ETH_TYPE);
	netbuf_pull(nb, ETH_HLEN);
	switch (type) {
	case ETHERTYPE_IPV4:
		ipv4_input(nif, nb);
		break;
	case ETHERTYPE_ARP:
		arp_input(nif, nb);
		break;
	default:
		NET_COUNT(nif, rx_dropped);
		netbuf_free(nb);
	}
}

void ether_output(struct netif *nif, struct netbuf *nb, const uint8_t dst[6], uint16_t type)
{
	uint8_t *h = netbuf_push(nb, ETH_HLEN);
	if (!h) {
		NET_COUNT(nif, tx_dropped);
		netbuf_free(nb);
		return;
	}
	memcpy(h + ETH_DST, dst, 6);
	memcpy(h + ETH_SRC, nif->mac, 6);
	put_be16(h + ETH_TYPE, type);
	nb->netif = nif;
	netif_transmit(nif, nb);
}

void ether_output_ip(struct netif *nif, struct netbuf *nb, ip4_addr next_hop)
{
	uint8_t mac[6];
	ip4_addr addr, netmask;

	netif_config(nif, &addr, &netmask, NULL);
	if (next_hop == 0xffffffff || (netmask && next_hop == (addr | ~netmask))) {
		ether_output(nif, nb, ETH_BROADCAST, ETHERTYPE_IPV4);
		return;
	}
	if (arp_resolve(nif, next_hop, nb, mac))
		ether_output(nif, nb, mac, ETHERTYPE_IPV4);
}
