/*
 * ramfs.c: a file system that lives in kernel memory, for /tmp-like scratch
 * space and for testing the VFS without a disk. It implements fs/fs.h.
 *
 * Files are sparse arrays of 4 KiB pages (a missing page reads as zeros),
 * directories are lists of entries in creation order, symbolic links keep
 * their target. Inodes are numbered by their slot in ramfs.nodes.
 *
 * Lifecycle of an rnode: made by mknod/mkdir/symlink with nlink 1 (2 for a
 * directory) and refs 0; the VFS takes references with iget while a file is
 * open and drops them with iput; unlink/rmdir/rename lower nlink; the node is
 * freed when both nlink and refs are zero (rnode_maybe_free).
 *
 * Locking: one mutex per mounted ramfs guards the node table and every node.
 * readdir copies entries out under it and calls the fill callback without it,
 * so a callback may call back into this file system.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "fs.h"
#include "hal.h"
#include "list.h"
#include "mutex.h"
#include "ramfs.h"

#define RAMFS_ROOT      1
#define RAMFS_PAGE      4096u
#define RAMFS_MAX_FILE  (1ull << 32)       /* bytes: -EFBIG beyond */
#define RAMFS_LINK_MAX  65000u
#define RAMFS_BATCH     16                 /* readdir entries copied per lock */

struct rdirent {
	struct list link;           /* in rnode.dir.entries, by seq */
	uint64_t seq;               /* readdir cookie is seq + 2 */
	uint64_t ino;
	uint16_t len;
	char name[];
};

struct rnode {
	uint64_t ino;
	uint32_t mode, nlink, uid, gid;
	uint64_t rdev;
	int64_t atime, mtime, ctime;
	unsigned refs;              /* iget references */
	uint64_t size;              /* regular: bytes; symlink: target length */
	union {
		struct {
			uint8_t **pages;    /* page i covers [i*4096, (i+1)*4096) */
			size_t cap;         /* entries in pages[] */
			uint64_t used;      /* pages allocated */
		} reg;
		struct {
			struct list entries;
			uint64_t next_seq;
			uint64_t parent;
			uint64_t count;
		} dir;
		char *target;
	};
};

struct ramfs {
	struct fs fs;               /* first: the VFS sees this */
	struct mutex lock;          /* guards everything below and all rnodes */
	struct rnode **nodes;       /* by inode number; NULL: free slot */
	uint64_t cap;
	uint64_t free_hint;         /* no free slot below it */
	uint64_t inodes;
	uint64_t pages_used, pages_max;
};

static struct ramfs *R(struct fs *fs) { return (struct ramfs *)fs; }

static int64_t now(void) { return hal_realtime_ns(); }

/* ---- the node table ---- */

static struct rnode *node_get(struct ramfs *r, uint64_t ino)
{
	return ino < r->cap ? r->nodes[ino] : NULL;
}

static struct rnode *node_new(struct ramfs *r, uint32_t mode, uint32_t uid, uint32_t gid)
{
	uint64_t ino = r->free_hint;
	while (ino < r->cap && r->nodes[ino])
		ino++;
	if (ino >= r->cap) {
		uint64_t cap = r->cap ? r->cap * 2 : 64;
		struct rnode **nodes = kzalloc(cap * sizeof(*nodes));
		if (!nodes)
			return NULL;
		if (r->nodes)
			memcpy(nodes, r->nodes, r->cap * sizeof(*nodes));
		kfree(r->nodes);
		r->nodes = nodes;
		r->cap = cap;
	}
	struct rnode *n = kzalloc(sizeof(*n));
	if (!n)
		return NULL;
	n->ino = ino;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->nlink = 1;
	n->atime = n->mtime = n->ctime = now();
	if (S_ISDIR(mode)) {
		list_init(&n->dir.entries);
		n->nlink = 2;
	}
	r->nodes[ino] = n;
	r->free_hint = ino + 1;
	r->inodes++;
	return n;
}

