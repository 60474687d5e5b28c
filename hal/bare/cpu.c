/*
 * cpu.c: CPU identity and the interrupt flag.
 * hal_cpu_id() is one load from the per-CPU record GS base points at.
 */
#include "bare.h"

#define MSR_GS_BASE 0xc0000101

struct bare_cpu bare_cpus[HAL_MAX_CPUS];
unsigned bare_cpu_count = 1;

void bare_cpu_set_gs(struct bare_cpu *c)
{
	wrmsr(MSR_GS_BASE, (uintptr_t)c);
}

unsigned hal_cpu_id(void)
{
	unsigned id;
	__asm__ volatile("movl %%gs:0, %0" : "=r"(id));
	return id;
}

unsigned hal_cpu_count(void)
{
	return bare_cpu_count;
}

unsigned long hal_irq_save(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags & 0x200;
}

void hal_irq_restore(unsigned long state)
{
	if (state & 0x200)
		__asm__ volatile("sti" : : : "memory");
	else
		__asm__ volatile("cli" : : : "memory");
}

bool hal_irq_enabled(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	return flags & 0x200;
}

void hal_irq_enable(void)
{
	__asm__ volatile("sti; nop" : : : "memory");
}

void hal_cpu_relax(void)
{
	__builtin_ia32_pause();
}
