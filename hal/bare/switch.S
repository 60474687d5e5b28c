/*
 * switch.S: the context switch. A context is its saved rsp (struct
 * hal_context, bare.h); everything else the callee must preserve (rbx, rbp,
 * r12-r15) and the return address sit on its stack.
 *
 * void hal_context_switch(struct hal_context *from, struct hal_context *to)
 */
	.text
	.globl hal_context_switch
hal_context_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq (%rsi), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* The first code of a new context (context.c built its stack): entry in
 * r12, arg in r13, rsp 16-byte aligned here. entry never returns. */
	.globl context_start
context_start:
	movq %r13, %rdi
	call *%r12
	ud2
