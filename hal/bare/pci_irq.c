/*
 * pci_irq.c: where a PCI function's INTx interrupt arrives (irq.h's
 * bare_irq_route_pci), without an AML interpreter for the ACPI _PRT.
 *
 * QEMU's pc machine (i440FX + PIIX3) wires pin p (1..4 = INTA..INTD) of the
 * device in slot s of bus 0 to PIRQ link (s + p - 2) mod 4, and the PIIX3
 * (the ISA bridge, 00:01.0, 8086:7000) steers link n to the ISA IRQ in its
 * config register 0x60 + n (bits 0-3; bit 7 set: not routed). The firmware
 * programs those registers (SeaBIOS: 10, 10, 11, 11) and writes the same
 * IRQ into each function's interrupt-line register; the _PRT describes the
 * links the same way. So: with a PIIX3 and a bus-0 device, its PIRQ
 * register; otherwise (another chipset, a device behind a bridge) the
 * interrupt line the firmware left. The IRQ is then routed as a PCI link:
 * level triggered, with the MADT's override for that IRQ (QEMU's: active
 * high). Lines are shared: two NICs in slots 3 and 4 both land on IRQ 11.
 */
#include <errno.h>

#include "bare.h"
#include "irq.h"
#include "pci.h"

#define PIIX3_VENDOR    0x8086
#define PIIX3_DEVICE    0x7000
#define PIIX_PIRQRC     0x60
#define PIRQ_DISABLED   0x80

/* The ISA IRQ of the function's INTx, or -ENODEV. */
static int pci_isa_irq(const struct pci_dev *d)
{
	if (d->irq_pin < 1 || d->irq_pin > 4)
		return -ENODEV;
	unsigned from = 0;
	const struct pci_dev *isa = pci_find_dev(PIIX3_VENDOR, PIIX3_DEVICE, &from);
	if (isa && isa->bus == 0 && d->bus == 0) {
		unsigned link = (d->dev + d->irq_pin - 2) & 3;
		uint8_t r = pci_read8(isa, (uint8_t)(PIIX_PIRQRC + link));
		if (!(r & PIRQ_DISABLED) && (r & 0xf) >= 3)
			return r & 0xf;
		return -ENODEV;         /* the link is not steered anywhere */
	}
	if (d->irq_line >= 1 && d->irq_line < 16 && d->irq_line != 2)
		return d->irq_line;
	return -ENODEV;
}

int bare_irq_route_pci(const struct pci_dev *d, unsigned cpu, bare_irq_fn fn, void *arg)
{
	int isa = pci_isa_irq(d);
	if (isa < 0)
		return isa;
	return bare_irq_route_pci_isa((unsigned)isa, cpu, fn, arg);
}
