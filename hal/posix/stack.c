/*
 * stack.c: kernel thread stacks on posix, each with an inaccessible guard
 * page below it, and the fault on that page named as what it is.
 *
 * A thread that runs off its stack's bottom would otherwise write over
 * whatever the allocator put below: silent heap corruption found much
 * later (it was, with libslirp's 70 KiB input path on 32 KiB stacks). Each
 * stack is its own mapping: GUARD bytes of PROT_NONE, then the stack. Our
 * code is built with -fstack-clash-protection (posix.mk), so a frame larger
 * than a page probes each page it takes and cannot jump over the guard;
 * libraries are not (libslirp's input path, run on a 32 KiB stack, first
 * touched memory 36 KiB below its bottom), hence a guard of 64 KiB rather
 * than one page: it costs address space only, no memory.
 *
 * The fault arrives as SIGSEGV on the overflowed stack itself, so the
 * handler runs on an alternate signal stack of the CPU's host thread
 * (posix_stack_guard_cpu_init). It says "kernel thread stack overflow"
 * when the address is the guard below the running context's stack (that
 * context.c keeps in posix_running_stack), then puts the default action
 * back and returns: the access faults again and the process dies of
 * SIGSEGV as usual, core and all. Under ASan its own handler stays: it
 * reports stack overflows with a backtrace, better than ours.
 *
 * Freed stacks wait in a small cache of the freeing CPU for its next
 * thread: a munmap shoots down the TLB of every host CPU the process runs
 * on (an IPI each, far dearer under a hypervisor), and a service that
 * gives each connection a thread paid that per connection (with two
 * kernel CPUs busy, much of why a second CPU made ToroEcho slower). A
 * cached stack keeps its guard and its touched pages.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hal.h"
#include "posix.h"

#define GUARD (64 * 1024u)      /* a multiple of the page size */
#define ALT_STACK (64 * 1024)
#define CACHE_MAX 64            /* stacks kept per CPU */

__thread void *posix_running_stack;

/* Each CPU's cache is touched only by that CPU's host thread, with its
 * interrupts disabled (a device handler never runs in between). */
struct stack_cache {
	unsigned n;
	struct { void *stack; size_t size; } entry[CACHE_MAX];
};
static struct stack_cache caches[HAL_MAX_CPUS];

/* cache_take: a cached stack of exactly size bytes, or NULL. */
static void *cache_take(size_t size)
{
	unsigned long irq = hal_irq_save();
	struct stack_cache *c = &caches[hal_cpu_id()];
	void *stack = NULL;
	for (unsigned i = c->n; i-- > 0;) {
		if (c->entry[i].size == size) {
			stack = c->entry[i].stack;
			c->entry[i] = c->entry[--c->n];
			break;
		}
	}
	hal_irq_restore(irq);
	return stack;
}

/* cache_put: whether the cache took stack. */
static bool cache_put(void *stack, size_t size)
{
	unsigned long irq = hal_irq_save();
	struct stack_cache *c = &caches[hal_cpu_id()];
	bool kept = c->n < CACHE_MAX;
	if (kept) {
		c->entry[c->n].stack = stack;
		c->entry[c->n].size = size;
		c->n++;
	}
	hal_irq_restore(irq);
	return kept;
}

void *hal_stack_alloc(size_t size)
{
	void *cached = cache_take(size);
	if (cached)
		return cached;
	uint8_t *base = mmap(NULL, size + GUARD, PROT_READ | PROT_WRITE,
	                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	if (mprotect(base, GUARD, PROT_NONE) < 0) {
		munmap(base, size + GUARD);
		return NULL;
	}
	return base + GUARD;
}

void hal_stack_free(void *stack, size_t size)
{
	if (stack && !cache_put(stack, size))
		munmap((uint8_t *)stack - GUARD, size + GUARD);
}

#ifndef __SANITIZE_ADDRESS__
static void say(const char *text)
{
	/* Only write(2) is safe here; a short write loses part of a
	 * message on the way to a crash. */
	if (write(STDERR_FILENO, text, strlen(text)) < 0)
		return;
}

static void on_segv(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	uintptr_t addr = (uintptr_t)info->si_addr;
	uintptr_t bottom = (uintptr_t)posix_running_stack;
	if (bottom && addr < bottom && addr >= bottom - GUARD)
		say("toro: kernel thread stack overflow (the guard below its stack); "
		    "give the thread a larger stack\n");
	signal(sig, SIG_DFL);   /* the faulting access runs again and ends us */
}

/* One alternate stack per CPU, never freed: a CPU's host thread may take
 * the signal until its very end. Pages never touched cost nothing; a later
 * kernel in the same process (the unit tests boot many) reuses them once
 * the earlier one's threads are gone. */
static uint8_t alt_stacks[HAL_MAX_CPUS][ALT_STACK] __attribute__((aligned(16)));
#endif

void posix_stack_guard_cpu_init(unsigned cpu)
{
#ifndef __SANITIZE_ADDRESS__
	stack_t alt = { .ss_sp = alt_stacks[cpu], .ss_size = ALT_STACK };
	if (sigaltstack(&alt, NULL) == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
	}       /* else the crash stays a plain SIGSEGV */
#else
	(void)cpu;
#endif
}
