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

/* The invariants every parsed head must hold (shared with make fuzz's
 * libFuzzer target, tests/fuzz/fuzz_http.c). */
#define HTTP_CHECK(cond, ...) cr_assert(cond, ##__VA_ARGS__)
#define HTTP_CHECK_RAND() next_rand()
#include "../fuzz/http_invariants.h"

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
