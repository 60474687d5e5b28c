/*
 * mptable.c: the Intel MultiProcessor Specification 1.4 tables, for a
 * machine without an ACPI MADT (QEMU's microvm with acpi=off, VMMs of the
 * Firecracker kind): the CPUs (processor entries, enabled ones, in table
 * order), the local APIC's address and the I/O APICs. The floating
 * pointer ("_MP_", 16 bytes on a 16-byte boundary, checksummed) is looked
 * for in the first KiB of the EBDA, the last KiB of base memory and the
 * BIOS area 0xf0000-0xfffff; it names the configuration table ("PCMP").
 * The table gives no GSI bases: the I/O APICs take consecutive GSIs in
 * table order (ioapic.c fills in the bases from their sizes). Interrupt
 * assignment entries are not read: ISA IRQs are taken as identity mapped,
 * edge triggered, active high (what such VMMs wire).
 */
#include <string.h>

#include "bare.h"

struct mp_floating {
	char signature[4];          /* "_MP_" */
	uint32_t config;            /* physical address of the table, 0: a default configuration */
	uint8_t length;             /* in 16-byte units: 1 */
	uint8_t revision;
	uint8_t checksum;
	uint8_t features[5];
} __attribute__((packed));

struct mp_config {
	char signature[4];          /* "PCMP" */
	uint16_t length;            /* base table, header included */
	uint8_t revision;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entries;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IO_INT = 3, MP_LOCAL_INT = 4 };

static bool sum_ok(const void *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

static const struct mp_floating *scan(uintptr_t from, uintptr_t to)
{
	for (uintptr_t a = from; a + 16 <= to; a += 16) {
		const struct mp_floating *f = (const void *)a;
		if (!memcmp(f->signature, "_MP_", 4) && f->length == 1 && sum_ok(f, 16))
			return f;
	}
	return NULL;
}

static const struct mp_floating *find_floating(void)
{
	uintptr_t bda = 0x40e;
	__asm__("" : "+r"(bda));        /* a real address, not NULL + x */
	uintptr_t ebda = (uintptr_t)*(const uint16_t *)bda << 4;
	const struct mp_floating *f = NULL;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		f = scan(ebda, ebda + 1024);
	if (!f)
		f = scan(0x9fc00, 0xa0000);
	if (!f)
		f = scan(0xf0000, 0x100000);
	return f;
}

bool mptable_init(void)
{
	const struct mp_floating *f = find_floating();
	if (!f || !f->config)
		return false;
	const struct mp_config *c = (const void *)(uintptr_t)f->config;
	if (memcmp(c->signature, "PCMP", 4) || c->length < sizeof(*c) || !sum_ok(c, c->length))
		return false;
	acpi_lapic_addr = c->lapic;
	const uint8_t *p = (const uint8_t *)(c + 1), *end = (const uint8_t *)c + c->length;
	/* Entries up to the table's length: qboot (microvm, acpi=off) leaves
	 * the entry count 0, so a non-zero count only bounds it further. */
	for (unsigned i = 0; (!c->entries || i < c->entries) && p < end; i++) {
		unsigned size = p[0] == MP_PROCESSOR ? 20 : 8;
		if (p[0] > MP_LOCAL_INT || p + size > end)
			break;              /* unknown entry: its size is unknown too */
		if (p[0] == MP_PROCESSOR && (p[3] & 1) && acpi_cpu_count < HAL_MAX_CPUS)
			acpi_cpu_apic_ids[acpi_cpu_count++] = p[1];
		if (p[0] == MP_IOAPIC && (p[3] & 1) && acpi_ioapic_count < ACPI_IOAPIC_MAX) {
			struct acpi_ioapic *io = &acpi_ioapics[acpi_ioapic_count++];
			uint32_t addr;
			memcpy(&addr, p + 4, 4);
			io->addr = addr;
			io->gsi_base = ACPI_GSI_NEXT;
		}
		p += size;
	}
	return acpi_cpu_count > 0;
}
