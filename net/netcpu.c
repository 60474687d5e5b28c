/*
 * netcpu.c: the per-CPU network threads (net.h's concurrency model).
 *
 * Each CPU has one network thread. It sleeps on its CPU's wait queue until
 * there is work, and then, in this order:
 *   1. runs the packets other CPUs handed over (net_run_on);
 *   2. polls the pollers whose notify ran (the receive queues this CPU
 *      serves: netif.c drains them in batches and re-arms);
 *   3. runs the timers whose deadline passed.
 * When none is left it sleeps until the next timer's deadline, or a wake-up:
 * the CPU halts, nothing spins. A poller that used its whole budget asks to
 * be polled again and the thread yields first, so the CPU's other threads
 * (a service's) run between batches.
 *
 * Timers and pollers belong to their CPU; only the wake state (work flag,
 * inbox, pending flags) is shared, under the wait queue's lock.
 */
#include <errno.h>

#include "netcpu.h"
#include "thread.h"
#include "timer_wheel.h"

#define INBOX_MAX 4096          /* handed-over packets waiting on one CPU */

struct net_cpu {
	/* wake.lock guards work, inbox and inbox_len (taken from irq context
	 * too: a notify). Leaf lock. */
	struct waitq wake;
	bool work;
	struct list inbox;
	unsigned inbox_len;

	/* Owner CPU only. */
	struct thread *thread;
	struct timer_wheel timers;  /* armed net_timers */
	struct list pollers;        /* struct net_poller, registered at start */
	bool sleeping;              /* the thread waits on wake */
	uint64_t sleeping_until;    /* the deadline it sleeps to (0 none) */
	bool started;
} __attribute__((aligned(64)));

static struct net_cpu net_cpus[HAL_MAX_CPUS];

static struct net_cpu *this_net_cpu(void)
{
	return &net_cpus[hal_cpu_id()];
}

static void kick(struct net_cpu *nc)
{
	spin_lock(&nc->wake.lock);
	nc->work = true;
	waitq_wake_one_locked(&nc->wake);
	spin_unlock(&nc->wake.lock);
}

/* ---- timers ------------------------------------------------------------- */

void net_timer_init(struct net_timer *t, void (*fn)(struct net_timer *t))
{
	list_init(&t->link);
	t->deadline_ns = 0;
	t->fn = fn;
}

void net_timer_arm(struct net_timer *t, uint64_t deadline_ns)
{
	struct net_cpu *nc = this_net_cpu();

	timer_wheel_arm(&nc->timers, t, deadline_ns);

	/* A thread other than the network thread armed a timer sooner than the
	 * one it sleeps to: wake it to sleep again with the new deadline. (If
	 * it does not sleep it looks at the timers before it does: the CPU's
	 * threads do not preempt one another.) */
	if (nc->sleeping && thread_current() != nc->thread &&
	    (nc->sleeping_until == 0 || deadline_ns < nc->sleeping_until))
		kick(nc);
}

void net_timer_cancel(struct net_timer *t)
{
	timer_wheel_cancel(t);
}

static void run_timers(struct net_cpu *nc)
{
	timer_wheel_run(&nc->timers, hal_clock_ns());
}

static uint64_t next_deadline(struct net_cpu *nc)
{
	return timer_wheel_next(&nc->timers);
}

/* ---- hand-overs ------------------------------------------------------------ */

/* hand_over: queue fn(nb) for cpu's network thread. bounded: drop it when
 * the inbox is full (packets); else always queue (messages whose loss would
 * leave state behind, few by the caller's bound). */
static void hand_over(unsigned cpu, struct netbuf *nb, void (*fn)(struct netbuf *nb), bool bounded)
{
	struct net_cpu *nc = &net_cpus[cpu];

	if (cpu >= hal_cpu_count() || !nc->started) {
		netbuf_free(nb);
		return;
	}
	nb->run = fn;
	spin_lock(&nc->wake.lock);
	if (bounded && nc->inbox_len >= INBOX_MAX) {
		spin_unlock(&nc->wake.lock);
		netbuf_free(nb);        /* the owner cannot keep up: drop */
		return;
	}
	list_push_back(&nc->inbox, &nb->link);
	nc->inbox_len++;
	nc->work = true;
	waitq_wake_one_locked(&nc->wake);
	spin_unlock(&nc->wake.lock);
}

