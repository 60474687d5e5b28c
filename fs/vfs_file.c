/*
 * vfs_file.c: open files and the descriptor table.
 *
 * Lifecycle of a file: vfs_open resolves the path, creates or truncates as
 * asked, takes the inode's vnode and installs a struct file in the lowest
 * free descriptor. Each call on a descriptor takes a reference for its
 * duration (file_get/file_put), so a concurrent vfs_close only removes the
 * descriptor and the last reference frees the file and its vnode.
 * The position (directories: the driver's readdir cookie) is guarded by the
 * file's lock, so reads and writes on one descriptor are atomic against each
 * other; O_APPEND writes also take the vnode's lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "spinlock.h"
#include "vfs_impl.h"

#define VFS_IO_MAX    (1u << 30)    /* longest single transfer */

struct file {
	/* Set at open, then read-only. */
	struct vnode *vn;
	int flags;                  /* open flags */
	uint32_t type;              /* S_IFMT */

	int refs;                   /* guarded by fd_lock */

	struct mutex lock;
	uint64_t pos;               /* guarded by lock */
};

/* fd_lock guards fds[] and every file's refs. */
static struct spinlock fd_lock = SPINLOCK_INIT("fd_lock");
static struct file *fds[VFS_MAX_FILES];

static struct file *file_get(int fd)
{
	if (fd < 0 || fd >= VFS_MAX_FILES)
		return NULL;
	spin_lock(&fd_lock);
	struct file *f = fds[fd];
	if (f)
		f->refs++;
	spin_unlock(&fd_lock);
	return f;
}

static void file_put(struct file *f)
{
	spin_lock(&fd_lock);
	bool last = --f->refs == 0;
	spin_unlock(&fd_lock);
	if (last) {
		vnode_put(f->vn);
		kfree(f);
	}
}

static int fd_install(struct file *f)
{
	spin_lock(&fd_lock);
	int fd = 0;
	while (fd < VFS_MAX_FILES && fds[fd])
		fd++;
	if (fd < VFS_MAX_FILES)
		fds[fd] = f;
	spin_unlock(&fd_lock);
	return fd < VFS_MAX_FILES ? fd : -EMFILE;
}

static struct fs *fs_of(struct file *f) { return f->vn->m->fs; }

static bool readable(struct file *f) { return (f->flags & O_ACCMODE) != O_WRONLY; }
static bool writable(struct file *f) { return (f->flags & O_ACCMODE) != O_RDONLY; }

/* Set the size of vn under its lock. */
static int set_size(struct vnode *vn, uint64_t size)
{
	struct vfs_setattr a = { .mask = VFS_SET_SIZE, .size = size };
	if (size > INT64_MAX)
		return -EFBIG;
	mutex_lock(&vn->lock);
	int rc = vn->m->fs->ops->setattr(vn->m->fs, vn->ino, &a);
	mutex_unlock(&vn->lock);
	return rc;
}

/*
 * The path that the dangling link at the end of path points to: its target
 * if absolute, else the target put in place of path's last component.
 * kmalloc'ed into *out; 0 or -errno.
 */
static int retarget(const char *path, struct vloc link, char **out)
{
	char *b = kmalloc(VFS_PATH_MAX);
	if (!b)
		return -ENOMEM;
	size_t end = strlen(path);
	while (end > 0 && path[end - 1] == '/')
		end--;
	while (end > 0 && path[end - 1] != '/')
		end--;
	ssize_t n = link.m->fs->ops->readlink(link.m->fs, link.ino, b + end, VFS_PATH_MAX - end);
	int rc = n < 0 ? (int)n : n == 0 ? -ENOENT : (size_t)n >= VFS_PATH_MAX - end ? -ENAMETOOLONG : 0;
	if (rc == 0 && b[end] == '/') {
		memmove(b, b + end, (size_t)n);
		b[n] = '\0';
	} else if (rc == 0) {
		memcpy(b, path, end);
		b[end + (size_t)n] = '\0';
	}
	if (rc < 0)
		kfree(b);
	else
		*out = b;
	return rc;
}

/*
 * O_CREAT: find or make the last component of path (following a dangling
 * symbolic link there to create its target, as Linux does; depth counts
 * those links). On success *created tells whether the file is new; then res
 * is the new file, else the caller walks the path again.
 */
