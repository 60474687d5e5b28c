/*
 * ioapic.c: the I/O APICs of the MADT (one on a pc, two on microvm, whose
 * second holds the virtio-mmio GSIs from 24 up): every pin masked at boot,
 * then routed one by one for drivers (irq.h), by GSI. The legacy 8259 PICs
 * are remapped out of the exception vectors and fully masked (pic_disable).
 * It also owns the device vectors (VEC_IRQ_FIRST..VEC_IRQ_LAST): one per
 * routed pin, whose handlers are chained when devices share the pin (PCI
 * INTx lines do), and one per MSI/MSI-X message (msix.c).
 */
#include <errno.h>

#include "bare.h"
#include "irq.h"

#define IOAPIC_VER      0x01
#define IOAPIC_REDTBL   0x10

#define RED_MASKED      (1u << 16)
#define RED_LEVEL       (1u << 15)
#define RED_ACTIVE_LOW  (1u << 13)

#define IRQ_SHARE_MAX   4       /* handlers on one vector (a shared pin) */
#define IOAPIC_MAX_PINS 240     /* GSIs 0..239 */

struct irq_handler {
	bare_irq_fn fn;
	void *arg;
};

/* A vector's handlers: h[0..n) are set before n grows (release), so
 * irq_entry reads them without the lock. */
struct irq_slot {
	unsigned n;
	struct irq_handler h[IRQ_SHARE_MAX];
};

/* route_lock (a leaf spin lock, interrupts off) guards these and the
 * IOREGSEL/IOWIN register pair. */
static int route_lock;
static struct irq_slot slots[VEC_IRQ_LAST - VEC_IRQ_FIRST + 1];
static unsigned next_vector = VEC_IRQ_FIRST;
struct ioapic {
	uintptr_t addr;
	uint32_t gsi_base;
	unsigned pins;
};
static struct ioapic ioapics[ACPI_IOAPIC_MAX];  /* set by ioapic_init */
static unsigned ioapic_count;
static uint8_t pin_vector[IOAPIC_MAX_PINS];     /* by GSI; 0: not routed */
static uint32_t pin_flags[IOAPIC_MAX_PINS];     /* RED_LEVEL | RED_ACTIVE_LOW of a routed GSI */

static uint32_t ioapic_read(const struct ioapic *io, uint32_t reg)
{
	mmio_write32(io->addr, reg);
	return mmio_read32(io->addr + 0x10);
}

static void ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v)
{
	mmio_write32(io->addr, reg);
	mmio_write32(io->addr + 0x10, v);
}

/* The I/O APIC with gsi among its pins, and the pin; NULL when none. */
static const struct ioapic *ioapic_of(uint32_t gsi, unsigned *pin)
{
	for (unsigned i = 0; i < ioapic_count; i++) {
		const struct ioapic *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi - io->gsi_base < io->pins && gsi < IOAPIC_MAX_PINS) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
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
	for (unsigned i = 0; i < acpi_ioapic_count; i++) {
		struct ioapic *io = &ioapics[ioapic_count];
		io->addr = acpi_ioapics[i].addr;
		io->gsi_base = acpi_ioapics[i].gsi_base;
		if (io->gsi_base == ACPI_GSI_NEXT)      /* MP tables: right after the previous */
			io->gsi_base = i ? ioapics[ioapic_count - 1].gsi_base +
			                   ioapics[ioapic_count - 1].pins : 0;
		io->pins = ((ioapic_read(io, IOAPIC_VER) >> 16) & 0xff) + 1;
		for (unsigned pin = 0; pin < io->pins; pin++) {
			ioapic_write(io, IOAPIC_REDTBL + 2 * pin, RED_MASKED);
			ioapic_write(io, IOAPIC_REDTBL + 2 * pin + 1, 0);
		}
		ioapic_count++;
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
	unsigned n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		s->h[i].fn(s->h[i].arg);
	lapic_eoi();
}

/* A fresh vector with fn as its one handler; -ENOSPC when none is left.
 * route_lock held. */
static int new_vector(bare_irq_fn fn, void *arg)
{
	if (next_vector > VEC_IRQ_LAST)
		return -ENOSPC;
	int vector = (int)next_vector++;
	struct irq_slot *s = &slots[vector - VEC_IRQ_FIRST];
	s->h[0] = (struct irq_handler){ fn, arg };
	__atomic_store_n(&s->n, 1, __ATOMIC_RELEASE);
	trap_set_handler((unsigned)vector, irq_entry);
	return vector;
}

/* Route a pin, or add fn to the handlers of a pin already routed the same
 * way (it keeps its first CPU). -EBUSY: routed with other flags, or too
 * many handlers. */
static int route(uint32_t gsi, uint32_t flags, unsigned cpu, bare_irq_fn fn, void *arg)
{
	if (!ioapic_count)
		return -ENODEV;
	unsigned pin;
	const struct ioapic *io = ioapic_of(gsi, &pin);
	if (cpu >= bare_cpu_count || !fn || !io)
		return -EINVAL;

	unsigned long irq = lock_routes();
	int vector;
	if (pin_vector[gsi]) {
		vector = pin_vector[gsi];
		struct irq_slot *s = &slots[vector - VEC_IRQ_FIRST];
		if (pin_flags[gsi] != flags || s->n == IRQ_SHARE_MAX) {
			vector = -EBUSY;
		} else {
			s->h[s->n] = (struct irq_handler){ fn, arg };
			__atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELEASE);
		}
	} else {
		vector = new_vector(fn, arg);
		if (vector >= 0) {
			pin_vector[gsi] = (uint8_t)vector;
			pin_flags[gsi] = flags;
			ioapic_write(io, IOAPIC_REDTBL + 2 * pin + 1, bare_cpus[cpu].apic_id << 24);
			ioapic_write(io, IOAPIC_REDTBL + 2 * pin, flags | (uint32_t)vector);
		}
	}
	unlock_routes(irq);
	return vector;
}

