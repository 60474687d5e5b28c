/*
 * posix.h: what hal/posix offers beyond hal.h, to its own files and to the
 * programs that host the kernel (a service binary's main, the unit tests,
 * toro-fs, torofuse).
 */
#ifndef HAL_POSIX_H
#define HAL_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POSIX_MAX_DISKS 8
#define POSIX_MAX_NICS 4
#define POSIX_MAX_HOSTFWD 8

/* One forwarded port of a slirp NIC: host 127.0.0.1:host_port to the
 * guest's guest_addr:guest_port (addresses in network byte order). */
struct posix_hostfwd {
	bool udp;
	uint16_t host_port;
	uint16_t guest_port;
	uint32_t guest_addr;
};

/* One --net option, parsed (net_options.c), or a NIC the host program
 * made itself (POSIX_NET_DEVICE: no option gives one). */
struct hal_netdev;
struct posix_net_config {
	enum { POSIX_NET_SLIRP, POSIX_NET_TAP, POSIX_NET_DEVICE } kind;
	/* device: a NIC the host program built on net_posix.h's posix_nic_ops
	 * (the unit tests' in-memory link, tests/unit/memlink.c). It joins the
	 * table as it is, and its close runs with the others' once the kernel
	 * stops: from hal_posix_run on it is the HAL's. */
	struct hal_netdev *device;
	bool has_mac;           /* mac given (tap: ,mac=); else the default */
	uint8_t mac[6];
	char ifname[16];        /* tap: the interface (IFNAMSIZ) */
	bool multi_queue;       /* tap: ,mq: one queue per CPU */
	bool tso;               /* tap: ,tso: offer HAL_NET_TX_TSO and HAL_NET_RX_GSO */
	unsigned nfwd;          /* slirp: its hostfwd= */
	struct posix_hostfwd fwd[POSIX_MAX_HOSTFWD];
};

#define POSIX_DEFAULT_MEM_BYTES (1ull << 30)   /* reserved lazily */

struct posix_config {
	unsigned cpus;          /* 0: every host CPU */
	size_t mem_bytes;       /* 0: POSIX_DEFAULT_MEM_BYTES */
	unsigned ndisks;        /* image files, in order: disk 0, 1, ... */
	const char *disk_path[POSIX_MAX_DISKS];
	bool disk_read_only[POSIX_MAX_DISKS];
	/* Through the host's page cache (no O_DIRECT, no AIO): for a tool
	 * that fills an image in one go, where direct writes each wait for
	 * the host's device and writes into a sparse image's holes are slow
	 * (the page cache gathers them for the next FLUSH, fdatasync). */
	bool disk_buffered[POSIX_MAX_DISKS];
	unsigned nnets;         /* NICs, in order: hal_net_get(0), 1, ... */
	struct posix_net_config net[POSIX_MAX_NICS];
	/* The longest an idle CPU polls for an event before it sleeps (cpu.c);
	 * 0: the default, 50 µs. */
	uint64_t idle_poll_ns;
};

/*
 * hal_posix_run: boot the kernel in this process with cfg, run the service
 * (toro_main) with argc/argv, and return its exit status once it calls
 * hal_shutdown. One kernel at a time per process.
 */
int hal_posix_run(const struct posix_config *cfg, int argc, char **argv);

/*
 * hal_posix_parse_options: take the HAL's options (--cpus N, --mem MiB,
 * --disk PATH[,ro] repeatable, --net SPEC repeatable: see net_options.c)
 * out of argv into cfg. Returns the new argc, or -1 after printing a message for
 * a malformed option.
 */
int hal_posix_parse_options(struct posix_config *cfg, int argc, char **argv);

/*
 * hal_posix_catch_stop_signals: make SIGINT and SIGTERM a stop request that
 * the service sees through hal_stop_requested() (a second one ends the
 * process). Call before hal_posix_run, from the process's only thread.
 * 0 or -errno.
 */
int hal_posix_catch_stop_signals(void);

/*
 * hal_posix_raise_irq: from any host thread (an I/O completion thread), run
 * handler(arg) on kernel CPU cpu in irq context, as a device interrupt
 * would: at once if that CPU is idle, else when it next enables interrupts.
 * Returns -ENOMEM if the event could not be queued.
 */
int hal_posix_raise_irq(unsigned cpu, void (*handler)(void *), void *arg);

