/*
 * ToroCpus: one thread on every other CPU, each printing its CPU number;
 * main waits for all of them and exits 0 when every one reported its own CPU.
 */
#include "toro.h"

static int report(void *param)
{
	uint32_t expected = (uint32_t)(uintptr_t)param;
	uint32_t cpu = GetCoreId();
	WriteConsoleF("Hello from CPU %u\n", cpu);
	return cpu == expected ? 0 : 1;
}

int main(void)
{
	uint32_t n = GetCPUCount();
	TThread *threads[64];
	int failures = 0;

	WriteConsoleF("ToroCpus: %u CPUs\n", n);
	for (uint32_t cpu = 1; cpu < n && cpu < 64; cpu++) {
		threads[cpu] = BeginJoinableThread(0, report, (void *)(uintptr_t)cpu, cpu);
		if (!threads[cpu]) {
			WriteConsoleF("ToroCpus: no thread on CPU %u\n", cpu);
			return 1;
		}
	}
	for (uint32_t cpu = 1; cpu < n && cpu < 64; cpu++)
		failures += WaitThread(threads[cpu]);
	WriteConsoleF("ToroCpus: %u CPUs done\n", n);
	return failures ? 1 : 0;
}
