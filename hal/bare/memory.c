/*
 * memory.c: usable RAM, from the E820-typed memory map in hvm_start_info.
 *
 * Kept: type 1 (RAM) inside the identity map, less the low 1 MiB (BIOS
 * data, AP trampoline), the kernel image (.bss with the page tables and
 * CPU 0's stack included) and what bare_early_alloc() hands out
 * before kernel_main (the other CPUs' boot stacks).
 *
 * The identity map: entry.S maps the first 4 GiB with 2 MiB pages;
 * memory_init maps the RAM above, up to 512 GiB (what PML4[0] covers),
 * with 1 GiB pages when the CPU has them, else with 2 MiB pages (KVM on
 * some hosts offers no 1 GiB pages; TCG with -cpu max,-pdpe1gb neither).
 * Their page directories, 4 KiB per GiB mapped (2 MiB at the 512 GiB
 * limit), are taken from the RAM below 4 GiB, which is mapped already,
 * as the first early allocations; they are never freed.
 *
 * It also sets the cache type of the first 4 GiB: entry.S maps it all
 * uncached, and the 2 MiB pages that hold RAM or ACPI data become
 * cacheable; the rest (the PCI hole, the I/O APIC, the local APIC) stays
 * uncached.
 */
#include <errno.h>
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

#define MIB2       0x200000ull
#define MAP_LIMIT  (512 * GIB)          /* what PML4[0] covers */
#define PTE_P      0x1ull
#define PTE_RW     0x2ull
#define PTE_PS     0x80ull              /* a 2 MiB or 1 GiB page */
#define PTE_UNCACHED 0x18ull            /* PCD | PWT */

static uint64_t map_end = 4 * GIB;     /* end of the identity map of RAM */

static void reload_cr3(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

/* Cache types of the first 4 GiB (RAM above is mapped by memory_init). */
void memory_set_cache_types(const struct hvm_start_info *si)
{
	const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
	uint32_t n = si->version >= 1 ? si->memmap_entries : 0;

	boot_pd[0] &= ~PTE_UNCACHED;        /* low memory and the kernel, whatever the map */
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].type != 1 && e[i].type != 3 && e[i].type != 4)
			continue;       /* RAM, ACPI tables, ACPI NVS are cached */
		uint64_t first = e[i].addr >> 21, last = (e[i].addr + e[i].size - 1) >> 21;
		for (uint64_t p = first; p <= last && p < 2048; p++)
			boot_pd[p] &= ~PTE_UNCACHED;
	}
	reload_cr3();
}

/* Take size bytes (page aligned) from the first range with room for them
 * below limit; 0 when there is none. */
static uint64_t take(size_t size, uint64_t limit)
{
	size = (size + PAGE - 1) & ~(PAGE - 1);
	for (size_t i = 0; i < range_count; i++) {
		uint64_t end = ranges[i].end < limit ? ranges[i].end : limit;
		if (ranges[i].base < end && end - ranges[i].base >= size) {
			uint64_t p = ranges[i].base;
			ranges[i].base += size;
			return p;
		}
	}
	return 0;
}

static bool has_1gib_pages(void)
{
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000001)
		return false;
	cpuid(0x80000001, 0, r);
	return r[3] & (1u << 26);
}

/* Identity map the 2 MiB page at addr (above 4 GiB), taking its page
 * directory from the RAM below 4 GiB when it is the first page of its
 * GiB. -ENOMEM when no page is left for the directory. */
static int map_2mib_page(uint64_t addr)
{
	uint64_t *pdpte = &boot_pdpt[addr / GIB];
	if (!(*pdpte & PTE_P)) {
		uint64_t pd = take(PAGE, 4 * GIB);
		if (!pd)
			return -ENOMEM;
		memset((void *)(uintptr_t)pd, 0, PAGE);
		*pdpte = pd | PTE_RW | PTE_P;
	}
	uint64_t *pd = (uint64_t *)(uintptr_t)(*pdpte & ~(PAGE - 1));
	pd[(addr / MIB2) % 512] = addr | PTE_PS | PTE_RW | PTE_P;
	return 0;
}

/* Identity map the RAM ranges above 4 GiB (memory_init's ranges, sorted
 * as in the E820 map) with the largest pages the CPU has. Sets map_end
 * past the last mapped RAM; what could not be mapped is left out of
 * ranges by the caller. */
static void map_high_ram(void)
{
	bool gib_pages = has_1gib_pages();
	uint64_t step = gib_pages ? GIB : MIB2;
	for (size_t i = 0; i < range_count; i++) {
		if (ranges[i].end <= 4 * GIB)
			continue;
		uint64_t first = ranges[i].base > 4 * GIB ? ranges[i].base : 4 * GIB;
		for (uint64_t a = first & ~(step - 1); a < ranges[i].end; a += step) {
			if (gib_pages) {
				boot_pdpt[a / GIB] = a | PTE_PS | PTE_RW | PTE_P;
			} else if (map_2mib_page(a) < 0) {
				bare_printf("memory: no page for a page directory; RAM from %lx on not used\n",
				            (unsigned long)a);
				reload_cr3();
				return;
			}
			map_end = a + step;
		}
	}
	reload_cr3();
}

/* Cut every range of r[0..n) at end. */
static void clip(struct range *r, size_t n, uint64_t end)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].end > end)
			r[i].end = end;
		if (r[i].base > r[i].end)
			r[i].base = r[i].end;
	}
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
		if (end > MAP_LIMIT)
			end = MAP_LIMIT;
		if (base < end)
			ram[ram_count++] = ranges[range_count++] = (struct range){ base, end };
	}
	carve(0, 0x100000);
	carve((uintptr_t)__kernel_start, (uintptr_t)__kernel_end);
	map_high_ram();
	clip(ram, ram_count, map_end);
	clip(ranges, range_count, map_end);
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
	uint64_t p = take(size, map_end);
	if (!p) {
		bare_printf("memory: out of memory for %lu boot bytes\n", (unsigned long)size);
		hal_shutdown(BARE_FAULT_STATUS);
	}
	return (void *)(uintptr_t)p;
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
