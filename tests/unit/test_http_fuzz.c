/*
 * test_http_fuzz.c: request bytes, mutated at random from a corpus of
 * normal and hostile heads, through the web service's request path in
 * process: the parser (fed whole, and again in random pieces as a network
 * would deliver them), the path normaliser, the preconditions and ranges,
 * the response head and the log line. Nothing may crash or read outside
 * its buffer (run it under ASan: make SAN=1 unit-build); the answers must
 * hold their invariants: whole and piecewise parsing agree, a head is
 * never longer than the bytes, a name never leaves the root.
 * HTTP_FUZZ_ROUNDS / HTTP_FUZZ_SEED make longer runs by hand.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "http_cond.h"
#include "http_parse.h"
#include "http_path.h"
#include "http_response.h"
#include "log_line.h"

static const char *const corpus[] = {
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\n"
	"If-None-Match: \"a\", W/\"b\"\r\nRange: bytes=0-99\r\n\r\n",
	"HEAD /docs/ HTTP/1.0\r\nConnection: keep-alive\r\nIf-Modified-Since: "
	"Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
	"GET http://h/a/%2e%2e/%c0%ae HTTP/1.1\r\nHost: h\r\nRange: bytes=-5,1-2\r\n\r\n",
	"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
	"GET /a%00b/..%5c HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n",
	"\r\n\nGET /%e2%82%ac HTTP/1.1\nHost: a\nIf-Range: \"x\"\nRange: bytes=5-\n\n",
	"GET / HTTP/1.1\r\nHost: a\r\nIf-Match: *\r\nIf-Unmodified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n\r\n",
};

static const char *const inserts[] = {
	"\r\n", "\n", "\r", " ", "\t", ":", "%", "%2e", "%2f", "%00", "%c0%ae", "/..", "\\",
	"\"", ",", "=", "-", "bytes=", "HTTP/1.", "Content-Length: 7\r\n",
	"Transfer-Encoding: chunked\r\n", "Host: b\r\n", "\x00", "\xff", "W/",
};

static unsigned long long rng;

static unsigned next_rand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(rng >> 33);
}

/* A mutation of a corpus entry into buf; its length. */
static size_t mutate(char *buf, size_t cap)
{
	const char *src = corpus[next_rand() % (sizeof(corpus) / sizeof(corpus[0]))];
	size_t len = strlen(src);
	memcpy(buf, src, len);
	for (unsigned k = next_rand() % 6; k > 0; k--) {
		size_t at = len ? next_rand() % (len + 1) : 0;
		switch (next_rand() % 5) {
		case 0:         /* flip a byte */
			if (len)
				buf[next_rand() % len] = (char)next_rand();
			break;
		case 1:         /* drop a run */
			if (at < len) {
				size_t n = 1 + next_rand() % 8;
				if (n > len - at)
					n = len - at;
				memmove(buf + at, buf + at + n, len - at - n);
				len -= n;
			}
			break;
		case 2: {       /* insert a token */
			const char *t = inserts[next_rand() % (sizeof(inserts) / sizeof(inserts[0]))];
			size_t n = strlen(t) ? strlen(t) : 1;     /* "\x00" is one NUL */
			if (len + n <= cap) {
				memmove(buf + at + n, buf + at, len - at);
				memcpy(buf + at, t, n);
				len += n;
			}
			break;
		}
		case 3: {       /* repeat a run, to reach the limits */
			size_t n = 1 + next_rand() % 64, times = 1 + next_rand() % 200;
			if (at + n <= len)
				for (size_t i = 0; i < times && len + n <= cap; i++) {
					memmove(buf + at + n, buf + at, len - at);
					len += n;
				}
			break;
		}
		default:        /* cut the end */
			len = at;
		}
	}
	return len;
}

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
	cr_assert(inside(&req->path, buf, (size_t)head));
	cr_assert(inside(&req->request_line, buf, (size_t)head));
	cr_assert(req->version == 10 || req->version == 11);
	for (unsigned i = 0; i < req->nfields; i++) {
		cr_assert(inside(&req->fields[i].name, buf, (size_t)head));
		cr_assert(inside(&req->fields[i].value, buf, (size_t)head));
	}
	struct http_path path;
	int rc = http_path_normalise(&req->path, &path);
	cr_assert(rc == 0 || rc == -400 || rc == -404 || rc == -414, "path rc %d", rc);
	if (rc == 0) {
		size_t n = strlen(path.rel);
		cr_assert(n < HTTP_PATH_MAX);
		cr_assert(path.rel[0] != '/' && !strchr(path.rel, '\\'));
		cr_assert(strcmp(path.rel, "..") != 0 && strncmp(path.rel, "../", 3) != 0);
		cr_assert(!strstr(path.rel, "/../") && !strstr(path.rel, "//"));
		cr_assert(!(n >= 3 && strcmp(path.rel + n - 3, "/..") == 0));
		for (size_t i = 0; i < n; i++)
			cr_assert((unsigned char)path.rel[i] >= 0x20 && path.rel[i] != 0x7f);
	}
	struct http_entity e;
	struct http_plan plan;
	http_entity_init(&e, next_rand(), next_rand() % 5000, (int64_t)next_rand() * 1000000000);
	http_plan_response(req, &e, &plan);
	cr_assert(plan.status == 200 || plan.status == 206 || plan.status == 304 ||
	          plan.status == 412 || plan.status == 416);
	cr_assert(plan.offset + plan.length <= e.size);
	char head_buf[1024], line[LOG_LINE_MAX];
	struct http_reply r = { .status = plan.status, .version = req->version, .now = 0,
	                        .entity = &e, .content_type = "text/plain",
	                        .offset = plan.offset, .length = plan.length };
	cr_assert_gt(http_format_head(head_buf, sizeof(head_buf), &r), 0);
	struct log_entry le = { .request_line = req->request_line, .status = plan.status };
	unsigned from = 0;
	const struct http_span *ua = http_field_find(req, "user-agent", &from);
	if (ua)
		le.user_agent = *ua;
	size_t n = log_line_format(line, &le);
	cr_assert(n > 0 && n < LOG_LINE_MAX && line[n - 1] == '\n' && memchr(line, '\n', n) == line + n - 1);
}

