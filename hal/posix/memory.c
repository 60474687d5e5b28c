/*
 * memory.c: the kernel's RAM on posix, one anonymous mapping. Pages are only
 * backed by the host when first touched, so a large default costs nothing.
 */
#include <sys/mman.h>

#include "hal.h"
#include "posix.h"

static void *mem_base;      /* set once before the kernel starts */
static size_t mem_size;

void posix_memory_init(size_t bytes)
{
	mem_size = bytes ? (bytes + 4095) & ~(size_t)4095 : POSIX_DEFAULT_MEM_BYTES;
	mem_base = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem_base == MAP_FAILED) {
		mem_base = NULL;
		mem_size = 0;
		return;
	}
	/* Huge pages would make each first touch zero 2 MiB: slow to boot. */
	madvise(mem_base, mem_size, MADV_NOHUGEPAGE);
}

void posix_memory_fini(void)
{
	if (mem_base)
		munmap(mem_base, mem_size);
	mem_base = NULL;
	mem_size = 0;
}

size_t hal_mem_regions(struct hal_mem_region *out, size_t max)
{
	if (!mem_base || max == 0)
		return 0;
	out[0] = (struct hal_mem_region){ (uintptr_t)mem_base, mem_size };
	return 1;
}
