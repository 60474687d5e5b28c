/*
 * page.c: the buddy page allocator.
 *
 * Each platform memory region starts with an array of struct page, one per
 * page that follows. Runs of 2^order pages are aligned to their size within
 * their region, so a run's buddy is found by flipping one bit of its index.
 *
 * Records are written lazily, which keeps boot from touching them all: the
 * head of every free run and every record of an allocated run are valid;
 * the inside of a free run is not, and is never read (a buddy of a run
 * being freed is never inside a larger free run, as runs are aligned).
 */

#include "console.h"
#include "hal.h"
#include "page.h"
#include "spinlock.h"

#define MAX_REGIONS 16

struct region {
	uintptr_t base;         /* first usable page */
	size_t npages;
	struct page *pages;     /* npages records */
};

static struct spinlock page_lock = SPINLOCK_INIT("page allocator");
/* Guarded by page_lock. */
static struct list free_lists[PAGE_MAX_ORDER + 1];
static uint64_t free_pages;
/* Written once by page_init, then read-only. */
static struct region regions[MAX_REGIONS];
static size_t nregions;
static uint64_t total_pages;

static struct region *region_of(uintptr_t addr)
{
	for (size_t i = 0; i < nregions; i++) {
		struct region *r = &regions[i];
		if (addr >= r->base && addr < r->base + (r->npages << PAGE_SHIFT))
			return r;
	}
	return NULL;
}

struct page *page_of(const void *addr)
{
	struct region *r = region_of((uintptr_t)addr);
	if (!r)
		return NULL;
	return &r->pages[((uintptr_t)addr - r->base) >> PAGE_SHIFT];
}

static struct region *region_of_page(const struct page *p)
{
	for (size_t i = 0; i < nregions; i++)
		if (p >= regions[i].pages && p < regions[i].pages + regions[i].npages)
			return &regions[i];
	return NULL;
}

void *page_address(const struct page *p)
{
	struct region *r = region_of_page(p);
	return (void *)(r->base + ((uintptr_t)(p - r->pages) << PAGE_SHIFT));
}

static void free_run_insert(struct page *p, unsigned order)
{
	p->kind = PAGE_FREE;
	p->order = (uint8_t)order;
	list_push_back(&free_lists[order], &p->link);
}

void page_init(void)
{
	struct hal_mem_region mem[MAX_REGIONS];
	size_t n = hal_mem_regions(mem, MAX_REGIONS);

	for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++)
		list_init(&free_lists[o]);
	for (size_t i = 0; i < n; i++) {
		size_t pages = mem[i].size >> PAGE_SHIFT;
		/* Records for every page, then the pages they describe. */
		size_t meta_pages = (pages * sizeof(struct page) + (1u << PAGE_SHIFT) - 1) >> PAGE_SHIFT;
		if (pages <= meta_pages + 1)
			continue;
		struct region *r = &regions[nregions++];
		r->pages = (struct page *)mem[i].base;
		r->npages = pages - meta_pages;
		r->base = mem[i].base + (meta_pages << PAGE_SHIFT);
		size_t idx = 0;
		while (idx < r->npages) {
			unsigned order = PAGE_MAX_ORDER;
			while ((idx & ((1u << order) - 1)) || idx + (1u << order) > r->npages)
				order--;
			free_run_insert(&r->pages[idx], order);
			idx += 1u << order;
		}
		total_pages += r->npages;
	}
	free_pages = total_pages;
	if (total_pages == 0)
		panic("page_init: no usable memory");
}

void *page_alloc(unsigned order)
{
	if (order > PAGE_MAX_ORDER)
		return NULL;
	spin_lock(&page_lock);
	unsigned o = order;
	while (o <= PAGE_MAX_ORDER && list_empty(&free_lists[o]))
		o++;
	if (o > PAGE_MAX_ORDER) {
		spin_unlock(&page_lock);
		return NULL;
	}
	struct page *p = list_entry(list_pop_front(&free_lists[o]), struct page, link);
	while (o > order) {         /* split: keep the lower half, free the upper */
		o--;
		free_run_insert(p + (1u << o), o);
	}
	p->kind = PAGE_LARGE;
	p->order = (uint8_t)order;
	for (size_t i = 1; i < (1u << order); i++)
		p[i].kind = PAGE_INNER;
	free_pages -= 1u << order;
	spin_unlock(&page_lock);
	return page_address(p);
}

void page_free(void *addr)
{
	struct region *r = region_of((uintptr_t)addr);
	if (!r || ((uintptr_t)addr & ((1u << PAGE_SHIFT) - 1)))
		panic("page_free: %p is not a page run", addr);
	size_t idx = ((uintptr_t)addr - r->base) >> PAGE_SHIFT;
	struct page *p = &r->pages[idx];
	if (p->kind != PAGE_LARGE && p->kind != PAGE_SLAB)
		panic("page_free: %p freed twice or never allocated", addr);
	unsigned order = p->kind == PAGE_SLAB ? 0 : p->order;

	spin_lock(&page_lock);
	free_pages += 1u << order;
	for (size_t i = 0; i < (1u << order); i++)
		p[i].kind = PAGE_UNUSED;
	while (order < PAGE_MAX_ORDER) {     /* merge with free buddies */
		size_t buddy = idx ^ (1u << order);
		if (buddy + (1u << order) > r->npages)
			break;
		struct page *b = &r->pages[buddy];
		if (b->kind != PAGE_FREE || b->order != order)
			break;
		list_remove(&b->link);
		b->kind = PAGE_UNUSED;
		idx &= ~(size_t)(1u << order);
		order++;
	}
	free_run_insert(&r->pages[idx], order);
	spin_unlock(&page_lock);
}

void page_totals(uint64_t *total_bytes, uint64_t *free_bytes)
{
	spin_lock(&page_lock);
	*total_bytes = total_pages << PAGE_SHIFT;
	*free_bytes = free_pages << PAGE_SHIFT;
	spin_unlock(&page_lock);
}
