/*
 * arp_cache.h: the ARP cache as a plain data structure, without locking or
 * packets on the wire (arp.c adds both), so tests can drive it with their
 * own clock.
 *
 * Bounded: ARP_CACHE_SIZE entries; a new one evicts the resolved entry that
 * expires first, else the oldest unresolved one. An unresolved entry holds
 * at most ARP_QUEUE_MAX packets waiting for the answer and is retried every
 * ARP_RETRY_NS up to ARP_TRIES requests, then dropped with its packets. A
 * resolved entry lives ARP_REACHABLE_NS from its last update, then is
 * forgotten (the next packet asks again).
 *
 * Packets leave the cache on lists the caller frees or sends once it has
 * let go of its lock.
 */
#ifndef NET_ARP_CACHE_H
#define NET_ARP_CACHE_H

#include "net.h"

#define ARP_CACHE_SIZE   64
#define ARP_QUEUE_MAX    4
#define ARP_TRIES        3
#define ARP_RETRY_NS     1000000000ull
#define ARP_REACHABLE_NS (60 * 1000000000ull)

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_RESOLVED };

struct arp_entry {
	enum arp_state state;
	struct netif *nif;
	ip4_addr ip;
	uint8_t mac[6];
	uint64_t expires_ns;        /* RESOLVED: forgotten then; INCOMPLETE: next try */
	uint64_t updated_ns;
	unsigned tries;             /* requests sent (INCOMPLETE) */
	struct list waiting;        /* netbufs, oldest first */
	unsigned nwaiting;
};

struct arp_cache {
	struct arp_entry e[ARP_CACHE_SIZE];
};

/* A request arp_cache_expire wants sent again. */
struct arp_retry {
	struct netif *nif;
	ip4_addr ip;
};

void arp_cache_init(struct arp_cache *c);
struct arp_entry *arp_cache_find(struct arp_cache *c, struct netif *nif, ip4_addr ip);
unsigned arp_cache_used(const struct arp_cache *c);

/*
 * arp_cache_lookup: the MAC for ip into mac and true when resolved.
 * Otherwise false, nb queued on the (maybe new) unresolved entry, or put on
 * dropped when its queue is full; *send_request says whether to ask now (a
 * new entry). nb may be NULL (only ask).
 */
bool arp_cache_lookup(struct arp_cache *c, struct netif *nif, ip4_addr ip, struct netbuf *nb,
                      uint8_t mac[6], uint64_t now, bool *send_request, struct list *dropped);

/*
 * arp_cache_update: ip is at mac. An existing entry is refreshed (RFC 826's
 * merge); a missing one is made only if create. Waiting packets move to
 * ready (their destination MAC is mac). Returns true if an entry is there.
 */
bool arp_cache_update(struct arp_cache *c, struct netif *nif, ip4_addr ip, const uint8_t mac[6],
                      uint64_t now, bool create, struct list *ready, struct list *dropped);

/* arp_cache_expire: forget timed-out entries (packets to dropped), and fill
 * retry (up to max) with the requests to send again; their count. */
unsigned arp_cache_expire(struct arp_cache *c, uint64_t now, struct arp_retry *retry,
                          unsigned max, struct list *dropped);

void arp_cache_forget_netif(struct arp_cache *c, struct netif *nif, struct list *dropped);

#endif
