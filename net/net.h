/*
 * net.h: the inside of the TCP/IP stack, between its layers.
 *
 * Layout (one protocol a file, as fs/ext2 is one on-disk object a file):
 *   netif.c    interfaces over hal.h's NICs, address configuration, the
 *              per-CPU network threads that receive, run timers and take
 *              packets handed over from other CPUs
 *   ether.c    Ethernet II in and out        arp.c     ARP cache
 *   ipv4.c     IPv4 in and out, routing      ip_frag.c reassembly
 *   icmp.c     echo, errors                  udp.c     UDP sockets
 *   tcp_*.c    TCP (see tcp.h)               dhcp.c    DHCP client
 *   socket.c   the service API of socket.h   checksum.c
 *
 * Concurrency: the stack runs in thread context only, never in a device
 * handler. Every connection and socket belongs to one CPU and is touched
 * only by threads of that CPU; as scheduling is cooperative, that needs no
 * lock. A packet that arrives on another CPU is handed to the owner with
 * net_run_on(). Shared tables (ARP, the interfaces, the port tables) take
 * their own short spinlocks, named where declared.
 *
 * Byte order: addresses and ports are host order in every call and field
 * here; only packet headers are network order.
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "hal.h"
#include "list.h"
#include "netbuf.h"
#include "spinlock.h"

typedef uint32_t ip4_addr;      /* host byte order; 0: any / none */

#define IP4(a, b, c, d) ((ip4_addr)(a) << 24 | (ip4_addr)(b) << 16 | (ip4_addr)(c) << 8 | (d))

enum { IP_PROTO_ICMP = 1, IP_PROTO_TCP = 6, IP_PROTO_UDP = 17 };

/* Counters of what was dropped and why; any CPU adds with atomics.
 * udp_dropped: datagrams refused because the socket's queue was full. */
struct net_counters {
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
	uint64_t bad_ether, bad_arp, bad_ip, bad_icmp, bad_udp, bad_tcp;
	uint64_t bad_csum, no_socket, frag_dropped, no_route, arp_dropped;
	uint64_t udp_dropped;
};

struct netif {
	struct hal_netdev *dev;
	unsigned index;
	uint8_t mac[6];
	uint16_t mtu;
	unsigned queues;
	unsigned offloads;                  /* HAL_NET_TX_CSUM | HAL_NET_RX_CSUM | HAL_NET_TX_TSO */

	/* Configuration (ip= option or DHCP); lock guards changes, readers
	 * take a snapshot with netif_config(). */
	struct spinlock lock;
	ip4_addr addr, netmask, gateway;
	bool configured;

	struct net_counters stats;
};

/* ---- netif.c ------------------------------------------------------------ */

/*
 * net_init: bring up every NIC the platform has and configure it: the
 * kernel options "ip=ADDR/PREFIX[,gw=ADDR]" (taken out of argv by the
 * caller, ip_options[i] the text after "ip=" of the i-th) set the first
 * count interfaces' addresses, in order; DHCP runs on the others. Starts
 * the per-CPU network threads. 0, or -errno. From kernel_main's first
 * thread, once.
 */
#define NET_MAX_IP_OPTIONS 8
int net_init(const char *const ip_options[], unsigned count);

/* net_print_stats: every interface's counters and TCP's (netstat.c) on
 * the console; the kernel's --netstat option at the service's end. */
void net_print_stats(void);

unsigned net_netif_count(void);
struct netif *net_netif(unsigned index);
/* netif_config: a consistent copy of addr, netmask, gateway. */
void netif_config(struct netif *nif, ip4_addr *addr, ip4_addr *netmask, ip4_addr *gateway);

/* netif_transmit: send the frame in nb (data at the Ethernet header) on the
 * calling CPU's queue; takes nb. Never blocks: a full ring queues it. */
void netif_transmit(struct netif *nif, struct netbuf *nb);

/* net_run_on: run fn(nb) in CPU cpu's network thread; takes nb. On the
 * calling CPU's own it runs after the packet in hand. Any CPU. */