static void node_free(struct ramfs *r, struct rnode *n)
{
	if (S_ISREG(n->mode)) {
		for (size_t i = 0; i < n->reg.cap; i++)
			kfree(n->reg.pages[i]);
		r->pages_used -= n->reg.used;
		kfree(n->reg.pages);
	} else if (S_ISDIR(n->mode)) {
		list_for_each_safe(pos, tmp, &n->dir.entries)
			kfree(list_entry(pos, struct rdirent, link));
	} else if (S_ISLNK(n->mode)) {
		kfree(n->target);
	}
	r->nodes[n->ino] = NULL;
	if (n->ino < r->free_hint)
		r->free_hint = n->ino;
	r->inodes--;
	kfree(n);
}

static void node_maybe_free(struct ramfs *r, struct rnode *n)
{
	if (n->nlink == 0 && n->refs == 0)
		node_free(r, n);
}

/* ---- directories ---- */

static int dir_get(struct ramfs *r, uint64_t ino, struct rnode **out)
{
	struct rnode *d = node_get(r, ino);
	if (!d || d->nlink == 0)
		return -ENOENT;
	if (!S_ISDIR(d->mode))
		return -ENOTDIR;
	*out = d;
	return 0;
}

static struct rdirent *dir_find(struct rnode *d, const char *name, size_t len)
{
	list_for_each(pos, &d->dir.entries) {
		struct rdirent *e = list_entry(pos, struct rdirent, link);
		if (e->len == len && memcmp(e->name, name, len) == 0)
			return e;
	}
	return NULL;
}

static struct rdirent *dirent_new(const char *name, size_t len, uint64_t ino)
{
	struct rdirent *e = kmalloc(sizeof(*e) + len);
	if (!e)
		return NULL;
	list_init(&e->link);
	e->ino = ino;
	e->len = (uint16_t)len;
	memcpy(e->name, name, len);
	return e;
}

static void dir_insert(struct rnode *d, struct rdirent *e)
{
	e->seq = d->dir.next_seq++;
	list_push_back(&d->dir.entries, &e->link);
	d->dir.count++;
	d->mtime = d->ctime = now();
}

static void dir_remove(struct rnode *d, struct rdirent *e)
{
	list_remove(&e->link);
	d->dir.count--;
	d->mtime = d->ctime = now();
}

/* ---- fs_ops ---- */

static uint64_t ramfs_root(struct fs *fs) { return RAMFS_ROOT; }

static int ramfs_unmount(struct fs *fs)
{
	struct ramfs *r = R(fs);
	for (uint64_t i = 0; i < r->cap; i++)
		if (r->nodes[i])
			node_free(r, r->nodes[i]);
	kfree(r->nodes);
	kfree(r);
	return 0;
}

static int ramfs_sync(struct fs *fs) { return 0; }
static int ramfs_fsync(struct fs *fs, uint64_t ino) { return 0; }

static int ramfs_statfs(struct fs *fs, struct vfs_statfs *out)
{
	struct ramfs *r = R(fs);
	mutex_lock(&r->lock);
	out->bsize = RAMFS_PAGE;
	out->blocks = r->pages_max;
	out->bfree = out->bavail = r->pages_max - r->pages_used;
	out->files = r->pages_max;
	out->ffree = r->pages_max > r->inodes ? r->pages_max - r->inodes : 0;
	out->namemax = 255;
	out->read_only = fs->read_only;
	mutex_unlock(&r->lock);
	return 0;
}

static int ramfs_iget(struct fs *fs, uint64_t ino)
{
	struct ramfs *r = R(fs);
	mutex_lock(&r->lock);
	struct rnode *n = node_get(r, ino);
	if (n)
		n->refs++;
	mutex_unlock(&r->lock);
	return n ? 0 : -ENOENT;
}

static void ramfs_iput(struct fs *fs, uint64_t ino)
{
	struct ramfs *r = R(fs);
	mutex_lock(&r->lock);
	struct rnode *n = node_get(r, ino);
	if (n && n->refs > 0) {
		n->refs--;
		node_maybe_free(r, n);
	}
	mutex_unlock(&r->lock);
}

static int ramfs_lookup(struct fs *fs, uint64_t dir, const char *name, size_t len,
                        uint64_t *ino)
{
	struct ramfs *r = R(fs);
	struct rnode *d;
	mutex_lock(&r->lock);
	int rc = dir_get(r, dir, &d);
	if (rc == 0) {
		struct rdirent *e = dir_find(d, name, len);
		if (e)
			*ino = e->ino;
		else
			rc = -ENOENT;
	}
	mutex_unlock(&r->lock);
	return rc;
}

