/*
 * spinlock.h: mutual exclusion between CPUs for short critical sections.
 *
 * A spinlock is taken with the CPU's interrupts disabled (the previous state
 * is kept in the lock and restored on release), so a holder is never
 * interrupted by a device handler that wants the same lock. Never sleep while
 * holding one. Lock order is stated where each lock is declared.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdbool.h>

#include "console.h"

struct spinlock {
	int locked;                 /* 0 free, 1 held */
	int owner_cpu;              /* holder's CPU while held, else -1 */
	unsigned long irq_state;    /* holder's interrupt state before acquire */
	const char *name;           /* for panic messages */
};

#define SPINLOCK_INIT(n) { 0, -1, 0, n }

void spin_init(struct spinlock *lock, const char *name);
void spin_lock(struct spinlock *lock);
void spin_unlock(struct spinlock *lock);
bool spin_held(const struct spinlock *lock);  /* by the calling CPU */

/* assert_held: the "caller must hold lock" rule, checked. */
#define assert_held(lock) \
	((void)(spin_held(lock) || (panic("%s: %s not held", __func__, (lock)->name), 0)))

#endif
