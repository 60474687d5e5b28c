/*
 * ops.c: the FUSE operations (libfuse low-level API), run by the kernel
 * worker that read the request (serve.c), as the calling user.
 *
 * A node id stands for a held vnode (node.c): lookups and creations resolve
 * one name from the parent's vnode (the *at calls of vfs.h), and calls on a
 * file use its vnode, so an open file that was unlinked, or a hard link,
 * needs no path. Every change to the image comes through here (it is
 * locked), so the host may cache names, absent names, attributes and pages
 * for the whole timeout.
 *
 * There is no flush: writes are in the kernel's cache as soon as they are
 * answered, and without the operation the host stops sending FLUSH at every
 * close.
 *
 * A file handle is a VFS descriptor, with O_APPEND kept in bit 32 so writes
 * know to append; a directory handle is a struct dir_handle, the directory
 * read whole at opendir: FUSE's readdir offsets are indexes into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

#include "list.h"
#include "node.h"
#include "ops.h"
#include "spinlock.h"
#include "thread.h"
#include "vfs.h"

struct ops_settings ops_settings = { 10.0, 1u << 20, 1, false, NULL };

#define FH_APPEND (1ull << 32)

/* ---- Conversions ------------------------------------------------------------- */

/* dev_t <-> the VFS's Linux encoding (old for small numbers, new beyond). */
static uint64_t rdev_to_vfs(dev_t d)
{
	uint64_t ma = major(d), mi = minor(d);
	return (mi & 0xff) | (ma << 8) | ((mi & ~0xffull) << 12);
}

static dev_t rdev_from_vfs(uint64_t r)
{
	return makedev((r & 0xfff00) >> 8, (r & 0xff) | ((r >> 12) & 0xfff00));
}

static struct timespec ts_from_ns(int64_t ns)
{
	struct timespec t = { ns / 1000000000, ns % 1000000000 };
	if (t.tv_nsec < 0) {
		t.tv_sec--;
		t.tv_nsec += 1000000000;
	}
	return t;
}

static void stat_from_vfs(struct stat *s, const struct vfs_stat *v)
{
	memset(s, 0, sizeof(*s));
	s->st_ino = v->ino;
	s->st_mode = v->mode;
	s->st_nlink = v->nlink;
	s->st_uid = v->uid;
	s->st_gid = v->gid;
	s->st_size = (off_t)v->size;
	s->st_blocks = (blkcnt_t)v->blocks;
	s->st_blksize = v->blksize ? v->blksize : 4096;
	s->st_rdev = (S_ISCHR(v->mode) || S_ISBLK(v->mode)) ? rdev_from_vfs(v->rdev) : 0;
	s->st_atim = ts_from_ns(v->atime_ns);
	s->st_mtim = ts_from_ns(v->mtime_ns);
	s->st_ctim = ts_from_ns(v->ctime_ns);
}

static int64_t time_to_vfs(const struct timespec *t)
{
	return vfs_time_ns(t->tv_sec, t->tv_nsec);
}

/* The open flags the VFS knows; the rest (O_LARGEFILE, O_NOCTTY, O_CLOEXEC,
 * O_SYNC...) mean nothing to it here. */
static int open_flags(int flags)
{
	return flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND |
	                O_DIRECTORY | O_NOFOLLOW);
}

/* ---- Requests ------------------------------------------------------------------ */

/* The vnode of a node id; the request's caller becomes this thread's
 * identity (owner of what it creates). */
static struct vnode *begin(fuse_req_t req, fuse_ino_t ino)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct thread *self = thread_current();
	self->uid = ctx->uid;
	self->gid = ctx->gid;
	self->ngroups = 0;
	if (ctx->uid != 0) {    /* root's checks need no groups: spare the /proc read */
		gid_t groups[THREAD_NGROUPS];
		int n = fuse_req_getgroups(req, THREAD_NGROUPS, groups);
		for (int i = 0; i < n && i < THREAD_NGROUPS; i++)
			self->groups[self->ngroups++] = groups[i];
	}
	return node_vnode(ino);
}

