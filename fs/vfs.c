/*
 * vfs.c: the calls of vfs.h that work by path on the namespace: stat,
 * mkdir, mknod, rmdir, unlink, rename, link, symlink, readlink, truncate,
 * chmod, chown, utimens, each also as an *at call from a held directory,
 * and the calls on a held file (vfs_node_setattr, _readlink, _link). Each
 * walks the path (vfs_path.c), applies the checks POSIX puts before the file
 * system (read-only mounts, mount points, "." and "..", trailing slashes,
 * crossing mounts) and calls the driver.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "vfs_impl.h"

static struct fs *FS(struct vloc loc) { return loc.m->fs; }

/* Look up the last component of a parent walk. */
static int lookup_last(struct walk_result *d, struct vloc *out)
{
	out->m = d->loc.m;
	return FS(d->loc)->ops->lookup(FS(d->loc), d->loc.ino, d->name, d->len, &out->ino);
}

int vfs_stat(const char *path, struct vfs_stat *out)
{
	struct walk_result w = { 0 };
	int rc = path_walk(NULL, path, WALK_FOLLOW, &w);
	if (rc < 0)
		return rc;
	rc = FS(w.loc)->ops->getattr(FS(w.loc), w.loc.ino, out);
	walk_done(&w);
	return rc;
}

int vfs_lstat(const char *path, struct vfs_stat *out)
{
	struct walk_result w = { 0 };
	int rc = path_walk(NULL, path, 0, &w);
	if (rc < 0)
		return rc;
	rc = FS(w.loc)->ops->getattr(FS(w.loc), w.loc.ino, out);
	walk_done(&w);
	return rc;
}

/*
 * Walk to the parent of a name to be created. -EEXIST for "/", "." and
 * "..", and for an existing name on a read-only mount (before -EROFS, as
 * Linux does). allow_slash: a trailing slash is allowed (mkdir).
 */
static int walk_for_create(struct vnode *dir, const char *path, bool allow_slash,
                           struct walk_result *d)
{
	int rc = path_walk(dir, path, WALK_PARENT, d);
	if (rc < 0)
		return rc;
	if (d->len == 0 || d->dot) {
		rc = -EEXIST;
	} else if (loc_read_only(d->loc) || (d->trailing_slash && !allow_slash)) {
		struct vloc x;
		rc = lookup_last(d, &x);
		if (rc == 0)
			rc = -EEXIST;
		else if (rc == -ENOENT)
			rc = loc_read_only(d->loc) ? -EROFS : -ENOENT;
	}
	if (rc == 0)
		rc = vfs_may_create(d->loc);
	if (rc < 0)
		walk_done(d);
	return rc;
}

int vfs_mkdirat(struct vnode *dir, const char *path, uint32_t mode)
{
	struct walk_result d = { 0 };
	int rc = walk_for_create(dir, path, true, &d);
	if (rc < 0)
		return rc;
	uint32_t uid, gid;
	uint64_t ino;
	vfs_owner(&uid, &gid);
	rc = FS(d.loc)->ops->mkdir(FS(d.loc), d.loc.ino, d.name, d.len,
	                           S_IFDIR | (mode & 07777), uid, gid, &ino);
	if (rc == 0)
		rc = vfs_acl_inherit(d.loc, (struct vloc){ d.loc.m, ino }, S_IFDIR | (mode & 07777));
	walk_done(&d);
	return rc;
}

int vfs_mknodat(struct vnode *dir, const char *path, uint32_t mode, uint64_t rdev)
{
	uint32_t type = mode & S_IFMT;
	if (type == 0)
		mode |= type = S_IFREG;
	if (type == S_IFDIR)
		return -EPERM;
	if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO &&
	    type != S_IFSOCK)
		return -EINVAL;
	struct walk_result d = { 0 };
	int rc = walk_for_create(dir, path, false, &d);
	if (rc < 0)
		return rc;
	uint32_t uid, gid;
	uint64_t ino;
	vfs_owner(&uid, &gid);
	rc = FS(d.loc)->ops->mknod(FS(d.loc), d.loc.ino, d.name, d.len, mode & (S_IFMT | 07777),
	                           rdev, uid, gid, &ino);
	if (rc == 0)
		rc = vfs_acl_inherit(d.loc, (struct vloc){ d.loc.m, ino }, mode & (S_IFMT | 07777));
	walk_done(&d);
	return rc;
}

