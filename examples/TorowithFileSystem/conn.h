/*
 * conn.h: one client connection: its thread reads requests (pipelined or
 * one after another on a kept-alive connection), answers each through
 * serve.c, and logs it; it ends on "close", an error, a timeout or the
 * server's stop.
 *
 * Memory per connection is fixed: struct conn (the receive buffer of
 * CONN_BUF bytes, which holds the largest head the limits allow, the
 * parsed request, the response head) and the thread's stack (CONN_STACK).
 */
#ifndef CONN_H
#define CONN_H

#include "http_parse.h"
#include "server.h"

#define CONN_BUF (16 * 1024 + 1024)    /* >= http_limits.head, plus room to read ahead */
#define CONN_HEAD_MAX 1024             /* our response heads are far shorter */
#define CONN_POLL_MS 500               /* how often a waiting connection looks at the stop */
/* The thread's stack: the kernel's default. A send runs TCP's output on
 * it down to the NIC's transmit, which only copies frames (libslirp runs
 * on its own host thread). Measured on posix over slirp, 1 MiB bodies and
 * wrk: at most 8 KiB touched, and every thread at 16 KiB served it all;
 * an overflow would die on the stack's guard (hal_stack_alloc), not
 * corrupt the heap. */
#define CONN_STACK 0           /* the kernel's default: 32 KiB */

struct conn {
	struct server *srv;
	TSocket sock;
	struct TSockAddr peer;
	char buf[CONN_BUF];             /* bytes received and not yet used */
	size_t len;
	struct http_parser parser;
	struct http_request req;
	char head[CONN_HEAD_MAX];       /* the response head being sent */
};

/* conn_main: the connection's thread (arg: a struct conn from ToroGetMem,
 * which it frees, with its socket, when it ends). */
int conn_main(void *arg);

#endif
