/*
 * cpu.h: the kernel's record of each CPU and its scheduler queues.
 *
 * A CPU's queues belong to that CPU: only code running on it touches ready
 * and timers, with interrupts disabled. Other CPUs (and device handlers) hand
 * threads over through the inbox, under inbox_lock, then kick the CPU.
 */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include <stdint.h>

#include "hal.h"
#include "list.h"
#include "spinlock.h"

struct thread;

struct cpu {
	unsigned id;
	struct hal_context *sched_ctx;    /* the scheduler loop (boot stack) */

	/* Owner CPU only, interrupts disabled. */
	struct thread *current;
	struct list ready;                /* READY threads, FIFO */
	struct list timers;               /* BLOCKED with a deadline, soonest first */
	uint64_t switches;

	struct spinlock inbox_lock;       /* leaf lock */
	struct list inbox;                /* READY threads handed over */
} __attribute__((aligned(64)));

extern struct cpu cpus[HAL_MAX_CPUS];

static inline struct cpu *this_cpu(void)
{
	return &cpus[hal_cpu_id()];
}

#endif
