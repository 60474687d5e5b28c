/*
 * socket.c: the service API of socket.h: the descriptor table, the owner
 * CPU rule, blocking with deadlines, and the dispatch of each call to UDP
 * (udp.c) or TCP (tcp.h).
 *
 * Life of a socket: SysSocket puts a struct sock in the table with one
 * reference, the table's. Every call takes a reference for its duration
 * (get/put), so a thread blocked in a call keeps the socket alive while
 * another closes it. SysSocketClose takes it out of the table, marks it
 * closed and wakes whoever waits in it (they return -EBADF); the last
 * reference gives the UDP or TCP state back.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "hal.h"
#include "socket.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "vfs.h"

#define SOCKET_MAX 4096

struct sock {
	/* Set at creation, then read-only. */
	int type;
	unsigned cpu;               /* owner (a listener: the one that made it) */
	struct waitq wait;          /* UDP's waiters (TCP has its own queues) */
	struct udp_sock *udp;
	struct tcp_conn *tcp;

	/* The owner's (a listener's are set before it listens). */
	uint32_t rcvtimeo_ms, sndtimeo_ms;
	bool nonblock;              /* SOCKOPT_NONBLOCK: SOCKET_DONTWAIT always */
	bool listening;

	/* Guarded by table_lock. */
	int refs;
	bool closed;
};

/* table_lock guards table[], next_free and every sock's refs and closed.
 * Leaf lock. */
static struct spinlock table_lock = SPINLOCK_INIT("socket_table");
static struct sock *table[SOCKET_MAX];
static unsigned next_free;

static void sock_free(struct sock *so)
{
	if (so->udp)
		udp_sock_close(so->udp);
	if (so->tcp)
		tcp_close(so->tcp);
	kfree(so);
}

/* get: the socket s with a reference, checked against the owner rule;
 * listener_any_cpu: a listening socket may be used from any CPU (accept,
 * select, its address). NULL and *err when not usable. */
static struct sock *get(TSocket s, bool listener_any_cpu, int *err)
{
	struct sock *so = NULL;
	*err = -EBADF;
	if (s < 0 || s >= SOCKET_MAX)
		return NULL;
	spin_lock(&table_lock);
	so = table[s];
	if (so && !so->closed) {
		if (so->cpu != hal_cpu_id() && !(listener_any_cpu && so->listening)) {
			*err = -EXDEV;
			so = NULL;
		} else {
			so->refs++;
		}
	} else {
		so = NULL;
	}
	spin_unlock(&table_lock);
	return so;
}

static void put(struct sock *so)
{
	spin_lock(&table_lock);
	bool last = --so->refs == 0;
	spin_unlock(&table_lock);
	if (last)
		sock_free(so);
}

static bool is_closed(struct sock *so)
{
	spin_lock(&table_lock);
	bool closed = so->closed;
	spin_unlock(&table_lock);
	return closed;
}

/* with_mode: a call's flags with the socket's own non-blocking mode. */
static int with_mode(const struct sock *so, int flags)
{
	return so->nonblock ? flags | SOCKET_DONTWAIT : flags;
}

static uint64_t deadline_of(uint32_t ms)
{
	return ms ? hal_clock_ns() + (uint64_t)ms * 1000000 : 0;
}

/* install: a free descriptor for so; -EMFILE when the table is full. */
static int install(struct sock *so)
{
	spin_lock(&table_lock);
	for (unsigned i = 0; i < SOCKET_MAX; i++) {
		unsigned s = (next_free + i) % SOCKET_MAX;
		if (!table[s]) {
			table[s] = so;
			so->refs = 1;
			next_free = s + 1;
			spin_unlock(&table_lock);
			return (int)s;
		}
	}
	spin_unlock(&table_lock);
	return -EMFILE;
}

static struct sock *sock_new(int type)
{
	struct sock *so = kzalloc(sizeof(*so));
	if (!so)
		return NULL;
	so->type = type;
	so->cpu = hal_cpu_id();
	waitq_init(&so->wait, "socket.wait");
	return so;
}

