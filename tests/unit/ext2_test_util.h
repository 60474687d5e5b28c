/*
 * ext2_test_util.h: helpers shared by the ext2 unit tests: temporary
 * images made by the real tools (mke2fs, genext2fs), host commands whose
 * output is the oracle (e2fsck, debugfs), and kernel-side path helpers
 * over fs_ops. Header-only, included by each test_ext2_*.c.
 */
#ifndef EXT2_TEST_UTIL_H
#define EXT2_TEST_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blkdev.h"
#include "fs.h"
#include "harness.h"

/* ---- Host side -------------------------------------------------------- */

static char tdir[128];

static inline void tmp_dir(void)
{
	strcpy(tdir, "/tmp/toro-ext2-XXXXXX");
	if (!mkdtemp(tdir))
		abort();
}

static inline void tmp_cleanup(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

/* sh: run a shell command (printf format); its exit status. */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* sh_out: run a command, return its stdout (malloc'ed, NUL-terminated). */
static inline char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *sh_out(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		return strdup("");
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	size_t n;
	while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
		}
	}
	out[len] = '\0';
	pclose(p);
	return out;
}

/* fsck_clean: e2fsck -fn exits 0 on the image. Prints its output if not. */
static inline int fsck_clean(const char *img)
{
	char *out = sh_out("e2fsck -fn '%s' 2>&1; echo \"rc=$?\"", img);
	int ok = strstr(out, "rc=0\n") != NULL;
	if (!ok)
		fprintf(stderr, "e2fsck -fn %s:\n%s\n", img, out);
	free(out);
	return ok;
}

/* A field of `debugfs -R 'stat PATH'`, e.g. "Links: " -> the number after. */
static inline long dbg_stat_field(const char *img, const char *path, const char *field)
{
	char *out = sh_out("debugfs -R 'stat \"%s\"' '%s' 2>/dev/null", path, img);
	char *p = strstr(out, field);
	long v = p ? strtol(p + strlen(field), NULL, 0) : -1;
	free(out);
	return v;
}

/* A superblock field of dumpe2fs -h, e.g. "Free blocks:". */
static inline long sb_field(const char *img, const char *field)
{
	char *out = sh_out("dumpe2fs -h '%s' 2>/dev/null", img);
	char *p = strstr(out, field);
	long v = p ? strtol(p + strlen(field), NULL, 10) : -1;
	free(out);
	return v;
}

/* ---- Kernel side ------------------------------------------------------- */

/* resolve: walk an absolute path from the root with lookup (no symlinks). */
static inline int resolve(struct fs *fs, const char *path, uint64_t *ino)
{
	uint64_t cur = fs->ops->root(fs);
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		int rc = fs->ops->lookup(fs, cur, p, (size_t)(e - p), &cur);
		if (rc < 0)
			return rc;
		p = e;
	}
	*ino = cur;
	return 0;
}

/* Split "/a/b/c" into the parent's inode and the last name. */
static inline int parent_of(struct fs *fs, const char *path, uint64_t *dir, const char **name)
{
	const char *slash = strrchr(path, '/');
	char parent[512];
	size_t n = (size_t)(slash - path);
	memcpy(parent, path, n);
	parent[n] = '\0';
	*name = slash + 1;
	return resolve(fs, n ? parent : "/", dir);
}

static inline int k_create(struct fs *fs, const char *path, uint32_t mode, uint64_t *ino)
{
	uint64_t dir, tmp;
	const char *name;
	int rc = parent_of(fs, path, &dir, &name);
	if (rc < 0)
		return rc;
	return fs->ops->mknod(fs, dir, name, strlen(name), mode, 0, 0, 0, ino ? ino : &tmp);
}

static inline int k_mkdir(struct fs *fs, const char *path)
{
	uint64_t dir, ino;
	const char *name;
	int rc = parent_of(fs, path, &dir, &name);
	if (rc < 0)
		return rc;
	return fs->ops->mkdir(fs, dir, name, strlen(name), 0755, 0, 0, &ino);
}

static inline int k_unlink(struct fs *fs, const char *path)
{
	uint64_t dir;
	const char *name;
	int rc = parent_of(fs, path, &dir, &name);
	if (rc < 0)
		return rc;
	return fs->ops->unlink(fs, dir, name, strlen(name));
}

static inline int k_rmdir(struct fs *fs, const char *path)
{
	uint64_t dir;
	const char *name;
	int rc = parent_of(fs, path, &dir, &name);
	if (rc < 0)
		return rc;
	return fs->ops->rmdir(fs, dir, name, strlen(name));
}

static inline int k_rename(struct fs *fs, const char *from, const char *to)
{
	uint64_t fd, td;
	const char *fn, *tn;
	int rc = parent_of(fs, from, &fd, &fn);
	if (rc == 0)
		rc = parent_of(fs, to, &td, &tn);
	if (rc < 0)
		return rc;
	return fs->ops->rename(fs, fd, fn, strlen(fn), td, tn, strlen(tn));
}

static inline int k_symlink(struct fs *fs, const char *path, const char *target)
{
	uint64_t dir, ino;
	const char *name;
	int rc = parent_of(fs, path, &dir, &name);
	if (rc < 0)
		return rc;
	return fs->ops->symlink(fs, dir, name, strlen(name), target, 0, 0, &ino);
}

/* Write len bytes of a pattern at off into path (created if missing). */
static inline int k_write_pattern(struct fs *fs, const char *path, uint64_t off, size_t len,
                                  unsigned seed)
{
	uint64_t ino;
	int rc = resolve(fs, path, &ino);
	if (rc == -ENOENT)
		rc = k_create(fs, path, S_IFREG | 0644, &ino);
	if (rc < 0)
		return rc;
	unsigned char chunk[4096];
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = (unsigned char)((off + done + i) * 7 + seed);
		ssize_t w = fs->ops->write(fs, ino, chunk, n, off + done);
		if (w < 0)
			return (int)w;
		if ((size_t)w != n)
			return -EIO;
		done += n;
	}
	return 0;
}

/* Host side of the same pattern. */
static inline void host_pattern(unsigned char *buf, uint64_t off, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)((off + i) * 7 + seed);
}

/* Host file file holds exactly len bytes of the pattern: seed over
 * [0, split), seed2 over [split, len). */
static inline bool host_file_holds(const char *file, size_t len, size_t split, unsigned seed,
                                   unsigned seed2)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return false;
	unsigned char *got = malloc(len + 1), *want = malloc(len);
	size_t n = fread(got, 1, len + 1, f);
	fclose(f);
	host_pattern(want, 0, split, seed);
	host_pattern(want + split, split, len - split, seed2);
	bool ok = n == len && memcmp(got, want, len) == 0;
	free(got);
	free(want);
	return ok;
}

/* The same for file path of image img, read with debugfs. */
static inline bool image_file_holds(const char *img, const char *path, size_t len, size_t split,
                                    unsigned seed, unsigned seed2)
{
	char out[300];
	snprintf(out, sizeof(out), "%s/dump.out", tdir);
	unlink(out);
	if (sh("debugfs -R 'dump %s %s' '%s' >/dev/null 2>&1", path, out, img) != 0)
		return false;
	return host_file_holds(out, len, split, seed, seed2);
}

/* Boot a kernel with the image as disk 0 and run body. */
static inline int run_with_image(const char *img, unsigned cpus, kernel_body body, void *arg)
{
	struct posix_config cfg = { .cpus = cpus, .ndisks = 1 };
	cfg.disk_path[0] = img;
	return run_in_kernel_cfg(&cfg, body, arg);
}

#endif
