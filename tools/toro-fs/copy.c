/*
 * copy.c: put and get: files and whole trees between the host and the
 * image, keeping modes, owners, times, symbolic links, device nodes and hard
 * links. Host files are read and written with libc from the kernel thread.
 * An error on one entry is reported and the copy goes on; the exit status
 * tells the first kind of error met.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "toro-fs.h"
#include "vfs.h"

#define COPY_BUF (1u << 20)
#define HOLE_BLOCK 4096u

struct seen {
	uint64_t dev, ino;
	char *path;                 /* where the first link went */
};

struct copy {
	bool recursive;
	int status;
	char *buf;
	struct seen *seen;          /* files with several links */
	size_t nseen, capseen;
	unsigned long files, dirs, bytes;
};

static void note(struct copy *c, int code)
{
	if (c->status == EXIT_OK)
		c->status = code;
}

static const char *seen_find(struct copy *c, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i].dev == dev && c->seen[i].ino == ino)
			return c->seen[i].path;
	return NULL;
}

static void seen_add(struct copy *c, uint64_t dev, uint64_t ino, const char *path)
{
	if (c->nseen == c->capseen) {
		size_t cap = c->capseen ? c->capseen * 2 : 64;
		struct seen *s = realloc(c->seen, cap * sizeof(*s));
		if (!s)
			return;         /* hard links become copies */
		c->seen = s;
		c->capseen = cap;
	}
	char *p = strdup(path);
	if (p)
		c->seen[c->nseen++] = (struct seen){ dev, ino, p };
}

static bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * The length of the data at p (of n bytes) to write in one go: up to the
 * first whole block of zeros, which is left a hole; 0 when p starts with
 * one. A short tail is always data.
 */
static size_t data_run(const char *p, size_t n)
{
	size_t run = 0;
	while (run < n) {
		size_t chunk = n - run < HOLE_BLOCK ? n - run : HOLE_BLOCK;
		if (chunk == HOLE_BLOCK && all_zero(p + run, chunk))
			break;
		run += chunk;
	}
	return run;
}

static const char *base_name(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *b = path + n;
	while (b > path && b[-1] != '/')
		b--;
	return b;
}

/* dst, or dst/basename(src) when dst is a directory already. */
static char *target_of(const char *src, const char *dst, bool dst_is_dir)
{
	char base[VFS_NAME_MAX + 1];
	const char *b = base_name(src);
	size_t n = strcspn(b, "/");
	if (!dst_is_dir || n == 0 || n > VFS_NAME_MAX || (n == 1 && b[0] == '.') ||
	    (n == 2 && b[0] == '.' && b[1] == '.'))
		return strdup(dst);
	memcpy(base, b, n);
	base[n] = '\0';
	return path_join(dst, base);
}

/* ---- host -> image ---- */

/*
 * Entries are made relative to their held image directory and read
 * relative to their open host directory, so that no path is walked again
 * from the top for each call; the full paths are only for messages and
 * hard links.
 */

/* Copy the host file open as in (named host) into the image file open as
 * out (named img); closes in. */
static int put_data(struct copy *c, int in, const char *host, int out, const char *img)
{
	int status = EXIT_OK;
	uint64_t off = 0, end = 0;     /* end: past the last data written */
	ssize_t n;
	while ((n = read(in, c->buf, COPY_BUF)) > 0) {
		/* Write the runs of data; a whole zero block stays a hole. */
		for (size_t done = 0; done < (size_t)n;) {
			size_t run = data_run(c->buf + done, (size_t)n - done);
			if (run == 0) {
				done += HOLE_BLOCK;
				continue;
			}
			ssize_t w = vfs_pwrite(out, c->buf + done, run, off + done);
			if (w <= 0) {
				status = fail(EXIT_FAILED, w < 0 ? (int)w : -EIO, "put %s", img);
				goto out;
			}
			done += (size_t)w;
			end = off + done;
		}
		off += (uint64_t)n;
		c->bytes += (unsigned long)n;
	}
	if (n < 0) {
		status = fail(EXIT_HOST, errno, "put: reading %s", host);
		goto out;
	}
	if (end < off) {
		int rc = vfs_ftruncate(out, off);      /* a trailing hole */
		if (rc < 0)
			status = fail(EXIT_FAILED, rc, "put %s", img);
	}
out:
	close(in);
	return status;
}

