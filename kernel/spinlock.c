/*
 * spinlock.c: spin locks between CPUs, taken with interrupts off.
 */
#include "spinlock.h"

#include "console.h"
#include "hal.h"

void spin_init(struct spinlock *lock, const char *name)
{
	lock->locked = 0;
	lock->owner_cpu = -1;
	lock->irq_state = 0;
	lock->name = name;
}

void spin_lock(struct spinlock *lock)
{
	unsigned long irq = hal_irq_save();
	int me = (int)hal_cpu_id();

	if (__atomic_load_n(&lock->owner_cpu, __ATOMIC_RELAXED) == me)
		panic("spin_lock: %s taken twice on CPU %d", lock->name, me);
	while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
			hal_cpu_relax();
	}
	lock->owner_cpu = me;
	lock->irq_state = irq;
}

void spin_unlock(struct spinlock *lock)
{
	if (lock->owner_cpu != (int)hal_cpu_id())
		panic("spin_unlock: %s not held by CPU %u", lock->name, hal_cpu_id());
	unsigned long irq = lock->irq_state;
	__atomic_store_n(&lock->owner_cpu, -1, __ATOMIC_RELAXED);
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
	hal_irq_restore(irq);
}

bool spin_held(const struct spinlock *lock)
{
	return __atomic_load_n(&lock->locked, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&lock->owner_cpu, __ATOMIC_RELAXED) == (int)hal_cpu_id();
}
