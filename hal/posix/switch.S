/*
 * switch.S: the register half of a context switch on x86-64 (System V).
 *
 * posix_switch_stacks(void **save_sp, void *load_sp): push the callee-saved
 * registers, store rsp in *save_sp, load load_sp, pop and return there.
 * posix_context_start: where a new context's first switch returns; r12 holds
 * the entry function and r13 its argument (see context.c).
 */
	.text
	.globl posix_switch_stacks
	.type posix_switch_stacks, @function
posix_switch_stacks:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size posix_switch_stacks, .-posix_switch_stacks

	.globl posix_context_start
	.type posix_context_start, @function
posix_context_start:
	movq %r13, %rdi
	callq *%r12
	ud2
	.size posix_context_start, .-posix_context_start

	.section .note.GNU-stack,"",@progbits
