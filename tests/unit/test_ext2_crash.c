/*
 * test_ext2_crash.c: a kernel killed (SIGKILL) in the middle of writing
 * leaves an image that is marked not clean, that e2fsck -fy repairs, and
 * that still holds every file that was fsync'ed before the kill. And on a
 * plain image whose device dies after N writes, for every N of a workload
 * that appends through indirect blocks: e2fsck finds nothing that the
 * write order must prevent, and each file is a prefix of what was written
 * (no hole under its size, no block past it).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "ext2_test_util.h"
#include "hal.h"

static char img[256];
static volatile int *synced;

#define KEEP_LEN 200000

static int crash_body(void *arg)
{
	struct fs *fs;
	uint64_t ino;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 1;
	if (k_mkdir(fs, "/d") < 0 || k_write_pattern(fs, "/d/keep", 0, KEEP_LEN, 5) < 0 ||
	    resolve(fs, "/d/keep", &ino) < 0 || fs->ops->fsync(fs, ino) < 0)
		return 2;
	*synced = 1;
	/* Keep the disk busy until killed: files come and go, some get synced. */
	char path[64];
	for (unsigned i = 0;; i++) {
		snprintf(path, sizeof(path), "/junk%u", i % 50);
		k_unlink(fs, path);
		k_write_pattern(fs, path, 0, 30000 + (i % 7) * 10000, i);
		if (i % 3 == 0) {
			snprintf(path, sizeof(path), "/dir%u", i % 20);
			if (k_mkdir(fs, path) == -EEXIST)
				k_rmdir(fs, path);
		}
		if (i % 17 == 0)
			fs->ops->sync(fs);
	}
}

static void crash_case(long delay_ms)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/crash.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 '%s' 16M >/dev/null 2>&1", img), 0);
	synced = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*synced = 0;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(60);
		_exit(run_with_image(img, 2, crash_body, NULL));
	}
	for (int i = 0; i < 2000 && !*synced; i++)
		usleep(5000);
	cr_assert(*synced, "the kernel reached its fsync");
	struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "killed, not ended by itself");

	char *state = sh_out("dumpe2fs -h '%s' 2>/dev/null | grep '^Filesystem state:'", img);
	cr_expect(strstr(state, "not clean") != NULL, "marked not clean while mounted: %s", state);
	free(state);
	int rc = sh("e2fsck -fy '%s' >/dev/null 2>&1", img);
	cr_expect(rc == 0 || rc == 1, "e2fsck -fy repaired it (exit %d)", rc);
	cr_log_info("kill after %ld ms: e2fsck -fy exit %d", delay_ms, rc);
	cr_expect(fsck_clean(img), "clean after the repair");
	char out[300];
	snprintf(out, sizeof(out), "%s/keep.out", tdir);
	cr_assert_eq(sh("debugfs -R 'dump /d/keep %s' '%s' >/dev/null 2>&1", out, img), 0);
	FILE *f = fopen(out, "r");
	cr_assert(f);
	unsigned char *got = malloc(KEEP_LEN + 1), *want = malloc(KEEP_LEN);
	cr_expect_eq(fread(got, 1, KEEP_LEN + 1, f), KEEP_LEN);
	fclose(f);
	host_pattern(want, 0, KEEP_LEN, 5);
	cr_expect_eq(memcmp(got, want, KEEP_LEN), 0, "the fsync'ed file survived");
	free(got);
	free(want);
	munmap((void *)synced, 4096);
	tmp_cleanup();
}

Test(ext2_crash, kill_early) { crash_case(5); }
Test(ext2_crash, kill_midway) { crash_case(150); }
Test(ext2_crash, kill_late) { crash_case(600); }

/* ---- The device dies after N writes ----------------------------------- */

static volatile int *workload_done;

static int k_truncate(struct fs *fs, const char *path, uint64_t size)
{
	uint64_t ino;
	int rc = resolve(fs, path, &ino);
	struct vfs_setattr sa = { .mask = VFS_SET_SIZE, .size = size };
	return rc < 0 ? rc : fs->ops->setattr(fs, ino, &sa);
}

/* Files grow, then shrink, inside an indirect block that is on disk
 * already (/a: its single indirect block; /b: an indirect block under its
 * double indirect one), between checkpoints; /d is cut inside a block and
 * grown past its old size again before the next checkpoint. */
