/*
 * IrqRoute: a bare-only test kernel for hal/bare/irq.h. It routes ISA IRQ 0
 * (the PIT; ACPI sends it to GSI 2) to the last CPU, sets PIT channel 0 to
 * 1 kHz, sleeps 100 ms and expects the handler to have run there, in irq
 * context, a plausible number of times. Prints "IrqRoute: ok" and exits 0.
 * Built for posix too (tests/tests.mk builds every test service), where
 * there is no irq.h: then it only says it was skipped.
 */
#include "toro.h"

#if !__has_include("irq.h")
int main(void)
{
	WriteConsoleF("IrqRoute: bare only, skipped\n");
	return 0;
}
#else
#include "irq.h"

static volatile uint32_t ticks;
static volatile uint32_t wrong_cpu;
static uint32_t target;

static void pit_irq(void *arg)
{
	if (GetCoreId() != target)
		wrong_cpu++;
	ticks++;
}

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

int main(void)
{
	target = GetCPUCount() - 1;
	int vector = bare_irq_route_isa(0, target, pit_irq, NULL);
	if (vector < 0) {
		WriteConsoleF("IrqRoute: route failed (%d)\n", vector);
		return 1;
	}
	outb(0x43, 0x34);               /* channel 0, rate generator */
	outb(0x40, 1193 & 0xff);        /* 1193182 / 1193: ~1 kHz */
	outb(0x40, 1193 >> 8);
	Sleep(100);
	uint32_t n = ticks;
	WriteConsoleF("IrqRoute: vector %d, %u ticks on CPU %u, %u elsewhere\n",
	              vector, n, target, wrong_cpu);
	bool ok = n >= 20 && n <= 1000 && wrong_cpu == 0;
	WriteConsoleF(ok ? "IrqRoute: ok\n" : "IrqRoute: FAILED\n");
	return ok ? 0 : 1;
}
#endif
