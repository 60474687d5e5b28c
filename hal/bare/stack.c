/*
 * stack.c: kernel thread stacks on bare: kmalloc memory, no guard yet. The
 * kernel's page tables map all of RAM writable with large pages, so a
 * guard would mean splitting the page that holds each stack and unmapping
 * one 4 KiB page of it; until then an overflow writes over the allocation
 * below, as before.
 */
#include "alloc.h"
#include "bare.h"

void *hal_stack_alloc(size_t size)
{
	return kmalloc_aligned(size, PAGE_SIZE);
}

void hal_stack_free(void *stack, size_t size)
{
	(void)size;
	kfree(stack);
}
