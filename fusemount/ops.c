/*
 * ops.c: the FUSE operations (libfuse high-level API: calls by path).
 *
 * Each operation runs on a libfuse host thread: it packs its arguments into
 * a struct op on its stack, and gate_call() runs the matching k_* function
 * in a kernel worker thread as the calling user (fuse_get_context). The k_*
 * functions are the only code here that runs in the kernel; they make VFS
 * calls and touch nothing of libfuse's.
 *
 * A FUSE file handle (fi->fh) is a VFS descriptor; calls on open files
 * (read, write, fsync, ftruncate, fstat) use it and get no path
 * (nullpath_ok). fds[] remembers which descriptors FUSE holds, their open
 * flags and inode, so O_APPEND writes go through vfs_write, hard links'
 * other names are invalidated after a change (alias.c), and descriptors left
 * open when the connection ends are closed before the unmount.
 *
 * Requests saved: libfuse follows every create, mkdir, mknod, symlink, link
 * and setattr with a getattr of the same path; the operation's own kernel
 * call fetches those attributes (stash). A release is not waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "alias.h"
#include "attrcache.h"
#include "gate.h"
#include "ops.h"
#include "vfs.h"

struct ops_settings ops_settings = { 10.0, 1u << 20, 1 };

/* Arguments of one operation, and what it returns besides its status. */
struct op {
	const char *path, *path2;
	int fd, flags;
	uint32_t mode, uid, gid;
	uint64_t size, off, rdev;
	int64_t atime, mtime;
	char *buf;
	const char *cbuf;
	size_t len;
	struct vfs_stat *st;
	struct vfs_statfs *sfs;
	void *fill_buf;             /* readdir: struct dir_list */
	/* k_then_stat: run inner, then stat stat_path (or fstat stat_fd) */
	long (*inner)(void *);
	const char *stat_path;
	int stat_fd;
	struct vfs_stat after;
	int after_rc;
};

/*
 * libfuse follows each create, mkdir, mknod, symlink, link and setattr
 * with a getattr of the same path, in the same thread. The operation's own
 * kernel call fetches those attributes, and the thread keeps them here for
 * that getattr alone: every other call clears them.
 */
static __thread struct {
	bool valid;
	struct vfs_stat st;
	char path[VFS_PATH_MAX + 1];
} stash;

static void stash_set(const char *path, const struct vfs_stat *st)
{
	size_t n = strlen(path);
	if (n > VFS_PATH_MAX)
		return;
	memcpy(stash.path, path, n + 1);
	stash.st = *st;
	stash.valid = true;
}

static bool stash_take(const char *path, struct vfs_stat *st)
{
	if (!stash.valid || !path || strcmp(stash.path, path) != 0) {
		stash.valid = false;
		return false;
	}
	stash.valid = false;
	*st = stash.st;
	return true;
}

static long k_then_stat(void *a)
{
	struct op *o = a;
	long rc = o->inner(a);
	if (rc >= 0)
		o->after_rc = o->stat_path ? vfs_lstat(o->stat_path, &o->after)
		                           : vfs_fstat(o->stat_fd, &o->after);
	return rc;
};

static long k_lstat(void *a);
static long k_stat(void *a);
static long k_fstat(void *a);
static long k_readlink(void *a);
static long k_open(void *a);
static long k_read(void *a);
static long k_readdir(void *a);
static long k_statfs(void *a);
static long k_fsync(void *a);

/* Calls that change nothing another name could have cached. */
static bool read_only_call(long (*fn)(void *))
{
	return fn == k_lstat || fn == k_stat || fn == k_fstat || fn == k_readlink ||
	       fn == k_open || fn == k_read || fn == k_readdir || fn == k_statfs ||
	       fn == k_fsync;
}

static long call(long (*fn)(void *), struct op *o)
{
	struct fuse_context *ctx = fuse_get_context();
	uint32_t uid = ctx ? ctx->uid : 0, gid = ctx ? ctx->gid : 0;
	stash.valid = false;
	bool changes = !read_only_call(fn);
	if (changes)
		attrcache_changed();
	long rc = gate_call(fn, o, uid, gid);
	if (changes)
		attrcache_changed();
	return rc;
}

