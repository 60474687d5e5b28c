/*
 * tcp_sock.c: the calls of tcp.h, made by the socket layer on the owner
 * CPU of the connection (any CPU for accept on a listener). They change
 * state through tcp_set_state and send through tcp_output like input does;
 * they sleep on c->wait, which input and the timers wake.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "tcp_impl.h"

/* wait_for: sleep until cond(c) holds; 0, -EAGAIN (DONTWAIT) or
 * -ETIMEDOUT. The owner CPU changes c only between our instructions when
 * we sleep, so testing cond under the waitq lock loses no wake-up. */
static int wait_for(struct tcp_conn *c, bool (*cond)(struct tcp_conn *c), int flags,
                    uint64_t deadline_ns)
{
	int err = 0;
	spin_lock(&c->wait.lock);
	while (!cond(c)) {
		if (flags & SOCKET_DONTWAIT) {
			err = -EAGAIN;
			break;
		}
		if (waitq_wait_locked(&c->wait, deadline_ns) == -ETIMEDOUT && !cond(c)) {
			err = -ETIMEDOUT;
			break;
		}
	}
	spin_unlock(&c->wait.lock);
	return err;
}

static uint16_t mss_for(struct netif *nif)
{
	unsigned mtu = nif && nif->mtu ? nif->mtu : 1500;
	unsigned mss = mtu - 20 - TCP_HDR_MIN;
	/* A segment with full options must fit one netbuf's frame. */
	unsigned room = NETBUF_SIZE - NETBUF_HEADROOM;
	return (uint16_t)(mss < room ? mss : room);
}

int tcp_open(struct tcp_conn **out)
{
	struct tcp_conn *c = tcp_conn_new(hal_cpu_id());
	if (!c)
		return -ENOMEM;
	c->user_ref = true;
	*out = c;
	return 0;
}

unsigned tcp_owner_cpu(const struct tcp_conn *c)
{
	return c->state == TCP_LISTEN ? hal_cpu_id() : c->cpu;
}

int tcp_bind(struct tcp_conn *c, ip4_addr addr, uint16_t port)
{
	if (c->bound || c->state != TCP_CLOSED)
		return -EINVAL;
	if (addr && !ipv4_is_local(addr))
		return -EADDRNOTAVAIL;
	c->laddr = addr;
	c->lport = port;
	int err = tcp_port_bind(c, 0, 0);
	if (err < 0)
		c->laddr = 0;
	return err;
}

int tcp_listen(struct tcp_conn *c, int backlog)
{
	if (c->state == TCP_LISTEN)
		return 0;
	if (!c->bound || c->state != TCP_CLOSED)
		return -EINVAL;
	c->adv_mss = mss_for(net_netif_count() ? net_netif(0) : NULL);
	c->rcv_wscale = tcp_rcv_wscale(c);
	return tcp_listen_start(c, backlog);
}

int tcp_accept(struct tcp_conn *l, struct tcp_conn **out, int flags, uint64_t deadline_ns)
{
	if (l->state != TCP_LISTEN)
		return -EINVAL;
	return tcp_listen_accept(l, out, flags, deadline_ns);
}

static bool connect_done(struct tcp_conn *c)
{
	return c->state != TCP_SYN_SENT && c->state != TCP_SYN_RECEIVED;
}