/* How long the host may keep a name: not at all when only the VFS checks
 * permissions, else a cached name would skip the search-permission check. */
static double entry_timeout(void)
{
	return ops_settings.own_checks ? 0 : ops_settings.timeout;
}

static void reply_status(fuse_req_t req, long rc)
{
	fuse_reply_err(req, rc < 0 ? (int)-rc : 0);
}

static void reply_attr(fuse_req_t req, struct vnode *vn)
{
	struct vfs_stat vs;
	int rc = vfs_node_stat(vn, &vs);
	if (rc < 0) {
		reply_status(req, rc);
		return;
	}
	struct stat st;
	stat_from_vfs(&st, &vs);
	fuse_reply_attr(req, &st, ops_settings.timeout);
}

/* The entry for a held vnode, whose reference passes to the node table.
 * 0 or -errno (and then the reference is dropped). */
static int make_entry(struct vnode *vn, struct fuse_entry_param *e)
{
	struct vfs_stat vs;
	memset(e, 0, sizeof(*e));
	int rc = vfs_node_stat(vn, &vs);
	if (rc < 0) {
		vfs_node_put(vn);
		return rc;
	}
	stat_from_vfs(&e->attr, &vs);
	e->attr_timeout = ops_settings.timeout;
	e->entry_timeout = entry_timeout();
	e->ino = node_enter(vn);
	return e->ino ? 0 : -ENOMEM;
}

/* The host's lookup count goes up only when it gets the reply. */
static void reply_entry(fuse_req_t req, struct vnode *vn)
{
	struct fuse_entry_param e;
	int rc = make_entry(vn, &e);
	if (rc < 0)
		reply_status(req, rc);
	else if (fuse_reply_entry(req, &e) != 0)
		node_forget(e.ino, 1);
}

/* Reply with the entry for name in dir, just made by rc's call. */
static void reply_made(fuse_req_t req, long rc, struct vnode *dir, const char *name)
{
	struct vnode *vn;
	if (rc == 0)
		rc = vfs_node_at(dir, name, false, &vn);
	if (rc < 0)
		reply_status(req, rc);
	else
		reply_entry(req, vn);
}

/* ---- Names ---------------------------------------------------------------------- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vnode *dir = begin(req, parent), *vn;
	int rc = vfs_node_at(dir, name, false, &vn);
	if (rc == -ENOENT) {
		/* Cached as absent for the timeout: nobody else changes the image. */
		struct fuse_entry_param e = { .entry_timeout = entry_timeout() };
		fuse_reply_entry(req, &e);
	} else if (rc < 0) {
		reply_status(req, rc);
	} else {
		reply_entry(req, vn);
	}
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		node_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                     dev_t rdev)
{
	struct vnode *dir = begin(req, parent);
	if ((mode & S_IFMT) == 0)
		mode |= S_IFREG;
	reply_made(req, vfs_mknodat(dir, name, mode, rdev_to_vfs(rdev)), dir, name);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct vnode *dir = begin(req, parent);
	reply_made(req, vfs_mkdirat(dir, name, mode & 07777), dir, name);
}

