/*
 * FsSuite: the storage scenarios, run inside the kernel on whatever disks
 * the platform has: the same source on posix (image files) and on bare
 * (IDE disks in QEMU). Disk 0 (an empty ext2, 1 KiB blocks, >= 80 MiB so a
 * sparse file reaches the triple-indirect blocks) is mounted at "/"; disk 1
 * (a small ext2, a few hundred KiB free) at "/small" for ENOSPC.
 *
 * Each scenario prints "PASS: name" or "FAIL: name (detail)"; the last line
 * is "N passed, N failed" and the exit status 0 only when all passed. The
 * suite leaves /keep behind for the host to check with debugfs:
 *   /keep/hello.txt   "hello, toro\n" written, appended, renamed into place
 *   /keep/hard        a hard link to /keep/hello.txt (link count 2)
 *   /keep/sym         a symlink to "hello.txt"
 *   /keep/sparse      75 MiB + 5 bytes: "TRIPLE" at 75 MiB, "DOUBLE" at 2 MiB
 *   /keep/many/       300 empty files f000..f299
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "blkdev.h"
#include "toro.h"
#include "vfs.h"

static int passed, failed;

static void result(bool ok, const char *name, long detail)
{
	if (ok) {
		passed++;
		WriteConsoleF("PASS: %s\n", name);
	} else {
		failed++;
		WriteConsoleF("FAIL: %s (%ld)\n", name, detail);
	}
}

/* CHECK(name, expr): expr is an int/long; passes when it is 0. */
#define CHECK(name, expr) do { long _v = (expr); result(_v == 0, name, _v); } while (0)
/* EXPECT(name, expr, want): passes when expr == want. */
#define EXPECT(name, expr, want) do { long _v = (expr); result(_v == (long)(want), name, _v); } while (0)

static long write_file(const char *path, const void *data, size_t len, int flags)
{
	int fd = vfs_open(path, flags, 0644);
	if (fd < 0)
		return fd;
	long n = vfs_write(fd, data, len);
	int rc = vfs_close(fd);
	if (n < 0)
		return n;
	if ((size_t)n != len)
		return -EIO;
	return rc;
}

/* Read a whole small file into buf (NUL-terminated); its length or -errno. */
static long read_file(const char *path, char *buf, size_t size)
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	long total = 0, n;
	while ((n = vfs_read(fd, buf + total, size - 1 - (size_t)total)) > 0)
		total += n;
	vfs_close(fd);
	buf[total] = 0;
	return n < 0 ? n : total;
}

static long content_is(const char *path, const char *want)
{
	char buf[256];
	long n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	return strcmp(buf, want) == 0 ? 0 : 1;
}

static void basic_files(void)
{
	CHECK("mkdir /keep", vfs_mkdir("/keep", 0755));
	CHECK("mkdir /work", vfs_mkdir("/work", 0755));
	int fd = SysCreateFile("/work/a.txt");
	result(fd >= 0, "SysCreateFile /work/a.txt", fd);
	if (fd >= 0) {
		EXPECT("write 6 bytes", SysWriteFile(fd, 6, "hello,"), 6);
		EXPECT("seek to 0", SysSeekFile(fd, 0, SEEK_SET), 0);
		char buf[16] = { 0 };
		EXPECT("read back 6 bytes", SysReadFile(fd, sizeof(buf), buf), 6);
		CHECK("read back the same bytes", memcmp(buf, "hello,", 6));
		EXPECT("read at the end is 0", SysReadFile(fd, sizeof(buf), buf), 0);
		EXPECT("seek SEEK_CUR -2", SysSeekFile(fd, -2, SEEK_CUR), 4);
		EXPECT("seek SEEK_END 0", SysSeekFile(fd, 0, SEEK_END), 6);
		SysCloseFile(fd);
	}
	CHECK("append with O_APPEND", write_file("/work/a.txt", " toro\n", 6, O_WRONLY | O_APPEND));
	CHECK("appended content", content_is("/work/a.txt", "hello, toro\n"));
	CHECK("overwrite in the middle (pwrite)", ({
		int f = vfs_open("/work/a.txt", O_RDWR, 0);
		long r = f < 0 ? f : vfs_pwrite(f, "H", 1, 0) == 1 ? 0 : -EIO;
		if (f >= 0) vfs_close(f);
		r; }));
	CHECK("content after pwrite", content_is("/work/a.txt", "Hello, toro\n"));
	CHECK("pwrite back", ({
		int f = vfs_open("/work/a.txt", O_RDWR, 0);
		long r = f < 0 ? f : vfs_pwrite(f, "h", 1, 0) == 1 ? 0 : -EIO;
		if (f >= 0) vfs_close(f);
		r; }));
}

