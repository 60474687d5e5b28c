/*
 * tcp.h: TCP (RFC 9293) as the socket layer (net/socket.c) uses it.
 *
 * Files (net/tcp_*.c; their shared internals are in tcp_impl.h):
 *   tcp_input.c    segment arrival, in RFC 9293 §3.10.7 order; the one
 *                  place where the state changes
 *   tcp_output.c   building and sending segments, retransmission
 *   tcp_timer.c    RTO (RFC 6298), delayed ACK, persist, keep-alive,
 *                  TIME-WAIT
 *   tcp_conn.c     the connection and port tables, owner CPUs
 *   tcp_isn.c      the boot-time secret, ISNs (RFC 6528), SipHash
 *   tcp_options.c  MSS, window scale, SACK-permitted, timestamps
 *   tcp_seq.h      sequence arithmetic with wrap-around
 *   tcp_cc.c       congestion control: NewReno (RFC 5681, 6582), IW 10
 *   tcp_sack.c     the sender's SACK scoreboard, a record per segment sent
 *   tcp_rack.c     loss detection with SACK: RACK-TLP (RFC 8985)
 *   tcp_listen.c   listeners, SYN backlog, SYN cookies
 *   tcp_sock.c     the calls below
 *
 * Ownership (net.h): a connection belongs to the CPU that opened it (or
 * accepted it) and every call below on it must come from that CPU, like
 * the socket that holds it. A listener is the exception: tcp_accept may be
 * called on it from any CPU, and a connection that arrives for it is made
 * and owned on a CPU that has a thread in tcp_accept on it (the 4-tuple's
 * hash picks one), so each accepter gets connections its CPU owns.
 *
 * Blocking: calls that wait take an absolute deadline (hal_clock_ns time,
 * 0: none) and return -ETIMEDOUT when it passes; SOCKET_DONTWAIT in flags
 * makes them return -EAGAIN instead of sleeping. Errors are negative errno
 * values: -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -EPIPE, -ENOTCONN,
 * -EADDRINUSE, -EISCONN, -EINVAL, -ENOMEM, -EXDEV (wrong CPU).
 *
 * Lifecycle of a struct tcp_conn as socket.c sees it: tcp_open() makes a
 * closed one; then either tcp_bind() + tcp_listen() + tcp_accept()..., or
 * tcp_connect() (binding a free port if unbound); tcp_send/tcp_recv while
 * connected; tcp_close() gives it back: the pointer is dead after that,
 * while TCP finishes the connection (FIN, TIME-WAIT) in the background.
 */
#ifndef NET_TCP_H
#define NET_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "socket.h"
#include "waitq.h"

struct tcp_conn;

/* tcp_open: a new closed connection owned by the calling CPU. 0 or -ENOMEM. */
int tcp_open(struct tcp_conn **out);

/* tcp_bind: local address (0: any) and port (0: a free ephemeral one).
 * -EADDRINUSE if taken (a port whose only users are in TIME-WAIT is free
 * with SOCKOPT_REUSEADDR set), -EINVAL if already bound. */
int tcp_bind(struct tcp_conn *c, ip4_addr addr, uint16_t port);

/* tcp_listen: accept connections on the bound port; backlog bounds the
 * half-open (SYN-RECEIVED) and not yet accepted connections per CPU;
 * beyond it SYN cookies answer. 0, -EINVAL (unbound or connected). */
int tcp_listen(struct tcp_conn *c, int backlog);

/* tcp_accept: the next established connection for the calling CPU, owned
 * by it. Any CPU. */
int tcp_accept(struct tcp_conn *listener, struct tcp_conn **out, int flags,
               uint64_t deadline_ns);

/* tcp_connect: active open to addr:port; waits until established (or
 * refused, timed out). With SOCKET_DONTWAIT returns -EINPROGRESS after
 * sending the SYN; tcp_poll then shows WRITABLE or ERROR. */
