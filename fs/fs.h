/*
 * fs.h: the boundary between the VFS (fs/vfs*.c) and a file system driver
 * (fs/ext2/). The VFS owns paths, mount points, open files and the
 * application API; a driver owns one on-disk format and names files by
 * inode number.
 *
 * Rules every driver keeps:
 *  - Every call returns 0 (or a count) on success and -errno on failure;
 *    corrupt metadata is -EIO (or -EUCLEAN), never a crash.
 *  - A driver does its own locking; the VFS calls it from any thread on any
 *    CPU, concurrently. Calls may block (disk I/O).
 *  - Names arrive as (pointer, length), not NUL-terminated, 1..255 bytes,
 *    never "." or "..", never containing '/'. The VFS has checked that.
 *  - Inode references: the VFS holds an inode while a file is open
 *    (iget/iput). An inode whose link count drops to zero is freed on disk
 *    only after its last iput, so an open file outlives its unlink.
 */
#ifndef FS_FS_H
#define FS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct blkdev;
struct fs;

/* File attributes, as stat(2) gives them. mode has the S_IF* type bits. */
struct vfs_stat {
	uint64_t ino;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t blocks;        /* 512-byte units allocated, metadata blocks included */
	uint64_t rdev;          /* device nodes: Linux's dev_t layout (glibc makedev) */
	uint32_t blksize;
	int64_t atime_ns, mtime_ns, ctime_ns;   /* since the epoch */
};

/* What setattr changes: the fields whose bit is in mask. */
enum {
	VFS_SET_MODE  = 1 << 0,     /* permission bits only (07777) */
	VFS_SET_UID   = 1 << 1,
	VFS_SET_GID   = 1 << 2,
	VFS_SET_SIZE  = 1 << 3,     /* truncate: grow (a hole) or shrink */
	VFS_SET_ATIME = 1 << 4,
	VFS_SET_MTIME = 1 << 5,
	VFS_SET_TIMES_NOW = 1 << 6, /* the times are "now": a writer may set them, not only the owner */
};

struct vfs_setattr {
	unsigned mask;
	uint32_t mode, uid, gid;
	uint64_t size;
	int64_t atime_ns, mtime_ns;
};

struct vfs_statfs {
	uint32_t bsize;
	uint64_t blocks, bfree, bavail;
	uint64_t files, ffree;
	uint32_t namemax;
	bool read_only;
};

/* readdir callback: return nonzero to stop (the entry was not taken, and the
 * next call resumes with it). type: a DT_* value. */
typedef int (*vfs_filldir_fn)(void *ctx, const char *name, size_t len,
                              uint64_t ino, unsigned type);

/* Mount flags. */
#define FS_MOUNT_RDONLY 1u

struct fs_ops {
	uint64_t (*root)(struct fs *fs);
	int (*unmount)(struct fs *fs);              /* flushes; frees fs */
	int (*sync)(struct fs *fs);                 /* everything durable */
	int (*statfs)(struct fs *fs, struct vfs_statfs *out);

	int (*iget)(struct fs *fs, uint64_t ino);   /* take a reference */
	void (*iput)(struct fs *fs, uint64_t ino);  /* drop it */

	int (*lookup)(struct fs *fs, uint64_t dir, const char *name, size_t len,
	              uint64_t *ino);
	int (*getattr)(struct fs *fs, uint64_t ino, struct vfs_stat *out);
	int (*setattr)(struct fs *fs, uint64_t ino, const struct vfs_setattr *attr);

