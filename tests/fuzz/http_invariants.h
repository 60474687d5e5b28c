/*
 * http_invariants.h: what must hold of every head the web service's parser
 * accepts, and of what the rest of the request path makes of it (path
 * normaliser, preconditions and ranges, response head, log line). Included
 * by the Criterion loop (tests/unit/test_http_fuzz.c) and the libFuzzer
 * target (tests/fuzz/fuzz_http.c), which define first:
 *   HTTP_CHECK(cond, ...)  fail the run when cond is false
 *   HTTP_CHECK_RAND()      an unsigned of their choosing (entity made up)
 */
#ifndef TESTS_FUZZ_HTTP_INVARIANTS_H
#define TESTS_FUZZ_HTTP_INVARIANTS_H

#include <stdbool.h>
#include <string.h>

#include "http_cond.h"
#include "http_parse.h"
#include "http_path.h"
#include "http_response.h"
#include "log_line.h"

static bool inside(const struct http_span *s, const char *buf, size_t len)
{
	if (s->len == 0)
		return true;
	if (s->p >= buf && s->p + s->len <= buf + len)
		return true;
	return s->len == 1 && s->p[0] == '/';   /* absolute-form's "/" */
}

static void check_request(const char *buf, size_t len, long head, const struct http_request *req)
{
	HTTP_CHECK(inside(&req->path, buf, (size_t)head));
	HTTP_CHECK(inside(&req->request_line, buf, (size_t)head));
	HTTP_CHECK(req->version == 10 || req->version == 11);
	for (unsigned i = 0; i < req->nfields; i++) {
		HTTP_CHECK(inside(&req->fields[i].name, buf, (size_t)head));
		HTTP_CHECK(inside(&req->fields[i].value, buf, (size_t)head));
	}
	struct http_path path;
	int rc = http_path_normalise(&req->path, &path);
	HTTP_CHECK(rc == 0 || rc == -400 || rc == -404 || rc == -414, "path rc %d", rc);
	if (rc == 0) {
		size_t n = strlen(path.rel);
		HTTP_CHECK(n < HTTP_PATH_MAX);
		HTTP_CHECK(path.rel[0] != '/' && !strchr(path.rel, '\\'));
		HTTP_CHECK(strcmp(path.rel, "..") != 0 && strncmp(path.rel, "../", 3) != 0);
		HTTP_CHECK(!strstr(path.rel, "/../") && !strstr(path.rel, "//"));
		HTTP_CHECK(!(n >= 3 && strcmp(path.rel + n - 3, "/..") == 0));
		for (size_t i = 0; i < n; i++)
			HTTP_CHECK((unsigned char)path.rel[i] >= 0x20 && path.rel[i] != 0x7f);
	}
	struct http_entity e;
	struct http_plan plan;
	http_entity_init(&e, HTTP_CHECK_RAND(), HTTP_CHECK_RAND() % 5000, (int64_t)HTTP_CHECK_RAND() * 1000000000);
	http_plan_response(req, &e, &plan);
	HTTP_CHECK(plan.status == 200 || plan.status == 206 || plan.status == 304 ||
	          plan.status == 412 || plan.status == 416);
	HTTP_CHECK(plan.offset + plan.length <= e.size);
	char head_buf[1024], line[LOG_LINE_MAX];
	struct http_reply r = { .status = plan.status, .version = req->version, .now = 0,
	                        .entity = &e, .content_type = "text/plain",
	                        .offset = plan.offset, .length = plan.length };
	HTTP_CHECK(http_format_head(head_buf, sizeof(head_buf), &r) > 0);
	struct log_entry le = { .request_line = req->request_line, .status = plan.status };
	unsigned from = 0;
	const struct http_span *ua = http_field_find(req, "user-agent", &from);
	if (ua)
		le.user_agent = *ua;
	size_t n = log_line_format(line, &le);
	HTTP_CHECK(n > 0 && n < LOG_LINE_MAX && line[n - 1] == '\n' && memchr(line, '\n', n) == line + n - 1);
}

#endif