static int open_create(struct vnode *dir, const char *path, int flags, uint32_t mode,
                       struct walk_result *res, bool *created, int depth)
{
	struct walk_result d = { 0 };
	int rc = path_walk(dir, path, WALK_PARENT, &d);
	if (rc < 0)
		return rc;
	*created = false;
	for (int tries = 0; tries < 8; tries++) {
		if (d.len == 0 || d.dot) {
			rc = (flags & O_EXCL) ? -EEXIST : 0;
			break;
		}
		struct fs *fs = d.loc.m->fs;
		uint64_t ino;
		rc = fs->ops->lookup(fs, d.loc.ino, d.name, d.len, &ino);
		if (rc == 0 && !(flags & (O_EXCL | O_NOFOLLOW))) {
			struct vloc link = { d.loc.m, ino };
			struct walk_result probe = { 0 };
			uint32_t m;
			if (loc_mode(link, &m) == 0 && S_ISLNK(m) &&
			    (rc = path_walk(dir, path, WALK_FOLLOW, &probe)) == -ENOENT) {
				char *next;
				rc = depth >= VFS_SYMLOOP_MAX ? -ELOOP : retarget(path, link, &next);
				walk_done(&d);
				if (rc < 0)
					return rc;
				rc = open_create(dir, next, flags, mode, res, created, depth + 1);
				kfree(next);
				return rc;
			}
			if (rc == 0)
				walk_done(&probe);
		}
		if (rc == 0) {
			rc = (flags & O_EXCL) ? -EEXIST : 0;
			break;
		}
		if (rc != -ENOENT)
			break;
		if (d.trailing_slash) {
			rc = -EISDIR;
			break;
		}
		if (loc_read_only(d.loc)) {
			rc = -EROFS;
			break;
		}
		if ((rc = vfs_may_create(d.loc)) < 0)
			break;
		uint32_t uid, gid;
		vfs_owner(&uid, &gid);
		rc = fs->ops->mknod(fs, d.loc.ino, d.name, d.len, S_IFREG | (mode & 07777), 0,
		                    uid, gid, &ino);
		if (rc == 0)
			rc = vfs_acl_inherit(d.loc, (struct vloc){ d.loc.m, ino }, S_IFREG | (mode & 07777));
		if (rc == 0) {
			*created = true;
			*res = d;
			res->loc.ino = ino;
			res->mode = S_IFREG;
			return 0;
		}
		if (rc != -EEXIST || (flags & O_EXCL))
			break;
	}
	walk_done(&d);
	return rc;
}

/* Check the open flags against the file found (of type mode); 0 or -errno. */
static int open_check(struct vloc loc, uint32_t mode, int flags)
{
	int acc = flags & O_ACCMODE;
	if (acc == O_ACCMODE)
		return -EINVAL;
	if ((flags & O_DIRECTORY) && !S_ISDIR(mode))
		return -ENOTDIR;
	if (S_ISDIR(mode) && (acc != O_RDONLY || (flags & (O_TRUNC | O_CREAT))))
		return -EISDIR;
	if (S_ISLNK(mode))
		return -ELOOP;
	if (!S_ISDIR(mode) && !S_ISREG(mode))
		return -ENXIO;
	if ((acc != O_RDONLY || (flags & O_TRUNC)) && loc_read_only(loc))
		return -EROFS;
	unsigned want = acc == O_RDONLY ? VFS_MAY_READ : acc == O_WRONLY ? VFS_MAY_WRITE
	                                                                : VFS_MAY_READ | VFS_MAY_WRITE;
	return vfs_loc_permission(loc, want | ((flags & O_TRUNC) ? VFS_MAY_WRITE : 0));
}

/* A descriptor for the file at loc (of type mode), truncated if asked and
 * not just created. */
static int open_loc(struct vloc loc, uint32_t mode, int flags, bool created)
{
	struct file *f = kzalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	int rc = vnode_get(loc, &f->vn);
	if (rc < 0) {
		kfree(f);
		return rc;
	}
	f->flags = flags;
	f->type = mode & S_IFMT;
	f->refs = 1;
	mutex_init(&f->lock, "file");
	if (!created && (flags & O_TRUNC) && S_ISREG(mode) && writable(f))
		rc = set_size(f->vn, 0);
	if (rc == 0)
		rc = fd_install(f);
	if (rc < 0)
		file_put(f);
	return rc;
}

int vfs_openat(struct vnode *dir, const char *path, int flags, uint32_t mode)
{
	struct walk_result w = { 0 };
	bool created = false;
	int rc;
	if (flags & O_CREAT) {
		rc = open_create(dir, path, flags, mode, &w, &created, 0);
		if (rc < 0)
			return rc;
	}
	if (!created) {
		rc = path_walk(dir, path, (flags & O_NOFOLLOW) ? 0 : WALK_FOLLOW, &w);
		if (rc < 0)
			return rc;
	}
	rc = created ? 0 : open_check(w.loc, w.mode, flags);
	if (rc == 0)
		rc = open_loc(w.loc, w.mode, flags, created);
	walk_done(&w);
	return rc;
}

int vfs_open(const char *path, int flags, uint32_t mode)
{
	return vfs_openat(NULL, path, flags, mode);
}

int vfs_node_open(struct vnode *vn, int flags)
{
	if (flags & O_CREAT)
		return -EINVAL;
	uint32_t mode;
	int rc = loc_mode(vnode_loc(vn), &mode);
	if (rc == 0)
		rc = open_check(vnode_loc(vn), mode, flags);
	return rc < 0 ? rc : open_loc(vnode_loc(vn), mode, flags, false);
}

