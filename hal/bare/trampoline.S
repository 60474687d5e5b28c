/*
 * trampoline.S: where a secondary CPU starts after INIT-SIPI-SIPI, in real
 * mode at TRAMP_BASE (smp.c copies these bytes there: a SIPI can only start
 * a CPU at a page below 1 MiB). It loads the kernel's GDT, goes through
 * 32-bit protected mode into long mode on CPU 0's page tables, and calls
 * entry(apic_id) on the stack smp.c set aside for its local APIC id (all
 * the CPUs pass here together).
 * Every address is TRAMP_BASE-relative: the code runs away from its link
 * address.
 */
#define TRAMP_BASE 0x8000
#define T(x) (TRAMP_BASE + (x) - trampoline_start)

	.section .rodata
	.globl trampoline_start, trampoline_params, trampoline_end
	.balign 16
trampoline_start:
	.code16
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl T(tramp_gdtr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x18, $T(tramp32)

	.code32
tramp32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $0x20, %eax                 /* PAE */
	movl %eax, %cr4
	movl T(tramp_cr3), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx          /* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax           /* PG | WP | PE */
	movl %eax, %cr0
	ljmp $0x08, $T(tramp64)

	.code64
tramp64:
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	/* Every CPU runs this at once: find our own stack by local APIC id. */
	movl T(tramp_lapic), %ebx
	movl 0x20(%rbx), %eax
	shrl $24, %eax
	movq T(tramp_stacks), %rbx
	movq (%rbx, %rax, 8), %rsp
	movl %eax, %edi
	xorl %ebp, %ebp
	movq T(tramp_entry), %rax
	call *%rax
1:	cli
	hlt
	jmp 1b

/* Parameter block, filled by smp.c (struct tramp_params). */
	.balign 8
trampoline_params:
tramp_gdtr:
	.word 0                         /* GDT limit */
	.long 0                         /* GDT base */
	.word 0
tramp_cr3:
	.long 0
tramp_lapic:
	.long 0                         /* local APIC MMIO base */
tramp_stacks:
	.quad 0                         /* uint64_t[256]: stack top by APIC id */
tramp_entry:
	.quad 0                         /* entry(apic_id) */
trampoline_end:
