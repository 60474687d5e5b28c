/*
 * irq.h: device interrupts for hal/bare drivers (the ATA driver first).
 *
 * A driver routes one interrupt line of the I/O APIC to a CPU and names the
 * handler: the HAL picks a free vector, and on each interrupt runs
 * fn(arg) in irq context on that CPU, then sends the local APIC EOI.
 * Lines not routed stay masked (every pin is masked at boot).
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

/* bare_irq_mask: mask (true) or unmask a routed GSI at the I/O APIC. */
void bare_irq_mask(uint32_t gsi, bool masked);

#endif