/*
 * hal_posix_watch_fd: whenever fd becomes readable (edge-triggered: new data
 * arrives, or error/hang-up), run ready(arg) in irq context on one kernel
 * CPU, an idle one if any is (EPOLLEXCLUSIVE). The side that handles it must
 * read fd (non-blocking) until EAGAIN before it relies on another call. Call
 * from a kernel thread after boot. 0 or -errno (-EEXIST: fd is watched
 * already; -ENOSPC: POSIX_MAX_WATCHES different fds were watched this boot).
 * ready may run on two CPUs at once, and now and then once with nothing to
 * read: it must tolerate both. Of several idle CPUs the host picks the
 * lowest-numbered, so ready should wake a thread on hal_cpu_id() to keep
 * the request on the CPU that is already awake.
 * hal_posix_watch_fd_on: the same, but of the idle CPUs the host picks cpu
 * first (then cpu + 1, ... round): for an fd whose work belongs to cpu.
 * hal_posix_watch_fd_only: the same, but only cpu runs ready, when it next
 * idles: for an fd that only cpu's host thread can serve (an io_uring whose
 * completions that thread posts), where waking another CPU would only cost
 * a cross-CPU wake-up for nothing.
 * hal_posix_unwatch_fd: no call of ready starts after it returns, and none
 * is still running (so arg may be freed then): not from ready itself, nor
 * while holding a lock that ready takes. Unwatch before closing fd (the
 * fd is the caller's; the HAL never closes it).
 */
#define POSIX_MAX_WATCHES (2 * HAL_MAX_CPUS + 16)   /* room for two fds per CPU (TAP queues, torofuse's rings) */
int hal_posix_watch_fd(int fd, void (*ready)(void *arg), void *arg);
int hal_posix_watch_fd_on(int fd, unsigned cpu, void (*ready)(void *arg), void *arg);
int hal_posix_watch_fd_only(int fd, unsigned cpu, void (*ready)(void *arg), void *arg);
void hal_posix_unwatch_fd(int fd);

/*
 * hal_posix_blk_fail: for tests, make disk's requests fail with -EIO (as a
 * device error, through the completion): ops is a mask of 1 << HAL_BLK_READ,
 * HAL_BLK_WRITE, HAL_BLK_FLUSH; the first `after` such requests still
 * succeed. ops 0 turns it off; every boot starts with it off.
 */
void hal_posix_blk_fail(unsigned disk, unsigned ops, unsigned long after);

/*
 * hal_posix_clock_jump: for tests, hal_clock_ns jumps ns ahead at once (as
 * a host's clock does after a suspend), and every CPU looks at its
 * deadlines again: a test of a timer that is a minute long waits no minute.
 * Every boot starts without the jump.
 */
void hal_posix_clock_jump(uint64_t ns);

/* Between the files of hal/posix. */
/* cpu.c: count CPUs that poll at most idle_poll_ns (0: the default) before
 * they sleep; 0, or -errno when a CPU's epoll instance cannot be made. */
int posix_cpus_init(unsigned count, uint64_t idle_poll_ns);
/* cpu.c: the epoll instance cpu idles in (watch.c adds watched fds). */
int posix_cpu_epoll_fd(unsigned cpu);
/* watch.c: forget every watch (a new boot) / run the watch whose epoll data
 * is rec, in the calling CPU's irq context. */
void posix_watch_reset(void);
void posix_watch_fire(void *rec);
void posix_cpus_start_boot(int argc, char **argv);
int posix_cpus_wait_shutdown(void);
void posix_memory_init(size_t bytes);
void posix_memory_fini(void);
void posix_clock_init(void);
/* stack.c: the running context's stack bottom (context.c keeps it), and
 * the guard-fault report set up on each CPU's host thread. */
extern __thread void *posix_running_stack;
void posix_stack_guard_cpu_init(unsigned cpu);
/* blk.c: open cfg's disk images (a message on stderr and -errno when one
 * cannot be opened) / close them, after the kernel has stopped. */
int posix_disks_open(const struct posix_config *cfg);
void posix_disks_close(void);
/* net_options.c: parse one --net SPEC into out; 0, or -1 after a message. */
int posix_net_parse(const char *spec, struct posix_net_config *out);
/* net.c: open cfg's NICs before boot, for a kernel of cpus CPUs (a
 * one-line message on stderr and -errno when one cannot be: a taken port,
 * a missing TAP) / stop and close them once the kernel has stopped. */
int posix_nics_open(const struct posix_config *cfg, unsigned cpus);
void posix_nics_close(void);

#endif
