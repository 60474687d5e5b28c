/*
 * udp.h: UDP sockets (udp.c), as socket.c drives them.
 *
 * A udp_sock belongs to the CPU that made it: socket.c calls these only on
 * that CPU, and datagrams for it are handed there (net_run_on) before they
 * are queued, so the receive queue is touched on one CPU only; its wait
 * queue's lock still guards it, as the lock that the sleeping side holds.
 */
#ifndef NET_UDP_H
#define NET_UDP_H

#include <stddef.h>

#include "net.h"
#include "socket.h"
#include "waitq.h"

#define UDP_RCVQ_DEFAULT (256 * 1024)   /* bytes queued before drops */
#define UDP_MAX_PAYLOAD  (65535 - 20 - 8)

struct udp_sock;

struct udp_sock *udp_sock_create(struct waitq *wait);
void udp_sock_close(struct udp_sock *u);
int udp_sock_bind(struct udp_sock *u, const struct TSockAddr *local);
int udp_sock_connect(struct udp_sock *u, const struct TSockAddr *remote);
/* to NULL: the connected peer. */
long udp_sock_sendto(struct udp_sock *u, const void *buf, size_t len, const struct TSockAddr *to);
/* -EAGAIN when nothing is queued (socket.c waits on the wait queue). */
long udp_sock_recvfrom(struct udp_sock *u, void *buf, size_t len, int flags,
                       struct TSockAddr *from);
/* Both with wait->lock held. readable: a datagram or an error waits;
 * error: the pending error of a connected socket (an ICMP error about a
 * datagram it sent: -ECONNREFUSED, -EHOSTUNREACH), or 0. */
bool udp_sock_readable(struct udp_sock *u);
int udp_sock_error(struct udp_sock *u);
int udp_sock_local(struct udp_sock *u, struct TSockAddr *out);
int udp_sock_peer(struct udp_sock *u, struct TSockAddr *out);
void udp_sock_set_rcvbuf(struct udp_sock *u, size_t bytes);

/* udp_icmp_error: an ICMP destination unreachable whose quoted datagram
 * (nb->data at its IPv4 header, len bytes quoted, checked for 8 bytes of
 * UDP header) we sent; code its ICMP code. Takes nb. Any CPU. */
void udp_icmp_error(struct netbuf *nb, uint8_t code);

/* udp_parse: check a received UDP header (nb->data, nb->len) and trim nb
 * to its length; 0 or -EINVAL. Pure, for tests. */
int udp_parse(struct netbuf *nb, uint16_t *sport, uint16_t *dport);

#endif
