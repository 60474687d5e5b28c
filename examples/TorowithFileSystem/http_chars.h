/*
 * http_chars.h: the character classes of HTTP's grammar (RFC 9110 §5.6,
 * RFC 9112 §2-5), for the parser and its neighbours. No <ctype.h>: its
 * answers depend on the locale, and the bare build has none.
 */
#ifndef HTTP_CHARS_H
#define HTTP_CHARS_H

#include <stdbool.h>
#include <stddef.h>

static inline bool http_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline bool http_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* tchar (RFC 9110 §5.6.2): the letters of a token (method, field name). */
static inline bool http_is_tchar(unsigned char c)
{
	if (http_is_alpha(c) || http_is_digit(c))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
	case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	}
	return false;
}

/* OWS: optional white space, SP or HTAB. */
static inline bool http_is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* field-vchar / obs-text, SP and HTAB: what a field value may hold
 * (RFC 9110 §5.5). NUL, CR, LF and the other controls may not. */
static inline bool http_is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline unsigned char http_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* The value of a hex digit, or -1. */
static inline int http_hex_value(unsigned char c)
{
	if (http_is_digit(c))
		return c - '0';
	c = http_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Case-insensitive comparison of p[0..len) with the lower-case word. */
static inline bool http_eq_nocase(const char *p, size_t len, const char *word)
{
	size_t i = 0;
	for (; i < len; i++)
		if (word[i] == '\0' || http_lower((unsigned char)p[i]) != (unsigned char)word[i])
			return false;
	return word[i] == '\0';
}

#endif
