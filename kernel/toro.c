/*
 * toro.c: the application API of toro.h, over the kernel's own calls.
 */
#include "alloc.h"
#include "hal.h"
#include "thread.h"
#include "toro.h"

TThreadID BeginThread(void *security_attributes, size_t stack_size, TThreadFunc fn,
                      void *param, uint32_t cpu, TThreadID *thread_id)
{
	struct thread *t = thread_create(cpu, fn, param, stack_size);
	TThreadID id = t ? t->id : 0;
	if (t)
		thread_detach(t);
	if (thread_id)
		*thread_id = id;
	return id;
}

TThread *BeginJoinableThread(size_t stack_size, TThreadFunc fn, void *param, uint32_t cpu)
{
	return thread_create(cpu, fn, param, stack_size);
}

int WaitThread(TThread *thread)
{
	return thread_join(thread);
}

void SysThreadSwitch(void) { thread_yield(); }
void Sleep(uint32_t milliseconds) { thread_sleep_ms(milliseconds); }
void ThreadExit(int status) { thread_exit(status); }
TThreadID GetCurrentThreadId(void) { return thread_current()->id; }
uint32_t GetCoreId(void) { return hal_cpu_id(); }
uint32_t GetCPUCount(void) { return hal_cpu_count(); }
uint64_t GetTickCountNs(void) { return hal_clock_ns(); }
int64_t GetRealTimeNs(void) { return hal_realtime_ns(); }
void *ToroGetMem(size_t size) { return kmalloc(size); }
void ToroFreeMem(void *ptr) { kfree(ptr); }
void SysShutdown(int status) { hal_shutdown(status & 0xff); }

bool SysWaitStop(uint32_t timeout_ms)
{
	uint64_t start = hal_clock_ns();
	for (;;) {
		if (hal_stop_requested())
			return true;
		uint64_t waited_ms = (hal_clock_ns() - start) / 1000000;
		if (timeout_ms != UINT32_MAX && waited_ms >= timeout_ms)
			return false;
		uint64_t left = timeout_ms == UINT32_MAX ? 100 : timeout_ms - waited_ms;
		thread_sleep_ms(left < 100 ? (uint32_t)left : 100);
	}
}
