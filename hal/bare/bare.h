/*
 * bare.h: what the files of hal/bare share (never seen by the kernel).
 *
 * Boot order: see boot.c.
 * Per-CPU state is a struct bare_cpu; GS base points at the running CPU's
 * record, so hal_cpu_id() is one load.
 */
#ifndef HAL_BARE_H
#define HAL_BARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal.h"

/* ---- Per-CPU records -------------------------------------------------- */

struct hal_context {
	uintptr_t sp;               /* saved rsp while not running (switch.S) */
};

/* The 64-bit task state segment: only its interrupt stack table is used. */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];            /* ist[0] is IST1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct bare_cpu {
	/* Set by CPU 0 at boot (smp.c), read-only after. */
	unsigned id;                /* first field: hal_cpu_id() reads %gs:0 */
	uint32_t apic_id;
	uintptr_t stack_top;        /* boot stack */
	uintptr_t fault_stack_top;  /* IST1: NMI, #DF, #MC run here */

	/* Handshake with hal_cpu_start (atomics): the CPU sets parked once its
	 * HAL state is up, waits (halted) for go, sets running and enters
	 * kernel_cpu_main. */
	int parked;
	int go;
	int running;

	/* The CPU's own. */
	struct hal_context boot_ctx;
	struct tss tss;
};

extern struct bare_cpu bare_cpus[HAL_MAX_CPUS];
extern unsigned bare_cpu_count;

static inline struct bare_cpu *bare_this_cpu(void)
{
	return &bare_cpus[hal_cpu_id()];
}

void bare_cpu_set_gs(struct bare_cpu *c);   /* cpu.c: GS base of this CPU */

/* ---- Start of day ------------------------------------------------------ */

/* The hvm_start_info record of the PVH boot ABI (Xen's arch-x86/hvm/start_info.h). */
struct hvm_start_info {
	uint32_t magic;             /* 0x336ec578 */
	uint32_t version;           /* >= 1: memmap fields valid */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;     /* NUL-terminated, 0 if none */
	uint64_t rsdp_paddr;        /* ACPI RSDP, 0 if not given */
	uint64_t memmap_paddr;      /* struct hvm_memmap_entry[memmap_entries] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;              /* E820 type: 1 usable RAM */
	uint32_t reserved;
};

#define HVM_START_MAGIC 0x336ec578u

bool bare_cmdline_has(const char *word);   /* boot.c: a word of the command line */
/* bare_cmdline_value: what follows prefix in the n-th (from 0) word of the
 * command line that begins with it ("--opt=" -> its value), or NULL. */
const char *bare_cmdline_value(const char *prefix, unsigned n);
/* bare_parse_num: the number at *s (decimal, or hex after 0x; with
 * suffix, times K/M/G for a k, m or g after it), *s moved past it; false,
 * *s unmoved, when there is no digit or it overflows. */
bool bare_parse_num(const char **s, uint64_t *out, bool suffix);

extern uint64_t bare_boot_tsc;          /* entry.S: TSC at the first instruction */

/* Linker symbols (linker.ld). */
extern char __kernel_start[], __kernel_end[];

/* ---- Port I/O, MSRs, control registers -------------------------------- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
/* n 16-bit words between a port and memory (ATA PIO data). */
static inline void insw(uint16_t port, void *buf, size_t n)
{
	__asm__ volatile("rep insw" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
}
static inline void outsw(uint16_t port, const void *buf, size_t n)
{
	__asm__ volatile("rep outsw" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(sub));
}

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

/*
 * Driver locks: an int taken with the CPU's interrupts off (a device
 * handler on this CPU takes the same lock), for the short sections that
 * touch a device's registers and rings. bare_lock_take returns the
 * interrupt state bare_lock_drop puts back. bare_assert_locked is a
 * function's "lock held" rule, checked: a report and the fault status.
 */
static inline unsigned long bare_lock_take(int *l)
{
	unsigned long irq = hal_irq_save();
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	return irq;
}

static inline void bare_lock_drop(int *l, unsigned long irq)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
	hal_irq_restore(irq);
}

#define bare_assert_locked(l, what) do { \
	if (!__atomic_load_n((l), __ATOMIC_RELAXED) || hal_irq_enabled()) { \
		bare_printf("%s: %s: lock not held\n", (what), __func__); \
		hal_dump_state(); \
		hal_shutdown(BARE_FAULT_STATUS); \
	} \
} while (0)

