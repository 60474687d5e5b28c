/*
 * alloc.h: the kernel memory allocator.
 *
 * Two layers: page.c hands out power-of-two runs of 4 KiB pages from the
 * platform's memory regions (buddy system, one lock); alloc.c keeps, per CPU,
 * slabs of small objects in size classes. An object freed on another CPU goes
 * back to the CPU that owns its slab. Any alignment up to a page is honoured.
 * Out of memory is a NULL return, never a panic. Safe in irq context (the
 * per-CPU part runs with interrupts off).
 */
#ifndef KERNEL_ALLOC_H
#define KERNEL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096u

void alloc_init(void);          /* once, on CPU 0, from kernel_main */

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void *kmalloc_aligned(size_t size, size_t align);   /* align: power of 2 <= PAGE_SIZE */
void kfree(void *ptr);                              /* NULL is fine */
size_t kmalloc_usable_size(const void *ptr);

struct alloc_stats {
	uint64_t total_bytes;       /* managed by the page allocator */
	uint64_t free_bytes;        /* free in the page allocator */
	uint64_t allocs, frees;     /* kmalloc / kfree calls that succeeded */
	uint64_t remote_frees;      /* frees handed back to another CPU */
	uint64_t failed_allocs;     /* NULL returns */
	uint64_t bytes_in_use;      /* sum of usable sizes of live objects */
};

/* alloc_stats: totals over all CPUs (cpu < 0) or one CPU's counters. */
void alloc_stats(int cpu, struct alloc_stats *out);

#endif
