/*
 * acpi.c: the few ACPI tables the HAL reads: RSDP -> RSDT/XSDT -> MADT, for
 * the CPUs (local APIC ids, in MADT order), the local APIC and I/O APICs'
 * addresses (microvm has two) and the ISA interrupt overrides. The RSDP comes from the
 * hvm_start_info, else from a scan of the EBDA and 0xe0000-0xfffff.
 * Without a MADT the MP tables are read instead (mptable.c); without
 * either the machine is taken as one CPU with the default LAPIC.
 *
 * Also the virtio-mmio devices that QEMU's microvm describes in its DSDT
 * (devices with _HID "LNRO0005"), without an AML interpreter: after each
 * such _HID string, up to the next one, the _CRS resource template holds a
 * Memory32Fixed descriptor (tag 0x86: base, length) and an Extended
 * Interrupt one (tag 0x89: the GSI). Descriptors have fixed layouts (ACPI
 * 6.x section 6.4), so a byte scan for them finds what microvm writes; a
 * DSDT laid out otherwise yields no devices, not wrong ones (the transport
 * checks each block's magic before use). Recorded at boot, before the
 * tables' memory could be reused. The DSDT's checksum is not summed: the
 * scan needs no more trust than that (Linux too only warns on a DSDT that
 * does not sum to 0), and on pc's 6.5 KB DSDT (no virtio-mmio device in
 * it) the sum and a memcmp call at every byte were most of the
 * instructions before the service's main.
 */
#include <string.h>

#include "bare.h"

uintptr_t acpi_lapic_addr = 0xfee00000;
struct acpi_ioapic acpi_ioapics[ACPI_IOAPIC_MAX];
unsigned acpi_ioapic_count;
uint32_t acpi_cpu_apic_ids[HAL_MAX_CPUS];
unsigned acpi_cpu_count;

struct isa_override {
	uint32_t gsi;
	uint16_t flags;
	bool set;
};
static struct isa_override isa_overrides[16];