static void names(void)
{
	CHECK("rename a file", vfs_rename("/work/a.txt", "/work/b.txt"));
	EXPECT("old name gone", vfs_stat("/work/a.txt", &(struct vfs_stat){0}), -ENOENT);
	CHECK("new name has the data", content_is("/work/b.txt", "hello, toro\n"));
	CHECK("write a replacement target", write_file("/work/c.txt", "old", 3, O_WRONLY | O_CREAT));
	CHECK("rename over an existing file", vfs_rename("/work/b.txt", "/work/c.txt"));
	CHECK("replaced file has the new data", content_is("/work/c.txt", "hello, toro\n"));
	CHECK("rename across directories", vfs_rename("/work/c.txt", "/keep/hello.txt"));
	CHECK("mkdir /work/d1", vfs_mkdir("/work/d1", 0755));
	CHECK("file inside d1", write_file("/work/d1/x", "x", 1, O_WRONLY | O_CREAT));
	CHECK("rename a directory", vfs_rename("/work/d1", "/work/d2"));
	CHECK("file follows its directory", content_is("/work/d2/x", "x"));

	CHECK("hard link", vfs_link("/keep/hello.txt", "/keep/hard"));
	struct vfs_stat st;
	CHECK("stat the link", vfs_stat("/keep/hard", &st));
	EXPECT("link count 2", st.nlink, 2);
	CHECK("symlink", vfs_symlink("hello.txt", "/keep/sym"));
	char target[64] = { 0 };
	EXPECT("readlink", vfs_readlink("/keep/sym", target, sizeof(target)), 9);
	CHECK("readlink target", strcmp(target, "hello.txt"));
	CHECK("read through the symlink", content_is("/keep/sym", "hello, toro\n"));
	CHECK("lstat is a link", vfs_lstat("/keep/sym", &st) || !S_ISLNK(st.mode));

	CHECK("link then unlink the original", ({
		long r = vfs_link("/work/d2/x", "/work/x2");
		r = r ? r : vfs_unlink("/work/d2/x");
		r = r ? r : content_is("/work/x2", "x");
		r; }));
	CHECK("unlink", vfs_unlink("/work/x2"));
	CHECK("rmdir an empty directory", vfs_rmdir("/work/d2"));
	EXPECT("rmdir'd directory is gone", vfs_stat("/work/d2", &st), -ENOENT);
}

static void errors(void)
{
	struct vfs_stat st;
	EXPECT("SysCreateDir existing: -EEXIST", SysCreateDir("/keep"), -EEXIST);
	EXPECT("SysCreateFile existing: -EEXIST", SysCreateFile("/keep/hello.txt"), -EEXIST);
	EXPECT("open missing: -ENOENT", SysOpenFile("/keep/nothing", O_RDONLY), -ENOENT);
	EXPECT("unlink missing: -ENOENT", vfs_unlink("/keep/nothing"), -ENOENT);
	EXPECT("stat under a missing dir: -ENOENT", vfs_stat("/nope/x", &st), -ENOENT);
	CHECK("mkdir /work/full", vfs_mkdir("/work/full", 0755));
	CHECK("a file in it", write_file("/work/full/f", "f", 1, O_WRONLY | O_CREAT));
	EXPECT("rmdir non-empty: -ENOTEMPTY", vfs_rmdir("/work/full"), -ENOTEMPTY);
	EXPECT("open a directory for writing: -EISDIR", SysOpenFile("/work/full", O_WRONLY), -EISDIR);
	EXPECT("unlink a directory: -EISDIR", vfs_unlink("/work/full"), -EISDIR);
	EXPECT("mkdir under a file: -ENOTDIR", vfs_mkdir("/work/full/f/d", 0755), -ENOTDIR);
	EXPECT("rmdir a file: -ENOTDIR", vfs_rmdir("/work/full/f"), -ENOTDIR);
	EXPECT("open file/x: -ENOTDIR", SysOpenFile("/work/full/f/x", O_RDONLY), -ENOTDIR);
	CHECK("clean up", vfs_unlink("/work/full/f") || vfs_rmdir("/work/full"));
}

