/*
 * vfs.c: the calls of vfs.h that work by path on the namespace: stat,
 * mkdir, mknod, rmdir, unlink, rename, link, symlink, readlink, truncate,
 * chmod, chown, utimens. Each walks the path (vfs_path.c), applies the
 * checks POSIX puts before the file system (read-only mounts, mount points,
 * "." and "..", trailing slashes, crossing mounts) and calls the driver.
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
	int rc = path_walk(path, WALK_FOLLOW, &w);
	if (rc < 0)
		return rc;
	rc = FS(w.loc)->ops->getattr(FS(w.loc), w.loc.ino, out);
	walk_done(&w);
	return rc;
}

int vfs_lstat(const char *path, struct vfs_stat *out)
{
	struct walk_result w = { 0 };
	int rc = path_walk(path, 0, &w);
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
static int walk_for_create(const char *path, bool allow_slash, struct walk_result *d)
{
	int rc = path_walk(path, WALK_PARENT, d);
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
	if (rc < 0)
		walk_done(d);
	return rc;
}

int vfs_mkdir(const char *path, uint32_t mode)
{
	struct walk_result d = { 0 };
	int rc = walk_for_create(path, true, &d);
	if (rc < 0)
		return rc;
	uint32_t uid, gid;
	uint64_t ino;
	vfs_owner(&uid, &gid);
	rc = FS(d.loc)->ops->mkdir(FS(d.loc), d.loc.ino, d.name, d.len,
	                           S_IFDIR | (mode & 07777), uid, gid, &ino);
	walk_done(&d);
	return rc;
}

int vfs_mknod(const char *path, uint32_t mode, uint64_t rdev)
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
	int rc = walk_for_create(path, false, &d);
	if (rc < 0)
		return rc;
	uint32_t uid, gid;
	uint64_t ino;
	vfs_owner(&uid, &gid);
	rc = FS(d.loc)->ops->mknod(FS(d.loc), d.loc.ino, d.name, d.len, mode & (S_IFMT | 07777),
	                           rdev, uid, gid, &ino);
	walk_done(&d);
	return rc;
}

int vfs_symlink(const char *target, const char *link_path)
{
	if (!target)
		return -EFAULT;
	size_t tlen = strnlen(target, VFS_PATH_MAX);
	if (tlen == 0)
		return -ENOENT;
	if (tlen >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	struct walk_result d = { 0 };
	int rc = walk_for_create(link_path, false, &d);
	if (rc < 0)
		return rc;
	uint32_t uid, gid;
	uint64_t ino;
	vfs_owner(&uid, &gid);
	rc = FS(d.loc)->ops->symlink(FS(d.loc), d.loc.ino, d.name, d.len, target, uid, gid, &ino);
	walk_done(&d);
	return rc;
}

int vfs_link(const char *existing, const char *new_path)
{
	struct walk_result s = { 0 }, d = { 0 };
	int rc = path_walk(existing, 0, &s);
	if (rc < 0)
		return rc;
	if (S_ISDIR(s.mode)) {
		rc = -EPERM;
	} else {
		rc = walk_for_create(new_path, false, &d);
		if (rc == 0) {
			if (d.loc.m != s.loc.m)
				rc = -EXDEV;
			else
				rc = FS(d.loc)->ops->link(FS(d.loc), s.loc.ino, d.loc.ino, d.name, d.len);
			walk_done(&d);
		}
	}
	walk_done(&s);
	return rc;
}

ssize_t vfs_readlink(const char *path, char *buf, size_t size)
{
	struct walk_result w = { 0 };
	int rc = path_walk(path, 0, &w);
	if (rc < 0)
		return rc;
	ssize_t n = -EINVAL;
	if (S_ISLNK(w.mode) && size > 0) {
		n = FS(w.loc)->ops->readlink(FS(w.loc), w.loc.ino, buf, size);
		if (n > (ssize_t)size)
			n = (ssize_t)size;
	}
	walk_done(&w);
	return n;
}

int vfs_rmdir(const char *path)
{
	struct walk_result d = { 0 };
	int rc = path_walk(path, WALK_PARENT, &d);
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
		mount_put(x.m);
	}
	if (rc == 0)
		rc = FS(d.loc)->ops->rmdir(FS(d.loc), d.loc.ino, d.name, d.len);
	walk_done(&d);
	return rc;
}

int vfs_unlink(const char *path)
{
	struct walk_result d = { 0 };
	int rc = path_walk(path, WALK_PARENT, &d);
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
		struct vfs_stat st;
		rc = vfs_stat(path, &st);
		rc = rc < 0 ? rc : S_ISDIR(st.mode) ? -EISDIR : -ENOTDIR;
	}
	if (rc == 0 && loc_read_only(d.loc))
		rc = -EROFS;
	if (rc == 0)
		rc = FS(d.loc)->ops->unlink(FS(d.loc), d.loc.ino, d.name, d.len);
	walk_done(&d);
	return rc;
}

/* The checks of rename once both parents are known; 0 or -errno. */
static int rename_check(struct walk_result *s, struct walk_result *d, const char *to)
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
		/* Into its own subtree: the destination's way from "/" passes it. */
		struct walk_result again = { .avoid = src };
		rc = path_walk(to, WALK_PARENT, &again);
		if (rc < 0)
			return rc;
		bool inside = again.hit_avoid;
		walk_done(&again);
		if (inside)
			return -EINVAL;
	}
	if (loc_read_only(s->loc))
		return -EROFS;
	return 0;
}

int vfs_rename(const char *from, const char *to)
{
	struct walk_result s = { 0 }, d = { 0 };
	int rc = path_walk(from, WALK_PARENT, &s);
	if (rc < 0)
		return rc;
	rc = path_walk(to, WALK_PARENT, &d);
	if (rc < 0) {
		walk_done(&s);
		return rc;
	}
	rc = rename_check(&s, &d, to);
	if (rc == 0)
		rc = FS(s.loc)->ops->rename(FS(s.loc), s.loc.ino, s.name, s.len,
		                            d.loc.ino, d.name, d.len);
	walk_done(&d);
	walk_done(&s);
	return rc < 0 ? rc : 0;
}

/* setattr on the file at path (follow: a final symbolic link followed). */
static int set_attr(const char *path, bool follow, struct vfs_setattr *a)
{
	struct walk_result w = { 0 };
	int rc = path_walk(path, follow ? WALK_FOLLOW : 0, &w);
	if (rc < 0)
		return rc;
	if (loc_read_only(w.loc)) {
		rc = -EROFS;
	} else if (!(a->mask & VFS_SET_SIZE)) {
		rc = a->mask ? FS(w.loc)->ops->setattr(FS(w.loc), w.loc.ino, a) : 0;
	} else if (S_ISDIR(w.mode)) {
		rc = -EISDIR;
	} else if (!S_ISREG(w.mode)) {
		rc = -EINVAL;
	} else if (a->size > INT64_MAX) {
		rc = -EFBIG;
	} else {
		struct vnode *vn;
		rc = vnode_get(w.loc, &vn);
		if (rc == 0) {
			mutex_lock(&vn->lock);
			rc = FS(w.loc)->ops->setattr(FS(w.loc), w.loc.ino, a);
			mutex_unlock(&vn->lock);
			vnode_put(vn);
		}
	}
	walk_done(&w);
	return rc;
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
