/*
 * pci.h: the PCI devices of the machine, for hal/bare drivers.
 *
 * pci_init enumerates once (configuration mechanism #1, ports 0xcf8/0xcfc):
 * every function of every device on bus 0 and on the secondary bus of each
 * PCI-PCI bridge found, depth first. The list is read-only afterwards; a
 * driver finds its controller with pci_find_class and talks to it through
 * the BARs recorded here and the config accessors.
 */
#ifndef HAL_BARE_PCI_H
#define HAL_BARE_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVS 64
#define PCI_CFG_BAR0 0x10       /* config offset of BAR0; BAR i at + 4 * i */

struct pci_bar {
	uint64_t base;              /* I/O port or physical address; 0: unassigned */
	uint64_t size;              /* from the write-ones probe; 0: no BAR */
	bool io;                    /* I/O space (else memory) */
	bool is64;                  /* memory BAR over two slots (the next is its high half) */
	bool prefetch;
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t header_type;        /* 0 device, 1 PCI-PCI bridge (bit 7 masked) */
	uint8_t secondary_bus;      /* bridges only */
	uint8_t irq_line, irq_pin;  /* pin 0: none, 1..4: INTA..INTD */
	struct pci_bar bar[6];
};

/* pci_init: enumerate (once; later calls return at once). Any CPU, thread
 * context or boot. pci_print: the lspci-like list on the console. */
void pci_init(void);
void pci_print(void);

unsigned pci_count(void);
struct pci_dev *pci_get(unsigned index);
/* pci_find_class: the first device at index >= *from with this class and
 * subclass; *from is set past it. NULL when none is left. */
struct pci_dev *pci_find_class(uint8_t class_code, uint8_t subclass, unsigned *from);

uint32_t pci_read32(const struct pci_dev *d, uint8_t offset);
uint16_t pci_read16(const struct pci_dev *d, uint8_t offset);
void pci_write32(const struct pci_dev *d, uint8_t offset, uint32_t v);
void pci_write16(const struct pci_dev *d, uint8_t offset, uint16_t v);

uint8_t pci_read8(const struct pci_dev *d, uint8_t offset);

/* pci_find_cap: the config offset of the first capability with this id
 * after offset after (0: from the start of the list), or 0 when none. The
 * list is followed for at most 48 entries (a looping list ends). */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after);

/* pci_find_dev: the first function at index >= *from with this vendor and
 * device id (device 0xffff: any of the vendor's); *from is set past it. */
struct pci_dev *pci_find_dev(uint16_t vendor, uint16_t device, unsigned *from);

/* pci_enable: turn on I/O and memory decoding, and bus mastering when asked
 * (a DMA engine). */
void pci_enable(const struct pci_dev *d, bool bus_master);

/* pci_assign_bars (pci_assign.c, for pci_init): give the BARs the firmware
 * left at 0 an address, and record it in all[0..count). */
void pci_assign_bars(struct pci_dev *all, unsigned count);

#endif