static void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
                       const char *name)
{
	struct vnode *dir = begin(req, parent);
	reply_made(req, vfs_symlinkat(target, dir, name), dir, name);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct vnode *vn = begin(req, ino);
	int rc = vfs_node_link(vn, node_vnode(newparent), newname);
	if (rc < 0) {
		reply_status(req, rc);
		return;
	}
	vfs_node_hold(vn);
	reply_entry(req, vn);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_status(req, vfs_unlinkat(begin(req, parent), name));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	reply_status(req, vfs_rmdirat(begin(req, parent), name));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname, unsigned flags)
{
	struct vnode *from = begin(req, parent);
	/* RENAME_NOREPLACE, RENAME_EXCHANGE: the VFS has no atomic way. */
	reply_status(req, flags ? -EINVAL : vfs_renameat(from, name, node_vnode(newparent), newname));
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[VFS_PATH_MAX + 1];
	ssize_t n = vfs_node_readlink(begin(req, ino), buf, VFS_PATH_MAX);
	if (n < 0) {
		reply_status(req, n);
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

/* ---- Attributes ------------------------------------------------------------------- */

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	reply_attr(req, begin(req, ino));
}

/*
 * The set-user-ID bit, and the set-group-ID bit of a group-executable file,
 * go when a regular file changes owner, and when someone but root writes or
 * truncates it, as on Linux; a write also takes the file capability
 * (security.capability) away, whoever writes. The host leaves all that to
 * us (HANDLE_KILLPRIV and _V2, session_io.c), which spares it a GETATTR
 * before every chown and a GETXATTR before every write.
 */
static uint32_t setid_bits(uint32_t mode)
{
	if (!S_ISREG(mode))
		return 0;
	uint32_t bits = mode & S_ISUID;
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		bits |= S_ISGID;
	return bits;
}

#define CAPABILITY_XATTR "security.capability"

/* Before a write to ino by the caller of req. The host caches the mode and
 * does not expect a write to change it: told to fetch it again when it did. */
static int kill_privs_for_write(fuse_req_t req, fuse_ino_t ino)
{
	struct vnode *vn = begin(req, ino);
	struct vfs_stat st;
	int rc = 0;
	if (vfs_node_getxattr(vn, CAPABILITY_XATTR, NULL, 0) >= 0)
		rc = vfs_node_removexattr(vn, CAPABILITY_XATTR);
	if (rc < 0 || fuse_req_ctx(req)->uid == 0)
		return rc;
	rc = vfs_node_stat(vn, &st);
	if (rc < 0 || !setid_bits(st.mode))
		return rc;
	struct vfs_setattr a = { .mask = VFS_SET_MODE, .mode = st.mode & 07777 & ~setid_bits(st.mode) };
	rc = vfs_node_setattr(vn, &a);
	if (rc == 0)
		fuse_lowlevel_notify_inval_inode(ops_settings.session, ino, -1, 0);
	return rc;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
	struct vnode *vn = begin(req, ino);
	struct vfs_setattr a = { 0 };
	struct vfs_stat st;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_MODE) {
		a.mask |= VFS_SET_MODE;
		a.mode = attr->st_mode & 07777;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		a.mask |= VFS_SET_UID;
		a.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		a.mask |= VFS_SET_GID;
		a.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			reply_status(req, -EINVAL);
			return;
		}
		a.mask |= VFS_SET_SIZE;
		a.size = (uint64_t)attr->st_size;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		a.mask |= VFS_SET_ATIME;
		a.atime_ns = time_to_vfs((to_set & FUSE_SET_ATTR_ATIME_NOW) ? &now : &attr->st_atim);
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		a.mask |= VFS_SET_MTIME;
		a.mtime_ns = time_to_vfs((to_set & FUSE_SET_ATTR_MTIME_NOW) ? &now : &attr->st_mtim);
	}
	bool atime_now = !(to_set & FUSE_SET_ATTR_ATIME) || (to_set & FUSE_SET_ATTR_ATIME_NOW);
	bool mtime_now = !(to_set & FUSE_SET_ATTR_MTIME) || (to_set & FUSE_SET_ATTR_MTIME_NOW);
	if ((a.mask & (VFS_SET_ATIME | VFS_SET_MTIME)) && atime_now && mtime_now)
		a.mask |= VFS_SET_TIMES_NOW;    /* touch: a writer may, not only the owner */
	int rc = 0;
	bool chown = a.mask & (VFS_SET_UID | VFS_SET_GID);
	if (!(a.mask & VFS_SET_MODE) && (chown || (a.mask & VFS_SET_SIZE))) {
		rc = vfs_node_stat(vn, &st);
		bool killed = chown || fuse_req_ctx(req)->uid != 0;
		if (rc == 0 && killed && setid_bits(st.mode)) {
			a.mask |= VFS_SET_MODE;
			a.mode = st.mode & 07777 & ~setid_bits(st.mode);
		}
	}
	if (rc == 0)
		rc = vfs_node_setattr(vn, &a);
	if (rc < 0)
		reply_status(req, rc);
	else
		reply_attr(req, vn);
}

