/*
 * conn.c: the life of one connection (conn.h): read until a request head
 * is complete, drop its body, answer, log, keep what follows (the next
 * pipelined request), again until the connection ends.
 *
 * Timeouts are deadlines, not per-receive limits, so a client that sends a
 * byte now and then cannot hold a connection open: the head of a request
 * must be complete header_timeout_ms after its first byte (else 408), and
 * a kept-alive connection with nothing received closes after
 * idle_timeout_ms. Each receive waits at most CONN_POLL_MS, so the thread
 * also sees the server's stop in time.
 */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "log_line.h"
#include "serve.h"

static uint64_t now_ms(void) { return GetTickCountNs() / 1000000; }

enum wait_result { GOT_BYTES, PEER_CLOSED, TIMED_OUT, STOPPED, BROKEN };

/* Receive into buf[len..cap) before deadline (ms on the tick clock). */
static enum wait_result receive(struct conn *c, uint64_t deadline, size_t cap)
{
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return TIMED_OUT;
		if (server_stopping(c->srv) && c->len == 0)
			return STOPPED;
		uint64_t wait = deadline - now;
		SysSocketSetOpt(c->sock, SOCKOPT_RCVTIMEO_MS,
		                (long)(wait < CONN_POLL_MS ? wait : CONN_POLL_MS));
		long n = SysSocketRecv(c->sock, c->buf + c->len, cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			return GOT_BYTES;
		}
		if (n == 0)
			return PEER_CLOSED;
		if (n != -ETIMEDOUT && n != -EAGAIN)
			return BROKEN;
	}
}

/* Read and drop a body of n bytes that follows the head (bounded by the
 * parser's limit); false when the connection ends first. */
static bool drop_body(struct conn *c, size_t head_len, uint64_t n)
{
	size_t have = c->len - head_len;
	if (have >= n) {
		memmove(c->buf + head_len, c->buf + head_len + n, have - (size_t)n);
		c->len -= (size_t)n;
		return true;
	}
	n -= have;
	c->len = head_len;
	uint64_t deadline = now_ms() + c->srv->cfg.header_timeout_ms;
	while (n > 0) {
		if (server_stopping(c->srv))
			return false;
		size_t room = sizeof(c->buf) - head_len;
		size_t want = n < room ? (size_t)n : room;
		if (receive(c, deadline, head_len + want) != GOT_BYTES)
			return false;
		n -= c->len - head_len;
		c->len = head_len;
	}
	return true;
}

static void log_request(struct conn *c, const struct served *s, bool parsed)
{
	struct server *srv = c->srv;
	server_count(&srv->stats.requests);
	if (s->status >= 500)
		server_count(&srv->stats.errors_5xx);
	else if (s->status >= 400)
		server_count(&srv->stats.errors_4xx);
	struct log_entry e = { .peer_ip = c->peer.ip, .time = GetRealTimeNs() / 1000000000,
	                       .status = s->status, .bytes = s->body_bytes };
	if (parsed) {
		unsigned from = 0;
		const struct http_span *v;
		e.request_line = c->req.request_line;
		if ((v = http_field_find(&c->req, "referer", &from)))
			e.referer = *v;
		from = 0;
		if ((v = http_field_find(&c->req, "user-agent", &from)))
			e.user_agent = *v;
	}
	if (srv->cfg.log) {
		char line[LOG_LINE_MAX];
		access_log_append(srv->cfg.log, line, log_line_format(line, &e));
	}
	if (!srv->cfg.quiet) {
		char err[32] = "";
		size_t len = parsed ? c->req.request_line.len : 1;
		if (s->broken)
			ksnprintf(err, sizeof(err), " (send: error %ld)", -s->error);
		WriteConsoleF("%u.%u.%u.%u \"%.*s\" %d %llu%s\n", c->peer.ip >> 24,
		              (c->peer.ip >> 16) & 255, (c->peer.ip >> 8) & 255, c->peer.ip & 255,
		              (int)(len > 200 ? 200 : len), parsed ? c->req.request_line.p : "-",
		              s->status, (unsigned long long)s->body_bytes, err);
	}
}

/* One request: false when the connection is to end. */
static bool one_request(struct conn *c)
{
	const struct server_config *cfg = &c->srv->cfg;
	struct served s;
	http_parser_init(&c->parser, &cfg->limits);
	uint64_t deadline = now_ms() + (c->len ? cfg->header_timeout_ms : cfg->idle_timeout_ms);
	bool started = c->len > 0;
	long head_len;
	while ((head_len = http_parse(&c->parser, c->buf, c->len, &c->req)) == 0) {
		if (c->len == sizeof(c->buf)) {
			head_len = -431;        /* cannot happen while limits.head < CONN_BUF */
			break;
		}
		enum wait_result w = receive(c, deadline, sizeof(c->buf));
		if (w == TIMED_OUT && started) {
			serve_error(c, 408, 11, &s);
			log_request(c, &s, false);
			return false;
		}
		if (w != GOT_BYTES)
			return false;   /* idle timeout, stop, close or reset: quietly */
		if (!started) {
			started = true;
			deadline = now_ms() + cfg->header_timeout_ms;
		}
	}
	if (head_len < 0) {
		/* The framing is not to be trusted: answer and close. */
		serve_error(c, (int)-head_len, c->req.version, &s);
		log_request(c, &s, false);
		return false;
	}
	if (c->req.body_length && !drop_body(c, (size_t)head_len, c->req.body_length))
		return false;
	serve_request(c, &s);
	log_request(c, &s, true);
	/* The next request's bytes, if any came along, move to the front. */
	c->len -= (size_t)head_len;
	memmove(c->buf, c->buf + head_len, c->len);
	return !s.broken && s.keep_alive;
}

int conn_main(void *arg)
{
	struct conn *c = arg;
	struct server *srv = c->srv;
	SysSocketSetOpt(c->sock, SOCKOPT_NODELAY, 1);
	SysSocketSetOpt(c->sock, SOCKOPT_SNDTIMEO_MS, (long)srv->cfg.send_timeout_ms);
	while (one_request(c))
		;
	SysSocketClose(c->sock);
	ToroFreeMem(c);
	__atomic_fetch_sub(&srv->conns, 1, __ATOMIC_RELEASE);
	return 0;
}
