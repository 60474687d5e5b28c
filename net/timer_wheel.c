/*
 * timer_wheel.c: a hashed timing wheel, two levels and a far list
 * (timer_wheel.h).
 *
 * Invariants, with period(tick) = tick / SLOTS and cur = period(w->tick):
 * a timer in fine slot i has its tick (deadline >> SHIFT, raised to
 * w->tick when already passed) in [w->tick, w->tick + SLOTS), congruent to
 * i; so a slot holds one tick's timers only, and the first non-empty slot
 * from w->tick on holds the earliest of them. A timer in coarse slot j has
 * a period p congruent to j with cur < p < cur + SLOTS: when w->tick
 * reaches p * SLOTS (the period's first tick), every tick of p lies in
 * [w->tick, w->tick + SLOTS) and the slot moves into the fine wheel
 * (cascade) before that tick runs. Far timers have periods at or beyond
 * period(far_walk) + SLOTS / 2: the walk at far_walk moves them into the
 * wheels before the coarse wheel can reach them.
 */
#include "timer_wheel.h"

#define SLOTS TIMER_WHEEL_SLOTS
#define HALF  (TIMER_WHEEL_SLOTS / 2)

static unsigned slot_of(uint64_t n)
{
	return (unsigned)(n & (SLOTS - 1));
}

static uint64_t period_of(uint64_t tick)
{
	return tick / SLOTS;
}

static void mark(uint64_t *bits, unsigned i)
{
	bits[i / 64] |= 1ull << (i % 64);
}

static void unmark(uint64_t *bits, unsigned i)
{
	bits[i / 64] &= ~(1ull << (i % 64));
}

static bool marked(const uint64_t *bits, unsigned i)
{
	return bits[i / 64] & (1ull << (i % 64));
}

static void place(struct timer_wheel *w, struct net_timer *t)
{
	uint64_t tick = t->deadline_ns >> TIMER_WHEEL_SHIFT;
	if (tick < w->tick)
		tick = w->tick;
	if (tick < w->tick + SLOTS) {
		unsigned i = slot_of(tick);
		list_push_back(&w->slot[i], &t->link);
		mark(w->busy, i);
		return;
	}
	uint64_t p = period_of(tick);
	if (p < period_of(w->tick) + SLOTS) {
		unsigned j = slot_of(p);
		list_push_back(&w->coarse[j], &t->link);
		mark(w->coarse_busy, j);
		return;
	}
	list_push_back(&w->far, &t->link);
}

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns)
{
	for (unsigned i = 0; i < SLOTS; i++) {
		list_init(&w->slot[i]);
		list_init(&w->coarse[i]);
	}
	for (unsigned i = 0; i < SLOTS / 64; i++)
		w->busy[i] = w->coarse_busy[i] = 0;
	list_init(&w->far);
	w->looks = 0;
	w->tick = now_ns >> TIMER_WHEEL_SHIFT;
	w->far_walk = w->tick + (uint64_t)HALF * SLOTS;
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

/* replace: place again every timer of list l (emptied first: place may
 * put one back on it). */
static void replace(struct timer_wheel *w, struct list *l)
{
	struct list moving;
	struct list *link;
	list_init(&moving);
	list_splice_back(&moving, l);
	while ((link = list_pop_front(&moving)) != NULL) {
		w->looks++;
		place(w, list_entry(link, struct net_timer, link));
	}
}

/* cascade: the coarse slot of the period w->tick is in, into the fine wheel. */
static void cascade(struct timer_wheel *w)
{
	unsigned j = slot_of(period_of(w->tick));
	if (!marked(w->coarse_busy, j))
		return;
	unmark(w->coarse_busy, j);
	replace(w, &w->coarse[j]);
}

static void walk_far(struct timer_wheel *w)
{
	list_for_each_safe(pos, tmp, &w->far) {
		struct net_timer *t = list_entry(pos, struct net_timer, link);
		w->looks++;
		if (period_of(t->deadline_ns >> TIMER_WHEEL_SHIFT) < period_of(w->tick) + SLOTS) {
			list_remove(pos);
			place(w, t);
		}
	}
	w->far_walk = w->tick + (uint64_t)HALF * SLOTS;
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
		unmark(w->busy, i);
}

/* catch_up: after a sleep longer than the fine wheel, w->tick jumps to
 * `to` and every coarse and far timer is placed again from there (those
 * overdue land in slot `to`). Rare: next() wakes the owner sooner. */
static void catch_up(struct timer_wheel *w, uint64_t to)
{
	w->tick = to;
	for (unsigned j = 0; j < SLOTS; j++) {
		if (marked(w->coarse_busy, j)) {
			unmark(w->coarse_busy, j);
			replace(w, &w->coarse[j]);
		}
	}
	replace(w, &w->far);
	w->far_walk = w->tick + (uint64_t)HALF * SLOTS;
}

/* advance_to: w->tick becomes k, the wheels made ready for tick k. */
static void advance_to(struct timer_wheel *w, uint64_t k)
{
	if (k > w->tick)
		w->tick = k;    /* what fn arms in the past lands in slot k */
	if (k % SLOTS == 0)
		cascade(w);
	if (!list_empty(&w->far) && k >= w->far_walk)
		walk_far(w);
}

void timer_wheel_run(struct timer_wheel *w, uint64_t now_ns)
{
	uint64_t end = now_ns >> TIMER_WHEEL_SHIFT;
	if (end < w->tick)
		end = w->tick;          /* a clock read before the last run */
	/* The ticks before end have passed whole: every timer there is due.
	 * After a long sleep one pass over the fine slots covers them all. */
	uint64_t from = w->tick;
	if (end - from > SLOTS) {
		from = end - SLOTS;
		catch_up(w, from);
	}
	for (uint64_t k = from; k <= end; k++) {
		advance_to(w, k);
		unsigned i = slot_of(k);
		if (marked(w->busy, i))
			run_slot(w, i, now_ns);
	}
}

/* next_cascade: the first tick of the soonest period with a coarse slot
 * marked, or 0. */
static uint64_t next_cascade(const struct timer_wheel *w)
{
	uint64_t cur = period_of(w->tick);
	for (uint64_t p = cur + 1; p < cur + SLOTS; p++) {
		unsigned j = slot_of(p);
		if (!w->coarse_busy[j / 64]) {
			p += 63 - j % 64;       /* the rest of this word is idle */
			continue;
		}
		if (marked(w->coarse_busy, j))
			return p * SLOTS;
	}
	return 0;
}

uint64_t timer_wheel_next(struct timer_wheel *w)
{
	uint64_t best = 0;

	if (!list_empty(&w->far))
		best = w->far_walk << TIMER_WHEEL_SHIFT;
	uint64_t cascade_tick = next_cascade(w);
	if (cascade_tick && (best == 0 || (cascade_tick << TIMER_WHEEL_SHIFT) < best))
		best = cascade_tick << TIMER_WHEEL_SHIFT;
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
			unmark(w->busy, i);
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