void net_run_on(unsigned cpu, struct netbuf *nb, void (*fn)(struct netbuf *nb));
/* net_call_on: the same for a message, not a packet: never dropped when
 * the CPU's inbox is full (net_run_on drops packets there), so the caller
 * bounds how many it sends. Only to a started CPU. */
void net_call_on(unsigned cpu, struct netbuf *nb, void (*fn)(struct netbuf *nb));

/* Timers that the owning CPU's network thread runs, in thread context. A
 * timer belongs to the CPU that arms it; arm, re-arm and cancel it there. */
struct net_timer {
	struct list link;
	uint64_t deadline_ns;
	void (*fn)(struct net_timer *t);
};
void net_timer_init(struct net_timer *t, void (*fn)(struct net_timer *t));
void net_timer_arm(struct net_timer *t, uint64_t deadline_ns);  /* re-arms if armed */
void net_timer_cancel(struct net_timer *t);
static inline bool net_timer_armed(const struct net_timer *t) { return list_linked(&t->link); }

/* ---- ether.c, arp.c ----------------------------------------------------- */

void ether_input(struct netif *nif, struct netbuf *nb);       /* takes nb */
/* ether_output: nb->data at the IPv4 header; resolves next_hop (ARP, the
 * packet waits in a bounded queue meanwhile) and transmits. Takes nb. */
void ether_output_ip(struct netif *nif, struct netbuf *nb, ip4_addr next_hop);

/* ---- ipv4.c, ip_frag.c, icmp.c ------------------------------------------ */

void ipv4_input(struct netif *nif, struct netbuf *nb);        /* takes nb */
/*
 * ipv4_output: nb->data at the transport header, its checksum done (or
 * HAL_NET_CSUM_PARTIAL set by net_l4_checksum); adds the IPv4 header,
 * routes (the interface of dst's subnet, else the gateway), fragments if
 * longer than the MTU. Takes nb. 0, -EHOSTUNREACH (no route), -ENOBUFS.
 */
int ipv4_output(struct netbuf *nb, ip4_addr src, ip4_addr dst, uint8_t proto);
/* ipv4_route: the interface and local address for dst; NULL if none.
 * ipv4_route_from: the same for a packet from the local address from (0:
 * any), which leaves through from's interface when that one reaches dst. */
struct netif *ipv4_route(ip4_addr dst, ip4_addr *src);
struct netif *ipv4_route_from(ip4_addr from, ip4_addr dst, ip4_addr *src);
bool ipv4_is_local(ip4_addr addr);

/* icmp_send_unreachable: answer the datagram in nb (data at its IPv4
 * header, as received) with destination unreachable, code given. */
void icmp_send_unreachable(struct netbuf *nb, uint8_t code);

/* ---- transports --------------------------------------------------------- */

/* nb->data at the transport header, len the transport length, src_ip and
 * dst_ip set; the checksum is not checked yet (unless HAL_NET_CSUM_VALID).
 * Any CPU: the transport hands the packet to its owner CPU. Take nb. */
void udp_input(struct netbuf *nb);
void tcp_input(struct netbuf *nb);
void icmp_input(struct netbuf *nb);

/* ---- checksum.c ---------------------------------------------------------- */

/* The Internet checksum (RFC 1071): inet_sum adds len bytes to a 32-bit
 * running sum; inet_fold folds and complements it. */
uint32_t inet_sum(const void *data, size_t len, uint32_t sum);
uint16_t inet_fold(uint32_t sum);
uint32_t inet_pseudo_sum(ip4_addr src, ip4_addr dst, uint8_t proto, uint16_t len);
/* net_l4_checksum: fill the TCP/UDP checksum at offset csum_offset of the
 * transport header at nb->data: by the NIC (HAL_NET_CSUM_PARTIAL) when the
 * route's interface offers it, else here. */
void net_l4_checksum(struct netbuf *nb, struct netif *out, ip4_addr src, ip4_addr dst,
                     uint8_t proto, uint16_t csum_offset);
/* net_l4_checksum_ok: true when the received transport packet's checksum
 * is right (or the NIC said so). */
bool net_l4_checksum_ok(const struct netbuf *nb, uint8_t proto);

#endif
