/*
 * memlink.c: the in-memory link of memlink.h: two NICs under hal.h's NIC
 * boundary (net_posix.h's backend interface, as net_slirp.c and net_tap.c),
 * whose frames cross a simulated wire that drops, duplicates, reorders and
 * delays them.
 *
 * Why two interfaces of one kernel and not two kernels: the posix HAL runs
 * one kernel per process, and the unit tests must see both ends of each
 * connection (their states, their counters) from one kernel thread. So the
 * one stack holds two interfaces, 10.9.0.1 and 10.9.0.2 on one subnet, and
 * each connection's two ends live on different interfaces. Nothing takes a
 * short cut: the stack has no loopback path; a segment from one end leaves
 * through its source address's interface (ipv4.c's route), crosses this
 * wire as an Ethernet frame, goes through ARP, IPv4 (which accepts only its
 * own interface's address) and tcp_input into the other end's TCB. The two
 * ends share the stack's tables and CPUs, and nothing else.
 *
 * The wire: each direction has a bounded queue of frames in flight, a heap
 * by due time (then by order of sending). Transmit copies a frame in with
 * its due time drawn from the seeded PRNG (or drops it, or adds a second
 * copy); receive on the other side copies out the frames whose time has
 * come. One host thread (the timer of the delays) sleeps until the next
 * frame falls due and then raises the notify that the receiving side's
 * hal_net_arm asked for, through hal_posix_raise_irq on CPU 0 (each NIC has
 * one queue, which the stack serves on CPU 0). Room freed by a receive is
 * notified to a sender that found its queue full.
 *
 * One mutex guards the whole link: two NICs and their queues are small,
 * and every call holds it for a copy of at most a batch of frames.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memlink.h"
#include "net_posix.h"

#define ETH_MIN_LEN 14

struct wire_frame {
	uint64_t due_ns;
	uint64_t order;             /* sending order: ties leave FIFO */
	uint16_t len;
	uint8_t data[HAL_NET_FRAME_MAX];
};

/* One direction: frames sent by side s toward side 1 - s. */
struct wire {
	struct wire_frame *slots;   /* queue_max of them */
	unsigned *heap;             /* slot numbers, a min-heap by (due_ns, order) */
	unsigned *free_slots;       /* a stack of unused slot numbers */
	unsigned count, nfree;
	uint32_t pass;              /* frames that may still arrive; MEMLINK_OPEN */
	struct memlink_stats stats;
};

struct memlink_nic {
	struct hal_netdev dev;      /* first: hal_netdev * is a memlink_nic * */
	struct memlink *link;
	unsigned side;
	bool armed;                 /* one notify owed: a frame due or room */
	bool tx_blocked;            /* transmit found its wire full */
	bool closed;
};

struct memlink {
	struct memlink_nic nic[2];

	/* lock guards everything below and the nics' flags. */
	pthread_mutex_t lock;
	pthread_cond_t wake;        /* the timer thread: the earliest due time changed */
	struct memlink_config cfg;
	uint64_t prng;
	uint64_t next_order;
	struct wire wire[2];        /* wire[s]: frames side s sent */
	bool stopping;
	unsigned open_nics;         /* closes still to come; the last frees */

	pthread_t thread;
	bool thread_started;
	unsigned long notify_failed;
};

