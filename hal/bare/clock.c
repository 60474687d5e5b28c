/*
 * clock.c: hal_clock_ns from the TSC, counted from the first instruction
 * of the image (entry.S saved that TSC), and the rates of the TSC and the
 * local APIC timer.
 *
 * Both rates are measured once, on CPU 0, against PIT channel 2 (1.193182
 * MHz) over at least CALIBRATE_PIT_TICKS ticks (~0.5 ms, a rate within
 * about 0.2 %). The window spans the rest of the HAL's boot
 * (clock_calibrate_begin ... _end) so that little of it is spent waiting.
 * QEMU (TCG and KVM) keeps the TSCs of all CPUs in step, so one rate and
 * one origin serve them all.
 */
#include "bare.h"

#define PIT_HZ               1193182u
#define CALIBRATE_PIT_TICKS  600u       /* ~0.5 ms */
#define PIT_GIVE_UP_TSC      (1ull << 31)   /* ~1 s at 2 GHz: no PIT */

uint64_t bare_tsc_hz;
uint64_t bare_apic_timer_hz;
static uint64_t ns_per_tick_32;         /* ns per TSC tick, 32.32 fixed point */

static uint16_t pit2_read(void)
{
	outb(0x43, 0x80);                   /* latch channel 2 */
	uint8_t lo = inb(0x42);
	uint8_t hi = inb(0x42);
	return (uint16_t)(lo | hi << 8);
}

/* A PIT count, with the TSC at the middle of reading it (port reads are
 * slow, in TCG above all) and the APIC timer's count right after. Both ends
 * of the window use this one function so they take the same path. */
static uint16_t sample(uint64_t *tsc, uint32_t *apic)
{
	uint64_t before = rdtsc();
	uint16_t count = pit2_read();
	*tsc = before + (rdtsc() - before) / 2;
	*apic = lapic_timer_current();
	return count;
}

static void set_rates(uint64_t tsc_hz, uint64_t apic_hz)
{
	bare_tsc_hz = tsc_hz;
	bare_apic_timer_hz = apic_hz;
	ns_per_tick_32 = ((uint64_t)1000000000 << 32) / tsc_hz;
	lapic_timer_set_rate(apic_hz);
}

/* No PIT (or one that does not count): take the TSC rate from CPUID leaf
 * 0x15 or 0x16 when the CPU gives one, else guess, and say so. The APIC
 * timer is then taken as QEMU's 1 GHz bus clock / 16. */
static void calibrate_without_pit(void)
{
	uint32_t r[4];
	uint64_t tsc_hz = 0;
	cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	if (max_leaf >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2])
			tsc_hz = (uint64_t)r[2] * r[1] / r[0];
	}
	if (!tsc_hz && max_leaf >= 0x16) {
		cpuid(0x16, 0, r);
		tsc_hz = (uint64_t)(r[0] & 0xffff) * 1000000;
	}
	if (!tsc_hz)
		tsc_hz = 2000000000;
	lapic_timer_oneshot(0);
	set_rates(tsc_hz, 62500000);
	bare_printf("clock: PIT not counting; TSC taken as %lu Hz\n", (unsigned long)tsc_hz);
}

static uint16_t cal_pit0;
static uint64_t cal_tsc0;
static uint32_t cal_apic0;

void clock_calibrate_begin(void)
{
	/* Channel 2: gate on, speaker off; mode 0 counting down from 0xffff. */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	lapic_timer_oneshot(0xffffffff);    /* masked: only counts */
	cal_pit0 = sample(&cal_tsc0, &cal_apic0);
}

void clock_calibrate_end(void)
{
	uint64_t tsc1;
	uint32_t apic1;
	uint16_t now;
	do {
		now = sample(&tsc1, &apic1);
		if (tsc1 - cal_tsc0 > PIT_GIVE_UP_TSC) {
			calibrate_without_pit();
			return;
		}
	} while ((uint16_t)(cal_pit0 - now) < CALIBRATE_PIT_TICKS);
	lapic_timer_oneshot(0);

	uint64_t ticks = (uint16_t)(cal_pit0 - now);
	set_rates((tsc1 - cal_tsc0) * PIT_HZ / ticks,
	          (uint64_t)(cal_apic0 - apic1) * PIT_HZ / ticks);
}


uint64_t hal_clock_ns(void)
{
	uint64_t d = rdtsc() - bare_boot_tsc;
	return (uint64_t)(((unsigned __int128)d * ns_per_tick_32) >> 32);
}

void bare_udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * bare_tsc_hz / 1000000;
	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}
