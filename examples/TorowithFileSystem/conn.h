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
/* The thread's stack: a send runs TCP's output and, on posix with slirp,
 * libslirp's whole input path on it; measured peak about 70 KiB (a 32 KiB
 * stack overflowed into the heap below it). Pages untouched stay unused. */
#define CONN_STACK (128 * 1024)

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
