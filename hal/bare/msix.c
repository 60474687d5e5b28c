/*
 * msix.c: MSI-X for PCI functions (irq.h): an entry of the function's
 * table is pointed at one CPU's local APIC with a vector of its own.
 *
 * An MSI-X message is a 32-bit memory write the function makes: address
 * 0xfee00000 with the destination APIC id in bits 12-19 (physical mode),
 * data the vector (fixed delivery, edge). The table lives in a memory BAR
 * named by the capability (BIR + offset), 16 bytes an entry: address low,
 * address high, data, vector control (bit 0: masked). Entries stay
 * inactive until MSI-X is enabled in the capability's message control.
 */
#include <errno.h>

#include "bare.h"
#include "irq.h"
#include "pci.h"

#define CAP_MSIX        0x11
#define MSIX_CTL        2       /* message control (16 bits) */
#define MSIX_TABLE      4       /* BIR (bits 0-2), offset */
#define CTL_ENABLE      (1u << 15)
#define CTL_FUNC_MASK   (1u << 14)
#define CMD_INTX_OFF    (1u << 10)      /* PCI command: INTx disable */

#define ENTRY_ADDR_LO   0
#define ENTRY_ADDR_HI   4
#define ENTRY_DATA      8
#define ENTRY_CTL       12

unsigned bare_msix_entries(const struct pci_dev *d)
{
	uint8_t cap = pci_find_cap(d, CAP_MSIX, 0);
	return cap ? (pci_read16(d, cap + MSIX_CTL) & 0x7ffu) + 1 : 0;
}

/* The table's address, or 0 when its BAR is not a mapped memory BAR. */
static uintptr_t table_addr(const struct pci_dev *d, uint8_t cap)
{
	uint32_t t = pci_read32(d, cap + MSIX_TABLE);
	uint32_t offset = t & ~7u;
	if ((t & 7) > 5)
		return 0;
	const struct pci_bar *bar = &d->bar[t & 7];
	if (bar->io || !bar->base || offset + 16ull * bare_msix_entries(d) > bar->size ||
	    bar->base + bar->size > 0x100000000ull)
		return 0;               /* not in the identity map's MMIO range */
	return (uintptr_t)(bar->base + offset);
}

int bare_irq_route_msix(const struct pci_dev *d, unsigned entry, unsigned cpu,
                        bare_irq_fn fn, void *arg)
{
	uint8_t cap = pci_find_cap(d, CAP_MSIX, 0);
	if (!cap || entry >= bare_msix_entries(d) || cpu >= bare_cpu_count)
		return -ENODEV;
	uintptr_t table = table_addr(d, cap);
	if (!table)
		return -ENODEV;
	int vector = bare_irq_alloc_vector(fn, arg);
	if (vector < 0)
		return vector;
	uintptr_t e = table + 16 * entry;
	mmio_write32(e + ENTRY_CTL, 1);
	mmio_write32(e + ENTRY_ADDR_LO, 0xfee00000u | bare_cpus[cpu].apic_id << 12);
	mmio_write32(e + ENTRY_ADDR_HI, 0);
	mmio_write32(e + ENTRY_DATA, (uint32_t)vector);
	mmio_write32(e + ENTRY_CTL, 0);
	return vector;
}

void bare_msix_enable(const struct pci_dev *d, bool on)
{
	uint8_t cap = pci_find_cap(d, CAP_MSIX, 0);
	if (!cap)
		return;
	uint16_t ctl = pci_read16(d, cap + MSIX_CTL) & ~CTL_FUNC_MASK;
	pci_write16(d, cap + MSIX_CTL, on ? ctl | CTL_ENABLE : ctl & ~CTL_ENABLE);
	uint16_t cmd = pci_read16(d, 0x04);
	pci_write16(d, 0x04, on ? cmd | CMD_INTX_OFF : cmd & ~CMD_INTX_OFF);
}