static int ramfs_getattr(struct fs *fs, uint64_t ino, struct vfs_stat *out)
{
	struct ramfs *r = R(fs);
	mutex_lock(&r->lock);
	struct rnode *n = node_get(r, ino);
	if (n) {
		memset(out, 0, sizeof(*out));
		out->ino = n->ino;
		out->mode = n->mode;
		out->nlink = n->nlink;
		out->uid = n->uid;
		out->gid = n->gid;
		out->rdev = n->rdev;
		out->blksize = RAMFS_PAGE;
		out->atime_ns = n->atime;
		out->mtime_ns = n->mtime;
		out->ctime_ns = n->ctime;
		if (S_ISREG(n->mode)) {
			out->size = n->size;
			out->blocks = n->reg.used * (RAMFS_PAGE / 512);
		} else if (S_ISLNK(n->mode)) {
			out->size = n->size;
		} else if (S_ISDIR(n->mode)) {
			out->size = RAMFS_PAGE;
		}
	}
	mutex_unlock(&r->lock);
	return n ? 0 : -ENOENT;
}

/* Drop the pages wholly past size; zero the tail of the last one. */
static void reg_shrink(struct ramfs *r, struct rnode *n, uint64_t size)
{
	uint64_t keep = (size + RAMFS_PAGE - 1) / RAMFS_PAGE;
	for (uint64_t i = keep; i < n->reg.cap; i++) {
		if (n->reg.pages[i]) {
			kfree(n->reg.pages[i]);
			n->reg.pages[i] = NULL;
			n->reg.used--;
			r->pages_used--;
		}
	}
	if (size % RAMFS_PAGE && keep - 1 < n->reg.cap && n->reg.pages[keep - 1])
		memset(n->reg.pages[keep - 1] + size % RAMFS_PAGE, 0,
		       RAMFS_PAGE - size % RAMFS_PAGE);
}

static int ramfs_setattr(struct fs *fs, uint64_t ino, const struct vfs_setattr *a)
{
	struct ramfs *r = R(fs);
	int rc = 0;
	mutex_lock(&r->lock);
	struct rnode *n = node_get(r, ino);
	if (!n) {
		rc = -ENOENT;
		goto out;
	}
	if (a->mask & VFS_SET_SIZE) {
		if (S_ISDIR(n->mode)) {
			rc = -EISDIR;
			goto out;
		}
		if (!S_ISREG(n->mode)) {
			rc = -EINVAL;
			goto out;
		}
		if (a->size > RAMFS_MAX_FILE) {
			rc = -EFBIG;
			goto out;
		}
		if (a->size < n->size)
			reg_shrink(r, n, a->size);
		n->size = a->size;
		n->mtime = now();
	}
	if (a->mask & VFS_SET_MODE)
		n->mode = (n->mode & S_IFMT) | (a->mode & 07777);
	if (a->mask & VFS_SET_UID)
		n->uid = a->uid;
	if (a->mask & VFS_SET_GID)
		n->gid = a->gid;
	if (a->mask & VFS_SET_ATIME)
		n->atime = a->atime_ns;
	if (a->mask & VFS_SET_MTIME)
		n->mtime = a->mtime_ns;
	n->ctime = now();
out:
	mutex_unlock(&r->lock);
	return rc;
}

/*
 * Make a node of mode in dir under name: the common part of mknod, mkdir and
 * symlink. target: the symlink's, else NULL. Called with r->lock held.
 */
