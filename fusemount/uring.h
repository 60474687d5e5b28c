/*
 * uring.h: FUSE over io_uring (Linux 6.14 on, where the fuse module's
 * enable_uring parameter is set): a request queue per host CPU.
 *
 * Through /dev/fuse a request wakes whichever kernel CPU waits, often on
 * another host CPU than its caller, and the reply wakes the caller there:
 * two cross-CPU wake-ups per request. Each is an inter-processor interrupt,
 * and in a virtual machine a VM exit on both sides (about 70 µs each on a
 * nested host, where a wake-up on the same CPU costs 4 µs). With io_uring
 * the host puts each request on the queue of the CPU its caller runs on;
 * each kernel CPU is pinned to a host CPU of its own and serves that CPU's
 * queue, so the caller and the kernel CPU take turns on one host CPU.
 *
 * The protocol (FUSE 7.42): a queue entry is a header buffer and a payload
 * buffer, registered with an IORING_OP_URING_CMD SQE on /dev/fuse
 * (FUSE_IO_URING_CMD_REGISTER). The host completes that SQE when it puts a
 * request in the entry: its fuse_in_header and its opcode's fixed argument
 * in the header buffer, the other arguments in the payload. The reply goes
 * back through the same buffers with FUSE_IO_URING_CMD_COMMIT_AND_FETCH,
 * which also gives the entry back for the next request. Once every queue
 * has an entry, every request comes this way but FORGET and INTERRUPT,
 * which still come through /dev/fuse.
 *
 * Order: uring_init_reply() on the INIT reply, before it is written; then
 * uring_open() once on each kernel CPU; uring_next() and uring_reply() from
 * that CPU's threads; uring_close() once no request runs any more.
 */
#ifndef FUSEMOUNT_URING_H
#define FUSEMOUNT_URING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct fuse_buf;
struct fuse_init_out;
struct uring;

/* uring_allow: whether torofuse may use io_uring at all (-o uring=0: no).
 * Before the session starts. */
void uring_allow(bool allowed);

/* uring_init_reply: the INIT reply (libfuse's, about to be written) asks
 * for io_uring if the host offers it and it is allowed; the payload size
 * comes from its limits. Whether it asked. */
bool uring_init_reply(struct fuse_init_out *init);

/* uring_open: from a thread of the calling kernel CPU, once the INIT reply
 * is written: pin this CPU to its host CPU, make its ring, have ready(arg)
 * run on this CPU (in irq context) whenever the ring holds something, and
 * register entries for the queues it serves on the session's device
 * dev_fd. 0; -ENOENT when this CPU has no queue to serve (more kernel CPUs
 * than host ones); another -errno when it failed, and then the connection
 * takes every request through /dev/fuse. TOROFUSE_URING_FAIL_CPU=N in the
 * environment makes CPU N fail (for tests). */
int uring_open(int dev_fd, void (*ready)(void *arg), void *arg, struct uring **out);

/* uring_next: the next request r holds, as a buffer that libfuse processes
 * as if read from /dev/fuse (valid until its reply): 1, or 0 if there is
 * none now. */
int uring_next(struct uring *r, struct fuse_buf *buf);

/* uring_reply: if iov (a reply as libfuse writes it) answers a request that
 * a ring delivered, send it through that ring and set *res as writev would;
 * false otherwise (it goes through /dev/fuse). */
bool uring_reply(const struct iovec *iov, int count, ssize_t *res);

/* uring_requests: how many requests the rings delivered. */
uint64_t uring_requests(void);

/* uring_close: drop r, once its connection has ended and ready runs no
 * more (not from ready, nor holding a lock it takes). */
void uring_close(struct uring *r);

#endif
