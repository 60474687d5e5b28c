/*
 * tcp_conn.c: the connection table (by 4-tuple, to find the owner CPU of
 * an arriving segment), the port table (bound and listening connections),
 * ephemeral ports, and making and freeing connection records.
 *
 * Both tables are under one spinlock, tcp_tables (a leaf lock: nothing is
 * taken while holding it). A connection is entered and removed only by its
 * owner CPU; another CPU only reads, under the lock, which CPU owns a
 * tuple, so it never holds a pointer to a connection it does not own. The
 * owner changes only when a listener hands a connection not yet accepted
 * to another CPU (tcp_listen.c): under the lock, so that the writes of the
 * old owner are seen by the new one, whose lookups take the lock.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "spinlock.h"
#include "tcp_impl.h"

/* 4-tuple table: TIME-WAITs stay 2 MSL (60 s), so a server taking 5000
 * connections a second holds 3 * 10^5 of them, looked up on every segment:
 * chains stay short only with many buckets (1 MiB of list heads). */
#define HASH_BUCKETS 65536
#define PORT_BUCKETS 256
#define EPHEMERAL_LO 49152      /* RFC 6335 §6 dynamic ports */
#define EPHEMERAL_N  16384

static struct spinlock tables_lock = SPINLOCK_INIT("tcp_tables");
static struct list conn_hash[HASH_BUCKETS];     /* guarded by tables_lock */
static struct list port_hash[PORT_BUCKETS];
static bool tables_ready;                       /* set once, under tables_lock */
static unsigned conns_alive;                    /* atomic */
struct tcp_counters tcp_counters;               /* atomic fields */

/* lock_tables: take tables_lock, making the tables on first use. */
static void lock_tables(void)
{
	spin_lock(&tables_lock);
	if (!tables_ready) {
		for (unsigned i = 0; i < HASH_BUCKETS; i++)
			list_init(&conn_hash[i]);
		for (unsigned i = 0; i < PORT_BUCKETS; i++)
			list_init(&port_hash[i]);
		tables_ready = true;
	}
}

static unsigned tuple_bucket(ip4_addr la, uint16_t lp, ip4_addr ra, uint16_t rp)
{
	uint32_t h = la * 0x9e3779b1u ^ ra * 0x85ebca6bu ^ ((uint32_t)lp << 16 | rp) * 0xc2b2ae35u;
	h ^= h >> 15;
	return h % HASH_BUCKETS;
}

static struct tcp_conn *find_locked(ip4_addr la, uint16_t lp, ip4_addr ra, uint16_t rp)
{
	struct list *b = &conn_hash[tuple_bucket(la, lp, ra, rp)];
	list_for_each(pos, b) {
		struct tcp_conn *c = list_entry(pos, struct tcp_conn, hash_link);
		if (c->lport == lp && c->rport == rp && c->laddr == la && c->raddr == ra)
			return c;
	}
	return NULL;
}

int tcp_conn_lookup_cpu(ip4_addr la, uint16_t lp, ip4_addr ra, uint16_t rp)
{
	lock_tables();
	struct tcp_conn *c = find_locked(la, lp, ra, rp);
	int cpu = c ? (int)c->cpu : -1;
	spin_unlock(&tables_lock);
	return cpu;
}

struct tcp_conn *tcp_conn_lookup_here(ip4_addr la, uint16_t lp, ip4_addr ra, uint16_t rp,
                                      int *owner)
{
	lock_tables();
	struct tcp_conn *c = find_locked(la, lp, ra, rp);
	*owner = c ? (int)c->cpu : -1;
	if (c && c->cpu != hal_cpu_id())
		c = NULL;
	spin_unlock(&tables_lock);
	return c;
}

struct tcp_conn *tcp_conn_lookup(ip4_addr la, uint16_t lp, ip4_addr ra, uint16_t rp)
{
	int owner;
	return tcp_conn_lookup_here(la, lp, ra, rp, &owner);
}

void tcp_conn_set_cpu(struct tcp_conn *c, unsigned cpu)
{
	lock_tables();
	c->cpu = cpu;
	spin_unlock(&tables_lock);
}

int tcp_conn_hash_insert(struct tcp_conn *c)
{
	lock_tables();
	if (find_locked(c->laddr, c->lport, c->raddr, c->rport)) {
		spin_unlock(&tables_lock);
		return -EADDRINUSE;
	}
	list_push_back(&conn_hash[tuple_bucket(c->laddr, c->lport, c->raddr, c->rport)],
	               &c->hash_link);
	c->in_table = true;
	spin_unlock(&tables_lock);
	return 0;
}

void tcp_conn_hash_remove(struct tcp_conn *c)
{
	if (!c->in_table)
		return;
	lock_tables();
	list_remove(&c->hash_link);
	c->in_table = false;
	spin_unlock(&tables_lock);
}

/* port_conflict: whether c may not have port for its address. */
static bool port_conflict_locked(const struct tcp_conn *c, uint16_t port)
{
	list_for_each(pos, &port_hash[port % PORT_BUCKETS]) {
		struct tcp_conn *o = list_entry(pos, struct tcp_conn, port_link);
		if (o == c || o->lport != port)
			continue;
		if (o->laddr && c->laddr && o->laddr != c->laddr)
			continue;
		/* SOCKOPT_REUSEADDR: a port held only by connections that are
		 * winding down (TIME-WAIT, or closed by their user) is free. */
		if (c->reuseaddr && !o->port_listening && o->port_released)
			continue;
		return true;
	}
	return false;
}