static int make_node(struct ramfs *r, uint64_t dir, const char *name, size_t len,
                     uint32_t mode, uint32_t uid, uint32_t gid, const char *target,
                     struct rnode **out)
{
	struct rnode *d;
	int rc = dir_get(r, dir, &d);
	if (rc < 0)
		return rc;
	if (dir_find(d, name, len))
		return -EEXIST;
	if (S_ISDIR(mode) && d->nlink >= RAMFS_LINK_MAX)
		return -EMLINK;
	char *copy = NULL;
	if (target) {
		size_t tlen = strlen(target);
		copy = kmalloc(tlen + 1);
		if (!copy)
			return -ENOSPC;
		memcpy(copy, target, tlen + 1);
	}
	struct rdirent *e = dirent_new(name, len, 0);
	struct rnode *n = e ? node_new(r, mode, uid, gid) : NULL;
	if (!n) {
		kfree(e);
		kfree(copy);
		return -ENOSPC;
	}
	if (copy) {
		n->target = copy;
		n->size = strlen(copy);
	}
	if (S_ISDIR(mode)) {
		n->dir.parent = dir;
		d->nlink++;
	}
	e->ino = n->ino;
	dir_insert(d, e);
	*out = n;
	return 0;
}

static int ramfs_mknod(struct fs *fs, uint64_t dir, const char *name, size_t len,
                       uint32_t mode, uint64_t rdev, uint32_t uid, uint32_t gid,
                       uint64_t *ino)
{
	struct ramfs *r = R(fs);
	uint32_t type = mode & S_IFMT;
	if (type == 0)
		mode |= type = S_IFREG;
	if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO &&
	    type != S_IFSOCK)
		return -EINVAL;
	struct rnode *n;
	mutex_lock(&r->lock);
	int rc = make_node(r, dir, name, len, mode, uid, gid, NULL, &n);
	if (rc == 0) {
		if (type == S_IFCHR || type == S_IFBLK)
			n->rdev = rdev;
		*ino = n->ino;
	}
	mutex_unlock(&r->lock);
	return rc;
}

static int ramfs_mkdir(struct fs *fs, uint64_t dir, const char *name, size_t len,
                       uint32_t mode, uint32_t uid, uint32_t gid, uint64_t *ino)
{
	struct ramfs *r = R(fs);
	struct rnode *n;
	mutex_lock(&r->lock);
	int rc = make_node(r, dir, name, len, S_IFDIR | (mode & 07777), uid, gid, NULL, &n);
	if (rc == 0)
		*ino = n->ino;
	mutex_unlock(&r->lock);
	return rc;
}

static int ramfs_symlink(struct fs *fs, uint64_t dir, const char *name, size_t len,
                         const char *target, uint32_t uid, uint32_t gid, uint64_t *ino)
{
	struct ramfs *r = R(fs);
	struct rnode *n;
	mutex_lock(&r->lock);
	int rc = make_node(r, dir, name, len, S_IFLNK | 0777, uid, gid, target, &n);
	if (rc == 0)
		*ino = n->ino;
	mutex_unlock(&r->lock);
	return rc;
}

static int ramfs_link(struct fs *fs, uint64_t ino, uint64_t dir, const char *name, size_t len)
{
	struct ramfs *r = R(fs);
	struct rnode *d;
	mutex_lock(&r->lock);
	struct rnode *n = node_get(r, ino);
	int rc = dir_get(r, dir, &d);
	if (rc == 0 && (!n || n->nlink == 0))
		rc = -ENOENT;
	else if (rc == 0 && S_ISDIR(n->mode))
		rc = -EPERM;
	else if (rc == 0 && n->nlink >= RAMFS_LINK_MAX)
		rc = -EMLINK;
	else if (rc == 0 && dir_find(d, name, len))
		rc = -EEXIST;
	if (rc == 0) {
		struct rdirent *e = dirent_new(name, len, ino);
		if (!e) {
			rc = -ENOSPC;
		} else {
			dir_insert(d, e);
			n->nlink++;
			n->ctime = now();
		}
	}
	mutex_unlock(&r->lock);
	return rc;
}

/* Take entry e (naming n) out of directory d, dropping n's links. */
static void remove_entry(struct ramfs *r, struct rnode *d, struct rdirent *e, struct rnode *n)
{
	dir_remove(d, e);
	kfree(e);
	if (S_ISDIR(n->mode)) {
		n->nlink = 0;
		d->nlink--;
	} else {
		n->nlink--;
	}
	n->ctime = now();
	node_maybe_free(r, n);
}

