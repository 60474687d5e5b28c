/*
 * ops.h: torofuse's FUSE operations (libfuse's low-level API: calls by
 * node id), each one VFS calls made by the kernel thread that read the
 * request (serve.c).
 */
#ifndef FUSEMOUNT_OPS_H
#define FUSEMOUNT_OPS_H

#define FUSE_USE_VERSION 314
#include <stdbool.h>
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops torofuse_ops;

/* Settings from the command line. */
struct ops_settings {
	double timeout;             /* names, attributes and absent names, seconds */
	unsigned max_write;         /* bytes per WRITE request */
	int kernel_cache;           /* the host keeps file pages across opens */
	/* The VFS alone checks permissions (no default_permissions): names are
	 * not cached, so every lookup passes its search-permission check. */
	bool own_checks;
	struct fuse_session *session;   /* set before the first request: notifications */
};
extern struct ops_settings ops_settings;

/* ops_close_all: close every file and directory the host left open (the
 * connection ended before it released them). Kernel thread, once no request
 * runs any more. */
void ops_close_all(void);

#endif
