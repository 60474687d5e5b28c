/*
 * vfs_impl.h: what the files of the VFS share (fs/vfs_*.c); not for others.
 *
 *   vfs_mount.c   the mount table, file system types, mount references
 *   vfs_path.c    path resolution
 *   vfs_vnode.c   open inodes (driver references, per-inode lock)
 *   vfs_file.c    descriptors and I/O on them
 *   vfs.c         calls by path: mkdir, unlink, rename, ...
 *   vfs_perm.c    the caller's permissions (mode bits, access ACLs)
 *   vfs_xattr.c   extended attributes; ACLs kept in step with the mode
 *
 * Lock order: file.lock -> vnode.lock -> (driver locks); mount_lock,
 * vnode_lock and fd_lock are spinlocks taken last and never held across a
 * driver call.
 */
#ifndef FS_VFS_IMPL_H
#define FS_VFS_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "fs.h"
#include "list.h"
#include "mutex.h"
#include "vfs.h"

/*
 * A mounted file system. Lifecycle: vfs_mount links it into the table;
 * every path walk that passes through it, and every open inode in it, holds
 * a reference (refs); vfs_unmount unlinks it only when its own walk holds
 * the last reference and nothing is mounted on it, then frees it.
 */
struct mount {
	/* Set at mount, then read-only. */
	struct fs *fs;
	const struct fs_type *type;
	struct mount *parent;       /* NULL: the first root */
	uint64_t mp_ino;            /* the directory in parent it covers */
	uint64_t root;              /* fs->ops->root() */

	/* Guarded by mount_lock (vfs_mount.c). */
	struct list link;           /* mount_list, newest first */
	int refs;
};

/* A file: a mount and an inode number in it. */
struct vloc {
	struct mount *m;
	uint64_t ino;
};

void mount_get(struct mount *m);
void mount_put(struct mount *m);
/* mount_root: the location of "/", with a mount reference; -ENOENT if
 * nothing is mounted. */
int mount_root(struct vloc *out);
/* mount_cross: if loc is covered by a mount, move it to that mount's root
 * (moving the reference along), repeatedly. */
void mount_cross(struct vloc *loc);
/* mount_busy_at: is loc a mount point or the root of a mount? */
bool mount_busy_at(struct vloc loc);

static inline bool loc_eq(struct vloc a, struct vloc b)
{
	return a.m == b.m && a.ino == b.ino;
}

static inline bool loc_read_only(struct vloc loc)
{
	return loc.m->fs->read_only;
}

/* ---- path resolution (vfs_path.c) ---- */

enum {
	WALK_FOLLOW = 1,    /* follow a symbolic link in the last component */
	WALK_PARENT = 2,    /* stop at the directory holding the last component */
};

struct walk_result {
	struct vloc loc;            /* holds a mount reference: walk_done() */
	uint32_t mode;              /* S_IFMT of loc (WALK_PARENT: S_IFDIR) */
	/* WALK_PARENT only: */
	char name[VFS_NAME_MAX + 1];
	size_t len;                 /* 0: the path was "/" */
	bool dot;                   /* name is "." or ".." */
	bool trailing_slash;        /* the path ended with '/' after name */
	/* In: a directory to watch for; out: it lies on the walked path. */
	struct vloc avoid;
	bool hit_avoid;
};

/* path_walk: resolve path, from dir if it is relative and dir is not NULL
 * ("/" otherwise); 0 or -errno (and then nothing is held). */
struct vnode;
int path_walk(struct vnode *dir, const char *path, unsigned flags, struct walk_result *res);
void walk_done(struct walk_result *res);
/* The mode of loc (getattr); 0 or -errno. */
int loc_mode(struct vloc loc, uint32_t *mode);

/* ---- open inodes (vfs_vnode.c) ---- */

/*
 * A vnode stands for an inode that is open: it holds the driver's reference
 * (iget) and a mount reference. Lifecycle: vnode_get finds or makes it,
 * vnode_put drops it, and the last put calls iput.
 */
struct vnode {
	/* Set when made, then read-only. */
	struct mount *m;
	uint64_t ino;

	/* Guarded by vnode_lock (vfs_vnode.c). */
	struct list link;           /* hash chain */
	int refs;

	struct mutex lock;          /* serializes appends and size changes */
};

int vnode_get(struct vloc loc, struct vnode **out);
static inline struct vloc vnode_loc(const struct vnode *vn)
{
	return (struct vloc){ vn->m, vn->ino };
}
void vnode_put(struct vnode *vn);

/* Thread identity for new files. */
void vfs_owner(uint32_t *uid, uint32_t *gid);

/* ---- permissions (vfs_perm.c) ---- */

#define VFS_MAY_EXEC  1
#define VFS_MAY_WRITE 2
#define VFS_MAY_READ  4

struct acl_who;
void vfs_who(struct acl_who *who);
bool vfs_is_root(void);
/* vfs_permission: may the caller have want (VFS_MAY_*) on the file at loc,
 * whose attributes are st? 0, -EACCES, or an error reading its ACL. */
int vfs_permission(struct vloc loc, const struct vfs_stat *st, unsigned want);
/* vfs_loc_permission: the same, reading the attributes itself. */
int vfs_loc_permission(struct vloc loc, unsigned want);
/* The checks before a change (0 for root): a new name in dir (write and
 * search); removing victim's name from dir (and the sticky bit's rule);
 * a setattr (ownership rules; may take S_ISGID out of a->mode). */
int vfs_may_create(struct vloc dir);
int vfs_may_delete(struct vloc dir, struct vloc victim);
int vfs_may_setattr(struct vloc loc, struct vfs_setattr *a);
/* vfs_read_acl: the ACL named name ("system.posix_acl_*") of loc, checked,
 * in a kmalloc'ed *out; its size, 0 if there is none, or -errno. */
ssize_t vfs_read_acl(struct vloc loc, const char *name, uint8_t **out);

/* ---- ACLs and the mode (vfs_xattr.c) ---- */

/* vfs_acl_chmod: the mode of loc became mode: carry it into its access ACL. */
int vfs_acl_chmod(struct vloc loc, uint32_t mode);
/* vfs_acl_inherit: loc was just made in dir with mode (S_IF* included):
 * give it dir's default ACL, if any. */
int vfs_acl_inherit(struct vloc dir, struct vloc loc, uint32_t mode);

#endif
