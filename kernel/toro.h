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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"
#include "socket.h"
#include "vfs.h"

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
int64_t GetRealTimeNs(void);            /* wall clock, since 1970-01-01 UTC */

void *ToroGetMem(size_t size);          /* NULL when out of memory */
void ToroFreeMem(void *ptr);

/* WriteConsoleF: printf to the console, one call one uninterrupted write. */
#define WriteConsoleF kprintf

/*
 * Files (fs/sysfile.c). Toro's calls and argument orders; paths are absolute
 * ("/web/index.html"); a descriptor is an int >= 0. Every call returns a
 * count, a position, a descriptor or 0 on success and a negative errno value
 * (-ENOENT, -EEXIST, ...) on failure. Flags and whence are the O_* and
 * SEEK_* of <fcntl.h> and <stdio.h>.
 */
typedef int THandle;
typedef struct vfs_stat TInode;

/* SysMount: mount the file system fstype ("ext2", "ramfs") of disk number
 * disk (ignored for "ramfs") at path; the first mount is "/". flags:
 * SYS_MOUNT_RDONLY. */
#define SYS_MOUNT_RDONLY FS_MOUNT_RDONLY
int SysMount(const char *path, const char *fstype, int disk, unsigned flags);
int SysUnmount(const char *path);
int SysSync(void);

/* SysOpenFile: O_RDONLY / O_WRONLY / O_RDWR, with O_APPEND, O_TRUNC,
 * O_CREAT (mode 0644), O_EXCL. */
THandle SysOpenFile(const char *path, int flags);
/* SysCreateFile: a new empty file open for reading and writing; -EEXIST if
 * the name is taken. SysCreateDir: a new directory; -EEXIST likewise. */
THandle SysCreateFile(const char *path);
int SysCreateDir(const char *path);
/* Read / write count bytes at the file's position, which moves past them;
 * the count transferred (0: end of file). */
long SysReadFile(THandle file, size_t count, void *buffer);
long SysWriteFile(THandle file, size_t count, const void *buffer);
/* SysSeekFile: SEEK_SET, SEEK_CUR or SEEK_END; the new position. */
int64_t SysSeekFile(THandle file, int64_t offset, int whence);
int SysStatFile(const char *path, TInode *buffer);
int SysCloseFile(THandle file);

/* SysWaitStop: wait up to timeout_ms (UINT32_MAX: no limit) for the
 * platform to ask the service to stop (SIGINT or SIGTERM on posix); true
 * when it has. It looks every 100 ms: a signal can only set a flag. */
bool SysWaitStop(uint32_t timeout_ms);

/* TORO_NO_NET_STACK: a service that drives the NICs itself through hal.h's
 * hal_net_* calls (the HAL's own NIC tests) writes this once at file scope;
 * the kernel then leaves the NICs to it instead of starting the TCP/IP
 * stack (which would take them before main runs). */
#define TORO_NO_NET_STACK const int toro_no_net_stack = 1

/* ShutdownInQemu-like end of the whole service with a status (any thread). */
void SysShutdown(int status) __attribute__((noreturn));

#endif
