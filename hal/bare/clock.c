/*
 * clock.c: hal_clock_ns from the TSC, counted from the first instruction
 * of the image (entry.S saved that TSC), and the rates of the TSC and the
 * local APIC timer.
 *
 * The rates are found once, on CPU 0, in a window that opens during the
 * HAL's boot (clock_calibrate_begin) and closes when a rate is first
 * needed (clock_ready: the first hal_clock_ns, hal_cpu_idle or
 * hal_cpu_start, on CPU 0 since the others are parked), so the kernel's own
 * start-up runs while it is open. With a PIT, the TSC is measured against
 * PIT channel 2 (1.193182 MHz) over CALIBRATE_PIT_TICKS (~0.5 ms, within
 * ~0.2 %), or, when the platform states its rate (KVM's pvclock, the
 * hypervisor timing leaf, CPUID 0x15), over CHECK_PIT_TICKS (~100 us) that
 * only check the stated rate; the APIC timer's rate is its ticks over the
 * same TSC interval. A window longer than the PIT's 16 bits (55 ms) is
 * noticed (OUT2 went high) and measured again.
 *
 * No PIT (QEMU's microvm with pit=off, some hypervisors): noticed when the
 * PIT has not moved in PIT_SILENT_TSC TSC ticks (~2 ms at 2 GHz; a PIT
 * moves every 0.84 us). Then a stated rate is taken as it is (the APIC
 * timer's from KVM's timing leaf, or on hardware the crystal of CPUID
 * 0x15; the TSC's on hardware, last, from the base frequency of CPUID
 * 0x16), and the other clock is measured against it over the same window;
 * when neither rate is stated, the APIC timer is taken to run at QEMU's
 * 1 GHz bus clock (TCG and KVM both) and the TSC is measured against it.
 * This is what hal/bare takes for a platform: a local APIC, and a PIT or
 * QEMU.
 *
 * QEMU (TCG and KVM) keeps the TSCs of all CPUs in step, so one rate and
 * one origin serve them all.
 */
#include "bare.h"

#define PIT_HZ               1193182u
#define CALIBRATE_PIT_TICKS  600u       /* ~0.5 ms: measure */
#define CHECK_PIT_TICKS      120u       /* ~100 us: check a stated rate (+-12 %) */
#define PIT_SILENT_TSC       (1ull << 22)   /* ~2 ms at 2 GHz: no PIT */
#define QEMU_APIC_BUS_HZ     1000000000ull  /* TCG and KVM alike */
#define APIC_TIMER_DIVISOR   16             /* apic.c divides the bus by 16 */

#define MSR_KVM_SYSTEM_TIME      0x12
#define MSR_KVM_SYSTEM_TIME_NEW  0x4b564d01

uint64_t bare_tsc_hz;
uint64_t bare_apic_timer_hz;
int bare_clock_calibrated;              /* atomic: rates set */
static int finishing;                   /* atomic: a CPU is closing the window */
static uint64_t ns_per_tick_32;         /* ns per TSC tick, 32.32 fixed point */

static uint16_t cal_pit0;               /* the window's start */
static uint64_t cal_tsc0;
static uint32_t cal_apic0;

static void set_rates(uint64_t tsc_hz, uint64_t apic_hz)
{
	bare_tsc_hz = tsc_hz;
	bare_apic_timer_hz = apic_hz;
	ns_per_tick_32 = ((uint64_t)1000000000 << 32) / tsc_hz;
	lapic_timer_set_rate(apic_hz);
	__atomic_store_n(&bare_clock_calibrated, 1, __ATOMIC_RELEASE);
}

/* KVM's pvclock record (Linux's struct pvclock_vcpu_time_info). */
struct pvclock {
	uint32_t version;           /* odd while the host updates it */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul; /* ns = ((tsc << shift) * mul) >> 32 */
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((aligned(64)));

static struct pvclock pvclock;

static bool under_hypervisor(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	return r[2] & (1u << 31);
}

/* The hypervisor's highest CPUID leaf if it is KVM, else 0. */
static uint32_t kvm_max_leaf(void)
{
	uint32_t r[4];
	if (!under_hypervisor())
		return 0;
	cpuid(0x40000000, 0, r);
	if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x4d)  /* "KVMKVMKVM" */
		return 0;
	return r[0];
}

static uint64_t kvm_tsc_hz(void)
{
	uint32_t r[4];
	uint32_t max_leaf = kvm_max_leaf();
	if (!max_leaf)
		return 0;
	if (max_leaf >= 0x40000010) {       /* timing leaf: TSC kHz in eax */
		cpuid(0x40000010, 0, r);
		if (r[0])
			return (uint64_t)r[0] * 1000;
	}
	cpuid(0x40000001, 0, r);
	uint32_t msr = (r[0] & (1u << 3)) ? MSR_KVM_SYSTEM_TIME_NEW :
	               (r[0] & 1u) ? MSR_KVM_SYSTEM_TIME : 0;
	if (!msr)
		return 0;
	wrmsr(msr, (uintptr_t)&pvclock | 1);
	uint32_t version, mul;
	int8_t shift;
	do {
		version = __atomic_load_n(&pvclock.version, __ATOMIC_ACQUIRE);
		mul = pvclock.tsc_to_system_mul;
		shift = pvclock.tsc_shift;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((version & 1) || version != __atomic_load_n(&pvclock.version, __ATOMIC_RELAXED));
	wrmsr(msr, 0);
	if (!version || !mul)
		return 0;
	uint64_t hz = ((uint64_t)1000000000 << 32) / mul;
	return shift >= 0 ? hz >> shift : hz << -shift;
}

static uint32_t max_basic_leaf(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	return r[0];
}

/* The TSC rate the platform states, or 0. */
static uint64_t stated_tsc_hz(void)
{
	uint64_t hz = kvm_tsc_hz();
	if (hz)
		return hz;
	uint32_t r[4];
	if (max_basic_leaf() >= 0x15) {
		cpuid(0x15, 0, r);          /* TSC/crystal ratio, crystal Hz */
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] * r[1] / r[0];
	}
	return 0;
}

