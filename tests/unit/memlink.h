/*
 * memlink.h: two NICs of the posix HAL joined by an in-memory link that
 * drops, duplicates, reorders and delays frames (tests/unit/memlink.c).
 *
 * Usage: memlink_add(&cfg, &link_cfg) before run_in_kernel_opts(&cfg, ...)
 * puts two devices into cfg's NIC table (hal_net_get(0) and 1, the stack's
 * interfaces 0 and 1); the kernel options "ip=10.9.0.1/24" "ip=10.9.0.2/24"
 * then give them their addresses. From then on the link is the HAL's: it
 * ends with the kernel. The kernel side may change the impairments
 * (memlink_set) and read the counters (memlink_stats) meanwhile.
 */
#ifndef TESTS_UNIT_MEMLINK_H
#define TESTS_UNIT_MEMLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "posix.h"

/* What happens to each frame, drawn from a PRNG seeded with seed. Rates
 * are per million frames. Every frame is delayed by delay_us plus a
 * uniform [0, jitter_us); a reordered one by reorder_us more, so the
 * frames sent after it overtake it; a duplicate is a second copy with a
 * delay of its own. queue_max bounds the frames in flight each way: a full
 * queue takes no more (hal_net_transmit returns fewer, as a full ring). */
struct memlink_config {
	uint64_t seed;
	uint32_t drop_ppm, dup_ppm, reorder_ppm;
	uint32_t delay_us, jitter_us, reorder_us;
	unsigned queue_max;
};

/* Counters of one direction: frames that NIC side sent toward the other. */
struct memlink_stats {
	uint64_t sent;          /* taken by hal_net_transmit */
	uint64_t dropped, duplicated, reordered;
	uint64_t delivered;     /* handed to the other side's hal_net_receive */
	uint64_t refused;       /* not taken: the queue was full */
	uint64_t bad;           /* taken and thrown away: too short or long, or partial checksum */
};

struct memlink;

/* memlink_add: a link with two NICs appended to cfg's NIC table; NULL if
 * cfg has no room for two more or there is no memory. One link per boot. */
struct memlink *memlink_add(struct posix_config *cfg, const struct memlink_config *link_cfg);
/* The one link made by memlink_add, for the kernel side of a test. */
struct memlink *memlink_current(void);
/* memlink_set: new impairments from now on (the seed is not reseeded). */
void memlink_set(struct memlink *l, const struct memlink_config *link_cfg);
void memlink_stats(struct memlink *l, unsigned side, struct memlink_stats *out);

/* Stepping a direction frame by frame (the state tests): memlink_hold lets
 * `pass` more of the frames side sent reach the other side (in due order),
 * then holds the rest queued; MEMLINK_OPEN opens it again. memlink_discard
 * throws the next n queued frames of side away (counted as dropped). */
#define MEMLINK_OPEN UINT32_MAX
void memlink_hold(struct memlink *l, unsigned side, uint32_t pass);
void memlink_discard(struct memlink *l, unsigned side, unsigned n);
/* memlink_discard_newest: throw away the n frames side sent last of
 * those still queued (a loss at the tail of a burst). */
void memlink_discard_newest(struct memlink *l, unsigned side, unsigned n);
/* memlink_queued: frames of side still on the wire. */
unsigned memlink_queued(struct memlink *l, unsigned side);

/* Frames as the tests see and make them (what a stack sent, what it
 * receives twice): memlink_peek copies the i-th of the frames side has
 * queued, in order of sending, into buf (max bytes); its length, 0 if
 * there is none or it does not fit. memlink_inject puts a frame on the
 * wire as if side had sent it (due now, not impaired, counted as sent);
 * false when the wire is full. */
size_t memlink_peek(struct memlink *l, unsigned side, unsigned i, void *buf, size_t max);
bool memlink_inject(struct memlink *l, unsigned side, const void *frame, size_t len);

#endif