int tcp_port_bind(struct tcp_conn *c, ip4_addr raddr, uint16_t rport)
{
	if (c->bound)
		return -EINVAL;
	lock_tables();
	if (c->lport == 0) {
		/* RFC 6056 §3.3.3-like: start where a hash of the tuple points,
		 * so successive connections do not walk the same ports. */
		uint32_t off = (uint32_t)tcp_secret_hash(c->laddr, 0, raddr, rport, hal_clock_ns());
		uint16_t found = 0;
		for (uint32_t i = 0; i < EPHEMERAL_N && !found; i++) {
			uint16_t p = (uint16_t)(EPHEMERAL_LO + (off + i) % EPHEMERAL_N);
			if (!port_conflict_locked(c, p))
				found = p;
		}
		if (!found) {
			spin_unlock(&tables_lock);
			return -EADDRNOTAVAIL;
		}
		c->lport = found;
	} else if (port_conflict_locked(c, c->lport)) {
		spin_unlock(&tables_lock);
		c->lport = 0;
		return -EADDRINUSE;
	}
	list_push_back(&port_hash[c->lport % PORT_BUCKETS], &c->port_link);
	c->bound = true;
	spin_unlock(&tables_lock);
	return 0;
}

void tcp_port_unbind(struct tcp_conn *c)
{
	if (!c->bound)
		return;
	lock_tables();
	list_remove(&c->port_link);
	c->bound = false;
	c->port_listening = false;
	spin_unlock(&tables_lock);
}

void tcp_port_listen(struct tcp_conn *c)
{
	tcp_set_state(c, TCP_LISTEN);
	lock_tables();
	c->port_listening = true;
	spin_unlock(&tables_lock);
}

void tcp_port_release(struct tcp_conn *c)
{
	lock_tables();
	c->port_released = true;
	spin_unlock(&tables_lock);
}

struct tcp_conn *tcp_listener_find(ip4_addr addr, uint16_t port)
{
	struct tcp_conn *best = NULL;
	lock_tables();
	list_for_each(pos, &port_hash[port % PORT_BUCKETS]) {
		struct tcp_conn *o = list_entry(pos, struct tcp_conn, port_link);
		if (!o->port_listening || o->lport != port)
			continue;
		if (o->laddr == addr) {
			best = o;
			break;
		}
		if (o->laddr == 0)
			best = o;
	}
	if (best)
		tcp_listener_get(best);
	spin_unlock(&tables_lock);
	return best;
}

struct tcp_conn *tcp_conn_new(unsigned cpu)
{
	struct tcp_conn *c = kzalloc(sizeof(*c));
	if (!c)
		return NULL;
	c->cpu = cpu;
	c->state = TCP_CLOSED;
	c->linger_s = -1;
	c->rcvbuf = TCP_DEFAULT_BUF;
	c->rcvbuf_auto = true;
	c->sndbuf = TCP_DEFAULT_BUF;
	c->sndbuf_auto = true;
	c->mss = TCP_DEFAULT_MSS;
	list_init(&c->hash_link);
	list_init(&c->port_link);
	list_init(&c->rcvq);
	list_init(&c->oooq);
	list_init(&c->accept_link);
	waitq_init(&c->wait, "tcp_conn");
	tcp_rtt_init(&c->rtt);
	tcp_timers_init(c);
	__atomic_add_fetch(&conns_alive, 1, __ATOMIC_RELAXED);
	return c;
}

void tcp_conn_maybe_free(struct tcp_conn *c)
{
	if (c->state != TCP_CLOSED || c->user_ref || c->parent || c->moving)
		return;
	tcp_timers_cancel(c);
	tcp_conn_hash_remove(c);
	tcp_port_unbind(c);
	tcp_rcv_purge(c);
	kfree(c->sbuf);
	tcp_sack_free(&c->sb);
	kfree(c);
	__atomic_sub_fetch(&conns_alive, 1, __ATOMIC_RELAXED);
}

unsigned tcp_conn_count(void)
{
	return __atomic_load_n(&conns_alive, __ATOMIC_RELAXED);
}

void tcp_count(const struct netbuf *nb, enum tcp_drop_reason why)
{
	if (!nb->netif)
		return;
	struct net_counters *st = &nb->netif->stats;
	uint64_t *ctr = why == TCP_BAD_CSUM ? &st->bad_csum :
	                why == TCP_NO_SOCKET ? &st->no_socket : &st->bad_tcp;
	__atomic_add_fetch(ctr, 1, __ATOMIC_RELAXED);
}

void tcp_count_states(uint32_t counts[TCP_STATE_COUNT])
{
	memset(counts, 0, sizeof(uint32_t) * TCP_STATE_COUNT);
	lock_tables();
	for (unsigned i = 0; i < HASH_BUCKETS; i++) {
		list_for_each(pos, &conn_hash[i]) {
			struct tcp_conn *c = list_entry(pos, struct tcp_conn, hash_link);
			/* Another CPU may be changing it: a snapshot is all we want. */
			enum tcp_state st = __atomic_load_n(&c->state, __ATOMIC_RELAXED);
			if ((unsigned)st < TCP_STATE_COUNT)
				counts[st]++;
		}
	}
	for (unsigned i = 0; i < PORT_BUCKETS; i++) {
		list_for_each(pos, &port_hash[i]) {
			struct tcp_conn *c = list_entry(pos, struct tcp_conn, port_link);
			if (!c->in_table && __atomic_load_n(&c->state, __ATOMIC_RELAXED) == TCP_LISTEN)
				counts[TCP_LISTEN]++;
		}
	}
	spin_unlock(&tables_lock);
}
