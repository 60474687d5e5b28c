/*
 * virtqueue.c: split virtqueues (virtqueue.h).
 *
 * Free descriptors form a chain through their next fields, headed by
 * free_head. A chain added for the device is taken off it; when the device
 * returns the chain in the used ring, it goes back whole. The available
 * and used indexes run freely modulo 2^16; ring slots are index mod size.
 *
 * Ordering (x86: stores are not reordered with stores, loads not with
 * loads, so only compiler barriers and one full fence are needed):
 * descriptors before the avail entry before avail->idx (release); avail->idx
 * before reading used->flags (full fence: a store then a load); used->idx
 * before the used entry (acquire).
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "virtqueue.h"

#define RING_ALIGN 4096u

static size_t avail_bytes(uint16_t size) { return 6 + 2u * size; }
static size_t used_offset(uint16_t size)
{
	size_t end = 16u * size + avail_bytes(size);
	return (end + RING_ALIGN - 1) & ~(size_t)(RING_ALIGN - 1);
}

int virtq_alloc(struct virtq *vq, uint16_t index, uint16_t size)
{
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	size_t bytes = used_offset(size) + 6 + 8u * size;
	memset(vq, 0, sizeof(*vq));
	vq->mem = kmalloc_aligned(bytes, RING_ALIGN);
	vq->tokens = kzalloc(sizeof(void *) * size);
	if (!vq->mem || !vq->tokens) {
		kfree(vq->mem);
		kfree(vq->tokens);
		vq->mem = NULL;
		vq->tokens = NULL;
		return -ENOMEM;
	}
	memset(vq->mem, 0, bytes);
	vq->index = index;
	vq->size = size;
	vq->desc = vq->mem;
	vq->avail = (struct virtq_avail *)((char *)vq->mem + 16u * size);
	vq->used = (struct virtq_used *)((char *)vq->mem + used_offset(size));
	for (uint16_t i = 0; i < size; i++)
		vq->desc[i].next = (uint16_t)(i + 1);
	vq->free_head = 0;
	vq->num_free = size;
	return 0;
}

void virtq_free(struct virtq *vq)
{
	kfree(vq->mem);
	kfree(vq->tokens);
	vq->mem = NULL;
	vq->tokens = NULL;
	vq->size = 0;
	vq->num_free = 0;
}

int virtq_add(struct virtq *vq, const struct virtq_seg *segs, unsigned n, void *token)
{
	if (n == 0 || n > vq->num_free)
		return -ENOSPC;
	uint16_t head = vq->free_head, d = head;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *desc = &vq->desc[d];
		desc->addr = (uintptr_t)segs[i].addr;
		desc->len = segs[i].len;
		desc->flags = (uint16_t)((segs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
		                         (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		if (i + 1 < n)
			d = desc->next;
	}
	vq->free_head = vq->desc[d].next;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->tokens[head] = token;
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	vq->avail_idx++;
	return 0;
}

bool virtq_publish(struct virtq *vq)
{
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_has_used(const struct virtq *vq)
{
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&vq->last_used, __ATOMIC_RELAXED);
}

void *virtq_get_used(struct virtq *vq, uint32_t *len)
{
	if (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) == vq->last_used)
		return NULL;
	struct virtq_used_elem e = vq->used->ring[vq->last_used % vq->size];
	__atomic_store_n(&vq->last_used, (uint16_t)(vq->last_used + 1), __ATOMIC_RELAXED);
	if (e.id >= vq->size || !vq->tokens[e.id])
		return NULL;            /* a device bug: nothing of ours to give back */
	void *token = vq->tokens[e.id];
	vq->tokens[e.id] = NULL;
	/* The chain's descriptors back onto the free chain. */
	uint16_t d = (uint16_t)e.id;
	uint16_t n = 1;
	while ((vq->desc[d].flags & VIRTQ_DESC_F_NEXT) && n < vq->size) {
		d = vq->desc[d].next;
		n++;
	}
	vq->desc[d].next = vq->free_head;
	vq->free_head = (uint16_t)e.id;
	vq->num_free = (uint16_t)(vq->num_free + n);
	*len = e.len;
	return token;
}

void virtq_interrupts(struct virtq *vq, bool on)
{
	uint16_t flags = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
	if (vq->avail->flags != flags)
		__atomic_store_n(&vq->avail->flags, flags, __ATOMIC_RELAXED);
}
