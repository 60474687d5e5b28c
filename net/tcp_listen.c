/*
 * tcp_listen.c: listeners (RFC 9293 §3.10.7.2 LISTEN), accepted from any
 * CPU.
 *
 * A listener is one struct tcp_conn in state LISTEN with a shared part,
 * struct tcp_listener, and a part per CPU. A SYN for it is handed to one of
 * the CPUs that accept on it (tcp_listen_pick_cpu): the CPU it arrived on
 * when the NIC has a receive queue per CPU (the NIC spread the flows
 * already, and keeps a flow on one queue), else one picked by hash of the
 * 4-tuple; either way the SYN, a retransmitted SYN and the cookie's ACK all
 * meet on the same one. That CPU makes the connection, owns it, keeps it
 * on its embryo list while in SYN-RECEIVED and on its accept list once
 * established, and gives it to a thread of its own in tcp_accept. Per
 * CPU, embryos plus accept list are bounded by the backlog; beyond it SYN
 * cookies answer (RFC 4987 §3.6) and no state is kept until the ACK.
 *
 * An accepted connection is always its accepting thread's CPU's: all its
 * calls then run there without a hand-over, and with a NIC queue per CPU
 * Linux's TAP steers its frames to the queue it is sent from. But the CPU
 * picked at the SYN may have no thread that accepts when the connection is
 * ready (the listener's CPU before any accept, a CPU whose accepters are
 * busy or gone), while another CPU's wait. Such a connection moves, once,
 * while nobody uses it yet:
 *   push  established where nobody waits, it goes to a CPU where a thread
 *         waits in accept or select and has none ready or coming;
 *   pull  an accepter that finds nothing ready asks a CPU that holds ready
 *         connections and has nobody waiting for one of them.
 * The owner hands it over (hand_over): off its accept list, timers off its
 * wheel, the tables' owner changed, then a message to the new owner, which
 * takes it (take_over) onto its accept list. Segments that reach the old
 * owner after the change follow it (tcp_input_owned); those that reach the
 * new owner before the message run there as usual (c->moving keeps it from
 * being freed or counted off a list it is not on).
 *
 * Locks and lifetime: the per-CPU lists are touched only by their CPU
 * (cooperative scheduling, no lock); the counts other CPUs read (nready,
 * incoming, waiting) and pulling are atomic; accepters is a mask changed
 * with atomics; refs (atomic) counts the socket's reference, lookups in
 * flight, accepters asleep, messages in flight and each not yet accepted
 * connection; the last put frees it. Closing marks it closing, takes it out
 * of the port table and asks each CPU (net_call_on) to reset what it holds
 * for it.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "tcp_impl.h"

struct tcp_listen_cpu {
	struct list embryos;            /* SYN-RECEIVED, accept_link */
	struct list ready;              /* ESTABLISHED, not yet accepted */
	unsigned nembryos;
	unsigned nready;                /* atomic: ready's length */
	unsigned incoming;              /* atomic: handed here, not yet taken */
	unsigned waiting;               /* atomic: threads in tcp_listen_accept */
	bool pulling;                   /* atomic: a pull request is on its way */
	struct waitq wait;              /* accepters of this CPU */
} __attribute__((aligned(64)));

struct tcp_listener {
	int refs;                       /* atomic */
	int closing;                    /* atomic: 1 once tcp_close ran */
	uint64_t accepters;             /* atomic: CPUs that have called accept */
	unsigned home_cpu;              /* where listen was called */
	unsigned backlog;
	struct tcp_listen_cpu cpu[HAL_MAX_CPUS];
};

int tcp_listen_start(struct tcp_conn *l, int backlog)
{
	struct tcp_listener *ls = kmalloc_aligned(sizeof(*ls), 64);
	if (!ls)
		return -ENOMEM;
	memset(ls, 0, sizeof(*ls));
	ls->refs = 1;
	ls->home_cpu = hal_cpu_id();
	ls->backlog = backlog < 1 ? 1 : backlog > 4096 ? 4096 : (unsigned)backlog;
	for (unsigned i = 0; i < HAL_MAX_CPUS; i++) {
		list_init(&ls->cpu[i].embryos);
		list_init(&ls->cpu[i].ready);
		waitq_init(&ls->cpu[i].wait, "tcp_accept");
	}
	l->ls = ls;
	tcp_port_listen(l);     /* tcp_listener_find sees it from here on */
	return 0;
}

