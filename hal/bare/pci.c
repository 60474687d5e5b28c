/*
 * pci.c: PCI enumeration and configuration space (pci.h).
 *
 * Configuration mechanism #1: the address of a dword (enable bit, bus,
 * device, function, register) goes to port 0xcf8, the dword itself through
 * 0xcfc. The pair is one resource: cfg_lock guards it.
 *
 * Enumeration starts at bus 0 and follows each PCI-PCI bridge (header type
 * 1) to its secondary bus. A BAR's size comes from the write-ones probe:
 * write all ones, read back the bits that stuck, restore, with decoding off
 * meanwhile so the device never answers at the probe address.
 */
#include <string.h>

#include "bare.h"
#include "pci.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

#define CFG_VENDOR      0x00
#define CFG_COMMAND     0x04
#define CFG_CLASS       0x08    /* revision, prog-if, subclass, class */
#define CFG_HEADER      0x0c    /* header type in bits 16-23 */
#define CFG_BUSES       0x18    /* bridges: primary, secondary, subordinate */
#define CFG_CAPS        0x34    /* first capability's offset */
#define CFG_IRQ         0x3c    /* line, pin */

#define STATUS_CAPS     (1u << 20)      /* in the command/status dword */

#define CMD_IO          0x1
#define CMD_MEM         0x2
#define CMD_MASTER      0x4

static int cfg_lock;            /* leaf spin lock, interrupts off: ports 0xcf8/0xcfc */

/* Written once by pci_init (under init_state), read-only after. */
static struct pci_dev devs[PCI_MAX_DEVS];
static unsigned ndevs;
static bool bus_seen[256];
static int init_state;          /* atomic: 0 not begun, 1 running, 2 done */

