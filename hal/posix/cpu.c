/*
 * cpu.c: kernel CPUs as host threads, and interrupts as events.
 *
 * Each kernel CPU is a pthread. "Interrupts disabled" is a flag of that
 * thread: device events (hal_posix_raise_irq, from I/O threads) are queued
 * per CPU and run by the CPU itself when it enables interrupts or idles, so
 * a handler never runs inside a section the kernel protects with
 * hal_irq_save. Idle is a wait on the CPU's condition variable with the
 * deadline as timeout; a kick or an event signals it.
 *
 * Shutdown: hal_shutdown records the status, wakes every CPU and leaves the
 * kernel through a longjmp back to the CPU thread's start. The thread that
 * called hal_posix_run collects the status.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdlib.h>
#include <time.h>

#include "hal.h"
#include "posix.h"

struct irq_event {
	struct irq_event *next;
	void (*handler)(void *);
	void *arg;
};

struct posix_cpu {
	unsigned id;
	pthread_t thread;
	jmp_buf leave;              /* back to cpu_thread(), at shutdown */
	bool irq_enabled;           /* this CPU's own thread only */
	bool started;               /* has a host thread to join */

	pthread_mutex_t lock;       /* guards the fields below */
	pthread_cond_t wake;
	bool kicked;
	struct irq_event *events, **events_tail;
	int has_events;             /* atomic mirror of events != NULL */
};

static struct posix_cpu cpus[HAL_MAX_CPUS];
static unsigned ncpus;
static __thread struct posix_cpu *self;

/* Boot arguments for CPU 0, set before its thread starts. */
static int boot_argc;
static char **boot_argv;

/* Shutdown, guarded by shutdown_lock. */
static pthread_mutex_t shutdown_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t shutdown_cond = PTHREAD_COND_INITIALIZER;
static bool shutting_down;
static int shutdown_status;

unsigned hal_cpu_count(void) { return ncpus; }
unsigned hal_cpu_id(void) { return self->id; }
bool hal_irq_enabled(void) { return self->irq_enabled; }

static void run_events(struct posix_cpu *c)
{
	pthread_mutex_lock(&c->lock);
	struct irq_event *e = c->events;
	c->events = NULL;
	c->events_tail = &c->events;
	__atomic_store_n(&c->has_events, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->lock);

	bool was = c->irq_enabled;
	c->irq_enabled = false;     /* handlers run in irq context */
	while (e) {
		struct irq_event *next = e->next;
		e->handler(e->arg);
		free(e);
		e = next;
	}
	c->irq_enabled = was;
}

unsigned long hal_irq_save(void)
{
	bool was = self->irq_enabled;
	self->irq_enabled = false;
	return was;
}

void hal_irq_restore(unsigned long state)
{
	self->irq_enabled = state != 0;
	if (state && __atomic_load_n(&self->has_events, __ATOMIC_RELAXED))
		run_events(self);
}

void hal_irq_enable(void)
{
	hal_irq_restore(1);
}

int hal_posix_raise_irq(unsigned cpu, void (*handler)(void *), void *arg)
{
	struct irq_event *e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct irq_event){ NULL, handler, arg };
	struct posix_cpu *c = &cpus[cpu];
	pthread_mutex_lock(&c->lock);
	*c->events_tail = e;
	c->events_tail = &e->next;
	__atomic_store_n(&c->has_events, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static bool stopping(void)
{
	return __atomic_load_n(&shutting_down, __ATOMIC_ACQUIRE);
}

void hal_cpu_idle(uint64_t deadline_ns)
{
	struct posix_cpu *c = self;

	pthread_mutex_lock(&c->lock);
	while (!c->kicked && !c->events && !stopping()) {
		if (deadline_ns == 0) {
			pthread_cond_wait(&c->wake, &c->lock);
			continue;
		}
		uint64_t now = hal_clock_ns();
		if (now >= deadline_ns)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wait = deadline_ns - now;
		ts.tv_sec += (time_t)(wait / 1000000000ull);
		ts.tv_nsec += (long)(wait % 1000000000ull);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->wake, &c->lock, &ts);
	}
	c->kicked = false;
	pthread_mutex_unlock(&c->lock);
	if (stopping())
		longjmp(c->leave, 1);
	if (__atomic_load_n(&c->has_events, __ATOMIC_RELAXED))
		run_events(c);
}

