/*
 * timer_wheel.c: a hashed timing wheel with a far list (timer_wheel.h).
 *
 * Invariant: a timer in slot i has its tick (deadline >> SHIFT, raised to
 * w->tick when already passed) in [w->tick, w->tick + SLOTS), and that tick
 * is congruent to i. So a slot holds one tick's timers only, and the first
 * non-empty slot from w->tick on holds the earliest deadline. Far timers
 * have ticks at or beyond far_walk + SLOTS / 2: the walk at far_walk moves
 * them in before the wheel can reach them.
 */
#include "timer_wheel.h"

#define SLOTS TIMER_WHEEL_SLOTS
#define HALF  (TIMER_WHEEL_SLOTS / 2)

static unsigned slot_of(uint64_t tick)
{
	return (unsigned)(tick & (SLOTS - 1));
}

static void place(struct timer_wheel *w, struct net_timer *t)
{
	uint64_t tick = t->deadline_ns >> TIMER_WHEEL_SHIFT;

	if (tick < w->tick)
		tick = w->tick;
	if (tick >= w->tick + SLOTS) {
		list_push_back(&w->far, &t->link);
		return;
	}
	unsigned i = slot_of(tick);
	list_push_back(&w->slot[i], &t->link);
	w->busy[i / 64] |= 1ull << (i % 64);
}

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns)
{
	for (unsigned i = 0; i < SLOTS; i++)
		list_init(&w->slot[i]);
	for (unsigned i = 0; i < SLOTS / 64; i++)
		w->busy[i] = 0;
	list_init(&w->far);
	w->tick = now_ns >> TIMER_WHEEL_SHIFT;
	w->far_walk = w->tick + HALF;
}

void timer_wheel_arm(struct timer_wheel *w, struct net_timer *t, uint64_t deadline_ns)
{
	list_remove(&t->link);
	t->deadline_ns = deadline_ns;
	place(w, t);
}

void timer_wheel_cancel(struct net_timer *t)
{
	list_remove(&t->link);
}

/* run_slot: fire slot i's timers due at now; keep the others there. The
 * slot is emptied first, so what fn arms lands on the live lists. */
static void run_slot(struct timer_wheel *w, unsigned i, uint64_t now_ns)
{
	struct list pending;
	struct list *link;

	list_init(&pending);
	list_splice_back(&pending, &w->slot[i]);
	while ((link = list_pop_front(&pending)) != NULL) {
		struct net_timer *t = list_entry(link, struct net_timer, link);
		if (t->deadline_ns <= now_ns)
			t->fn(t);
		else
			list_push_back(&w->slot[i], link);
	}
	if (list_empty(&w->slot[i]))
		w->busy[i / 64] &= ~(1ull << (i % 64));
}

static void walk_far(struct timer_wheel *w)
{
	list_for_each_safe(pos, tmp, &w->far) {
		struct net_timer *t = list_entry(pos, struct net_timer, link);
		if ((t->deadline_ns >> TIMER_WHEEL_SHIFT) < w->tick + SLOTS) {
			list_remove(pos);
			place(w, t);
		}
	}
	w->far_walk = w->tick + HALF;
}

void timer_wheel_run(struct timer_wheel *w, uint64_t now_ns)
{
	uint64_t end = now_ns >> TIMER_WHEEL_SHIFT;

	if (end < w->tick)
		end = w->tick;          /* a clock read before the last run */
	/* The ticks before end have passed whole: every timer there is due.
	 * After a long sleep one pass over the slots covers them all. */
	uint64_t from = w->tick;
	if (end - from > SLOTS)
		from = end - SLOTS;
	for (uint64_t k = from; k < end; k++) {
		unsigned i = slot_of(k);
		if (k > w->tick)
			w->tick = k;    /* what fn arms in the past lands in slot k */
		if (w->busy[i / 64] & (1ull << (i % 64)))
			run_slot(w, i, now_ns);
	}
	w->tick = end;
	if (!list_empty(&w->far) && end >= w->far_walk)
		walk_far(w);            /* may put overdue timers in slot end */
	unsigned i = slot_of(end);
	if (w->busy[i / 64] & (1ull << (i % 64)))
		run_slot(w, i, now_ns);
}

uint64_t timer_wheel_next(struct timer_wheel *w)
{
	uint64_t best = 0;

	if (!list_empty(&w->far))
		best = w->far_walk << TIMER_WHEEL_SHIFT;
	for (unsigned n = 0; n < SLOTS;) {
		unsigned i = slot_of(w->tick + n);
		uint64_t bits = w->busy[i / 64] >> (i % 64);
		if (!bits) {
			n += 64 - i % 64;       /* the rest of this word is idle */
			continue;
		}
		n += (unsigned)__builtin_ctzll(bits);
		if (n >= SLOTS)
			break;
		i = slot_of(w->tick + n);
		if (list_empty(&w->slot[i])) {
			w->busy[i / 64] &= ~(1ull << (i % 64));
			n++;
			continue;
		}
		uint64_t soonest = UINT64_MAX;
		list_for_each(pos, &w->slot[i]) {
			uint64_t d = list_entry(pos, struct net_timer, link)->deadline_ns;
			if (d < soonest)
				soonest = d;
		}
		if (soonest == 0)
			soonest = 1;    /* 0 means "no timer" */
		if (best == 0 || soonest < best)
			best = soonest;
		break;
	}
	return best;
}