/* call fn, then keep the attributes of stat_path (NULL: of o->stat_fd) for
 * libfuse's getattr that comes next. */
static long call_stat(long (*fn)(void *), struct op *o, const char *stat_path)
{
	o->inner = fn;
	o->stat_path = stat_path;
	o->after_rc = -1;
	long rc = call(k_then_stat, o);
	if (rc >= 0 && o->after_rc == 0 && stat_path)
		stash_set(stat_path, &o->after);
	return rc;
}

/* ---- Open descriptors ------------------------------------------------------ */

#define MAX_FDS 4096                /* the VFS's descriptor table */

static pthread_mutex_t fds_lock = PTHREAD_MUTEX_INITIALIZER;
static int fd_flags[MAX_FDS];       /* guarded by fds_lock; -1: not ours */
static uint64_t fd_ino[MAX_FDS];    /* guarded by fds_lock; 0: not known */
static bool fd_changed[MAX_FDS];    /* guarded by fds_lock: written since the last flush */
static char *fd_path[MAX_FDS];      /* guarded by fds_lock: a directory's path at opendir */
static bool fds_ready;

static void fd_track(int fd, int flags, uint64_t ino)
{
	if (fd < 0 || fd >= MAX_FDS)
		return;
	pthread_mutex_lock(&fds_lock);
	if (!fds_ready) {
		for (int i = 0; i < MAX_FDS; i++)
			fd_flags[i] = -1;
		fds_ready = true;
	}
	fd_flags[fd] = flags;
	fd_ino[fd] = ino;
	fd_changed[fd] = false;
	pthread_mutex_unlock(&fds_lock);
}

static void fd_untrack(int fd)
{
	if (fd < 0 || fd >= MAX_FDS)
		return;
	pthread_mutex_lock(&fds_lock);
	fd_flags[fd] = -1;
	free(fd_path[fd]);
	fd_path[fd] = NULL;
	pthread_mutex_unlock(&fds_lock);
}

static void fd_set_path(int fd, const char *path)
{
	if (fd < 0 || fd >= MAX_FDS || !path)
		return;
	char *p = strdup(path);
	pthread_mutex_lock(&fds_lock);
	free(fd_path[fd]);
	fd_path[fd] = p;
	pthread_mutex_unlock(&fds_lock);
}

/* A copy of the path directory fd was opened as (the caller frees it). */
static char *fd_dir_path(int fd)
{
	if (fd < 0 || fd >= MAX_FDS)
		return NULL;
	pthread_mutex_lock(&fds_lock);
	char *p = fd_path[fd] ? strdup(fd_path[fd]) : NULL;
	pthread_mutex_unlock(&fds_lock);
	return p;
}

/* fd_changed_take: fd's inode if it was written or truncated since the last
 * call (then its other names are invalidated), else 0. */
static uint64_t fd_changed_take(int fd)
{
	uint64_t ino = 0;
	if (fd < 0 || fd >= MAX_FDS)
		return 0;
	pthread_mutex_lock(&fds_lock);
	if (fds_ready && fd_flags[fd] >= 0 && fd_changed[fd]) {
		ino = fd_ino[fd];
		fd_changed[fd] = false;
	}
	pthread_mutex_unlock(&fds_lock);
	return ino;
}

static void fd_mark_changed(int fd)
{
	if (fd < 0 || fd >= MAX_FDS)
		return;
	pthread_mutex_lock(&fds_lock);
	if (fds_ready && fd_flags[fd] >= 0)
		fd_changed[fd] = true;
	pthread_mutex_unlock(&fds_lock);
}

