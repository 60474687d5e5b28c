/*
 * context.c: execution contexts. The record (a saved rsp) lives at the top
 * of the context's own stack; the boot context of each CPU lives in its
 * per-CPU record. The switch itself is switch.S.
 */
#include "bare.h"

void context_start(void);       /* switch.S */

struct hal_context *hal_context_create(void *stack, size_t size,
                                       void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size - sizeof(struct hal_context)) & ~(uintptr_t)15;
	struct hal_context *ctx = (struct hal_context *)top;

	/* What hal_context_switch pops: r15 r14 r13 r12 rbx rbp, then it
	 * returns into context_start with rsp = top - 16 (16-byte aligned). */
	uintptr_t *sp = (uintptr_t *)(top - 16);
	*--sp = (uintptr_t)context_start;
	*--sp = 0;                      /* rbp: ends backtraces */
	*--sp = 0;                      /* rbx */
	*--sp = (uintptr_t)entry;       /* r12 */
	*--sp = (uintptr_t)arg;         /* r13 */
	*--sp = 0;                      /* r14 */
	*--sp = 0;                      /* r15 */
	ctx->sp = (uintptr_t)sp;
	return ctx;
}

struct hal_context *hal_context_boot(void)
{
	return &bare_this_cpu()->boot_ctx;
}

/* Nothing tracks stacks on bare metal: the record goes with the stack. */
void hal_context_destroy(struct hal_context *ctx)
{
}
