/*
 * text.h: appending to a fixed buffer without a format string. Response
 * heads, dates and log lines are built for every request; a format
 * interpreter (ksnprintf) cost about a tenth of a keep-alive request's
 * CPU, these plain appends a small part of that.
 *
 * A text that runs out of room stops growing and remembers it (full);
 * its bytes are then a prefix of what was asked, never NUL-terminated
 * past cap.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct text {
	char *buf;
	size_t cap, len;
	bool full;
};

static inline struct text text_on(char *buf, size_t cap)
{
	return (struct text){ buf, cap, 0, false };
}

/* text_bytes/text_str/text_char: n bytes, a C string, one character. */
void text_bytes(struct text *t, const char *s, size_t n);
void text_str(struct text *t, const char *s);
void text_char(struct text *t, char c);
/* text_uint: v in decimal; text_uint_width: at least width digits, zeros
 * in front; text_hex: v in lower-case hexadecimal. */
void text_uint(struct text *t, uint64_t v);
void text_uint_width(struct text *t, uint64_t v, unsigned width);
void text_hex(struct text *t, uint64_t v);
/* text_end: NUL-terminates (room for it counts) and returns the length,
 * or -1 when the text did not fit. */
long text_end(struct text *t);

#endif