TSocket SysSocket(int type)
{
	if (type != SOCKET_STREAM && type != SOCKET_DGRAM)
		return -EPROTONOSUPPORT;
	struct sock *so = sock_new(type);
	if (!so)
		return -ENOMEM;
	int rc = 0;
	if (type == SOCKET_DGRAM) {
		so->udp = udp_sock_create(&so->wait);
		if (!so->udp)
			rc = -ENOMEM;
	} else {
		rc = tcp_open(&so->tcp);
	}
	if (rc == 0 && (rc = install(so)) >= 0)
		return rc;
	sock_free(so);
	return rc;
}

int SysSocketBind(TSocket s, const struct TSockAddr *local)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	if (!local)
		rc = -EINVAL;
	else if (so->udp)
		rc = udp_sock_bind(so->udp, local);
	else
		rc = tcp_bind(so->tcp, local->ip, local->port);
	put(so);
	return rc;
}

int SysSocketListen(TSocket s, int backlog)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	if (so->udp) {
		rc = -EOPNOTSUPP;
	} else {
		rc = tcp_listen(so->tcp, backlog);
		if (rc == 0) {
			spin_lock(&table_lock);
			so->listening = true;
			spin_unlock(&table_lock);
		}
	}
	put(so);
	return rc;
}

TSocket SysSocketAccept(TSocket s, struct TSockAddr *peer)
{
	int rc;
	struct sock *so = get(s, true, &rc);
	if (!so)
		return rc;
	if (!so->listening) {
		put(so);
		return so->udp ? -EOPNOTSUPP : -EINVAL;
	}
	struct sock *child = sock_new(SOCKET_STREAM);
	if (!child) {
		put(so);
		return -ENOMEM;
	}
	rc = tcp_accept(so->tcp, &child->tcp, so->nonblock ? SOCKET_DONTWAIT : 0,
	                deadline_of(so->rcvtimeo_ms));
	put(so);
	if (rc < 0) {
		kfree(child);
		return rc;
	}
	if (peer)
		tcp_addrs(child->tcp, NULL, peer);
	rc = install(child);
	if (rc < 0)
		sock_free(child);
	return rc;
}

int SysSocketConnect(TSocket s, const struct TSockAddr *remote)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	if (!remote)
		rc = -EINVAL;
	else if (so->udp)
		rc = udp_sock_connect(so->udp, remote);
	else
		rc = tcp_connect(so->tcp, remote->ip, remote->port, so->nonblock ? SOCKET_DONTWAIT : 0,
		                 deadline_of(so->sndtimeo_ms));
	put(so);
	return rc;
}

/* udp_wait_readable: sleep until so's UDP queue has a datagram, so is
 * closed, or the deadline passes. 0, -EBADF, -ETIMEDOUT. */
static int udp_wait_readable(struct sock *so, uint64_t deadline)
{
	int rc = 0;
	spin_lock(&so->wait.lock);
	while (!udp_sock_readable(so->udp) && rc == 0) {
		if (is_closed(so))
			rc = -EBADF;
		else
			rc = waitq_wait_locked(&so->wait, deadline);
	}
	spin_unlock(&so->wait.lock);
	return rc;
}

static long udp_recv(struct sock *so, void *buf, size_t len, int flags, struct TSockAddr *from)
{
	uint64_t deadline = deadline_of(so->rcvtimeo_ms);
	for (;;) {
		long n = udp_sock_recvfrom(so->udp, buf, len, flags, from);
		if (n != -EAGAIN || (flags & SOCKET_DONTWAIT))
			return n;
		int rc = udp_wait_readable(so, deadline);
		if (rc < 0)
			return rc;
	}
}

long SysSocketSend(TSocket s, const void *buf, size_t len, int flags)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	long n;
	if (so->udp)
		n = udp_sock_sendto(so->udp, buf, len, NULL);
	else
		n = tcp_send(so->tcp, buf, len, with_mode(so, flags), deadline_of(so->sndtimeo_ms));
	put(so);
	return n;
}

long SysSocketRecv(TSocket s, void *buf, size_t len, int flags)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	long n;
	flags = with_mode(so, flags);
	if (so->udp)
		n = udp_recv(so, buf, len, flags, NULL);
	else
		n = tcp_recv(so->tcp, buf, len, flags, deadline_of(so->rcvtimeo_ms));
	put(so);
	return n;
}

