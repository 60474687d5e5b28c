/*
 * serve.h: the kernel inside torofuse, and its FUSE service.
 *
 * The kernel runs in this process (hal_posix_run in a background host
 * thread). Its service main mounts disk 0 at "/"; then kernel worker
 * threads on every kernel CPU read FUSE requests from the session's device
 * themselves (non-blocking, woken through hal_posix_watch_fd when a CPU is
 * idle), run them (ops.c) and reply: the host thread woken by a request is
 * the one that serves it, with no hand-off between threads.
 *
 * Order: serve_boot() once (boots and mounts; host thread), serve_start()
 * once the FUSE session is mounted, serve_stop() once (unmounts: everything
 * flushed, file system marked clean; the kernel ends). When the host ends
 * the session (fusermount3 -u), the thread that called serve_start gets
 * SIGUSR1.
 */
#ifndef FUSEMOUNT_SERVE_H
#define FUSEMOUNT_SERVE_H

#include <stdbool.h>
#include <stddef.h>

struct fuse_session;

struct serve_config {
	const char *image;          /* disk 0 */
	bool read_only;
	const char *fstype;         /* "ext2" (tests may use "ramfs") */
	unsigned cpus;              /* kernel CPUs; 0: every host CPU */
	size_t mem_bytes;           /* 0: the HAL's default */
	unsigned workers_per_cpu;   /* 0: the default */
	size_t cache_bytes;         /* the file system's block cache; 0: its default */
	uint32_t commit_ms;         /* journal commit interval; 0: the file system's default */
	bool print_stats;           /* the file system's counters at unmount */
};

/* serve_boot: boot the kernel and mount; 0 or -errno. */
int serve_boot(const struct serve_config *cfg);
/* serve_start: serve se's requests from now on; 0 or -errno. */
int serve_start(struct fuse_session *se);
/* serve_init_written: the INIT reply is written (session_io.h's hook):
 * each CPU opens its io_uring queue if it can (uring.h). */
void serve_init_written(void);
/* serve_stop: stop serving, close what the host left open, unmount, end the
 * kernel; 0 or -errno if the unmount failed. */
int serve_stop(void);

#endif
