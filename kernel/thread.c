/*
 * thread.c: creating, ending and joining threads.
 * The scheduling itself (yield, block, wake) is in sched.c.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "console.h"
#include "cpu.h"
#include "hal.h"
#include "thread.h"

static uint64_t next_thread_id = 1;     /* atomic */
static unsigned live_threads;           /* atomic */

static void thread_put(struct thread *t)
{
	if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		kfree(t);
		__atomic_sub_fetch(&live_threads, 1, __ATOMIC_RELAXED);
	}
}

static void thread_start(void *arg)
{
	struct thread *t = arg;
	hal_irq_enable();       /* threads run with interrupts on */
	thread_exit(t->fn(t->arg));
}

struct thread *thread_create(unsigned cpu, thread_fn fn, void *arg, size_t stack_size)
{
	if (cpu >= hal_cpu_count() || !fn)
		return NULL;
	if (stack_size == 0)
		stack_size = THREAD_STACK_DEFAULT;
	if (stack_size < THREAD_STACK_MIN)
		stack_size = THREAD_STACK_MIN;
	stack_size = (stack_size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);

	struct thread *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->stack = hal_stack_alloc(stack_size);     /* guarded where the HAL can */
	if (!t->stack) {
		kfree(t);
		return NULL;
	}
	t->id = __atomic_fetch_add(&next_thread_id, 1, __ATOMIC_RELAXED);
	t->cpu = cpu;
	t->fn = fn;
	t->arg = arg;
	t->stack_size = stack_size;
	t->refs = 2;            /* the running thread and the creator's handle */
	list_init(&t->run_link);
	list_init(&t->timer_link);
	waitq_init(&t->exit_wait, "thread exit");
	t->ctx = hal_context_create(t->stack, stack_size, thread_start, t);
	__atomic_add_fetch(&live_threads, 1, __ATOMIC_RELAXED);
	sched_admit(t);
	return t;
}

void thread_exit(int status)
{
	struct thread *t = thread_current();

	spin_lock(&t->exit_wait.lock);
	t->exit_status = status;
	t->exited = true;
	waitq_wake_all_locked(&t->exit_wait);
	spin_unlock(&t->exit_wait.lock);
	sched_leave(t);
}

/* Called by the scheduler once t has switched away for the last time. */
void thread_finish(struct thread *t)
{
	hal_context_destroy(t->ctx);
	hal_stack_free(t->stack, t->stack_size);
	t->stack = NULL;
	thread_put(t);
}

int thread_join(struct thread *t)
{
	spin_lock(&t->exit_wait.lock);
	while (!t->exited)
		waitq_wait_locked(&t->exit_wait, 0);
	int status = t->exit_status;
	spin_unlock(&t->exit_wait.lock);
	thread_put(t);
	return status;
}

void thread_detach(struct thread *t)
{
	thread_put(t);
}

unsigned thread_count(void)
{
	return __atomic_load_n(&live_threads, __ATOMIC_RELAXED);
}
