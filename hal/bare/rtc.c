/*
 * rtc.c: hal_realtime_ns from the CMOS real-time clock (ports 0x70/0x71),
 * read once, when first asked, and carried forward with hal_clock_ns.
 *
 * The RTC counts seconds in BCD or binary, 12- or 24-hour (status register
 * B says which); it is read until two passes outside an update agree.
 * A machine may have none (QEMU's microvm under KVM): the ports then read
 * 0xff, "update in progress" for ever. An update holds that bit for under
 * 2 ms, so after 10 ms the clock counts as missing and the wall clock
 * starts at 1970 (said once on the console).
 */
#include "bare.h"

#define CMOS_ADDR 0x70
#define CMOS_DATA 0x71

static int rtc_lock;                    /* leaf spin lock: the CMOS ports, and: */
static bool rtc_read_done;              /* under rtc_lock */
static int64_t rtc_epoch_ns;            /* wall clock at hal_clock_ns() == 0 */

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_ADDR, reg);               /* bit 7 clear: NMI stays enabled */
	return inb(CMOS_DATA);
}

struct rtc_time {
	uint8_t sec, min, hour, day, mon, year, century;
};

/* One pass outside an update; false if the update never ends. */
static bool read_once(struct rtc_time *t)
{
	uint64_t give_up = hal_clock_ns() + 10000000;
	while (cmos(0x0a) & 0x80) {         /* update in progress */
		if (hal_clock_ns() > give_up)
			return false;
		cpu_relax();
	}
	t->sec = cmos(0x00);
	t->min = cmos(0x02);
	t->hour = cmos(0x04);
	t->day = cmos(0x07);
	t->mon = cmos(0x08);
	t->year = cmos(0x09);
	t->century = cmos(0x32);
	return true;
}

static unsigned bcd(uint8_t v) { return (v & 0xf) + 10 * (v >> 4); }

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Seconds since 1970 by the RTC; -1 if there is none. */
static int64_t read_rtc_seconds(void)
{
	struct rtc_time a, b;
	if (!read_once(&a))
		return -1;
	for (int tries = 0; tries < 5; tries++) {
		if (!read_once(&b))
			return -1;
		if (a.sec == b.sec && a.min == b.min && a.hour == b.hour &&
		    a.day == b.day && a.mon == b.mon && a.year == b.year)
			break;
		a = b;
	}
	uint8_t regb = cmos(0x0b);
	bool pm = b.hour & 0x80;
	unsigned sec = b.sec, min = b.min, hour = b.hour & 0x7f, day = b.day,
	         mon = b.mon, year = b.year, century = b.century;
	if (!(regb & 0x04)) {               /* BCD */
		sec = bcd(b.sec);
		min = bcd(b.min);
		hour = bcd(b.hour & 0x7f);
		day = bcd(b.day);
		mon = bcd(b.mon);
		year = bcd(b.year);
		century = bcd(b.century);
	}
	if (!(regb & 0x02)) {               /* 12-hour clock */
		hour %= 12;
		if (pm)
			hour += 12;
	}
	unsigned full_year = century >= 19 && century <= 30 ? century * 100 + year
	                                                    : 2000 + year;
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	return days_from_civil(full_year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}

int64_t hal_realtime_ns(void)
{
	unsigned long irq = hal_irq_save();
	while (__atomic_exchange_n(&rtc_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	if (!rtc_read_done) {
		int64_t s = read_rtc_seconds();
		if (s < 0) {
			bare_printf("rtc: no CMOS clock; the wall clock starts at 1970\n");
			s = 0;
		}
		rtc_epoch_ns = s * 1000000000 - (int64_t)hal_clock_ns();
		rtc_read_done = true;
	}
	int64_t base = rtc_epoch_ns;
	__atomic_store_n(&rtc_lock, 0, __ATOMIC_RELEASE);
	hal_irq_restore(irq);
	return base + (int64_t)hal_clock_ns();
}
