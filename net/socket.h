/*
 * socket.h: what a service calls to use the network (net/socket.c).
 *
 * Toro's names, C conventions: a socket is an int >= 0 (its own table,
 * apart from files); every call returns a count, a socket or 0 on success
 * and a negative errno value on failure (-ECONNREFUSED, -ETIMEDOUT,
 * -ECONNRESET, -EPIPE, -EAGAIN, ...). Addresses and ports are host order.
 *
 * Ownership: a socket belongs to the CPU of the thread that made it (or
 * accepted it) and is used by threads of that CPU; a call from another CPU
 * is -EXDEV. A listening socket is the exception: threads on every CPU may
 * accept on it, and each gets connections that its own CPU owns.
 *
 * Blocking calls sleep (the CPU runs other threads or halts) until they can
 * go on, the socket's timeout passes (-ETIMEDOUT; none by default) or,
 * with SOCKET_DONTWAIT, return -EAGAIN at once.
 */
#ifndef NET_SOCKET_H
#define NET_SOCKET_H

#include <stddef.h>
#include <stdint.h>

typedef int TSocket;

struct TSockAddr {
	uint32_t ip;            /* host order: 0x7f000001 is 127.0.0.1 */
	uint16_t port;
};

enum { SOCKET_STREAM = 1, SOCKET_DGRAM = 2 };

/* Flags of Send/Recv. */
#define SOCKET_DONTWAIT 0x1     /* -EAGAIN instead of sleeping */
#define SOCKET_PEEK     0x2     /* Recv: leave the data queued */
#define SOCKET_MORE     0x4     /* Send: more follows at once (no push) */

/* Options of SysSocketSetOpt. */
enum {
	SOCKOPT_NODELAY = 1,    /* TCP: 1 turns Nagle's algorithm off */
	SOCKOPT_KEEPALIVE,      /* TCP: idle seconds before probes, 0 off */
	SOCKOPT_RCVTIMEO_MS,    /* blocking receive/accept limit, 0 none */
	SOCKOPT_SNDTIMEO_MS,    /* blocking send/connect limit, 0 none */
	SOCKOPT_REUSEADDR,      /* bind over a port in TIME-WAIT */
	SOCKOPT_RCVBUF,         /* bytes */
	SOCKOPT_SNDBUF,
	SOCKOPT_LINGER_S,       /* close: -1 (default) in the background; 0 reset; n wait n s */
	SOCKOPT_NONBLOCK,       /* 1: every call acts as with SOCKET_DONTWAIT (connect:
	                         * -EINPROGRESS, then select for WRITABLE) */
};

/* Events of SysSocketSelect. */
#define SOCKET_READABLE 0x1     /* data, a connection to accept, or end of stream */
#define SOCKET_WRITABLE 0x2
#define SOCKET_ERROR    0x4     /* reset, or a pending error */
#define SOCKET_INVALID  0x8     /* revents only: not an open socket of this CPU */

/* One socket of SysSocketSelect: the events asked for and those found. */
struct TSocketPoll {
	TSocket socket;         /* < 0: skipped (revents 0) */
	unsigned events;        /* SOCKET_READABLE | SOCKET_WRITABLE; ERROR always */
	unsigned revents;       /* set by the call */
};
#define SOCKET_SELECT_MAX 256

TSocket SysSocket(int type);
/* Bind: ip 0 is any address, port 0 a free one. */
int SysSocketBind(TSocket s, const struct TSockAddr *local);
int SysSocketListen(TSocket s, int backlog);
/* Accept: a new connected socket; peer (may be NULL) its address. */
TSocket SysSocketAccept(TSocket s, struct TSockAddr *peer);
int SysSocketConnect(TSocket s, const struct TSockAddr *remote);

/* Send: the count taken (a stream takes all of it unless non-blocking or
 * an error ends the call after part). Recv: the count received, 0 at the
 * end of the stream. */