struct rsdp {
	char signature[8];          /* "RSD PTR " */
	uint8_t checksum;
	char oem[6];
	uint8_t revision;           /* 0: ACPI 1.0, RSDT only */
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t xchecksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct sdt_header {
	char signature[4];
	uint32_t length;            /* header included */
	uint8_t revision;
	uint8_t checksum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

static bool sum_ok(const void *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

static const struct rsdp *scan_rsdp(uintptr_t from, uintptr_t to)
{
	for (uintptr_t a = from; a + sizeof(struct rsdp) <= to; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8) && sum_ok((const void *)a, 20))
			return (const struct rsdp *)a;
	return NULL;
}

static const struct sdt_header *find_table(const struct rsdp *rsdp, const char *sig)
{
	bool x = rsdp->revision >= 2 && rsdp->xsdt;
	const struct sdt_header *root =
		(const void *)(uintptr_t)(x ? rsdp->xsdt : rsdp->rsdt);
	if (!sum_ok(root, root->length))
		return NULL;
	size_t width = x ? 8 : 4;
	size_t n = (root->length - sizeof(*root)) / width;
	const uint8_t *entries = (const uint8_t *)(root + 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t addr = 0;
		memcpy(&addr, entries + i * width, width);
		const struct sdt_header *t = (const void *)(uintptr_t)addr;
		if (addr && addr < 0x100000000ull && !memcmp(t->signature, sig, 4) &&
		    sum_ok(t, t->length))
			return t;
	}
	return NULL;
}

#define VIRTIO_MMIO_HID "\x0dLNRO0005"       /* an AML string: prefix 0x0d */

static struct acpi_mmio_dev mmio_devs[ACPI_MMIO_MAX];
static unsigned mmio_count;

/* The resource descriptors of one device: from p up to end. */
static void scan_virtio_crs(const uint8_t *p, const uint8_t *end)
{
	struct acpi_mmio_dev d = { 0 };
	bool mem = false, irq = false;
	for (; p + 12 <= end && !(mem && irq); p++) {
		if (!mem && p[0] == 0x86 && p[1] == 9 && p[2] == 0) {
			memcpy(&d.base, p + 4, 4);
			memcpy(&d.size, p + 8, 4);
			mem = true;
		} else if (!irq && p[0] == 0x89 && p[1] >= 6 && p[2] == 0 && p[4] >= 1) {
			memcpy(&d.gsi, p + 5, 4);
			irq = true;
		}
	}
	if (mem && irq && d.size && mmio_count < ACPI_MMIO_MAX)
		mmio_devs[mmio_count++] = d;
}

static void scan_dsdt(const struct sdt_header *dsdt)
{
	const uint8_t *p = (const uint8_t *)(dsdt + 1);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	size_t hid_len = sizeof(VIRTIO_MMIO_HID);      /* with its NUL */
	const uint8_t *dev = NULL;
	/* memchr to each string prefix, a word at a time: the few places
	 * where the HID can start */
	while ((p = memchr(p, VIRTIO_MMIO_HID[0], (size_t)(end - p))) && p + hid_len <= end) {
		if (memcmp(p, VIRTIO_MMIO_HID, hid_len) != 0) {
			p++;
			continue;
		}
		if (dev)
			scan_virtio_crs(dev, p);
		dev = p + hid_len;
		p = dev;
	}
	if (dev)
		scan_virtio_crs(dev, end);
}

const struct acpi_mmio_dev *acpi_virtio_mmio(unsigned index)
{
	return index < mmio_count ? &mmio_devs[index] : NULL;
}

static void add_cpu(uint32_t apic_id, uint32_t flags)
{
	if ((flags & 1) && acpi_cpu_count < HAL_MAX_CPUS)
		acpi_cpu_apic_ids[acpi_cpu_count++] = apic_id;
}

static void parse_madt(const struct sdt_header *madt)
{
	const uint8_t *p = (const uint8_t *)(madt + 1);
	const uint8_t *end = (const uint8_t *)madt + madt->length;
	uint32_t lapic32;

	memcpy(&lapic32, p, 4);
	acpi_lapic_addr = lapic32;
	for (p += 8; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		uint32_t u32, flags;
		uint16_t u16;
		uint64_t u64;
		switch (p[0]) {
		case 0:         /* processor local APIC: uid, apic id, flags */
			memcpy(&flags, p + 4, 4);
			add_cpu(p[3], flags);
			break;
		case 1:         /* I/O APIC: id, 0, address, GSI base */
			if (acpi_ioapic_count < ACPI_IOAPIC_MAX) {
				struct acpi_ioapic *io = &acpi_ioapics[acpi_ioapic_count++];
				memcpy(&u32, p + 4, 4);
				io->addr = u32;
				memcpy(&io->gsi_base, p + 8, 4);
			}
			break;
		case 2:         /* interrupt source override: bus, source, GSI, flags */
			if (p[3] < 16) {
				memcpy(&u32, p + 4, 4);
				memcpy(&u16, p + 8, 2);
				isa_overrides[p[3]] = (struct isa_override){ u32, u16, true };
			}
			break;
		case 5:         /* 64-bit local APIC address */
			memcpy(&u64, p + 4, 8);
			acpi_lapic_addr = u64;
			break;
		case 9:         /* x2APIC: 0, 0, x2apic id, flags, uid */
			memcpy(&u32, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			if (u32 < 0xff)     /* we drive the APIC in xAPIC mode */
				add_cpu(u32, flags);
			break;
		}
	}
}

void acpi_init(const struct hvm_start_info *si)
{
	const struct rsdp *rsdp = NULL;

	if (si && si->rsdp_paddr)
		rsdp = (const void *)(uintptr_t)si->rsdp_paddr;
	if (!rsdp) {
		uintptr_t bda_ebda = 0x40e;         /* BIOS data area: EBDA segment */
		__asm__("" : "+r"(bda_ebda));      /* a real address, not NULL + x */
		uintptr_t ebda = (uintptr_t)*(const uint16_t *)bda_ebda << 4;
		if (ebda >= 0x80000 && ebda < 0xa0000)
			rsdp = scan_rsdp(ebda, ebda + 1024);
	}
	if (!rsdp)
		rsdp = scan_rsdp(0xe0000, 0x100000);
	const struct sdt_header *madt = rsdp ? find_table(rsdp, "APIC") : NULL;
	if (madt)
		parse_madt(madt);
	else if (mptable_init())
		bare_printf("acpi: no MADT; %u CPU(s), %u I/O APIC(s) from the MP table\n",
		            acpi_cpu_count, acpi_ioapic_count);
	else
		bare_printf("acpi: no MADT nor MP table, running on one CPU\n");
	const struct sdt_header *fadt = rsdp ? find_table(rsdp, "FACP") : NULL;
	if (fadt && fadt->length >= 44) {
		uint32_t dsdt;
		memcpy(&dsdt, (const uint8_t *)fadt + 40, 4);
		const struct sdt_header *t = (const void *)(uintptr_t)dsdt;
		if (dsdt && !memcmp(t->signature, "DSDT", 4))
			scan_dsdt(t);
	}
}

uint32_t acpi_isa_gsi(unsigned isa_irq, uint16_t *flags)
{
	if (isa_irq < 16 && isa_overrides[isa_irq].set) {
		*flags = isa_overrides[isa_irq].flags;
		return isa_overrides[isa_irq].gsi;
	}
	*flags = 0;
	return isa_irq;
}
