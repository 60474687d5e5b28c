/*
 * server.c: the listening socket and the acceptors of server.h.
 *
 * The connection bound is a count taken before a connection's thread
 * starts and given back when it ends; a connection past the bound gets a
 * 503 sent without waiting (the send buffer of a new connection has room)
 * and is closed at once, so a flood of connections costs no threads.
 */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "http_response.h"
#include "server.h"

#define BACKLOG 1024

static void refuse_busy(struct server *srv, TSocket s)
{
	char buf[512];
	struct http_reply r = { .status = 503, .version = 11, .keep_alive = false,
	                        .now = GetRealTimeNs() / 1000000000 };
	long n = http_format_error(buf, sizeof(buf), &r, false);
	if (n > 0)
		SysSocketSend(s, buf, (size_t)n, SOCKET_DONTWAIT);
	SysSocketClose(s);
	server_count(&srv->stats.refused_busy);
}

/* Take a connection slot; false when all max_conns are taken. */
static bool take_slot(struct server *srv)
{
	unsigned n = __atomic_load_n(&srv->conns, __ATOMIC_RELAXED);
	do {
		if (n >= srv->cfg.max_conns)
			return false;
	} while (!__atomic_compare_exchange_n(&srv->conns, &n, n + 1, true, __ATOMIC_ACQUIRE,
	                                      __ATOMIC_RELAXED));
	return true;
}

static void start_conn(struct server *srv, TSocket s, const struct TSockAddr *peer)
{
	if (!take_slot(srv)) {
		refuse_busy(srv, s);
		return;
	}
	struct conn *c = ToroGetMem(sizeof(*c));
	if (c) {
		c->srv = srv;
		c->sock = s;
		c->peer = *peer;
		c->len = 0;
		if (BeginThread(NULL, CONN_STACK, conn_main, c, GetCoreId(), NULL)) {
			server_count(&srv->stats.connections);
			return;
		}
		ToroFreeMem(c);
	}
	__atomic_fetch_sub(&srv->conns, 1, __ATOMIC_RELEASE);
	refuse_busy(srv, s);    /* out of memory for it: busy too */
}

static int acceptor_main(void *arg)
{
	struct server *srv = arg;
	/* Accept waits without a limit: server_stop closes the listener,
	 * which ends every acceptor's wait. */
	while (!server_stopping(srv)) {
		struct TSockAddr peer = { 0 };
		TSocket s = SysSocketAccept(srv->listener, &peer);
		if (s >= 0)
			start_conn(srv, s, &peer);
		else if (s == -ECONNABORTED || s == -EBADF)
			break;          /* the listener is closed */
		else
			Sleep(10);      /* out of sockets or memory: let connections end */
	}
	return 0;
}

int server_start(struct server *srv, const struct server_config *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = *cfg;
	srv->listener = SysSocket(SOCKET_STREAM);
	if (srv->listener < 0)
		return srv->listener;
	struct TSockAddr local = { .ip = 0, .port = cfg->port };
	SysSocketSetOpt(srv->listener, SOCKOPT_REUSEADDR, 1);
	int rc = SysSocketBind(srv->listener, &local);
	if (rc == 0)
		rc = SysSocketListen(srv->listener, BACKLOG);
	if (rc < 0) {
		SysSocketClose(srv->listener);
		return rc;
	}
	srv->ncpus = GetCPUCount() < SERVER_MAX_CPUS ? GetCPUCount() : SERVER_MAX_CPUS;
	for (unsigned cpu = 0; cpu < srv->ncpus; cpu++) {
		/* An acceptor sends too (503): the same stack as a connection. */
		srv->acceptors[cpu] = BeginJoinableThread(CONN_STACK, acceptor_main, srv, cpu);
		if (!srv->acceptors[cpu]) {
			server_stop(srv);
			return -ENOMEM;
		}
	}
	return 0;
}

void server_stop(struct server *srv)
{
	__atomic_store_n(&srv->stopping, true, __ATOMIC_RELEASE);
	SysSocketClose(srv->listener);          /* wakes every acceptor */
	for (unsigned cpu = 0; cpu < srv->ncpus; cpu++)
		if (srv->acceptors[cpu])
			WaitThread(srv->acceptors[cpu]);
	/* Each connection ends within CONN_POLL_MS when idle, after its head's
	 * deadline when one is coming in, or after one send timeout when a
	 * client reads slowly: a bounded wait, and they use srv until then. */
	uint64_t start = GetTickCountNs();
	bool said = false;
	while (__atomic_load_n(&srv->conns, __ATOMIC_ACQUIRE) > 0) {
		Sleep(50);
		if (!said && GetTickCountNs() - start > 2000000000ull) {
			WriteConsoleF("TorowithFileSystem: waiting for %u connections to end\n",
			              __atomic_load_n(&srv->conns, __ATOMIC_ACQUIRE));
			said = true;
		}
	}
}
