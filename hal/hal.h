/*
 * hal.h: everything the kernel asks of a platform.
 *
 * The kernel (kernel/, fs/) is built once per platform against this header
 * and never asks which platform it runs on. hal/bare implements it on an
 * x86-64 machine booted by QEMU; hal/posix implements it inside a Linux
 * process (CPUs are host threads, disks are image files).
 *
 * Vocabulary used below:
 *   "any CPU"      callable from any kernel CPU, in thread or interrupt context.
 *   "irq context"  a handler the HAL runs with interrupts disabled on the CPU
 *                  the event was delivered to; it must not block.
 *   "may block"    the call may put the calling kernel thread to sleep; only
 *                  from thread context.
 * Nothing here blocks unless it says so. Handle types are only declared; each
 * HAL owns their layout.
 */
#ifndef HAL_H
#define HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HAL_MAX_CPUS 64

/* ---- Entry points the kernel provides and the HAL calls ---------------- */

/*
 * kernel_main: called once, on CPU 0, on the boot stack, with interrupts
 * disabled, after the HAL has set up its console, clock, memory map and CPU
 * count. argc/argv are the service's arguments (posix: the command line less
 * the HAL's own options; bare: the boot command line split at spaces, argv[0]
 * being the service name). Never returns: the kernel ends with hal_shutdown().
 */
void kernel_main(int argc, char **argv);

/*
 * kernel_cpu_main: the first code a secondary CPU runs in the kernel, after
 * hal_cpu_start(), on that CPU's own boot stack with interrupts disabled.
 * Never returns.
 */
void kernel_cpu_main(void);

/* ---- Console ----------------------------------------------------------- */

/*
 * hal_console_write: write len bytes to the console (bare: COM1; posix:
 * stdout). Any CPU, any context, never blocks on a kernel lock; output of one
 * call is not interleaved with another CPU's call.
 */
void hal_console_write(const char *buf, size_t len);

/* ---- Time -------------------------------------------------------------- */

/*
 * hal_clock_ns: monotonic nanoseconds since the platform's entry point
 * (bare: the first instruction of the kernel image; posix: process start as
 * seen by the HAL). Any CPU; consistent across CPUs.
 */
uint64_t hal_clock_ns(void);

/*
 * hal_realtime_ns: wall-clock nanoseconds since 1970-01-01 UTC, for file
 * times (bare: the CMOS clock read at boot plus hal_clock_ns). Any CPU.
 */
int64_t hal_realtime_ns(void);

/* ---- CPUs and interrupts ----------------------------------------------- */

/* hal_cpu_count: number of usable CPUs, 1..HAL_MAX_CPUS. Fixed after boot. */
unsigned hal_cpu_count(void);

/* hal_cpu_id: index of the calling CPU, 0..hal_cpu_count()-1. Any CPU. */
unsigned hal_cpu_id(void);

/*
 * hal_cpu_start: start CPU cpu (1..count-1) running kernel_cpu_main().
 * Called from CPU 0 in kernel_main; returns 0 once the CPU is on its way
 * (threads may be handed to it at once: they run when it reaches its
 * scheduler), or -errno if it could not be started.
 */
int hal_cpu_start(unsigned cpu);

/*
 * hal_cpu_idle: stop the calling CPU until an interrupt, a hal_cpu_kick()
 * aimed at it, or the clock reaches deadline_ns (0: no deadline). Called with
 * interrupts disabled; enables them while waiting (pending device handlers
 * run then) and returns with them disabled again. A kick sent after the
 * caller disabled interrupts makes the call return at once, so "check for
 * work, then idle" loses no wake-up. May return early for no reason.
 */
void hal_cpu_idle(uint64_t deadline_ns);

/* hal_cpu_kick: make CPU cpu return from hal_cpu_idle(). Any CPU. */
void hal_cpu_kick(unsigned cpu);

/*
 * hal_cpu_relax: the body of a spin-wait loop. bare: a pause hint. posix:
 * now and then it gives the host CPU away, as the holder of the lock may be
 * a CPU thread that the host has preempted. Any CPU.
 */
void hal_cpu_relax(void);

/*
 * hal_irq_save / hal_irq_restore: disable device interrupts on the calling
 * CPU, returning the previous state; restore puts it back. They nest.
 */
unsigned long hal_irq_save(void);
void hal_irq_restore(unsigned long state);