long SysSocketPeek(TSocket s, void *buf, size_t len, int flags)
{
	return SysSocketRecv(s, buf, len, (flags & ~SOCKET_MORE) | SOCKET_PEEK);
}

long SysSocketSendTo(TSocket s, const void *buf, size_t len, const struct TSockAddr *to)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	long n = so->udp ? udp_sock_sendto(so->udp, buf, len, to) : -EOPNOTSUPP;
	put(so);
	return n;
}

long SysSocketRecvFrom(TSocket s, void *buf, size_t len, int flags, struct TSockAddr *from)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	long n;
	flags = with_mode(so, flags);
	if (so->udp) {
		n = udp_recv(so, buf, len, flags, from);
	} else {
		n = tcp_recv(so->tcp, buf, len, flags, deadline_of(so->rcvtimeo_ms));
		if (n >= 0 && from)
			tcp_addrs(so->tcp, NULL, from);
	}
	put(so);
	return n;
}

struct file_source {
	int file;
	uint64_t offset;            /* of the call's first byte */
};

/* read_file_into: the fill of tcp_send_from: read the file straight into
 * the send buffer. */
static long read_file_into(void *ctx, void *dst, size_t n, size_t at)
{
	const struct file_source *src = ctx;
	return (long)vfs_pread(src->file, dst, n, src->offset + at);
}

long SysSocketSendFile(TSocket s, int file, int64_t offset, size_t count)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	if (!so->tcp || offset < 0) {
		put(so);
		return so->tcp ? -EINVAL : -EOPNOTSUPP;
	}
	/* From the file system into TCP's send buffer in pieces as large as
	 * its free room: one copy, a read per piece. */
	struct file_source src = { .file = file, .offset = (uint64_t)offset };
	long sent = tcp_send_from(so->tcp, count, 0, deadline_of(so->sndtimeo_ms),
	                          read_file_into, &src);
	put(so);
	return sent;
}

static unsigned udp_events(struct sock *so)
{
	unsigned ev = SOCKET_WRITABLE;
	assert_held(&so->wait.lock);
	if (udp_sock_readable(so->udp))
		ev |= SOCKET_READABLE;
	if (udp_sock_error(so->udp))
		ev |= SOCKET_ERROR;
	return ev;
}

static struct waitq *waitq_of(struct sock *so)
{
	return so->udp ? &so->wait : tcp_waitq(so->tcp);
}

/* events_now: the events of so that hold, under its queue's lock. */
static unsigned events_now(struct sock *so)
{
	struct waitq *wq = waitq_of(so);
	spin_lock(&wq->lock);
	unsigned ev = so->udp ? udp_events(so) : tcp_poll(so->tcp);
	spin_unlock(&wq->lock);
	return is_closed(so) ? SOCKET_INVALID : ev;
}

/* select_scan: every entry's revents from its socket (NULL: not usable);
 * how many have some. */
static int select_scan(struct TSocketPoll *set, struct sock **socks, unsigned count)
{
	int ready = 0;
	for (unsigned i = 0; i < count; i++) {
		if (set[i].socket < 0)
			set[i].revents = 0;
		else if (!socks[i])
			set[i].revents = SOCKET_INVALID;
		else
			set[i].revents = events_now(socks[i]) & (set[i].events | SOCKET_ERROR | SOCKET_INVALID);
		ready += set[i].revents != 0;
	}
	return ready;
}

