/*
 * server.h: the listening port, one accepting thread per CPU, and the
 * count that bounds the connections.
 *
 * Usual order: server_start() binds and listens, then starts an acceptor on
 * every CPU; each accepted connection gets its own thread on the acceptor's
 * CPU (conn.c), which owns the socket until it closes it. server_stop()
 * closes the port (which ends the acceptors' waits), asks every connection
 * to end after the response it is sending (conn.h says how soon each
 * notices) and waits for them.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "access_log.h"
#include "http_parse.h"
#include "socket.h"
#include "toro.h"

#define SERVER_MAX_CPUS 64

struct server_config {
	uint16_t port;
	unsigned max_conns;             /* beyond: 503 and close */
	uint32_t header_timeout_ms;     /* a request head must arrive within; else 408 */
	uint32_t idle_timeout_ms;       /* an idle kept-alive connection closes after */
	uint32_t send_timeout_ms;       /* a client that reads nothing this long is dropped */
	struct http_limits limits;
	struct vnode *root;             /* the web root, held */
	struct access_log *log;         /* NULL: no access log */
	bool quiet;                     /* no console line per request */
};

/* Counters, each changed atomically from any CPU. */
struct server_stats {
	uint64_t connections, requests, refused_busy;
	uint64_t errors_4xx, errors_5xx;
};

struct server {
	struct server_config cfg;
	TSocket listener;
	unsigned ncpus;
	TThread *acceptors[SERVER_MAX_CPUS];
	bool stopping;                  /* atomic: set once by server_stop */
	unsigned conns;                 /* atomic: open connections */
	struct server_stats stats;      /* atomic fields */
};

/* server_start: 0, or -errno from bind (-EADDRINUSE ...) or listen. */
int server_start(struct server *srv, const struct server_config *cfg);
/* server_stop: stop accepting, end the connections (each within its
 * current deadline) and wait for them, close the port. */
void server_stop(struct server *srv);

static inline bool server_stopping(const struct server *srv)
{
	return __atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE);
}

static inline void server_count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

#endif
