/*
 * serial.c: the console on COM1 (a 16550 UART at 0x3f8), and a small
 * printf for the HAL's own messages (exception reports, boot errors).
 *
 * One spin lock, taken with interrupts off, keeps each call's bytes
 * together. A CPU that faults while holding it (an exception inside
 * hal_console_write) takes it over instead of deadlocking.
 */
#include <stdarg.h>

#include "bare.h"

#define COM1 0x3f8

static int console_lock = -1;   /* owner CPU id, -1 when free */

void serial_init(void)
{
	outb(COM1 + 1, 0x00);       /* no UART interrupts */
	outb(COM1 + 3, 0x80);       /* DLAB: divisor follows */
	outb(COM1 + 0, 0x01);       /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);       /* 8N1 */
	outb(COM1 + 2, 0x07);       /* FIFO on, cleared */
	outb(COM1 + 4, 0x03);       /* DTR, RTS */
}

void serial_write_locked(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		while (!(inb(COM1 + 5) & 0x20))
			cpu_relax();
		outb(COM1, (uint8_t)buf[i]);
	}
}

static unsigned long console_acquire(bool *took)
{
	unsigned long irq = hal_irq_save();
	int me = (int)hal_cpu_id();
	int free = -1;

	*took = false;
	if (__atomic_load_n(&console_lock, __ATOMIC_RELAXED) == me)
		return irq;         /* re-entered from a fault: write anyway */
	while (!__atomic_compare_exchange_n(&console_lock, &free, me, false,
	                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		free = -1;
		cpu_relax();
	}
	*took = true;
	return irq;
}

static void console_release(unsigned long irq, bool took)
{
	if (took)
		__atomic_store_n(&console_lock, -1, __ATOMIC_RELEASE);
	hal_irq_restore(irq);
}

void hal_console_write(const char *buf, size_t len)
{
	bool took;
	unsigned long irq = console_acquire(&took);
	serial_write_locked(buf, len);
	console_release(irq, took);
}

/* ---- bare_printf: %s %c %d %u %x %p, 'l' and a zero-padded width ------ */

struct out {
	char buf[256];
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len == sizeof(o->buf)) {
		serial_write_locked(o->buf, o->len);
		o->len = 0;
	}
	o->buf[o->len++] = c;
}

static void put_num(struct out *o, uint64_t v, unsigned base, int width, char pad)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, tmp[--n]);
}

void bare_printf(const char *fmt, ...)
{
	struct out o = { .len = 0 };
	va_list ap;
	bool took;
	unsigned long irq = console_acquire(&took);

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0;
		bool is_long = false;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				put(&o, *s);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = is_long ? va_arg(ap, long) : va_arg(ap, int);
			if (v < 0) {
				put(&o, '-');
				v = -v;
			}
			put_num(&o, (uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
			put_num(&o, is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, width, pad);
			break;
		case 'x':
			put_num(&o, is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, width, pad);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, 16, '0');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, *fmt);
		}
	}
	va_end(ap);
	serial_write_locked(o.buf, o.len);
	console_release(irq, took);
}
