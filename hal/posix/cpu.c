/*
 * cpu.c: kernel CPUs as host threads, and interrupts as events.
 *
 * Each kernel CPU is a pthread. "Interrupts disabled" is a flag of that
 * thread: device events (hal_posix_raise_irq, from I/O threads) are queued
 * per CPU and run by the CPU itself when it enables interrupts or idles, so
 * a handler never runs inside a section the kernel protects with
 * hal_irq_save.
 *
 * Idle is a wait in the CPU's own epoll instance, with the deadline as a
 * relative timeout. The instance holds the CPU's eventfd (kicks and queued
 * events) and every fd watched with hal_posix_watch_fd (watch.c), so a host
 * event wakes an idle CPU thread directly; before it sleeps, an idle CPU
 * polls that instance for a short, adaptive window (idle_poll). A busy CPU
 * never polls: it looks at its queue when it enables interrupts, and a
 * waker writes the eventfd only when the CPU is asleep (or about to be), so
 * waking a busy CPU costs no syscall.
 *
 * Shutdown: hal_shutdown records the status, wakes every CPU and leaves the
 * kernel through a longjmp back to the CPU thread's start. The thread that
 * called hal_posix_run collects the status.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

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
	int epfd;                   /* idle waits here; -1 when not set up */
	int wakefd;                 /* eventfd in epfd: kicks and events */
	uint64_t poll_ns;           /* this CPU's thread only: idle_poll's window */

	pthread_mutex_t lock;       /* guards the fields below */
	bool sleeping;              /* in (or entering) epoll: wakers write wakefd */
	bool kicked;                /* read unlocked too, while polling */
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

/*
 * wake_locked: make c's idle wait return, with c->lock held. Only a CPU
 * that is asleep (or past its last check and about to be) needs the eventfd;
 * clearing the flag makes the first waker the only one that pays a syscall.
 * The write is done under the lock so that finish_sleep, which takes the
 * same lock, knows the counter is set when it finds the flag cleared.
 */
