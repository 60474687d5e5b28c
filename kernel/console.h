/*
 * console.h: formatted output to the platform console, and panic.
 *
 * Formats: %d %i %u %x %X %o %c %s %p %% with flags '-', '0', ' ', '+', '#',
 * a width and a precision (also '*'), and length modifiers hh h l ll z t j.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* kvsnprintf/ksnprintf: like C's vsnprintf: the full length is returned. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* kprintf: format into a line buffer and write it to the console at once. */
int kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int kvprintf(const char *fmt, va_list ap);

/* panic: print the reason and the CPU state, then stop with status 70. */
void panic(const char *fmt, ...) PRINTF_LIKE(1, 2) __attribute__((noreturn));

#define PANIC_STATUS 70

#endif
