/*
 * test_sched.c: the per-CPU cooperative scheduler, in a booted kernel.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "hal.h"
#include "mutex.h"
#include "thread.h"
#include "toro.h"
#include "waitq.h"

/* ---- yield order: threads on one CPU run round robin ---- */

struct trace {
	char log[64];
	int len;            /* only CPU 0 threads write: no lock needed */
};

struct yielder {
	struct trace *trace;
	char name;
};

static int yield_three_times(void *arg)
{
	struct yielder *y = arg;
	for (int i = 0; i < 3; i++) {
		y->trace->log[y->trace->len++] = y->name;
		thread_yield();
	}
	return 0;
}

static int yield_order_body(void *arg)
{
	struct trace *trace = arg;
	struct yielder ys[3] = { { trace, 'a' }, { trace, 'b' }, { trace, 'c' } };
	struct thread *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = thread_create(0, yield_three_times, &ys[i], 0);
	for (int i = 0; i < 3; i++)
		thread_join(t[i]);
	return 0;
}

Test(sched, yield_is_round_robin)
{
	struct trace trace = { 0 };
	cr_assert_eq(run_in_kernel(2, yield_order_body, &trace), 0);
	cr_assert_str_eq(trace.log, "abcabcabc");
}

/* ---- sleep: ordered by deadline, and the CPU does not spin ---- */

struct sleeper {
	struct trace *trace;
	char name;
	unsigned ms;
};

static int sleep_then_log(void *arg)
{
	struct sleeper *s = arg;
	thread_sleep_ms(s->ms);
	s->trace->log[s->trace->len++] = s->name;
	return 0;
}

struct sleep_result {
	struct trace trace;
	uint64_t elapsed_ns;
	uint64_t switches;
};

static int sleep_order_body(void *arg)
{
	struct sleep_result *r = arg;
	struct sleeper ss[3] = { { &r->trace, 'c', 60 }, { &r->trace, 'a', 20 }, { &r->trace, 'b', 40 } };
	struct thread *t[3];
	uint64_t start = hal_clock_ns();
	uint64_t switches_before = sched_switches(0);
	for (int i = 0; i < 3; i++)
		t[i] = thread_create(0, sleep_then_log, &ss[i], 0);
	for (int i = 0; i < 3; i++)
		thread_join(t[i]);
	r->elapsed_ns = hal_clock_ns() - start;
	r->switches = sched_switches(0) - switches_before;
	return 0;
}

Test(sched, sleep_wakes_in_deadline_order_without_spinning)
{
	struct sleep_result r = { 0 };
	cr_assert_eq(run_in_kernel(1, sleep_order_body, &r), 0);
	cr_assert_str_eq(r.trace.log, "abc");
	cr_assert_geq(r.elapsed_ns, 60000000ull, "slept at least the longest deadline");
	/* A spinning idle loop would switch thousands of times in 60 ms. */
	cr_assert_lt(r.switches, 50, "switches: %lu", (unsigned long)r.switches);
}

/* ---- threads created from one CPU on every other CPU ---- */

static int report_cpu(void *arg)
{
	return (int)hal_cpu_id() + 100;
}

struct cross_result {
	int status[8];
	unsigned cpus;
};

static int spawn_from_cpu1(void *arg)
{
	struct cross_result *r = arg;
	struct thread *t[8];
	for (unsigned c = 0; c < r->cpus; c++)
		t[c] = thread_create(c, report_cpu, NULL, 0);
	for (unsigned c = 0; c < r->cpus; c++)
		r->status[c] = thread_join(t[c]);
	return hal_cpu_id() == 1 ? 0 : 1;
}

static int cross_cpu_body(void *arg)
{
	struct thread *t = thread_create(1, spawn_from_cpu1, arg, 0);
	return thread_join(t);
}

Test(sched, threads_created_across_cpus_run_on_their_cpu)
{
	struct cross_result r = { .cpus = 4 };
	cr_assert_eq(run_in_kernel(4, cross_cpu_body, &r), 0);
	for (unsigned c = 0; c < r.cpus; c++)
		cr_assert_eq(r.status[c], (int)c + 100, "thread for CPU %u", c);
}

static int create_on_missing_cpu(void *arg)
{
	return thread_create(7, report_cpu, NULL, 0) == NULL ? 0 : 1;
}

/* ---- mutex: one owner at a time across CPUs, whether a waiter spins (the
 * owner runs on the other CPU) or sleeps (the owner yields or sleeps) ---- */

#define MUTEX_ROUNDS 2000

struct counted {
	struct mutex lock;
	unsigned long count;        /* lock's; read and written apart on purpose */
	int inside;                 /* threads in the section: never above 1 */
	int most_inside;
};