int vfs_node_of(int fd, struct vnode **out)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	vfs_node_hold(f->vn);
	*out = f->vn;
	file_put(f);
	return 0;
}

int vfs_close(int fd)
{
	if (fd < 0 || fd >= VFS_MAX_FILES)
		return -EBADF;
	spin_lock(&fd_lock);
	struct file *f = fds[fd];
	fds[fd] = NULL;
	spin_unlock(&fd_lock);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

static ssize_t do_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	if (!readable(f))
		return -EBADF;
	if (f->type == S_IFDIR)
		return -EISDIR;
	if (off > INT64_MAX)
		return -EINVAL;
	if (len > VFS_IO_MAX)
		len = VFS_IO_MAX;
	if (len == 0)
		return 0;
	return fs_of(f)->ops->read(fs_of(f), f->vn->ino, buf, len, off);
}

/* Write at off, or at the end for O_APPEND (*off is then set to it). */
static ssize_t do_write(struct file *f, const void *buf, size_t len, uint64_t *off,
                        bool append)
{
	if (!writable(f))
		return -EBADF;
	if (len > VFS_IO_MAX)
		len = VFS_IO_MAX;
	if (len == 0)
		return 0;
	struct fs *fs = fs_of(f);
	if (!append) {
		if (*off >= INT64_MAX)
			return -EFBIG;
		if (len > INT64_MAX - *off)
			len = INT64_MAX - *off;
		return fs->ops->write(fs, f->vn->ino, buf, len, *off);
	}
	mutex_lock(&f->vn->lock);
	struct vfs_stat st;
	ssize_t n = fs->ops->getattr(fs, f->vn->ino, &st);
	if (n == 0) {
		*off = st.size;
		n = fs->ops->write(fs, f->vn->ino, buf, len, st.size);
	}
	mutex_unlock(&f->vn->lock);
	return n;
}

ssize_t vfs_read(int fd, void *buf, size_t len)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	mutex_lock(&f->lock);
	ssize_t n = do_read(f, buf, len, f->pos);
	if (n > 0)
		f->pos += (uint64_t)n;
	mutex_unlock(&f->lock);
	file_put(f);
	return n;
}

ssize_t vfs_write(int fd, const void *buf, size_t len)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	mutex_lock(&f->lock);
	uint64_t off = f->pos;
	ssize_t n = do_write(f, buf, len, &off, f->flags & O_APPEND);
	if (n > 0)
		f->pos = off + (uint64_t)n;
	mutex_unlock(&f->lock);
	file_put(f);
	return n;
}

ssize_t vfs_pread(int fd, void *buf, size_t len, uint64_t off)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	ssize_t n = do_read(f, buf, len, off);
	file_put(f);
	return n;
}

ssize_t vfs_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	ssize_t n = off > INT64_MAX ? -EINVAL : do_write(f, buf, len, &off, false);
	file_put(f);
	return n;
}

int64_t vfs_seek(int fd, int64_t off, int whence)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	int64_t base = 0, rc = 0;
	mutex_lock(&f->lock);
	if (whence == SEEK_SET) {
		base = 0;
	} else if (whence == SEEK_CUR) {
		base = (int64_t)f->pos;
	} else if (whence == SEEK_END && f->type != S_IFDIR) {
		struct vfs_stat st;
		rc = fs_of(f)->ops->getattr(fs_of(f), f->vn->ino, &st);
		base = (int64_t)st.size;
	} else {
		rc = -EINVAL;
	}
	if (rc == 0) {
		if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
			rc = -EINVAL;
		else
			f->pos = (uint64_t)(rc = base + off);
	}
	mutex_unlock(&f->lock);
	file_put(f);
	return rc;
}

int vfs_fstat(int fd, struct vfs_stat *out)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	int rc = fs_of(f)->ops->getattr(fs_of(f), f->vn->ino, out);
	file_put(f);
	return rc;
}

int vfs_ftruncate(int fd, uint64_t size)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	int rc = (!writable(f) || f->type != S_IFREG) ? -EINVAL : set_size(f->vn, size);
	file_put(f);
	return rc;
}

int vfs_fsync(int fd)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	int rc = fs_of(f)->read_only ? 0 : fs_of(f)->ops->fsync(fs_of(f), f->vn->ino);
	file_put(f);
	return rc;
}

int vfs_readdir(int fd, vfs_filldir_fn fill, void *ctx)
{
	struct file *f = file_get(fd);
	if (!f)
		return -EBADF;
	int rc = -ENOTDIR;
	if (f->type == S_IFDIR) {
		mutex_lock(&f->lock);
		uint64_t cookie = f->pos;
		rc = fs_of(f)->ops->readdir(fs_of(f), f->vn->ino, &cookie, fill, ctx);
		f->pos = cookie;
		mutex_unlock(&f->lock);
	}
	file_put(f);
	return rc;
}
