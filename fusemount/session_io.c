/*
 * session_io.c: the INIT reply, with the killpriv capabilities added
 * (session_io.h).
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
 * reply (fixed in 3.17), and predates HANDLE_KILLPRIV_V2 (protocol 7.33);
 * the host reads both bits from the reply's flags at any protocol minor
 * from 7.6 on. So the first reply written on the session, which is always
 * the INIT reply (the host sends nothing else until it has it), gets them
 * here. The kernel's values are from its uapi fuse.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "session_io.h"

#define FUSE_HANDLE_KILLPRIV     (1u << 19)
#define FUSE_HANDLE_KILLPRIV_V2  (1u << 28)

/* The start of the protocol's reply header and of the INIT reply. */
struct out_header {
	uint32_t len;
	int32_t error;
	uint64_t unique;
};

struct init_out_start {
	uint32_t major;
	uint32_t minor;
	uint32_t max_readahead;
	uint32_t flags;
};

static bool init_replied;   /* atomic: set by the first reply */

static ssize_t dev_read(int fd, void *buf, size_t len, void *userdata)
{
	return read(fd, buf, len);
}

/* libfuse writes a reply as the header, then its argument. */
static void add_capabilities(struct iovec *iov, int count)
{
	if (count < 2 || iov[0].iov_len < sizeof(struct out_header) ||
	    iov[1].iov_len < sizeof(struct init_out_start))
		return;
	const struct out_header *h = iov[0].iov_base;
	if (h->error != 0)
		return;
	struct init_out_start *init = iov[1].iov_base;
	init->flags |= FUSE_HANDLE_KILLPRIV | FUSE_HANDLE_KILLPRIV_V2;
}

static ssize_t dev_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	/* Read first: every reply passes here, on every CPU. */
	if (!__atomic_load_n(&init_replied, __ATOMIC_ACQUIRE) &&
	    !__atomic_exchange_n(&init_replied, true, __ATOMIC_ACQ_REL))
		add_capabilities(iov, count);
	return writev(fd, iov, count);
}

int session_io_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = { .read = dev_read, .writev = dev_writev };
	__atomic_store_n(&init_replied, false, __ATOMIC_RELEASE);
	return fuse_session_custom_io(se, &io, fuse_session_fd(se)) == 0 ? 0 : -EINVAL;
}