/* fd_info: is fd an O_APPEND descriptor, and its inode if known. */
static bool fd_info(int fd, uint64_t *ino)
{
	*ino = 0;
	if (fd < 0 || fd >= MAX_FDS)
		return false;
	pthread_mutex_lock(&fds_lock);
	bool append = fds_ready && fd_flags[fd] >= 0 && (fd_flags[fd] & O_APPEND);
	if (fds_ready && fd_flags[fd] >= 0)
		*ino = fd_ino[fd];
	pthread_mutex_unlock(&fds_lock);
	return append;
}

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
	s->st_atim.tv_sec = v->atime_ns / 1000000000;
	s->st_atim.tv_nsec = v->atime_ns % 1000000000;
	s->st_mtim.tv_sec = v->mtime_ns / 1000000000;
	s->st_mtim.tv_nsec = v->mtime_ns % 1000000000;
	s->st_ctim.tv_sec = v->ctime_ns / 1000000000;
	s->st_ctim.tv_nsec = v->ctime_ns % 1000000000;
	if (v->atime_ns < 0 && s->st_atim.tv_nsec) { s->st_atim.tv_sec--; s->st_atim.tv_nsec += 1000000000; }
	if (v->mtime_ns < 0 && s->st_mtim.tv_nsec) { s->st_mtim.tv_sec--; s->st_mtim.tv_nsec += 1000000000; }
	if (v->ctime_ns < 0 && s->st_ctim.tv_nsec) { s->st_ctim.tv_sec--; s->st_ctim.tv_nsec += 1000000000; }
}

static int64_t time_to_vfs(const struct timespec *t)
{
	if (t->tv_nsec == UTIME_OMIT)
		return VFS_UTIME_OMIT;
	struct timespec now;
	if (t->tv_nsec == UTIME_NOW) {
		clock_gettime(CLOCK_REALTIME, &now);
		t = &now;
	}
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* The open flags the VFS knows; the rest (O_LARGEFILE, O_NOCTTY, O_CLOEXEC,
 * O_SYNC...) mean nothing to it here. */
static int open_flags(int flags)
{
	return flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND |
	                O_DIRECTORY | O_NOFOLLOW);
}

/* ---- Kernel side --------------------------------------------------------------- */

static long k_lstat(void *a) { struct op *o = a; return vfs_lstat(o->path, o->st); }
static long k_stat(void *a) { struct op *o = a; return vfs_stat(o->path, o->st); }
static long k_fstat(void *a) { struct op *o = a; return vfs_fstat(o->fd, o->st); }
static long k_readlink(void *a) { struct op *o = a; return vfs_readlink(o->path, o->buf, o->len); }
static long k_mknod(void *a) { struct op *o = a; return vfs_mknod(o->path, o->mode, o->rdev); }
static long k_mkdir(void *a) { struct op *o = a; return vfs_mkdir(o->path, o->mode); }
static long k_unlink(void *a) { struct op *o = a; return vfs_unlink(o->path); }
static long k_rmdir(void *a) { struct op *o = a; return vfs_rmdir(o->path); }
static long k_symlink(void *a) { struct op *o = a; return vfs_symlink(o->path, o->path2); }
static long k_rename(void *a) { struct op *o = a; return vfs_rename(o->path, o->path2); }
static long k_link(void *a) { struct op *o = a; return vfs_link(o->path, o->path2); }
static long k_chmod(void *a) { struct op *o = a; return vfs_chmod(o->path, o->mode); }
static long k_chown(void *a) { struct op *o = a; return vfs_lchown(o->path, o->uid, o->gid); }
static long k_truncate(void *a) { struct op *o = a; return vfs_truncate(o->path, o->size); }
static long k_ftruncate(void *a) { struct op *o = a; return vfs_ftruncate(o->fd, o->size); }
static long k_open(void *a) { struct op *o = a; return vfs_open(o->path, o->flags, o->mode); }

