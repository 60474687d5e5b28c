/*
 * apic.c: the local APIC of each CPU (xAPIC, MMIO at acpi_lapic_addr):
 * EOI, IPIs, the one-shot timer that bounds hal_cpu_idle, hal_cpu_kick.
 *
 * Vectors (bare.h): VEC_TIMER and VEC_KICK only wake a halted CPU, so their
 * handlers just EOI. VEC_SPURIOUS gets no EOI (the APIC sets no ISR bit for
 * it). The timer divides the bus clock by 16; its rate is measured by
 * clock.c.
 */
#include "ata.h"
#include "bare.h"

#define LAPIC_ID        0x020
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

#define LVT_MASKED      (1u << 16)
#define ICR_BUSY        (1u << 12)
#define MSR_APIC_BASE   0x1b

static bool lapic_ready;
static uint64_t apic_ticks_per_ns_32;   /* timer ticks per ns, 32.32 fixed point */

void lapic_timer_set_rate(uint64_t hz)
{
	apic_ticks_per_ns_32 = (hz << 32) / 1000000000u;
}

static uint32_t lapic_read(uint32_t reg) { return mmio_read32(acpi_lapic_addr + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(acpi_lapic_addr + reg, v); }

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static void wake_handler(struct trap_frame *f)
{
	lapic_eoi();
}

static void stop_handler(struct trap_frame *f)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void lapic_init(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 11));    /* global enable */
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);               /* software enable */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);   /* the 8259 stays unused */
	lapic_write(LAPIC_LVT_LINT1, 0x400);        /* NMI */
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_TIMER_DIV, 0x3);          /* bus clock / 16 */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 0);
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_TPR, 0);                  /* last: re-evaluates pending IRQs */
	lapic_eoi();
	if (hal_cpu_id() == 0) {
		trap_set_handler(VEC_TIMER, wake_handler);
		trap_set_handler(VEC_KICK, wake_handler);
		trap_set_handler(VEC_STOP, stop_handler);
		__atomic_store_n(&lapic_ready, true, __ATOMIC_RELEASE);
	}
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
	unsigned long irq = hal_irq_save();
	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		cpu_relax();
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_low);
	hal_irq_restore(irq);
}

/* Masked while calibrating (count 0xffffffff), unmasked for a deadline. */
void lapic_timer_oneshot(uint32_t count)
{
	uint32_t lvt = VEC_TIMER | (count == 0xffffffff || count == 0 ? LVT_MASKED : 0);
	lapic_write(LAPIC_LVT_TIMER, lvt);
	lapic_write(LAPIC_TIMER_INIT, count);
}

uint32_t lapic_timer_current(void)
{
	return lapic_read(LAPIC_TIMER_CUR);
}

void lapic_broadcast_stop(void)
{
	if (!__atomic_load_n(&lapic_ready, __ATOMIC_ACQUIRE))
		return;
	lapic_send_ipi(0, (3u << 18) | VEC_STOP);   /* all excluding self */
}

void hal_cpu_idle(uint64_t deadline_ns)
{
	if (hal_irq_enabled()) {    /* the caller would lose wake-ups */
		bare_printf("hal_cpu_idle: called with interrupts enabled\n");
		hal_dump_state();
		hal_shutdown(BARE_FAULT_STATUS);
	}
	/* A disk command of this CPU's past its deadline: failing it may have
	 * made a thread ready, so return instead of halting. */
	unsigned me = hal_cpu_id();
	if (ata_idle_expire(me))
		return;
	uint64_t disk_deadline = ata_idle_deadline(me);
	if (disk_deadline && (!deadline_ns || disk_deadline < deadline_ns))
		deadline_ns = disk_deadline;
	if (deadline_ns) {
		uint64_t now = hal_clock_ns();     /* clock_ready() included */
		if (deadline_ns <= now)
			return;
		unsigned __int128 ticks = ((unsigned __int128)(deadline_ns - now) *
		                           apic_ticks_per_ns_32) >> 32;
		if (ticks == 0)
			ticks = 1;
		if (ticks >= 0xffffffff)
			ticks = 0xfffffffe;     /* waking early is allowed */
		lapic_timer_oneshot((uint32_t)ticks);
	}
	/* sti takes effect after the next instruction: an interrupt pending
	 * now (a kick already sent) wakes the hlt instead of slipping in
	 * before it. */
	__asm__ volatile("sti; hlt; cli" : : : "memory");
	if (deadline_ns)
		lapic_timer_oneshot(0);
}

void hal_cpu_kick(unsigned cpu)
{
	if (cpu >= bare_cpu_count)
		return;
	lapic_send_ipi(bare_cpus[cpu].apic_id, VEC_KICK);
}