#define D_OLD 20000
#define D_CUT 15000
#define D_GROWN 40000
static int append_body(void *arg)
{
	unsigned long fail_after = (unsigned long)arg;
	hal_posix_blk_fail(0, 1u << HAL_BLK_WRITE, fail_after);
	struct fs *fs;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 0;
	int rc = k_write_pattern(fs, "/a", 0, 20000, 1);
	rc |= k_write_pattern(fs, "/b", 0, 300000, 2);
	rc |= k_write_pattern(fs, "/d", 0, D_OLD, 4);
	rc |= fs->ops->sync(fs);
	rc |= k_write_pattern(fs, "/a", 20000, 10000, 1);
	rc |= k_write_pattern(fs, "/b", 300000, 30000, 2);
	rc |= k_write_pattern(fs, "/c", 0, 5000, 3);
	rc |= fs->ops->sync(fs);
	rc |= k_truncate(fs, "/a", 15000);
	rc |= k_truncate(fs, "/b", 290000);
	rc |= fs->ops->sync(fs);
	rc |= k_write_pattern(fs, "/a", 15000, 5000, 1);
	rc |= k_truncate(fs, "/d", D_CUT);
	rc |= k_truncate(fs, "/d", D_GROWN);
	rc |= fs->ops->sync(fs);
	rc |= fs->ops->unmount(fs);
	*workload_done = rc == 0;
	return 0;
}

/* path in img, if it exists, holds its pattern over its whole length. */
static bool holds_prefix(const char *img, const char *path, unsigned seed)
{
	char *out = sh_out("debugfs -R 'stat %s' '%s' 2>/dev/null | "
	                   "sed -n 's/.*Size: \\([0-9]*\\).*/\\1/p'", path, img);
	size_t len = strtoul(out, NULL, 10);
	free(out);
	return len == 0 || image_file_holds(img, path, len, len, seed, seed);
}

/* /d as it may be: absent, or a prefix of its old bytes (maybe with zeros
 * past the cut: the cut block's tail), or grown, zeros past the cut. Never
 * old bytes past the cut under the grown size. */
static bool d_is_whole(const char *img)
{
	char *out = sh_out("debugfs -R 'stat /d' '%s' 2>/dev/null | "
	                   "sed -n 's/.*Size: \\([0-9]*\\).*/\\1/p'", img);
	size_t len = strtoul(out, NULL, 10);
	free(out);
	if (len == 0)
		return true;
	if (len > D_OLD && len != D_GROWN)
		return false;
	char path[300];
	snprintf(path, sizeof(path), "%s/d.out", tdir);
	if (sh("debugfs -R 'dump /d %s' '%s' >/dev/null 2>&1", path, img) != 0)
		return false;
	unsigned char *got = malloc(len), *want = malloc(len);
	FILE *f = fopen(path, "r");
	bool ok = f && got && want && fread(got, 1, len, f) == len;
	if (f)
		fclose(f);
	host_pattern(want, 0, len, 4);
	for (size_t i = 0; ok && i < len; i++) {
		bool zero_ok = i >= D_CUT, old_ok = len != D_GROWN || i < D_CUT;
		ok = (got[i] == want[i] && old_ok) || (got[i] == 0 && zero_ok);
	}
	free(got);
	free(want);
	return ok;
}

Test(ext2_crash, plain_device_dies_at_every_write, .timeout = 600)
{
	tmp_dir();
	char base[256];
	snprintf(base, sizeof(base), "%s/base.img", tdir);
	snprintf(img, sizeof(img), "%s/img.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 '%s' 8M >/dev/null 2>&1", base), 0);
	workload_done = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long n;
	for (n = 0; n < 3000; n++) {
		*workload_done = 0;
		cr_assert_eq(sh("cp '%s' '%s'", base, img), 0);
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			alarm(30);
			_exit(run_with_image(img, 2, append_body, (void *)n));
		}
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status), "N=%lu: the kernel died (status %x)", n, status);
		if (*workload_done)
			break;
		char *bad = sh_out("e2fsck -fy '%s' 2>&1 | grep -Ei 'illegal|multiply-claimed|"
		                   "i_size is [0-9]+, should be|deleted/unused inode|bad block'", img);
		cr_expect_str_empty(bad, "N=%lu: e2fsck repaired what the order prevents: %s", n, bad);
		free(bad);
		const char *files[] = { "/a", "/b", "/c" };
		for (unsigned f = 0; f < 3; f++)
			cr_expect(holds_prefix(img, files[f], f + 1), "N=%lu: %s a prefix of its data",
			          n, files[f]);
		cr_expect(d_is_whole(img), "N=%lu: /d cut and grown: no old bytes past the cut", n);
	}
	cr_log_info("the device died after each of the first %lu writes", n);
	cr_expect(*workload_done, "the workload completes with enough writes");
	munmap((void *)workload_done, 4096);
	tmp_cleanup();
}
