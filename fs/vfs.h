/*
 * vfs.h: the kernel's file API: mount table, path resolution, open files.
 *
 * Paths are absolute ("/web/index.html"); "." and ".." and symbolic links
 * are resolved (at most 40 links: -ELOOP), a component over 255 bytes is
 * -ENAMETOOLONG, a path over 4096 bytes too. Every call returns 0 (or a
 * count, or a descriptor) on success and -errno on failure, with errno
 * values and O_* / S_IF* / DT_* constants as on Linux. Any thread, any
 * CPU; calls may block. The application API (Sys* in toro.h) and the tools
 * (toro-fs, torofuse) stand on this.
 */
#ifndef FS_VFS_H
#define FS_VFS_H

#include <stdbool.h>
#include <stdint.h>

#include "fs.h"

#define VFS_NAME_MAX 255
#define VFS_PATH_MAX 4096
#define VFS_SYMLOOP_MAX 40
#define VFS_MAX_FILES 4096      /* open descriptors at once: then -EMFILE */

/* Mount the file system of type fstype ("ext2") found on dev at path (the
 * first mount is "/"); flags: FS_MOUNT_RDONLY. */
int vfs_mount(const char *path, const char *fstype, struct blkdev *dev, unsigned flags);
int vfs_unmount(const char *path);      /* -EBUSY while files are open there */
int vfs_sync(void);

/* Open files. flags: O_RDONLY/O_WRONLY/O_RDWR, O_CREAT, O_EXCL, O_TRUNC,
 * O_APPEND, O_DIRECTORY, O_NOFOLLOW. Returns a descriptor >= 0. */
int vfs_open(const char *path, int flags, uint32_t mode);
int vfs_close(int fd);
ssize_t vfs_read(int fd, void *buf, size_t len);
ssize_t vfs_write(int fd, const void *buf, size_t len);
ssize_t vfs_pread(int fd, void *buf, size_t len, uint64_t off);
ssize_t vfs_pwrite(int fd, const void *buf, size_t len, uint64_t off);
int64_t vfs_seek(int fd, int64_t off, int whence);     /* SEEK_SET/CUR/END */
int vfs_fstat(int fd, struct vfs_stat *out);
int vfs_ftruncate(int fd, uint64_t size);
int vfs_fsync(int fd);
/* vfs_readdir: entries of the directory open as fd ("." and ".." too),
 * continuing where the last call stopped (or where vfs_seek put it: for a
 * directory the position is an opaque cookie, SEEK_SET to a value SEEK_CUR
 * gave, or 0); returns 0 at the end or when fill stopped. fill runs without
 * driver locks held and may call the VFS, but not on this fd. */
int vfs_readdir(int fd, vfs_filldir_fn fill, void *ctx);

/* By path. */
int vfs_stat(const char *path, struct vfs_stat *out);
int vfs_lstat(const char *path, struct vfs_stat *out);
int vfs_mkdir(const char *path, uint32_t mode);
int vfs_mknod(const char *path, uint32_t mode, uint64_t rdev);
int vfs_rmdir(const char *path);
int vfs_unlink(const char *path);
int vfs_rename(const char *from, const char *to);
int vfs_link(const char *existing, const char *new_path);
int vfs_symlink(const char *target, const char *link_path);
ssize_t vfs_readlink(const char *path, char *buf, size_t size);
int vfs_truncate(const char *path, uint64_t size);
int vfs_chmod(const char *path, uint32_t mode);
int vfs_chown(const char *path, uint32_t uid, uint32_t gid);  /* (uint32_t)-1: keep */
int vfs_utimens(const char *path, int64_t atime_ns, int64_t mtime_ns);  /* VFS_UTIME_OMIT: keep */
/* lchown / lutimens: the same on a symbolic link itself (not followed). */
int vfs_lchown(const char *path, uint32_t uid, uint32_t gid);
int vfs_lutimens(const char *path, int64_t atime_ns, int64_t mtime_ns);
int vfs_statfs(const char *path, struct vfs_statfs *out);

/*
 * Permissions: every call checks the calling thread's identity (its uid,
 * gid and groups; thread.h) as Linux does: search permission on each
 * directory walked, read / write permission to open, write and search
 * permission on a directory to add or remove a name (and the sticky bit's
 * rule), ownership for chmod, chown and setting times (writers may set
 * them to "now"), and an access ACL where the file has one. uid 0 passes
 * all but running a file without an execute bit.
 */

#define VFS_UTIME_OMIT INT64_MIN

