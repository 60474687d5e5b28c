/*
 * acpi.c: the few ACPI tables the HAL reads: RSDP -> RSDT/XSDT -> MADT, for
 * the CPUs (local APIC ids, in MADT order), the local APIC and I/O APIC
 * addresses and the ISA interrupt overrides. The RSDP comes from the
 * hvm_start_info, else from a scan of the EBDA and 0xe0000-0xfffff.
 * Without a MADT the machine is taken as one CPU with the default LAPIC.
 */
#include <string.h>

#include "bare.h"

uintptr_t acpi_lapic_addr = 0xfee00000;
uintptr_t acpi_ioapic_addr;
uint32_t acpi_ioapic_gsi_base;
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
		case 1:         /* I/O APIC: id, 0, address, GSI base (first one only) */
			if (!acpi_ioapic_addr) {
				memcpy(&u32, p + 4, 4);
				acpi_ioapic_addr = u32;
				memcpy(&acpi_ioapic_gsi_base, p + 8, 4);
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
	else
		bare_printf("acpi: no MADT, running on one CPU\n");
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