static unsigned long cfg_begin(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	unsigned long irq = hal_irq_save();
	while (__atomic_exchange_n(&cfg_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	outl(PCI_ADDR, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
	               (uint32_t)fn << 8 | (off & 0xfc));
	return irq;
}

static void cfg_end(unsigned long irq)
{
	__atomic_store_n(&cfg_lock, 0, __ATOMIC_RELEASE);
	hal_irq_restore(irq);
}

static uint32_t cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	unsigned long irq = cfg_begin(bus, dev, fn, off);
	uint32_t v = inl(PCI_DATA);
	cfg_end(irq);
	return v;
}

static void cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v)
{
	unsigned long irq = cfg_begin(bus, dev, fn, off);
	outl(PCI_DATA, v);
	cfg_end(irq);
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
	return cfg_read(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
	return (uint16_t)(cfg_read(d->bus, d->dev, d->fn, off) >> (8 * (off & 2)));
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
	return (uint8_t)(cfg_read(d->bus, d->dev, d->fn, off) >> (8 * (off & 3)));
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after)
{
	if (!(pci_read32(d, CFG_COMMAND) & STATUS_CAPS))
		return 0;
	uint8_t off = after ? pci_read8(d, after + 1) : pci_read8(d, CFG_CAPS);
	for (unsigned n = 0; n < 48 && off >= 0x40; n++) {
		off &= 0xfc;
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	cfg_write(d->bus, d->dev, d->fn, off, v);
}

/* A 16-bit write as read-modify-write of its dword: the registers we write
 * this way (command) have no write-one-to-clear neighbour that matters
 * (status bits written back as read are cleared; harmless at boot). */
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	uint32_t old = cfg_read(d->bus, d->dev, d->fn, off);
	unsigned shift = 8 * (off & 2);
	old &= ~(0xffffu << shift);
	if (off == CFG_COMMAND)
		old &= 0xffff;          /* do not write status bits back */
	cfg_write(d->bus, d->dev, d->fn, off, old | (uint32_t)v << shift);
}

void pci_enable(const struct pci_dev *d, bool bus_master)
{
	uint16_t cmd = pci_read16(d, CFG_COMMAND) | CMD_IO | CMD_MEM;
	if (bus_master)
		cmd |= CMD_MASTER;
	pci_write16(d, CFG_COMMAND, cmd);
}

/* Size the BARs of a function with nbars of them (6 for a device, 2 for a
 * bridge). */
static void probe_bars(struct pci_dev *d, unsigned nbars)
{
	uint16_t cmd = pci_read16(d, CFG_COMMAND);
	pci_write16(d, CFG_COMMAND, cmd & ~(CMD_IO | CMD_MEM));
	for (unsigned i = 0; i < nbars; i++) {
		uint8_t off = (uint8_t)(PCI_CFG_BAR0 + 4 * i);
		uint32_t orig = pci_read32(d, off);
		pci_write32(d, off, 0xffffffff);
		uint32_t mask = pci_read32(d, off);
		pci_write32(d, off, orig);
		struct pci_bar *b = &d->bar[i];
		if (mask == 0 || mask == 0xffffffff)
			continue;           /* unimplemented */
		if (orig & 1) {
			b->io = true;
			b->base = orig & ~3u;
			uint32_t m = mask & ~3u;
			m |= 0xffff0000u;   /* I/O BARs may implement only 16 bits */
			b->size = (uint32_t)(~m + 1);
			continue;
		}
		b->prefetch = orig & 8;
		uint64_t base = orig & ~0xfu;
		uint64_t m = mask & ~0xfu;
		if (((orig >> 1) & 3) == 2 && i + 1 < nbars) {
			uint8_t hoff = (uint8_t)(off + 4);
			uint32_t horig = pci_read32(d, hoff);
			pci_write32(d, hoff, 0xffffffff);
			uint32_t hmask = pci_read32(d, hoff);
			pci_write32(d, hoff, horig);
			b->is64 = true;
			base |= (uint64_t)horig << 32;
			m |= (uint64_t)hmask << 32;
			i++;                /* the next slot is this BAR's high half */
		} else {
			m |= 0xffffffff00000000ull;
		}
		b->base = base;
		b->size = ~m + 1;
	}
	pci_write16(d, CFG_COMMAND, cmd);
}

static void scan_bus(uint8_t bus);

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
	if (ndevs == PCI_MAX_DEVS) {
		bare_printf("pci: more than %d functions; %x:%x.%u and later ignored\n",
		            PCI_MAX_DEVS, bus, dev, fn);
		return;
	}
	struct pci_dev *d = &devs[ndevs++];
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	uint32_t cls = pci_read32(d, CFG_CLASS);
	d->revision = (uint8_t)cls;
	d->prog_if = (uint8_t)(cls >> 8);
	d->subclass = (uint8_t)(cls >> 16);
	d->class_code = (uint8_t)(cls >> 24);
	d->header_type = (uint8_t)(pci_read32(d, CFG_HEADER) >> 16) & 0x7f;
	uint32_t irq = pci_read32(d, CFG_IRQ);
	d->irq_line = (uint8_t)irq;
	d->irq_pin = (uint8_t)(irq >> 8);
	if (d->header_type == 0) {
		probe_bars(d, 6);
	} else if (d->header_type == 1) {
		probe_bars(d, 2);
		d->secondary_bus = (uint8_t)(pci_read32(d, CFG_BUSES) >> 8);
		if (d->secondary_bus != 0)
			scan_bus(d->secondary_bus);
	}
}

static void scan_bus(uint8_t bus)
{
	if (bus_seen[bus])
		return;                 /* a misprogrammed bridge would loop */
	bus_seen[bus] = true;
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = cfg_read(bus, dev, 0, CFG_VENDOR);
		if ((id & 0xffff) == 0xffff)
			continue;
		bool multi = (cfg_read(bus, dev, 0, CFG_HEADER) >> 23) & 1;
		for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++) {
			if (fn > 0) {
				id = cfg_read(bus, dev, fn, CFG_VENDOR);
				if ((id & 0xffff) == 0xffff)
					continue;
			}
			add_function(bus, dev, fn, id);
		}
	}
}

