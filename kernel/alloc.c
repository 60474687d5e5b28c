/*
 * alloc.c: kmalloc/kfree, with per-CPU slabs of small objects.
 *
 * A request up to SLAB_MAX bytes takes an object of the smallest size class
 * that fits, from a one-page slab owned by the calling CPU: no lock, only
 * interrupts off. Larger requests take a run of pages from page.c. A slab
 * object freed on another CPU is pushed onto its owner's remote list (a
 * lock-free stack) and put back in its slab by the owner at its next
 * kmalloc. Power-of-two classes are aligned to their size, which is how
 * kmalloc_aligned honours alignments up to a page.
 */
#include <string.h>

#include "alloc.h"
#include "console.h"
#include "cpu.h"
#include "hal.h"
#include "page.h"

#define SLAB_MAX 2048

static const uint16_t class_size[] = {
	16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1024, 2048,
};
#define NCLASSES (sizeof(class_size) / sizeof(class_size[0]))

struct cpu_heap {
	/* Owner CPU only, interrupts off. */
	struct list partial[NCLASSES];  /* slabs with at least one free object */
	struct alloc_stats stats;       /* this CPU's share; counters only grow
	                                   except bytes_in_use */
	/* Any CPU, atomically: objects freed here by other CPUs. */
	void *remote_free;
} __attribute__((aligned(64)));

static struct cpu_heap heaps[HAL_MAX_CPUS];

void alloc_init(void)
{
	page_init();
	for (unsigned c = 0; c < hal_cpu_count(); c++)
		for (unsigned i = 0; i < NCLASSES; i++)
			list_init(&heaps[c].partial[i]);
}

static unsigned class_of(size_t size)
{
	unsigned i = 0;
	while (class_size[i] < size)
		i++;
	return i;
}

static unsigned order_of(size_t size)
{
	unsigned order = 0;
	while (((size_t)PAGE_SIZE << order) < size)
		order++;
	return order;
}

static void *slab_new(struct cpu_heap *h, unsigned cls)
{
	char *base = page_alloc(0);
	if (!base)
		return NULL;
	struct page *p = page_of(base);
	unsigned size = class_size[cls];
	p->kind = PAGE_SLAB;
	p->size_class = (uint8_t)cls;
	p->cpu = (uint8_t)hal_cpu_id();
	p->inuse = 0;
	p->free_objs = NULL;
	for (unsigned off = (PAGE_SIZE / size - 1) * size;; off -= size) {
		*(void **)(base + off) = p->free_objs;
		p->free_objs = base + off;
		if (off == 0)
			break;
	}
	list_push_front(&h->partial[cls], &p->link);
	return p;
}

/* Put obj back into its slab, owned by the calling CPU. */
static void slab_put(struct cpu_heap *h, struct page *p, void *obj)
{
	bool was_full = p->free_objs == NULL;
	*(void **)obj = p->free_objs;
	p->free_objs = obj;
	p->inuse--;
	h->stats.frees++;
	h->stats.bytes_in_use -= class_size[p->size_class];
	struct list *partial = &h->partial[p->size_class];
	if (was_full)
		list_push_front(partial, &p->link);
	/* Keep one empty slab per class for the next burst; give others back. */
	if (p->inuse == 0 && (partial->next != &p->link || p->link.next != partial)) {
		list_remove(&p->link);
		page_free(page_address(p));
	}
}

static void drain_remote(struct cpu_heap *h)
{
	void *obj = __atomic_exchange_n(&h->remote_free, NULL, __ATOMIC_ACQUIRE);
	while (obj) {
		void *next = *(void **)obj;
		slab_put(h, page_of(obj), obj);
		obj = next;
	}
}

