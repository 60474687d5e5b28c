/*
 * virtqueue.h: split virtqueues (virtio 1.x section 2.7; the same rings as
 * legacy 0.9.5), independent of the transport that tells the device where
 * they are (virtio.h).
 *
 * A queue is one allocation in the legacy layout, which modern devices
 * accept too: the descriptor table, the available ring right after it, the
 * used ring at the next 4 KiB boundary. Addresses are physical =
 * virtual (the identity map). Rings are little-endian, as x86 is.
 *
 * Use: the driver adds buffer chains (virtq_add) with a token of its own,
 * publishes them (virtq_publish, which says whether the device wants a
 * notification), and takes back completed chains with virtq_get_used. All
 * of these belong to the queue's owner (one CPU at a time). virtq_has_used
 * only reads, so an interrupt handler on any CPU may ask it.
 */
#ifndef HAL_BARE_VIRTQUEUE_H
#define HAL_BARE_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTQ_MAX_SIZE 1024u    /* we allocate no larger rings */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VIRTQ_DESC_F_NEXT       1
#define VIRTQ_DESC_F_WRITE      2       /* device writes (receive buffers) */

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];        /* then used_event */
};

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_used_elem {
	uint32_t id;            /* head descriptor of the chain */
	uint32_t len;           /* bytes the device wrote */
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

#define VIRTQ_USED_F_NO_NOTIFY 1

/* One piece of a chain: device-readable (out) or device-writable. */
struct virtq_seg {
	void *addr;
	uint32_t len;
	bool device_writes;
};

struct virtq {
	uint16_t index;                 /* queue number on the device */
	uint16_t size;                  /* descriptors, a power of 2 */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	void **tokens;                  /* by head descriptor */
	void *mem;                      /* the rings' allocation */
	uint16_t free_head;             /* chain of free descriptors */
	uint16_t num_free;
	uint16_t avail_idx;             /* our copy of avail->idx */
	uint16_t last_used;             /* next used entry to take; atomic for readers */
	uintptr_t notify_addr;          /* transport's: where to notify (modern PCI) */
};

/* virtq_alloc: rings for size descriptors (a power of 2, <= VIRTQ_MAX_SIZE).
 * 0, -EINVAL, -ENOMEM. virtq_free: release them (device reset first). */
int virtq_alloc(struct virtq *vq, uint16_t index, uint16_t size);
void virtq_free(struct virtq *vq);

/* Ring addresses for the transport. */
static inline uint64_t virtq_desc_addr(const struct virtq *vq) { return (uintptr_t)vq->desc; }
static inline uint64_t virtq_avail_addr(const struct virtq *vq) { return (uintptr_t)vq->avail; }
static inline uint64_t virtq_used_addr(const struct virtq *vq) { return (uintptr_t)vq->used; }

/* virtq_add: put a chain of n segments in the available ring (not yet
 * visible to the device: virtq_publish). -ENOSPC when fewer than n
 * descriptors are free. */
int virtq_add(struct virtq *vq, const struct virtq_seg *segs, unsigned n, void *token);

/* virtq_publish: make the chains added so far visible; true when the
 * device asked to be notified (the caller then notifies through its
 * transport). */
bool virtq_publish(struct virtq *vq);

/* virtq_get_used: the token of the next completed chain (its descriptors
 * freed) and the bytes the device wrote into it, or NULL. */
void *virtq_get_used(struct virtq *vq, uint32_t *len);

/* virtq_has_used: a completed chain is waiting. Any CPU, irq context. */
bool virtq_has_used(const struct virtq *vq);

/* virtq_interrupts: ask the device for interrupts on completion (a hint
 * it may ignore). Owner only. */
void virtq_interrupts(struct virtq *vq, bool on);

#endif
