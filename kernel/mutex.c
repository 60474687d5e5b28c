/*
 * mutex.c: sleeping locks built on a wait queue.
 */
#include "console.h"
#include "mutex.h"
#include "thread.h"

void mutex_init(struct mutex *m, const char *name)
{
	waitq_init(&m->wq, name);
	m->owner = NULL;
}

void mutex_lock(struct mutex *m)
{
	struct thread *me = thread_current();

	spin_lock(&m->wq.lock);
	if (m->owner == me)
		panic("mutex_lock: %s taken twice", m->wq.lock.name);
	while (m->owner)
		waitq_wait_locked(&m->wq, 0);
	m->owner = me;
	spin_unlock(&m->wq.lock);
}

bool mutex_trylock(struct mutex *m)
{
	bool got = false;

	spin_lock(&m->wq.lock);
	if (!m->owner) {
		m->owner = thread_current();
		got = true;
	}
	spin_unlock(&m->wq.lock);
	return got;
}

void mutex_unlock(struct mutex *m)
{
	spin_lock(&m->wq.lock);
	if (m->owner != thread_current())
		panic("mutex_unlock: %s not held by this thread", m->wq.lock.name);
	m->owner = NULL;
	waitq_wake_one_locked(&m->wq);
	spin_unlock(&m->wq.lock);
}

bool mutex_held(struct mutex *m)
{
	return __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == thread_current();
}