static void truncation(void)
{
	struct vfs_statfs before, after;
	struct vfs_stat st;
	CHECK("statfs /", vfs_statfs("/", &before));
	CHECK("file for truncate", write_file("/work/t", "abcdef", 6, O_WRONLY | O_CREAT));
	CHECK("truncate grow to 100000", vfs_truncate("/work/t", 100000));
	CHECK("size 100000", vfs_stat("/work/t", &st) || st.size != 100000);
	CHECK("grown part reads zeros", ({
		char buf[64];
		int f = vfs_open("/work/t", O_RDONLY, 0);
		long r = f < 0 ? f : vfs_pread(f, buf, sizeof(buf), 99000) == sizeof(buf) ? 0 : -EIO;
		for (size_t i = 0; r == 0 && i < sizeof(buf); i++)
			if (buf[i]) r = 1;
		if (f >= 0) vfs_close(f);
		r; }));
	CHECK("fill it with data", ({
		char *buf = kmalloc(100000);
		long r = buf ? 0 : -ENOMEM;
		if (buf) {
			memset(buf, 'z', 100000);
			r = write_file("/work/t", buf, 100000, O_WRONLY);
			kfree(buf);
		}
		r; }));
	CHECK("truncate shrink to 3", vfs_truncate("/work/t", 3));
	CHECK("shrunk content", content_is("/work/t", "zzz"));
	CHECK("unlink it", vfs_unlink("/work/t"));
	CHECK("statfs again", vfs_statfs("/", &after));
	EXPECT("free blocks back after grow+fill+shrink+unlink", (long)(after.bfree - before.bfree), 0);
	EXPECT("free inodes back", (long)(after.ffree - before.ffree), 0);
}

static void indirect(void)
{
	struct vfs_statfs sf = { .bsize = 1024 };
	if (vfs_statfs("/", &sf) == 0 && sf.bsize != 1024)
		WriteConsoleF("FsSuite: note: block size %u, not 1024\n", sf.bsize);
	int fd = vfs_open("/keep/sparse", O_RDWR | O_CREAT | O_EXCL, 0644);
	result(fd >= 0, "create /keep/sparse", fd);
	if (fd < 0)
		return;
	EXPECT("write at 2 MiB (double indirect)", vfs_pwrite(fd, "DOUBLE", 6, 2u << 20), 6);
	EXPECT("write at 75 MiB (triple indirect)", vfs_pwrite(fd, "TRIPLE", 6, 75u << 20), 6);
	char buf[8] = { 0 };
	EXPECT("read back at 2 MiB", vfs_pread(fd, buf, 6, 2u << 20), 6);
	CHECK("double-indirect data", memcmp(buf, "DOUBLE", 6));
	EXPECT("read back at 75 MiB", vfs_pread(fd, buf, 6, 75u << 20), 6);
	CHECK("triple-indirect data", memcmp(buf, "TRIPLE", 6));
	EXPECT("a hole reads zeros", vfs_pread(fd, buf, 4, 40u << 20), 4);
	CHECK("hole is zero", buf[0] | buf[1] | buf[2] | buf[3]);
	struct vfs_stat st;
	CHECK("fstat", vfs_fstat(fd, &st));
	EXPECT("size 75 MiB + 6", (long)st.size, (75l << 20) + 6);
	/* Two data blocks and their map: 7 blocks with 1 KiB blocks, fewer with larger. */
	CHECK("sparse: few blocks allocated", st.blocks > 8 * (sf.bsize / 512));
	/* A copy through a shrink: write a second file the same way, truncate
	 * it below the double-indirect range and unlink it. */
	vfs_close(fd);
	struct vfs_statfs before, after;
	vfs_statfs("/", &before);
	CHECK("second triple-indirect file", write_file("/work/tmp", "x", 1, O_WRONLY | O_CREAT));
	CHECK("grow it past 64 MiB by writing", ({
		int f = vfs_open("/work/tmp", O_WRONLY, 0);
		long r = f < 0 ? f : vfs_pwrite(f, "end", 3, 70u << 20) == 3 ? 0 : -EIO;
		if (f >= 0) vfs_close(f);
		r; }));
	CHECK("shrink it to 1 KiB", vfs_truncate("/work/tmp", 1024));
	CHECK("unlink it", vfs_unlink("/work/tmp"));
	vfs_statfs("/", &after);
	EXPECT("indirect blocks all freed", (long)(after.bfree - before.bfree), 0);
}

struct count_ctx { int n; };

static int count_entry(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	((struct count_ctx *)ctx)->n++;
	return 0;
}

static long count_dir(const char *path)
{
	struct count_ctx c = { 0 };
	int fd = vfs_open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	int rc;
	do {
		int before = c.n;
		rc = vfs_readdir(fd, count_entry, &c);
		if (rc == 0 && c.n == before)
			break;
	} while (rc >= 0);
	vfs_close(fd);
	return rc < 0 ? rc : c.n;
}