/* Open for writing, and say which inode it is (for alias.c). */
static long k_open_stat(void *a)
{
	struct op *o = a;
	int fd = vfs_open(o->path, o->flags, o->mode);
	if (fd >= 0 && vfs_fstat(fd, o->st) < 0)
		o->st->ino = 0;
	return fd;
}
static long k_close(void *a) { struct op *o = a; return vfs_close(o->fd); }
static long k_fsync(void *a) { struct op *o = a; return vfs_fsync(o->fd); }
static long k_statfs(void *a) { struct op *o = a; return vfs_statfs(o->path, o->sfs); }
static long k_utimens(void *a) { struct op *o = a; return vfs_lutimens(o->path, o->atime, o->mtime); }

/* Read len bytes at off, fewer only at the end of the file. */
static long k_read(void *a)
{
	struct op *o = a;
	size_t done = 0;
	while (done < o->len) {
		ssize_t n = vfs_pread(o->fd, o->buf + done, o->len - done, o->off + done);
		if (n < 0)
			return done ? (long)done : n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (long)done;
}

static long k_write(void *a)
{
	struct op *o = a;
	size_t done = 0;
	while (done < o->len) {
		ssize_t n = o->flags & O_APPEND
		            ? vfs_write(o->fd, o->cbuf + done, o->len - done)
		            : vfs_pwrite(o->fd, o->cbuf + done, o->len - done, o->off + done);
		if (n < 0)
			return done ? (long)done : n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (long)done;
}

/* A directory read whole by a kernel worker, for the host thread to hand
 * to libfuse's filler: names packed one after the other. */
struct dirent_rec {
	uint64_t ino;
	unsigned type;
	size_t name_off, len;
};

struct dir_list {
	struct dirent_rec *ents;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	bool nomem;
	/* READDIRPLUS: the directory's path, and each entry's attributes */
	const char *dir_path;
	struct vfs_stat *st;        /* d.n of them, or NULL */
	bool *have;
};

static int collect_one(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct dir_list *d = ctx;
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
	d->ents[d->n++] = (struct dirent_rec){ ino, type, d->names_len, len };
	d->names_len += len + 1;
	return 0;
nomem:
	d->nomem = true;
	return 1;
}

/* The whole directory from its start, in one go (libfuse keeps it). */
static long k_readdir(void *a)
{
	struct op *o = a;
	int64_t rc = vfs_seek(o->fd, 0, SEEK_SET);
	if (rc < 0)
		return rc;
	struct dir_list *d = o->fill_buf;
	rc = vfs_readdir(o->fd, collect_one, d);
	if (rc == 0 && d->nomem)
		rc = -ENOMEM;
	if (rc < 0 || !d->dir_path || d->n == 0)
		return rc;
	/* READDIRPLUS: look every entry up now, in this one call. */
	size_t dlen = strlen(d->dir_path);
	char *path = malloc(dlen + VFS_NAME_MAX + 2);
	d->st = malloc(d->n * sizeof(*d->st));
	d->have = calloc(d->n, sizeof(*d->have));
	if (!path || !d->st || !d->have) {
		free(path);
		return 0;               /* no bulk attributes: libfuse asks one by one */
	}
	memcpy(path, d->dir_path, dlen);
	if (dlen == 0 || path[dlen - 1] != '/')
		path[dlen++] = '/';
	for (size_t i = 0; i < d->n; i++) {
		const char *name = d->names + d->ents[i].name_off;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		memcpy(path + dlen, name, d->ents[i].len + 1);
		d->have[i] = vfs_lstat(path, &d->st[i]) == 0;
	}
	free(path);
	return 0;
}

/* ---- The operations ------------------------------------------------------------- */

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct vfs_stat vs;
	struct op o = { .path = path, .st = &vs };
	long rc;
	if (stash_take(path, &vs) || (!fi && attrcache_take(path, &vs))) {
		rc = 0;
	} else if (fi) {
		o.fd = (int)fi->fh;
		rc = call(k_fstat, &o);
	} else {
		rc = call(k_lstat, &o);
	}
	if (rc == 0) {
		stat_from_vfs(st, &vs);
		alias_seen(path, vs.ino, vs.mode, vs.nlink);
	}
	return (int)rc;
}

static int op_readlink(const char *path, char *buf, size_t size)
{
	if (size == 0)
		return -EINVAL;
	struct op o = { .path = path, .buf = buf, .len = size - 1 };
	long n = call(k_readlink, &o);
	if (n < 0)
		return (int)n;
	buf[(size_t)n < size - 1 ? (size_t)n : size - 1] = '\0';
	return 0;
}

static int op_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct op o = { .path = path, .mode = mode, .rdev = rdev_to_vfs(rdev) };
	if ((mode & S_IFMT) == 0)
		o.mode |= S_IFREG;
	return (int)call_stat(k_mknod, &o, path);
}