/* The APIC timer's rate the platform states, or 0: the bus (KVM's timing
 * leaf, in kHz) or, on hardware, the core crystal that drives the timer
 * (CPUID 0x15; a hypervisor's timer need not run at its host's crystal),
 * over apic.c's divisor. */
static uint64_t stated_apic_timer_hz(void)
{
	uint32_t r[4];
	if (kvm_max_leaf() >= 0x40000010) {
		cpuid(0x40000010, 0, r);
		if (r[1])
			return (uint64_t)r[1] * 1000 / APIC_TIMER_DIVISOR;
	}
	if (!under_hypervisor() && max_basic_leaf() >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[2])
			return r[2] / APIC_TIMER_DIVISOR;
	}
	return 0;
}

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

/* The processor's base frequency (CPUID 0x16), which the TSC keeps on
 * hardware, to within its nominal figure; 0 under a hypervisor, whose
 * CPUID may tell its host's. */
static uint64_t hardware_base_hz(void)
{
	uint32_t r[4];
	if (under_hypervisor() || max_basic_leaf() < 0x16)
		return 0;
	cpuid(0x16, 0, r);
	return (uint64_t)(r[0] & 0xffff) * 1000000;
}

/* No PIT: the window from cal_tsc0 to tsc1 saw the APIC timer count from
 * cal_apic0 down to apic1. Take what is stated (tsc_hz, if not 0), measure
 * the rest against it (see the top). */
/* a * b / c without overflow, for a and c counts over the same window
 * (halved together while the product would not fit; no 128-bit division
 * in a freestanding kernel). */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	while (b && a > UINT64_MAX / b && c > 1) {
		a >>= 1;
		c >>= 1;
	}
	return a * b / c;
}

static void calibrate_without_pit(uint64_t tsc_hz, uint64_t tsc1, uint32_t apic1)
{
	uint64_t tsc_ticks = tsc1 - cal_tsc0, apic_ticks = cal_apic0 - apic1;
	uint64_t apic_hz = stated_apic_timer_hz();
	const char *how = "stated";
	if (!tsc_hz && !apic_hz)
		tsc_hz = hardware_base_hz();
	if (!apic_hz && tsc_hz) {
		apic_hz = mul_div(apic_ticks, tsc_hz, tsc_ticks);
		how = "measured against the stated TSC";
	} else if (!tsc_hz) {
		if (!apic_hz) {
			apic_hz = QEMU_APIC_BUS_HZ / APIC_TIMER_DIVISOR;
			how = "QEMU's 1 GHz bus / 16; TSC measured against it";
		} else {
			how = "stated; TSC measured against it";
		}
		tsc_hz = mul_div(tsc_ticks, apic_hz, apic_ticks);
	}
	set_rates(tsc_hz, apic_hz);
	bare_printf("clock: no PIT; TSC %lu kHz, APIC timer %lu kHz (%s)\n",
	            (unsigned long)(tsc_hz / 1000), (unsigned long)(apic_hz / 1000), how);
}

static void calibrate_end(void)
{
	uint64_t stated = stated_tsc_hz();
	uint64_t tsc1, tsc_hz;
	uint32_t apic1;
	uint16_t now;
	unsigned need = stated ? CHECK_PIT_TICKS : CALIBRATE_PIT_TICKS;

	if (inb(0x61) & 0x20)               /* OUT2 high: counted past zero */
		clock_calibrate_begin();
	for (;;) {
		now = sample(&tsc1, &apic1);
		uint16_t ticks = (uint16_t)(cal_pit0 - now);
		if (ticks == 0 && tsc1 - cal_tsc0 >= PIT_SILENT_TSC) {
			lapic_timer_oneshot(0);
			calibrate_without_pit(stated, tsc1, apic1);
			return;
		}
		if (ticks < need)
			continue;
		tsc_hz = (tsc1 - cal_tsc0) * PIT_HZ / ticks;
		if (!stated || ticks >= CALIBRATE_PIT_TICKS)
			break;
		uint64_t diff = stated > tsc_hz ? stated - tsc_hz : tsc_hz - stated;
		if (diff <= tsc_hz / 8) {  /* catches a wrong unit or shift */
			tsc_hz = stated;        /* checked: the exact figure */
			break;
		}
		need = CALIBRATE_PIT_TICKS; /* does not match: measure it */
	}
	lapic_timer_oneshot(0);
	set_rates(tsc_hz, (uint64_t)(cal_apic0 - apic1) * tsc_hz / (tsc1 - cal_tsc0));
}

void clock_finish(void)
{
	unsigned long irq = hal_irq_save();
	if (!__atomic_exchange_n(&finishing, 1, __ATOMIC_ACQUIRE))
		calibrate_end();
	while (!__atomic_load_n(&bare_clock_calibrated, __ATOMIC_ACQUIRE))
		cpu_relax();
	hal_irq_restore(irq);
}

/* The time of the call: the TSC is read before the calibration that the
 * first call may have to finish (--boot-time's entry to main would
 * otherwise count the wait that its own clock read causes). */
uint64_t hal_clock_ns(void)
{
	uint64_t d = rdtsc() - bare_boot_tsc;
	clock_ready();
	return (uint64_t)(((unsigned __int128)d * ns_per_tick_32) >> 32);
}