void tcp_listener_get(struct tcp_conn *l)
{
	__atomic_add_fetch(&l->ls->refs, 1, __ATOMIC_RELAXED);
}

void tcp_listener_put(struct tcp_conn *l)
{
	if (__atomic_sub_fetch(&l->ls->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	kfree(l->ls);
	l->state = TCP_CLOSED;
	l->user_ref = false;
	l->ls = NULL;
	tcp_conn_maybe_free(l);
}

unsigned tcp_listen_pick_cpu(struct tcp_conn *l, const struct tcp_seg *s, bool nic_spreads)
{
	uint64_t mask = __atomic_load_n(&l->ls->accepters, __ATOMIC_RELAXED);
	if (!mask)
		return l->ls->home_cpu;
	/* Staying where the frames arrive saves handing each one over: a
	 * wake-up of the other CPU, which on posix is a host syscall. */
	unsigned here = hal_cpu_id();
	if (nic_spreads && (mask & (1ull << here)))
		return here;
	unsigned n = 0;
	for (uint64_t m = mask; m; m &= m - 1)
		n++;            /* no popcount: bare links without libgcc */
	unsigned pick = (unsigned)(tcp_secret_hash(s->dst, s->dport, s->src, s->sport, 1) % n);
	for (;; mask &= mask - 1)
		if (pick-- == 0)
			return (unsigned)__builtin_ctzll(mask);
}

/* new_child: a connection of l for the peer of s, owned here. */
static struct tcp_conn *new_child(struct tcp_conn *l, const struct tcp_seg *s)
{
	struct tcp_conn *c = tcp_conn_new(hal_cpu_id());
	if (!c)
		return NULL;
	c->laddr = s->dst;
	c->lport = s->dport;
	c->raddr = s->src;
	c->rport = s->sport;
	ip4_addr src;
	c->nif = ipv4_route_from(c->laddr, c->raddr, &src);
	c->rcvbuf = l->rcvbuf;
	c->rcvbuf_auto = l->rcvbuf_auto;
	c->sndbuf = l->sndbuf;
	c->sndbuf_auto = l->sndbuf_auto;
	c->nodelay = l->nodelay;
	c->keepidle_s = l->keepidle_s;
	c->adv_mss = l->adv_mss;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	return c;
}

/* child_attach: c joins l's embryos; reaching ESTABLISHED moves it to the
 * accept list (tcp_listen_established). */
static void child_attach(struct tcp_conn *l, struct tcp_conn *c)
{
	struct tcp_listen_cpu *lc = &l->ls->cpu[c->cpu];
	tcp_listener_get(l);
	c->parent = l;
	list_push_back(&lc->embryos, &c->accept_link);
	lc->nembryos++;
}

void tcp_listen_detach(struct tcp_conn *c)
{
	struct tcp_conn *l = c->parent;
	struct tcp_listen_cpu *lc = &l->ls->cpu[c->cpu];
	list_remove(&c->accept_link);   /* a moving one is on none: no-op */
	if (c->moving)
		;                       /* counted on no list: take_over sees it gone */
	else if (c->accept_ready)
		__atomic_sub_fetch(&lc->nready, 1, __ATOMIC_SEQ_CST);
	else
		lc->nembryos--;
	c->accept_ready = false;
	c->parent = NULL;
	tcp_listener_put(l);
}

/* ---- Moving a ready connection to an accepting CPU --------------------- */

/* A netbuf carries a message's arguments between CPUs. */
struct listen_msg {
	struct tcp_conn *l;             /* the listener, a reference held */
	struct tcp_conn *c;             /* take_over: the connection */
	unsigned cpu;                   /* pull: the CPU that asks */
};

static struct netbuf *msg_new(struct tcp_conn *l, struct tcp_conn *c, unsigned cpu)
{
	struct netbuf *nb = netbuf_alloc();
	if (!nb)
		return NULL;
	struct listen_msg m = { l, c, cpu };
	memcpy(nb->buf, &m, sizeof(m));
	tcp_listener_get(l);
	return nb;
}

static struct listen_msg msg_take(struct netbuf *nb)
{
	struct listen_msg m;
	memcpy(&m, nb->buf, sizeof(m));
	netbuf_free(nb);
	return m;
}

static void ready_push(struct tcp_listen_cpu *lc, struct tcp_conn *c)
{
	list_push_back(&lc->ready, &c->accept_link);
	c->accept_ready = true;
	/* Published before the look at other CPUs' waiting (wanted_on):
	 * pairs with tcp_listen_accept's count and then look at nready. */
	__atomic_add_fetch(&lc->nready, 1, __ATOMIC_SEQ_CST);
}

/* wanted_on: a thread of lc's CPU waits for a connection (in accept, or
 * in select, which does not count itself but sits on the wait queue). */
static bool wanted_on(struct tcp_listen_cpu *lc)
{
	return __atomic_load_n(&lc->waiting, __ATOMIC_SEQ_CST) > 0 ||
	       waitq_has_waiters(&lc->wait);
}

/* cpu_that_waits: another CPU than from where a thread waits for a
 * connection of l and none is ready or coming for it; -1 if none. */
static int cpu_that_waits(struct tcp_conn *l, unsigned from)
{
	unsigned n = hal_cpu_count();
	for (unsigned i = 1; i < n; i++) {
		unsigned cpu = (from + i) % n;
		struct tcp_listen_cpu *lc = &l->ls->cpu[cpu];
		if (__atomic_load_n(&lc->nready, __ATOMIC_SEQ_CST) == 0 &&
		    __atomic_load_n(&lc->incoming, __ATOMIC_SEQ_CST) == 0 && wanted_on(lc))
			return (int)cpu;
	}
	return -1;
}

static void take_over_msg(struct netbuf *nb);

/* hand_over: on c's owner, give the ready connection c to CPU to. With
 * no netbuf for the message it stays (a pull or push may come again). */
static void hand_over(struct tcp_conn *c, unsigned to)
{
	struct tcp_conn *l = c->parent;
	struct netbuf *nb = msg_new(l, c, to);
	if (!nb)
		return;
	struct tcp_listen_cpu *lc = &l->ls->cpu[c->cpu];
	list_remove(&c->accept_link);
	__atomic_sub_fetch(&lc->nready, 1, __ATOMIC_SEQ_CST);
	c->moving = true;
	tcp_timers_hand_over(c);
	__atomic_add_fetch(&l->ls->cpu[to].incoming, 1, __ATOMIC_SEQ_CST);
	tcp_conn_set_cpu(c, to);        /* c is to's from here on */
	net_call_on(to, nb, take_over_msg);
}

/* take_over_msg: on the new owner: c joins its accept list, unless it died
 * on the way (input here ran before this message) or l is closing. */
static void take_over_msg(struct netbuf *nb)
{
	struct listen_msg m = msg_take(nb);
	struct tcp_conn *c = m.c;
	struct tcp_listen_cpu *lc = &m.l->ls->cpu[hal_cpu_id()];
	c->moving = false;
	__atomic_sub_fetch(&lc->incoming, 1, __ATOMIC_SEQ_CST);
	if (!c->parent) {
		tcp_conn_maybe_free(c);
	} else if (__atomic_load_n(&m.l->ls->closing, __ATOMIC_ACQUIRE)) {
		tcp_send_rst(c);
		tcp_drop(c, 0);         /* detaches */
		tcp_conn_maybe_free(c);
	} else {
		tcp_timers_take_over(c);
		ready_push(lc, c);
		waitq_wake_one(&lc->wait);
	}
	tcp_listener_put(m.l);
}

/* pull_msg: on a CPU asked for a connection by m.cpu, where nothing is
 * ready: give it the oldest ready one, unless a thread here waits for it. */
static void pull_msg(struct netbuf *nb)
{
	struct listen_msg m = msg_take(nb);
	struct tcp_listen_cpu *lc = &m.l->ls->cpu[hal_cpu_id()];
	if (!__atomic_load_n(&m.l->ls->closing, __ATOMIC_ACQUIRE) && !list_empty(&lc->ready) &&
	    !wanted_on(lc))
		hand_over(list_entry(lc->ready.next, struct tcp_conn, accept_link), m.cpu);
	__atomic_store_n(&m.l->ls->cpu[m.cpu].pulling, false, __ATOMIC_RELEASE);
	tcp_listener_put(m.l);
}

/* pull: the calling CPU has no connection of l ready or coming: ask a CPU
 * that holds ready ones nobody there waits for. One request at a time. */
static void pull(struct tcp_conn *l)
{
	unsigned me = hal_cpu_id(), n = hal_cpu_count();
	struct tcp_listen_cpu *mine = &l->ls->cpu[me];
	if (__atomic_load_n(&mine->nready, __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&mine->incoming, __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&mine->pulling, __ATOMIC_ACQUIRE))
		return;
	for (unsigned i = 1; i < n; i++) {
		unsigned cpu = (me + i) % n;
		struct tcp_listen_cpu *lc = &l->ls->cpu[cpu];
		if (!__atomic_load_n(&lc->nready, __ATOMIC_SEQ_CST) || wanted_on(lc))
			continue;
		struct netbuf *nb = msg_new(l, NULL, me);
		if (!nb)
			return;
		__atomic_store_n(&mine->pulling, true, __ATOMIC_RELEASE);
		net_call_on(cpu, nb, pull_msg);
		return;
	}
}

void tcp_listen_established(struct tcp_conn *c)
{
	struct tcp_conn *l = c->parent;
	if (__atomic_load_n(&l->ls->closing, __ATOMIC_ACQUIRE)) {
		tcp_send_rst(c);
		tcp_drop(c, 0);         /* detaches */
		return;
	}
	struct tcp_listen_cpu *lc = &l->ls->cpu[c->cpu];
	if (c->accept_ready)
		return;
	list_remove(&c->accept_link);
	lc->nembryos--;
	ready_push(lc, c);
	if (!wanted_on(lc)) {
		int to = cpu_that_waits(l, c->cpu);
		if (to >= 0) {
			hand_over(c, (unsigned)to);
			return;
		}
	}
	waitq_wake_one(&lc->wait);
}

/* cookie_ack: an ACK that may complete a handshake answered with a SYN
 * cookie; the connection, or NULL. */
static struct tcp_conn *cookie_ack(struct tcp_conn *l, struct tcp_seg *s)
{
	uint16_t mss = tcp_cookie_check(s->dst, s->dport, s->src, s->sport, s->seq - 1,
	                                s->ack - 1, hal_clock_ns() / 1000000000ull);
	if (!mss)
		return NULL;
	struct tcp_listen_cpu *lc = &l->ls->cpu[hal_cpu_id()];
	if (__atomic_load_n(&lc->nready, __ATOMIC_RELAXED) >= l->ls->backlog)
		return NULL;
	struct tcp_seg syn = *s;
	syn.seq = s->seq - 1;
	struct tcp_conn *c = new_child(l, &syn);
	if (!c)
		return NULL;
	c->iss = s->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = s->ack;
	c->sbuf_seq = s->ack;
	c->mss = mss < c->adv_mss ? mss : c->adv_mss;
	c->snd_wnd = c->max_snd_wnd = s->wnd;  /* no scaling: cookies carry none */
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->rcv_adv = c->rcv_nxt + 65535;
	tcp_cc_init(c);
	if (tcp_conn_hash_insert(c) < 0) {
		tcp_conn_maybe_free(c);
		return NULL;
	}
	child_attach(l, c);
	tcp_set_state(c, TCP_ESTABLISHED);
	if (c->state != TCP_ESTABLISHED) {
		tcp_conn_maybe_free(c);
		return NULL;
	}
	return c;
}

static void syn_input(struct tcp_conn *l, struct tcp_seg *s)
{
	struct tcp_listener *ls = l->ls;
	struct tcp_listen_cpu *lc = &ls->cpu[hal_cpu_id()];
	if (lc->nembryos + __atomic_load_n(&lc->nready, __ATOMIC_RELAXED) >= ls->backlog) {
		/* Full: answer with a cookie and keep nothing. */
		uint16_t mss = s->opts.has_mss ? s->opts.mss : TCP_DEFAULT_MSS;
		struct tcp_opts o = { .has_mss = true, .mss = l->adv_mss };
		uint32_t isn = tcp_cookie_make(s->dst, s->dport, s->src, s->sport, s->seq,
		                               mss, hal_clock_ns() / 1000000000ull);
		tcp_send_raw(s->dst, s->dport, s->src, s->sport, isn, s->seq + 1,
		             TCP_SYN | TCP_ACK, 65535, &o);
		TCP_COUNT(syn_cookies);
		return;
	}
	struct tcp_conn *c = new_child(l, s);
	if (!c)
		return;
	c->rcv_wscale = l->rcv_wscale;
	c->iss = tcp_isn(c->laddr, c->lport, c->raddr, c->rport);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->sbuf_seq = c->iss + 1;
	c->ts_offset = (uint32_t)tcp_secret_hash(c->laddr, c->lport, c->raddr, c->rport, 2);
	/* The peer's options decide what we use (RFC 7323 §2.2, §3.2). */
	uint16_t mss = s->opts.has_mss ? s->opts.mss : TCP_DEFAULT_MSS;
	c->mss = mss < 64 ? 64 : mss < c->adv_mss ? mss : c->adv_mss;
	c->ws_ok = s->opts.has_ws;
	c->snd_wscale = c->ws_ok ? s->opts.wscale : 0;
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	c->sack_ok = s->opts.sack_permitted;
	c->ts_ok = s->opts.has_ts;
	if (c->ts_ok)
		c->mss -= TCP_TS_OPT_LEN;       /* options ride in the MSS */
	c->ts_recent = s->opts.tsval;
	c->ts_recent_ns = hal_clock_ns();
	if (tcp_conn_hash_insert(c) < 0) {
		tcp_conn_maybe_free(c);
		return;
	}
	tcp_cc_init(c);
	child_attach(l, c);
	tcp_set_state(c, TCP_SYN_RECEIVED);
	tcp_send_syn(c);
}

void tcp_listen_input(struct tcp_conn *l, struct tcp_seg *s)
{
	if (__atomic_load_n(&l->ls->closing, __ATOMIC_ACQUIRE)) {
		tcp_send_reset_for(s);
		goto out;
	}
	/* §3.10.7.2: first RST (ignored), second ACK, third SYN. */
	if (s->flags & TCP_RST)
		goto out;
	if (s->flags & TCP_ACK) {
		if (!(s->flags & TCP_SYN)) {
			struct tcp_conn *c = cookie_ack(l, s);
			if (c) {
				tcp_conn_input(c, s);   /* its data, if any; takes nb */
				return;
			}
		}
		tcp_send_reset_for(s);
		goto out;
	}
	if (s->flags & TCP_SYN)
		syn_input(l, s);
out:
	netbuf_free(s->nb);
	s->nb = NULL;
}

/* ---- The socket side ---------------------------------------------------- */

int tcp_listen_accept(struct tcp_conn *l, struct tcp_conn **out, int flags, uint64_t deadline_ns)
{
	struct tcp_listener *ls = l->ls;
	unsigned me = hal_cpu_id();
	struct tcp_listen_cpu *lc = &ls->cpu[me];
	__atomic_or_fetch(&ls->accepters, 1ull << me, __ATOMIC_RELAXED);
	tcp_listener_get(l);
	/* Counted before the look at other CPUs (pull): pairs with
	 * ready_push, so a connection readied meanwhile elsewhere is either
	 * seen here or pushed here. */
	__atomic_add_fetch(&lc->waiting, 1, __ATOMIC_SEQ_CST);
	int err = 0;
	for (;;) {
		/* The list changes only on this CPU, which runs this thread:
		 * looked at here, it is the same under the lock. pull takes
		 * other CPUs' queue locks, so not under ours. */
		if (list_empty(&lc->ready))
			pull(l);
		spin_lock(&lc->wait.lock);
		if (!list_empty(&lc->ready) || __atomic_load_n(&ls->closing, __ATOMIC_ACQUIRE)) {
			spin_unlock(&lc->wait.lock);
			break;
		}
		if (flags & SOCKET_DONTWAIT) {
			spin_unlock(&lc->wait.lock);
			err = -EAGAIN;
			break;
		}
		bool timed_out = waitq_wait_locked(&lc->wait, deadline_ns) == -ETIMEDOUT &&
		                 list_empty(&lc->ready);
		spin_unlock(&lc->wait.lock);
		if (timed_out) {
			err = -ETIMEDOUT;
			break;
		}
	}
	__atomic_sub_fetch(&lc->waiting, 1, __ATOMIC_SEQ_CST);
	if (!err && list_empty(&lc->ready))
		err = -ECONNABORTED;    /* the listener was closed */
	if (!err) {
		struct tcp_conn *c = list_entry(lc->ready.next, struct tcp_conn, accept_link);
		c->user_ref = true;
		tcp_listen_detach(c);
		*out = c;
	}
	tcp_listener_put(l);
	return err;
}

unsigned tcp_listen_poll(struct tcp_conn *l)
{
	struct tcp_listen_cpu *lc = &l->ls->cpu[hal_cpu_id()];
	__atomic_or_fetch(&l->ls->accepters, 1ull << hal_cpu_id(), __ATOMIC_RELAXED);
	if (!list_empty(&lc->ready))
		return SOCKET_READABLE;
	if (__atomic_load_n(&l->ls->closing, __ATOMIC_ACQUIRE))
		return SOCKET_ERROR;
	pull(l);                /* a select that will wait here */
	return 0;
}

struct waitq *tcp_listen_waitq(struct tcp_conn *l)
{
	return &l->ls->cpu[hal_cpu_id()].wait;
}

/* abort_held: reset what this CPU holds for the closing listener l. */
static void abort_held(struct tcp_conn *l)
{
	struct tcp_listen_cpu *lc = &l->ls->cpu[hal_cpu_id()];
	struct list *lists[2] = { &lc->embryos, &lc->ready };
	for (unsigned i = 0; i < 2; i++) {
		struct list *n;
		while ((n = lists[i]->next) != lists[i]) {
			struct tcp_conn *c = list_entry(n, struct tcp_conn, accept_link);
			tcp_send_rst(c);
			tcp_drop(c, 0);         /* detaches, dropping its ref */
			tcp_conn_maybe_free(c);
		}
	}
}

static void abort_held_msg(struct netbuf *nb)
{
	struct listen_msg m = msg_take(nb);
	abort_held(m.l);
	tcp_listener_put(m.l);
}

void tcp_listen_shutdown(struct tcp_conn *l)
{
	struct tcp_listener *ls = l->ls;
	if (__atomic_exchange_n(&ls->closing, 1, __ATOMIC_ACQ_REL))
		return;
	tcp_port_unbind(l);
	unsigned me = hal_cpu_id();
	for (unsigned cpu = 0; cpu < hal_cpu_count(); cpu++) {
		waitq_wake_all(&ls->cpu[cpu].wait);
		if (cpu == me)
			continue;
		struct netbuf *nb = msg_new(l, NULL, cpu);
		if (!nb)
			continue;       /* its connections time out instead */
		net_call_on(cpu, nb, abort_held_msg);
	}
	abort_held(l);
}

void tcp_listen_close(struct tcp_conn *l)
{
	tcp_listen_shutdown(l);
	tcp_listener_put(l);
}