/* hal_irq_enabled: true when the calling CPU takes interrupts now. */
bool hal_irq_enabled(void);

/* hal_irq_enable: let the calling CPU take interrupts (a new thread's first
 * act). Pending device handlers may run before it returns. */
void hal_irq_enable(void);

/* ---- Execution contexts ------------------------------------------------ */

struct hal_context;

/*
 * hal_context_create: prepare a context that, when first switched to, calls
 * entry(arg) on the given stack with interrupts disabled (as if returning
 * from hal_context_switch). The HAL keeps its
 * context record inside the stack (no allocation). entry must never return;
 * the kernel switches away from a finished thread for good instead.
 * stack is 16-byte aligned; size is at least 16 KiB.
 */
struct hal_context *hal_context_create(void *stack, size_t size,
                                       void (*entry)(void *), void *arg);

/*
 * hal_context_boot: the context of the calling CPU's boot stack, for the
 * first switch away from it (and back: the scheduler loop runs there).
 */
struct hal_context *hal_context_boot(void);

/*
 * hal_context_switch: save the running context into from and resume to.
 * Called with interrupts disabled; returns (in from) with them disabled.
 * Both contexts belong to the calling CPU.
 */
void hal_context_switch(struct hal_context *from, struct hal_context *to);

/*
 * hal_context_destroy: ctx will never run again and its stack is about to
 * be freed (tools that track stacks, like ASan and valgrind, are told).
 * Called from another context of the same CPU.
 */
void hal_context_destroy(struct hal_context *ctx);

/*
 * hal_stack_alloc: memory for a kernel thread's stack, size bytes (a
 * multiple of 4096), page aligned, with a guard below it where the
 * platform has one: running off the stack's bottom then faults at once
 * instead of writing over whatever lies below. posix: 64 KiB inaccessible,
 * and the crash says "kernel thread stack overflow"; bare: no guard yet
 * (kmalloc memory; the kernel's page tables map all of RAM writable). NULL
 * when out of memory. From a thread, any CPU.
 */
void *hal_stack_alloc(size_t size);

/* hal_stack_free: give back a stack from hal_stack_alloc (same size). */
void hal_stack_free(void *stack, size_t size);

/* ---- Memory ------------------------------------------------------------ */

struct hal_mem_region {
	uintptr_t base;  /* page aligned */
	size_t size;     /* multiple of 4096 */
};

/*
 * hal_mem_regions: RAM the kernel may use for its allocator (boot image,
 * boot stacks and HAL tables already excluded), in up to max entries.
 * Returns the number of regions. Called once, by kernel_main.
 */
size_t hal_mem_regions(struct hal_mem_region *out, size_t max);

/* ---- Block devices ----------------------------------------------------- */

struct hal_blkdev;

struct hal_blk_info {
	uint64_t sectors;       /* device size in sectors */
	uint32_t sector_size;   /* 512 or 4096 */
	bool read_only;
	char name[32];          /* "hda", "disk0: ToroFiles.img" ... for messages */
};

/* hal_blk_count / hal_blk_get: the disks the platform found, index 0..n-1. */
unsigned hal_blk_count(void);
struct hal_blkdev *hal_blk_get(unsigned index);
void hal_blk_info(struct hal_blkdev *dev, struct hal_blk_info *info);

/*
 * Completion callback of a block request: status 0 or -errno (-EIO for a
 * device error or timeout). Runs in irq context on the CPU that submitted.
 */
typedef void (*hal_blk_done_fn)(void *arg, int status);

enum hal_blk_op { HAL_BLK_READ, HAL_BLK_WRITE, HAL_BLK_FLUSH };

/*
 * hal_blk_submit: start a transfer of count sectors at sector between the
 * device and buf (a kernel allocation, sector-size aligned, count *
 * sector_size bytes). FLUSH ignores sector, buf and count and completes once
 * every earlier completed write is durable. Never blocks; done is called
 * exactly once, possibly before hal_blk_submit returns. Returns 0, or -errno
 * (the request was not started and done will not be called): -EINVAL for a
 * range outside the device, -EROFS for a write to a read-only device.
 */
int hal_blk_submit(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
                   void *buf, uint32_t count, hal_blk_done_fn done, void *arg);

/* ---- Network interfaces ------------------------------------------------ */

