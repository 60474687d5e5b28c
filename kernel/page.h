/*
 * page.h: the page allocator (buddy system over the platform's memory
 * regions) and the per-page record the slab allocator also uses.
 */
#ifndef KERNEL_PAGE_H
#define KERNEL_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"

#define PAGE_SHIFT     12
#define PAGE_MAX_ORDER 14              /* largest run: 64 MiB */

enum page_kind {
	PAGE_UNUSED,    /* inside a free run, not its head */
	PAGE_FREE,      /* head of a free run of 2^order pages */
	PAGE_LARGE,     /* head of an allocated run (kmalloc above slab sizes) */
	PAGE_SLAB,      /* a slab of small objects, owned by one CPU */
	PAGE_INNER,     /* inside an allocated run, not its head */
};

/* One per 4 KiB page. Free runs: guarded by the page allocator's lock. Slabs:
 * touched only by the owning CPU (others hand objects back; see alloc.c). */
struct page {
	struct list link;       /* free list of its order, or CPU's partial slabs */
	void *free_objs;        /* slab: free objects, linked through their first word */
	uint16_t inuse;         /* slab: objects handed out */
	uint8_t kind;           /* enum page_kind */
	uint8_t order;          /* run length 2^order (FREE, LARGE) */
	uint8_t size_class;     /* slab */
	uint8_t cpu;            /* slab: owner */
};

void page_init(void);
/* page_alloc: 2^order contiguous pages, page aligned; NULL when none. */
void *page_alloc(unsigned order);
void page_free(void *addr);             /* head of a run from page_alloc */
struct page *page_of(const void *addr); /* NULL if not allocator memory */
void *page_address(const struct page *p);
void page_totals(uint64_t *total_bytes, uint64_t *free_bytes);

#endif