	/* Create a regular file, fifo, socket or device node (S_IF* in mode);
	 * -EEXIST if the name is taken. */
	int (*mknod)(struct fs *fs, uint64_t dir, const char *name, size_t len,
	             uint32_t mode, uint64_t rdev, uint32_t uid, uint32_t gid,
	             uint64_t *ino);
	int (*mkdir)(struct fs *fs, uint64_t dir, const char *name, size_t len,
	             uint32_t mode, uint32_t uid, uint32_t gid, uint64_t *ino);
	int (*symlink)(struct fs *fs, uint64_t dir, const char *name, size_t len,
	               const char *target, uint32_t uid, uint32_t gid, uint64_t *ino);
	int (*link)(struct fs *fs, uint64_t ino, uint64_t dir, const char *name, size_t len);
	int (*unlink)(struct fs *fs, uint64_t dir, const char *name, size_t len);  /* not dirs: -EISDIR */
	int (*rmdir)(struct fs *fs, uint64_t dir, const char *name, size_t len);   /* -ENOTEMPTY */
	/* rename(2) semantics: replaces a compatible target atomically; a
	 * directory into its own subtree is -EINVAL. */
	int (*rename)(struct fs *fs, uint64_t from_dir, const char *from, size_t from_len,
	              uint64_t to_dir, const char *to, size_t to_len);
	/* readlink: copy up to size bytes of the target, return its length. */
	ssize_t (*readlink)(struct fs *fs, uint64_t ino, char *buf, size_t size);

	ssize_t (*read)(struct fs *fs, uint64_t ino, void *buf, size_t len, uint64_t off);
	ssize_t (*write)(struct fs *fs, uint64_t ino, const void *buf, size_t len, uint64_t off);
	/* readdir: entries from *cookie on ("." and ".." included); *cookie is
	 * advanced past each entry taken. Returns 0 at the end or when fill
	 * stopped. */
	int (*readdir)(struct fs *fs, uint64_t dir, uint64_t *cookie,
	               vfs_filldir_fn fill, void *ctx);
	int (*fsync)(struct fs *fs, uint64_t ino);

	/*
	 * Extended attributes (optional: without them the VFS answers
	 * -EOPNOTSUPP). name: NUL-terminated, with its namespace prefix
	 * ("user.", "trusted.", "security.", or exactly "system.posix_acl_access"
	 * / "system.posix_acl_default", whose values are POSIX ACLs in the xattr
	 * API's format, acl.h), at most VFS_XATTR_NAME_MAX bytes; the VFS has
	 * checked its length and the caller's permissions. A namespace the
	 * driver does not keep is -EOPNOTSUPP.
	 * getxattr / listxattr: size 0 asks only for the length; a buffer too
	 * small is -ERANGE. getxattr copies the value and returns its length;
	 * -ENODATA if there is none. listxattr gives the names, each ended by a
	 * NUL, back to back.
	 * setxattr: flags VFS_XATTR_CREATE (-EEXIST if it exists) or
	 * VFS_XATTR_REPLACE (-ENODATA if it does not); -ENOSPC when it does not
	 * fit (the driver's own limit on attribute space).
	 * removexattr: -ENODATA if there is none.
	 */
	ssize_t (*getxattr)(struct fs *fs, uint64_t ino, const char *name, void *buf, size_t size);
	int (*setxattr)(struct fs *fs, uint64_t ino, const char *name, const void *value,
	                size_t size, int flags);
	ssize_t (*listxattr)(struct fs *fs, uint64_t ino, char *buf, size_t size);
	int (*removexattr)(struct fs *fs, uint64_t ino, const char *name);
};

/* setxattr flags: Linux's XATTR_CREATE and XATTR_REPLACE. */
#define VFS_XATTR_CREATE  1
#define VFS_XATTR_REPLACE 2
#define VFS_XATTR_NAME_MAX 255          /* longer: -ERANGE */
#define VFS_XATTR_SIZE_MAX 65536        /* a value or a name list; larger: -E2BIG */

/* The common head of every mounted file system; a driver embeds it first. */
struct fs {
	const struct fs_ops *ops;
	struct blkdev *dev;
	bool read_only;
};

/* A file system type: mount reads dev and, on success, stores the new fs. */
struct fs_type {
	const char *name;
	int (*mount)(struct blkdev *dev, unsigned flags, struct fs **out);
};

extern const struct fs_type ext2_fs_type;

#endif