/*
 * The boundary between the TCP/IP stack (net/) and a NIC driver (bare:
 * virtio-net, e1000; posix: libslirp, TAP). The stack owns every protocol
 * above Ethernet; a driver owns a device's rings and moves whole Ethernet
 * frames, in batches, by copy: the caller's buffers are its own again when a
 * call returns, so no buffer ever changes hands between the stack and a
 * driver. Receiving is NAPI-style: the driver signals "frames waiting" once
 * per hal_net_arm() from irq context, and a kernel thread then drains the
 * queue with hal_net_receive() before arming again.
 *
 * Queues: a device has 1..HAL_MAX_CPUS queue pairs (receive + transmit);
 * the stack serves queue q from CPU q % hal_cpu_count(). A queue's calls
 * come from one CPU at a time (the stack keeps that rule), so a driver needs
 * no lock between two calls on the same queue, only between a queue and its
 * interrupt handler.
 */
struct hal_netdev;

/* Offloads a device offers (hal_net_info.offloads). */
#define HAL_NET_TX_CSUM   (1u << 0) /* fills in the TCP/UDP checksum of HAL_NET_CSUM_PARTIAL frames */
#define HAL_NET_RX_CSUM   (1u << 1) /* checks TCP/UDP checksums and sets HAL_NET_CSUM_VALID */
#define HAL_NET_TX_TSO    (1u << 2) /* cuts TCP/IPv4 frames with gso_size into segments (TSO) */
#define HAL_NET_RX_GSO    (1u << 3) /* may receive TCP/IPv4 frames of many segments (see below) */

/* Frame flags (hal_net_frame.flags). */
#define HAL_NET_CSUM_PARTIAL (1u << 0) /* tx: the device computes the Internet
	checksum of data[csum_start..len) and stores it at csum_start +
	csum_offset; that field holds the pseudo-header sum meanwhile. Set only
	when the device offers HAL_NET_TX_CSUM. */
#define HAL_NET_CSUM_VALID   (1u << 1) /* rx: the device checked the TCP/UDP
	checksum and found it right (absent: the stack checks it). */

/* Largest frame without FCS that a receive buffer must hold: 1500-byte MTU
 * plus the Ethernet header and one VLAN tag. */
#define HAL_NET_FRAME_MAX 1518

/* TCP segmentation offload (transmit only). A device offering
 * HAL_NET_TX_TSO (it also offers HAL_NET_TX_CSUM) takes a frame with
 * gso_size != 0: Ethernet, an IPv4 header without options whose total
 * length covers the whole packet (no fragment), a TCP header with its
 * options, then a payload longer than gso_size; HAL_NET_CSUM_PARTIAL set
 * for the TCP checksum. Its len may exceed HAL_NET_FRAME_MAX, up to
 * HAL_NET_TSO_MAX. The device sends it as segments of gso_size payload
 * bytes (the last may be shorter), each with the headers copied and fixed:
 * IPv4 total length, identification (+1 per segment) and checksum; TCP
 * sequence number, checksum, and FIN/PSH on the last segment only. So
 * gso_size + the headers must fit the MTU. Without the offload, or with
 * gso_size 0, a frame is at most HAL_NET_FRAME_MAX as ever: drivers that
 * do not offer it (virtio-net, e1000 on bare) never see such a frame.
 * Receive buffers and received frames are unchanged by it. */
#define HAL_NET_TSO_MAX 65535

/* Large receive. A device offering HAL_NET_RX_GSO (it also offers
 * HAL_NET_RX_CSUM) may fill one receive buffer with several TCP/IPv4
 * segments of one connection as one frame (the peer's TSO packet left
 * whole, as a virtio-net device with GUEST_TSO4 hands it): Ethernet, an
 * IPv4 header whose total length covers the whole packet, a TCP header,
 * then the payload of all the segments. Such a frame comes with gso_size
 * set to the payload per segment the sender meant (its MSS) and
 * HAL_NET_CSUM_VALID: the TCP checksum field holds no meaningful value
 * (nobody computed it; the bytes never crossed a wire). Every other frame
 * has gso_size 0. A stack that takes the offload gives receive buffers of
 * at least HAL_NET_RX_GSO_BUF bytes: Linux's super-frames stay below it
 * (its TSO payload is at most 65535 - 1 - MAX_TCP_HEADER, about 65215,
 * plus at most 94 bytes of headers); a frame longer than the buffer is
 * dropped and counted.
 * A stack that does not want large frames gives HAL_NET_FRAME_MAX buffers
 * as ever, and must then not see the offload (drivers offer it only when
 * their configuration asks for it). */