/* unlink (want_dir false) and rmdir (true): the entry must be of that kind. */
static int remove_name(struct fs *fs, uint64_t dir, const char *name, size_t len, bool want_dir)
{
	struct ramfs *r = R(fs);
	struct rnode *d;
	mutex_lock(&r->lock);
	int rc = dir_get(r, dir, &d);
	struct rdirent *e = rc == 0 ? dir_find(d, name, len) : NULL;
	if (rc == 0 && !e)
		rc = -ENOENT;
	if (rc == 0) {
		struct rnode *n = node_get(r, e->ino);
		if (!want_dir && S_ISDIR(n->mode))
			rc = -EISDIR;
		else if (want_dir && !S_ISDIR(n->mode))
			rc = -ENOTDIR;
		else if (want_dir && n->dir.count)
			rc = -ENOTEMPTY;
		else
			remove_entry(r, d, e, n);
	}
	mutex_unlock(&r->lock);
	return rc;
}

static int ramfs_unlink(struct fs *fs, uint64_t dir, const char *name, size_t len)
{
	return remove_name(fs, dir, name, len, false);
}

static int ramfs_rmdir(struct fs *fs, uint64_t dir, const char *name, size_t len)
{
	return remove_name(fs, dir, name, len, true);
}

/* Is dir inside the tree of directory ino (or ino itself)? */
static bool in_subtree(struct ramfs *r, uint64_t dir, uint64_t ino)
{
	for (;;) {
		if (dir == ino)
			return true;
		if (dir == RAMFS_ROOT)
			return false;
		struct rnode *d = node_get(r, dir);
		if (!d)
			return false;
		dir = d->dir.parent;
	}
}

static int do_rename(struct ramfs *r, uint64_t from_dir, const char *from, size_t from_len,
                     uint64_t to_dir, const char *to, size_t to_len)
{
	struct rnode *fd, *td;
	int rc = dir_get(r, from_dir, &fd);
	if (rc == 0)
		rc = dir_get(r, to_dir, &td);
	if (rc < 0)
		return rc;
	struct rdirent *src = dir_find(fd, from, from_len);
	if (!src)
		return -ENOENT;
	struct rnode *n = node_get(r, src->ino);
	struct rdirent *dst = dir_find(td, to, to_len);
	struct rnode *old = dst ? node_get(r, dst->ino) : NULL;
	if (old == n)
		return 0;
	if (S_ISDIR(n->mode)) {
		if (in_subtree(r, to_dir, n->ino))
			return -EINVAL;
		if (old && !S_ISDIR(old->mode))
			return -ENOTDIR;
		if (old && old->dir.count)
			return -ENOTEMPTY;
		if (!old && to_dir != from_dir && td->nlink >= RAMFS_LINK_MAX)
			return -EMLINK;
	} else if (old && S_ISDIR(old->mode)) {
		return -EISDIR;
	}
	struct rdirent *e = dirent_new(to, to_len, n->ino);
	if (!e)
		return -ENOSPC;
	if (old)
		remove_entry(r, td, dst, old);
	dir_remove(fd, src);
	kfree(src);
	dir_insert(td, e);
	if (S_ISDIR(n->mode) && from_dir != to_dir) {
		fd->nlink--;
		td->nlink++;
		n->dir.parent = to_dir;
	}
	n->ctime = now();
	return 0;
}

static int ramfs_rename(struct fs *fs, uint64_t from_dir, const char *from, size_t from_len,
                        uint64_t to_dir, const char *to, size_t to_len)
{
	struct ramfs *r = R(fs);
	mutex_lock(&r->lock);
	int rc = do_rename(r, from_dir, from, from_len, to_dir, to, to_len);
	mutex_unlock(&r->lock);
	return rc;
}

static ssize_t ramfs_readlink(struct fs *fs, uint64_t ino, char *buf, size_t size)
{
	struct ramfs *r = R(fs);
	ssize_t rc;
	mutex_lock(&r->lock);
	struct rnode *n = node_get(r, ino);
	if (!n) {
		rc = -ENOENT;
	} else if (!S_ISLNK(n->mode)) {
		rc = -EINVAL;
	} else {
		memcpy(buf, n->target, n->size < size ? n->size : size);
		rc = (ssize_t)n->size;
	}
	mutex_unlock(&r->lock);
	return rc;
}