static void wake_locked(struct posix_cpu *c)
{
	if (!c->sleeping)
		return;
	c->sleeping = false;
	uint64_t one = 1;
	if (write(c->wakefd, &one, sizeof(one)) != sizeof(one))
		abort();        /* cannot overflow: each write is read back */
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
	wake_locked(c);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static bool stopping(void)
{
	return __atomic_load_n(&shutting_down, __ATOMIC_ACQUIRE);
}

/*
 * prepare_sleep: the last check before the wait. Anything a waker posts
 * after this unlock finds sleeping set and writes the eventfd, which epoll
 * reports even if the wait has not begun yet: no wake-up is lost.
 * hal_shutdown sets shutting_down before it kicks, so stopping() is covered
 * the same way.
 */
static bool prepare_sleep(struct posix_cpu *c)
{
	pthread_mutex_lock(&c->lock);
	bool sleep = !c->kicked && !c->events && !stopping();
	__atomic_store_n(&c->kicked, false, __ATOMIC_RELAXED);
	c->sleeping = sleep;
	pthread_mutex_unlock(&c->lock);
	return sleep;
}

/* finish_sleep: back from epoll. A cleared flag means a waker wrote the
 * eventfd: read it back so the next wait does not end at once. */
static void finish_sleep(struct posix_cpu *c)
{
	pthread_mutex_lock(&c->lock);
	if (!c->sleeping) {
		uint64_t count;
		if (read(c->wakefd, &count, sizeof(count)) != sizeof(count))
			abort();    /* the write was done under this lock */
	}
	c->sleeping = false;
	__atomic_store_n(&c->kicked, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->lock);
}

/* Set once a host (an old kernel) turned epoll_pwait2 down, or at boot under
 * valgrind, whose 3.19 does not know it and would warn on the first try. */
static bool no_pwait2;

/*
 * epoll_once: one epoll wait of at most wait_ns (UINT64_MAX: no limit).
 * Where epoll_pwait2 is missing, epoll_pwait with milliseconds rounded up:
 * late by under a millisecond, never early.
 */
static int epoll_once(int epfd, struct epoll_event *ev, int max, uint64_t wait_ns)
{
	if (!__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
		struct timespec ts = {
			.tv_sec = (time_t)(wait_ns / 1000000000ull),
			.tv_nsec = (long)(wait_ns % 1000000000ull),
		};
		int n = epoll_pwait2(epfd, ev, max, wait_ns == UINT64_MAX ? NULL : &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		__atomic_store_n(&no_pwait2, true, __ATOMIC_RELAXED);
	}
	int ms = -1;
	if (wait_ns != UINT64_MAX)
		ms = wait_ns >= (uint64_t)INT32_MAX * 1000000ull ? INT32_MAX
		                                                  : (int)((wait_ns + 999999) / 1000000);
	return epoll_pwait(epfd, ev, max, ms, NULL);
}

/* wait_events: sleep in c's epoll until an event or deadline_ns (0: none).
 * Returns the number of events in ev (0: the deadline passed). */
static int wait_events(struct posix_cpu *c, struct epoll_event *ev, int max,
                       uint64_t deadline_ns)
{
	for (;;) {
		uint64_t wait_ns = UINT64_MAX;
		if (deadline_ns) {
			uint64_t now = hal_clock_ns();
			if (now >= deadline_ns)
				return 0;
			wait_ns = deadline_ns - now;
		}
		int n = epoll_once(c->epfd, ev, max, wait_ns);
		if (n > 0)
			return n;
		if (n < 0 && errno != EINTR) {
			perror("hal_cpu_idle: epoll_pwait");
			abort();
		}
	}
}

/* run_watched: the handlers of the watched fds among ev, in irq context. */
static void run_watched(struct posix_cpu *c, const struct epoll_event *ev, int n)
{
	bool was = c->irq_enabled;
	c->irq_enabled = false;
	for (int i = 0; i < n; i++)
		if (ev[i].data.ptr)     /* NULL: the wakefd */
			posix_watch_fire(ev[i].data.ptr);
	c->irq_enabled = was;
}

#define IDLE_EVENTS 16

/*
 * Idle polling: a CPU about to sleep first polls its epoll (no wait) for a
 * short window, so an event that comes within microseconds (the next frame
 * of a request, the peer's answer) costs no host sleep and wake-up. Each
 * round yields the host CPU (sched_yield): what the event waits for (the
 * client, Linux's half of the connection) often runs on the same host CPU,
 * and a poll that kept it off would only delay the event (on a 2-core host
 * a spin with pause instead cost more CPU per connection and saved no
 * sleep; with the yield a 2-CPU ToroEcho slept 0.04 times per connection
 * instead of 3.5). The window adapts as KVM's halt polling does: it doubles
 * (up to poll_max_ns) when the sleep after a poll that caught nothing was
 * short, so a little more polling would have caught the event, and halves
 * when the sleep was long, so an idle service does not poll at all.
 * posix_config.idle_poll_ns sets the most (torofuse's callers answer
 * later than a network peer, and on a host where waking a sleeping CPU
 * costs tens of microseconds a longer poll pays: see fusemount/uring.h).
 */
#define POLL_START_NS  2000ull
#define POLL_MAX_NS_DEFAULT 50000ull

static uint64_t poll_max_ns;    /* set at boot, when no CPU runs */

static bool woken(struct posix_cpu *c)
{
	return __atomic_load_n(&c->kicked, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&c->has_events, __ATOMIC_RELAXED) || stopping();
}

/* idle_poll: poll c's epoll until an event, a kick or the window (or
 * deadline_ns) passes; the number of events in ev (0: none came). */
static int idle_poll(struct posix_cpu *c, struct epoll_event *ev, int max, uint64_t deadline_ns)
{
	uint64_t end = hal_clock_ns() + c->poll_ns;
	if (deadline_ns && deadline_ns < end)
		end = deadline_ns;
	do {
		if (woken(c))
			return 0;
		int n = epoll_once(c->epfd, ev, max, 0);
		if (n > 0)
			return n;
		sched_yield();
	} while (hal_clock_ns() < end);
	return 0;
}

/* poll_adapt: after a poll that caught nothing, a sleep of slept_ns. */
static void poll_adapt(struct posix_cpu *c, uint64_t slept_ns)
{
	if (slept_ns < poll_max_ns) {
		c->poll_ns = c->poll_ns ? c->poll_ns * 2 : POLL_START_NS;
		if (c->poll_ns > poll_max_ns)
			c->poll_ns = poll_max_ns;
	} else {
		c->poll_ns /= 2;
		if (c->poll_ns < POLL_START_NS)
			c->poll_ns = 0;
	}
}

void hal_cpu_idle(uint64_t deadline_ns)
{
	struct posix_cpu *c = self;
	struct epoll_event ev[IDLE_EVENTS];
	int n = 0;

	if (c->poll_ns)
		n = idle_poll(c, ev, IDLE_EVENTS, deadline_ns);
	if (n == 0 && !woken(c) && prepare_sleep(c)) {
		uint64_t start = hal_clock_ns();
		n = wait_events(c, ev, IDLE_EVENTS, deadline_ns);
		finish_sleep(c);
		uint64_t now = hal_clock_ns();
		if (!deadline_ns || now < deadline_ns)     /* an event, not the deadline */
			poll_adapt(c, now - start);
	} else {
		pthread_mutex_lock(&c->lock);
		__atomic_store_n(&c->kicked, false, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&c->lock);
	}
	if (stopping())
		longjmp(c->leave, 1);
	run_watched(c, ev, n);
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
	__atomic_store_n(&c->kicked, true, __ATOMIC_RELAXED);
	wake_locked(c);
	pthread_mutex_unlock(&c->lock);
}

int posix_cpu_epoll_fd(unsigned cpu)
{
	return cpus[cpu].epfd;
}

static void *cpu_thread(void *arg)
{
	struct posix_cpu *c = arg;

	self = c;
	c->irq_enabled = false;
	posix_stack_guard_cpu_init(c->id);
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

/* close_wait: drop c's epoll instance and eventfd (its thread is gone). */
static void close_wait(struct posix_cpu *c)
{
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->wakefd >= 0)
		close(c->wakefd);
	c->epfd = c->wakefd = -1;
}

/* open_wait: c's epoll instance with its eventfd in it (data NULL). */
static int open_wait(struct posix_cpu *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	c->wakefd = -1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		return -errno;
	c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wakefd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->wakefd, &ev) < 0) {
		int err = -errno;
		close_wait(c);
		return err;
	}
	return 0;
}

int posix_cpus_init(unsigned count, uint64_t idle_poll_ns)
{
	ncpus = count;
	poll_max_ns = idle_poll_ns ? idle_poll_ns : POLL_MAX_NS_DEFAULT;
	shutting_down = false;
	shutdown_status = 0;
	posix_watch_reset();
	if (RUNNING_ON_VALGRIND)
		__atomic_store_n(&no_pwait2, true, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < count; i++) {
		struct posix_cpu *c = &cpus[i];
		c->id = i;
		c->kicked = false;
		c->sleeping = false;
		c->started = false;
		c->poll_ns = 0;
		c->events = NULL;
		c->events_tail = &c->events;
		c->has_events = 0;
		pthread_mutex_init(&c->lock, NULL);
		int rc = open_wait(c);
		if (rc < 0) {
			while (i-- > 0)
				close_wait(&cpus[i]);
			return rc;
		}
	}
	return 0;
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
	for (unsigned i = 0; i < ncpus; i++) {
		struct posix_cpu *c = &cpus[i];
		if (c->started && pthread_timedjoin_np(c->thread, NULL, &limit) != 0)
			pthread_detach(c->thread);  /* may still use its fds: keep them */
		else
			close_wait(c);
	}
	return status;
}