static inline uint32_t mmio_read32(uintptr_t addr) { return *(volatile uint32_t *)addr; }
static inline void mmio_write32(uintptr_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }

/* ---- Pieces, by file ---------------------------------------------------- */

/* serial.c */
void serial_init(void);
void serial_write_locked(const char *buf, size_t len);  /* console lock held */
void bare_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* trap.c: IDT and exceptions. Vectors used by the HAL: */
#define VEC_IRQ_FIRST   0x30    /* I/O APIC routed IRQs (irq.h) */
#define VEC_IRQ_LAST    0xdf
#define VEC_TIMER       0xf0    /* local APIC timer: only ends hal_cpu_idle */
#define VEC_KICK        0xf1    /* hal_cpu_kick */
#define VEC_STOP        0xf2    /* hal_shutdown without isa-debug-exit */
#define VEC_SPURIOUS    0xff

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;      /* pushed by the CPU */
};

void trap_init(void);               /* build the IDT (CPU 0) */
void trap_load(void);               /* lidt and TSS on the calling CPU */
void gdt_load(void);                /* entry.S: reload the GDT and segments */
typedef void (*trap_handler)(struct trap_frame *f);
void trap_set_handler(unsigned vector, trap_handler fn);

/* clock.c */
void clock_calibrate_begin(void);   /* open the window (CPU 0, at boot) */
void clock_finish(void);            /* close it: rates known on return */
extern uint64_t bare_tsc_hz, bare_apic_timer_hz;
extern int bare_clock_calibrated;

/* clock_ready: before using bare_tsc_hz, bare_apic_timer_hz. */
static inline void clock_ready(void)
{
	if (__builtin_expect(!__atomic_load_n(&bare_clock_calibrated, __ATOMIC_ACQUIRE), 0))
		clock_finish();
}

/* acpi.c: what the MADT says */
void acpi_init(const struct hvm_start_info *si);
extern uintptr_t acpi_lapic_addr;
struct acpi_ioapic {
	uintptr_t addr;
	uint32_t gsi_base;
};
#define ACPI_IOAPIC_MAX 4
#define ACPI_GSI_NEXT   0xffffffffu     /* MP tables: the GSIs after the previous I/O APIC's */
extern struct acpi_ioapic acpi_ioapics[ACPI_IOAPIC_MAX];       /* MADT order */
extern unsigned acpi_ioapic_count;                              /* 0: none found */
extern uint32_t acpi_cpu_apic_ids[HAL_MAX_CPUS];
extern unsigned acpi_cpu_count;
/* ISA IRQ overrides: GSI and MPS flags for ISA IRQ n (identity if none). */
uint32_t acpi_isa_gsi(unsigned isa_irq, uint16_t *flags);
/* acpi_virtio_mmio: the index-th virtio-mmio device the DSDT describes
 * (microvm), or NULL past the last. */
struct acpi_mmio_dev {
	uint32_t base, size, gsi;
};
#define ACPI_MMIO_MAX 32
const struct acpi_mmio_dev *acpi_virtio_mmio(unsigned index);
/* mptable_init (mptable.c): CPUs and I/O APICs from the MP tables, for a
 * machine without a MADT; false when there are none. */
bool mptable_init(void);

/* apic.c: the local APIC of the calling CPU */
void lapic_init(void);              /* each CPU, after trap_load */
uint32_t lapic_id(void);
void lapic_eoi(void);
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
void lapic_timer_oneshot(uint32_t count);   /* 0 stops the timer */
uint32_t lapic_timer_current(void);
void lapic_timer_set_rate(uint64_t hz);     /* from clock.c's calibration */
void lapic_broadcast_stop(void);    /* every other CPU halts */

/* ioapic.c */
void pic_disable(void);             /* the 8259s, first thing at boot */
void ioapic_init(void);

/* memory.c */
void memory_init(const struct hvm_start_info *si);
void memory_set_cache_types(const struct hvm_start_info *si);   /* MMIO below 4 GiB uncached */
void *bare_early_alloc(size_t size);    /* page aligned, never freed */
bool bare_is_ram(uint64_t addr, size_t len);    /* inside mapped RAM */

/* smp.c */
void smp_init(void);                /* CPU list from the MADT; wakes them (CPU 0) */

/* trap.c: diagnostics */
void bare_backtrace(uint64_t rbp);
#define FAULT_STACK_SIZE 4096
#define BARE_FAULT_STATUS 71        /* exit status after a CPU exception */

#endif
