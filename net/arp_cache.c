/*
 * arp_cache.c: the bounded ARP cache (see arp_cache.h).
 */
#include <string.h>

#include "arp_cache.h"

void arp_cache_init(struct arp_cache *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		list_init(&c->e[i].waiting);
}

static void release(struct arp_entry *e, struct list *dropped)
{
	list_splice_back(dropped, &e->waiting);
	e->nwaiting = 0;
	e->state = ARP_FREE;
}

struct arp_entry *arp_cache_find(struct arp_cache *c, struct netif *nif, ip4_addr ip)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &c->e[i];
		if (e->state != ARP_FREE && e->ip == ip && e->nif == nif)
			return e;
	}
	return NULL;
}

unsigned arp_cache_used(const struct arp_cache *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		n += c->e[i].state != ARP_FREE;
	return n;
}

/* new_entry: a free slot, else the victim the header describes. */
static struct arp_entry *new_entry(struct arp_cache *c, struct netif *nif, ip4_addr ip,
                                   uint64_t now, struct list *dropped)
{
	struct arp_entry *victim = NULL;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &c->e[i];
		if (e->state == ARP_FREE) {
			victim = e;
			break;
		}
		if (!victim || (e->state == ARP_RESOLVED && victim->state != ARP_RESOLVED) ||
		    (e->state == victim->state && e->updated_ns < victim->updated_ns))
			victim = e;
	}
	release(victim, dropped);
	victim->nif = nif;
	victim->ip = ip;
	victim->updated_ns = now;
	victim->tries = 0;
	return victim;
}

bool arp_cache_lookup(struct arp_cache *c, struct netif *nif, ip4_addr ip, struct netbuf *nb,
                      uint8_t mac[6], uint64_t now, bool *send_request, struct list *dropped)
{
	struct arp_entry *e = arp_cache_find(c, nif, ip);
	*send_request = false;
	if (e && e->state == ARP_RESOLVED) {
		memcpy(mac, e->mac, 6);
		return true;
	}
	if (!e) {
		e = new_entry(c, nif, ip, now, dropped);
		e->state = ARP_INCOMPLETE;
		e->tries = 1;
		e->expires_ns = now + ARP_RETRY_NS;
		*send_request = true;
	}
	if (nb) {
		if (e->nwaiting >= ARP_QUEUE_MAX) {
			list_push_back(dropped, &nb->link);
		} else {
			list_push_back(&e->waiting, &nb->link);
			e->nwaiting++;
		}
	}
	return false;
}

bool arp_cache_update(struct arp_cache *c, struct netif *nif, ip4_addr ip, const uint8_t mac[6],
                      uint64_t now, bool create, struct list *ready, struct list *dropped)
{
	struct arp_entry *e = arp_cache_find(c, nif, ip);
	if (!e) {
		if (!create)
			return false;
		e = new_entry(c, nif, ip, now, dropped);
	}
	e->state = ARP_RESOLVED;
	memcpy(e->mac, mac, 6);
	e->updated_ns = now;
	e->expires_ns = now + ARP_REACHABLE_NS;
	e->tries = 0;
	list_splice_back(ready, &e->waiting);
	e->nwaiting = 0;
	return true;
}

unsigned arp_cache_expire(struct arp_cache *c, uint64_t now, struct arp_retry *retry,
                          unsigned max, struct list *dropped)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &c->e[i];
		if (e->state == ARP_FREE || e->expires_ns > now)
			continue;
		if (e->state == ARP_RESOLVED || e->tries >= ARP_TRIES) {
			release(e, dropped);
			continue;
		}
		if (n == max)
			continue;       /* asked again at the next call */
		e->tries++;
		e->expires_ns = now + ARP_RETRY_NS;
		retry[n].nif = e->nif;
		retry[n].ip = e->ip;
		n++;
	}
	return n;
}

void arp_cache_forget_netif(struct arp_cache *c, struct netif *nif, struct list *dropped)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		if (c->e[i].state != ARP_FREE && c->e[i].nif == nif)
			release(&c->e[i], dropped);
	}
}
