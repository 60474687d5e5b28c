/*
 * mutex.c: sleeping locks built on a wait queue. A waiter whose mutex is
 * held by a thread running on another CPU spins a while before it sleeps:
 * the file system's lock, taken by every request of a web server on every
 * CPU, is held for microseconds, less than a sleep and a wake-up from the
 * other CPU cost (on posix, an event and a host context switch each).
 */
#include "console.h"
#include "hal.h"
#include "mutex.h"
#include "thread.h"

#define MUTEX_SPIN_MAX   2000   /* hal_cpu_relax rounds before sleeping, at most */
#define MUTEX_SPIN_CHECK 64     /* rounds between looks at the owner's state */

void mutex_init(struct mutex *m, const char *name)
{
	waitq_init(&m->wq, name);
	m->owner = NULL;
}

/* Whether owner is on another CPU now (not asleep, not waiting for its
 * turn). Caller holds the mutex's wq.lock, so owner cannot let go of the
 * mutex and exit meanwhile. */
static bool runs_elsewhere(struct thread *owner, struct thread *me)
{
	return owner->cpu != me->cpu &&
	       __atomic_load_n(&owner->state, __ATOMIC_ACQUIRE) == THREAD_RUNNING;
}

void mutex_lock(struct mutex *m)
{
	struct thread *me = thread_current();
	unsigned spins = 0;

	spin_lock(&m->wq.lock);
	if (m->owner == me)
		panic("mutex_lock: %s taken twice", m->wq.lock.name);
	while (m->owner) {
		struct thread *owner = m->owner;
		if (spins >= MUTEX_SPIN_MAX || !runs_elsewhere(owner, me)) {
			waitq_wait_locked(&m->wq, 0);
			continue;
		}
		spin_unlock(&m->wq.lock);
		for (unsigned i = 0; i < MUTEX_SPIN_CHECK &&
		     __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == owner; i++, spins++)
			hal_cpu_relax();
		spin_lock(&m->wq.lock);
	}
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
