/*
 * fuzz_http.c: a libFuzzer target for the web service's request path, in
 * process and without a kernel: each input is a request head, parsed whole
 * and again in pieces (their sizes taken from the input's own bytes, as a
 * network would cut it), and every head accepted must hold the invariants
 * of http_invariants.h, shared with the Criterion loop test_http_fuzz.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned fuzz_rand_state;

/* The made-up entity's numbers: from the input, so a crash reproduces. */
static unsigned fuzz_rand(void)
{
	fuzz_rand_state = fuzz_rand_state * 1103515245u + 12345u;
	return fuzz_rand_state >> 8;
}

#define HTTP_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_http: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)
#define HTTP_CHECK_RAND() fuzz_rand()
#include "http_invariants.h"

static const long allowed_errors[] = { -400, -413, -414, -431, -501, -505 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct http_request whole, piece;
	const char *buf = (const char *)data;
	fuzz_rand_state = len;
	for (size_t i = 0; i < len && i < 16; i++)
		fuzz_rand_state = fuzz_rand_state * 31 + data[i];

	struct http_parser p;
	http_parser_init(&p, &http_default_limits);
	long a = http_parse(&p, buf, len, &whole);
	/* The same bytes in pieces, each call seeing the prefix so far. */
	http_parser_init(&p, &http_default_limits);
	long b = 0;
	size_t have = 0;
	while (b == 0 && have < len) {
		have += 1 + fuzz_rand() % 64;
		if (have > len)
			have = len;
		b = http_parse(&p, buf, have, &piece);
	}
	HTTP_CHECK(a == b);
	HTTP_CHECK(a <= (long)len);
	if (a < 0) {
		bool known = false;
		for (size_t i = 0; i < sizeof(allowed_errors) / sizeof(allowed_errors[0]); i++)
			known |= a == allowed_errors[i];
		HTTP_CHECK(known);
	} else if (a > 0) {
		check_request(buf, len, a, &whole);
	}
	return 0;
}
