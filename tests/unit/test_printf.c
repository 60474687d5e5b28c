/*
 * test_printf.c: kvsnprintf against the host C library, case by case.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "console.h"

/* Some cases check flags C says to ignore (0 with - or a precision). */
#pragma GCC diagnostic ignored "-Wformat"

#define SAME(...) do {                                                        \
		char ours[256], theirs[256];                                  \
		int n1 = ksnprintf(ours, sizeof(ours), __VA_ARGS__);          \
		int n2 = snprintf(theirs, sizeof(theirs), __VA_ARGS__);       \
		cr_assert_str_eq(ours, theirs, "format %s", #__VA_ARGS__);    \
		cr_assert_eq(n1, n2, "length for %s", #__VA_ARGS__);          \
	} while (0)

Test(printf, integers)
{
	SAME("%d %i %u", 0, -1, 42u);
	SAME("%d", INT32_MIN);
	SAME("%ld", (long)INT64_MIN);
	SAME("%lld %llu", (long long)INT64_MAX, (unsigned long long)UINT64_MAX);
	SAME("%hhd %hhu %hd %hu", (signed char)-5, (unsigned char)250, (short)-300, (unsigned short)65000);
	SAME("%zu %zd %td %jd", (size_t)123456, (ssize_t)-7, (ptrdiff_t)-8, (intmax_t)9);
	SAME("%x %X %o %#x %#X %#o", 0xbeefu, 0xbeefu, 8u, 255u, 255u, 8u);
	SAME("%#x %#o", 0u, 0u);
}

Test(printf, width_precision_flags)
{
	SAME("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
	SAME("[%05d] [%-05d] [%+05d]", -42, -42, 42);
	SAME("[%.3d] [%8.3d] [%-8.3d] [%08.3d]", 7, 7, 7, 7);
	SAME("[%.0d] [%.0x] [%5.0d]", 0, 0u, 0);
	SAME("[%*d] [%-*d] [%.*d]", 6, 1, 6, 1, 4, 1);
	SAME("[%*d]", -6, 1);
	SAME("[%#08x] [%#-8x] [%#.5o]", 0x2au, 0x2au, 8u);
}

Test(printf, strings_chars_pointers)
{
	SAME("[%s] [%10s] [%-10s] [%.2s] [%10.2s]", "abc", "abc", "abc", "abc", "abc");
	SAME("[%c] [%3c] [%-3c]", 'x', 'y', 'z');
	SAME("%p", (void *)0x1234abcd);
	SAME("[%20p]", (void *)0xdeadbeef);
	SAME("%p", (void *)NULL);
	SAME("100%% sure");
	SAME("[%.*s]", 3, "abcdef");
}

Test(printf, truncation)
{
	char buf[8];
	int n = ksnprintf(buf, sizeof(buf), "%s", "0123456789");
	cr_assert_eq(n, 10);
	cr_assert_str_eq(buf, "0123456");
	n = ksnprintf(NULL, 0, "%d", 12345);
	cr_assert_eq(n, 5);
	n = ksnprintf(buf, 1, "abc");
	cr_assert_eq(n, 3);
	cr_assert_str_eq(buf, "");
}
