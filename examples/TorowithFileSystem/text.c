/*
 * text.c: the appends of text.h.
 */
#include <string.h>

#include "text.h"

void text_bytes(struct text *t, const char *s, size_t n)
{
	if (t->full || n > t->cap - t->len) {
		t->full = true;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

void text_str(struct text *t, const char *s)
{
	text_bytes(t, s, strlen(s));
}

void text_char(struct text *t, char c)
{
	text_bytes(t, &c, 1);
}

/* The digits of v in base (10 or 16), at least width of them. */
static void put_number(struct text *t, uint64_t v, unsigned base, unsigned width)
{
	static const char digit[] = "0123456789abcdef";
	char tmp[20];
	unsigned n = 0;
	do {
		tmp[sizeof(tmp) - ++n] = digit[v % base];
		v /= base;
	} while (v);
	while (n < width && n < sizeof(tmp))
		tmp[sizeof(tmp) - ++n] = '0';
	text_bytes(t, tmp + sizeof(tmp) - n, n);
}

void text_uint(struct text *t, uint64_t v) { put_number(t, v, 10, 1); }
void text_uint_width(struct text *t, uint64_t v, unsigned width) { put_number(t, v, 10, width); }
void text_hex(struct text *t, uint64_t v) { put_number(t, v, 16, 1); }

long text_end(struct text *t)
{
	if (t->full || t->len == t->cap) {
		t->full = true;
		if (t->cap)
			t->buf[t->len < t->cap ? t->len : t->cap - 1] = '\0';
		return -1;
	}
	t->buf[t->len] = '\0';
	return (long)t->len;
}
