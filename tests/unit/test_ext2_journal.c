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
 * disk before the commit that gives it to the file. And the checksums
 * of the log: on journals that ask for none, v1, v2 or v3 (and 64bit
 * tags), our committed log, left by a crash, replays in e2fsck with no
 * checksum complaint and in our mount, to every committed change.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/mman.h>

#include "ext2/ext2.h"
#include "ext2/jbd2.h"
#include "ext2/journal.h"
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

/* ---- Checksummed journals ------------------------------------------------ */

/* The log checksums against their definitions (jbd2.h): a block's with its
 * field as zero, an escaped copy's over the zeroed word, the superblock's
 * only with csum v2/v3. */
Test(ext2_journal, checksum_helpers_follow_the_format)
{
	struct ext2_fs fs = { .bsize = 1024 };
	struct ext2_journal j = { .fs = &fs, .csum = true, .csum_seed = 0x12345678 };
	uint8_t block[1024], zeroed[1024];
	for (unsigned i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(i * 31 + 5);
	memcpy(zeroed, block, sizeof(block));
	memset(zeroed + 16, 0, 4);
	cr_expect_eq(ext2_journal_block_csum(&j, block, 16),
	             jbd2_crc32c(j.csum_seed, zeroed, sizeof(zeroed)));
	be32 seq;
	stb32(&seq, 77);
	uint32_t want = jbd2_crc32c(jbd2_crc32c(j.csum_seed, &seq, 4), block, sizeof(block));
	cr_expect_eq(ext2_journal_copy_csum(&j, 77, block, false), want);
	memcpy(zeroed, block, sizeof(block));
	memset(zeroed, 0, 4);
	cr_expect_eq(ext2_journal_copy_csum(&j, 77, block, true),
	             ext2_journal_copy_csum(&j, 77, zeroed, false));
	cr_expect_neq(ext2_journal_copy_csum(&j, 78, block, false), want);

	struct jbd2_super sb;
	memset(&sb, 0xa5, sizeof(sb));
	ext2_journal_super_seal(&j, &sb);
	uint32_t sealed = ldb32(sb.s_checksum);
	stb32(&sb.s_checksum, 0);
	cr_expect_eq(sealed, jbd2_crc32c(~0u, &sb, sizeof(sb)));
	j.csum = false;
	stb32(&sb.s_checksum, 0xdead);
	ext2_journal_super_seal(&j, &sb);
	cr_expect_eq(ldb32(sb.s_checksum), 0xdead, "no checksum without csum v2/v3");
}

#define CSUM_FILES 600              /* a transaction of several descriptors (1 KiB blocks) */
#define CSUM_FILE_LEN 300

/* Commits on a checksummed journal, then a crash (no unmount): /c/big
 * (with an indirect block) in one transaction; many small files and big's
 * removal (revoking its indirect block) in the next; /c/keep fsync'ed. */
static int csum_workload(void *arg)
{
	struct shared *s = arg;
	struct fs *fs;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 0;
	uint64_t ino;
	int rc = k_mkdir(fs, "/c");
	rc |= k_write_pattern(fs, "/c/big", 0, 300000, 1);
	rc |= fs->ops->sync(fs);
	char name[32];
	for (unsigned i = 0; i < CSUM_FILES && rc == 0; i++) {
		snprintf(name, sizeof(name), "/c/f%u", i);
		rc |= k_write_pattern(fs, name, 0, CSUM_FILE_LEN, i);
	}
	rc |= k_unlink(fs, "/c/big");
	rc |= fs->ops->sync(fs);
	rc |= k_write_pattern(fs, "/c/keep", 0, KEEP_LEN, 3);
	if (rc == 0 && resolve(fs, "/c/keep", &ino) == 0 && fs->ops->fsync(fs, ino) == 0)
		s->fsynced = 1;
	s->completed = rc == 0;
	return 0;
}

/* Set INCOMPAT_64BIT in image's journal superblock (re-sealed with v2/v3). */
static void journal_set_64bit(const char *image, unsigned bsize)
{
	char *blk = sh_out("debugfs -R 'bmap <8> 0' '%s' 2>/dev/null", image);
	long j0 = strtol(blk, NULL, 10);
	free(blk);
	cr_assert(j0 > 0);
	FILE *f = fopen(image, "r+");
	cr_assert(f);
	struct jbd2_super sb;
	cr_assert_eq(fseek(f, j0 * (long)bsize, SEEK_SET), 0);
	cr_assert_eq(fread(&sb, sizeof(sb), 1, f), 1);
	uint32_t incompat = ldb32(sb.s_feature_incompat) | JBD2_INCOMPAT_64BIT;
	stb32(&sb.s_feature_incompat, incompat);
	if (incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3)) {
		stb32(&sb.s_checksum, 0);
		stb32(&sb.s_checksum, jbd2_crc32c(~0u, &sb, sizeof(sb)));
	}
	cr_assert_eq(fseek(f, j0 * (long)bsize, SEEK_SET), 0);
	cr_assert_eq(fwrite(&sb, sizeof(sb), 1, f), 1);
	fclose(f);
}

