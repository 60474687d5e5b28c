/*
 * sched.c: one cooperative scheduler per CPU.
 *
 * Each CPU runs sched_run() on its boot stack. It picks the next READY
 * thread, switches to it, and gets control back when the thread yields,
 * blocks or ends; then it files the thread by its new state. When nothing is
 * ready the CPU halts in hal_cpu_idle() until the soonest deadline, a device
 * interrupt or a kick from another CPU: sleeping never spins.
 */
#include <errno.h>

#include "console.h"
#include "cpu.h"
#include "hal.h"
#include "thread.h"

struct cpu cpus[HAL_MAX_CPUS];

void sched_init(void)
{
	for (unsigned i = 0; i < hal_cpu_count(); i++) {
		struct cpu *c = &cpus[i];
		c->id = i;
		c->current = NULL;
		list_init(&c->ready);
		list_init(&c->timers);
		list_init(&c->inbox);
		spin_init(&c->inbox_lock, "cpu inbox");
	}
}

static void timer_insert(struct cpu *c, struct thread *t)
{
	struct list *pos = c->timers.next;
	while (pos != &c->timers &&
	       list_entry(pos, struct thread, timer_link)->deadline_ns <= t->deadline_ns)
		pos = pos->next;
	list_insert_before(pos, &t->timer_link);
}

/* Move threads handed over by others onto the ready list. */
static void drain_inbox(struct cpu *c)
{
	struct list got;

	list_init(&got);
	spin_lock(&c->inbox_lock);
	list_splice_back(&got, &c->inbox);
	spin_unlock(&c->inbox_lock);
	list_for_each_safe(pos, tmp, &got) {
		struct thread *t = list_entry(pos, struct thread, run_link);
		list_remove(&t->timer_link);   /* woken before its deadline */
		list_remove(&t->run_link);
		list_push_back(&c->ready, &t->run_link);
	}
}

/* Wake threads whose deadline has passed; return the next deadline or 0. */
static uint64_t expire_timers(struct cpu *c)
{
	/* No timers, no clock read: the first read may have to finish the
	 * clock's calibration (hal/bare), which a service that never sleeps
	 * should not wait for before its main. */
	if (list_empty(&c->timers))
		return 0;
	uint64_t now = hal_clock_ns();

	while (!list_empty(&c->timers)) {
		struct thread *t = list_entry(c->timers.next, struct thread, timer_link);
		if (t->deadline_ns > now)
			return t->deadline_ns;
		list_remove(&t->timer_link);
		int blocked = THREAD_BLOCKED;
		if (__atomic_compare_exchange_n(&t->state, &blocked, THREAD_READY, false,
		                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			t->timed_out = true;
			list_push_back(&c->ready, &t->run_link);
		}
	}
	return 0;
}

/* After t switched back to the scheduler: file it by the state it left in. */
static void file_thread(struct cpu *c, struct thread *t)
{
	switch (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE)) {
	case THREAD_RUNNING:            /* yielded */
		__atomic_store_n(&t->state, THREAD_READY, __ATOMIC_RELEASE);
		list_push_back(&c->ready, &t->run_link);
		break;
	case THREAD_BLOCKED:
		if (t->deadline_ns)
			timer_insert(c, t);
		break;
	case THREAD_READY:              /* woken before it got away: in the inbox */
		break;
	case THREAD_EXITED:
		thread_finish(t);
		break;
	}
}

void sched_run(void)
{
	struct cpu *c = this_cpu();

	hal_irq_save();
	c->sched_ctx = hal_context_boot();
	for (;;) {
		drain_inbox(c);
		uint64_t next_deadline = expire_timers(c);
		struct list *link = list_pop_front(&c->ready);
		if (!link) {
			hal_cpu_idle(next_deadline);
			continue;
		}
		struct thread *t = list_entry(link, struct thread, run_link);
		__atomic_store_n(&t->state, THREAD_RUNNING, __ATOMIC_RELEASE);
		c->current = t;
		c->switches++;
		hal_context_switch(c->sched_ctx, t->ctx);
		c->current = NULL;
		file_thread(c, t);
	}
}

/* Give the CPU back to the scheduler; the caller has set t->state. */
static void switch_to_scheduler(struct thread *t)
{
	struct cpu *c = &cpus[t->cpu];
	hal_context_switch(t->ctx, c->sched_ctx);
}

struct thread *thread_current(void)
{
	return this_cpu()->current;
}

void thread_yield(void)
{
	unsigned long irq = hal_irq_save();
	struct thread *t = thread_current();
	switch_to_scheduler(t);         /* RUNNING: filed as yielded */
	hal_irq_restore(irq);
}

void thread_prepare_block(void)
{
	struct thread *t = thread_current();
	t->timed_out = false;
	t->deadline_ns = 0;
	__atomic_store_n(&t->state, THREAD_BLOCKED, __ATOMIC_RELEASE);
}

int thread_block(uint64_t deadline_ns)
{
	unsigned long irq = hal_irq_save();
	struct thread *t = thread_current();

	t->deadline_ns = deadline_ns;
	switch_to_scheduler(t);
	t->deadline_ns = 0;
	hal_irq_restore(irq);
	return t->timed_out ? -ETIMEDOUT : 0;
}

bool thread_wake(struct thread *t)
{
	int blocked = THREAD_BLOCKED;

	if (!__atomic_compare_exchange_n(&t->state, &blocked, THREAD_READY, false,
	                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return false;
	struct cpu *c = &cpus[t->cpu];
	spin_lock(&c->inbox_lock);
	list_push_back(&c->inbox, &t->run_link);
	spin_unlock(&c->inbox_lock);
	if (t->cpu != hal_cpu_id())
		hal_cpu_kick(t->cpu);
	return true;
}

void thread_sleep_ms(uint64_t ms)
{
	thread_prepare_block();
	thread_block(hal_clock_ns() + ms * 1000000ull + (ms == 0));
}

void sched_admit(struct thread *t)
{
	__atomic_store_n(&t->state, THREAD_BLOCKED, __ATOMIC_RELEASE);
	thread_wake(t);
}

void sched_leave(struct thread *t)
{
	hal_irq_save();
	__atomic_store_n(&t->state, THREAD_EXITED, __ATOMIC_RELEASE);
	switch_to_scheduler(t);
	panic("sched_leave: exited thread %lu ran again", (unsigned long)t->id);
}

uint64_t sched_switches(unsigned cpu)
{
	return cpu < HAL_MAX_CPUS ? cpus[cpu].switches : 0;
}