int tcp_connect(struct tcp_conn *c, ip4_addr addr, uint16_t port, int flags,
                uint64_t deadline_ns)
{
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
		return -EALREADY;
	if (c->state != TCP_CLOSED || c->in_table)
		return -EISCONN;
	if (addr == 0 || port == 0)
		return -EINVAL;
	ip4_addr src;
	struct netif *nif = ipv4_route_from(c->laddr, addr, &src);
	if (!nif)
		return -ENETUNREACH;
	if (!c->laddr)
		c->laddr = src;
	if (!c->bound) {
		int err = tcp_port_bind(c, addr, port);
		if (err < 0)
			return err;
	}
	c->nif = nif;
	c->raddr = addr;
	c->rport = port;
	c->error = 0;
	int err = tcp_conn_hash_insert(c);
	if (err < 0)
		return err;
	c->adv_mss = mss_for(nif);
	c->mss = c->adv_mss;
	c->rcv_wscale = tcp_rcv_wscale(c);
	c->iss = tcp_isn(c->laddr, c->lport, c->raddr, c->rport);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->sbuf_seq = c->iss + 1;
	c->ts_offset = (uint32_t)tcp_secret_hash(c->laddr, c->lport, c->raddr, c->rport, 2);
	c->rtt_timing = true;
	c->rtt_seq = c->iss + 1;
	c->rtt_start_ns = hal_clock_ns();
	tcp_set_state(c, TCP_SYN_SENT);
	tcp_send_syn(c);
	if (flags & SOCKET_DONTWAIT)
		return -EINPROGRESS;
	err = wait_for(c, connect_done, 0, deadline_ns);
	if (err == -ETIMEDOUT) {
		tcp_drop(c, -ETIMEDOUT);
		return err;
	}
	if (c->state == TCP_CLOSED)
		return c->error ? c->error : -ECONNREFUSED;
	return 0;
}

static bool sendable(struct tcp_conn *c)
{
	if (c->error || c->wr_shut || c->state == TCP_CLOSED)
		return true;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
		return false;
	/* Room worth coming back for: at least half of what is queued (as
	 * Linux's sk_stream_min_wspace), so a writer held by a full buffer
	 * returns with room for a large frame, not for the segment or two
	 * that one ACK freed (which would go out as a frame of their own). */
	uint32_t space = tcp_sbuf_space(c);
	return space > 0 && space >= c->sbuf_len / 2;
}

static bool ring_room(struct tcp_conn *c)
{
	return c->sbuf_len < c->sbuf_size || c->error || c->wr_shut || c->state == TCP_CLOSED;
}

static bool no_sender(struct tcp_conn *c)
{
	return !c->sending;
}

static long send_from(struct tcp_conn *c, size_t len, int flags, uint64_t deadline_ns,
                      tcp_fill_fn fill, void *ctx);

long tcp_send_from(struct tcp_conn *c, size_t len, int flags, uint64_t deadline_ns,
                   tcp_fill_fn fill, void *ctx)
{
	if (c->state == TCP_LISTEN || (c->state == TCP_CLOSED && !c->error))
		return -ENOTCONN;
	int err = wait_for(c, no_sender, flags, deadline_ns);
	if (err)
		return err;
	c->sending = true;
	long rc = send_from(c, len, flags, deadline_ns, fill, ctx);
	c->sending = false;
	waitq_wake_all(&c->wait);
	return rc;
}

/* send_from: tcp_send_from's work, with the ring the caller's alone. */
static long send_from(struct tcp_conn *c, size_t len, int flags, uint64_t deadline_ns,
                      tcp_fill_fn fill, void *ctx)
{
	if (!c->sbuf && tcp_sbuf_reserve(c) < 0)
		return -ENOMEM;
	size_t done = 0;
	c->cork = flags & SOCKET_MORE;
	while (done < len) {
		int err = wait_for(c, sendable, flags, deadline_ns);
		if (!err && c->error)
			err = c->error == -ECONNREFUSED ? -ECONNREFUSED : -EPIPE;
		if (!err && (c->wr_shut || c->state == TCP_CLOSED))
			err = -EPIPE;
		if (err)
			return done ? (long)done : err;
		tcp_sbuf_reserve(c);
		uint32_t space = c->sbuf_size - c->sbuf_len;
		if (!space) {
			/* No memory to grow the ring: wait for ACKs to empty it. */
			err = wait_for(c, ring_room, flags, deadline_ns);
			if (err)
				return done ? (long)done : err;
			continue;
		}
		/* One contiguous piece of the free part of the ring at a time. */
		uint8_t *ring = c->sbuf;
		uint32_t tail = (c->sbuf_head + c->sbuf_len) % c->sbuf_size;
		uint32_t n = len - done < space ? (uint32_t)(len - done) : space;
		if (n > c->sbuf_size - tail)
			n = c->sbuf_size - tail;
		long got = fill(ctx, ring + tail, n, done);
		if (got < 0)
			return done ? (long)done : got;
		if (got > n)
			got = n;
		/* fill may have slept: ACKs move the head, never the tail (no
		 * other sender runs meanwhile); a reset ends the call. */
		if (c->error || c->state == TCP_CLOSED)
			continue;
		c->sbuf_len += (uint32_t)got;
		done += (size_t)got;
		bool end = (uint32_t)got < n;
		/* A partial segment waits for the rest while more is to come
		 * in this call. */
		bool saved = c->cork;
		c->cork = saved || (done < len && !end);
		tcp_output(c);
		c->cork = saved;
		if (end)
			break;
	}
	return (long)done;
}