/* image: a fresh ext3 image whose journal has checksum version (0: none)
 * made by e2fsprogs: debugfs sets v2/v3 only with metadata_csum, which
 * tune2fs then takes off the file system (we do not write it) while the
 * journal keeps its format. */
static void make_csum_image(const char *image, unsigned bsize, int version, bool wide)
{
	const char *md = version >= 2 ? "-O metadata_csum" : "";
	cr_assert_eq(sh("mke2fs -q -F -t ext3 -b %u %s '%s' 32M >/dev/null 2>&1", bsize, md, image),
	             0);
	if (version)
		cr_assert_eq(sh("printf 'jo -c -v %d\\njc\\n' | debugfs -w -f - '%s' >/dev/null 2>&1",
		                version, image), 0);
	if (version >= 2)
		cr_assert_eq(sh("tune2fs -O ^metadata_csum,^uninit_bg '%s' >/dev/null 2>&1", image),
		             0);
	if (wide)
		journal_set_64bit(image, bsize);
	char *features = sh_out("dumpe2fs -h '%s' 2>/dev/null | grep 'Journal features'", image);
	bool v1 = strstr(features, "journal_checksum") && !strstr(features, "journal_checksum_v");
	bool v2 = strstr(features, "journal_checksum_v2"), v3 = strstr(features, "journal_checksum_v3");
	int found = v3 ? 3 : v2 ? 2 : v1 ? 1 : 0;
	cr_assert_eq(found, version, "%s: checksum version %d", features, version);
	cr_assert(!wide || strstr(features, "journal_64bit"), "%s", features);
	free(features);
}

/* Every commit block of image's log says the checksum of version: v1 a
 * crc32 (type and size set; e2fsck also takes a commit with none), v2/v3 a
 * crc32c with type and size 0, none nothing. The number of commits. */
static unsigned check_commit_blocks(const char *image, unsigned bsize, int version)
{
	char *at = sh_out("debugfs -R logdump '%s' 2>/dev/null | "
	                  "sed -n 's/.*(commit block) at block \\([0-9]*\\).*/\\1/p'", image);
	FILE *f = fopen(image, "r");
	cr_assert(f);
	unsigned n = 0;
	for (char *p = at, *end; (strtol(p, &end, 10), end != p); p = end, n++) {
		char *blk = sh_out("debugfs -R 'bmap <8> %ld' '%s' 2>/dev/null", strtol(p, NULL, 10),
		                   image);
		struct jbd2_commit c;
		cr_assert_eq(fseek(f, strtol(blk, NULL, 10) * (long)bsize, SEEK_SET), 0);
		cr_assert_eq(fread(&c, sizeof(c), 1, f), 1);
		free(blk);
		uint32_t sum = ldb32(c.h_chksum[0]);
		if (version == 1)
			cr_expect(c.h_chksum_type == JBD2_CRC32_CHKSUM &&
			          c.h_chksum_size == JBD2_CRC32_CHKSUM_SIZE && sum != 0,
			          "commit %u: a crc32 (type %u)", n, c.h_chksum_type);
		else
			cr_expect(c.h_chksum_type == 0 && c.h_chksum_size == 0 &&
			          (sum != 0) == (version != 0), "commit %u: type %u, sum %x", n,
			          c.h_chksum_type, sum);
	}
	fclose(f);
	free(at);
	return n;
}

/* Every committed change is in image (replayed): the small files, /c/keep,
 * and no /c/big. */