static int reg_get(struct ramfs *r, uint64_t ino, struct rnode **out)
{
	struct rnode *n = node_get(r, ino);
	if (!n)
		return -ENOENT;
	if (S_ISDIR(n->mode))
		return -EISDIR;
	if (!S_ISREG(n->mode))
		return -EINVAL;
	*out = n;
	return 0;
}

static ssize_t ramfs_read(struct fs *fs, uint64_t ino, void *buf, size_t len, uint64_t off)
{
	struct ramfs *r = R(fs);
	struct rnode *n;
	mutex_lock(&r->lock);
	ssize_t rc = reg_get(r, ino, &n);
	if (rc == 0) {
		if (off >= n->size)
			len = 0;
		else if (len > n->size - off)
			len = n->size - off;
		size_t done = 0;
		while (done < len) {
			uint64_t pos = off + done;
			size_t in = pos % RAMFS_PAGE, chunk = RAMFS_PAGE - in;
			if (chunk > len - done)
				chunk = len - done;
			uint64_t i = pos / RAMFS_PAGE;
			if (i < n->reg.cap && n->reg.pages[i])
				memcpy((char *)buf + done, n->reg.pages[i] + in, chunk);
			else
				memset((char *)buf + done, 0, chunk);
			done += chunk;
		}
		rc = (ssize_t)len;
	}
	mutex_unlock(&r->lock);
	return rc;
}

/* Page i of n, allocated (zeroed) if missing; NULL when out of space. */
static uint8_t *reg_page(struct ramfs *r, struct rnode *n, uint64_t i)
{
	if (i >= n->reg.cap) {
		size_t cap = n->reg.cap ? n->reg.cap : 4;
		while (cap <= i)
			cap *= 2;
		uint8_t **pages = kzalloc(cap * sizeof(*pages));
		if (!pages)
			return NULL;
		if (n->reg.pages)
			memcpy(pages, n->reg.pages, n->reg.cap * sizeof(*pages));
		kfree(n->reg.pages);
		n->reg.pages = pages;
		n->reg.cap = cap;
	}
	if (!n->reg.pages[i]) {
		if (r->pages_used >= r->pages_max)
			return NULL;
		n->reg.pages[i] = kzalloc(RAMFS_PAGE);
		if (!n->reg.pages[i])
			return NULL;
		n->reg.used++;
		r->pages_used++;
	}
	return n->reg.pages[i];
}

static ssize_t ramfs_write(struct fs *fs, uint64_t ino, const void *buf, size_t len,
                           uint64_t off)
{
	struct ramfs *r = R(fs);
	struct rnode *n;
	if (off >= RAMFS_MAX_FILE && len > 0)
		return -EFBIG;
	if (len > RAMFS_MAX_FILE - off)
		len = RAMFS_MAX_FILE - off;
	mutex_lock(&r->lock);
	ssize_t rc = reg_get(r, ino, &n);
	if (rc == 0) {
		size_t done = 0;
		while (done < len) {
			uint64_t pos = off + done;
			size_t in = pos % RAMFS_PAGE, chunk = RAMFS_PAGE - in;
			if (chunk > len - done)
				chunk = len - done;
			uint8_t *page = reg_page(r, n, pos / RAMFS_PAGE);
			if (!page)
				break;
			memcpy(page + in, (const char *)buf + done, chunk);
			done += chunk;
		}
		if (off + done > n->size)
			n->size = off + done;
		if (done > 0)
			n->mtime = n->ctime = now();
		rc = done > 0 || len == 0 ? (ssize_t)done : -ENOSPC;
	}
	mutex_unlock(&r->lock);
	return rc;
}

static unsigned dt_of(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:  return DT_REG;
	case S_IFDIR:  return DT_DIR;
	case S_IFLNK:  return DT_LNK;
	case S_IFCHR:  return DT_CHR;
	case S_IFBLK:  return DT_BLK;
	case S_IFIFO:  return DT_FIFO;
	case S_IFSOCK: return DT_SOCK;
	}
	return DT_UNKNOWN;
}

struct batch_entry {
	uint64_t ino, cookie_after;
	unsigned type;
	uint16_t len;
	char name[256];
};

