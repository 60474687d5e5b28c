/*
 * ioapic.c: the I/O APIC (the first one in the MADT): every pin masked at
 * boot, then routed one by one for drivers (irq.h). The legacy 8259 PICs
 * are remapped out of the exception vectors and fully masked (pic_disable).
 */
#include <errno.h>

#include "bare.h"
#include "irq.h"

#define IOAPIC_VER      0x01
#define IOAPIC_REDTBL   0x10

#define RED_MASKED      (1u << 16)
#define RED_LEVEL       (1u << 15)
#define RED_ACTIVE_LOW  (1u << 13)

struct irq_slot {
	bare_irq_fn fn;
	void *arg;
};

/* route_lock (a leaf spin lock, interrupts off) guards these and the
 * IOREGSEL/IOWIN register pair. */
static int route_lock;
static struct irq_slot slots[VEC_IRQ_LAST - VEC_IRQ_FIRST + 1];
static unsigned next_vector = VEC_IRQ_FIRST;
static unsigned pin_count;

static uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(acpi_ioapic_addr, reg);
	return mmio_read32(acpi_ioapic_addr + 0x10);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(acpi_ioapic_addr, reg);
	mmio_write32(acpi_ioapic_addr + 0x10, v);
}

/* The 8259s: SeaBIOS leaves the timer IRQ unmasked and the BSP's LINT0 in
 * ExtINT mode. Called first thing at boot, while LINT0 still passes the
 * PIC's line: lowering it there also withdraws an interrupt the PIC raised
 * before we came (QEMU would otherwise deliver it as a bogus vector). */
void pic_disable(void)
{
	/* ICW1-4: remap to 0x20-0x2f, then mask everything. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void ioapic_init(void)
{
	if (!acpi_ioapic_addr)
		return;
	pin_count = ((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1;
	for (unsigned pin = 0; pin < pin_count; pin++) {
		ioapic_write(IOAPIC_REDTBL + 2 * pin, RED_MASKED);
		ioapic_write(IOAPIC_REDTBL + 2 * pin + 1, 0);
	}
}

static unsigned long lock_routes(void)
{
	unsigned long irq = hal_irq_save();
	while (__atomic_exchange_n(&route_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	return irq;
}

static void unlock_routes(unsigned long irq)
{
	__atomic_store_n(&route_lock, 0, __ATOMIC_RELEASE);
	hal_irq_restore(irq);
}

static void irq_entry(struct trap_frame *f)
{
	struct irq_slot *s = &slots[f->vector - VEC_IRQ_FIRST];
	if (s->fn)
		s->fn(s->arg);
	lapic_eoi();
}

static int route(uint32_t gsi, uint32_t flags, unsigned cpu, bare_irq_fn fn, void *arg)
{
	if (!acpi_ioapic_addr)
		return -ENODEV;
	if (cpu >= bare_cpu_count || !fn || gsi < acpi_ioapic_gsi_base ||
	    gsi - acpi_ioapic_gsi_base >= pin_count)
		return -EINVAL;
	unsigned pin = gsi - acpi_ioapic_gsi_base;

	unsigned long irq = lock_routes();
	int vector = -ENOSPC;
	if (next_vector <= VEC_IRQ_LAST) {
		vector = (int)next_vector++;
		slots[vector - VEC_IRQ_FIRST] = (struct irq_slot){ fn, arg };
		trap_set_handler((unsigned)vector, irq_entry);
		ioapic_write(IOAPIC_REDTBL + 2 * pin + 1, bare_cpus[cpu].apic_id << 24);
		ioapic_write(IOAPIC_REDTBL + 2 * pin, flags | (uint32_t)vector);
	}
	unlock_routes(irq);
	return vector;
}

int bare_irq_route_isa(unsigned isa_irq, unsigned cpu, bare_irq_fn fn, void *arg)
{
	uint16_t mps;
	if (isa_irq >= 16)
		return -EINVAL;
	uint32_t gsi = acpi_isa_gsi(isa_irq, &mps);
	uint32_t flags = 0;
	if ((mps & 3) == 3)         /* polarity: active low */
		flags |= RED_ACTIVE_LOW;
	if (((mps >> 2) & 3) == 3)  /* trigger: level */
		flags |= RED_LEVEL;
	return route(gsi, flags, cpu, fn, arg);
}

int bare_irq_route_gsi(uint32_t gsi, bool pci_style, unsigned cpu,
                       bare_irq_fn fn, void *arg)
{
	return route(gsi, pci_style ? RED_LEVEL | RED_ACTIVE_LOW : 0, cpu, fn, arg);
}

void bare_irq_retarget_isa(unsigned isa_irq, unsigned cpu)
{
	uint16_t mps;
	if (!acpi_ioapic_addr || isa_irq >= 16 || cpu >= bare_cpu_count)
		return;
	uint32_t gsi = acpi_isa_gsi(isa_irq, &mps);
	if (gsi < acpi_ioapic_gsi_base || gsi - acpi_ioapic_gsi_base >= pin_count)
		return;
	unsigned long irq = lock_routes();
	ioapic_write(IOAPIC_REDTBL + 2 * (gsi - acpi_ioapic_gsi_base) + 1,
	             bare_cpus[cpu].apic_id << 24);
	unlock_routes(irq);
}

void bare_irq_mask(uint32_t gsi, bool masked)
{
	if (!acpi_ioapic_addr || gsi < acpi_ioapic_gsi_base ||
	    gsi - acpi_ioapic_gsi_base >= pin_count)
		return;
	uint32_t reg = IOAPIC_REDTBL + 2 * (gsi - acpi_ioapic_gsi_base);
	unsigned long irq = lock_routes();
	uint32_t v = ioapic_read(reg);
	ioapic_write(reg, masked ? v | RED_MASKED : v & ~RED_MASKED);
	unlock_routes(irq);
}
