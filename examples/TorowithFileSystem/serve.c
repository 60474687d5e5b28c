/*
 * serve.c: one request, one response (serve.h). The order of decisions:
 * the method (501, 405), the path (400, 404, 414), the file (301, 404,
 * 500), the preconditions and range (304, 412, 416, 206), then the head
 * and the file's bytes.
 */
#include <errno.h>
#include <string.h>

#include "http_cond.h"
#include "http_path.h"
#include "http_response.h"
#include "serve.h"
#include "web_files.h"

static int64_t now_s(void)
{
	return GetRealTimeNs() / 1000000000;
}

/* Send all of buf; false when the connection broke (out->error says how). */
static bool send_all(TSocket s, const char *buf, size_t len, int flags, struct served *out)
{
	while (len > 0) {
		long n = SysSocketSend(s, buf, len, flags);
		if (n <= 0) {
			out->error = n < 0 ? n : -EPIPE;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* An error, a redirect, or a 412/416 of entity: a whole short response. */
static void send_short(struct conn *c, struct http_reply *r, bool head_only, struct served *out)
{
	long n = http_format_error(c->head, sizeof(c->head), r, head_only);
	out->status = r->status;
	out->keep_alive = r->keep_alive;
	if (n < 0 || !send_all(c->sock, c->head, (size_t)n, 0, out)) {
		out->broken = true;
		return;
	}
	out->body_bytes = head_only ? 0 : http_error_body_length(r->status);
}

void serve_error(struct conn *c, int status, unsigned version, struct served *out)
{
	struct http_reply r = { .status = status, .version = version, .keep_alive = false,
	                        .now = now_s() };
	memset(out, 0, sizeof(*out));
	send_short(c, &r, false, out);
}

/* The redirect of a directory named without its slash: the same target
 * with '/' after the path (before any query). The target is visible ASCII
 * (the parser saw to it), so it cannot break the head. */
static void redirect_to_dir(struct conn *c, struct http_reply *r, bool head_only,
                            struct served *out)
{
	char location[HTTP_PATH_MAX + 2];
	const struct http_span *t = &c->req.path;
	const char *q = memchr(t->p, '?', t->len);
	size_t path_len = q ? (size_t)(q - t->p) : t->len;
	if (t->len + 2 > sizeof(location)) {
		r->status = 414;
		send_short(c, r, head_only, out);
		return;
	}
	memcpy(location, t->p, path_len);
	location[path_len] = '/';
	memcpy(location + path_len + 1, t->p + path_len, t->len - path_len);
	location[t->len + 1] = '\0';
	r->status = 301;
	r->location = location;
	send_short(c, r, head_only, out);
}

/* 200 or 206: the head, then the file's bytes straight from the file system. */
static void send_file(struct conn *c, struct http_reply *r, const struct web_file *f,
                      bool head_only, struct served *out)
{
	long n = http_format_head(c->head, sizeof(c->head), r);
	bool body = !head_only && r->length > 0;
	out->status = r->status;
	out->keep_alive = r->keep_alive;
	if (n < 0 || !send_all(c->sock, c->head, (size_t)n, body ? SOCKET_MORE : 0, out)) {
		out->broken = true;
		return;
	}
	uint64_t off = r->offset, left = body ? r->length : 0;
	while (left > 0) {
		if (server_stopping(c->srv)) {
			out->broken = true;     /* a slow reader does not hold the stop up */
			return;
		}
		size_t chunk = left > (1u << 30) ? (1u << 30) : (size_t)left;
		long k = SysSocketSendFile(c->sock, f->fd, (int64_t)off, chunk);
		if (k <= 0) {
			out->broken = true;     /* the head promised bytes we cannot send */
			out->error = k < 0 ? k : -EPIPE;
			return;
		}
		off += (uint64_t)k;
		left -= (uint64_t)k;
		out->body_bytes += (uint64_t)k;
	}
}

void serve_request(struct conn *c, struct served *out)
{
	const struct http_request *req = &c->req;
	bool head_only = req->method == HTTP_HEAD;
	struct http_reply r = { .version = req->version, .now = now_s(),
	                        .keep_alive = req->keep_alive && !server_stopping(c->srv) };
	memset(out, 0, sizeof(*out));
	if (req->method == HTTP_METHOD_UNKNOWN || req->method == HTTP_METHOD_OTHER) {
		r.status = req->method == HTTP_METHOD_UNKNOWN ? 501 : 405;
		send_short(c, &r, false, out);
		return;
	}
	struct http_path path;
	int rc = http_path_normalise(&req->path, &path);
	struct web_file f;
	if (rc == 0)
		rc = web_open(c->srv->cfg.root, &path, &f);
	if (rc == -301) {
		redirect_to_dir(c, &r, head_only, out);
		return;
	}
	if (rc < 0) {
		r.status = -rc;
		/* A refused path says nothing bad about the framing: stay open. */
		send_short(c, &r, head_only, out);
		return;
	}
	struct http_entity entity;
	struct http_plan plan;
	http_entity_init(&entity, f.st.ino, f.st.size, f.st.mtime_ns);
	http_plan_response(req, &entity, &plan);
	r.status = plan.status;
	r.entity = &entity;
	r.content_type = f.content_type;
	r.offset = plan.offset;
	r.length = plan.length;
	if (plan.status == 200 || plan.status == 206) {
		send_file(c, &r, &f, head_only, out);
	} else if (plan.status == 304) {
		long n = http_format_head(c->head, sizeof(c->head), &r);
		out->status = 304;
		out->keep_alive = r.keep_alive;
		out->broken = n < 0 || !send_all(c->sock, c->head, (size_t)n, 0, out);
	} else {
		send_short(c, &r, head_only, out);
	}
	SysCloseFile(f.fd);
}