void pci_init(void)
{
	int expect = 0;
	if (__atomic_compare_exchange_n(&init_state, &expect, 1, false,
	                                __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
		scan_bus(0);
		pci_assign_bars(devs, ndevs);
		__atomic_store_n(&init_state, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 2)
		cpu_relax();
}

unsigned pci_count(void)
{
	return ndevs;
}

struct pci_dev *pci_get(unsigned index)
{
	return index < ndevs ? &devs[index] : NULL;
}

struct pci_dev *pci_find_class(uint8_t class_code, uint8_t subclass, unsigned *from)
{
	for (unsigned i = *from; i < ndevs; i++) {
		if (devs[i].class_code == class_code && devs[i].subclass == subclass) {
			*from = i + 1;
			return &devs[i];
		}
	}
	*from = ndevs;
	return NULL;
}

struct pci_dev *pci_find_dev(uint16_t vendor, uint16_t device, unsigned *from)
{
	for (unsigned i = *from; i < ndevs; i++) {
		if (devs[i].vendor == vendor && (device == 0xffff || devs[i].device == device)) {
			*from = i + 1;
			return &devs[i];
		}
	}
	*from = ndevs;
	return NULL;
}

static const char *class_name(const struct pci_dev *d)
{
	static const struct { uint8_t c, s; const char *name; } names[] = {
		{ 0x01, 0x01, "IDE interface" },
		{ 0x01, 0x06, "SATA controller" },
		{ 0x01, 0x08, "Non-Volatile memory controller" },
		{ 0x01, 0x00, "SCSI storage controller" },
		{ 0x02, 0x00, "Ethernet controller" },
		{ 0x03, 0x00, "VGA compatible controller" },
		{ 0x04, 0x01, "Multimedia audio controller" },
		{ 0x06, 0x00, "Host bridge" },
		{ 0x06, 0x01, "ISA bridge" },
		{ 0x06, 0x04, "PCI bridge" },
		{ 0x06, 0x80, "Bridge" },
		{ 0x0c, 0x03, "USB controller" },
		{ 0x0c, 0x05, "SMBus" },
		{ 0x00, 0xff, "Unclassified device" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].c == d->class_code && names[i].s == d->subclass)
			return names[i].name;
	switch (d->class_code) {
	case 0x01: return "Mass storage controller";
	case 0x02: return "Network controller";
	case 0x03: return "Display controller";
	case 0x06: return "Bridge";
	case 0x0c: return "Serial bus controller";
	default:   return "Device";
	}
}

void pci_print(void)
{
	for (unsigned i = 0; i < ndevs; i++) {
		const struct pci_dev *d = &devs[i];
		bare_printf("%02x:%02x.%u %s [%02x%02x]: %04x:%04x (rev %02x, prog-if %02x)",
		            d->bus, d->dev, d->fn, class_name(d), d->class_code, d->subclass,
		            d->vendor, d->device, d->revision, d->prog_if);
		if (d->irq_pin)
			bare_printf(" irq %u pin %c", d->irq_line, 'A' + d->irq_pin - 1);
		bare_printf("\n");
		for (unsigned b = 0; b < 6; b++) {
			const struct pci_bar *bar = &d->bar[b];
			if (!bar->size)
				continue;
			if (bar->io)
				bare_printf("        BAR%u: I/O ports at %lx [size=%lu]\n",
				            b, (unsigned long)bar->base, (unsigned long)bar->size);
			else
				bare_printf("        BAR%u: memory at %lx (%s%s) [size=%lu]\n",
				            b, (unsigned long)bar->base, bar->is64 ? "64-bit" : "32-bit",
				            bar->prefetch ? ", prefetchable" : "",
				            (unsigned long)bar->size);
		}
		if (d->header_type == 1)
			bare_printf("        bus: secondary=%02x\n", d->secondary_bus);
	}
}
