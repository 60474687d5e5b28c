/*
 * test_ext2_journal.c: the journal writer against a device that dies. A
 * fixed workload of metadata changes (with a sync and an fsync inside) runs
 * on an ext3 image whose writes start failing after N of them, for every N
 * until the workload completes: the device "loses power" at every point of
 * every commit and checkpoint. Each image left behind must then:
 *   - mount with our driver, which replays the journal, and be clean for
 *     e2fsck -fn afterwards (no repair at all);
 *   - give the same tree when e2fsck replays it instead;
 *   - hold the fsync'ed file intact if fsync had returned 0.
 * And ordered data on a block whose last role was new metadata: a
 * directory's block, freed and committed, taken by file data, reaches the
 * disk before the commit that gives it to the file.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/mman.h>

#include "ext2_test_util.h"
#include "hal.h"

struct shared {
	unsigned long fail_after;   /* 0: no failures */
	int completed;              /* the workload ran to its end without an error */
	int fsynced;                /* fsync of /d/keep returned 0 */
	int mounted;                /* the replaying mount succeeded */
};

static struct shared *shared;
static char base[256], img[256], ref[256];

#define KEEP_LEN 5000

static int workload(void *arg)
{
	struct shared *s = arg;
	if (s->fail_after)
		hal_posix_blk_fail(0, 1u << HAL_BLK_WRITE, s->fail_after - 1);
	struct fs *fs;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 0;
	int rc = 0;
	uint64_t ino;
	rc |= k_mkdir(fs, "/d");
	rc |= k_write_pattern(fs, "/d/a", 0, 3000, 1);
	rc |= k_write_pattern(fs, "/d/b", 0, 40000, 2);     /* an indirect block at 1 KiB */
	rc |= fs->ops->sync(fs);
	rc |= k_write_pattern(fs, "/d/keep", 0, KEEP_LEN, 3);
	rc |= k_rename(fs, "/d/a", "/d/a2");
	rc |= k_unlink(fs, "/d/b");                         /* frees journalled blocks */
	rc |= k_mkdir(fs, "/e");
	rc |= k_write_pattern(fs, "/e/c", 0, 20000, 4);     /* may reuse b's blocks */
	if (rc == 0 && resolve(fs, "/d/keep", &ino) == 0 && fs->ops->fsync(fs, ino) == 0)
		s->fsynced = 1;
	rc |= k_symlink(fs, "/e/link", "/d/keep");
	rc |= k_unlink(fs, "/e/c");
	rc |= k_rmdir(fs, "/e") == -ENOTEMPTY ? 0 : -1;
	rc |= fs->ops->unmount(fs);
	s->completed = rc == 0;
	return 0;
}

static int replay(void *arg)
{
	struct shared *s = arg;
	struct fs *fs;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 0;
	s->mounted = fs->ops->unmount(fs) == 0;
	return 0;
}

static void in_kernel(const char *image, kernel_body body)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		_exit(run_with_image(image, 2, body, shared));
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "kernel died (status %x)", status);
}

/* The tree of an image as debugfs lists it, for comparing. */
static char *tree(const char *image)
{
	return sh_out("for d in / /d /e; do debugfs -R \"ls -l $d\" '%s' 2>/dev/null | "
	              "awk '{ print $1, $3, $6, $NF }'; done", image);
}

static void check_after(unsigned long n)
{
	cr_assert_eq(sh("cp '%s' '%s'", img, ref), 0);
	in_kernel(img, replay);
	cr_expect(shared->mounted, "N=%lu: our mount replays and unmounts", n);
	cr_expect(fsck_clean(img), "N=%lu: e2fsck -fn clean after our replay", n);
	cr_assert_eq(sh("e2fsck -E journal_only -y '%s' >/dev/null 2>&1", ref), 0);
	char *ours = tree(img), *theirs = tree(ref);
	cr_expect_str_eq(ours, theirs, "N=%lu: the same tree as e2fsck's replay", n);
	free(ours);
	free(theirs);
	if (shared->fsynced)
		cr_expect(image_file_holds(img, "/d/keep", KEEP_LEN, KEEP_LEN, 3, 3),
		          "N=%lu: fsync'ed file intact", n);
}

static void crash_everywhere(const char *mke2fs_args)
{
	tmp_dir();
	snprintf(base, sizeof(base), "%s/base.img", tdir);
	snprintf(img, sizeof(img), "%s/img.img", tdir);
	snprintf(ref, sizeof(ref), "%s/ref.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext3 %s '%s' 8M >/dev/null 2>&1", mke2fs_args, base), 0);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	              -1, 0);
	unsigned long n;
	for (n = 1; n < 2000; n++) {
		memset(shared, 0, sizeof(*shared));
		shared->fail_after = n;
		cr_assert_eq(sh("cp '%s' '%s'", base, img), 0);
		in_kernel(img, workload);
		if (shared->completed)
			break;
		check_after(n);
	}
	cr_log_info("%s: the device died after each of the first %lu writes", mke2fs_args, n - 1);
	cr_expect(shared->completed, "the workload completes with enough writes");
	cr_expect(fsck_clean(img), "clean after the complete run");
	tmp_cleanup();
}

Test(ext2_journal, device_dies_at_every_write_1k, .timeout = 600)
{
	crash_everywhere("-b 1024");
}

