/*
 * toro.h: what a Toro/C service calls.
 *
 * The names are Toro's, so Toro services port over; behaviour follows Toro:
 * a thread is created on a chosen CPU and stays there, scheduling is
 * cooperative per CPU. A service is an ordinary C program: its main(argc,
 * argv) runs as the first thread on CPU 0, and its return value is the exit
 * status of the process (posix) or of QEMU (bare).
 */
#ifndef TORO_H
#define TORO_H

#include <stddef.h>
#include <stdint.h>

#include "console.h"

typedef uint64_t TThreadID;             /* 0: no thread */
typedef int (*TThreadFunc)(void *param);
typedef struct thread TThread;

/* BeginThread: start fn(param) on CPU cpu, detached (it is freed when it
 * ends). security_attributes is ignored (Toro's signature); stack_size 0
 * takes the default. Returns the thread's id, also stored in *thread_id when
 * that is not NULL; 0 on failure (no memory, no such CPU). */
TThreadID BeginThread(void *security_attributes, size_t stack_size, TThreadFunc fn,
                      void *param, uint32_t cpu, TThreadID *thread_id);

/* BeginJoinableThread / WaitThread: the same, but the creator waits for the
 * end with WaitThread, which returns the thread's status (exactly once). */
TThread *BeginJoinableThread(size_t stack_size, TThreadFunc fn, void *param, uint32_t cpu);
int WaitThread(TThread *thread);

void SysThreadSwitch(void);             /* yield the CPU to its other threads */
void Sleep(uint32_t milliseconds);      /* the CPU runs others or halts meanwhile */
void ThreadExit(int status) __attribute__((noreturn));
TThreadID GetCurrentThreadId(void);
uint32_t GetCoreId(void);               /* CPU of the calling thread */
uint32_t GetCPUCount(void);
uint64_t GetTickCountNs(void);          /* monotonic, since boot */

void *ToroGetMem(size_t size);          /* NULL when out of memory */
void ToroFreeMem(void *ptr);

/* WriteConsoleF: printf to the console, one call one uninterrupted write. */
#define WriteConsoleF kprintf

/* ShutdownInQemu-like end of the whole service with a status (any thread). */
void SysShutdown(int status) __attribute__((noreturn));

#endif