/* vfs_time_ns: a host time (seconds and nanoseconds) as the VFS counts it,
 * clamped to its range (1678..2262) instead of wrapping around. */
static inline int64_t vfs_time_ns(int64_t sec, long nsec)
{
	const int64_t ns = 1000000000;
	if (sec >= INT64_MAX / ns)
		return INT64_MAX;
	if (sec <= INT64_MIN / ns)
		return INT64_MIN + 1;   /* not VFS_UTIME_OMIT */
	return sec * ns + nsec;
}

/*
 * Held files (vnodes): a file named by what it is rather than by a path,
 * as a host kernel names the files of a FUSE file system. A held vnode stays
 * valid, even after its last name is gone (then it lives on until the last
 * put), and relative paths can be resolved from a held directory.
 *
 * The *at calls are the calls above with a starting directory: a relative
 * path resolves from dir, an absolute one (or dir NULL) from "/". ".." never
 * climbs above dir, and an absolute symbolic link starts again from "/".
 */
struct vnode;

/* vfs_node_at: hold the file at path (resolved from dir); follow: a final
 * symbolic link is followed. */
int vfs_node_at(struct vnode *dir, const char *path, bool follow, struct vnode **out);
/* vfs_node_of: hold the file open as fd. */
int vfs_node_of(int fd, struct vnode **out);
void vfs_node_hold(struct vnode *vn);           /* one more reference */
void vfs_node_put(struct vnode *vn);
uint64_t vfs_node_ino(const struct vnode *vn);
int vfs_node_stat(struct vnode *vn, struct vfs_stat *out);
/* vfs_node_setattr: chmod, chown, truncate and utimens in one call, with
 * the checks of those calls (VFS_SET_SIZE: a regular file, -EISDIR or
 * -EINVAL otherwise). */
int vfs_node_setattr(struct vnode *vn, const struct vfs_setattr *attr);
ssize_t vfs_node_readlink(struct vnode *vn, char *buf, size_t size);
/* vfs_node_access: access(2) on vn; mask: R_OK | W_OK | X_OK (4, 2, 1) or 0. */
int vfs_node_access(struct vnode *vn, int mask);
/* vfs_node_open: open vn itself (flags as vfs_open, without O_CREAT). */
int vfs_node_open(struct vnode *vn, int flags);
/* vfs_node_link: a new name for vn. */
int vfs_node_link(struct vnode *vn, struct vnode *dir, const char *new_path);

/*
 * Extended attributes (the rules of fs.h; VFS_XATTR_* there): on a held
 * file, or by path (follow: a final symbolic link is followed, as getxattr
 * rather than lgetxattr). The calling thread's identity decides: trusted.*
 * is root's alone, user.* needs read / write permission and a regular file
 * or directory, security.* write permission to set, and POSIX ACLs
 * (system.posix_acl_access / _default, in the xattr format of acl.h) are
 * set by the owner or root only. Setting an access ACL sets the mode's
 * permission bits (an ACL the mode bits say entirely is not stored); chmod
 * changes the access ACL; a new file gets its directory's default ACL; and
 * every permission check of the VFS consults the access ACL. A value over
 * VFS_XATTR_SIZE_MAX is -E2BIG; -EOPNOTSUPP where the file system has none.
 */
ssize_t vfs_node_getxattr(struct vnode *vn, const char *name, void *buf, size_t size);
int vfs_node_setxattr(struct vnode *vn, const char *name, const void *value, size_t size,
                      int flags);
ssize_t vfs_node_listxattr(struct vnode *vn, char *buf, size_t size);
int vfs_node_removexattr(struct vnode *vn, const char *name);
ssize_t vfs_getxattr(const char *path, bool follow, const char *name, void *buf, size_t size);
int vfs_setxattr(const char *path, bool follow, const char *name, const void *value,
                 size_t size, int flags);
ssize_t vfs_listxattr(const char *path, bool follow, char *buf, size_t size);
int vfs_removexattr(const char *path, bool follow, const char *name);

int vfs_openat(struct vnode *dir, const char *path, int flags, uint32_t mode);
int vfs_mkdirat(struct vnode *dir, const char *path, uint32_t mode);
int vfs_mknodat(struct vnode *dir, const char *path, uint32_t mode, uint64_t rdev);
int vfs_symlinkat(const char *target, struct vnode *dir, const char *link_path);
int vfs_unlinkat(struct vnode *dir, const char *path);
int vfs_rmdirat(struct vnode *dir, const char *path);
int vfs_renameat(struct vnode *from_dir, const char *from, struct vnode *to_dir, const char *to);

#endif