static int op_mkdir(const char *path, mode_t mode)
{
	struct op o = { .path = path, .mode = mode & 07777 };
	return (int)call_stat(k_mkdir, &o, path);
}

static int op_unlink(const char *path)
{
	struct op o = { .path = path };
	int rc = (int)call(k_unlink, &o);
	if (rc == 0)
		alias_unlinked(path);
	return rc;
}

static int op_rmdir(const char *path)
{
	struct op o = { .path = path };
	return (int)call(k_rmdir, &o);
}

static int op_symlink(const char *target, const char *path)
{
	struct op o = { .path = target, .path2 = path };
	return (int)call_stat(k_symlink, &o, path);
}

static int op_rename(const char *from, const char *to, unsigned flags)
{
	if (flags)                  /* RENAME_NOREPLACE, RENAME_EXCHANGE: no atomic way */
		return -EINVAL;
	struct op o = { .path = from, .path2 = to };
	int rc = (int)call(k_rename, &o);
	if (rc == 0)
		alias_renamed(from, to);
	return rc;
}

static int op_link(const char *from, const char *to)
{
	struct op o = { .path = from, .path2 = to };
	int rc = (int)call_stat(k_link, &o, to);
	/* libfuse gives each name its own host inode: the old name's cached
	 * link count is stale now. */
	if (rc == 0) {
		fuse_invalidate_path(fuse_get_context()->fuse, from);
		alias_changed_path(from);
	}
	return rc;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (!path)
		return -ENOENT;         /* an unlinked open file: no fchmod in the VFS */
	struct op o = { .path = path, .mode = mode & 07777 };
	int rc = (int)call_stat(k_chmod, &o, path);
	if (rc == 0)
		alias_changed_path(path);
	return rc;
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (!path)
		return -ENOENT;
	struct op o = { .path = path, .uid = uid, .gid = gid };
	int rc = (int)call_stat(k_chown, &o, path);
	if (rc == 0)
		alias_changed_path(path);
	return rc;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	if (size < 0)
		return -EINVAL;
	struct op o = { .path = path, .size = (uint64_t)size };
	int rc;
	if (fi) {
		uint64_t ino;
		o.fd = (int)fi->fh;
		fd_info(o.fd, &ino);
		rc = (int)call(k_ftruncate, &o);
		if (rc == 0 && ino)
			fd_mark_changed(o.fd);
	} else {
		rc = (int)call_stat(k_truncate, &o, path);
		if (rc == 0)
			alias_changed_path(path);
	}
	return rc;
}

static int open_common(const char *path, struct fuse_file_info *fi, int flags, uint32_t mode)
{
	struct vfs_stat vs = { 0 };
	struct op o = { .path = path, .flags = flags, .mode = mode, .st = &vs };
	bool writing = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	long fd = call(writing ? k_open_stat : k_open, &o);
	if (fd < 0)
		return (int)fd;
	fi->fh = (uint64_t)fd;
	fd_track((int)fd, flags, vs.ino);
	if (writing && vs.ino) {
		if (flags & O_CREAT)
			stash_set(path, &vs);
		alias_seen(path, vs.ino, vs.mode, vs.nlink);
		if (flags & O_TRUNC)
			alias_changed_ino(vs.ino, path);
	}
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	return open_common(path, fi, open_flags(fi->flags), 0);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return open_common(path, fi, open_flags(fi->flags) | O_CREAT, mode & 07777);
}