void net_run_on(unsigned cpu, struct netbuf *nb, void (*fn)(struct netbuf *nb))
{
	hand_over(cpu, nb, fn, true);
}

void net_call_on(unsigned cpu, struct netbuf *nb, void (*fn)(struct netbuf *nb))
{
	hand_over(cpu, nb, fn, false);
}

/* ---- pollers --------------------------------------------------------------- */

void net_poller_init(struct net_poller *p, unsigned cpu, bool (*poll)(struct net_poller *p))
{
	list_init(&p->link);
	p->cpu = cpu;
	p->pending = false;
	p->poll = poll;
}

void net_poller_add(struct net_poller *p)
{
	/* Before net_cpus_start: the threads do not run yet. */
	list_push_back(&net_cpus[p->cpu].pollers, &p->link);
}

void net_poller_notify(struct net_poller *p)
{
	__atomic_store_n(&p->pending, true, __ATOMIC_RELEASE);
	kick(&net_cpus[p->cpu]);
}

static void run_pollers(struct net_cpu *nc)
{
	list_for_each(pos, &nc->pollers) {
		struct net_poller *p = list_entry(pos, struct net_poller, link);
		if (!__atomic_exchange_n(&p->pending, false, __ATOMIC_ACQ_REL))
			continue;
		if (p->poll(p)) {
			/* Budget used up: come back after the others had a turn. */
			__atomic_store_n(&p->pending, true, __ATOMIC_RELEASE);
			spin_lock(&nc->wake.lock);
			nc->work = true;
			spin_unlock(&nc->wake.lock);
		}
	}
}

/* ---- the thread ---------------------------------------------------------- */

static int net_thread(void *arg)
{
	struct net_cpu *nc = arg;
	struct list handed;

	list_init(&handed);
	for (;;) {
		spin_lock(&nc->wake.lock);
		while (!nc->work) {
			uint64_t deadline = next_deadline(nc);
			if (deadline && deadline <= hal_clock_ns())
				break;
			nc->sleeping_until = deadline;
			nc->sleeping = true;
			int rc = waitq_wait_locked(&nc->wake, deadline);
			nc->sleeping = false;
			nc->sleeping_until = 0;
			if (rc == -ETIMEDOUT)
				break;
		}
		bool more = nc->work;
		nc->work = false;
		list_splice_back(&handed, &nc->inbox);
		nc->inbox_len = 0;
		spin_unlock(&nc->wake.lock);

		struct list *link;
		while ((link = list_pop_front(&handed)) != NULL) {
			struct netbuf *nb = list_entry(link, struct netbuf, link);
			nb->run(nb);
		}
		if (more)
			run_pollers(nc);
		run_timers(nc);
		thread_yield();         /* the CPU's other threads between rounds */
	}
	return 0;
}

/* The CPUs there are only (a fixed number after boot): each record's
 * timer wheel is 16 KiB of list heads, and making all HAL_MAX_CPUS of
 * them was most of the start-up of a service with a NIC. */
void net_cpus_init(void)
{
	for (unsigned cpu = 0; cpu < hal_cpu_count(); cpu++) {
		struct net_cpu *nc = &net_cpus[cpu];
		waitq_init(&nc->wake, "net_cpu.wake");
		nc->work = false;
		list_init(&nc->inbox);
		nc->inbox_len = 0;
		timer_wheel_init(&nc->timers, hal_clock_ns());
		list_init(&nc->pollers);
		nc->thread = NULL;
		nc->sleeping = false;
		nc->sleeping_until = 0;
		nc->started = false;
	}
}

int net_cpus_start(void)
{
	for (unsigned cpu = 0; cpu < hal_cpu_count(); cpu++) {
		struct net_cpu *nc = &net_cpus[cpu];
		nc->thread = thread_create(cpu, net_thread, nc, 0);
		if (!nc->thread)
			return -ENOMEM;
		thread_detach(nc->thread);
		nc->started = true;
		kick(nc);               /* a first round: pollers notified early */
	}
	return 0;
}