#define HAL_NET_RX_GSO_BUF 65400

struct hal_net_info {
	uint8_t mac[6];
	uint16_t mtu;           /* largest IP packet: 1500 */
	unsigned queues;        /* queue pairs, 1..HAL_MAX_CPUS */
	unsigned offloads;      /* HAL_NET_TX_CSUM | HAL_NET_RX_CSUM | HAL_NET_TX_TSO |
	                           HAL_NET_RX_GSO */
	bool link_up;
	char name[32];          /* "virtio-net 00:03.0", "slirp", "tap0" ... for messages */
};

/* One frame in a batch: data starts with the Ethernet header, no FCS. */
struct hal_net_frame {
	void *data;
	uint16_t len;           /* tx: frame length; rx: buffer size in, frame length out */
	uint16_t flags;         /* HAL_NET_CSUM_* */
	uint16_t csum_start;    /* tx with HAL_NET_CSUM_PARTIAL only */
	uint16_t csum_offset;
	uint16_t gso_size;      /* tx: 0, or with HAL_NET_TX_TSO the payload per
	                           segment (see above); rx: 0, or with
	                           HAL_NET_RX_GSO the segment size of a frame
	                           of many segments (see above) */
};

/* hal_net_count / hal_net_get: the NICs the platform found, index 0..n-1. */
unsigned hal_net_count(void);
struct hal_netdev *hal_net_get(unsigned index);
void hal_net_info(struct hal_netdev *dev, struct hal_net_info *info);

/* Called in irq context, on any CPU, when an armed queue has frames to
 * receive or transmit room again; it should only wake a thread. */
typedef void (*hal_net_notify_fn)(void *arg, unsigned queue);

/*
 * hal_net_start: bring the device up; from now on notify(arg, q) may run
 * for queue q after hal_net_arm(dev, q). Once per device, from a thread.
 * 0 or -errno (-EIO: the device did not come up).
 */
int hal_net_start(struct hal_netdev *dev, hal_net_notify_fn notify, void *arg);

/*
 * hal_net_receive: copy up to max received frames of queue q into
 * frames[i].data (frames[i].len >= HAL_NET_FRAME_MAX on entry, or
 * HAL_NET_RX_GSO_BUF with that offload; frame length, flags and gso_size on
 * return). Returns how many frames were filled (0: none
 * waiting). Frames with errors or too long are dropped by the driver and
 * counted. Never blocks.
 */
unsigned hal_net_receive(struct hal_netdev *dev, unsigned queue,
                         struct hal_net_frame *frames, unsigned max);

/*
 * hal_net_transmit: copy n frames onto queue q's transmit ring and start
 * sending them. Returns how many were taken, in order (fewer than n when the
 * ring is full: arm the queue and wait for notify before trying the rest).
 * Never blocks.
 */
unsigned hal_net_transmit(struct hal_netdev *dev, unsigned queue,
                          const struct hal_net_frame *frames, unsigned n);

/*
 * hal_net_arm: ask for one notify(arg, q) when queue q has received frames
 * or freed transmit room; if it has either already, notify runs soon (the
 * caller may be the thread that notify wakes: that wake-up is not lost).
 */
void hal_net_arm(struct hal_netdev *dev, unsigned queue);

/* ---- Diagnostics and the end ------------------------------------------- */

/*
 * hal_dump_state: print the calling CPU's registers and a short backtrace
 * on the console, for panic(). Any CPU.
 */
void hal_dump_state(void);

/*
 * hal_stop_requested: true once the platform has been asked to stop the
 * service gently (posix: SIGINT or SIGTERM to a service binary; until its
 * first call they end the process as usual; bare: never, for now: an ACPI
 * power button would go here). The service stops itself then, with
 * hal_shutdown or by returning from main. Any CPU; never blocks.
 */
bool hal_stop_requested(void);

/*
 * hal_shutdown: stop every CPU and end the machine (bare: QEMU exits through
 * isa-debug-exit; posix: the process, or hal_posix_run, returns status).
 * status is the service's exit status, 0..255 (through QEMU only 0..127
 * come back whole, as isa-debug-exit returns status * 2 + 1 in 8 bits).
 * Any CPU; never returns.
 */
void hal_shutdown(int status) __attribute__((noreturn));

#endif
