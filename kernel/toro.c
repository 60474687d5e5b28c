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
void *ToroGetMem(size_t size) { return kmalloc(size); }
void ToroFreeMem(void *ptr) { kfree(ptr); }
void SysShutdown(int status) { hal_shutdown(status & 0xff); }