/* access(2): the VFS's own check (mode bits, access ACL), as every other call. */
static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	reply_status(req, vfs_node_access(begin(req, ino), mask & (R_OK | W_OK | X_OK)));
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct vfs_statfs s;
	begin(req, ino);
	int rc = vfs_statfs("/", &s);
	if (rc < 0) {
		reply_status(req, rc);
		return;
	}
	struct statvfs out = {
		.f_bsize = s.bsize, .f_frsize = s.bsize,
		.f_blocks = s.blocks, .f_bfree = s.bfree, .f_bavail = s.bavail,
		.f_files = s.files, .f_ffree = s.ffree, .f_favail = s.ffree,
		.f_namemax = s.namemax, .f_flag = s.read_only ? ST_RDONLY : 0,
	};
	fuse_reply_statfs(req, &out);
}

/* ---- Files ----------------------------------------------------------------------- */

static int fh_fd(const struct fuse_file_info *fi) { return (int)(fi->fh & 0xffffffffu); }

/*
 * A write-only descriptor writes around the host's page cache (direct_io):
 * through the cache, the host cuts a write that starts or ends inside a
 * page into a request per partial page, so tar's unaligned 10 KiB writes
 * cost 5 requests for 3 writes, and it asks for security.capability
 * before the first one; direct, each write is one request and we clear
 * the capability ourselves (kill_privs_for_write). Nothing is lost: such
 * a descriptor can neither read nor be mapped, and the host drops the
 * written range from other descriptors' cached pages and mappings.
 */
static void file_opened(struct fuse_file_info *fi, int fd, int flags)
{
	fi->fh = (uint64_t)fd | ((flags & O_APPEND) ? FH_APPEND : 0);
	fi->keep_cache = ops_settings.kernel_cache;
	fi->direct_io = (flags & O_ACCMODE) == O_WRONLY;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int flags = open_flags(fi->flags) & ~O_CREAT;
	int fd = vfs_node_open(begin(req, ino), flags);
	if (fd < 0) {
		reply_status(req, fd);
		return;
	}
	file_opened(fi, fd, flags);
	if (fuse_reply_open(req, fi) != 0)
		vfs_close(fd);          /* the open was interrupted */
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
	int flags = open_flags(fi->flags) | O_CREAT;
	int fd = vfs_openat(begin(req, parent), name, flags, mode & 07777);
	struct vnode *vn;
	int rc = fd < 0 ? fd : vfs_node_of(fd, &vn);
	struct fuse_entry_param e;
	if (rc == 0)
		rc = make_entry(vn, &e);
	if (rc < 0) {
		if (fd >= 0)
			vfs_close(fd);
		reply_status(req, rc);
		return;
	}
	file_opened(fi, fd, flags);
	if (fuse_reply_create(req, &e, fi) != 0) {
		vfs_close(fd);
		node_forget(e.ino, 1);
	}
}

/* Read len bytes at off, fewer only at the end of the file; the count, or
 * -errno if nothing was read. */