/* Copy up to RAMFS_BATCH entries from cookie on into b; returns the count. */
static int readdir_batch(struct ramfs *r, uint64_t dir, uint64_t cookie,
                         struct batch_entry *b, int *count)
{
	struct rnode *d;
	int rc = dir_get(r, dir, &d);
	if (rc < 0)
		return rc;
	int n = 0;
	for (; cookie < 2 && n < RAMFS_BATCH; cookie++, n++) {
		b[n].ino = cookie == 0 ? d->ino : d->dir.parent;
		if (d->ino == RAMFS_ROOT)
			b[n].ino = RAMFS_ROOT;
		b[n].type = DT_DIR;
		b[n].len = (uint16_t)(cookie + 1);
		memcpy(b[n].name, "..", 2);
		b[n].cookie_after = cookie + 1;
	}
	list_for_each(pos, &d->dir.entries) {
		struct rdirent *e = list_entry(pos, struct rdirent, link);
		if (n == RAMFS_BATCH)
			break;
		if (e->seq + 2 < cookie)
			continue;
		struct rnode *c = node_get(r, e->ino);
		b[n].ino = e->ino;
		b[n].type = c ? dt_of(c->mode) : DT_UNKNOWN;
		b[n].len = e->len;
		memcpy(b[n].name, e->name, e->len);
		b[n].cookie_after = e->seq + 3;
		n++;
	}
	*count = n;
	return 0;
}

static int ramfs_readdir(struct fs *fs, uint64_t dir, uint64_t *cookie,
                         vfs_filldir_fn fill, void *ctx)
{
	struct ramfs *r = R(fs);
	struct batch_entry *b = kmalloc(RAMFS_BATCH * sizeof(*b));
	if (!b)
		return -ENOMEM;
	int rc, n;
	do {
		mutex_lock(&r->lock);
		rc = readdir_batch(r, dir, *cookie, b, &n);
		mutex_unlock(&r->lock);
		for (int i = 0; rc == 0 && i < n; i++) {
			if (fill(ctx, b[i].name, b[i].len, b[i].ino, b[i].type)) {
				n = 0;
				break;
			}
			*cookie = b[i].cookie_after;
		}
	} while (rc == 0 && n == RAMFS_BATCH);
	kfree(b);
	return rc;
}

static const struct fs_ops ramfs_ops = {
	.root = ramfs_root,
	.unmount = ramfs_unmount,
	.sync = ramfs_sync,
	.statfs = ramfs_statfs,
	.iget = ramfs_iget,
	.iput = ramfs_iput,
	.lookup = ramfs_lookup,
	.getattr = ramfs_getattr,
	.setattr = ramfs_setattr,
	.mknod = ramfs_mknod,
	.mkdir = ramfs_mkdir,
	.symlink = ramfs_symlink,
	.link = ramfs_link,
	.unlink = ramfs_unlink,
	.rmdir = ramfs_rmdir,
	.rename = ramfs_rename,
	.readlink = ramfs_readlink,
	.read = ramfs_read,
	.write = ramfs_write,
	.readdir = ramfs_readdir,
	.fsync = ramfs_fsync,
};

static int ramfs_mount(struct blkdev *dev, unsigned flags, struct fs **out)
{
	struct ramfs *r = kzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fs.ops = &ramfs_ops;
	r->fs.dev = dev;
	r->fs.read_only = flags & FS_MOUNT_RDONLY;
	mutex_init(&r->lock, "ramfs");
	struct alloc_stats st;
	alloc_stats(-1, &st);
	r->pages_max = st.total_bytes / 2 / RAMFS_PAGE;
	r->free_hint = RAMFS_ROOT;
	struct rnode *root = node_new(r, S_IFDIR | 0755, 0, 0);
	if (!root || root->ino != RAMFS_ROOT) {
		kfree(root);
		kfree(r->nodes);
		kfree(r);
		return -ENOMEM;
	}
	root->dir.parent = RAMFS_ROOT;
	*out = &r->fs;
	return 0;
}

const struct fs_type ramfs_fs_type = {
	.name = "ramfs",
	.mount = ramfs_mount,
};
