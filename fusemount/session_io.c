/*
 * session_io.c: the FUSE device's reads and writes (session_io.h): the
 * INIT reply with the capabilities libfuse 3.14 cannot pass on, and the
 * replies to requests that came through io_uring (uring.h).
 *
 * ops.c clears the set-user-ID and set-group-ID bits and the file
 * capability (security.capability) itself when a file is written, as
 * Linux's own file systems do. Telling the host so spares requests:
 *   HANDLE_KILLPRIV     the host no longer fetches the attributes (GETATTR)
 *                       before each chown to recompute the mode;
 *   HANDLE_KILLPRIV_V2  the host marks the mount "no security bits" and
 *                       asks for security.capability (GETXATTR) before a
 *                       file's first write only (and again after a
 *                       setxattr), instead of before every write.
 * libfuse 3.14 never copies HANDLE_KILLPRIV from conn->want into the
 * reply (fixed in 3.17), and predates HANDLE_KILLPRIV_V2 (protocol 7.33)
 * and io_uring (7.42); the host reads the bits from the reply whatever its
 * protocol minor. So the first reply written on the session, which is
 * always the INIT reply (the host sends nothing else until it has it),
 * gets them here.
 */
#include <errno.h>
#include <linux/fuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "session_io.h"
#include "uring.h"

static bool init_replied;   /* atomic: set by the first reply */
static void (*after_init)(void);

static ssize_t dev_read(int fd, void *buf, size_t len, void *userdata)
{
	return read(fd, buf, len);
}

/* libfuse writes a reply as the header, then its argument. */
static void add_capabilities(struct iovec *iov, int count)
{
	if (count < 2 || iov[0].iov_len < sizeof(struct fuse_out_header) ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, max_background))
		return;
	const struct fuse_out_header *h = iov[0].iov_base;
	if (h->error != 0)
		return;
	struct fuse_init_out *init = iov[1].iov_base;
	init->flags |= FUSE_HANDLE_KILLPRIV | FUSE_HANDLE_KILLPRIV_V2;
	if (iov[1].iov_len >= sizeof(*init))    /* flags2 and the limits are there */
		uring_init_reply(init);
}

static ssize_t dev_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	ssize_t n;
	if (uring_reply(iov, count, &n))
		return n;
	/* Read first: every reply passes here, on every CPU. */
	if (__atomic_load_n(&init_replied, __ATOMIC_ACQUIRE) ||
	    __atomic_exchange_n(&init_replied, true, __ATOMIC_ACQ_REL))
		return writev(fd, iov, count);
	add_capabilities(iov, count);
	n = writev(fd, iov, count);
	if (n >= 0 && after_init)
		after_init();
	return n;
}

int session_io_install(struct fuse_session *se, void (*init_written)(void))
{
	static const struct fuse_custom_io io = { .read = dev_read, .writev = dev_writev };
	after_init = init_written;
	__atomic_store_n(&init_replied, false, __ATOMIC_RELEASE);
	return fuse_session_custom_io(se, &io, fuse_session_fd(se)) == 0 ? 0 : -EINVAL;
}