static ssize_t read_full(int fd, char *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = vfs_pread(fd, buf + done, len - done, off + done);
		if (n <= 0) {
			if (n < 0 && done == 0)
				return n;
			break;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Write len bytes at off (append: at the end); the count, or -errno if
 * nothing was written. */
static ssize_t write_full(int fd, const char *buf, size_t len, uint64_t off, bool append)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = append ? vfs_write(fd, buf + done, len - done)
		                   : vfs_pwrite(fd, buf + done, len - done, off + done);
		if (n <= 0) {
			if (n < 0 && done == 0)
				return n;
			break;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	char *buf = malloc(size ? size : 1);
	ssize_t n = !buf ? -ENOMEM : off < 0 ? -EINVAL : read_full(fh_fd(fi), buf, size, (uint64_t)off);
	if (n < 0)
		reply_status(req, n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
	ssize_t n = off < 0 ? -EINVAL : kill_privs_for_write(req, ino);
	if (n == 0)
		n = write_full(fh_fd(fi), buf, size, (uint64_t)off, fi->fh & FH_APPEND);
	if (n < 0)
		reply_status(req, n);
	else
		fuse_reply_write(req, (size_t)n);
}

#define COPY_CHUNK (1u << 20)
#define COPY_MAX (64u << 20)        /* per request: the caller asks again */

/* cp copies a file in one request instead of a read and a write. */
static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                               struct fuse_file_info *fi_in, fuse_ino_t ino_out,
                               off_t off_out, struct fuse_file_info *fi_out, size_t len,
                               int flags)
{
	char *buf = malloc(COPY_CHUNK);
	ssize_t rc = !buf ? -ENOMEM : (off_in < 0 || off_out < 0 || flags) ? -EINVAL
	             : kill_privs_for_write(req, ino_out);
	size_t done = 0;
	if (len > COPY_MAX)
		len = COPY_MAX;
	while (rc >= 0 && done < len) {
		size_t chunk = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
		rc = read_full(fh_fd(fi_in), buf, chunk, (uint64_t)off_in + done);
		if (rc > 0)
			rc = write_full(fh_fd(fi_out), buf, (size_t)rc, (uint64_t)off_out + done, false);
		if (rc <= 0)
			break;
		done += (size_t)rc;
		if ((size_t)rc < chunk)
			break;              /* the end of the source, or a short write */
	}
	free(buf);
	if (done == 0 && rc < 0)
		reply_status(req, rc);
	else
		fuse_reply_write(req, done);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	reply_status(req, vfs_close(fh_fd(fi)));
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	reply_status(req, vfs_fsync(fh_fd(fi)));
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
	fuse_reply_err(req, EOPNOTSUPP);
}

/* ---- Directories -------------------------------------------------------------- */

struct dirent_rec {
	uint64_t ino;
	unsigned type;
	size_t name_off;
};

struct dir_handle {
	struct list link;           /* in open_dirs, under dirs_lock */
	int fd;
	struct dirent_rec *ents;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	bool nomem;
};

static struct spinlock dirs_lock = SPINLOCK_INIT("fuse_dirs");
static struct list open_dirs = LIST_INIT(open_dirs);    /* guarded by dirs_lock */

static int collect_one(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct dir_handle *d = ctx;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct dirent_rec *e = realloc(d->ents, cap * sizeof(*e));
		if (!e)
			goto nomem;
		d->ents = e;
		d->cap = cap;
	}
	if (d->names_len + len + 1 > d->names_cap) {
		size_t cap = d->names_cap ? 2 * d->names_cap : 4096;
		while (cap < d->names_len + len + 1)
			cap *= 2;
		char *p = realloc(d->names, cap);
		if (!p)
			goto nomem;
		d->names = p;
		d->names_cap = cap;
	}
	memcpy(d->names + d->names_len, name, len);
	d->names[d->names_len + len] = '\0';
	d->ents[d->n++] = (struct dirent_rec){ ino, type, d->names_len };
	d->names_len += len + 1;
	return 0;
nomem:
	d->nomem = true;
	return 1;
}

static void dir_free(struct dir_handle *d)
{
	vfs_close(d->fd);
	free(d->ents);
	free(d->names);
	free(d);
}

/* (Re)read the whole directory from its start. */
static int dir_fill(struct dir_handle *d)
{
	d->n = d->names_len = 0;
	d->nomem = false;
	int64_t rc = vfs_seek(d->fd, 0, SEEK_SET);
	if (rc == 0)
		rc = vfs_readdir(d->fd, collect_one, d);
	return rc < 0 ? (int)rc : d->nomem ? -ENOMEM : 0;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *d = calloc(1, sizeof(*d));
	if (!d) {
		reply_status(req, -ENOMEM);
		return;
	}
	d->fd = vfs_node_open(begin(req, ino), O_RDONLY | O_DIRECTORY);
	int rc = d->fd < 0 ? d->fd : dir_fill(d);
	if (rc < 0) {
		if (d->fd >= 0)
			dir_free(d);
		else
			free(d);
		reply_status(req, rc);
		return;
	}
	spin_lock(&dirs_lock);
	list_push_back(&open_dirs, &d->link);
	spin_unlock(&dirs_lock);
	fi->fh = (uint64_t)(uintptr_t)d;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	if (fuse_reply_open(req, fi) != 0) {
		spin_lock(&dirs_lock);
		list_remove(&d->link);
		spin_unlock(&dirs_lock);
		dir_free(d);
	}
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* READDIR and READDIRPLUS: entries from index off on, as many as fit. */
static void read_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi, bool plus)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	struct vnode *dir = begin(req, ino);
	int rc = off == 0 ? dir_fill(d) : 0;
	char *buf = rc == 0 ? malloc(size) : NULL;
	if (!buf) {
		reply_status(req, rc < 0 ? rc : -ENOMEM);
		return;
	}
	size_t used = 0;
	for (size_t i = off < 0 ? d->n : (size_t)off; i < d->n; i++) {
		const char *name = d->names + d->ents[i].name_off;
		size_t n;
		if (!plus) {
			struct stat st = { .st_ino = d->ents[i].ino, .st_mode = d->ents[i].type << 12 };
			n = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)i + 1);
		} else {
			/* Each entry but "." and ".." is a lookup the host counts. */
			struct fuse_entry_param e = { .attr.st_ino = d->ents[i].ino,
			                              .attr.st_mode = d->ents[i].type << 12 };
			struct vnode *vn;
			bool entered = !is_dot_or_dotdot(name) &&
			               vfs_node_at(dir, name, false, &vn) == 0 &&
			               make_entry(vn, &e) == 0;
			n = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, (off_t)i + 1);
			if (entered && n > size - used)
				node_forget(e.ino, 1);
		}
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	read_dir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
	read_dir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	spin_lock(&dirs_lock);
	list_remove(&d->link);
	spin_unlock(&dirs_lock);
	dir_free(d);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                        struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	reply_status(req, vfs_fsync(d->fd));
}

