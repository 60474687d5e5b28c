/*
 * timer_wheel.h: the structure behind one CPU's net_timers (netcpu.c), kept
 * apart so that it can be tested alone: a hashed timing wheel.
 *
 * Time is cut into ticks of 2^TIMER_WHEEL_SHIFT ns (about 1 ms). The wheel
 * has TIMER_WHEEL_SLOTS slots, one per tick of the next half second or so;
 * a slot holds, unsorted, exactly the timers due in its tick. Timers due
 * later wait in a second, coarse wheel: a slot per period of SLOTS ticks,
 * for the next SLOTS periods (about 4.5 minutes: TIME-WAIT's minute fits);
 * when the fine wheel enters a period, that period's coarse slot moves
 * into it. Only timers beyond the coarse wheel (keep-alive's hours) wait
 * on one unsorted "far" list, walked every half coarse rotation. So arming
 * and cancelling are O(1), and a timer is moved at most three times,
 * whatever the number of timers: a walk over every TIME-WAIT connection
 * (10^5 of them at a few thousand closes a second) twice a second cost a
 * server a tenth of its CPU. A timer still fires at its exact deadline:
 * the ticks only sort, timer_wheel_next() gives the deadline.
 *
 * Not locked: its owner (a CPU's network thread and the threads of that
 * CPU, which do not preempt one another) serialises the calls.
 */
#ifndef NET_TIMER_WHEEL_H
#define NET_TIMER_WHEEL_H

#include "net.h"

#define TIMER_WHEEL_SHIFT 20            /* a tick: 1048576 ns */
#define TIMER_WHEEL_SLOTS 512           /* a power of two */

struct timer_wheel {
	struct list slot[TIMER_WHEEL_SLOTS];
	/* A bit per slot, set when a timer went in; cleared lazily, when a
	 * look finds the slot empty (a cancel does not know its slot). */
	uint64_t busy[TIMER_WHEEL_SLOTS / 64];
	struct list coarse[TIMER_WHEEL_SLOTS];  /* a period of SLOTS ticks each */
	uint64_t coarse_busy[TIMER_WHEEL_SLOTS / 64];   /* the same, lazily */
	struct list far;            /* beyond the coarse wheel when armed */
	uint64_t tick;              /* every slot before this tick has run */
	uint64_t far_walk;          /* the tick at which far is walked next */
	uint64_t looks;             /* coarse and far timers looked at (tests) */
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns);
/* timer_wheel_arm: (re-)arm t for deadline_ns; t may be on the wheel. */
void timer_wheel_arm(struct timer_wheel *w, struct net_timer *t, uint64_t deadline_ns);
void timer_wheel_cancel(struct net_timer *t);
/* timer_wheel_run: call fn of every timer due at now_ns (unlinked first; fn
 * may arm or cancel any timer, itself included). One armed by fn with a
 * deadline already passed runs at the next call, not in this one. */
void timer_wheel_run(struct timer_wheel *w, uint64_t now_ns);
/* timer_wheel_next: the time at which timer_wheel_run has work next (the
 * earliest deadline, or sooner a coarse slot's move or the far list's
 * walk); 0 when no timer. */
uint64_t timer_wheel_next(struct timer_wheel *w);

#endif