static int64_t ns_of(struct timespec ts)
{
	return vfs_time_ns(ts.tv_sec, ts.tv_nsec);
}

/* Owner, times and (but on a symbolic link) mode of the host file, in one
 * call on the image file vn. */
static void put_attrs(struct copy *c, struct vnode *vn, const char *img, const struct stat *st)
{
	struct vfs_setattr a = {
		.mask = VFS_SET_UID | VFS_SET_GID | VFS_SET_ATIME | VFS_SET_MTIME,
		.uid = st->st_uid, .gid = st->st_gid,
		.atime_ns = ns_of(st->st_atim), .mtime_ns = ns_of(st->st_mtim),
	};
	if (!S_ISLNK(st->st_mode)) {
		a.mask |= VFS_SET_MODE;
		a.mode = st->st_mode & 07777;
	}
	int rc = vfs_node_setattr(vn, &a);
	if (rc < 0)
		note(c, fail(EXIT_FAILED, rc, "put: attributes of %s", img));
}

/* put_attrs on the entry name of the image directory dir. */
static void put_attrs_at(struct copy *c, struct vnode *dir, const char *name, const char *img,
                         const struct stat *st)
{
	struct vnode *vn;
	int rc = vfs_node_at(dir, name, false, &vn);
	if (rc < 0) {
		note(c, fail(EXIT_FAILED, rc, "put: attributes of %s", img));
		return;
	}
	put_attrs(c, vn, img, st);
	vfs_node_put(vn);
}

/* An entry of a host directory: its name, and its type as readdir tells it
 * (DT_UNKNOWN when it does not), a hint checked when the entry is used. */
struct host_entry {
	char *name;
	unsigned char type;
};

/* The entries of the host directory d (*n of them, malloc'd); NULL when
 * there are none or out of memory. */
static struct host_entry *host_entries(DIR *d, size_t *n)
{
	struct host_entry *v = NULL;
	size_t cap = 0;
	struct dirent *e;
	*n = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct host_entry *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = ncap;
		}
		v[*n].name = strdup(e->d_name);
		v[*n].type = e->d_type;
		if (v[*n].name)
			(*n)++;
	}
	return v;
}

/* Remove a non-directory in the way of a new entry of another kind. */
static void clear_way(struct vnode *dir, const char *name)
{
	struct vnode *vn;
	if (vfs_node_at(dir, name, false, &vn) < 0)
		return;
	struct vfs_stat st;
	bool in_way = vfs_node_stat(vn, &st) == 0 && !S_ISDIR(st.mode);
	vfs_node_put(vn);
	if (in_way)
		vfs_unlinkat(dir, name);
}

struct put_at {
	int hdir;                   /* host directory (AT_FDCWD at the top) */
	const char *hname;          /* the entry in it */
	unsigned char htype;        /* its type as readdir says (a DT_ value) */
	const char *host;           /* its whole path, for messages */
	struct vnode *dir;          /* image directory (NULL: from "/") */
	const char *name;           /* the entry in it */
	const char *img;            /* its whole path, for messages and links */
};

static void put_entry(struct copy *c, const struct put_at *at);

/* The entries of the host directory at (open as hfd, which it takes) into
 * the image directory dir. */
static void put_children(struct copy *c, int hfd, const struct put_at *at, struct vnode *dir)
{
	DIR *d = fdopendir(hfd);
	if (!d) {
		note(c, fail(EXIT_HOST, errno, "put: reading directory %s", at->host));
		close(hfd);
		return;
	}
	size_t n;
	struct host_entry *v = host_entries(d, &n);
	for (size_t i = 0; i < n; i++) {
		char *h = path_join(at->host, v[i].name), *m = path_join(at->img, v[i].name);
		struct put_at sub = { dirfd(d), v[i].name, v[i].type, h, dir, v[i].name, m };
		put_entry(c, &sub);
		free(h);
		free(m);
		free(v[i].name);
	}
	free(v);
	closedir(d);
}

/* The host directory at (open as hfd, which it takes, or -1) into the
 * image. */