static void expect_committed(const char *image, const char *who)
{
	char dir[200], name[240];
	snprintf(dir, sizeof(dir), "%s/dump", tdir);
	cr_assert_eq(sh("rm -rf '%s' && mkdir '%s' && debugfs -R 'rdump /c %s' '%s' >/dev/null 2>&1",
	                dir, dir, dir, image), 0);
	unsigned good = 0;
	for (unsigned i = 0; i < CSUM_FILES; i++) {
		snprintf(name, sizeof(name), "%s/c/f%u", dir, i);
		good += host_file_holds(name, CSUM_FILE_LEN, CSUM_FILE_LEN, i, i);
	}
	cr_expect_eq(good, CSUM_FILES, "%s: %u of %u small files intact", who, good, CSUM_FILES);
	cr_expect(image_file_holds(image, "/c/keep", KEEP_LEN, KEEP_LEN, 3, 3),
	          "%s: fsync'ed /c/keep intact", who);
	cr_expect_eq(sh("debugfs -R 'stat /c/big' '%s' 2>&1 | grep -q 'File not found'", image), 0,
	             "%s: /c/big removed", who);
	cr_expect(fsck_clean(image), "%s: e2fsck -fn clean", who);
}

/* Our log on a journal of checksum version (and 64bit tags if wide):
 * e2fsck replays every transaction with no checksum complaint, and so do
 * we, to the same tree. */
static void csum_log_replays(unsigned bsize, int version, bool wide)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/img.img", tdir);
	snprintf(ref, sizeof(ref), "%s/ref.img", tdir);
	make_csum_image(img, bsize, version, wide);
	if (!shared)
		shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(shared, 0, sizeof(*shared));
	in_kernel(img, csum_workload);
	cr_assert(shared->completed && shared->fsynced, "the workload ran, fsync returned 0");

	unsigned commits = check_commit_blocks(img, bsize, version);
	char *log = sh_out("debugfs -R 'logdump -a' '%s' 2>&1", img);
	unsigned descriptors = 0;
	for (const char *p = log; (p = strstr(p, "(descriptor block)")); p++)
		descriptors++;
	cr_expect_geq(commits, 3, "logdump lists our transactions (%u commits)", commits);
	if (bsize == 1024)
		cr_expect_geq(descriptors, commits + 1, "a transaction of several descriptors (%u)",
		              descriptors);
	cr_expect(strstr(log, "Revoke FS block"), "the log revokes /c/big's indirect block");
	free(log);

	cr_assert_eq(sh("cp '%s' '%s'", img, ref), 0);
	char *out = sh_out("e2fsck -E journal_only -y '%s' 2>&1; echo \"exit $?\"", ref);
	cr_expect(strstr(out, "exit 0") && !strcasestr(out, "checksum") &&
	          !strcasestr(out, "corrupt") && !strcasestr(out, "invalid"),
	          "e2fsck replays our log quietly: %s", out);
	free(out);
	expect_committed(ref, "e2fsck's replay");

	in_kernel(img, replay);
	cr_expect(shared->mounted, "our mount replays our log and unmounts");
	expect_committed(img, "our replay");
	char *ours = sh_out("debugfs -R 'ls -l /c' '%s' 2>/dev/null | awk '{ print $1, $6, $NF }'",
	                    img);
	char *theirs = sh_out("debugfs -R 'ls -l /c' '%s' 2>/dev/null | awk '{ print $1, $6, $NF }'",
	                      ref);
	cr_expect_str_eq(ours, theirs, "the same /c as e2fsck's replay");
	free(ours);
	free(theirs);
	tmp_cleanup();
}

Test(ext2_journal, log_without_checksums_replays_in_e2fsck, .timeout = 120)
{
	csum_log_replays(1024, 0, false);
	csum_log_replays(4096, 0, true);
}

Test(ext2_journal, log_with_checksum_v1_replays_in_e2fsck, .timeout = 120)
{
	csum_log_replays(1024, 1, false);
	csum_log_replays(4096, 1, true);
}

Test(ext2_journal, log_with_checksum_v2_replays_in_e2fsck, .timeout = 120)
{
	csum_log_replays(1024, 2, false);
	csum_log_replays(1024, 2, true);
	csum_log_replays(4096, 2, false);
}

Test(ext2_journal, log_with_checksum_v3_replays_in_e2fsck, .timeout = 120)
{
	csum_log_replays(1024, 3, false);
	csum_log_replays(1024, 3, true);
	csum_log_replays(4096, 3, false);
}
