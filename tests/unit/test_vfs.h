/*
 * test_vfs.h: helpers shared by the VFS tests (tests/unit/test_vfs*.c).
 *
 * FS_TEST(suite, name) { ...body... } defines one body that runs inside a
 * booted kernel once per file system: on a ramfs mounted at "/", and on
 * ext2 images made in a temporary directory by mke2fs (1 and 4 KiB blocks)
 * and genext2fs (checked with e2fsck -fn afterwards). The body reports its first failed EXPECT through
 * the outcome, which the Criterion test asserts on outside the kernel. Each
 * run ends by unmounting "/", which fails (-EBUSY) if the body leaked an
 * open file.
 */
#ifndef TESTS_TEST_VFS_H
#define TESTS_TEST_VFS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkdev.h"
#include "console.h"
#include "harness.h"
#include "ramfs.h"
#include "vfs.h"

/* Set to 1 once the ext2 driver is linked into libtoro.a. */
#ifndef VFS_TEST_EXT2
#define VFS_TEST_EXT2 1
#endif

struct outcome {
	int line;
	char msg[512];
};

static struct outcome *outcome_of;  /* the running case's, set before boot */

static void fail_at(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_at(int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	outcome_of->line = line;
	kvsnprintf(outcome_of->msg, sizeof(outcome_of->msg), fmt, ap);
	va_end(ap);
}

#define EXPECT(cond) do { \
	if (!(cond)) { fail_at(__LINE__, "%s", #cond); return 1; } \
} while (0)

/* EXPECT_RC(call, want): call returns exactly want (0, a count, -Exxx). */
#define EXPECT_RC(call, want) do { \
	long long r_ = (long long)(call), w_ = (long long)(want); \
	if (r_ != w_) { \
		fail_at(__LINE__, "%s = %lld, expected %lld", #call, r_, w_); \
		return 1; \
	} \
} while (0)

/* EXPECT_FD(var, call): call returns a descriptor, kept in var. */
#define EXPECT_FD(var, call) do { \
	long long r_ = (long long)(call); \
	if (r_ < 0) { fail_at(__LINE__, "%s = %lld, expected a descriptor", #call, r_); return 1; } \
	var = (int)r_; \
} while (0)

enum fs_kind { FS_RAMFS, FS_EXT2_1K, FS_EXT2_4K, FS_GENEXT2FS };

struct fs_case {
	enum fs_kind kind;
	int (*body)(void);
	struct outcome out;
};

static int fs_case_main(void *arg)
{
	struct fs_case *c = arg;
	outcome_of = &c->out;
	int rc = c->kind == FS_RAMFS ? vfs_mount("/", "ramfs", NULL, 0)
	                             : vfs_mount("/", "ext2", blkdev_get(0), 0);
	if (rc < 0) {
		fail_at(0, "mount / = %d", rc);
		return 1;
	}
	rc = c->body();
	int u = vfs_unmount("/");
	if (rc == 0 && u < 0) {
		fail_at(0, "unmount / after the body = %d (a file left open?)", u);
		rc = 1;
	}
	return rc;
}

/* A fresh ext2 image of size_kib with block size bsize in a temp dir, by
 * mke2fs, or by genext2fs (1 KiB blocks) when bsize is 0. */
static void make_image(char *path, size_t size, int bsize, unsigned size_kib)
{
	snprintf(path, size, "/tmp/toro-vfs-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	char cmd[512];
	if (bsize)
		snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin mke2fs -q -F -t ext2 -b %d %s %uk "
		         ">/dev/null 2>&1", bsize, path, size_kib);
	else
		snprintf(cmd, sizeof(cmd), "genext2fs -B 1024 -b %u -N 1024 %s >/dev/null 2>&1",
		         size_kib, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void run_fs_case_mem(enum fs_kind kind, int (*body)(void), size_t mem_bytes,
                            unsigned image_kib)
{
	struct fs_case c = { .kind = kind, .body = body };
	struct posix_config cfg = { .cpus = 2, .mem_bytes = mem_bytes };
	char image[64] = "";
	if (kind != FS_RAMFS) {
		make_image(image, sizeof(image),
		           kind == FS_EXT2_1K ? 1024 : kind == FS_EXT2_4K ? 4096 : 0, image_kib);
		cfg.ndisks = 1;
		cfg.disk_path[0] = image;
	}
	int rc = run_in_kernel_cfg(&cfg, fs_case_main, &c);
	if (rc != 0 && image[0])
		unlink(image);
	cr_assert_eq(rc, 0, "line %d: %s", c.out.line, c.out.msg);
	if (image[0]) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin e2fsck -fn %s >/dev/null 2>&1",
		         image);
		int fsck = system(cmd);
		if (fsck != 0) {
			snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin e2fsck -fn %s >&2", image);
			(void)!system(cmd);
		}
		unlink(image);
		cr_assert_eq(fsck, 0, "e2fsck found errors");
	}
}

static inline void run_fs_case(enum fs_kind kind, int (*body)(void))
{
	run_fs_case_mem(kind, body, 0, 16384);
}

#if VFS_TEST_EXT2
#define FS_TEST(suite, name) \
	static int name##_body(void); \
	Test(suite, name##_ramfs) { run_fs_case(FS_RAMFS, name##_body); } \
	Test(suite, name##_ext2_1k) { run_fs_case(FS_EXT2_1K, name##_body); } \
	Test(suite, name##_ext2_4k) { run_fs_case(FS_EXT2_4K, name##_body); } \
	Test(suite, name##_genext2fs) { run_fs_case(FS_GENEXT2FS, name##_body); } \
	static int name##_body(void)
#else
#define FS_TEST(suite, name) \
	static int name##_body(void); \
	Test(suite, name##_ramfs) { run_fs_case(FS_RAMFS, name##_body); } \
	static int name##_body(void)
#endif

/* Write a whole file; 0 or -errno. */
static inline int put_file(const char *path, const char *text)
{
	int fd = vfs_open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	size_t len = strlen(text);
	ssize_t n = vfs_write(fd, text, len);
	vfs_close(fd);
	return n < 0 ? (int)n : (size_t)n == len ? 0 : -EIO;
}

/* Read up to size-1 bytes of a file into buf, NUL-terminated; length or -errno. */
static inline ssize_t get_file(const char *path, char *buf, size_t size)
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	ssize_t n = vfs_read(fd, buf, size - 1);
	vfs_close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

#endif