/* Set before boot, read-only while the kernel runs. */
static struct memlink *current;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, seeded, good enough for coin flips. Lock held. */
static uint64_t next_random(struct memlink *l)
{
	uint64_t z = (l->prng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool chance(struct memlink *l, uint32_t ppm)
{
	return ppm && next_random(l) % 1000000u < ppm;
}

static uint64_t draw_delay_ns(struct memlink *l)
{
	uint64_t us = l->cfg.delay_us;
	if (l->cfg.jitter_us)
		us += next_random(l) % l->cfg.jitter_us;
	return us * 1000u;
}

/* ---- the heap of frames in flight ---- */

static bool earlier(const struct wire *w, unsigned a, unsigned b)
{
	const struct wire_frame *x = &w->slots[w->heap[a]], *y = &w->slots[w->heap[b]];
	return x->due_ns != y->due_ns ? x->due_ns < y->due_ns : x->order < y->order;
}

static void heap_swap(struct wire *w, unsigned a, unsigned b)
{
	unsigned t = w->heap[a];
	w->heap[a] = w->heap[b];
	w->heap[b] = t;
}

static void heap_push(struct wire *w, unsigned slot)
{
	unsigned i = w->count++;
	w->heap[i] = slot;
	while (i > 0 && earlier(w, i, (i - 1) / 2)) {
		heap_swap(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static unsigned heap_pop(struct wire *w)
{
	unsigned top = w->heap[0];
	w->heap[0] = w->heap[--w->count];
	for (unsigned i = 0;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->count && earlier(w, l, m))
			m = l;
		if (r < w->count && earlier(w, r, m))
			m = r;
		if (m == i)
			break;
		heap_swap(w, i, m);
		i = m;
	}
	return top;
}

static const struct wire_frame *heap_top(const struct wire *w)
{
	return w->count ? &w->slots[w->heap[0]] : NULL;
}

/* next_out: the next frame that may arrive (held frames may not). */
static const struct wire_frame *next_out(const struct wire *w)
{
	return w->pass ? heap_top(w) : NULL;
}

/* ---- notify ---- */

static void notify_irq(void *arg)
{
	struct memlink_nic *n = arg;
	posix_net_notify(&n->dev, 0);
}

/* poke: give nic its owed notify if it has a frame due or room again.
 * Lock held. A failed raise leaves armed set: the next poke tries again.
 * Armed with frames still to fall due, it wakes the timer thread: that
 * thread left out this side's frames while it was not armed, and may be
 * sleeping past their time. */
static void poke(struct memlink *l, struct memlink_nic *n, uint64_t now)
{
	const struct wire_frame *f = next_out(&l->wire[1 - n->side]);
	bool due = f && f->due_ns <= now;
	bool room = n->tx_blocked && l->wire[n->side].count < l->cfg.queue_max;
	if (!n->armed || n->closed)
		return;
	if (!due && !room) {
		if (f)
			pthread_cond_signal(&l->wake);
		return;
	}
	if (hal_posix_raise_irq(0, notify_irq, n) == 0) {
		n->armed = false;
		if (room)
			n->tx_blocked = false;
	} else {
		l->notify_failed++;
	}
}

/* ---- the timer thread: frames falling due ---- */

static void *timer_thread(void *arg)
{
	struct memlink *l = arg;
	pthread_mutex_lock(&l->lock);
	while (!l->stopping) {
		uint64_t now = now_ns(), next = UINT64_MAX;
		for (unsigned s = 0; s < 2; s++) {
			poke(l, &l->nic[s], now);
			const struct wire_frame *f = next_out(&l->wire[1 - s]);
			/* A due frame waits for its side to arm; arm pokes then. */
			if (f && f->due_ns > now && f->due_ns < next)
				next = f->due_ns;
		}
		if (next == UINT64_MAX) {
			pthread_cond_wait(&l->wake, &l->lock);
		} else {
			struct timespec ts = { (time_t)(next / 1000000000u), (long)(next % 1000000000u) };
			pthread_cond_timedwait(&l->wake, &l->lock, &ts);
		}
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* ---- posix_nic_ops ---- */

static int link_start(struct hal_netdev *dev)
{
	struct memlink *l = ((struct memlink_nic *)dev)->link;
	int rc = 0;
	pthread_mutex_lock(&l->lock);
	if (!l->thread_started) {
		rc = -pthread_create(&l->thread, NULL, timer_thread, l);
		l->thread_started = rc == 0;
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* enqueue: one copy of f on w, due at due_ns; false when w is full. */
static bool enqueue(struct memlink *l, struct wire *w, const struct hal_net_frame *f,
                    uint64_t due_ns)
{
	if (w->count == l->cfg.queue_max || w->nfree == 0)
		return false;
	unsigned slot = w->free_slots[--w->nfree];
	struct wire_frame *wf = &w->slots[slot];
	wf->due_ns = due_ns;
	wf->order = l->next_order++;
	wf->len = f->len;
	memcpy(wf->data, f->data, f->len);
	const struct wire_frame *top = heap_top(w);
	heap_push(w, slot);
	if (!top || due_ns < top->due_ns)
		pthread_cond_signal(&l->wake);
	return true;
}

static unsigned link_transmit(struct hal_netdev *dev, unsigned queue,
                              const struct hal_net_frame *frames, unsigned n)
{
	struct memlink_nic *nic = (struct memlink_nic *)dev;
	struct memlink *l = nic->link;
	struct wire *w = &l->wire[nic->side];
	unsigned taken = 0;

	pthread_mutex_lock(&l->lock);
	uint64_t now = now_ns();
	for (; taken < n; taken++) {
		const struct hal_net_frame *f = &frames[taken];
		if (f->len < ETH_MIN_LEN || f->len > HAL_NET_FRAME_MAX ||
		    (f->flags & HAL_NET_CSUM_PARTIAL) || f->gso_size) {
			w->stats.bad++;         /* no offloads offered: a stack bug */
			continue;
		}
		if (w->count >= l->cfg.queue_max) {
			w->stats.refused++;
			nic->tx_blocked = true;
			break;
		}
		w->stats.sent++;
		if (chance(l, l->cfg.drop_ppm)) {
			w->stats.dropped++;
			continue;
		}
		uint64_t due = now + draw_delay_ns(l);
		if (chance(l, l->cfg.reorder_ppm)) {
			due += (uint64_t)l->cfg.reorder_us * 1000u;
			w->stats.reordered++;
		}
		enqueue(l, w, f, due);
		/* A duplicate that finds the queue full is just not made. */
		if (chance(l, l->cfg.dup_ppm) && enqueue(l, w, f, now + draw_delay_ns(l)))
			w->stats.duplicated++;
	}
	pthread_mutex_unlock(&l->lock);
	return taken;
}

static unsigned link_receive(struct hal_netdev *dev, unsigned queue,
                             struct hal_net_frame *frames, unsigned max)
{
	struct memlink_nic *nic = (struct memlink_nic *)dev;
	struct memlink *l = nic->link;
	struct wire *w = &l->wire[1 - nic->side];
	unsigned got = 0;

	pthread_mutex_lock(&l->lock);
	uint64_t now = now_ns();
	while (got < max) {
		const struct wire_frame *top = next_out(w);
		if (!top || top->due_ns > now)
			break;
		if (w->pass != MEMLINK_OPEN)
			w->pass--;
		unsigned slot = heap_pop(w);
		w->free_slots[w->nfree++] = slot;
		struct hal_net_frame *f = &frames[got];
		if (f->len < w->slots[slot].len)
			continue;               /* the caller broke hal.h's rule */
		memcpy(f->data, w->slots[slot].data, w->slots[slot].len);
		f->len = w->slots[slot].len;
		f->flags = 0;               /* the stack checks the checksums */
		w->stats.delivered++;
		got++;
	}
	if (got)
		poke(l, &l->nic[1 - nic->side], now);   /* room for the sender */
	pthread_mutex_unlock(&l->lock);
	return got;
}

static void link_arm(struct hal_netdev *dev, unsigned queue)
{
	struct memlink_nic *nic = (struct memlink_nic *)dev;
	struct memlink *l = nic->link;
	pthread_mutex_lock(&l->lock);
	nic->armed = true;
	poke(l, nic, now_ns());
	pthread_mutex_unlock(&l->lock);
}

static void wire_free(struct wire *w)
{
	free(w->slots);
	free(w->heap);
	free(w->free_slots);
}

/* link_close: after the kernel stopped. The first close ends the timer
 * thread (no notify after that); the last frees the link. */
static void link_close(struct hal_netdev *dev)
{
	struct memlink_nic *nic = (struct memlink_nic *)dev;
	struct memlink *l = nic->link;
	pthread_mutex_lock(&l->lock);
	nic->closed = true;
	l->stopping = true;
	pthread_cond_signal(&l->wake);
	bool join = l->thread_started;
	l->thread_started = false;
	bool last = --l->open_nics == 0;
	pthread_mutex_unlock(&l->lock);
	if (join)
		pthread_join(l->thread, NULL);
	if (!last)
		return;
	if (l->notify_failed)
		fprintf(stderr, "memlink: %lu notifies failed\n", l->notify_failed);
	for (unsigned s = 0; s < 2; s++)
		wire_free(&l->wire[s]);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	if (current == l)
		current = NULL;
	free(l);
}

static const struct posix_nic_ops link_ops = {
	.start = link_start,
	.receive = link_receive,
	.transmit = link_transmit,
	.arm = link_arm,
	.close = link_close,
};

/* ---- making one ---- */

static bool wire_init(struct wire *w, unsigned n)
{
	w->slots = calloc(n, sizeof(*w->slots));
	w->heap = calloc(n, sizeof(*w->heap));
	w->free_slots = calloc(n, sizeof(*w->free_slots));
	if (!w->slots || !w->heap || !w->free_slots)
		return false;
	for (unsigned i = 0; i < n; i++)
		w->free_slots[i] = n - 1 - i;
	w->nfree = n;
	w->pass = MEMLINK_OPEN;
	return true;
}

struct memlink *memlink_add(struct posix_config *cfg, const struct memlink_config *link_cfg)
{
	if (cfg->nnets + 2 > POSIX_MAX_NICS || link_cfg->queue_max == 0 || current)
		return NULL;
	struct memlink *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	if (!wire_init(&l->wire[0], link_cfg->queue_max) ||
	    !wire_init(&l->wire[1], link_cfg->queue_max)) {
		wire_free(&l->wire[0]);
		wire_free(&l->wire[1]);
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &ca);
	pthread_condattr_destroy(&ca);
	l->cfg = *link_cfg;
	l->prng = link_cfg->seed;
	l->open_nics = 2;
	for (unsigned s = 0; s < 2; s++) {
		struct memlink_nic *n = &l->nic[s];
		n->link = l;
		n->side = s;
		n->dev.ops = &link_ops;
		const uint8_t mac[6] = { 0x02, 0, 0, 0, 0x09, (uint8_t)(s + 1) };
		memcpy(n->dev.info.mac, mac, 6);
		n->dev.info.mtu = 1500;
		n->dev.info.queues = 1;
		n->dev.info.link_up = true;
		snprintf(n->dev.info.name, sizeof(n->dev.info.name), "memlink%u", s);
		struct posix_net_config *nc = &cfg->net[cfg->nnets++];
		memset(nc, 0, sizeof(*nc));
		nc->kind = POSIX_NET_DEVICE;
		nc->device = &n->dev;
	}
	current = l;
	return l;
}

struct memlink *memlink_current(void)
{
	return current;
}

void memlink_set(struct memlink *l, const struct memlink_config *link_cfg)
{
	pthread_mutex_lock(&l->lock);
	unsigned queue_max = l->cfg.queue_max;      /* the slots were made for it */
	l->cfg = *link_cfg;
	l->cfg.queue_max = link_cfg->queue_max && link_cfg->queue_max < queue_max
	                           ? link_cfg->queue_max : queue_max;
	pthread_mutex_unlock(&l->lock);
}

void memlink_stats(struct memlink *l, unsigned side, struct memlink_stats *out)
{
	pthread_mutex_lock(&l->lock);
	*out = l->wire[side & 1].stats;
	pthread_mutex_unlock(&l->lock);
}

void memlink_hold(struct memlink *l, unsigned side, uint32_t pass)
{
	pthread_mutex_lock(&l->lock);
	l->wire[side & 1].pass = pass;
	poke(l, &l->nic[1 - (side & 1)], now_ns());
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
}

void memlink_discard(struct memlink *l, unsigned side, unsigned n)
{
	struct wire *w = &l->wire[side & 1];
	pthread_mutex_lock(&l->lock);
	for (; n > 0 && w->count > 0; n--) {
		w->free_slots[w->nfree++] = heap_pop(w);
		w->stats.dropped++;
	}
	poke(l, &l->nic[side & 1], now_ns());      /* room for the sender */
	pthread_mutex_unlock(&l->lock);
}

void memlink_discard_newest(struct memlink *l, unsigned side, unsigned n)
{
	struct wire *w = &l->wire[side & 1];
	pthread_mutex_lock(&l->lock);
	for (; n > 0 && w->count > 0; n--) {
		unsigned newest = 0;
		for (unsigned i = 1; i < w->count; i++)
			if (w->slots[w->heap[i]].order > w->slots[w->heap[newest]].order)
				newest = i;
		w->free_slots[w->nfree++] = w->heap[newest];
		w->stats.dropped++;
		/* Take it out and heap the rest again (a few frames). */
		w->heap[newest] = w->heap[--w->count];
		unsigned left = w->count;
		w->count = 0;
		for (unsigned i = 0; i < left; i++)
			heap_push(w, w->heap[i]);
	}
	poke(l, &l->nic[side & 1], now_ns());      /* room for the sender */
	pthread_mutex_unlock(&l->lock);
}

unsigned memlink_queued(struct memlink *l, unsigned side)
{
	pthread_mutex_lock(&l->lock);
	unsigned n = l->wire[side & 1].count;
	pthread_mutex_unlock(&l->lock);
	return n;
}

size_t memlink_peek(struct memlink *l, unsigned side, unsigned i, void *buf, size_t max)
{
	const struct wire *w = &l->wire[side & 1];
	size_t len = 0;
	pthread_mutex_lock(&l->lock);
	/* The frame with exactly i sent before it (a few frames: by count). */
	for (unsigned a = 0; a < w->count && !len; a++) {
		const struct wire_frame *f = &w->slots[w->heap[a]];
		unsigned before = 0;
		for (unsigned b = 0; b < w->count; b++)
			before += w->slots[w->heap[b]].order < f->order;
		if (before == i && f->len <= max) {
			memcpy(buf, f->data, f->len);
			len = f->len;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return len;
}

bool memlink_inject(struct memlink *l, unsigned side, const void *frame, size_t len)
{
	if (len < ETH_MIN_LEN || len > HAL_NET_FRAME_MAX)
		return false;
	struct hal_net_frame f = { .data = (void *)frame, .len = (uint16_t)len };
	struct wire *w = &l->wire[side & 1];
	pthread_mutex_lock(&l->lock);
	uint64_t now = now_ns();
	bool taken = enqueue(l, w, &f, now);
	if (taken) {
		w->stats.sent++;
		poke(l, &l->nic[1 - (side & 1)], now);
	}
	pthread_mutex_unlock(&l->lock);
	return taken;
}
