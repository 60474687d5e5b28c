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
 * Locks and lifetime: the per-CPU parts are touched only by their CPU
 * (cooperative scheduling, no lock); accepters is a mask changed with
 * atomics; refs (atomic) counts the socket's reference, lookups in flight,
 * accepters asleep and each not yet accepted connection; the last put frees
 * it. Closing marks it closing, takes it out of the port table and asks
 * each CPU (net_run_on) to reset what it holds for it.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "tcp_impl.h"

struct tcp_listen_cpu {
	struct list embryos;            /* SYN-RECEIVED, accept_link */
	struct list ready;              /* ESTABLISHED, not yet accepted */
	unsigned nembryos, nready;
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
	list_remove(&c->accept_link);
	if (c->accept_ready)
		lc->nready--;
	else
		lc->nembryos--;
	c->accept_ready = false;
	c->parent = NULL;
	tcp_listener_put(l);
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
	list_push_back(&lc->ready, &c->accept_link);
	lc->nready++;
	c->accept_ready = true;
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
	if (lc->nready >= l->ls->backlog)
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
	if (lc->nembryos + lc->nready >= ls->backlog) {
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
	int err = 0;
	spin_lock(&lc->wait.lock);
	while (list_empty(&lc->ready) && !__atomic_load_n(&ls->closing, __ATOMIC_ACQUIRE)) {
		if (flags & SOCKET_DONTWAIT) {
			err = -EAGAIN;
			break;
		}
		if (waitq_wait_locked(&lc->wait, deadline_ns) == -ETIMEDOUT &&
		    list_empty(&lc->ready)) {
			err = -ETIMEDOUT;
			break;
		}
	}
	spin_unlock(&lc->wait.lock);
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
	return __atomic_load_n(&l->ls->closing, __ATOMIC_ACQUIRE) ? SOCKET_ERROR : 0;
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

/* The netbuf only carries the listener's address to the other CPU. */
static void abort_held_msg(struct netbuf *nb)
{
	struct tcp_conn *l;
	memcpy(&l, nb->buf, sizeof(l));
	netbuf_free(nb);
	abort_held(l);
	tcp_listener_put(l);
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
		struct netbuf *nb = netbuf_alloc();
		if (!nb)
			continue;       /* its connections time out instead */
		tcp_listener_get(l);
		memcpy(nb->buf, &l, sizeof(l));
		net_run_on(cpu, nb, abort_held_msg);
	}
	abort_held(l);
}

void tcp_listen_close(struct tcp_conn *l)
{
	tcp_listen_shutdown(l);
	tcp_listener_put(l);
}
