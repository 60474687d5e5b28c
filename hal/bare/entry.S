/*
 * entry.S: the first instructions of the kernel image, on CPU 0.
 *
 * We boot through the PVH entry (an ELF note of type
 * XEN_ELFNOTE_PHYS32_ENTRY). With it `qemu-system-x86_64 -kernel` loads an
 * ordinary 64-bit ELF, symbols included (so gdb needs no second file), and
 * hands us an hvm_start_info record with the memory map, the command line of
 * -append and the ACPI RSDP: no multiboot header, no 32-bit ELF wrapper, no
 * real-mode boot sector.
 *
 * PVH contract: 32-bit protected mode, paging off, flat 4 GiB CS/DS,
 * interrupts off, %ebx = physical address of the hvm_start_info.
 * We record the TSC (hal_clock_ns counts from here), identity map the first
 * 4 GiB with 2 MiB pages (LAPIC and I/O APIC MMIO included), enter long
 * mode and call bare_main(start_info).
 *
 * .bss (the page tables and the boot stack included) is not cleared here:
 * it is zero already. It is the part of the data segment past p_filesz,
 * which ELF defines to hold zeros, and every PVH loader gives it so (QEMU
 * fills it on every reset; Firecracker, Cloud Hypervisor and Xen load into
 * fresh memory or clear it). Clearing it again cost an instruction per 4
 * bytes (2 MiB with the network stack) and, under a hypervisor, an exit at
 * the first touch of each page.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10

	.section .note.Xen, "a"
	.balign 4
	.long 4                 /* name size: "Xen\0" */
	.long 8                 /* descriptor size (QEMU reads a 64-bit value) */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad pvh_entry

	.section .text.entry, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	rdtsc
	movl %eax, bare_boot_tsc
	movl %edx, bare_boot_tsc + 4
	cli
	cld
	movl %ebx, pvh_start_info

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories */
	movl $boot_pdpt + 3, boot_pml4
	movl $boot_pd + 3, %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b

	/* 2048 2 MiB pages: P|RW|PS, uncached (PCD|PWT) until memory.c makes
	 * the ones that hold RAM or ACPI tables cacheable, a few thousand
	 * instructions later (fewer of those than of pages to mark) */
	movl $boot_pd, %edi
	movl $0x9b, %eax
	movl $2048, %ecx
2:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 2b

	/* long mode: PAE, CR3, EFER.LME, then paging */
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax           /* PG | WP | PE */
	movl %eax, %cr0

	lgdt gdt_ptr
	ljmp $KERNEL_CS, $long_entry

	.code64
long_entry:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	leaq boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	movl pvh_start_info(%rip), %edi
	call bare_main
4:	cli
	hlt
	jmp 4b

/* gdt_load: load the GDT and reload every segment register (APs, after
 * the trampoline). Clobbers only %rax. */
	.text
	.globl gdt_load
gdt_load:
	lgdt gdt_ptr(%rip)
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	popq %rax
	pushq $KERNEL_CS
	pushq %rax
	lretq

	.data
	.balign 8
	.globl bare_boot_tsc
bare_boot_tsc:
	.quad 0
pvh_start_info:
	.long 0

	.data
	.balign 16
	.globl gdt
/* 0x08 64-bit code, 0x10 data, 0x18 32-bit code (AP trampoline), then
 * from GDT_TSS0 one 16-byte TSS descriptor per CPU (trap.c fills them). */
gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0x00cf9a000000ffff
	.quad 0                         /* pads the TSS descriptors to 16 */
	.skip 16 * 64                   /* HAL_MAX_CPUS */
gdt_end:
	.globl gdt_ptr
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip 4096
	.globl boot_pdpt
boot_pdpt:
	.skip 4096
	.globl boot_pd
boot_pd:
	.skip 4 * 4096
	.balign 16
boot_stack:
	.skip 16384
boot_stack_top:
