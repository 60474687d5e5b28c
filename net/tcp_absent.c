/*
 * tcp_absent.c: stand-ins for TCP (tcp.h) until the TCP branch is merged.
 *
 * MERGE POINT: this file compiles to nothing once net/tcp_sock.c (TCP's
 * implementation of tcp.h's calls) is there; delete it then. Until then a
 * stream socket cannot be made (-EPROTONOSUPPORT from SysSocket) and TCP
 * segments that come in are counted and dropped.
 */
#if !__has_include("tcp_sock.c")

#include <errno.h>

#include "stack.h"
#include "tcp.h"

void tcp_input(struct netbuf *nb)
{
	NET_COUNT(nb->netif, no_socket);
	netbuf_free(nb);
}

int tcp_open(struct tcp_conn **out) { return -EPROTONOSUPPORT; }
int tcp_bind(struct tcp_conn *c, ip4_addr addr, uint16_t port) { return -EPROTONOSUPPORT; }
int tcp_listen(struct tcp_conn *c, int backlog) { return -EPROTONOSUPPORT; }
int tcp_accept(struct tcp_conn *listener, struct tcp_conn **out, int flags, uint64_t deadline_ns)
{
	return -EPROTONOSUPPORT;
}
int tcp_connect(struct tcp_conn *c, ip4_addr addr, uint16_t port, int flags, uint64_t deadline_ns)
{
	return -EPROTONOSUPPORT;
}
long tcp_send(struct tcp_conn *c, const void *buf, size_t len, int flags, uint64_t deadline_ns)
{
	return -EPROTONOSUPPORT;
}
long tcp_recv(struct tcp_conn *c, void *buf, size_t len, int flags, uint64_t deadline_ns)
{
	return -EPROTONOSUPPORT;
}
unsigned tcp_poll(struct tcp_conn *c) { return SOCKET_ERROR; }
struct waitq *tcp_waitq(struct tcp_conn *c)
{
	static struct waitq none = { SPINLOCK_INIT("tcp_absent"), LIST_INIT(none.waiters) };
	return &none;
}
int tcp_setopt(struct tcp_conn *c, int option, long value) { return -EPROTONOSUPPORT; }
int tcp_shutdown(struct tcp_conn *c, int how) { return -EPROTONOSUPPORT; }
int tcp_close(struct tcp_conn *c) { return 0; }
int tcp_addrs(struct tcp_conn *c, struct TSockAddr *local, struct TSockAddr *peer)
{
	return -ENOTCONN;
}
unsigned tcp_owner_cpu(const struct tcp_conn *c) { return 0; }

#endif