static int op_read(const char *path, char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi)
{
	if (off < 0)
		return -EINVAL;
	struct op o = { .fd = (int)fi->fh, .buf = buf, .len = size, .off = (uint64_t)off };
	return (int)call(k_read, &o);
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	if (off < 0)
		return -EINVAL;
	struct op o = { .fd = (int)fi->fh, .cbuf = buf, .len = size, .off = (uint64_t)off };
	uint64_t ino;
	if (fd_info(o.fd, &ino))
		o.flags = O_APPEND;
	int rc = (int)call(k_write, &o);
	/* Not here: invalidating a name of the file being written would wait
	 * for the host's page locks this very write holds. At flush. */
	if (rc > 0 && ino)
		fd_mark_changed(o.fd);
	return rc;
}

static int op_statfs(const char *path, struct statvfs *out)
{
	struct vfs_statfs s;
	struct op o = { .path = path && *path ? path : "/", .sfs = &s };
	long rc = call(k_statfs, &o);
	if (rc < 0)
		return (int)rc;
	memset(out, 0, sizeof(*out));
	out->f_bsize = s.bsize;
	out->f_frsize = s.bsize;
	out->f_blocks = s.blocks;
	out->f_bfree = s.bfree;
	out->f_bavail = s.bavail;
	out->f_files = s.files;
	out->f_ffree = s.ffree;
	out->f_favail = s.ffree;
	out->f_namemax = s.namemax;
	out->f_flag = s.read_only ? ST_RDONLY : 0;
	return 0;
}

/* Writes are in the kernel's cache already; the host drops what it cached
 * under the file's other names (it holds no lock of the file now). */
static int op_flush(const char *path, struct fuse_file_info *fi)
{
	uint64_t ino = fd_changed_take((int)fi->fh);
	if (ino)
		alias_changed_ino(ino, NULL);
	return 0;
}

static long k_close_posted(void *a)
{
	int fd = (int)(intptr_t)a;
	return vfs_close(fd);
}

/* Nobody waits for a close: the host gets its answer at once. */
static int op_release(const char *path, struct fuse_file_info *fi)
{
	int fd = (int)fi->fh;
	uint64_t ino = fd_changed_take(fd);
	if (ino)
		alias_changed_ino(ino, NULL);
	fd_untrack(fd);
	gate_post(k_close_posted, (void *)(intptr_t)fd, 0, 0);
	return 0;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct op o = { .fd = (int)fi->fh };
	return (int)call(k_fsync, &o);
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	int rc = open_common(path, fi, O_RDONLY | O_DIRECTORY, 0);
	if (rc == 0)
		fd_set_path((int)fi->fh, path);
	return rc;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct dir_list d = { 0 };
	struct op o = { .fd = (int)fi->fh, .fill_buf = &d };
	char *dir_path = (flags & FUSE_READDIR_PLUS) ? fd_dir_path(o.fd) : NULL;
	d.dir_path = dir_path;
	uint64_t gen = attrcache_gen();
	int rc = (int)call(k_readdir, &o);
	if (rc == 0 && d.st && d.have && dir_path) {
		size_t dlen = strlen(dir_path);
		char *p = malloc(dlen + VFS_NAME_MAX + 2);
		if (p) {
			memcpy(p, dir_path, dlen);
			if (dlen == 0 || p[dlen - 1] != '/')
				p[dlen++] = '/';
			for (size_t i = 0; i < d.n; i++) {
				if (!d.have[i])
					continue;
				memcpy(p + dlen, d.names + d.ents[i].name_off, d.ents[i].len + 1);
				attrcache_put(gen, p, &d.st[i]);
			}
			free(p);
		}
	}
	free(dir_path);
	free(d.st);
	free(d.have);
	/* With FUSE_FILL_DIR_PLUS, libfuse looks each entry up itself (getattr)
	 * and hands the host names and attributes in one reply. */
	enum fuse_fill_dir_flags fill = (flags & FUSE_READDIR_PLUS) ? FUSE_FILL_DIR_PLUS : 0;
	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		struct stat st;
		memset(&st, 0, sizeof(st));
		st.st_ino = d.ents[i].ino;
		st.st_mode = (mode_t)(d.ents[i].type << 12);
		if (filler(buf, d.names + d.ents[i].name_off, &st, 0, fill) != 0)
			rc = -ENOMEM;
	}
	free(d.ents);
	free(d.names);
	return rc;
}