Test(ext2_journal, device_dies_at_every_write_4k, .timeout = 600)
{
	crash_everywhere("-b 4096");
}

/* A new directory's block (BK_EARLY in the cache), committed, freed by
 * rmdir and committed again, still dirty at home with its directory
 * contents; the next file takes it for data. fsync commits that file: its
 * data must be written first even though the buffer's last dirtying before
 * was as metadata. The kernel then stops without unmounting (a crash). */
static int reuse_dir_block(void *arg)
{
	struct shared *s = arg;
	struct fs *fs;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 0;
	uint64_t ino;
	int rc = k_mkdir(fs, "/p");
	rc |= fs->ops->sync(fs);
	rc |= k_mkdir(fs, "/p/x");
	rc |= k_rmdir(fs, "/p/x");
	rc |= fs->ops->sync(fs);
	rc |= k_write_pattern(fs, "/p/f", 0, KEEP_LEN, 5);
	if (rc == 0 && resolve(fs, "/p/f", &ino) == 0 && fs->ops->fsync(fs, ino) == 0)
		s->fsynced = 1;
	return 0;
}

Test(ext2_journal, freed_directory_block_reused_as_data_is_ordered, .timeout = 60)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/img.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext3 -b 1024 '%s' 8M >/dev/null 2>&1", img), 0);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	              -1, 0);
	memset(shared, 0, sizeof(*shared));
	in_kernel(img, reuse_dir_block);
	cr_assert(shared->fsynced, "the workload ran and fsync returned 0");
	/* The case needs /p/f to hold /p/x's block: the one the log revokes. */
	char *revoked = sh_out("debugfs -R 'logdump -a' '%s' 2>/dev/null | "
	                       "sed -n 's/.*Revoke FS block \\([0-9]*\\).*/\\1/p'", img);
	cr_assert_eq(sh("e2fsck -E journal_only -y '%s' >/dev/null 2>&1", img), 0);
	char *blocks = sh_out("debugfs -R 'blocks /p/f' '%s' 2>/dev/null", img);
	long x = strtol(revoked, NULL, 10);
	char word[24];
	snprintf(word, sizeof(word), "%ld ", x);
	cr_assert(x > 0 && strstr(blocks, word), "/p/f (blocks %s) holds /p/x's block %ld", blocks,
	          x);
	cr_expect(image_file_holds(img, "/p/f", KEEP_LEN, KEEP_LEN, 5, 5),
	          "fsync'ed file intact after the crash");
	cr_expect(fsck_clean(img), "e2fsck -fn clean");
	free(revoked);
	free(blocks);
	tmp_cleanup();
}

/* Names removed while the inodes are still held (open, or looked up by a
 * FUSE host), committed, then a crash: the inodes are on the orphan list,
 * and the next mount frees them. Without the list, the committed state
 * held an unnamed directory that its parent no longer counted. */
static int unlink_held(void *arg)
{
	struct shared *s = arg;
	struct fs *fs;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 0;
	uint64_t dir = 0, file = 0, kept = 0;
	int rc = k_mkdir(fs, "/p");
	rc |= k_mkdir(fs, "/p/x");
	rc |= k_write_pattern(fs, "/p/f", 0, 40000, 6);
	rc |= k_write_pattern(fs, "/p/g", 0, 3000, 7);
	rc |= resolve(fs, "/p/x", &dir) | resolve(fs, "/p/f", &file) | resolve(fs, "/p/g", &kept);
	rc |= fs->ops->iget(fs, dir) | fs->ops->iget(fs, file) | fs->ops->iget(fs, kept);
	rc |= k_rmdir(fs, "/p/x");
	rc |= k_unlink(fs, "/p/f");
	rc |= k_unlink(fs, "/p/g");
	fs->ops->iput(fs, kept);                /* released: off the list again */
	rc |= fs->ops->sync(fs);
	s->completed = rc == 0;
	return 0;
}

Test(ext2_journal, unlinked_inodes_in_use_survive_a_crash_on_the_orphan_list, .timeout = 60)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/img.img", tdir);
	snprintf(ref, sizeof(ref), "%s/ref.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext3 -b 1024 '%s' 8M >/dev/null 2>&1", img), 0);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	              -1, 0);
	memset(shared, 0, sizeof(*shared));
	in_kernel(img, unlink_held);
	cr_assert(shared->completed, "the workload ran");
	/* e2fsck's replay finishes the orphan list too. */
	char *out = sh_out("cp '%s' '%s' && e2fsck -E journal_only -y '%s' 2>&1", img, ref, ref);
	cr_expect(strstr(out, "Clearing orphaned inode") != NULL, "orphans committed: %s", out);
	free(out);
	cr_expect(fsck_clean(ref), "e2fsck -fn clean after e2fsck's replay");
	in_kernel(img, replay);
	cr_expect(shared->mounted, "our mount replays, frees the orphans and unmounts");
	cr_expect_eq(sb_field(img, "First orphan inode:"), -1, "no orphan list left");
	cr_expect(fsck_clean(img), "e2fsck -fn clean after our mount");
	cr_expect_eq(dbg_stat_field(img, "/p", "Links: "), 2, "/p counts no subdirectory");
	tmp_cleanup();
}
