/*
 * waitq.c: wait queues. A waiter lives on the sleeping thread's stack and is
 * unlinked by whoever ends the wait: the waker, or the thread itself after a
 * timeout.
 */
#include <errno.h>

#include "thread.h"
#include "waitq.h"

#define waiter waitq_entry

void waitq_init(struct waitq *wq, const char *name)
{
	spin_init(&wq->lock, name);
	list_init(&wq->waiters);
}

int waitq_wait_locked(struct waitq *wq, uint64_t deadline_ns)
{
	struct waiter w = { .thread = thread_current() };

	assert_held(&wq->lock);
	thread_prepare_block();
	list_push_back(&wq->waiters, &w.link);
	spin_unlock(&wq->lock);
	int rc = thread_block(deadline_ns);
	spin_lock(&wq->lock);
	list_remove(&w.link);
	return rc;
}

int waitq_wait_many(struct waitq *const *wqs, struct waitq_entry *entries, unsigned n,
                    uint64_t deadline_ns)
{
	struct thread *self = thread_current();

	/* BLOCKED before the first queue can see us: a wake-up from any of
	 * them from here on ends the block. */
	thread_prepare_block();
	for (unsigned i = 0; i < n; i++) {
		entries[i].thread = self;
		spin_lock(&wqs[i]->lock);
		list_push_back(&wqs[i]->waiters, &entries[i].link);
		spin_unlock(&wqs[i]->lock);
	}
	int rc = thread_block(deadline_ns);
	for (unsigned i = 0; i < n; i++) {
		spin_lock(&wqs[i]->lock);
		list_remove(&entries[i].link);
		spin_unlock(&wqs[i]->lock);
	}
	return rc;
}

bool waitq_has_waiters(struct waitq *wq)
{
	spin_lock(&wq->lock);
	bool any = !list_empty(&wq->waiters);
	spin_unlock(&wq->lock);
	return any;
}

void waitq_wake_one_locked(struct waitq *wq)
{
	struct list *link;

	assert_held(&wq->lock);
	while ((link = list_pop_front(&wq->waiters)) != NULL) {
		/* A waiter that already timed out does not take the wake-up. */
		if (thread_wake(list_entry(link, struct waiter, link)->thread))
			return;
	}
}

void waitq_wake_all_locked(struct waitq *wq)
{
	struct list *link;

	assert_held(&wq->lock);
	while ((link = list_pop_front(&wq->waiters)) != NULL)
		thread_wake(list_entry(link, struct waiter, link)->thread);
}

void waitq_wake_one(struct waitq *wq)
{
	spin_lock(&wq->lock);
	waitq_wake_one_locked(wq);
	spin_unlock(&wq->lock);
}

void waitq_wake_all(struct waitq *wq)
{
	spin_lock(&wq->lock);
	waitq_wake_all_locked(wq);
	spin_unlock(&wq->lock);
}
