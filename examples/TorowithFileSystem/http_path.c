/*
 * http_path.c: percent-decoding and segment checks for http_path.h
 * (RFC 3986 §2.1 and §3.3 for the syntax, RFC 3629 §4 for UTF-8).
 */
#include <string.h>

#include "http_chars.h"
#include "http_path.h"

/* First segments that exist under the root but are not served. */
static const char *const private_names[] = { "logs" };

/* The length of the valid UTF-8 sequence at s[0..n), 0 if it is not one
 * (RFC 3629 §4: no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;     /* the second byte's range */
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;       /* a continuation byte, C0/C1 (overlong), F5-FF */
	if (c == 0xe0)
		lo = 0xa0;      /* overlong three-byte forms */
	else if (c == 0xed)
		hi = 0x9f;      /* surrogates */
	else if (c == 0xf0)
		lo = 0x90;      /* overlong four-byte forms */
	else if (c == 0xf4)
		hi = 0x8f;      /* past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	while (n > 0) {
		size_t k = utf8_sequence(s, n);
		if (k == 0)
			return false;
		s += k;
		n -= k;
	}
	return true;
}

/* One decoded segment seg[0..n) onto out->rel at *used. */
static int add_segment(struct http_path *out, size_t *used, const char *seg, size_t n)
{
	if (n == 0 || (n == 1 && seg[0] == '.'))
		return 0;               /* "//" and "/./" name the same directory */
	if (n == 2 && seg[0] == '.' && seg[1] == '.')
		return -400;            /* ".." is refused, never resolved */
	if (!utf8_valid((const unsigned char *)seg, n))
		return -400;
	if (*used == 0)
		for (size_t i = 0; i < sizeof(private_names) / sizeof(private_names[0]); i++)
			if (strlen(private_names[i]) == n && memcmp(seg, private_names[i], n) == 0)
				return -404;
	size_t need = (*used ? 1 : 0) + n;
	if (*used + need >= HTTP_PATH_MAX)
		return -414;
	if (*used)
		out->rel[(*used)++] = '/';
	memcpy(out->rel + *used, seg, n);
	*used += n;
	out->rel[*used] = '\0';
	return 0;
}

int http_path_normalise(const struct http_span *target, struct http_path *out)
{
	const char *s = target->p;
	size_t n = target->len;
	const char *q = memchr(s, '?', n);
	if (q)
		n = (size_t)(q - s);
	if (n == 0 || s[0] != '/')
		return -400;
	out->rel[0] = '\0';
	out->trailing_slash = s[n - 1] == '/';
	char seg[HTTP_PATH_MAX];
	size_t seg_len = 0, used = 0;
	for (size_t i = 1; i <= n; i++) {
		if (i == n || s[i] == '/') {
			int rc = add_segment(out, &used, seg, seg_len);
			if (rc < 0)
				return rc;
			seg_len = 0;
			continue;
		}
		unsigned char c = (unsigned char)s[i];
		if (c == '#')
			return -400;        /* a fragment is never sent (RFC 9112 §3.2) */
		if (c == '%') {
			int hi = i + 2 < n ? http_hex_value((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? http_hex_value((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -400;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
			if (c == '/')
				return -400;    /* a '/' inside a name: no file has one */
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -400;        /* NUL and controls; '\' is a separator elsewhere */
		if (seg_len + 1 >= sizeof(seg))
			return -414;
		seg[seg_len++] = (char)c;
	}
	return 0;
}
