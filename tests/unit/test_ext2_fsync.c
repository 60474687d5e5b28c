/*
 * test_ext2_fsync.c: fsync of one file writes that file, not the others'
 * dirty data, and what it wrote survives a crash. The kernel changes an
 * image, fsyncs one file, and then its device fails every write (the power
 * is cut right after fsync returned); the image left behind is checked:
 *   - the fsync'ed file holds its new contents, under its name;
 *   - another file overwritten without fsync still holds its old data
 *     (fsync did not write it);
 *   - plain ext2: e2fsck -fy repairs at most what ordered write-back
 *     allows (counts, bitmaps: never a pointer to unwritten data);
 *   - ext3: e2fsck replays the journal and finds nothing to repair; a
 *     data-only overwrite's fsync commits nothing (a directory made
 *     before it is not there), an append's commits.
 */
#include <criterion/criterion.h>
#include <sys/mman.h>

#include "ext2_test_util.h"
#include "hal.h"

#define OLD_LEN 20000       /* /d/a before: an indirect block at 1 KiB blocks */
#define APPEND_LEN 30000    /* appended: the indirect block gains pointers */
#define B_LEN 100000

enum change { APPEND, OVERWRITE, CREATE };

struct shared {
	enum change change;
	int done;               /* the body reached its fsync and it returned 0 */
};

static struct shared *shared;
static char img[256];

/* Every write and flush from now on fails: the power is cut. */
static void power_cut(void)
{
	hal_posix_blk_fail(0, 1u << HAL_BLK_WRITE | 1u << HAL_BLK_FLUSH, 0);
}

static int body(void *arg)
{
	struct shared *s = arg;
	struct fs *fs;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 1;
	int rc = k_mkdir(fs, "/d");
	rc |= k_write_pattern(fs, "/d/a", 0, OLD_LEN, 1);
	rc |= k_write_pattern(fs, "/b", 0, B_LEN, 2);
	rc |= fs->ops->sync(fs);
	/* Dirty, never fsync'ed: b's new data and a new directory. */
	rc |= k_write_pattern(fs, "/b", 0, B_LEN, 3);
	rc |= k_mkdir(fs, "/x");
	const char *target = "/d/a";
	switch (s->change) {
	case APPEND:
		rc |= k_write_pattern(fs, "/d/a", OLD_LEN, APPEND_LEN, 1);
		break;
	case OVERWRITE:
		rc |= k_write_pattern(fs, "/d/a", 0, OLD_LEN, 4);
		break;
	case CREATE:
		rc |= k_write_pattern(fs, "/d/new", 0, APPEND_LEN, 5);
		target = "/d/new";
		break;
	}
	uint64_t ino;
	if (rc == 0 && resolve(fs, target, &ino) == 0 && fs->ops->fsync(fs, ino) == 0)
		s->done = 1;
	power_cut();
	return 0;   /* not unmounted */
}

static void run(enum change change)
{
	shared->change = change;
	shared->done = 0;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		_exit(run_with_image(img, 2, body, shared));
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "kernel died (status %x)", status);
	cr_assert(shared->done, "the workload reached its fsync, which returned 0");
}

/* File path on the image holds len bytes of pattern seed from offset 0
 * (parts: [0, split) with seed, [split, len) with seed2, at their offsets). */
static bool holds(const char *path, size_t len, size_t split, unsigned seed, unsigned seed2)
{
	return image_file_holds(img, path, len, split, seed, seed2);
}

static bool exists(const char *path)
{
	char *out = sh_out("debugfs -R 'stat %s' '%s' 2>&1", path, img);
	bool found = strstr(out, "Inode:") != NULL;
	free(out);
	return found;
}

/* Plain ext2: e2fsck -fy repairs only what a crash between checkpoints
 * may leave (crash_lib.bash's list of what it may not), then is clean.
 * ext3: e2fsck replays the journal and must find nothing else to do. */
static void check_fsck(bool journal)
{
	if (journal) {
		cr_assert_eq(sh("e2fsck -E journal_only -y '%s' >/dev/null 2>&1", img), 0);
	} else {
		char *out = sh_out("e2fsck -fy '%s' 2>&1; echo \"rc=$?\"", img);
		cr_expect(strstr(out, "rc=0\n") || strstr(out, "rc=1\n"), "e2fsck -fy repaired it:\n%s",
		          out);
		const char *bad[] = { "Illegal", "multiply-claimed", "shared with", "salvage",
		                      "should be", "deleted/unused inode", "bad inode",
		                      "unallocated block" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			cr_expect(strstr(out, bad[i]) == NULL, "e2fsck found \"%s\":\n%s", bad[i], out);
		free(out);
	}
	cr_expect(fsck_clean(img), "clean after the repair or replay");
}

/* One case: change /d/a (or make /d/new), fsync it, cut the power. */
static void fsync_case(const char *type, enum change change)
{
	bool journal = strcmp(type, "ext3") == 0;
	tmp_dir();
	snprintf(img, sizeof(img), "%s/fsync.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t %s -b 1024 '%s' 16M >/dev/null 2>&1", type, img), 0);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	              -1, 0);
	run(change);
	check_fsck(journal);
	switch (change) {
	case APPEND:
		cr_expect(holds("/d/a", OLD_LEN + APPEND_LEN, OLD_LEN, 1, 1), "the appended file is intact");
		/* With a journal the append commits the running transaction, the
		 * new directory with it; without, nothing but the file is written. */
		cr_expect(exists("/x") == journal, "the directory made meanwhile: %s",
		          journal ? "committed" : "not written");
		break;
	case OVERWRITE:
		cr_expect(holds("/d/a", OLD_LEN, OLD_LEN, 4, 4), "the overwritten file is intact");
		cr_expect(!exists("/x"), "nothing else was committed or checkpointed");
		break;
	case CREATE:
		cr_expect(holds("/d/new", APPEND_LEN, APPEND_LEN, 5, 5),
		          "the new file is there by its name");
		break;
	}
	/* A new file's fsync may checkpoint everything; else b's overwrite is
	 * not written (nor does a commit need it). */
	if (change != CREATE)
		cr_expect(holds("/b", B_LEN, B_LEN, 2, 2), "the other file's dirty data was not written");
	munmap(shared, sizeof(*shared));
	tmp_cleanup();
}

Test(ext2_fsync, plain_append, .timeout = 60) { fsync_case("ext2", APPEND); }
Test(ext2_fsync, plain_overwrite, .timeout = 60) { fsync_case("ext2", OVERWRITE); }
Test(ext2_fsync, plain_new_file, .timeout = 60) { fsync_case("ext2", CREATE); }
Test(ext2_fsync, journal_append, .timeout = 60) { fsync_case("ext3", APPEND); }
Test(ext2_fsync, journal_overwrite, .timeout = 60) { fsync_case("ext3", OVERWRITE); }
Test(ext2_fsync, journal_new_file, .timeout = 60) { fsync_case("ext3", CREATE); }
