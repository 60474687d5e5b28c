/*
 * memory.c: usable RAM, from the E820-typed memory map in hvm_start_info.
 *
 * Kept: type 1 (RAM) below 4 GiB (the end of the identity map), less the
 * low 1 MiB (BIOS data, AP trampoline), the kernel image (.bss with the page
 * tables and CPU 0's stack included) and what bare_early_alloc() hands out
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
#define MAP_END    0x100000000ull

struct range {
	uint64_t base, end;
};

uintptr_t bare_ram_end;                 /* end of the highest RAM below 4 GiB */

static struct range ranges[MAX_RANGES];
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
		if (end > MAP_END)
			end = MAP_END;
		if (base < end)
			ranges[range_count++] = (struct range){ base, end };
		if (end > bare_ram_end)
			bare_ram_end = (uintptr_t)end;
	}
	carve(0, 0x100000);
	carve((uintptr_t)__kernel_start, (uintptr_t)__kernel_end);
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
			.zeroed = false,
		};
	}
	return n;
}
