/*
 * mutex.h: a sleeping lock for long critical sections (file system, caches).
 * A contended mutex puts the caller to sleep; its CPU runs other threads.
 * Only threads may take one (never irq context); not recursive.
 */
#ifndef KERNEL_MUTEX_H
#define KERNEL_MUTEX_H

#include <stdbool.h>

#include "waitq.h"

struct thread;

struct mutex {
	struct waitq wq;           /* wq.lock guards owner */
	struct thread *owner;
};

void mutex_init(struct mutex *m, const char *name);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_held(struct mutex *m);   /* by the calling thread */

#endif