int SysSocketSelect(struct TSocketPoll *set, unsigned count, uint32_t timeout_ms)
{
	if (count > SOCKET_SELECT_MAX || (!set && count))
		return -EINVAL;
	/* One allocation: the sockets, their queues and our places on them. */
	size_t each = sizeof(struct sock *) + sizeof(struct waitq *) + sizeof(struct waitq_entry);
	void *mem = count ? kmalloc(count * each) : NULL;
	if (count && !mem)
		return -ENOMEM;
	struct waitq_entry *entries = mem;
	struct sock **socks = (struct sock **)(entries + count);
	struct waitq **wqs = (struct waitq **)(socks + count);
	unsigned nwait = 0;
	for (unsigned i = 0; i < count; i++) {
		int err;
		socks[i] = set[i].socket < 0 ? NULL : get(set[i].socket, true, &err);
		if (socks[i])
			wqs[nwait++] = waitq_of(socks[i]);
	}
	uint64_t deadline = timeout_ms == UINT32_MAX ? 0 : hal_clock_ns() + (uint64_t)timeout_ms * 1000000;
	int ready;
	/* The sockets' states change on this CPU only (their owner; a
	 * listener's part for this CPU), so nothing changes between the scan
	 * and the wait: see waitq_wait_many. */
	for (;;) {
		ready = select_scan(set, socks, count);
		if (ready || timeout_ms == 0)
			break;
		if (waitq_wait_many(wqs, entries, nwait, deadline) == -ETIMEDOUT) {
			ready = select_scan(set, socks, count);
			break;
		}
	}
	for (unsigned i = 0; i < count; i++)
		if (socks[i])
			put(socks[i]);
	kfree(mem);
	return ready;
}

int SysSocketSelectOne(TSocket s, unsigned events, uint32_t timeout_ms)
{
	int rc;
	struct sock *so = get(s, true, &rc);
	if (!so)
		return rc;
	put(so);
	struct TSocketPoll one = { .socket = s, .events = events };
	rc = SysSocketSelect(&one, 1, timeout_ms);
	if (rc < 0)
		return rc;
	return one.revents & SOCKET_INVALID ? -EBADF : (int)one.revents;
}

int SysSocketSetOpt(TSocket s, int option, long value)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	rc = 0;
	switch (option) {
	case SOCKOPT_RCVTIMEO_MS:
	case SOCKOPT_SNDTIMEO_MS:
		if (value < 0 || value > UINT32_MAX)
			rc = -EINVAL;
		else if (option == SOCKOPT_RCVTIMEO_MS)
			so->rcvtimeo_ms = (uint32_t)value;
		else
			so->sndtimeo_ms = (uint32_t)value;
		break;
	case SOCKOPT_NONBLOCK:
		if (value != 0 && value != 1)
			rc = -EINVAL;
		else
			so->nonblock = value;
		break;
	case SOCKOPT_RCVBUF:
		if (so->udp) {
			if (value < 4096 || value > 64L * 1024 * 1024)
				rc = -EINVAL;
			else
				udp_sock_set_rcvbuf(so->udp, (size_t)value);
			break;
		}
		/* fall through */
	default:
		rc = so->tcp ? tcp_setopt(so->tcp, option, value) : -ENOPROTOOPT;
	}
	put(so);
	return rc;
}

int SysSocketLocalAddr(TSocket s, struct TSockAddr *out)
{
	int rc;
	struct sock *so = get(s, true, &rc);
	if (!so)
		return rc;
	rc = so->udp ? udp_sock_local(so->udp, out) : tcp_addrs(so->tcp, out, NULL);
	put(so);
	return rc;
}

int SysSocketPeerAddr(TSocket s, struct TSockAddr *out)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	rc = so->udp ? udp_sock_peer(so->udp, out) : tcp_addrs(so->tcp, NULL, out);
	put(so);
	return rc;
}

int SysSocketShutdown(TSocket s, int how)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	if (how < 0 || how > 2)
		rc = -EINVAL;
	else
		rc = so->udp ? -EOPNOTSUPP : tcp_shutdown(so->tcp, how);
	put(so);
	return rc;
}

int SysSocketClose(TSocket s)
{
	int rc;
	struct sock *so = get(s, false, &rc);
	if (!so)
		return rc;
	spin_lock(&table_lock);
	table[s] = NULL;
	so->closed = true;
	bool busy = so->refs > 2;       /* ours, the table's, and others' calls */
	so->refs--;                     /* the table's */
	spin_unlock(&table_lock);
	if (busy) {
		/* Wake threads blocked in it: they see it closed and leave. */
		if (so->udp)
			waitq_wake_all(&so->wait);
		else if (so->tcp)
			tcp_shutdown(so->tcp, 2);
	}
	put(so);
	return 0;
}