long SysSocketSend(TSocket s, const void *buf, size_t len, int flags);
long SysSocketRecv(TSocket s, void *buf, size_t len, int flags);
/* Datagrams: one call, one datagram (a longer one is cut to len). */
long SysSocketSendTo(TSocket s, const void *buf, size_t len, const struct TSockAddr *to);
long SysSocketRecvFrom(TSocket s, void *buf, size_t len, int flags, struct TSockAddr *from);
/* Peek: Recv that leaves the data queued (a later Recv gets it again);
 * flags as Recv's (SOCKET_DONTWAIT). */
long SysSocketPeek(TSocket s, void *buf, size_t len, int flags);

/* SendFile: count bytes of the open file (a THandle of toro.h) from
 * offset, straight from the file system to the connection; the count sent. */
long SysSocketSendFile(TSocket s, int file, int64_t offset, size_t count);

/* Select: wait until one of the count sockets of set has one of its
 * events (or SOCKET_ERROR, or is not usable: SOCKET_INVALID), or
 * timeout_ms passes (0: just look; UINT32_MAX: no limit). Fills every
 * revents; returns how many are not 0 (0 on timeout), or -EINVAL (count
 * above SOCKET_SELECT_MAX, set NULL). Like poll(2).
 * SelectOne: the same for one socket; the events that hold, 0 on timeout,
 * -EBADF / -EXDEV when s is not usable. */
int SysSocketSelect(struct TSocketPoll *set, unsigned count, uint32_t timeout_ms);
int SysSocketSelectOne(TSocket s, unsigned events, uint32_t timeout_ms);

int SysSocketSetOpt(TSocket s, int option, long value);
int SysSocketLocalAddr(TSocket s, struct TSockAddr *out);
int SysSocketPeerAddr(TSocket s, struct TSockAddr *out);
/* Shutdown: how 0 no more receiving, 1 no more sending (FIN), 2 both. */
int SysSocketShutdown(TSocket s, int how);
int SysSocketClose(TSocket s);

/* SysNetAddress: the first interface's address (0 until configured). */
uint32_t SysNetAddress(void);

/* Connection states of TNetStats.tcp_states, RFC 9293 §3.3.2's order. */
enum {
	TNET_CLOSED, TNET_LISTEN, TNET_SYN_SENT, TNET_SYN_RECEIVED, TNET_ESTABLISHED,
	TNET_FIN_WAIT_1, TNET_FIN_WAIT_2, TNET_CLOSE_WAIT, TNET_CLOSING, TNET_LAST_ACK,
	TNET_TIME_WAIT, TNET_STATES
};

/* The stack's counters: packets, drops by reason, and TCP's events. */
struct TNetStats {
	/* Of one interface, or summed over all. */
	uint64_t rx_frames, tx_frames;
	uint64_t rx_dropped, tx_dropped;    /* no buffer, ring full, unknown type */
	uint64_t bad_ether, bad_arp, bad_ip, bad_icmp, bad_udp, bad_tcp;  /* malformed */
	uint64_t bad_csum;                  /* TCP checksum wrong */
	uint64_t no_socket;                 /* UDP/TCP to a port nobody holds */
	uint64_t frag_dropped, no_route, arp_dropped;
	uint64_t udp_dropped;               /* a socket's receive queue full */
	/* Of the whole TCP layer. */
	uint64_t tcp_retransmits, tcp_syn_cookies, tcp_challenge_acks;
	uint64_t tcp_timeouts;              /* retransmission timeouts that fired */
	uint64_t tcp_tlp_probes;            /* tail loss probes sent (RFC 8985) */
	uint64_t tcp_rack_lost;             /* segments RACK took as lost */
	uint32_t tcp_states[TNET_STATES];   /* connections in each state now */
};

/* SysNetStats: the counters of interface netif (0 the first), or of all
 * interfaces summed when netif is -1. 0, -ENODEV, -EINVAL (out NULL). */
int SysNetStats(int netif, struct TNetStats *out);

#endif
