/*
 * main.c: the kernel's life, from the HAL's first call to the service's end.
 *
 * kernel_main (CPU 0): memory, scheduler, the other CPUs, then the service's
 * main as the first thread on CPU 0; its return value ends the machine.
 * Kernel options are taken out of argv before the service sees it:
 *   --boot-time   print the time from platform entry to the service's main.
 *   --netstat     print the network counters when the service's main returns.
 *   ip=ADDR/PREFIX[,gw=ADDR]  the first NIC's address (without it: DHCP);
 *                 repeated, the next NICs' in order (the rest use DHCP).
 * The network comes up (net_init) before the service's main runs, when the
 * service uses sockets, the platform has a NIC and the service did not ask
 * for the NICs itself (TORO_NO_NET_STACK in toro.h). A service without
 * sockets has no network stack at all: net/ (with, on bare, the NICs'
 * drivers) is an archive on bare and part of posix's libtoro.a, and the weak
 * references below do not pull it in.
 */
#include <string.h>

#include "alloc.h"
#include "console.h"
#include "hal.h"
#include "net.h"
#include "thread.h"

int toro_main(int argc, char **argv);   /* the service's main, renamed */
/* Defined (by TORO_NO_NET_STACK, toro.h) by a service that keeps the NICs
 * to itself; absent otherwise. */
extern const int toro_no_net_stack __attribute__((weak));
/* NULL when the service uses no socket (nor the NICs), so nothing linked
 * the network in. */
extern __typeof__(net_init) net_init __attribute__((weak));
extern __typeof__(net_print_stats) net_print_stats __attribute__((weak));
extern __typeof__(hal_net_count) hal_net_count __attribute__((weak));

struct boot_args {
	int argc;
	char **argv;
	bool print_boot_time;
	bool print_netstat;
	const char *ip_options[NET_MAX_IP_OPTIONS];     /* after "ip=", in order */
	unsigned nip_options;
};

static int run_service(void *arg)
{
	struct boot_args *b = arg;
	bool net_started = false;
	if (net_init && hal_net_count() > 0 && !(&toro_no_net_stack && toro_no_net_stack)) {
		int rc = net_init(b->ip_options, b->nip_options);
		if (rc < 0)
			kprintf("toro: network not started (%d)\n", rc);
		net_started = rc == 0;
	}
	if (b->print_boot_time)
		kprintf("toro: entry to main %lu us\n", (unsigned long)(hal_clock_ns() / 1000));
	int status = toro_main(b->argc, b->argv);
	if (b->print_netstat && net_started)
		net_print_stats();
	hal_shutdown(status & 0xff);
}

/* Remove the kernel's own options from argv; argv stays NULL-terminated. */
static void take_kernel_options(struct boot_args *b)
{
	int out = 0;
	for (int i = 0; i < b->argc; i++) {
		if (i > 0 && strcmp(b->argv[i], "--boot-time") == 0)
			b->print_boot_time = true;
		else if (i > 0 && strcmp(b->argv[i], "--netstat") == 0)
			b->print_netstat = true;
		else if (i > 0 && strncmp(b->argv[i], "ip=", 3) == 0 &&
		         b->nip_options < NET_MAX_IP_OPTIONS)
			b->ip_options[b->nip_options++] = b->argv[i] + 3;
		else
			b->argv[out++] = b->argv[i];
	}
	b->argc = out;
	b->argv[out] = NULL;
}

void kernel_main(int argc, char **argv)
{
	static struct boot_args boot;   /* CPU 0 only, before any thread */

	alloc_init();
	sched_init();
	boot.argc = argc;
	boot.argv = argv;
	take_kernel_options(&boot);

	for (unsigned cpu = 1; cpu < hal_cpu_count(); cpu++) {
		int rc = hal_cpu_start(cpu);
		if (rc < 0)
			panic("kernel_main: CPU %u did not start (%d)", cpu, rc);
	}
	struct thread *main_thread = thread_create(0, run_service, &boot, 0);
	if (!main_thread)
		panic("kernel_main: no memory for the service's main thread");
	thread_detach(main_thread);
	sched_run();
}

void kernel_cpu_main(void)
{
	sched_run();
}