/* Is the caller (primary gid, or a supplementary group) in group gid? */
static bool in_group(gid_t primary, uint32_t gid)
{
	if (primary == gid)
		return true;
	gid_t groups[256];
	int n = fuse_getgroups(256, groups);
	for (int i = 0; i < n && i < 256; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static int op_access(const char *path, int mask)
{
	struct vfs_stat vs;
	struct op o = { .path = path, .st = &vs };
	long rc = call(k_stat, &o);
	if (rc < 0 || mask == F_OK)
		return (int)rc;
	struct fuse_context *ctx = fuse_get_context();
	unsigned perm;
	if (ctx->uid == 0) {
		/* root: anything but executing a file without any x bit */
		if ((mask & X_OK) && !S_ISDIR(vs.mode) && !(vs.mode & 0111))
			return -EACCES;
		return 0;
	}
	if (ctx->uid == vs.uid)
		perm = (vs.mode >> 6) & 7;
	else if (in_group(ctx->gid, vs.gid))
		perm = (vs.mode >> 3) & 7;
	else
		perm = vs.mode & 7;
	return ((unsigned)mask & ~perm & 7) ? -EACCES : 0;
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	if (!path)
		return -ENOENT;
	struct op o = { .path = path };
	struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	if (!tv)
		tv = now;
	o.atime = time_to_vfs(&tv[0]);
	o.mtime = time_to_vfs(&tv[1]);
	int rc = (int)call_stat(k_utimens, &o, path);
	if (rc == 0)
		alias_changed_path(path);
	return rc;
}

static int op_fallocate(const char *path, int mode, off_t off, off_t len,
                        struct fuse_file_info *fi)
{
	return -EOPNOTSUPP;
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 1;           /* our inode numbers: hard links, du, find */
	cfg->readdir_ino = 1;
	/* An open file unlinked is renamed to .fuse_hidden* until released, so
	 * the host can still fstat it (libfuse finds no path for a removed
	 * name, and the host asks getattr by name, not by descriptor). */
	cfg->hard_remove = 0;
	cfg->nullpath_ok = 1;       /* calls on open files: the descriptor, not a path */
	cfg->entry_timeout = ops_settings.timeout;
	cfg->attr_timeout = ops_settings.timeout;
	cfg->negative_timeout = 0;
	/* Every change to the image comes through here (the image is locked),
	 * and alias.c drops the pages of a hard link's other names: the host
	 * may keep pages across opens and names for a while. */
	cfg->kernel_cache = ops_settings.kernel_cache;
	if (ops_settings.max_write)
		conn->max_write = ops_settings.max_write;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	alias_init(fuse_get_context()->fuse);
	return NULL;
}

const struct fuse_operations torofuse_ops = {
	.getattr = op_getattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.chmod = op_chmod,
	.chown = op_chown,
	.truncate = op_truncate,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.statfs = op_statfs,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_release,
	.fsyncdir = op_fsync,
	.init = op_init,
	.access = op_access,
	.create = op_create,
	.utimens = op_utimens,
	.fallocate = op_fallocate,
};

void ops_close_all(void)
{
	pthread_mutex_lock(&fds_lock);
	bool ready = fds_ready;
	pthread_mutex_unlock(&fds_lock);
	if (!ready)
		return;
	for (int fd = 0; fd < MAX_FDS; fd++) {
		pthread_mutex_lock(&fds_lock);
		bool open = fd_flags[fd] >= 0;
		fd_flags[fd] = -1;
		pthread_mutex_unlock(&fds_lock);
		if (open) {
			struct op o = { .fd = fd };
			gate_call(k_close, &o, 0, 0);
		}
	}
}
