/*
 * waitq.h: wait queues, the one way a thread sleeps until something happens.
 *
 * The condition a thread waits for is guarded by the queue's lock:
 *
 *	spin_lock(&wq->lock);
 *	while (!condition)
 *		waitq_wait_locked(wq, 0);
 *	spin_unlock(&wq->lock);
 *
 * and the waker changes the condition and calls waitq_wake_*_locked() under
 * the same lock (or waitq_wake_* without it, for conditions it set before).
 */
#ifndef KERNEL_WAITQ_H
#define KERNEL_WAITQ_H

#include <stdbool.h>
#include <stdint.h>

#include "list.h"
#include "spinlock.h"

struct waitq {
	struct spinlock lock;
	struct list waiters;       /* struct waiter, guarded by lock */
};

void waitq_init(struct waitq *wq, const char *name);

/* waitq_wait_locked: caller holds wq->lock; releases it while sleeping and
 * holds it again on return. deadline_ns 0 waits without limit. Returns 0 when
 * woken, -ETIMEDOUT when the deadline passed. May block. */
int waitq_wait_locked(struct waitq *wq, uint64_t deadline_ns);

/* waitq_entry: one thread's place on one queue; waitq_wait_many's caller
 * gives one per queue (on its stack or allocated), its fields waitq.c's. */
struct waitq_entry {
	struct list link;
	struct thread *thread;
};

/* waitq_wait_many: sleep on n queues at once (none of their locks held)
 * until any of them wakes the thread, or deadline_ns (0: none). Returns 0
 * when woken, -ETIMEDOUT. A wake-up between the caller's look at its
 * conditions and this call is lost, so use it only for conditions that
 * change on the calling CPU (which cannot run while this thread runs: the
 * scheduler is cooperative). May block. */
int waitq_wait_many(struct waitq *const *wqs, struct waitq_entry *entries, unsigned n,
                    uint64_t deadline_ns);

/* waitq_has_waiters: whether a thread sleeps on wq and has not been woken
 * yet (a hint: it may time out or be woken right after). Any CPU. */
bool waitq_has_waiters(struct waitq *wq);

/* Wake the oldest waiter / every waiter. Any CPU, irq context. */
void waitq_wake_one_locked(struct waitq *wq);
void waitq_wake_all_locked(struct waitq *wq);
void waitq_wake_one(struct waitq *wq);
void waitq_wake_all(struct waitq *wq);

#endif
