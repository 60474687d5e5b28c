/*
 * trap.c: the IDT, interrupt dispatch, and what a CPU exception prints.
 *
 * Vectors 0-31 are CPU exceptions: each prints the vector and its name, the
 * error code, RIP, CR2, the general registers and a frame-pointer backtrace
 * on COM1, then ends QEMU with BARE_FAULT_STATUS. Other vectors go to the
 * handler registered with trap_set_handler() (LAPIC timer and kick in
 * apic.c, device IRQs in ioapic.c), in irq context.
 */
#include "bare.h"

struct idt_gate {
	uint16_t off_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;           /* 0x8e: present, DPL 0, 64-bit interrupt gate */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

extern char trap_stubs[];       /* vectors.S: 16 bytes per vector */
extern uint64_t gdt[];          /* entry.S */

#define GDT_TSS0 5              /* first TSS descriptor: selector 0x28 */

/* CPU 0's fault stack (the others' come from smp.c). */
static char fault_stack0[FAULT_STACK_SIZE] __attribute__((aligned(16)));

static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler handlers[256];

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode", "#NM no FPU",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
	"reserved 24", "reserved 25", "reserved 26", "reserved 27",
	"#HV hypervisor injection", "#VC VMM communication", "#SX security", "reserved 31",
};

void trap_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uintptr_t addr = (uintptr_t)trap_stubs + 16 * v;
		idt[v] = (struct idt_gate){
			.off_lo = (uint16_t)addr,
			.selector = 0x08,
			.type = 0x8e,
			/* NMI, #DF and #MC may come with a broken stack: IST1 */
			.ist = (v == 2 || v == 8 || v == 18) ? 1 : 0,
			.off_mid = (uint16_t)(addr >> 16),
			.off_hi = (uint32_t)(addr >> 32),
		};
	}
}

/* Point this CPU's TSS descriptor at its TSS and load it. */
static void tss_load(struct bare_cpu *c)
{
	if (!c->fault_stack_top)
		c->fault_stack_top = (uintptr_t)fault_stack0 + sizeof(fault_stack0);
	c->tss.ist[0] = c->fault_stack_top;
	c->tss.iomap_base = sizeof(struct tss);
	uint64_t base = (uintptr_t)&c->tss, limit = sizeof(struct tss) - 1;
	unsigned slot = GDT_TSS0 + 2 * c->id;
	gdt[slot] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
	            ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[slot + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(slot * 8));
}

void trap_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ptr));
	tss_load(bare_this_cpu());
}

void trap_set_handler(unsigned vector, trap_handler fn)
{
	__atomic_store_n(&handlers[vector], fn, __ATOMIC_RELEASE);
}

/* A frame pointer worth following: aligned, in RAM (never into device
 * memory, where a read may have effects). */
static bool frame_ok(uint64_t rbp)
{
	return !(rbp & 7) && bare_is_ram(rbp, 16);
}

void bare_backtrace(uint64_t rbp)
{
	bare_printf("  backtrace (addr2line -e <app>.debug.elf):");
	for (int depth = 0; depth < 16 && frame_ok(rbp); depth++) {
		uint64_t *frame = (uint64_t *)rbp;
		if (!frame[1])
			break;
		bare_printf(" %lx", frame[1]);
		if (frame[0] <= rbp)    /* stacks grow down: callers are above */
			break;
		rbp = frame[0];
	}
	bare_printf("\n");
}

static void print_registers(const struct trap_frame *f)
{
	bare_printf("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n"
	            "  RSI %016lx RDI %016lx RBP %016lx RSP %016lx\n"
	            "  R8  %016lx R9  %016lx R10 %016lx R11 %016lx\n"
	            "  R12 %016lx R13 %016lx R14 %016lx R15 %016lx\n",
	            f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp, f->rsp,
	            f->r8, f->r9, f->r10, f->r11, f->r12, f->r13, f->r14, f->r15);
}

static void exception(struct trap_frame *f)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	bare_printf("\nCPU %u: exception %lu (%s), error code 0x%lx\n"
	            "  RIP %016lx CS %lx RFLAGS %016lx CR2 0x%016lx\n",
	            hal_cpu_id(), f->vector, exception_names[f->vector], f->error,
	            f->rip, f->cs, f->rflags, cr2);
	print_registers(f);
	bare_backtrace(f->rbp);
	hal_shutdown(BARE_FAULT_STATUS);
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector < 32)
		exception(f);
	trap_handler fn = __atomic_load_n(&handlers[f->vector], __ATOMIC_ACQUIRE);
	if (fn)
		fn(f);
	/* else: a stray vector (the masked 8259's spurious IRQ 7/15 land on
	 * 0x27/0x2f): nothing to acknowledge. */
}

void hal_dump_state(void)
{
	struct trap_frame f = { 0 };
	__asm__ volatile(
		"movq %%rax, 112(%0)\n\tmovq %%rbx, 104(%0)\n\tmovq %%rcx, 96(%0)\n\t"
		"movq %%rdx, 88(%0)\n\tmovq %%rsi, 80(%0)\n\tmovq %%rdi, 72(%0)\n\t"
		"movq %%rbp, 64(%0)\n\tmovq %%r8, 56(%0)\n\tmovq %%r9, 48(%0)\n\t"
		"movq %%r10, 40(%0)\n\tmovq %%r11, 32(%0)\n\tmovq %%r12, 24(%0)\n\t"
		"movq %%r13, 16(%0)\n\tmovq %%r14, 8(%0)\n\tmovq %%r15, 0(%0)\n\t"
		"movq %%rsp, 160(%0)\n\t"
		"leaq 0(%%rip), %%rax\n\tmovq %%rax, 136(%0)"
		: : "r"(&f) : "rax", "memory");
	bare_printf("CPU %u state at hal_dump_state (RIP %016lx):\n", hal_cpu_id(), f.rip);
	print_registers(&f);
	bare_backtrace((uint64_t)__builtin_frame_address(0));
}
