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

/* Copy the host file open as in (named host) to img; closes in. */
static int put_data(struct copy *c, int in, const char *host, const char *img,
                    const struct stat *st)
{
	int out = vfs_open(img, O_WRONLY | O_CREAT | O_TRUNC, st->st_mode & 07777);
	if (out < 0) {
		close(in);
		return fail(EXIT_FAILED, out, "put %s", img);
	}
	int status = EXIT_OK;
	uint64_t off = 0;
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
		}
		off += (uint64_t)n;
		c->bytes += (unsigned long)n;
	}
	if (n < 0) {
		status = fail(EXIT_HOST, errno, "put: reading %s", host);
		goto out;
	}
	int rc = vfs_ftruncate(out, off);      /* a trailing hole */
	if (rc < 0)
		status = fail(EXIT_FAILED, rc, "put %s", img);
out:
	close(in);
	rc = vfs_close(out);
	if (rc < 0 && status == EXIT_OK)
		status = fail(EXIT_FAILED, rc, "put %s", img);
	return status;
}

static int64_t ns_of(struct timespec ts)
{
	return vfs_time_ns(ts.tv_sec, ts.tv_nsec);
}

static void put_attrs(struct copy *c, const char *img, const struct stat *st)
{
	int rc;
	if (S_ISLNK(st->st_mode)) {
		rc = vfs_lchown(img, st->st_uid, st->st_gid);
		if (rc == 0)
			rc = vfs_lutimens(img, ns_of(st->st_atim), ns_of(st->st_mtim));
	} else {
		rc = vfs_chown(img, st->st_uid, st->st_gid);
		if (rc == 0)
			rc = vfs_chmod(img, st->st_mode & 07777);
		if (rc == 0)
			rc = vfs_utimens(img, ns_of(st->st_atim), ns_of(st->st_mtim));
	}
	if (rc < 0)
		note(c, fail(EXIT_FAILED, rc, "put: attributes of %s", img));
}

static int host_names(const char *dir, struct names *out)
{
	memset(out, 0, sizeof(*out));
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 32;
			char **v = realloc(out->v, cap * sizeof(*v));
			if (!v)
				break;
			out->v = v;
			out->cap = cap;
		}
		out->v[out->n] = strdup(e->d_name);
		if (out->v[out->n])
			out->n++;
	}
	closedir(d);
	return 0;
}

/* Remove a non-directory in the way of a new entry of another kind. */
static void clear_way(const char *img)
{
	struct vfs_stat st;
	if (vfs_lstat(img, &st) == 0 && !S_ISDIR(st.mode))
		vfs_unlink(img);
}

static void put_entry(struct copy *c, const char *host, const char *img)
{
	struct stat st;
	if (lstat(host, &st) < 0) {
		note(c, fail(EXIT_HOST, errno, "put: %s", host));
		return;
	}
	int rc = 0;
	if (S_ISDIR(st.st_mode)) {
		rc = vfs_mkdir(img, 0700);
		struct vfs_stat ist;
		if (rc == -EEXIST && vfs_stat(img, &ist) == 0 && S_ISDIR(ist.mode))
			rc = 0;
		if (rc < 0) {
			note(c, fail(EXIT_FAILED, rc, "put: mkdir %s", img));
			return;
		}
		c->dirs++;
		struct names n;
		if (host_names(host, &n) < 0) {
			note(c, fail(EXIT_HOST, errno, "put: reading directory %s", host));
		} else {
			for (size_t i = 0; i < n.n; i++) {
				char *h = path_join(host, n.v[i]), *m = path_join(img, n.v[i]);
				put_entry(c, h, m);
				free(h);
				free(m);
			}
			names_free(&n);
		}
	} else if (S_ISREG(st.st_mode)) {
		const char *first = st.st_nlink > 1 ? seen_find(c, st.st_dev, st.st_ino) : NULL;
		c->files++;
		if (first) {
			clear_way(img);
			rc = vfs_link(first, img);
			if (rc == 0)
				return;     /* same inode: attributes already set */
		}
		int in = open(host, O_RDONLY);
		int s = in < 0 ? fail(EXIT_HOST, errno, "put: reading %s", host)
		               : put_data(c, in, host, img, &st);
		if (s != EXIT_OK) {
			note(c, s);
			return;
		}
		if (st.st_nlink > 1 && !first)
			seen_add(c, st.st_dev, st.st_ino, img);
	} else if (S_ISLNK(st.st_mode)) {
		char target[VFS_PATH_MAX];
		ssize_t n = readlink(host, target, sizeof(target) - 1);
		if (n < 0) {
			note(c, fail(EXIT_HOST, errno, "put: readlink %s", host));
			return;
		}
		target[n] = '\0';
		clear_way(img);
		rc = vfs_symlink(target, img);
		c->files++;
	} else {
		uint64_t rdev = st.st_rdev;
		clear_way(img);
		rc = vfs_mknod(img, st.st_mode & (S_IFMT | 07777), rdev);
		c->files++;
	}
	if (rc < 0) {
		note(c, fail(EXIT_FAILED, rc, "put %s", img));
		return;
	}
	put_attrs(c, img, &st);
}

int cmd_put(int argc, char **argv, const char *opts)
{
	struct copy c = { .recursive = strchr(opts, 'r') != NULL };
	struct stat st;
	if (strcmp(argv[0], "-") == 0) {
		/* From stdin into a file of that name. */
		st = (struct stat){ .st_mode = S_IFREG | 0644 };
		c.buf = malloc(COPY_BUF);
		int status = c.buf ? put_data(&c, dup(0), "stdin", argv[1], &st)
		                   : fail(EXIT_FAILED, ENOMEM, "put");
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
	put_entry(&c, argv[0], dst);
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
		rc = list_dir(img, &n);
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