/* ---- Extended attributes ------------------------------------------------------ */

/* Answer a getxattr or listxattr: size 0 asks for the length. */
static void reply_xattr(fuse_req_t req, ssize_t len, const char *buf, size_t size)
{
	if (len < 0)
		reply_status(req, len);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)len);
	else
		fuse_reply_buf(req, buf, (size_t)len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct vnode *vn = begin(req, ino);
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		reply_status(req, -ENOMEM);
		return;
	}
	reply_xattr(req, vfs_node_getxattr(vn, name, buf, size), buf, size);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct vnode *vn = begin(req, ino);
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		reply_status(req, -ENOMEM);
		return;
	}
	reply_xattr(req, vfs_node_listxattr(vn, buf, size), buf, size);
	free(buf);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
	struct vnode *vn = begin(req, ino);
	int f = ((flags & XATTR_CREATE) ? VFS_XATTR_CREATE : 0) |
	        ((flags & XATTR_REPLACE) ? VFS_XATTR_REPLACE : 0);
	reply_status(req, vfs_node_setxattr(vn, name, value, size, f));
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	reply_status(req, vfs_node_removexattr(begin(req, ino), name));
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	if (ops_settings.max_write)
		conn->max_write = ops_settings.max_write;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	/* HANDLE_KILLPRIV and _V2: session_io.c (libfuse 3.14 sends neither). */
}

const struct fuse_lowlevel_ops torofuse_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.access = op_access,
	.create = op_create,
	.fallocate = op_fallocate,
	.getxattr = op_getxattr,
	.setxattr = op_setxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.copy_file_range = op_copy_file_range,
};

void ops_close_all(void)
{
	for (;;) {
		spin_lock(&dirs_lock);
		struct list *l = list_pop_front(&open_dirs);
		spin_unlock(&dirs_lock);
		if (!l)
			break;
		dir_free(list_entry(l, struct dir_handle, link));
	}
	for (int fd = 0; fd < VFS_MAX_FILES; fd++)
		vfs_close(fd);          /* -EBADF for the descriptors not open */
}
