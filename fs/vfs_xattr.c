/*
 * vfs_xattr.c: extended attributes (vfs.h): the caller's rights by
 * namespace, as Linux applies them, and POSIX ACLs kept in step with the
 * mode bits:
 *   trusted.*   root's alone (others neither see nor set them);
 *   user.*      regular files and directories only; read or write
 *               permission on the file;
 *   security.*  write permission to set;
 *   system.posix_acl_access / _default: anyone reads them; the owner (or
 *               root) sets them, checked (acl_check). An access ACL sets
 *               the mode's bits (owner, mask or group, other); one the
 *               mode says entirely is not kept. A default ACL only on a
 *               directory. chmod changes the access ACL (vfs_acl_chmod);
 *               a new file inherits its directory's default ACL
 *               (vfs_acl_inherit).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "acl.h"
#include "alloc.h"
#include "vfs_impl.h"

static struct fs *FS(struct vloc loc) { return loc.m->fs; }

enum name_space { NS_USER, NS_TRUSTED, NS_SECURITY, NS_ACL_ACCESS, NS_ACL_DEFAULT, NS_OTHER };

static enum name_space name_space(const char *name)
{
	if (strncmp(name, "user.", 5) == 0)
		return NS_USER;
	if (strncmp(name, "trusted.", 8) == 0)
		return NS_TRUSTED;
	if (strncmp(name, "security.", 9) == 0)
		return NS_SECURITY;
	if (strcmp(name, VFS_ACL_ACCESS) == 0)
		return NS_ACL_ACCESS;
	if (strcmp(name, VFS_ACL_DEFAULT) == 0)
		return NS_ACL_DEFAULT;
	return NS_OTHER;
}

static int check_name(const char *name)
{
	if (!name)
		return -EFAULT;
	size_t len = strnlen(name, VFS_XATTR_NAME_MAX + 1);
	return len == 0 || len > VFS_XATTR_NAME_MAX ? -ERANGE : 0;
}

/* May the caller read (write false) or change attribute name of the file
 * at loc (attributes st)? */
static int may_xattr(struct vloc loc, const struct vfs_stat *st, const char *name, bool write)
{
	bool root = vfs_is_root();
	switch (name_space(name)) {
	case NS_TRUSTED:
		return root ? 0 : write ? -EPERM : -ENODATA;
	case NS_ACL_ACCESS:
	case NS_ACL_DEFAULT: {
		struct acl_who who;
		vfs_who(&who);
		return write && !root && who.uid != st->uid ? -EPERM : 0;
	}
	case NS_USER:
		if (!S_ISREG(st->mode) && !S_ISDIR(st->mode))
			return write ? -EPERM : -ENODATA;
		return vfs_permission(loc, st, write ? VFS_MAY_WRITE : VFS_MAY_READ);
	case NS_SECURITY:
		return write ? vfs_permission(loc, st, VFS_MAY_WRITE) : 0;
	default:
		return 0;   /* the driver refuses what it does not keep */
	}
}

/* Common entry: the name checked, the file's attributes, the rights. */
static int begin(struct vloc loc, const char *name, bool write, struct vfs_stat *st)
{
	int rc = name ? check_name(name) : 0;
	if (rc < 0)
		return rc;
	if (!FS(loc)->ops->getxattr)
		return -EOPNOTSUPP;
	if (write && loc_read_only(loc))
		return -EROFS;
	rc = FS(loc)->ops->getattr(FS(loc), loc.ino, st);
	if (rc == 0 && name)
		rc = may_xattr(loc, st, name, write);
	return rc;
}

/* ---- ACLs and the mode ---------------------------------------------------------- */

static int set_mode(struct vloc loc, uint32_t mode)
{
	struct vfs_setattr a = { .mask = VFS_SET_MODE, .mode = mode & 07777 };
	return FS(loc)->ops->setattr(FS(loc), loc.ino, &a);
}

