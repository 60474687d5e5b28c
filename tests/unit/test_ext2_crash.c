/*
 * test_ext2_crash.c: a kernel killed (SIGKILL) in the middle of writing
 * leaves an image that is marked not clean, that e2fsck -fy repairs, and
 * that still holds every file that was fsync'ed before the kill.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "ext2_test_util.h"

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
