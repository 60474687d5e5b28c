/*
 * memory.c: usable RAM, from the E820-typed memory map in hvm_start_info.
 *
 * Kept: type 1 (RAM) inside the identity map (4 GiB, and RAM above that
 * when the CPU has 1 GiB pages, up to 512 GiB), less the low 1 MiB (BIOS
 * data, AP trampoline), the kernel image (.bss with the page tables and
 * CPU 0's stack included) and what bare_early_alloc() hands out
 * before kernel_main (the other CPUs' boot stacks).
 *
 * It also sets the cache type of the identity map: a 2 MiB page that holds
 * no RAM or ACPI data (the PCI hole, the I/O APIC, the local APIC) becomes
 * uncached.
 */
#include <string.h>

#include "bare.h"

#define MAX_RANGES 32
#define PAGE       4096ull
#define GIB        0x40000000ull

struct range {
	uint64_t base, end;
};

static struct range ram[MAX_RANGES];    /* all mapped RAM, for bare_is_ram */
static size_t ram_count;
static struct range ranges[MAX_RANGES]; /* what the kernel may have */
static size_t range_count;

/* Take [base, end) out of every range, splitting where needed. */
static void carve(uint64_t base, uint64_t end)
{
	for (size_t i = 0; i < range_count; i++) {
		struct range *r = &ranges[i];
		if (end <= r->base || base >= r->end)
			continue;
		if (base > r->base && end < r->end && range_count < MAX_RANGES) {
			ranges[range_count++] = (struct range){ end, r->end };
			r->end = base;
		} else if (base <= r->base) {
			r->base = end < r->end ? end : r->end;
		} else {
			r->end = base;
		}
	}
}

extern uint64_t boot_pd[2048];         /* entry.S: 2 MiB pages, 0-4 GiB */
extern uint64_t boot_pdpt[512];        /* entry.S: PDPT[0..3] -> boot_pd */

static uint64_t map_end = 4 * GIB;     /* end of the identity map */

/* RAM above 4 GiB: identity map it with 1 GiB pages, if the CPU has them. */
static void map_high_ram(const struct hvm_memmap_entry *e, uint32_t n)
{
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000001)
		return;
	cpuid(0x80000001, 0, r);
	if (!(r[3] & (1u << 26)))          /* no 1 GiB pages */
		return;
	uint64_t ram_end = 0;
	for (uint32_t i = 0; i < n; i++)
		if (e[i].type == 1 && e[i].addr + e[i].size > ram_end)
			ram_end = e[i].addr + e[i].size;
	uint64_t gibs = (ram_end + GIB - 1) / GIB;
	if (gibs > 512)
		gibs = 512;
	for (uint64_t g = 4; g < gibs; g++)
		boot_pdpt[g] = g * GIB | 0x83;  /* P | RW | PS */
	if (gibs > 4)
		map_end = gibs * GIB;
}

/* Cache types of the first 4 GiB, and the mapping of RAM above. */
void memory_set_cache_types(const struct hvm_start_info *si)
{
	const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
	uint32_t n = si->version >= 1 ? si->memmap_entries : 0;
	uint64_t holds_memory[2048 / 64] = { 0 };   /* one bit per 2 MiB page */

	for (uint32_t i = 0; i < n; i++) {
		if (e[i].type != 1 && e[i].type != 3 && e[i].type != 4)
			continue;       /* RAM, ACPI tables, ACPI NVS stay cached */
		uint64_t first = e[i].addr >> 21, last = (e[i].addr + e[i].size - 1) >> 21;
		for (uint64_t p = first; p <= last && p < 2048; p++)
			holds_memory[p / 64] |= 1ull << (p % 64);
	}
	for (unsigned p = 1; p < 2048; p++)
		if (!(holds_memory[p / 64] & (1ull << (p % 64))))
			boot_pd[p] |= 0x18;     /* PCD | PWT */
	map_high_ram(e, n);
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

void memory_init(const struct hvm_start_info *si)
{
	if (si->version < 1 || !si->memmap_paddr) {
		bare_printf("memory: no memory map in hvm_start_info\n");
		hal_shutdown(BARE_FAULT_STATUS);
	}
	const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries && range_count < MAX_RANGES; i++) {
		if (e[i].type != 1)
			continue;
		uint64_t base = (e[i].addr + PAGE - 1) & ~(PAGE - 1);
		uint64_t end = (e[i].addr + e[i].size) & ~(PAGE - 1);
		if (end > map_end)
			end = map_end;
		if (base < end)
			ram[ram_count++] = ranges[range_count++] = (struct range){ base, end };
	}
	carve(0, 0x100000);
	carve((uintptr_t)__kernel_start, (uintptr_t)__kernel_end);
}

bool bare_is_ram(uint64_t addr, size_t len)
{
	for (size_t i = 0; i < ram_count; i++)
		if (addr >= ram[i].base && addr + len <= ram[i].end)
			return true;
	return false;
}

void *bare_early_alloc(size_t size)
{
	size = (size + PAGE - 1) & ~(PAGE - 1);
	for (size_t i = 0; i < range_count; i++) {
		if (ranges[i].end - ranges[i].base >= size) {
			void *p = (void *)(uintptr_t)ranges[i].base;
			ranges[i].base += size;
			return p;
		}
	}
	bare_printf("memory: out of memory for %lu boot bytes\n", (unsigned long)size);
	hal_shutdown(BARE_FAULT_STATUS);
}

size_t hal_mem_regions(struct hal_mem_region *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < range_count && n < max; i++) {
		if (ranges[i].end <= ranges[i].base)
			continue;
		out[n++] = (struct hal_mem_region){
			.base = (uintptr_t)ranges[i].base,
			.size = (size_t)(ranges[i].end - ranges[i].base),
		};
	}
	return n;
}
