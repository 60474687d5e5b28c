/*
 * libc.c: the few C library string functions the bare kernel uses
 * (declared in hal/bare/include/string.h). Plain byte loops, except memcpy
 * and memset, which use the string instructions, and memchr, which looks
 * at 8 bytes a step.
 */
#include <stdint.h>
#include <string.h>

/* memcpy and memset move 8 bytes a step, then the tail: as fast as the
 * byte forms on hardware, and 8 times fewer steps for QEMU's TCG. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t q = n / 8, r = n % 8;
	__asm__ volatile("rep movsq\n\tmovq %3, %%rcx\n\trep movsb"
	                 : "+D"(d), "+S"(src), "+c"(q) : "r"(r) : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t q = n / 8, r = n % 8;
	uint64_t v = 0x0101010101010101ull * (unsigned char)c;
	__asm__ volatile("rep stosq\n\tmovq %3, %%rcx\n\trep stosb"
	                 : "+D"(d), "+c"(q) : "a"(v), "r"(r) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	for (size_t i = 0; i < n; i++)
		if (p[i] != q[i])
			return p[i] - q[i];
	return 0;
}

/* memchr: whole aligned words while none holds c (w ^ pattern has no zero
 * byte: the test below), then bytes; 8 times fewer steps for TCG on a long
 * search (acpi.c scans the DSDT with it). */
typedef uint64_t __attribute__((may_alias)) word_t;

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	unsigned char ch = (unsigned char)c;
	for (; n && ((uintptr_t)p & 7); p++, n--)
		if (*p == ch)
			return (void *)p;
	uint64_t pattern = 0x0101010101010101ull * ch;
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w = *(const word_t *)p ^ pattern;
		if ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)
			break;          /* a byte of this word is ch */
	}
	for (; n; p++, n--)
		if (*p == ch)
			return (void *)p;
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;
	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *strcpy(char *dst, const char *src)
{
	char *d = dst;
	while ((*d++ = *src++))
		;
	return dst;
}

/* strncpy: as C's: pads with NULs, and leaves dst unterminated when src is
 * n bytes or longer. */
char *strncpy(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = 0;
	return dst;
}

char *strcat(char *dst, const char *src)
{
	strcpy(dst + strlen(dst), src);
	return dst;
}
