/*
 * Sleep: a test kernel for the idle path. Threads on every CPU sleep with
 * deadlines (the bare HAL halts in hal_cpu_idle on the one-shot APIC timer)
 * and main checks each slept at least as long as asked, and not 10 times
 * longer. Prints "Sleep: ok" and exits 0, or exits 1.
 */
#include "toro.h"

#define NAP_MS 40

static int nap(void *param)
{
	uint64_t t0 = GetTickCountNs();
	for (int i = 0; i < 3; i++)
		Sleep(NAP_MS);
	uint64_t ms = (GetTickCountNs() - t0) / 1000000;
	WriteConsoleF("Sleep: CPU %u slept %lu ms\n", GetCoreId(), (unsigned long)ms);
	return ms >= 3 * NAP_MS && ms < 30 * NAP_MS ? 0 : 1;
}

int main(void)
{
	uint32_t n = GetCPUCount();
	TThread *threads[64];
	int failures = 0;

	for (uint32_t cpu = 0; cpu < n && cpu < 64; cpu++)
		threads[cpu] = BeginJoinableThread(0, nap, NULL, cpu);
	for (uint32_t cpu = 0; cpu < n && cpu < 64; cpu++)
		failures += threads[cpu] ? WaitThread(threads[cpu]) : 1;
	WriteConsoleF(failures ? "Sleep: FAILED\n" : "Sleep: ok\n");
	return failures ? 1 : 0;
}
