/*
 * console.c: the posix console (stdout), the clock and diagnostics.
 */
#include <errno.h>
#include <execinfo.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "hal.h"
#include "posix.h"

void hal_console_write(const char *buf, size_t len)
{
	/* One write(2) per call keeps lines from CPUs whole; retry the rest. */
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static uint64_t clock_origin_ns;    /* set once before any CPU starts */
static uint64_t clock_jumped_ns;    /* atomic: hal_posix_clock_jump's sum */

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void posix_clock_init(void)
{
	clock_origin_ns = monotonic_ns();
	__atomic_store_n(&clock_jumped_ns, 0, __ATOMIC_RELAXED);
}

uint64_t hal_clock_ns(void)
{
	return monotonic_ns() - clock_origin_ns + __atomic_load_n(&clock_jumped_ns, __ATOMIC_RELAXED);
}

void hal_posix_clock_jump(uint64_t ns)
{
	__atomic_add_fetch(&clock_jumped_ns, ns, __ATOMIC_RELAXED);
	for (unsigned cpu = 0; cpu < hal_cpu_count(); cpu++)
		hal_cpu_kick(cpu);
}

int64_t hal_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

void hal_dump_state(void)
{
	void *frames[32];
	int n = backtrace(frames, 32);
	static const char head[] = "backtrace (addr2line -e <binary> to resolve):\n";
	hal_console_write(head, sizeof(head) - 1);
	backtrace_symbols_fd(frames, n, STDOUT_FILENO);
}
