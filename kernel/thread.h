/*
 * thread.h: kernel threads and the per-CPU cooperative scheduler.
 *
 * Lifecycle of a thread (Toro's model): thread_create() makes it on a chosen
 * CPU, from any CPU, and it stays on that CPU for life. It runs until it
 * calls thread_yield(), sleeps (thread_sleep_ms, a wait queue), or ends by
 * returning from its function or calling thread_exit(). There is no
 * preemption: a thread that never yields keeps its CPU. Ending: the stack is
 * freed by the scheduler once the thread has switched away for good; the
 * struct lives on while a reference is held (the creator's, for a joinable
 * thread, dropped by thread_join(); a detached thread holds none).
 *
 * States (t->state, changed with atomics because a waker on another CPU
 * races the sleeper):
 *   READY    on its CPU's ready list or inbox, waiting for the CPU.
 *   RUNNING  the CPU's current thread.
 *   BLOCKED  waiting for thread_wake() or its deadline.
 *   EXITED   finished; never runs again.
 */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "spinlock.h"
#include "waitq.h"

enum thread_state { THREAD_READY, THREAD_RUNNING, THREAD_BLOCKED, THREAD_EXITED };

#define THREAD_STACK_DEFAULT (32 * 1024)
#define THREAD_STACK_MIN     (16 * 1024)

typedef int (*thread_fn)(void *arg);

#define THREAD_NGROUPS 32         /* supplementary groups a thread carries */

struct thread {
	/* Set at creation, then read-only. */
	uint64_t id;
	unsigned cpu;
	thread_fn fn;
	void *arg;
	void *stack;
	size_t stack_size;
	struct hal_context *ctx;

	/* Owner CPU only, with interrupts disabled. */
	struct list run_link;      /* ready list or inbox (inbox: under its lock) */
	struct list timer_link;    /* CPU's deadline list */
	uint64_t deadline_ns;      /* when BLOCKED with a deadline */
	bool timed_out;            /* the deadline, not a waker, ended the wait */

	/* The thread's own: the owner recorded on files it creates (0 unless a
	 * tool acting for a host user, like torofuse, sets it). */
	uint32_t uid, gid;
	/* ... and its supplementary groups, for permission checks (fs/vfs_perm.c). */
	uint32_t groups[THREAD_NGROUPS];
	unsigned ngroups;

	int state;                 /* enum thread_state; atomic */
	int refs;                  /* atomic: struct freed at zero */

	/* Guarded by exit_wait.lock. */
	bool exited;
	int exit_status;
	struct waitq exit_wait;
};

/* thread_create: a joinable thread on cpu; NULL when out of memory or cpu is
 * not a CPU. stack_size 0 means THREAD_STACK_DEFAULT. Any CPU. */
struct thread *thread_create(unsigned cpu, thread_fn fn, void *arg, size_t stack_size);
/* thread_join: wait for t to end, return its status, release t. May block. */
int thread_join(struct thread *t);
/* thread_detach: release t now; it is freed when it ends. */
void thread_detach(struct thread *t);

struct thread *thread_current(void);
void thread_yield(void);
void thread_sleep_ms(uint64_t ms);
void thread_exit(int status) __attribute__((noreturn));

/*
 * Blocking protocol, for wait queues and drivers:
 *   thread_prepare_block(): mark the current thread BLOCKED (before
 *     publishing it where a waker can see it);
 *   thread_block(deadline): switch away until thread_wake() or deadline_ns
 *     (0: none); returns -ETIMEDOUT if the deadline ended it, else 0.
 * thread_wake() makes a BLOCKED thread READY on its own CPU and returns
 * true; false if it was not blocked (already woken). Any CPU, irq context.
 */
void thread_prepare_block(void);
int thread_block(uint64_t deadline_ns);
bool thread_wake(struct thread *t);

/* sched_init: once, on CPU 0, before any thread exists. sched_run: each
 * CPU's scheduler loop, on its boot stack; never returns. */
void sched_init(void);
void sched_run(void) __attribute__((noreturn));

/* Between thread.c and sched.c: make a new thread READY on its CPU; switch
 * away from an ending thread for good; free what it leaves after that. */
void sched_admit(struct thread *t);
void sched_leave(struct thread *t) __attribute__((noreturn));
void thread_finish(struct thread *t);

/* Counters for tests and statistics. */
uint64_t sched_switches(unsigned cpu);
unsigned thread_count(void);   /* threads created and not yet freed */

#endif
