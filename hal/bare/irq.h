/*
 * irq.h: device interrupts for hal/bare drivers (ATA, the NICs).
 *
 * A driver routes one interrupt line of the I/O APIC to a CPU and names the
 * handler: the HAL picks a free vector, and on each interrupt runs
 * fn(arg) in irq context on that CPU, then sends the local APIC EOI.
 * Lines not routed stay masked (every pin is masked at boot). A line routed
 * twice the same way (PCI INTx lines are shared) keeps its vector and CPU
 * and runs every handler on it, so each must check its own device.
 * MSI-X messages (a PCI device writing a vector to the local APIC) get a
 * vector of their own: bare_irq_route_msix.
 */
#ifndef HAL_BARE_IRQ_H
#define HAL_BARE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*bare_irq_fn)(void *arg);

/*
 * bare_irq_route_isa: ISA IRQ isa_irq (0..15; ACPI source overrides
 * applied, edge/active-high unless they say otherwise) to CPU cpu.
 * Returns the vector (>= 0), or -EINVAL / -ENODEV (no I/O APIC) / -ENOSPC
 * (no vector left).
 */
int bare_irq_route_isa(unsigned isa_irq, unsigned cpu, bare_irq_fn fn, void *arg);

/*
 * bare_irq_route_gsi: global system interrupt gsi to CPU cpu; level
 * triggered active low when pci_style (PCI INTx), else edge active high.
 */
int bare_irq_route_gsi(uint32_t gsi, bool pci_style, unsigned cpu,
                       bare_irq_fn fn, void *arg);

/*
 * bare_irq_retarget_isa: send the already routed ISA IRQ isa_irq to CPU
 * cpu from now on (same vector and handler). A driver with one request in
 * flight points its line at the CPU that submitted it, so its completion
 * runs there. Any CPU; do it while the device cannot interrupt.
 */
void bare_irq_retarget_isa(unsigned isa_irq, unsigned cpu);

/*
 * bare_irq_route_pci_isa: the ISA IRQ a PCI interrupt link is steered to
 * (pci_irq.c finds it), level triggered active low unless the MADT's
 * override for that IRQ says otherwise (QEMU's says level, active high).
 * Shared with any device already on it.
 */
int bare_irq_route_pci_isa(unsigned isa_irq, unsigned cpu, bare_irq_fn fn, void *arg);

/*
 * bare_irq_alloc_vector: a vector of its own for fn (MSI/MSI-X); nothing
 * is routed to it yet. The vector, or -ENOSPC / -EINVAL.
 */
int bare_irq_alloc_vector(bare_irq_fn fn, void *arg);

/*
 * bare_irq_self: raise vector on the calling CPU (a self IPI): its
 * handlers run in irq context as soon as interrupts are enabled. A driver
 * uses it to run its interrupt handler for work that arrived before it
 * asked to be told. Only on a vector of bare_irq_alloc_vector (MSI or one
 * of its own), never on a routed I/O APIC pin's: the local APIC would take
 * the IPI as edge triggered (TMR cleared), and the EOI of a level
 * interrupt merged with it would never reach the I/O APIC, leaving the pin
 * blocked.
 */
void bare_irq_self(unsigned vector);

/*
 * bare_irq_send: raise vector on CPU cpu (an IPI), with bare_irq_self's
 * rule: only a vector of bare_irq_alloc_vector. A driver whose device
 * interrupts one CPU hands a completion to the CPU that submitted it.
 */
void bare_irq_send(unsigned cpu, unsigned vector);

struct pci_dev;

/*
 * bare_irq_route_pci: the legacy INTx interrupt of a PCI function to CPU
 * cpu (pci_irq.c: which ISA IRQ its PIRQ link uses). Shared. The vector,
 * or -ENODEV (no pin, no route known), -ENOSPC, -EBUSY.
 */
int bare_irq_route_pci(const struct pci_dev *d, unsigned cpu, bare_irq_fn fn, void *arg);

/*
 * bare_irq_route_msix: entry entry of the function's MSI-X table to CPU
 * cpu with a new vector for fn; it fires only once bare_msix_enable
 * turned MSI-X on. The vector, or -ENODEV (no MSI-X, entry out of the
 * table), -ENOSPC. bare_msix_entries: the table's size (0: no MSI-X).
 */
int bare_irq_route_msix(const struct pci_dev *d, unsigned entry, unsigned cpu,
                        bare_irq_fn fn, void *arg);
unsigned bare_msix_entries(const struct pci_dev *d);

/* bare_msix_enable: MSI-X on (INTx off) and the routed entries unmasked,
 * or (false) MSI-X off, back to INTx. */
void bare_msix_enable(const struct pci_dev *d, bool on);

/* bare_irq_mask: mask (true) or unmask a routed GSI at the I/O APIC. */
void bare_irq_mask(uint32_t gsi, bool masked);

#endif