int bare_irq_alloc_vector(bare_irq_fn fn, void *arg)
{
	if (!fn)
		return -EINVAL;
	unsigned long irq = lock_routes();
	int vector = new_vector(fn, arg);
	unlock_routes(irq);
	return vector;
}

void bare_irq_self(unsigned vector)
{
	lapic_send_ipi(bare_this_cpu()->apic_id, vector);
}

void bare_irq_send(unsigned cpu, unsigned vector)
{
	if (cpu < bare_cpu_count)
		lapic_send_ipi(bare_cpus[cpu].apic_id, vector);
}

/* The redirection flags of ISA IRQ isa_irq from the MADT's MPS flags;
 * where they say "conforms to the bus", the bus's own: edge active-high
 * for ISA, level active-low for a PCI link (pci). */
static uint32_t isa_flags(uint16_t mps, bool pci)
{
	uint32_t flags = pci ? RED_LEVEL | RED_ACTIVE_LOW : 0;
	switch (mps & 3) {             /* polarity */
	case 1: flags &= ~RED_ACTIVE_LOW; break;
	case 3: flags |= RED_ACTIVE_LOW; break;
	}
	switch ((mps >> 2) & 3) {      /* trigger */
	case 1: flags &= ~RED_LEVEL; break;
	case 3: flags |= RED_LEVEL; break;
	}
	return flags;
}

int bare_irq_route_pci_isa(unsigned isa_irq, unsigned cpu, bare_irq_fn fn, void *arg)
{
	uint16_t mps;
	if (isa_irq >= 16)
		return -EINVAL;
	uint32_t gsi = acpi_isa_gsi(isa_irq, &mps);
	return route(gsi, isa_flags(mps, true), cpu, fn, arg);
}

int bare_irq_route_isa(unsigned isa_irq, unsigned cpu, bare_irq_fn fn, void *arg)
{
	uint16_t mps;
	if (isa_irq >= 16)
		return -EINVAL;
	uint32_t gsi = acpi_isa_gsi(isa_irq, &mps);
	return route(gsi, isa_flags(mps, false), cpu, fn, arg);
}

int bare_irq_route_gsi(uint32_t gsi, bool pci_style, unsigned cpu,
                       bare_irq_fn fn, void *arg)
{
	return route(gsi, pci_style ? RED_LEVEL | RED_ACTIVE_LOW : 0, cpu, fn, arg);
}

void bare_irq_retarget_isa(unsigned isa_irq, unsigned cpu)
{
	uint16_t mps;
	unsigned pin;
	if (isa_irq >= 16 || cpu >= bare_cpu_count)
		return;
	const struct ioapic *io = ioapic_of(acpi_isa_gsi(isa_irq, &mps), &pin);
	if (!io)
		return;
	unsigned long irq = lock_routes();
	ioapic_write(io, IOAPIC_REDTBL + 2 * pin + 1, bare_cpus[cpu].apic_id << 24);
	unlock_routes(irq);
}

void bare_irq_mask(uint32_t gsi, bool masked)
{
	unsigned pin;
	const struct ioapic *io = ioapic_of(gsi, &pin);
	if (!io)
		return;
	uint32_t reg = IOAPIC_REDTBL + 2 * pin;
	unsigned long irq = lock_routes();
	uint32_t v = ioapic_read(io, reg);
	ioapic_write(io, reg, masked ? v | RED_MASKED : v & ~RED_MASKED);
	unlock_routes(irq);
}
