/*
 * ramfs.h: the in-memory file system type ("ramfs", like Linux's tmpfs).
 * Mount it with vfs_mount(path, "ramfs", NULL, flags); it holds at most half
 * of the kernel's memory at mount time in file data (then -ENOSPC).
 */
#ifndef FS_RAMFS_H
#define FS_RAMFS_H

#include "fs.h"

extern const struct fs_type ramfs_fs_type;

#endif
