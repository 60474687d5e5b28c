/*
 * context.c: execution contexts on posix: a saved stack pointer, with the
 * sanitizer and valgrind told about every stack so they follow the switches.
 */
#include <stdint.h>
#include <string.h>

#include "hal.h"
#include "posix.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define ASAN_FIBERS 1
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define VALGRIND_STACKS 1
#endif

struct hal_context {
	void *sp;                   /* saved stack pointer while not running */
	void *stack;                /* bottom of the stack (boot: learnt lazily) */
	size_t size;
	unsigned valgrind_id;
	void (*entry)(void *);
	void *arg;
};

void posix_switch_stacks(void **save_sp, void *load_sp);
void posix_context_start(void);

static __thread struct hal_context boot_context;

struct hal_context *hal_context_boot(void)
{
	return &boot_context;
}

/* A new context's first code: finish the sanitizer's switch, run entry. */
static void context_first_run(struct hal_context *ctx)
{
#ifdef ASAN_FIBERS
	const void *old_bottom;
	size_t old_size;
	__sanitizer_finish_switch_fiber(NULL, &old_bottom, &old_size);
	if (!boot_context.stack) {
		boot_context.stack = (void *)old_bottom;
		boot_context.size = old_size;
	}
#endif
	ctx->entry(ctx->arg);
}

struct hal_context *hal_context_create(void *stack, size_t size,
                                       void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size - sizeof(struct hal_context)) & ~(uintptr_t)15;
	struct hal_context *ctx = (struct hal_context *)top;
	memset(ctx, 0, sizeof(*ctx));
	ctx->stack = stack;
	ctx->size = top - (uintptr_t)stack;
	ctx->entry = entry;
	ctx->arg = arg;
#ifdef VALGRIND_STACKS
	ctx->valgrind_id = VALGRIND_STACK_REGISTER(stack, (char *)stack + ctx->size);
#endif
	/* What posix_switch_stacks pops: r15 r14 r13 r12 rbx rbp, then the
	 * return address; rsp is 16-byte aligned after that return. */
	uintptr_t *sp = (uintptr_t *)(top - 16);
	*--sp = (uintptr_t)posix_context_start;
	*--sp = 0;                      /* rbp: ends backtraces */
	*--sp = 0;                      /* rbx */
	*--sp = (uintptr_t)context_first_run;   /* r12 */
	*--sp = (uintptr_t)ctx;                 /* r13 */
	*--sp = 0;                      /* r14 */
	*--sp = 0;                      /* r15 */
	ctx->sp = sp;
	return ctx;
}

void hal_context_destroy(struct hal_context *ctx)
{
#ifdef VALGRIND_STACKS
	VALGRIND_STACK_DEREGISTER(ctx->valgrind_id);
#endif
#ifdef ASAN_FIBERS
	/* Frames the thread left poisoned would trip the stack's next owner. */
	__asan_unpoison_memory_region(ctx->stack, ctx->size);
#endif
}

void hal_context_switch(struct hal_context *from, struct hal_context *to)
{
#ifdef ASAN_FIBERS
	void *fake_stack = NULL;
	__sanitizer_start_switch_fiber(&fake_stack, to->stack, to->size);
#endif
	posix_running_stack = to->stack;     /* names a guard fault (stack.c) */
	posix_switch_stacks(&from->sp, to->sp);
#ifdef ASAN_FIBERS
	__sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#endif
}
