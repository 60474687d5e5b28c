/*
 * gate.h: how host threads (libfuse's) get work done by the kernel.
 *
 * The kernel runs in this process (hal_posix_run in a background host
 * thread); its service main mounts disk 0 at "/" and starts a pool of
 * kernel worker threads on every kernel CPU. A host thread hands a request
 * to the gate with gate_call(): the request is raised as an interrupt on
 * one kernel CPU (round robin), the handler queues it for that CPU's
 * workers and wakes one, the worker runs fn(arg) in thread context with the
 * caller's uid/gid as its identity, and the host thread, which waited on its
 * own condition variable, gets the result.
 *
 * Usual order: gate_start() once (boots and mounts), gate_call() from any
 * number of host threads, gate_stop() once when no call can come any more
 * (unmounts: everything flushed, file system marked clean; the kernel ends).
 */
#ifndef FUSEMOUNT_GATE_H
#define FUSEMOUNT_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gate_config {
	const char *image;          /* disk 0 */
	bool read_only;
	const char *fstype;         /* "ext2" (tests may use "ramfs") */
	unsigned cpus;              /* kernel CPUs; 0: every host CPU */
	size_t mem_bytes;           /* 0: the HAL's default */
	unsigned workers_per_cpu;   /* 0: the default */
	int spin_us;                /* callers poll this long before sleeping; -1: default */
};

/* gate_start: boot the kernel and mount. 0, or -errno after a message on
 * stderr saying why the image was not mounted. Host thread only. */
int gate_start(const struct gate_config *cfg);

/* gate_call: run fn(arg) on a kernel worker as uid/gid, wait for it, and
 * return what fn returned. Any host thread that is not a kernel CPU; blocks
 * (not cancellable) until done. */
long gate_call(long (*fn)(void *arg), void *arg, uint32_t uid, uint32_t gid);

/* gate_post: the same without waiting: fn(arg) runs later (it owns arg).
 * Everything posted has run when gate_stop returns. */
void gate_post(long (*fn)(void *arg), void *arg, uint32_t uid, uint32_t gid);

/* gate_stop: stop the workers, unmount and end the kernel. Returns 0, or
 * -errno when the unmount failed (after a message on stderr). */
int gate_stop(void);

#endif