static int remove_if_there(struct vloc loc, const char *name)
{
	int rc = FS(loc)->ops->removexattr(FS(loc), loc.ino, name);
	return rc == -ENODATA ? 0 : rc;
}

/* Set (or, empty, remove) an ACL whose caller was checked. */
static int set_acl(struct vloc loc, const struct vfs_stat *st, const char *name,
                   const void *value, size_t size, int flags)
{
	int n = acl_check(value, size);
	if (n < 0)
		return n;
	bool access = strcmp(name, VFS_ACL_ACCESS) == 0;
	if (!access && !S_ISDIR(st->mode))
		return n ? -EACCES : 0;
	if (n == 0)
		return remove_if_there(loc, name);
	if (!access)
		return FS(loc)->ops->setxattr(FS(loc), loc.ino, name, value, size, flags);
	bool equivalent;
	uint32_t mode = (st->mode & 07000) | acl_mode_bits(value, (size_t)n, &equivalent);
	struct acl_who who;
	vfs_who(&who);
	if (!acl_who_in_group(&who, st->gid) && who.uid != 0)
		mode &= ~(uint32_t)S_ISGID;     /* as a chmod by this caller would */
	int rc = equivalent ? remove_if_there(loc, name)
	                    : FS(loc)->ops->setxattr(FS(loc), loc.ino, name, value, size, flags);
	if (rc == 0 && mode != (st->mode & 07777))
		rc = set_mode(loc, mode);
	return rc;
}

int vfs_acl_chmod(struct vloc loc, uint32_t mode)
{
	uint8_t *acl;
	ssize_t size = vfs_read_acl(loc, VFS_ACL_ACCESS, &acl);
	if (size <= 0)
		return (int)size;
	acl_chmod(acl, (size_t)acl_check(acl, (size_t)size), mode);
	int rc = FS(loc)->ops->setxattr(FS(loc), loc.ino, VFS_ACL_ACCESS, acl, (size_t)size,
	                                 VFS_XATTR_REPLACE);
	kfree(acl);
	return rc;
}

int vfs_acl_inherit(struct vloc dir, struct vloc loc, uint32_t mode)
{
	uint8_t *acl;
	ssize_t size = vfs_read_acl(dir, VFS_ACL_DEFAULT, &acl);
	if (size <= 0)
		return (int)size;
	size_t n = (size_t)acl_check(acl, (size_t)size);
	int rc = 0;
	if (S_ISDIR(mode))
		rc = FS(loc)->ops->setxattr(FS(loc), loc.ino, VFS_ACL_DEFAULT, acl, (size_t)size, 0);
	acl_mask_by_mode(acl, n, mode);
	bool equivalent;
	uint32_t bits = acl_mode_bits(acl, n, &equivalent);
	if (rc == 0 && !equivalent)
		rc = FS(loc)->ops->setxattr(FS(loc), loc.ino, VFS_ACL_ACCESS, acl, (size_t)size, 0);
	if (rc == 0 && bits != (mode & 0777))
		rc = set_mode(loc, (mode & 07000) | bits);
	kfree(acl);
	return rc;
}

/* ---- On a location ------------------------------------------------------------ */

static ssize_t loc_getxattr(struct vloc loc, const char *name, void *buf, size_t size)
{
	struct vfs_stat st;
	int rc = begin(loc, name, false, &st);
	if (rc < 0)
		return rc;
	if (size > VFS_XATTR_SIZE_MAX)
		size = VFS_XATTR_SIZE_MAX;
	return FS(loc)->ops->getxattr(FS(loc), loc.ino, name, size ? buf : NULL, size);
}

static int loc_setxattr(struct vloc loc, const char *name, const void *value, size_t size,
                        int flags)
{
	if (size > VFS_XATTR_SIZE_MAX)
		return -E2BIG;
	if ((size && !value) || (flags & ~(VFS_XATTR_CREATE | VFS_XATTR_REPLACE)))
		return size && !value ? -EFAULT : -EINVAL;
	struct vfs_stat st;
	int rc = begin(loc, name, true, &st);
	if (rc < 0)
		return rc;
	enum name_space ns = name_space(name);
	if (ns == NS_ACL_ACCESS || ns == NS_ACL_DEFAULT)
		return set_acl(loc, &st, name, value, size, flags);
	return FS(loc)->ops->setxattr(FS(loc), loc.ino, name, value, size, flags);
}