static int count_under_lock(void *arg)
{
	struct counted *c = arg;
	for (unsigned i = 0; i < MUTEX_ROUNDS; i++) {
		mutex_lock(&c->lock);
		int in = __atomic_add_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
		if (in > c->most_inside)
			c->most_inside = in;
		unsigned long v = c->count;
		if (i % 64 == 0)
			thread_yield();         /* waiters on this CPU must sleep */
		else if (i % 257 == 0)
			thread_sleep_ms(1);     /* the owner asleep: waiters elsewhere stop spinning */
		c->count = v + 1;
		__atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
		mutex_unlock(&c->lock);
	}
	return 0;
}

static int mutex_body(void *arg)
{
	struct counted *c = arg;
	struct thread *t[6];
	mutex_init(&c->lock, "test");
	for (unsigned i = 0; i < 6; i++)
		t[i] = thread_create(i % 2, count_under_lock, c, 0);
	for (unsigned i = 0; i < 6; i++)
		thread_join(t[i]);
	return 0;
}

Test(sched, mutex_excludes_across_cpus)
{
	static struct counted c;
	cr_assert_eq(run_in_kernel(2, mutex_body, &c), 0);
	cr_assert_eq(c.count, 6ul * MUTEX_ROUNDS);
	cr_assert_eq(c.most_inside, 1);
}

Test(sched, create_on_missing_cpu_fails_cleanly)
{
	cr_assert_eq(run_in_kernel(2, create_on_missing_cpu, NULL), 0);
}

/* ---- thousands of threads ---- */

static int add_one(void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
	thread_yield();
	return 7;
}

struct many_result {
	int counter;
	int bad_status;
	unsigned live_after;
};

static int many_threads_body(void *arg)
{
	struct many_result *r = arg;
	enum { N = 4000 };
	static struct thread *t[N];
	for (int i = 0; i < N; i++) {
		t[i] = thread_create((unsigned)i % hal_cpu_count(), add_one, &r->counter, 16384);
		if (!t[i])
			return 2;
	}
	for (int i = 0; i < N; i++)
		if (thread_join(t[i]) != 7)
			r->bad_status++;
	r->live_after = thread_count();
	return 0;
}

Test(sched, thousands_of_threads)
{
	struct many_result r = { 0 };
	cr_assert_eq(run_in_kernel(2, many_threads_body, &r), 0);
	cr_assert_eq(r.counter, 4000);
	cr_assert_eq(r.bad_status, 0);
	cr_assert_eq(r.live_after, 1, "only main is left, got %u", r.live_after);
}

/* ---- wait queues: timeouts and cross-CPU wake-ups ---- */

struct waitq_case {
	struct waitq wq;
	bool ready;
	int timeout_rc;
	int woken_rc;
};

static int set_ready_later(void *arg)
{
	struct waitq_case *w = arg;
	thread_sleep_ms(10);
	spin_lock(&w->wq.lock);
	w->ready = true;
	waitq_wake_all_locked(&w->wq);
	spin_unlock(&w->wq.lock);
	return 0;
}

static int waitq_body(void *arg)
{
	struct waitq_case *w = arg;
	waitq_init(&w->wq, "test");
	spin_lock(&w->wq.lock);
	w->timeout_rc = waitq_wait_locked(&w->wq, hal_clock_ns() + 5000000);
	spin_unlock(&w->wq.lock);

	struct thread *t = thread_create(1, set_ready_later, w, 0);
	spin_lock(&w->wq.lock);
	while (!w->ready)
		w->woken_rc = waitq_wait_locked(&w->wq, hal_clock_ns() + 5000000000ull);
	spin_unlock(&w->wq.lock);
	thread_join(t);
	return 0;
}

Test(sched, waitq_timeout_and_wake)
{
	struct waitq_case w = { 0 };
	cr_assert_eq(run_in_kernel(2, waitq_body, &w), 0);
	cr_assert_eq(w.timeout_rc, -ETIMEDOUT);
	cr_assert_eq(w.woken_rc, 0);
	cr_assert(w.ready);
}

/* ---- exit status and the Toro API ---- */

static int exit_early(void *arg)
{
	ThreadExit(33);
}

static int toro_api_body(void *arg)
{
	TThread *t = BeginJoinableThread(0, exit_early, NULL, 1);
	int *status = arg;
	*status = WaitThread(t);
	TThreadID id = 0;
	if (BeginThread(NULL, 0, exit_early, NULL, 0, &id) == 0 || id == 0)
		return 3;
	Sleep(5);
	return GetCoreId() == 0 && GetCPUCount() == 2 ? 0 : 4;
}

Test(sched, toro_api_exit_status)
{
	int status = 0;
	cr_assert_eq(run_in_kernel(2, toro_api_body, &status), 0);
	cr_assert_eq(status, 33);
}

static int main_status_body(void *arg)
{
	return 42;
}

Test(sched, service_status_is_returned)
{
	cr_assert_eq(run_in_kernel(2, main_status_body, NULL), 42);
}