static void big_directory(void)
{
	char path[64];
	CHECK("mkdir /keep/many", vfs_mkdir("/keep/many", 0755));
	CHECK("mkdir /work/many", vfs_mkdir("/work/many", 0755));
	long bad = 0;
	for (int i = 0; i < 300; i++) {
		ksnprintf(path, sizeof(path), "/keep/many/f%03d", i);
		if (!bad)
			bad = write_file(path, "", 0, O_WRONLY | O_CREAT | O_EXCL);
	}
	CHECK("300 files in /keep/many", bad);
	EXPECT("readdir sees 302 entries", count_dir("/keep/many"), 302);
	for (int i = 0; i < 600 && !bad; i++) {
		ksnprintf(path, sizeof(path), "/work/many/a-rather-long-file-name-%04d", i);
		bad = write_file(path, path, strlen(path), O_WRONLY | O_CREAT | O_EXCL);
	}
	CHECK("600 files with long names in /work/many", bad);
	EXPECT("readdir sees 602 entries", count_dir("/work/many"), 602);
	CHECK("a file in the middle", content_is("/work/many/a-rather-long-file-name-0321",
	                                         "/work/many/a-rather-long-file-name-0321"));
	for (int i = 0; i < 600 && !bad; i++) {
		ksnprintf(path, sizeof(path), "/work/many/a-rather-long-file-name-%04d", i);
		bad = vfs_unlink(path);
	}
	CHECK("unlink all 600", bad);
	CHECK("rmdir the emptied directory", vfs_rmdir("/work/many"));
}

static void no_space(void)
{
	if (blkdev_count() < 2) {
		result(false, "ENOSPC: needs a second (small) disk", 0);
		return;
	}
	CHECK("mkdir /small", vfs_mkdir("/small", 0755));
	CHECK("mount disk 1 at /small", SysMount("/small", "ext2", 1, 0));
	struct vfs_statfs before, full, after;
	CHECK("statfs /small", vfs_statfs("/small", &before));
	int fd = vfs_open("/small/fill", O_WRONLY | O_CREAT, 0644);
	result(fd >= 0, "create /small/fill", fd);
	if (fd < 0)
		return;
	char *chunk = kmalloc(8192);
	memset(chunk, 'F', 8192);
	long n = 0, total = 0;
	for (int i = 0; i < 100000; i++) {
		n = vfs_write(fd, chunk, 8192);
		if (n <= 0)
			break;
		total += n;
	}
	kfree(chunk);
	EXPECT("writing until full ends with -ENOSPC", n, -ENOSPC);
	result(total > 0, "something was written before ENOSPC", total);
	vfs_close(fd);
	CHECK("statfs when full", vfs_statfs("/small", &full));
	EXPECT("no free blocks left", (long)full.bfree, 0);
	int i = 0;
	long rc = 0;
	char path[32];
	for (; i < 100000; i++) {
		ksnprintf(path, sizeof(path), "/small/e%d", i);
		rc = write_file(path, "", 0, O_WRONLY | O_CREAT | O_EXCL);
		if (rc)
			break;
	}
	EXPECT("creating empty files until the inodes run out: -ENOSPC", rc, -ENOSPC);
	for (int j = 0; j < i; j++) {
		ksnprintf(path, sizeof(path), "/small/e%d", j);
		vfs_unlink(path);
	}
	CHECK("unlink the big file", vfs_unlink("/small/fill"));
	CHECK("statfs after", vfs_statfs("/small", &after));
	EXPECT("free blocks recovered", (long)(after.bfree - before.bfree), 0);
	EXPECT("free inodes recovered", (long)(after.ffree - before.ffree), 0);
	CHECK("write works again", write_file("/small/again", "ok", 2, O_WRONLY | O_CREAT));
	CHECK("unmount /small", SysUnmount("/small"));
}

int main(int argc, char **argv)
{
	int rc = SysMount("/", "ext2", 0, 0);
	if (rc < 0) {
		WriteConsoleF("FsSuite: mount of disk 0 failed (%d)\n0 passed, 1 failed\n", rc);
		return 1;
	}
	uint64_t t0 = GetTickCountNs();
	basic_files();
	names();
	errors();
	truncation();
	indirect();
	big_directory();
	no_space();
	CHECK("unmount /", SysUnmount("/"));
	WriteConsoleF("FsSuite: %lu ms\n", (unsigned long)((GetTickCountNs() - t0) / 1000000));
	WriteConsoleF("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
