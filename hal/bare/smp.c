/*
 * smp.c: the secondary CPUs. CPU 0 is the one that booted (the BSP); the
 * others are the MADT's enabled local APICs in table order. Each gets a
 * 16 KiB boot stack and a fault stack (IST1) at boot; hal_cpu_start() wakes one with INIT-SIPI(-SIPI)
 * through the real-mode trampoline (trampoline.S) copied to TRAMP_BASE and
 * waits until it runs on its own stack with its GS base, IDT and local APIC
 * set up, just before it enters kernel_cpu_main().
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
	uint32_t cpu;
	uint64_t stack;
	uint64_t entry;
} __attribute__((packed));

extern char trampoline_start[], trampoline_params[], trampoline_end[];
extern char boot_pml4[];
extern struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) gdt_ptr;

void smp_init(void)
{
	uint32_t me = lapic_id();

	bare_cpus[0].apic_id = me;
	bare_cpu_count = 1;
	for (unsigned i = 0; i < acpi_cpu_count; i++) {
		if (acpi_cpu_apic_ids[i] == me)
			continue;
		struct bare_cpu *c = &bare_cpus[bare_cpu_count];
		c->id = bare_cpu_count++;
		c->apic_id = acpi_cpu_apic_ids[i];
		c->stack_top = (uintptr_t)bare_early_alloc(BOOT_STACK_SIZE) + BOOT_STACK_SIZE;
		c->fault_stack_top = (uintptr_t)bare_early_alloc(FAULT_STACK_SIZE) + FAULT_STACK_SIZE;
	}
}

/* The first C code of a secondary CPU, called by the trampoline. */
static void __attribute__((noreturn)) ap_main(unsigned cpu)
{
	struct bare_cpu *c = &bare_cpus[cpu];
	bare_cpu_set_gs(c);
	gdt_load();
	trap_load();
	lapic_init();
	__atomic_store_n(&c->running, 1, __ATOMIC_RELEASE);
	kernel_cpu_main();
	for (;;)
		__asm__ volatile("cli; hlt");
}

static bool wait_running(struct bare_cpu *c, uint64_t us)
{
	uint64_t end = hal_clock_ns() + us * 1000;
	while (!__atomic_load_n(&c->running, __ATOMIC_ACQUIRE)) {
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

	size_t len = (size_t)(trampoline_end - trampoline_start);
	memcpy((void *)TRAMP_BASE, trampoline_start, len);
	struct tramp_params *p =
		(void *)(TRAMP_BASE + (trampoline_params - trampoline_start));
	p->gdt_limit = gdt_ptr.limit;
	p->gdt_base = (uint32_t)gdt_ptr.base;
	p->cr3 = (uint32_t)(uintptr_t)boot_pml4;
	p->cpu = cpu;
	p->stack = c->stack_top;
	p->entry = (uintptr_t)ap_main;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* INIT, then STARTUP at page TRAMP_BASE >> 12. QEMU needs none of the
	 * 10 ms / 200 us pauses of the Intel recipe; the second SIPI is sent
	 * only if the first did not take. */
	lapic_send_ipi(c->apic_id, 0x4500);
	lapic_send_ipi(c->apic_id, 0x4600 | (TRAMP_BASE >> 12));
	if (wait_running(c, 1000))
		return 0;
	lapic_send_ipi(c->apic_id, 0x4600 | (TRAMP_BASE >> 12));
	if (wait_running(c, 1000000))
		return 0;
	return -ETIMEDOUT;
}
