/*
 * ata_probe.c: finding the ATA disks (ata_init) and describing them.
 *
 * The controller is found through PCI (class 01:01): a channel whose prog-if
 * bit says "native" uses BAR0/1 (BAR2/3) and is polled (its PCI interrupt
 * is not routed here); a channel in compatibility mode uses the legacy
 * ports 0x1f0/0x3f6 or 0x170/0x376 and ISA IRQ 14 or 15 through the I/O
 * APIC. Without a PCI IDE function the legacy ports are tried anyway. BAR4,
 * when the controller has it (prog-if bit 7), is the bus-master DMA block.
 * Each drive answers IDENTIFY DEVICE (polled, nIEN set); ATAPI and SATA
 * signatures and empty slots are skipped. The disks are numbered in slot
 * order: hda (primary master), hdb, hdc, hdd.
 */
#include <string.h>

#include "ata_hw.h"
#include "irq.h"
#include "pci.h"

struct ata_channel ata_channels[2];
struct ata_disk ata_disks[ATA_MAX_DISKS];
unsigned ata_ndisks;
int ata_init_state;
static const struct bare_blk_ops ata_blk_ops;

/* ---- Probe -------------------------------------------------------------- */

static void identify_string(char *out, const uint16_t *words, unsigned nwords)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nwords; i++) {
		out[n++] = (char)(words[i] >> 8);
		out[n++] = (char)words[i];
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == 0))
		n--;
	out[n] = 0;
}

/* IDENTIFY DEVICE on one drive, polled with interrupts off at the drive.
 * Returns true for an ATA disk (id filled in); ATAPI and empty slots give
 * false. */
static bool identify(struct ata_channel *ch, unsigned drive, uint16_t id[256], bool *atapi)
{
	uint16_t io = ch->cmd;
	*atapi = false;
	outb(io + REG_DRIVE, (uint8_t)(0xa0 | drive << 4));
	settle(ch);
	if (ata_wait_ready(ch, false, PROBE_TIMEOUT_NS) & ST_BSY)
		return false;
	outb(io + REG_COUNT, 0);
	outb(io + REG_LBA0, 0);
	outb(io + REG_LBA1, 0);
	outb(io + REG_LBA2, 0);
	outb(io + REG_COMMAND, CMD_IDENTIFY);
	settle(ch);
	uint8_t s = alt_status(ch);
	if (s == 0 || s == 0xff)
		return false;           /* no drive */
	s = ata_wait_ready(ch, false, PROBE_TIMEOUT_NS);
	if (s & ST_BSY)
		return false;
	uint8_t mid = inb(io + REG_LBA1), high = inb(io + REG_LBA2);
	if ((mid == 0x14 && high == 0xeb) || (mid == 0x69 && high == 0x96)) {
		*atapi = true;          /* packet device: answers IDENTIFY PACKET */
		inb(io + REG_STATUS);
		return false;
	}
	if (mid || high) {
		inb(io + REG_STATUS);
		return false;           /* not ATA (SATA signature, ...) */
	}
	s = ata_wait_ready(ch, true, PROBE_TIMEOUT_NS);
	if ((s & (ST_BSY | ST_ERR | ST_DF)) || !(s & ST_DRQ)) {
		inb(io + REG_STATUS);
		return false;
	}
	insw(io + REG_DATA, id, 256);
	inb(io + REG_STATUS);
	return !(id[0] & 0x8000);
}

/* SET MULTIPLE MODE to the drive's largest block (IDENTIFY word 47), so
 * PIO takes one interrupt per block; the block, or 1 when the drive has no
 * such mode or refuses. The drive is selected; polled. */
static unsigned set_multiple(struct ata_channel *ch, const uint16_t id[256])
{
	unsigned max = id[47] & 0xff;
	if (max < 2 || (max & (max - 1)))
		return 1;
	outb(ch->cmd + REG_COUNT, (uint8_t)max);
	outb(ch->cmd + REG_COMMAND, CMD_SET_MULT);
	settle(ch);
	uint8_t s = ata_wait_ready(ch, false, PROBE_TIMEOUT_NS);
	inb(ch->cmd + REG_STATUS);
	return (s & (ST_BSY | ST_ERR | ST_DF)) ? 1 : max;
}

