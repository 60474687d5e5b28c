/*
 * blkdev.h: block devices for the kernel, over hal_blk_submit.
 *
 * The calls below are synchronous for the caller and asynchronous for its
 * CPU: the request is submitted, the calling thread sleeps on a wait queue,
 * the completion (irq context) wakes it, and meanwhile the CPU runs other
 * threads or halts.
 */
#ifndef KERNEL_BLKDEV_H
#define KERNEL_BLKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "waitq.h"

struct hal_blkdev;

struct blkdev {
	struct hal_blkdev *hal;
	uint64_t sectors;
	uint32_t sector_size;
	bool read_only;
	char name[32];
	/* Block cache a file system mounted on it may use, in bytes; 0: the
	 * file system's default. Set by the platform's user before mounting
	 * (torofuse -o cache_kib, toro-fs TORO_FS_CACHE_KIB: crash tests make
	 * it small so that eviction happens). */
	size_t cache_bytes;
	/* Journalled file systems: commit at least this often, in ms; 0:
	 * the file system's default (ext3's 5 s). torofuse -o commit. */
	uint32_t commit_ms;
	/* The file system says at unmount what it wrote (commits, device
	 * flushes: bench/ reads it). torofuse -o stats, toro-fs
	 * TORO_FS_STATS. */
	bool print_stats;
	uint64_t flushes;           /* blkdev_flush calls (atomic) */
};

/* blkdev_count / blkdev_get: the platform's disks, index 0..count-1;
 * blkdev_get returns NULL for a bad index. The records live for the boot. */
unsigned blkdev_count(void);
struct blkdev *blkdev_get(unsigned index);

/* Transfer count sectors at sector; buf: kmalloc'ed, sector_size aligned.
 * 0 or -errno (-EIO device error, -EINVAL out of range, -EROFS). May block. */
int blkdev_read(struct blkdev *dev, uint64_t sector, void *buf, uint32_t count);
int blkdev_write(struct blkdev *dev, uint64_t sector, const void *buf, uint32_t count);
/* blkdev_flush: every completed write is durable when it returns 0. */
int blkdev_flush(struct blkdev *dev);

/*
 * Asynchronous requests, so that a caller can keep several transfers in
 * flight. The caller owns the record until the request is over: with done
 * set, done(req, status) runs once in irq context (it may free req); with
 * done NULL, blkdev_wait returns the status. Set done (or NULL) before
 * blkdev_submit; the other fields are the block layer's.
 */
struct blkdev_req {
	void (*done)(struct blkdev_req *req, int status);
	struct waitq wq;            /* wq.lock guards finished and status */
	bool finished;
	int status;
};

/* blkdev_submit: start a read or write like blkdev_read/write. Returns 0,
 * or -errno when the request could not start; then it is over already
 * (done has run, in the caller's context, or blkdev_wait returns the same
 * -errno). Never blocks. */
int blkdev_submit(struct blkdev *dev, bool write, uint64_t sector, void *buf, uint32_t count,
                  struct blkdev_req *req);
/* blkdev_wait: sleep until a request submitted with done NULL is over;
 * its status (0 or -errno). May block. */
int blkdev_wait(struct blkdev_req *req);

#endif