void hal_cpu_relax(void)
{
	static __thread unsigned spins;
	__builtin_ia32_pause();
	if (++spins % 64 == 0)
		sched_yield();
}

void hal_cpu_kick(unsigned cpu)
{
	struct posix_cpu *c = &cpus[cpu];
	pthread_mutex_lock(&c->lock);
	c->kicked = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

static void *cpu_thread(void *arg)
{
	struct posix_cpu *c = arg;

	self = c;
	c->irq_enabled = false;
	if (setjmp(c->leave) == 0) {
		if (c->id == 0)
			kernel_main(boot_argc, boot_argv);
		else
			kernel_cpu_main();
	}
	return NULL;
}

static int spawn(struct posix_cpu *c)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int rc = pthread_create(&c->thread, &attr, cpu_thread, c);
	pthread_attr_destroy(&attr);
	c->started = rc == 0;
	return -rc;
}

int hal_cpu_start(unsigned cpu)
{
	if (cpu == 0 || cpu >= ncpus)
		return -EINVAL;
	return spawn(&cpus[cpu]);
}

void posix_cpus_init(unsigned count)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	ncpus = count;
	shutting_down = false;
	shutdown_status = 0;
	for (unsigned i = 0; i < count; i++) {
		struct posix_cpu *c = &cpus[i];
		c->id = i;
		c->kicked = false;
		c->started = false;
		c->events = NULL;
		c->events_tail = &c->events;
		c->has_events = 0;
		pthread_mutex_init(&c->lock, NULL);
		pthread_cond_init(&c->wake, &attr);
	}
	pthread_condattr_destroy(&attr);
}

void posix_cpus_start_boot(int argc, char **argv)
{
	boot_argc = argc;
	boot_argv = argv;
	if (spawn(&cpus[0]) < 0)
		abort();
}

void hal_shutdown(int status)
{
	pthread_mutex_lock(&shutdown_lock);
	if (!shutting_down) {
		shutdown_status = status;
		__atomic_store_n(&shutting_down, true, __ATOMIC_RELEASE);
	}
	pthread_cond_broadcast(&shutdown_cond);
	pthread_mutex_unlock(&shutdown_lock);
	for (unsigned i = 0; i < ncpus; i++)
		if (&cpus[i] != self)
			hal_cpu_kick(i);
	longjmp(self->leave, 1);
}

/* Give CPUs this long to notice the shutdown; a CPU whose thread never
 * yields cannot, and is left behind (cooperative scheduling). */
#define SHUTDOWN_GRACE_NS 500000000ull

int posix_cpus_wait_shutdown(void)
{
	pthread_mutex_lock(&shutdown_lock);
	while (!shutting_down)
		pthread_cond_wait(&shutdown_cond, &shutdown_lock);
	int status = shutdown_status;
	pthread_mutex_unlock(&shutdown_lock);

	struct timespec limit;
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += SHUTDOWN_GRACE_NS / 1000000000ull;
	limit.tv_nsec += SHUTDOWN_GRACE_NS % 1000000000ull;
	if (limit.tv_nsec >= 1000000000L) {
		limit.tv_sec++;
		limit.tv_nsec -= 1000000000L;
	}
	for (unsigned i = 0; i < ncpus; i++)
		if (cpus[i].started && pthread_timedjoin_np(cpus[i].thread, NULL, &limit) != 0)
			pthread_detach(cpus[i].thread);
	return status;
}