int tcp_connect(struct tcp_conn *c, ip4_addr addr, uint16_t port, int flags,
                uint64_t deadline_ns);

/* tcp_send: copies buf into the bounded send buffer, sleeping while it is
 * full; the count taken (all of len unless SOCKET_DONTWAIT, a deadline or
 * an error cut it short after part: then the part). SOCKET_MORE holds a
 * partial segment back for what follows (like MSG_MORE). -EPIPE after
 * shutdown for writing or once the peer reset the connection. */
long tcp_send(struct tcp_conn *c, const void *buf, size_t len, int flags,
              uint64_t deadline_ns);

/* tcp_send_from: as tcp_send, but the bytes come from fill, which writes
 * the n bytes at offset at (0 = the first of this call) of its source
 * straight into the send buffer at dst: no bounce buffer (sendfile). fill
 * may sleep; it returns the count written, short at the end of its source
 * (the call then ends there), or a negative errno (returned when nothing
 * was taken yet). */
typedef long (*tcp_fill_fn)(void *ctx, void *dst, size_t n, size_t at);
long tcp_send_from(struct tcp_conn *c, size_t len, int flags, uint64_t deadline_ns,
                   tcp_fill_fn fill, void *ctx);

/* tcp_recv: up to len bytes in order; sleeps while none are there; 0 at
 * the end of the stream (FIN received). SOCKET_PEEK leaves them queued. */
long tcp_recv(struct tcp_conn *c, void *buf, size_t len, int flags,
              uint64_t deadline_ns);

/* tcp_poll: the SOCKET_READABLE / WRITABLE / ERROR events that hold now. A
 * listener is readable when the calling CPU has a connection to accept. */
unsigned tcp_poll(struct tcp_conn *c);

/* tcp_waitq: woken (wake_all) whenever tcp_poll's answer may have changed;
 * on the calling CPU's part of a listener. To wait for events:
 *	spin_lock(&wq->lock);
 *	while (!(tcp_poll(c) & events) && !timed_out)
 *		timed_out = waitq_wait_locked(wq, deadline) == -ETIMEDOUT;
 *	spin_unlock(&wq->lock);
 * (the owner CPU changes the state, and cooperative scheduling keeps it
 * from doing so between tcp_poll and the wait). */
struct waitq *tcp_waitq(struct tcp_conn *c);

/* tcp_setopt: SOCKOPT_NODELAY, KEEPALIVE, REUSEADDR, RCVBUF, SNDBUF,
 * LINGER_S (socket.h); the timeouts are socket.c's. -ENOPROTOOPT for
 * others, -EINVAL for a value out of range. */
int tcp_setopt(struct tcp_conn *c, int option, long value);

/* tcp_shutdown: how 0 stop receiving (data that arrives is dropped),
 * 1 stop sending (FIN after the queued data), 2 both. -ENOTCONN when
 * not connected; a connect still in progress is aborted (-ECONNABORTED
 * for the thread waiting in it). */
int tcp_shutdown(struct tcp_conn *c, int how);

/* tcp_close: give the connection back. Unsent data is still sent and the
 * FIN follows, in the background (SOCKOPT_LINGER_S -1, the default); with
 * LINGER_S 0 the connection is reset at once; with n > 0 tcp_close waits
 * up to n seconds for the peer to acknowledge everything. Data that was
 * received and not read makes it a reset (RFC 9293 §3.6 note). Closing a
 * listener resets the connections not yet accepted. 0 or -errno (the
 * connection is given back either way). */
int tcp_close(struct tcp_conn *c);

/* tcp_addrs: the local and the peer's address (either may be NULL);
 * -ENOTCONN for peer when not connected. */
int tcp_addrs(struct tcp_conn *c, struct TSockAddr *local, struct TSockAddr *peer);

/* tcp_owner_cpu: the CPU that owns c (for socket.c's -EXDEV check; a
 * listener answers the calling CPU). */
unsigned tcp_owner_cpu(const struct tcp_conn *c);

#endif