static int loc_removexattr(struct vloc loc, const char *name)
{
	struct vfs_stat st;
	int rc = begin(loc, name, true, &st);
	return rc < 0 ? rc : FS(loc)->ops->removexattr(FS(loc), loc.ino, name);
}

/* Drop the trusted.* names from a list (for a caller who is not root). */
static size_t hide_trusted(char *list, size_t len)
{
	size_t out = 0;
	for (size_t at = 0; at < len;) {
		size_t n = strnlen(list + at, len - at) + 1;
		if (name_space(list + at) != NS_TRUSTED) {
			memmove(list + out, list + at, n);
			out += n;
		}
		at += n;
	}
	return out;
}

static ssize_t loc_listxattr(struct vloc loc, char *buf, size_t size)
{
	struct vfs_stat st;
	int rc = begin(loc, NULL, false, &st);
	if (rc < 0)
		return rc;
	struct fs *fs = FS(loc);
	if (size > VFS_XATTR_SIZE_MAX)
		size = VFS_XATTR_SIZE_MAX;
	if (vfs_is_root())
		return fs->ops->listxattr(fs, loc.ino, size ? buf : NULL, size);
	ssize_t len = fs->ops->listxattr(fs, loc.ino, NULL, 0);
	if (len <= 0)
		return len;
	char *all = kmalloc((size_t)len);
	if (!all)
		return -ENOMEM;
	len = fs->ops->listxattr(fs, loc.ino, all, (size_t)len);
	if (len >= 0) {
		len = (ssize_t)hide_trusted(all, (size_t)len);
		if (size && (size_t)len > size)
			len = -ERANGE;
		else if (size)
			memcpy(buf, all, (size_t)len);
	}
	kfree(all);
	return len;
}

/* ---- The API ------------------------------------------------------------------ */

ssize_t vfs_node_getxattr(struct vnode *vn, const char *name, void *buf, size_t size)
{
	return loc_getxattr(vnode_loc(vn), name, buf, size);
}

int vfs_node_setxattr(struct vnode *vn, const char *name, const void *value, size_t size,
                      int flags)
{
	return loc_setxattr(vnode_loc(vn), name, value, size, flags);
}

ssize_t vfs_node_listxattr(struct vnode *vn, char *buf, size_t size)
{
	return loc_listxattr(vnode_loc(vn), buf, size);
}

int vfs_node_removexattr(struct vnode *vn, const char *name)
{
	return loc_removexattr(vnode_loc(vn), name);
}

/* By path: hold the file (following a final symbolic link unless nofollow). */
#define BY_PATH(path, follow, call)                                        \
	do {                                                               \
		struct vnode *vn;                                          \
		int prc = vfs_node_at(NULL, path, follow, &vn);            \
		if (prc < 0)                                               \
			return prc;                                        \
		ssize_t r = call;                                          \
		vfs_node_put(vn);                                          \
		return r;                                                  \
	} while (0)

ssize_t vfs_getxattr(const char *path, bool follow, const char *name, void *buf, size_t size)
{
	BY_PATH(path, follow, vfs_node_getxattr(vn, name, buf, size));
}

int vfs_setxattr(const char *path, bool follow, const char *name, const void *value,
                 size_t size, int flags)
{
	BY_PATH(path, follow, vfs_node_setxattr(vn, name, value, size, flags));
}

ssize_t vfs_listxattr(const char *path, bool follow, char *buf, size_t size)
{
	BY_PATH(path, follow, vfs_node_listxattr(vn, buf, size));
}

int vfs_removexattr(const char *path, bool follow, const char *name)
{
	BY_PATH(path, follow, vfs_node_removexattr(vn, name));
}