static long copy_from_buf(void *ctx, void *dst, size_t n, size_t at)
{
	memcpy(dst, (const uint8_t *)ctx + at, n);
	return (long)n;
}

long tcp_send(struct tcp_conn *c, const void *buf, size_t len, int flags, uint64_t deadline_ns)
{
	return tcp_send_from(c, len, flags, deadline_ns, copy_from_buf, (void *)buf);
}

static bool recvable(struct tcp_conn *c)
{
	return c->rcvq_bytes > 0 || c->fin_rcvd || c->rd_shut || c->error ||
	       c->state == TCP_CLOSED;
}

long tcp_recv(struct tcp_conn *c, void *buf, size_t len, int flags, uint64_t deadline_ns)
{
	if (c->state == TCP_LISTEN || (c->state == TCP_CLOSED && !c->error && !c->fin_rcvd &&
	                               !c->rcvq_bytes))
		return -ENOTCONN;
	if (len == 0)
		return 0;
	int err = wait_for(c, recvable, flags, deadline_ns);
	if (err)
		return err;
	if (c->rcvq_bytes == 0) {
		if (c->fin_rcvd || c->rd_shut)
			return 0;
		return c->error ? c->error : 0;
	}
	bool consume = !(flags & SOCKET_PEEK);
	size_t n = tcp_rcv_copy(c, buf, len, consume);
	if (consume)
		tcp_rcv_autotune(c, (uint32_t)n);
	if (consume && c->state >= TCP_ESTABLISHED && c->state != TCP_TIME_WAIT) {
		/* A window update of its own once the window can grow by 2
		 * segments or half the buffer, whichever is less (§3.8.6.2.2),
		 * and what is left of the one announced is at most half of
		 * what it could be: until then the ACKs that data and echoes
		 * carry anyway say the same, and a frame each read would cost
		 * a send (Linux's __tcp_cleanup_rbuf waits for the same). */
		uint32_t cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
		uint32_t space = c->rcvbuf - c->rcvq_bytes;
		uint32_t step = 2u * c->adv_mss < c->rcvbuf / 2 ? 2u * c->adv_mss : c->rcvbuf / 2;
		if (space > cur && space - cur >= step && space / 2 >= cur && !c->fin_rcvd) {
			c->ack_now = true;
			tcp_output(c);
		}
	}
	return (long)n;
}

unsigned tcp_poll(struct tcp_conn *c)
{
	if (c->state == TCP_LISTEN)
		return tcp_listen_poll(c);
	unsigned ev = 0;
	if (c->rcvq_bytes || c->fin_rcvd || c->error || (c->state == TCP_CLOSED && c->raddr))
		ev |= SOCKET_READABLE;
	if ((c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT) && !c->wr_shut &&
	    tcp_sbuf_space(c) > 0)
		ev |= SOCKET_WRITABLE;
	if (c->error)
		ev |= SOCKET_ERROR | SOCKET_WRITABLE;
	return ev;
}

struct waitq *tcp_waitq(struct tcp_conn *c)
{
	return c->state == TCP_LISTEN ? tcp_listen_waitq(c) : &c->wait;
}

