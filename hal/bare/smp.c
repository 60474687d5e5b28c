/*
 * smp.c: the secondary CPUs. CPU 0 is the one that booted (the BSP); the
 * others are the MADT's enabled local APICs in table order. Each gets a
 * 16 KiB boot stack and a fault stack (IST1), then INIT-SIPI, all during
 * the HAL's boot (smp_init): through the real-mode trampoline (trampoline.S)
 * copied to TRAMP_BASE they reach ap_main on their own stacks, set up GS
 * base, IDT and local APIC, and park, halted. hal_cpu_start() releases one
 * and waits until it is about to enter kernel_cpu_main(). Starting them
 * together, early, keeps their start-up off the path to the service's main.
 */
#include <errno.h>
#include <string.h>

#include "bare.h"

#define TRAMP_BASE       0x8000
#define BOOT_STACK_SIZE  (16 * 1024)

struct tramp_params {
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint16_t pad;
	uint32_t cr3;
	uint32_t lapic;
	uint64_t stacks;
	uint64_t entry;
} __attribute__((packed));

extern char trampoline_start[], trampoline_params[], trampoline_end[];
extern char boot_pml4[];
extern struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) gdt_ptr;

static uint64_t stack_by_apic[256];     /* read by the trampoline */
static uint64_t sipi_tsc;               /* when smp_init sent the SIPIs */

static void send_sipi(uint32_t apic_id)
{
	lapic_send_ipi(apic_id, 0x4600 | (TRAMP_BASE >> 12));
}

/* The first C code of a secondary CPU, called by the trampoline. */
static void __attribute__((noreturn)) ap_main(uint32_t apic_id)
{
	struct bare_cpu *c = NULL;
	for (unsigned i = 1; i < bare_cpu_count; i++)
		if (bare_cpus[i].apic_id == apic_id)
			c = &bare_cpus[i];
	while (!c)                          /* not ours: cannot happen */
		__asm__ volatile("cli; hlt");

	bare_cpu_set_gs(c);
	gdt_load();
	trap_load();
	lapic_init();
	__atomic_store_n(&c->parked, 1, __ATOMIC_RELEASE);
	/* Check, then sleep with the check's outcome still true: a kick sent
	 * after the check ends the hlt (see hal_cpu_idle). */
	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	__atomic_store_n(&c->running, 1, __ATOMIC_RELEASE);
	kernel_cpu_main();
	for (;;)
		__asm__ volatile("cli; hlt");
}

void smp_init(void)
{
	uint32_t me = lapic_id();

	bare_cpus[0].apic_id = me;
	bare_cpu_count = 1;
	for (unsigned i = 0; i < acpi_cpu_count; i++) {
		uint32_t apic_id = acpi_cpu_apic_ids[i];
		if (apic_id == me || apic_id > 255)
			continue;
		struct bare_cpu *c = &bare_cpus[bare_cpu_count];
		c->id = bare_cpu_count++;
		c->apic_id = apic_id;
		c->stack_top = (uintptr_t)bare_early_alloc(BOOT_STACK_SIZE) + BOOT_STACK_SIZE;
		c->fault_stack_top = (uintptr_t)bare_early_alloc(FAULT_STACK_SIZE) + FAULT_STACK_SIZE;
		stack_by_apic[apic_id] = c->stack_top;
	}
	if (bare_cpu_count == 1)
		return;

	size_t len = (size_t)(trampoline_end - trampoline_start);
	memcpy((void *)TRAMP_BASE, trampoline_start, len);
	struct tramp_params *p =
		(void *)(TRAMP_BASE + (trampoline_params - trampoline_start));
	p->gdt_limit = gdt_ptr.limit;
	p->gdt_base = (uint32_t)gdt_ptr.base;
	p->cr3 = (uint32_t)(uintptr_t)boot_pml4;
	p->lapic = (uint32_t)acpi_lapic_addr;
	p->stacks = (uintptr_t)stack_by_apic;
	p->entry = (uintptr_t)ap_main;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* INIT, then STARTUP at page TRAMP_BASE >> 12, to every CPU now: they
	 * come up while CPU 0 and the kernel go on booting, and park. QEMU
	 * needs none of the 10 ms / 200 us pauses of the Intel recipe; a
	 * second SIPI goes out only to a CPU that is late (hal_cpu_start). */
	for (unsigned i = 1; i < bare_cpu_count; i++)
		lapic_send_ipi(bare_cpus[i].apic_id, 0x4500);
	for (unsigned i = 1; i < bare_cpu_count; i++)
		send_sipi(bare_cpus[i].apic_id);
	sipi_tsc = rdtsc();
}

static bool wait_for(int *flag, uint64_t us)
{
	uint64_t end = hal_clock_ns() + us * 1000;
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (hal_clock_ns() > end)
			return false;
		cpu_relax();
	}
	return true;
}

int hal_cpu_start(unsigned cpu)
{
	if (cpu == 0 || cpu >= bare_cpu_count)
		return -EINVAL;
	struct bare_cpu *c = &bare_cpus[cpu];
	if (__atomic_load_n(&c->running, __ATOMIC_ACQUIRE))
		return 0;

	/* Still not parked 1 ms after the SIPI: the second SIPI of the
	 * recipe (ignored by a CPU already past the first). */
	clock_ready();
	if (!__atomic_load_n(&c->parked, __ATOMIC_ACQUIRE)) {
		uint64_t since_sipi_us = (rdtsc() - sipi_tsc) * 1000000 / bare_tsc_hz;
		if (since_sipi_us < 1000)
			wait_for(&c->parked, 1000 - since_sipi_us);
		if (!__atomic_load_n(&c->parked, __ATOMIC_ACQUIRE))
			send_sipi(c->apic_id);
	}
	__atomic_store_n(&c->go, 1, __ATOMIC_RELEASE);
	lapic_send_ipi(c->apic_id, VEC_KICK);
	return wait_for(&c->running, 1000000) ? 0 : -ETIMEDOUT;
}
