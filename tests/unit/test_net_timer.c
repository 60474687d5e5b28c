/*
 * test_net_timer.c: the timing wheel behind net_timers (net/timer_wheel.c),
 * driven with its own clock: timers fire in deadline order and never
 * early, cancel and re-arm move them, far deadlines (beyond the wheel's
 * rotation) still fire on time, a long gap between runs loses none, a
 * callback may re-arm itself, and thousands of timers behave as one, each
 * looked at a bounded number of times however long it waits.
 * timer_wheel_next must always name the earliest deadline (or the far
 * list's walk before it) so that the network thread sleeps just enough.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "timer_wheel.h"

#define MS 1000000ull
#define SEC (1000 * MS)
#define T0 (5 * SEC)        /* the clock at init: not a tick boundary */

struct probe {
	struct net_timer t;
	uint64_t fired_at;      /* 0: not fired */
	unsigned fired;         /* how many times */
	unsigned order;         /* its place among fired probes */
};

static unsigned fired_count;
static uint64_t clock_now;
static struct timer_wheel *wheel;

static void on_fire(struct net_timer *t)
{
	struct probe *p = (struct probe *)t;
	cr_assert(clock_now >= t->deadline_ns, "fired early: %llu < %llu",
	          (unsigned long long)clock_now, (unsigned long long)t->deadline_ns);
	cr_assert(!net_timer_armed(t), "fired while still linked");
	p->fired_at = clock_now;
	p->fired++;
	p->order = ++fired_count;
}

static void setup(void)
{
	wheel = malloc(sizeof(*wheel));
	cr_assert(wheel);
	clock_now = T0 + 123456;
	fired_count = 0;
	timer_wheel_init(wheel, clock_now);
}

static void teardown(void)
{
	free(wheel);
}

/* advance: run the wheel as the network thread would, waking at every
 * timer_wheel_next until the clock reaches until. */
static void advance(uint64_t until)
{
	for (unsigned guard = 0; guard < 1000000; guard++) {
		uint64_t next = timer_wheel_next(wheel);
		if (next == 0 || next > until) {
			clock_now = until;
			timer_wheel_run(wheel, clock_now);
			return;
		}
		if (next > clock_now)
			clock_now = next;
		timer_wheel_run(wheel, clock_now);
	}
	cr_assert_fail("advance did not converge");
}

static void probe_init(struct probe *p)
{
	net_timer_init(&p->t, on_fire);
	p->fired_at = 0;
	p->fired = 0;
	p->order = 0;
}

TestSuite(net_timer, .init = setup, .fini = teardown);

Test(net_timer, fires_in_deadline_order_and_on_time)
{
	static const unsigned ms[] = {40, 3, 3, 250, 1, 17, 900, 2, 0};
	struct probe p[sizeof(ms) / sizeof(ms[0])];
	unsigned n = sizeof(ms) / sizeof(ms[0]);

	for (unsigned i = 0; i < n; i++) {
		probe_init(&p[i]);
		timer_wheel_arm(wheel, &p[i].t, clock_now + ms[i] * MS + i);
	}
	advance(clock_now + 2 * SEC);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(p[i].fired, 1, "probe %u fired %u times", i, p[i].fired);
		/* Woken at next(): exactly at the deadline. */
		cr_assert_eq(p[i].fired_at, p[i].t.deadline_ns, "probe %u late", i);
		for (unsigned j = 0; j < n; j++)
			if (p[j].t.deadline_ns < p[i].t.deadline_ns)
				cr_assert_lt(p[j].order, p[i].order, "probe %u before %u", i, j);
	}
	cr_assert_eq(timer_wheel_next(wheel), 0);
}

Test(net_timer, cancel_and_rearm)
{
	struct probe a, b, c;
	probe_init(&a);
	probe_init(&b);
	probe_init(&c);
	timer_wheel_arm(wheel, &a.t, clock_now + 10 * MS);
	timer_wheel_arm(wheel, &b.t, clock_now + 20 * MS);
	timer_wheel_arm(wheel, &c.t, clock_now + 30 * MS);
	cr_assert_eq(timer_wheel_next(wheel), a.t.deadline_ns);
	timer_wheel_cancel(&a.t);
	timer_wheel_cancel(&a.t);               /* twice is harmless */
	cr_assert(!net_timer_armed(&a.t));
	cr_assert_eq(timer_wheel_next(wheel), b.t.deadline_ns);
	timer_wheel_arm(wheel, &b.t, clock_now + 5 * SEC);     /* later, far */
	timer_wheel_arm(wheel, &c.t, clock_now + 1 * MS);      /* sooner */
	cr_assert_eq(timer_wheel_next(wheel), c.t.deadline_ns);
	uint64_t start = clock_now;
	advance(start + 4 * SEC);
	cr_assert_eq(a.fired, 0);
	cr_assert_eq(b.fired, 0);
	cr_assert_eq(c.fired, 1);
	cr_assert_eq(c.fired_at, start + 1 * MS);
	advance(start + 6 * SEC);
	cr_assert_eq(b.fired, 1);
	cr_assert_eq(b.fired_at, start + 5 * SEC);
}