int vfs_symlinkat(const char *target, struct vnode *dir, const char *link_path)
{
	if (!target)
		return -EFAULT;
	size_t tlen = strnlen(target, VFS_PATH_MAX);
	if (tlen == 0)
		return -ENOENT;
	if (tlen >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	struct walk_result d = { 0 };
	int rc = walk_for_create(dir, link_path, false, &d);
	if (rc < 0)
		return rc;
	uint32_t uid, gid;
	uint64_t ino;
	vfs_owner(&uid, &gid);
	rc = FS(d.loc)->ops->symlink(FS(d.loc), d.loc.ino, d.name, d.len, target, uid, gid, &ino);
	walk_done(&d);
	return rc;
}

/* A new name for the file at src (of type mode). */
static int link_loc(struct vloc src, uint32_t mode, struct vnode *dir, const char *new_path)
{
	if (S_ISDIR(mode))
		return -EPERM;
	struct walk_result d = { 0 };
	int rc = walk_for_create(dir, new_path, false, &d);
	if (rc < 0)
		return rc;
	if (d.loc.m != src.m)
		rc = -EXDEV;
	else
		rc = FS(d.loc)->ops->link(FS(d.loc), src.ino, d.loc.ino, d.name, d.len);
	walk_done(&d);
	return rc;
}

int vfs_link(const char *existing, const char *new_path)
{
	struct walk_result s = { 0 };
	int rc = path_walk(NULL, existing, 0, &s);
	if (rc < 0)
		return rc;
	rc = link_loc(s.loc, s.mode, NULL, new_path);
	walk_done(&s);
	return rc;
}

int vfs_node_link(struct vnode *vn, struct vnode *dir, const char *new_path)
{
	uint32_t mode;
	int rc = loc_mode(vnode_loc(vn), &mode);
	return rc < 0 ? rc : link_loc(vnode_loc(vn), mode, dir, new_path);
}

static ssize_t readlink_loc(struct vloc loc, uint32_t mode, char *buf, size_t size)
{
	if (!S_ISLNK(mode) || size == 0)
		return -EINVAL;
	ssize_t n = FS(loc)->ops->readlink(FS(loc), loc.ino, buf, size);
	return n > (ssize_t)size ? (ssize_t)size : n;
}

ssize_t vfs_readlink(const char *path, char *buf, size_t size)
{
	struct walk_result w = { 0 };
	int rc = path_walk(NULL, path, 0, &w);
	if (rc < 0)
		return rc;
	ssize_t n = readlink_loc(w.loc, w.mode, buf, size);
	walk_done(&w);
	return n;
}

ssize_t vfs_node_readlink(struct vnode *vn, char *buf, size_t size)
{
	uint32_t mode;
	int rc = loc_mode(vnode_loc(vn), &mode);
	return rc < 0 ? rc : readlink_loc(vnode_loc(vn), mode, buf, size);
}

int vfs_rmdirat(struct vnode *dir, const char *path)
{
	struct walk_result d = { 0 };
	int rc = path_walk(dir, path, WALK_PARENT, &d);
	if (rc < 0)
		return rc;
	struct vloc x;
	if (d.len == 0)
		rc = -EBUSY;
	else if (d.dot)
		rc = d.len == 1 ? -EINVAL : -ENOTEMPTY;
	else
		rc = lookup_last(&d, &x);
	if (rc == 0) {
		uint32_t mode = 0;
		mount_get(x.m);
		mount_cross(&x);
		rc = loc_mode(x, &mode);
		if (rc == 0 && !S_ISDIR(mode))
			rc = -ENOTDIR;
		else if (rc == 0 && mount_busy_at(x))
			rc = -EBUSY;
		else if (rc == 0 && loc_read_only(d.loc))
			rc = -EROFS;
		if (rc == 0)
			rc = vfs_may_delete(d.loc, x);
		mount_put(x.m);
	}
	if (rc == 0)
		rc = FS(d.loc)->ops->rmdir(FS(d.loc), d.loc.ino, d.name, d.len);
	walk_done(&d);
	return rc;
}

int vfs_unlinkat(struct vnode *dir, const char *path)
{
	struct walk_result d = { 0 };
	int rc = path_walk(dir, path, WALK_PARENT, &d);
	if (rc < 0)
		return rc;
	struct vloc x;
	uint32_t mode = 0;
	if (d.len == 0 || d.dot)
		rc = -EISDIR;
	else
		rc = lookup_last(&d, &x);
	if (rc == 0)
		rc = loc_mode(x, &mode);
	if (rc == 0 && (S_ISDIR(mode) || mount_busy_at(x)))
		rc = -EISDIR;
	if (rc == 0 && d.trailing_slash) {
		struct walk_result t = { 0 };
		rc = path_walk(dir, path, WALK_FOLLOW, &t);
		rc = rc < 0 ? rc : S_ISDIR(t.mode) ? -EISDIR : -ENOTDIR;
		walk_done(&t);
	}
	if (rc == 0 && loc_read_only(d.loc))
		rc = -EROFS;
	if (rc == 0)
		rc = vfs_may_delete(d.loc, x);
	if (rc == 0)
		rc = FS(d.loc)->ops->unlink(FS(d.loc), d.loc.ino, d.name, d.len);
	walk_done(&d);
	return rc;
}

/* The checks of rename once both parents are known; 0 or -errno. */
static int rename_check(struct walk_result *s, struct walk_result *d,
                        struct vnode *to_dir, const char *to)
{
	if (s->len == 0 || d->len == 0 || s->dot || d->dot)
		return -EBUSY;
	if (s->loc.m != d->loc.m)
		return -EXDEV;
	struct vloc src, dst;
	uint32_t mode, dmode;
	int rc = lookup_last(s, &src);
	if (rc == 0)
		rc = loc_mode(src, &mode);
	if (rc < 0)
		return rc;
	if (mount_busy_at(src))
		return -EBUSY;
	if ((s->trailing_slash || d->trailing_slash) && !S_ISDIR(mode))
		return -ENOTDIR;
	rc = lookup_last(d, &dst);
	bool replaces = rc == 0;
	if (rc == 0) {
		if (dst.ino == src.ino)
			return 1;      /* the same file: nothing to do */
		if (mount_busy_at(dst))
			return -EBUSY;
		if ((rc = loc_mode(dst, &dmode)) < 0)
			return rc;
		if (S_ISDIR(mode) && !S_ISDIR(dmode))
			return -ENOTDIR;
		if (!S_ISDIR(mode) && S_ISDIR(dmode))
			return -EISDIR;
	} else if (rc != -ENOENT) {
		return rc;
	}
	if (S_ISDIR(mode)) {
		/* Into its own subtree: the destination's way there passes it
		 * (the driver checks it too, above where a walk began). */
		struct walk_result again = { .avoid = src };
		rc = path_walk(to_dir, to, WALK_PARENT, &again);
		if (rc < 0)
			return rc;
		bool inside = again.hit_avoid;
		walk_done(&again);
		if (inside)
			return -EINVAL;
	}
	if (loc_read_only(s->loc))
		return -EROFS;
	rc = vfs_may_delete(s->loc, src);
	if (rc == 0)
		rc = vfs_may_create(d->loc);
	if (rc == 0 && replaces)
		rc = vfs_may_delete(d->loc, dst);
	if (rc == 0 && S_ISDIR(mode) && !loc_eq(s->loc, d->loc) && !vfs_is_root())
		rc = vfs_loc_permission(src, VFS_MAY_WRITE);   /* its ".." changes */
	return rc;
}

int vfs_renameat(struct vnode *from_dir, const char *from, struct vnode *to_dir, const char *to)
{
	struct walk_result s = { 0 }, d = { 0 };
	int rc = path_walk(from_dir, from, WALK_PARENT, &s);
	if (rc < 0)
		return rc;
	rc = path_walk(to_dir, to, WALK_PARENT, &d);
	if (rc < 0) {
		walk_done(&s);
		return rc;
	}
	rc = rename_check(&s, &d, to_dir, to);
	if (rc == 0)
		rc = FS(s.loc)->ops->rename(FS(s.loc), s.loc.ino, s.name, s.len,
		                            d.loc.ino, d.name, d.len);
	walk_done(&d);
	walk_done(&s);
	return rc < 0 ? rc : 0;
}

/* The driver's setattr on the file at loc, of type mode: a size change
 * under the vnode's lock. */
static int setattr_driver(struct vloc loc, uint32_t mode, const struct vfs_setattr *a)
{
	if (!(a->mask & VFS_SET_SIZE))
		return a->mask ? FS(loc)->ops->setattr(FS(loc), loc.ino, a) : 0;
	if (S_ISDIR(mode))
		return -EISDIR;
	if (!S_ISREG(mode))
		return -EINVAL;
	if (a->size > INT64_MAX)
		return -EFBIG;
	struct vnode *vn;
	int rc = vnode_get(loc, &vn);
	if (rc < 0)
		return rc;
	mutex_lock(&vn->lock);
	rc = FS(loc)->ops->setattr(FS(loc), loc.ino, a);
	mutex_unlock(&vn->lock);
	vnode_put(vn);
	return rc;
}

/* setattr on the file at loc, of type mode: the caller's rights checked, an
 * access ACL following a chmod. */
static int setattr_loc(struct vloc loc, uint32_t mode, const struct vfs_setattr *asked)
{
	if (loc_read_only(loc))
		return -EROFS;
	struct vfs_setattr a = *asked;
	int rc = vfs_may_setattr(loc, &a);
	if (rc == 0)
		rc = setattr_driver(loc, mode, &a);
	if (rc == 0 && (a.mask & VFS_SET_MODE) && !S_ISLNK(mode))
		rc = vfs_acl_chmod(loc, a.mode);
	return rc;
}

/* setattr on the file at path (follow: a final symbolic link followed). */
static int set_attr(const char *path, bool follow, const struct vfs_setattr *a)
{
	struct walk_result w = { 0 };
	int rc = path_walk(NULL, path, follow ? WALK_FOLLOW : 0, &w);
	if (rc < 0)
		return rc;
	rc = setattr_loc(w.loc, w.mode, a);
	walk_done(&w);
	return rc;
}

int vfs_node_setattr(struct vnode *vn, const struct vfs_setattr *a)
{
	uint32_t mode;
	int rc = loc_mode(vnode_loc(vn), &mode);
	return rc < 0 ? rc : setattr_loc(vnode_loc(vn), mode, a);
}

int vfs_truncate(const char *path, uint64_t size)
{
	struct vfs_setattr a = { .mask = VFS_SET_SIZE, .size = size };
	return set_attr(path, true, &a);
}

int vfs_chmod(const char *path, uint32_t mode)
{
	struct vfs_setattr a = { .mask = VFS_SET_MODE, .mode = mode & 07777 };
	return set_attr(path, true, &a);
}

static int chown_at(const char *path, bool follow, uint32_t uid, uint32_t gid)
{
	struct vfs_setattr a = { .uid = uid, .gid = gid };
	if (uid != (uint32_t)-1)
		a.mask |= VFS_SET_UID;
	if (gid != (uint32_t)-1)
		a.mask |= VFS_SET_GID;
	return set_attr(path, follow, &a);
}

static int utimens_at(const char *path, bool follow, int64_t atime_ns, int64_t mtime_ns)
{
	struct vfs_setattr a = { .atime_ns = atime_ns, .mtime_ns = mtime_ns };
	if (atime_ns != VFS_UTIME_OMIT)
		a.mask |= VFS_SET_ATIME;
	if (mtime_ns != VFS_UTIME_OMIT)
		a.mask |= VFS_SET_MTIME;
	return set_attr(path, follow, &a);
}

int vfs_chown(const char *path, uint32_t uid, uint32_t gid)
{
	return chown_at(path, true, uid, gid);
}

int vfs_lchown(const char *path, uint32_t uid, uint32_t gid)
{
	return chown_at(path, false, uid, gid);
}

int vfs_utimens(const char *path, int64_t atime_ns, int64_t mtime_ns)
{
	return utimens_at(path, true, atime_ns, mtime_ns);
}

int vfs_lutimens(const char *path, int64_t atime_ns, int64_t mtime_ns)
{
	return utimens_at(path, false, atime_ns, mtime_ns);
}

/* The calls by path are the *at calls from "/". */
int vfs_mkdir(const char *path, uint32_t mode) { return vfs_mkdirat(NULL, path, mode); }
int vfs_rmdir(const char *path) { return vfs_rmdirat(NULL, path); }
int vfs_unlink(const char *path) { return vfs_unlinkat(NULL, path); }

int vfs_mknod(const char *path, uint32_t mode, uint64_t rdev)
{
	return vfs_mknodat(NULL, path, mode, rdev);
}

int vfs_symlink(const char *target, const char *link_path)
{
	return vfs_symlinkat(target, NULL, link_path);
}

int vfs_rename(const char *from, const char *to)
{
	return vfs_renameat(NULL, from, NULL, to);
}