static void probe_channel(struct ata_channel *ch, bool force_pio)
{
	static const char *names[4] = { "hda", "hdb", "hdc", "hdd" };
	if (inb(ch->cmd + REG_STATUS) == 0xff && inb(ch->ctrl) == 0xff)
		return;                 /* floating bus: no drives */
	/* No software reset here: the firmware left the drives reset, and
	 * QEMU performs SRST later, in a bottom half, which raced the
	 * IDENTIFY that followed (drives then read as absent). */
	outb(ch->ctrl, CTL_NIEN);
	for (unsigned drive = 0; drive < 2; drive++) {
		uint16_t id[256];
		bool atapi;
		if (!identify(ch, drive, id, &atapi)) {
			if (atapi)
				bare_printf("ata: %s: ATAPI device, not used\n",
				            names[ch->index * 2 + drive]);
			continue;
		}
		if (!(id[49] & (1u << 9)) || ata_ndisks == ATA_MAX_DISKS)
			continue;           /* CHS only: not supported */
		struct ata_disk *d = &ata_disks[ata_ndisks++];
		d->ch = ch;
		d->drive = drive;
		d->sectors = (uint32_t)id[60] | (uint32_t)id[61] << 16;
		if (id[83] & (1u << 10)) {
			uint64_t s48 = (uint64_t)id[100] | (uint64_t)id[101] << 16 |
			               (uint64_t)id[102] << 32 | (uint64_t)id[103] << 48;
			d->lba48 = true;
			if (s48 > d->sectors)
				d->sectors = s48;
		}
		d->dma = ch->bm && (id[49] & (1u << 8)) && !force_pio;
		d->mult = set_multiple(ch, id);
		char model[41];
		identify_string(model, &id[27], 20);
		size_t n = strlen(names[ch->index * 2 + drive]);
		memcpy(d->name, names[ch->index * 2 + drive], n);
		memcpy(d->name + n, ": ", 2);
		n += 2;
		size_t m = strnlen(model, sizeof(d->name) - 1 - n);
		memcpy(d->name + n, model, m);
		d->name[n + m] = 0;
	}
}

static void setup_channel(struct ata_channel *ch, const struct pci_dev *pci, bool native,
                          bool bus_master)
{
	unsigned i = ch->index;
	ch->tail = &ch->head;
	ch->isa_irq = -1;
	if (native && pci && pci->bar[2 * i].io && pci->bar[2 * i + 1].io &&
	    pci->bar[2 * i].base && pci->bar[2 * i + 1].base) {
		ch->cmd = (uint16_t)pci->bar[2 * i].base;
		ch->ctrl = (uint16_t)(pci->bar[2 * i + 1].base + 2);
	} else if (!native) {
		ch->cmd = i == 0 ? 0x1f0 : 0x170;
		ch->ctrl = i == 0 ? 0x3f6 : 0x376;
		ch->isa_irq = i == 0 ? 14 : 15;
	} else {
		return;                 /* native without usable BARs */
	}
	if (bus_master)
		ch->bm = (uint16_t)(pci->bar[4].base + 8 * i);
}

void ata_init(void)
{
	int expect = 0;
	if (!__atomic_compare_exchange_n(&ata_init_state, &expect, 1, false,
	                                 __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&ata_init_state, __ATOMIC_ACQUIRE) != 2)
			cpu_relax();
		return;
	}
	ata_pool_init();
	pci_init();
	unsigned from = 0;
	struct pci_dev *pci = pci_find_class(0x01, 0x01, &from);
	bool force_pio = bare_cmdline_has("--ata-pio");
	bool force_poll = bare_cmdline_has("--ata-poll");     /* tests: no IRQs */
	bool bus_master = pci && (pci->prog_if & 0x80) && pci->bar[4].io &&
	                  pci->bar[4].base && pci->bar[4].size >= 16;
	if (pci)
		pci_enable(pci, bus_master);
	for (unsigned i = 0; i < 2; i++) {
		struct ata_channel *ch = &ata_channels[i];
		ch->index = i;
		bool native = pci && (pci->prog_if & (1u << (2 * i)));
		setup_channel(ch, pci, native, bus_master);
		if (!ch->cmd)
			continue;
		unsigned before = ata_ndisks;
		probe_channel(ch, force_pio);
		if (ata_ndisks == before) {
			ch->cmd = 0;        /* nothing to serve */
			continue;
		}
		if (force_poll)
			ch->isa_irq = -1;
		if (ch->isa_irq >= 0 && bare_irq_route_isa((unsigned)ch->isa_irq, 0,
		                                           ata_channel_irq, ch) < 0)
			ch->isa_irq = -1;   /* no I/O APIC: polled */
		outb(ch->ctrl, ch->isa_irq >= 0 ? 0 : CTL_NIEN);
		inb(ch->cmd + REG_STATUS);
	}
	for (unsigned i = 0; i < ata_ndisks; i++) {
		struct ata_disk *d = &ata_disks[i];
		bare_printf("ata: %s, %lu sectors, LBA%s, %s, PIO block %u%s\n",
		            d->name, (unsigned long)d->sectors, d->lba48 ? "48" : "28",
		            d->dma ? "DMA" : "PIO", d->mult,
		            d->ch->isa_irq >= 0 ? "" : ", polled");
		d->blk.ops = &ata_blk_ops;
		if (bare_blk_add(&d->blk) < 0)
			bare_printf("ata: %s: too many disks, not used\n", d->name);
	}
	__atomic_store_n(&ata_init_state, 2, __ATOMIC_RELEASE);
}

static void ata_disk_info(struct hal_blkdev *blk, struct hal_blk_info *info)
{
	const struct ata_disk *d = (const struct ata_disk *)blk;
	memset(info, 0, sizeof(*info));
	info->sectors = d->sectors;
	info->sector_size = SECTOR;
	info->read_only = false;
	memcpy(info->name, d->name, sizeof(info->name));
}

static const struct bare_blk_ops ata_blk_ops = {
	.info = ata_disk_info,
	.submit = ata_submit,
};