Test(net_timer, far_deadlines_fire_exactly)
{
	/* Well past the rotation (about half a second): TIME-WAIT, keepalive. */
	static const uint64_t after[] = {60 * SEC, 600 * MS, 537 * MS, 2 * SEC + 7, 7200 * SEC};
	struct probe p[5];
	uint64_t start = clock_now;
	for (unsigned i = 0; i < 5; i++) {
		probe_init(&p[i]);
		timer_wheel_arm(wheel, &p[i].t, start + after[i]);
	}
	unsigned wakes = 0;
	while (fired_count < 5 && wakes < 100000) {
		uint64_t next = timer_wheel_next(wheel);
		cr_assert_neq(next, 0);
		cr_assert_geq(next + 1, clock_now);
		if (next > clock_now)
			clock_now = next;
		timer_wheel_run(wheel, clock_now);
		wakes++;
	}
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(p[i].fired_at, start + after[i], "probe %u", i);
	/* Two hours on far timers: a wake per half rotation, not per tick. */
	cr_assert_lt(wakes, 7200 * 4 + 10, "%u wakes", wakes);
}

Test(net_timer, long_gap_loses_none)
{
	/* The thread slept long (or the clock jumped): one run fires all. */
	struct probe p[64];
	for (unsigned i = 0; i < 64; i++) {
		probe_init(&p[i]);
		timer_wheel_arm(wheel, &p[i].t, clock_now + (uint64_t)i * 37 * MS);
	}
	clock_now += 10 * SEC;
	timer_wheel_run(wheel, clock_now);
	for (unsigned i = 0; i < 64; i++)
		cr_assert_eq(p[i].fired, 1, "probe %u", i);
	cr_assert_eq(timer_wheel_next(wheel), 0);
}

static struct probe periodic;

static void on_periodic(struct net_timer *t)
{
	on_fire(t);
	if (periodic.fired < 50)
		timer_wheel_arm(wheel, t, t->deadline_ns + 7 * MS);
}

Test(net_timer, callback_rearms_itself)
{
	probe_init(&periodic);
	periodic.t.fn = on_periodic;
	uint64_t start = clock_now;
	timer_wheel_arm(wheel, &periodic.t, start + 7 * MS);
	advance(start + 2 * SEC);
	cr_assert_eq(periodic.fired, 50);
	cr_assert_eq(periodic.fired_at, start + 50 * 7 * MS);
	cr_assert_eq(timer_wheel_next(wheel), 0);
}

static void on_past(struct net_timer *t)
{
	on_fire(t);
	if (((struct probe *)t)->fired == 1)
		timer_wheel_arm(wheel, t, 1);   /* a deadline long passed */
}

Test(net_timer, armed_in_the_past_fires_next_run)
{
	struct probe p;
	probe_init(&p);
	p.t.fn = on_past;
	timer_wheel_arm(wheel, &p.t, clock_now - 3 * SEC);
	cr_assert_eq(timer_wheel_next(wheel) <= clock_now, 1);
	timer_wheel_run(wheel, clock_now);
	cr_assert_eq(p.fired, 1);
	cr_assert(net_timer_armed(&p.t));
	cr_assert_neq(timer_wheel_next(wheel), 0);
	cr_assert_leq(timer_wheel_next(wheel), clock_now);
	timer_wheel_run(wheel, clock_now);
	cr_assert_eq(p.fired, 2);
	cr_assert_eq(timer_wheel_next(wheel), 0);
}

Test(net_timer, many_timers)
{
	enum { N = 20000 };
	struct probe *p = calloc(N, sizeof(*p));
	cr_assert(p);
	uint64_t start = clock_now;
	srand(7);
	for (unsigned i = 0; i < N; i++) {
		probe_init(&p[i]);
		/* Up to 70 s: most far, as TIME-WAITs pile up. */
		timer_wheel_arm(wheel, &p[i].t, start + (uint64_t)rand() % (70 * SEC));
	}
	for (unsigned i = 0; i < N; i += 3)
		timer_wheel_cancel(&p[i].t);
	for (unsigned i = 1; i < N; i += 3)
		timer_wheel_arm(wheel, &p[i].t, start + (uint64_t)rand() % (3 * SEC));
	uint64_t last = 0;
	unsigned seen = 0;
	while (seen < N - (N + 2) / 3) {
		uint64_t next = timer_wheel_next(wheel);
		cr_assert_neq(next, 0, "timers lost: %u fired", seen);
		if (next > clock_now)
			clock_now = next;
		unsigned before = fired_count;
		timer_wheel_run(wheel, clock_now);
		seen += fired_count - before;
		cr_assert_geq(clock_now, last);
		last = clock_now;
	}
	for (unsigned i = 0; i < N; i++) {
		cr_assert_eq(p[i].fired, i % 3 == 0 ? 0u : 1u, "timer %u", i);
		if (p[i].fired)
			cr_assert_eq(p[i].fired_at, p[i].t.deadline_ns, "timer %u late", i);
	}
	cr_assert_eq(timer_wheel_next(wheel), 0);
	free(p);
}

/* TIME-WAIT's minute and keep-alive's two hours: each timer is looked at
 * a few times on its way to the fine wheel, not at every rotation. */
Test(net_timer, waiting_timers_are_looked_at_a_bounded_number_of_times)
{
	enum { N = 5000 };
	struct probe *p = calloc(N, sizeof(*p));
	cr_assert(p);
	uint64_t start = clock_now;
	srand(11);
	for (unsigned i = 0; i < N; i++) {
		probe_init(&p[i]);
		uint64_t after = i % 2 ? 60 * SEC : 7200 * SEC;
		timer_wheel_arm(wheel, &p[i].t, start + after + (uint64_t)rand() % SEC);
	}
	advance(start + 7202 * SEC);
	cr_assert_eq(fired_count, N);
	/* Coarse to fine once; far to coarse (or fine) once, and each far
	 * walk before it looks at it: two hours hold about 52 walks. */
	cr_assert_leq(wheel->looks, (uint64_t)N / 2 * 1 + (uint64_t)N / 2 * (2 + 60),
	              "%llu looks", (unsigned long long)wheel->looks);
	free(p);
}
