/*
 * ops.h: the libfuse high-level operations of torofuse, each one a VFS call
 * made in a kernel thread through the gate.
 */
#ifndef FUSEMOUNT_OPS_H
#define FUSEMOUNT_OPS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>

extern const struct fuse_operations torofuse_ops;

/* Settings ops_init applies to libfuse (from the command line). */
struct ops_settings {
	double timeout;             /* entry and attribute cache, seconds */
	unsigned max_write;         /* bytes per WRITE request */
	int kernel_cache;           /* the host keeps file pages across opens */
};
extern struct ops_settings ops_settings;

/* ops_close_all: close every VFS descriptor a FUSE file handle still holds
 * (files the kernel never released before the connection ended). Host
 * thread, after the FUSE loop has ended. */
void ops_close_all(void);

#endif
