/*
 * nullkernel.S: the smallest PVH kernel, the baseline of bench/boot.sh.
 * Entered in 32-bit protected mode (see hal/bare/entry.S), it writes one
 * line on COM1 and ends QEMU through isa-debug-exit with status 0.
 */
	.section .note.Xen, "a"
	.balign 4
	.long 4, 8, 18                  /* "Xen", 8-byte value, PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad pvh_entry

	.section .text.entry, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	movl $message, %esi
1:	movb (%esi), %al
	testb %al, %al
	jz 3f
	movl %eax, %ebx
2:	movw $0x3fd, %dx                /* wait for room in the transmitter */
	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movl %ebx, %eax
	movw $0x3f8, %dx
	outb %al, %dx
	incl %esi
	jmp 1b
3:	xorl %eax, %eax                 /* status 0: QEMU exits with 1 */
	outl %eax, $0xf4
4:	cli
	hlt
	jmp 4b

	.section .rodata
message:
	.asciz "null kernel\n"