Test(http_fuzz, parser_path_cond_response)
{
	int rounds = getenv("HTTP_FUZZ_ROUNDS") ? atoi(getenv("HTTP_FUZZ_ROUNDS")) : 20000;
	rng = getenv("HTTP_FUZZ_SEED") ? strtoull(getenv("HTTP_FUZZ_SEED"), NULL, 10) : 42;
	static char buf[64 * 1024];
	static struct http_request whole, piece;
	unsigned done = 0, errors = 0;
	for (int round = 0; round < rounds; round++) {
		size_t len = mutate(buf, sizeof(buf));
		/* Each run gets exactly its bytes, so ASan sees any read past them. */
		char *copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		struct http_parser p;
		http_parser_init(&p, &http_default_limits);
		long a = http_parse(&p, copy, len, &whole);
		/* The same bytes in random pieces, each call seeing the prefix so far. */
		http_parser_init(&p, &http_default_limits);
		long b = 0;
		size_t have = 0;
		while (b == 0 && have < len) {
			have += 1 + next_rand() % 64;
			if (have > len)
				have = len;
			b = http_parse(&p, copy, have, &piece);
		}
		cr_assert_eq(a, b, "round %d: whole %ld, in pieces %ld", round, a, b);
		cr_assert(a <= (long)len);
		cr_assert(a >= 0 || a == -400 || a == -413 || a == -414 || a == -431 || a == -501 ||
		          a == -505, "round %d: %ld", round, a);
		if (a > 0) {
			check_request(copy, len, a, &whole);
			done++;
		} else if (a < 0) {
			errors++;
		}
		free(copy);
	}
	cr_log_info("%d rounds: %u heads, %u refused", rounds, done, errors);
	cr_assert_gt(done, (unsigned)rounds / 20, "the mutations still make some valid heads");
	cr_assert_gt(errors, (unsigned)rounds / 20, "and many refused ones");
}
