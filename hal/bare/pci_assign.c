/*
 * pci_assign.c: addresses for the BARs the firmware left unassigned.
 *
 * SeaBIOS gives every BAR an address before the kernel runs; a minimal
 * firmware (qboot, QEMU's fastest: no option ROM scan, no disk probing)
 * leaves them at 0 and the devices unreachable. Here each such BAR of a
 * bus-0 device gets one, largest first, each aligned to its size as PCI
 * requires:
 *   memory  downward from MEM_TOP, the bottom of the PC's fixed devices
 *           (I/O APIC 0xfec00000, HPET, local APIC), never over RAM
 *   I/O     upward from IO_BASE, above the ISA and legacy ports
 * skipping whatever the firmware did assign. A 64-bit BAR is placed below
 * 4 GiB like the rest (its high half 0). Devices behind a bridge would need
 * the bridge's windows too: their unassigned BARs stay unassigned, said on
 * the console. Decoding stays as it is: a driver turns it on (pci_enable).
 */
#include "bare.h"
#include "pci.h"

#define MEM_TOP  0xfec00000ull
#define MEM_LOW  0x80000000ull  /* the window's floor: PCI memory stays in the top 2 GiB */
#define IO_BASE  0xc000u
#define IO_END   0x10000u

/* overlap: the first assigned BAR of the same space that [base, end)
 * overlaps, or NULL. */
static const struct pci_bar *overlap(struct pci_dev **devs, unsigned n, bool io,
                                     uint64_t base, uint64_t end)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned b = 0; b < 6; b++) {
			const struct pci_bar *bar = &devs[i]->bar[b];
			if (bar->size && bar->base && bar->io == io &&
			    bar->base < end && base < bar->base + bar->size)
				return bar;
		}
	return NULL;
}

/* place: a free, size-aligned span for bar in its window; 0 when none. */
static uint64_t place(struct pci_dev **devs, unsigned n, const struct pci_bar *bar)
{
	uint64_t size = bar->size;
	if (bar->io) {
		for (uint64_t base = IO_BASE; base + size <= IO_END; ) {
			const struct pci_bar *in = overlap(devs, n, true, base, base + size);
			if (!in)
				return base;
			base = (in->base + in->size + size - 1) & ~(size - 1);
		}
		return 0;
	}
	for (uint64_t top = MEM_TOP; top >= MEM_LOW + size; ) {
		uint64_t base = (top - size) & ~(size - 1);
		if (base < MEM_LOW)
			return 0;
		const struct pci_bar *in = overlap(devs, n, false, base, base + size);
		if (!in)
			return bare_is_ram(base, size) ? 0 : base;
		top = in->base;
	}
	return 0;
}

static void write_bar(struct pci_dev *d, unsigned index, uint64_t base)
{
	uint8_t off = (uint8_t)(PCI_CFG_BAR0 + 4 * index);
	pci_write32(d, off, (uint32_t)base);    /* the type bits are read-only */
	if (d->bar[index].is64)
		pci_write32(d, (uint8_t)(off + 4), (uint32_t)(base >> 32));
	d->bar[index].base = base;
}

void pci_assign_bars(struct pci_dev *all, unsigned count)
{
	struct pci_dev *devs[PCI_MAX_DEVS];
	unsigned n = 0;
	for (unsigned i = 0; i < count; i++) {
		if (all[i].bus == 0)
			devs[n++] = &all[i];
		else
			for (unsigned b = 0; b < 6; b++)
				if (all[i].bar[b].size && !all[i].bar[b].base)
					bare_printf("pci: %02x:%02x.%u BAR%u unassigned behind a bridge; "
					            "left so\n", all[i].bus, all[i].dev, all[i].fn, b);
	}
	for (;;) {
		struct pci_dev *d = NULL;
		unsigned index = 0;
		for (unsigned i = 0; i < n; i++)
			for (unsigned b = 0; b < 6; b++) {
				const struct pci_bar *bar = &devs[i]->bar[b];
				if (bar->size && !bar->base && !(bar->size & (bar->size - 1)) &&
				    (!d || bar->size > d->bar[index].size)) {
					d = devs[i];
					index = b;
				}
			}
		if (!d)
			return;
		uint64_t base = place(devs, n, &d->bar[index]);
		if (!base) {
			bare_printf("pci: %02x:%02x.%u BAR%u (%lu bytes): no room; left unassigned\n",
			            d->bus, d->dev, d->fn, index, (unsigned long)d->bar[index].size);
			d->bar[index].size = 0;     /* no BAR a driver could use */
			continue;
		}
		write_bar(d, index, base);
	}
}