int tcp_setopt(struct tcp_conn *c, int option, long value)
{
	switch (option) {
	case SOCKOPT_NODELAY:
		c->nodelay = value != 0;
		if (c->nodelay)
			tcp_output(c);
		return 0;
	case SOCKOPT_KEEPALIVE:
		if (value < 0 || value > 86400 * 7)
			return -EINVAL;
		c->keepidle_s = (uint32_t)value;
		tcp_keep_arm(c);
		return 0;
	case SOCKOPT_REUSEADDR:
		c->reuseaddr = value != 0;
		return 0;
	case SOCKOPT_RCVBUF:
	case SOCKOPT_SNDBUF:
		if (value < TCP_MIN_BUF || value > TCP_MAX_BUF)
			return -EINVAL;
		if (option == SOCKOPT_RCVBUF) {
			if (c->state != TCP_CLOSED)
				return -EISCONN;        /* the window scale is fixed by now */
			c->rcvbuf = (uint32_t)value;
			c->rcvbuf_auto = false;         /* as asked, as Linux does */
		} else {
			if (c->sbuf)
				return -EISCONN;
			c->sndbuf = (uint32_t)value;
			c->sndbuf_auto = false;
		}
		return 0;
	case SOCKOPT_LINGER_S:
		if (value < -1 || value > 3600)
			return -EINVAL;
		c->linger_s = value;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* send_fin: the user will send no more: FIN after the queued data. */
static void send_fin(struct tcp_conn *c)
{
	if (c->fin_queued)
		return;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		c->fin_queued = true;
		tcp_set_state(c, TCP_FIN_WAIT_1);
		break;
	case TCP_CLOSE_WAIT:
		c->fin_queued = true;
		tcp_set_state(c, TCP_LAST_ACK);
		break;
	default:
		return;
	}
	tcp_output(c);
}

int tcp_shutdown(struct tcp_conn *c, int how)
{
	if (how < 0 || how > 2)
		return -EINVAL;
	if (c->state == TCP_LISTEN) {
		tcp_listen_shutdown(c);
		return 0;
	}
	if (c->state == TCP_SYN_SENT) {
		/* Nothing to shut down yet; but a thread waiting in connect
		 * must not wait on for a socket being closed. */
		c->rd_shut = c->wr_shut = true;
		tcp_drop(c, -ECONNABORTED);
		return -ENOTCONN;
	}
	if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
		return -ENOTCONN;
	if (how != 1) {
		c->rd_shut = true;
		tcp_rcv_purge(c);
	}
	if (how != 0) {
		c->wr_shut = true;
		send_fin(c);
	}
	waitq_wake_all(&c->wait);
	return 0;
}

static bool linger_done(struct tcp_conn *c)
{
	return c->state == TCP_CLOSED || c->state == TCP_TIME_WAIT || c->state == TCP_FIN_WAIT_2;
}

int tcp_close(struct tcp_conn *c)
{
	if (c->state == TCP_LISTEN) {
		c->user_ref = false;
		tcp_listen_close(c);
		return 0;
	}
	c->rd_shut = c->wr_shut = true;
	int err = 0;
	switch (c->state) {
	case TCP_CLOSED:
		break;
	case TCP_SYN_SENT:
		tcp_drop(c, 0);
		break;
	default:
		if (c->linger_s == 0 || c->rcvq_bytes) {
			/* An abort (§3.10.4), or unread data would be lost
			 * silently: reset so the peer knows. */
			if (c->state != TCP_TIME_WAIT) {
				tcp_send_rst(c);
				tcp_drop(c, 0);
			}
			break;
		}
		send_fin(c);
		if (c->linger_s > 0) {
			uint64_t deadline = hal_clock_ns() + (uint64_t)c->linger_s * 1000000000ull;
			err = wait_for(c, linger_done, 0, deadline);
		}
		break;
	}
	c->user_ref = false;
	tcp_port_release(c);
	if (c->state == TCP_FIN_WAIT_2)
		tcp_keep_arm(c);        /* the FIN-WAIT-2 limit, now unheld */
	tcp_conn_maybe_free(c);
	return err;
}

int tcp_addrs(struct tcp_conn *c, struct TSockAddr *local, struct TSockAddr *peer)
{
	if (local) {
		local->ip = c->laddr;
		local->port = c->lport;
	}
	if (peer) {
		if (!c->raddr || c->state == TCP_LISTEN)
			return -ENOTCONN;
		peer->ip = c->raddr;
		peer->port = c->rport;
	}
	return 0;
}