static int put_dir(struct copy *c, const struct put_at *at, const struct stat *st, int hfd)
{
	int rc = vfs_mkdirat(at->dir, at->name, 0700);
	struct vnode *vn = NULL;
	if (rc == 0 || rc == -EEXIST) {
		int nrc = vfs_node_at(at->dir, at->name, true, &vn);
		struct vfs_stat ist;
		if (nrc == 0 && rc == -EEXIST && vfs_node_stat(vn, &ist) == 0 && S_ISDIR(ist.mode))
			rc = 0;
		else if (nrc < 0 && rc == 0)
			rc = nrc;
	}
	if (rc < 0) {
		if (vn)
			vfs_node_put(vn);
		if (hfd >= 0)
			close(hfd);
		return fail(EXIT_FAILED, rc, "put: mkdir %s", at->img);
	}
	c->dirs++;
	if (hfd < 0)
		hfd = openat(at->hdir, at->hname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (hfd < 0)
		note(c, fail(EXIT_HOST, errno, "put: reading directory %s", at->host));
	else
		put_children(c, hfd, at, vn);
	put_attrs(c, vn, at->img, st);     /* after the entries, which change the times */
	vfs_node_put(vn);
	return EXIT_OK;
}

/* The host file at (open as in, which it takes, or -1) into the image. */
static int put_file(struct copy *c, const struct put_at *at, const struct stat *st, int in)
{
	const char *first = st->st_nlink > 1 ? seen_find(c, st->st_dev, st->st_ino) : NULL;
	c->files++;
	if (first) {
		clear_way(at->dir, at->name);
		if (vfs_link(first, at->img) == 0) {
			if (in >= 0)
				close(in);
			return EXIT_OK;     /* same inode: attributes already set */
		}
	}
	if (in < 0)
		in = openat(at->hdir, at->hname, O_RDONLY | O_NOFOLLOW);
	if (in < 0)
		return fail(EXIT_HOST, errno, "put: reading %s", at->host);
	int out = vfs_openat(at->dir, at->name, O_WRONLY | O_CREAT | O_TRUNC, st->st_mode & 07777);
	if (out < 0) {
		close(in);
		return fail(EXIT_FAILED, out, "put %s", at->img);
	}
	int status = put_data(c, in, at->host, out, at->img);
	struct vnode *vn;
	int rc = status == EXIT_OK ? vfs_node_of(out, &vn) : 0;
	if (rc < 0) {
		status = fail(EXIT_FAILED, rc, "put %s", at->img);
	} else if (status == EXIT_OK) {
		put_attrs(c, vn, at->img, st);
		vfs_node_put(vn);
	}
	rc = vfs_close(out);
	if (rc < 0 && status == EXIT_OK)
		status = fail(EXIT_FAILED, rc, "put %s", at->img);
	if (status == EXIT_OK && st->st_nlink > 1 && !first)
		seen_add(c, st->st_dev, st->st_ino, at->img);
	return status;
}

/* The status of the host entry at; a regular file or a directory, as
 * readdir says, is opened first and its open file asked (no path walked
 * twice): *fd, else -1. 0 or -errno. */
static int host_stat(const struct put_at *at, struct stat *st, int *fd)
{
	*fd = -1;
	if (at->htype == DT_REG || at->htype == DT_DIR) {
		/* Not blocking: should it be a fifo now, it is let go below. */
		int f = openat(at->hdir, at->hname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		                                     (at->htype == DT_DIR ? O_DIRECTORY : 0));
		if (f >= 0 && fstat(f, st) == 0 && (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))) {
			*fd = f;
			return 0;
		}
		if (f >= 0)
			close(f);
	}
	return fstatat(at->hdir, at->hname, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static void put_entry(struct copy *c, const struct put_at *at)
{
	struct stat st;
	int fd, rc = host_stat(at, &st, &fd);
	if (rc < 0) {
		note(c, fail(EXIT_HOST, -rc, "put: %s", at->host));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		note(c, put_dir(c, at, &st, fd));
		return;
	}
	if (S_ISREG(st.st_mode)) {
		note(c, put_file(c, at, &st, fd));
		return;
	}
	c->files++;
	clear_way(at->dir, at->name);
	if (S_ISLNK(st.st_mode)) {
		char target[VFS_PATH_MAX];
		ssize_t n = readlinkat(at->hdir, at->hname, target, sizeof(target) - 1);
		if (n < 0) {
			note(c, fail(EXIT_HOST, errno, "put: readlink %s", at->host));
			return;
		}
		target[n] = '\0';
		rc = vfs_symlinkat(target, at->dir, at->name);
	} else {
		rc = vfs_mknodat(at->dir, at->name, st.st_mode & (S_IFMT | 07777), st.st_rdev);
	}
	if (rc < 0) {
		note(c, fail(EXIT_FAILED, rc, "put %s", at->img));
		return;
	}
	put_attrs_at(c, at->dir, at->name, at->img, &st);
}

int cmd_put(int argc, char **argv, const char *opts)
{
	struct copy c = { .recursive = strchr(opts, 'r') != NULL };
	struct stat st;
	if (strcmp(argv[0], "-") == 0) {
		/* From stdin into a file of that name; mode 0644 as made. */
		c.buf = malloc(COPY_BUF);
		int out = c.buf ? vfs_open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644) : -ENOMEM;
		int status = out < 0 ? fail(EXIT_FAILED, out, "put %s", argv[1])
		                     : put_data(&c, dup(0), "stdin", out, argv[1]);
		if (out >= 0) {
			int rc = vfs_close(out);
			if (rc < 0 && status == EXIT_OK)
				status = fail(EXIT_FAILED, rc, "put %s", argv[1]);
		}
		free(c.buf);
		return status;
	}
	if (lstat(argv[0], &st) < 0)
		return fail(EXIT_HOST, errno, "put: %s", argv[0]);
	if (S_ISDIR(st.st_mode) && !c.recursive)
		return fail(EXIT_USAGE, 0, "put: %s is a directory (use put -r)", argv[0]);
	struct vfs_stat ist;
	bool into = vfs_stat(argv[1], &ist) == 0 && S_ISDIR(ist.mode);
	char *dst = target_of(argv[0], argv[1], into);
	c.buf = malloc(COPY_BUF);
	if (!dst || !c.buf)
		return fail(EXIT_FAILED, ENOMEM, "put");
	struct put_at top = { AT_FDCWD, argv[0], DT_UNKNOWN, argv[0], NULL, dst, dst };
	put_entry(&c, &top);
	int rc = vfs_sync();
	if (rc < 0)
		note(&c, fail(EXIT_FAILED, rc, "put: writing back"));
	for (size_t i = 0; i < c.nseen; i++)
		free(c.seen[i].path);
	free(c.seen);
	free(c.buf);
	free(dst);
	return c.status;
}

/* ---- image -> host ---- */

static int get_data(struct copy *c, const char *img, const char *host, const struct vfs_stat *st)
{
	int in = vfs_open(img, O_RDONLY, 0);
	if (in < 0)
		return fail(EXIT_FAILED, in, "get %s", img);
	int out = open(host, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0) {
		vfs_close(in);
		return fail(EXIT_HOST, errno, "get: writing %s", host);
	}
	int status = EXIT_OK;
	ssize_t n;
	uint64_t off = 0;
	while ((n = vfs_read(in, c->buf, COPY_BUF)) > 0) {
		for (size_t done = 0; done < (size_t)n;) {
			size_t run = data_run(c->buf + done, (size_t)n - done);
			if (run == 0) {
				done += HOLE_BLOCK;
				continue;
			}
			ssize_t w = pwrite(out, c->buf + done, run, (off_t)(off + done));
			if (w <= 0) {
				status = fail(EXIT_HOST, w < 0 ? errno : EIO, "get: writing %s", host);
				goto out;
			}
			done += (size_t)w;
		}
		off += (uint64_t)n;
		c->bytes += (unsigned long)n;
	}
	if (n < 0)
		status = fail(EXIT_FAILED, (int)n, "get %s", img);
	else if (ftruncate(out, (off_t)off) < 0)
		status = fail(EXIT_HOST, errno, "get: writing %s", host);
out:
	vfs_close(in);
	if (close(out) < 0 && status == EXIT_OK)
		status = fail(EXIT_HOST, errno, "get: writing %s", host);
	return status;
}

static void get_attrs(struct copy *c, const char *host, const struct vfs_stat *st)
{
	/* Owners only as root, as cp -a; a user keeps what it made. */
	if (geteuid() == 0 && lchown(host, st->uid, st->gid) < 0)
		note(c, fail(EXIT_HOST, errno, "get: chown %s", host));
	if (!S_ISLNK(st->mode) && chmod(host, st->mode & 07777) < 0)
		note(c, fail(EXIT_HOST, errno, "get: chmod %s", host));
	struct timespec ts[2] = { ns_to_timespec(st->atime_ns), ns_to_timespec(st->mtime_ns) };
	if (utimensat(AT_FDCWD, host, ts, AT_SYMLINK_NOFOLLOW) < 0)
		note(c, fail(EXIT_HOST, errno, "get: times of %s", host));
}

static void host_clear_way(const char *host)
{
	struct stat st;
	if (lstat(host, &st) == 0 && !S_ISDIR(st.st_mode))
		unlink(host);
}

static void get_entry(struct copy *c, const char *img, const char *host,
                      const struct walk_path *up)
{
	struct vfs_stat st;
	int rc = vfs_lstat(img, &st);
	if (rc < 0) {
		note(c, fail(EXIT_FAILED, rc, "get %s", img));
		return;
	}
	if (S_ISDIR(st.mode)) {
		if (walk_cycle(up, st.ino, "get", img) < 0) {
			note(c, EXIT_FAILED);
			return;
		}
		struct walk_path here = { up, st.ino };
		struct stat hs;
		if (mkdir(host, 0700) < 0 && !(errno == EEXIST && stat(host, &hs) == 0 &&
		                                 S_ISDIR(hs.st_mode))) {
			note(c, fail(EXIT_HOST, errno, "get: mkdir %s", host));
			return;
		}
		c->dirs++;
		struct names n;
		rc = list_dir(img, &n, 0);
		if (rc < 0) {
			note(c, fail(EXIT_FAILED, rc, "get %s", img));
		} else {
			for (size_t i = 0; i < n.n; i++) {
				char *m = path_join(img, n.v[i]), *h = path_join(host, n.v[i]);
				get_entry(c, m, h, &here);
				free(m);
				free(h);
			}
			names_free(&n);
		}
	} else if (S_ISREG(st.mode)) {
		const char *first = st.nlink > 1 ? seen_find(c, 0, st.ino) : NULL;
		c->files++;
		if (first) {
			host_clear_way(host);
			if (link(first, host) == 0)
				return;
		}
		int s = get_data(c, img, host, &st);
		if (s != EXIT_OK) {
			note(c, s);
			return;
		}
		if (st.nlink > 1 && !first)
			seen_add(c, 0, st.ino, host);
	} else if (S_ISLNK(st.mode)) {
		char target[VFS_PATH_MAX + 1];
		ssize_t n = vfs_readlink(img, target, VFS_PATH_MAX);
		if (n < 0) {
			note(c, fail(EXIT_FAILED, (int)n, "get: readlink %s", img));
			return;
		}
		target[n] = '\0';
		host_clear_way(host);
		c->files++;
		if (symlink(target, host) < 0) {
			note(c, fail(EXIT_HOST, errno, "get: symlink %s", host));
			return;
		}
	} else {
		host_clear_way(host);
		c->files++;
		dev_t dev = (dev_t)st.rdev;
		if (mknod(host, st.mode & (S_IFMT | 07777), dev) < 0) {
			note(c, fail(EXIT_HOST, errno, "get: mknod %s", host));
			return;
		}
	}
	get_attrs(c, host, &st);
}

int cmd_cat(int argc, char **argv, const char *opts);

int cmd_get(int argc, char **argv, const char *opts)
{
	struct copy c = { .recursive = strchr(opts, 'r') != NULL };
	struct vfs_stat st;
	int rc = vfs_lstat(argv[0], &st);
	if (rc < 0)
		return fail(EXIT_FAILED, rc, "get %s", argv[0]);
	if (strcmp(argv[1], "-") == 0 && !S_ISDIR(st.mode))
		return cmd_cat(1, argv, "");            /* to stdout */
	if (S_ISDIR(st.mode) && !c.recursive)
		return fail(EXIT_USAGE, 0, "get: %s is a directory (use get -r)", argv[0]);
	struct stat hs;
	bool into = stat(argv[1], &hs) == 0 && S_ISDIR(hs.st_mode);
	char *dst = target_of(argv[0], argv[1], into);
	c.buf = malloc(COPY_BUF);
	if (!dst || !c.buf)
		return fail(EXIT_FAILED, ENOMEM, "get");
	get_entry(&c, argv[0], dst, NULL);
	for (size_t i = 0; i < c.nseen; i++)
		free(c.seen[i].path);
	free(c.seen);
	free(c.buf);
	free(dst);
	return c.status;
}
