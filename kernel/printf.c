/*
 * printf.c: the kernel's formatter (kvsnprintf) and console printing.
 *
 * Conversions: d i u x X o c s p %, flags - 0 space + #, width and precision
 * (digits or *), length hh h l ll z t j. Output is C's for these cases; the
 * unit tests compare it with the host libc.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "hal.h"

struct out {
	char *buf;
	size_t size;
	size_t len;     /* characters produced so far, written or not */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left, zero, space, plus, alt;
	int width;
	int prec;       /* -1: none */
	int length;     /* 'H' hh, 'h', 'l', 'L' ll, 'z', 't', 'j', 0 */
};

static void put_padded(struct out *o, const struct spec *s, const char *prefix,
                       const char *body, int body_len, int zeros)
{
	int prefix_len = (int)strlen(prefix);
	int pad = s->width - prefix_len - zeros - body_len;

	if (!s->left)
		put_repeat(o, ' ', pad);
	while (*prefix)
		put(o, *prefix++);
	put_repeat(o, '0', zeros);
	for (int i = 0; i < body_len; i++)
		put(o, body[i]);
	if (s->left)
		put_repeat(o, ' ', pad);
}

static void put_integer(struct out *o, const struct spec *s, uint64_t value,
                        bool negative, unsigned base, bool upper, bool is_signed)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	char prefix[4] = "";

	/* Digits, least significant first; precision 0 and value 0 print none. */
	if (value != 0 || s->prec != 0) {
		do {
			tmp[n++] = digits[value % base];
			value /= base;
		} while (value);
	}
	char body[24];
	for (int i = 0; i < n; i++)
		body[i] = tmp[n - 1 - i];

	if (is_signed) {
		if (negative)
			strcpy(prefix, "-");
		else if (s->plus)
			strcpy(prefix, "+");
		else if (s->space)
			strcpy(prefix, " ");
	}
	int zeros = 0;
	if (s->alt && base == 16 && n > 0 && !(n == 1 && body[0] == '0'))
		strcpy(prefix, upper ? "0X" : "0x");
	if (s->alt && base == 8 && (n == 0 || body[0] != '0'))
		zeros = 1;

	if (s->prec >= 0) {
		if (s->prec > n)
			zeros = s->prec - n;
	} else if (s->zero && !s->left) {
		int room = s->width - (int)strlen(prefix) - n;
		if (room > zeros)
			zeros = room;
	}
	put_padded(o, s, prefix, body, n, zeros);
}

static uint64_t fetch_unsigned(const struct spec *s, va_list *ap)
{
	switch (s->length) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned int);
	case 'h': return (unsigned short)va_arg(*ap, unsigned int);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	case 't': return (uint64_t)va_arg(*ap, ptrdiff_t);
	case 'j': return va_arg(*ap, uintmax_t);
	default:  return va_arg(*ap, unsigned int);
	}
}

static int64_t fetch_signed(const struct spec *s, va_list *ap)
{
	switch (s->length) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z': return (int64_t)va_arg(*ap, size_t);
	case 't': return va_arg(*ap, ptrdiff_t);
	case 'j': return va_arg(*ap, intmax_t);
	default:  return va_arg(*ap, int);
	}
}

static const char *parse_spec(const char *f, struct spec *s, va_list *ap)
{
	*s = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-') s->left = true;
		else if (*f == '0') s->zero = true;
		else if (*f == ' ') s->space = true;
		else if (*f == '+') s->plus = true;
		else if (*f == '#') s->alt = true;
		else break;
	}
	if (*f == '*') {
		s->width = va_arg(*ap, int);
		if (s->width < 0) {
			s->left = true;
			s->width = -s->width;
		}
		f++;
	} else {
		while (*f >= '0' && *f <= '9')
			s->width = s->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		s->prec = 0;
		if (*f == '*') {
			s->prec = va_arg(*ap, int);
			if (s->prec < 0)
				s->prec = -1;
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				s->prec = s->prec * 10 + (*f++ - '0');
		}
	}
	if (f[0] == 'h' && f[1] == 'h') { s->length = 'H'; f += 2; }
	else if (f[0] == 'l' && f[1] == 'l') { s->length = 'L'; f += 2; }
	else if (*f == 'h' || *f == 'l' || *f == 'z' || *f == 't' || *f == 'j')
		s->length = *f++;
	return f;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = { buf, size, 0 };
	struct spec s;
	va_list ap;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &s, &ap);
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = fetch_signed(&s, &ap);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			put_integer(&o, &s, mag, v < 0, 10, false, true);
			break;
		}
		case 'u': put_integer(&o, &s, fetch_unsigned(&s, &ap), false, 10, false, false); break;
		case 'x': put_integer(&o, &s, fetch_unsigned(&s, &ap), false, 16, false, false); break;
		case 'X': put_integer(&o, &s, fetch_unsigned(&s, &ap), false, 16, true, false); break;
		case 'o': put_integer(&o, &s, fetch_unsigned(&s, &ap), false, 8, false, false); break;
		case 'p': {
			void *p = va_arg(ap, void *);
			if (!p) {
				put_padded(&o, &s, "", "(nil)", 5, 0);
				break;
			}
			s.alt = true;
			s.length = 'l';
			put_integer(&o, &s, (uintptr_t)p, false, 16, false, false);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_padded(&o, &s, "", &c, 1, 0);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int n = s.prec >= 0 ? (int)strnlen(str, (size_t)s.prec) : (int)strlen(str);
			put_padded(&o, &s, "", str, n, 0);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			f--;    /* a lone '%' at the end: print nothing more */
			break;
		default:    /* unknown conversion: print it as written */
			put(&o, '%');
			put(&o, *f);
			break;
		}
	}
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* A line longer than this is cut; the console is for people, not bulk data. */
#define CONSOLE_LINE_MAX 1024

int kvprintf(const char *fmt, va_list ap)
{
	char line[CONSOLE_LINE_MAX];
	int n = kvsnprintf(line, sizeof(line), fmt, ap);
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	hal_console_write(line, len);
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}
