/*
 * test_virtqueue: hal/bare's split virtqueues (virtqueue.c) against a
 * device simulated here, on the posix build (the ring code depends on
 * nothing of the bare HAL). The simulated device walks the available ring
 * and chains as virtio 1.x section 2.7 describes and answers in the used
 * ring. Checked: the layout (used ring on a 4 KiB boundary), chains and
 * descriptor accounting, -ENOSPC, notification hints both ways, the
 * indexes wrapping past 2^16, and a used entry naming no chain of ours.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "../../hal/bare/virtqueue.c"

struct device {
	struct virtq *vq;
	uint16_t last_avail;
};

/* The device takes every available chain and returns it as used, writing
 * the total length of its writable segments; the number of chains. */
static unsigned device_run(struct device *d, unsigned *segs_seen)
{
	struct virtq *vq = d->vq;
	unsigned n = 0;
	while (d->last_avail != __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE)) {
		uint16_t head = vq->avail->ring[d->last_avail % vq->size];
		uint32_t written = 0;
		unsigned segs = 0;
		for (uint16_t i = head;; i = vq->desc[i].next) {
			segs++;
			if (vq->desc[i].flags & VIRTQ_DESC_F_WRITE)
				written += vq->desc[i].len;
			if (!(vq->desc[i].flags & VIRTQ_DESC_F_NEXT) || segs > vq->size)
				break;
		}
		if (segs_seen)
			*segs_seen += segs;
		struct virtq_used_elem *e = &vq->used->ring[vq->used->idx % vq->size];
		e->id = head;
		e->len = written;
		__atomic_store_n(&vq->used->idx, (uint16_t)(vq->used->idx + 1), __ATOMIC_RELEASE);
		d->last_avail++;
		n++;
	}
	return n;
}

struct result {
	int layout_ok, chains_ok, nospc_ok, hints_ok, wrap_ok, bogus_ok;
	unsigned wrap_rounds;
};

static int body(void *arg)
{
	struct result *r = arg;
	struct virtq vq;
	if (virtq_alloc(&vq, 3, 8) != 0)
		return 1;
	struct device dev = { &vq, 0 };
	static char bufs[8][64];

	r->layout_ok = vq.size == 8 && vq.index == 3 && vq.num_free == 8 &&
	               (uintptr_t)vq.avail == (uintptr_t)vq.desc + 16 * 8 &&
	               ((uintptr_t)vq.used & 4095) == 0 && ((uintptr_t)vq.desc & 4095) == 0 &&
	               virtq_alloc(&(struct virtq){ 0 }, 0, 6) == -EINVAL;

	/* Three chains of 2 (read + write) and one of 1: 7 descriptors. */
	for (int i = 0; i < 3; i++) {
		struct virtq_seg s[2] = { { bufs[i], 10, false }, { bufs[i] + 10, 54, true } };
		if (virtq_add(&vq, s, 2, bufs[i]) != 0)
			return 1;
	}
	struct virtq_seg one = { bufs[3], 64, true };
	virtq_add(&vq, &one, 1, bufs[3]);
	struct virtq_seg two[2] = { { bufs[4], 8, false }, { bufs[4], 8, false } };
	r->nospc_ok = vq.num_free == 1 && virtq_add(&vq, two, 2, bufs[4]) == -ENOSPC &&
	              vq.num_free == 1;
	bool visible_before = virtq_has_used(&vq);
	unsigned segs = 0;
	unsigned taken = device_run(&dev, &segs);     /* nothing published yet */
	virtq_publish(&vq);
	taken += device_run(&dev, &segs);
	uint32_t len;
	bool order_ok = true;
	for (int i = 0; i < 4; i++) {
		void *t = virtq_get_used(&vq, &len);
		order_ok &= t == bufs[i] && len == (i < 3 ? 54u : 64u);
	}
	r->chains_ok = !visible_before && taken == 4 && segs == 7 && order_ok &&
	               virtq_get_used(&vq, &len) == NULL && !virtq_has_used(&vq) &&
	               vq.num_free == 8;

	/* Hints: the device's NO_NOTIFY, our NO_INTERRUPT. */
	virtq_add(&vq, &one, 1, bufs[0]);
	bool want1 = virtq_publish(&vq);
	vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	virtq_add(&vq, &one, 1, bufs[1]);
	bool want2 = virtq_publish(&vq);
	vq.used->flags = 0;
	virtq_interrupts(&vq, false);
	bool off = vq.avail->flags == VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_interrupts(&vq, true);
	r->hints_ok = want1 && !want2 && off && vq.avail->flags == 0;
	device_run(&dev, NULL);
	while (virtq_get_used(&vq, &len))
		;

	/* Past 2^16 on both indexes, in uneven batches. */
	bool wrap = true;
	unsigned rounds = 0;
	while (rounds < 70000 && wrap) {
		unsigned batch = 1 + rounds % 7;
		for (unsigned i = 0; i < batch; i++)
			wrap &= virtq_add(&vq, &one, 1, bufs[i]) == 0;
		virtq_publish(&vq);
		wrap &= virtq_has_used(&vq) == false;
		wrap &= device_run(&dev, NULL) == batch;
		wrap &= virtq_has_used(&vq);
		for (unsigned i = 0; i < batch; i++)
			wrap &= virtq_get_used(&vq, &len) == bufs[i];
		wrap &= vq.num_free == 8;
		rounds += batch;
	}
	r->wrap_rounds = rounds;
	r->wrap_ok = wrap && vq.avail_idx == (uint16_t)(rounds + 6) && vq.last_used == vq.avail_idx;

	/* A used entry naming a descriptor out of range: skipped, nothing
	 * freed twice. */
	struct virtq_used_elem *e = &vq.used->ring[vq.used->idx % vq.size];
	e->id = 99;
	e->len = 1;
	__atomic_store_n(&vq.used->idx, (uint16_t)(vq.used->idx + 1), __ATOMIC_RELEASE);
	r->bogus_ok = virtq_get_used(&vq, &len) == NULL && vq.num_free == 8 && !virtq_has_used(&vq);
	virtq_free(&vq);
	return 0;
}

Test(virtqueue, rings_chains_hints_wrap)
{
	struct result r = { 0 };
	cr_assert_eq(run_in_kernel(1, body, &r), 0);
	cr_expect(r.layout_ok, "layout");
	cr_expect(r.nospc_ok, "-ENOSPC when the chain does not fit");
	cr_expect(r.chains_ok, "chains taken and returned in order, descriptors back");
	cr_expect(r.hints_ok, "notification hints");
	cr_expect(r.wrap_ok, "indexes wrap past 2^16 (%u chains)", r.wrap_rounds);
	cr_expect(r.bogus_ok, "a used entry out of range is skipped");
}