static void *slab_get(unsigned cls)
{
	unsigned long irq = hal_irq_save();
	struct cpu_heap *h = &heaps[hal_cpu_id()];

	if (__atomic_load_n(&h->remote_free, __ATOMIC_RELAXED))
		drain_remote(h);
	struct list *partial = &h->partial[cls];
	struct page *p = list_empty(partial) ? slab_new(h, cls)
	                                     : list_entry(partial->next, struct page, link);
	void *obj = NULL;
	if (p) {
		obj = p->free_objs;
		p->free_objs = *(void **)obj;
		p->inuse++;
		if (!p->free_objs)
			list_remove(&p->link);
		h->stats.allocs++;
		h->stats.bytes_in_use += class_size[cls];
	} else {
		h->stats.failed_allocs++;
	}
	hal_irq_restore(irq);
	return obj;
}

static void *large_get(size_t size)
{
	unsigned order = order_of(size);
	void *mem = page_alloc(order);
	unsigned long irq = hal_irq_save();
	struct cpu_heap *h = &heaps[hal_cpu_id()];
	if (mem) {
		h->stats.allocs++;
		h->stats.bytes_in_use += (uint64_t)PAGE_SIZE << order;
	} else {
		h->stats.failed_allocs++;
	}
	hal_irq_restore(irq);
	return mem;
}

void *kmalloc(size_t size)
{
	if (size == 0)
		size = 1;
	if (size > SLAB_MAX)
		return large_get(size);
	return slab_get(class_of(size));
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void *kmalloc_aligned(size_t size, size_t align)
{
	if (align == 0 || (align & (align - 1)) || align > PAGE_SIZE)
		return NULL;
	if (align <= 16)
		return kmalloc(size);
	/* The power of two at least as big as both is aligned to itself. */
	size_t need = size > align ? size : align;
	size_t pow2 = 16;
	while (pow2 < need)
		pow2 <<= 1;
	return kmalloc(pow2);
}

size_t kmalloc_usable_size(const void *ptr)
{
	struct page *p = page_of(ptr);
	if (!p)
		return 0;
	if (p->kind == PAGE_SLAB)
		return class_size[p->size_class];
	return (size_t)PAGE_SIZE << p->order;
}

void kfree(void *ptr)
{
	if (!ptr)
		return;
	struct page *p = page_of(ptr);
	if (!p || (p->kind != PAGE_SLAB && p->kind != PAGE_LARGE))
		panic("kfree: %p was not allocated by kmalloc", ptr);

	unsigned long irq = hal_irq_save();
	unsigned me = hal_cpu_id();
	struct cpu_heap *h = &heaps[me];
	if (p->kind == PAGE_LARGE) {
		h->stats.frees++;
		h->stats.bytes_in_use -= (uint64_t)PAGE_SIZE << p->order;
		hal_irq_restore(irq);
		page_free(ptr);
		return;
	}
	if (p->cpu == me) {
		slab_put(h, p, ptr);
	} else {
		struct cpu_heap *owner = &heaps[p->cpu];
		void *head = __atomic_load_n(&owner->remote_free, __ATOMIC_RELAXED);
		do {
			*(void **)ptr = head;
		} while (!__atomic_compare_exchange_n(&owner->remote_free, &head, ptr, true,
		                                      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
		h->stats.remote_frees++;
	}
	hal_irq_restore(irq);
}

void alloc_stats(int cpu, struct alloc_stats *out)
{
	memset(out, 0, sizeof(*out));
	unsigned first = cpu < 0 ? 0 : (unsigned)cpu;
	unsigned last = cpu < 0 ? hal_cpu_count() : (unsigned)cpu + 1;
	for (unsigned c = first; c < last && c < HAL_MAX_CPUS; c++) {
		const struct alloc_stats *s = &heaps[c].stats;
		out->allocs += s->allocs;
		out->frees += s->frees;
		out->remote_frees += s->remote_frees;
		out->failed_allocs += s->failed_allocs;
		out->bytes_in_use += s->bytes_in_use;
	}
	page_totals(&out->total_bytes, &out->free_bytes);
}
