/*
 * stack.h: what the files of net/ call of each other beyond the agreed
 * net.h (which the TCP files share): counters, the configuration, ARP, the
 * fragment table, the DHCP client and UDP's side of the sockets.
 */
#ifndef NET_STACK_H
#define NET_STACK_H

#include "net.h"

#define NET_MAX_IFS 8

/* NET_COUNT: add one to a counter of nif (any CPU). */
#define NET_COUNT(nif, field) __atomic_add_fetch(&(nif)->stats.field, 1, __ATOMIC_RELAXED)

/* ---- ipconfig.c ------------------------------------------------------------ */

/* ipconfig_parse: "ADDR/PREFIX[,gw=ADDR]" into its parts (gw 0 if absent);
 * 0, or -EINVAL for anything else. */
int ipconfig_parse(const char *opt, ip4_addr *addr, ip4_addr *netmask, ip4_addr *gateway);
/* netif_set_config: give nif an address (announced with a gratuitous ARP);
 * addr 0 takes it away. Any CPU. */
void netif_set_config(struct netif *nif, ip4_addr addr, ip4_addr netmask, ip4_addr gateway);
/* net_wait_configured: wait until the first interface has an address or
 * the deadline passes; true if it has one. May block. */
bool net_wait_configured(uint64_t deadline_ns);
int ip4_format(char *buf, size_t size, ip4_addr a);   /* "10.0.2.15" */

/* ---- ether.c ----------------------------------------------------------------- */

/* ether_output: push the Ethernet header (to dst, of type) and transmit. */
void ether_output(struct netif *nif, struct netbuf *nb, const uint8_t dst[6], uint16_t type);

/* ---- arp.c ------------------------------------------------------------------- */

void arp_init(void);
void arp_input(struct netif *nif, struct netbuf *nb);          /* takes nb */
/* arp_resolve: the MAC of ip on nif into mac and true; or false, and nb
 * (an IPv4 packet for ip) was queued until the answer comes, or dropped. */
bool arp_resolve(struct netif *nif, ip4_addr ip, struct netbuf *nb, uint8_t mac[6]);
void arp_announce(struct netif *nif);            /* gratuitous ARP */
void arp_forget_netif(struct netif *nif);        /* its address changed */
void arp_tick(uint64_t now);                     /* retries and timeouts */

/* ---- ipv4.c, ip_frag.c, icmp.c ------------------------------------------------- */

/* Why ipv4_check refused a header (counted in bad_ip). */
enum ipv4_bad {
	IPV4_OK = 0, IPV4_SHORT, IPV4_VERSION, IPV4_IHL, IPV4_TOTLEN, IPV4_CSUM, IPV4_TTL,
	IPV4_SRC,
};
/* ipv4_check: the header at p (len bytes received) is sound; its header
 * length and total length. Reads nothing past len. */
enum ipv4_bad ipv4_check(const uint8_t *p, size_t len, unsigned *hlen, unsigned *totlen);
/* ipv4_output_on: ipv4_output on a given interface to a given next hop
 * (DHCP before the interface has an address; broadcast). */
int ipv4_output_on(struct netif *nif, struct netbuf *nb, ip4_addr src, ip4_addr dst,
                   uint8_t proto, ip4_addr next_hop);
void ip_frag_init(void);
/* ip_frag_input: nb (data at the IPv4 header, checked, trimmed) is one
 * fragment; returns the whole datagram when nb completed it (data at its
 * header, total length fixed, not a fragment any more), else NULL. Takes nb. */
struct netbuf *ip_frag_input(struct netbuf *nb, uint64_t now);
void ip_frag_tick(uint64_t now);
unsigned ip_frag_in_progress(void);
void icmp_tick(uint64_t now);

/* ---- checksum.c ------------------------------------------------------------- */

void net_l4_checksum_finish(struct netbuf *nb, uint8_t proto);

/* ---- dhcp.c ------------------------------------------------------------------ */

void dhcp_start(struct netif *nif);              /* on CPU 0 */
void dhcp_input(struct netbuf *nb);              /* a datagram to port 68 */

/* ---- netif.c ----------------------------------------------------------------- */

struct netif *netif_by_index(unsigned index);
/* The counters of the first interface: for drops with no interface at hand. */
struct netif *netif_any(void);

#endif
