/*
 * test_ext2_basic.c: the ext2 driver against images made by mke2fs and
 * genext2fs: reading what the tools wrote, then writing files,
 * directories, symlinks, fifos and device nodes, renaming and removing,
 * and checking the result with e2fsck -fn and debugfs.
 */
#include <criterion/criterion.h>
#include <dirent.h>

#include "ext2_test_util.h"

#define BIG_LEN (300 * 1024 + 123)
#define SLOW_TARGET "/a/rather/long/symlink/target/that/does/not/fit/in/sixty/bytes/of/i_block"

static char img[256], bigsrc[256];

/* What the kernel saw, for the asserts on the host side. */
struct result {
	int mount, read_rc, readdir_rc, readlink_fast, readlink_slow, getattr_rc;
	int nentries;
	char names[64][32];
	unsigned char big[BIG_LEN];
	char fast[64], slow[128];
	uint64_t rdev;
	uint32_t dev_mode, fifo_mode;
	int step[40];
	/* /new/sparse read back through the hole's end (a run of holes, then
	 * data) and inside it (no indirect block there with 1 KiB blocks). */
	int sparse_end_rc, sparse_mid_rc;
	unsigned char sparse_end[3000], sparse_mid[3000];
	int unmount;
};

static struct result R;

static int fill(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct result *r = ctx;
	if (r->nentries < 64 && len < 32) {
		memcpy(r->names[r->nentries], name, len);
		r->names[r->nentries][len] = 0;
	}
	r->nentries++;
	return 0;
}

static int read_body(void *arg)
{
	struct result *r = arg;
	struct fs *fs;
	r->mount = ext2_fs_type.mount(blkdev_get(0), FS_MOUNT_RDONLY, &fs);
	if (r->mount < 0)
		return 1;
	uint64_t ino, cookie = 0;
	r->read_rc = resolve(fs, "/dir/big", &ino);
	if (r->read_rc == 0)
		r->read_rc = (int)fs->ops->read(fs, ino, r->big, BIG_LEN + 100, 0);
	r->readdir_rc = fs->ops->readdir(fs, fs->ops->root(fs), &cookie, fill, r);
	r->readlink_fast = resolve(fs, "/fast", &ino);
	if (r->readlink_fast == 0)
		r->readlink_fast = (int)fs->ops->readlink(fs, ino, r->fast, sizeof(r->fast));
	r->readlink_slow = resolve(fs, "/slow", &ino);
	if (r->readlink_slow == 0)
		r->readlink_slow = (int)fs->ops->readlink(fs, ino, r->slow, sizeof(r->slow));
	struct vfs_stat st;
	r->getattr_rc = resolve(fs, "/chr", &ino);
	if (r->getattr_rc == 0)
		r->getattr_rc = fs->ops->getattr(fs, ino, &st);
	r->rdev = st.rdev;
	r->dev_mode = st.mode;
	if (resolve(fs, "/fifo", &ino) == 0 && fs->ops->getattr(fs, ino, &st) == 0)
		r->fifo_mode = st.mode;
	r->unmount = fs->ops->unmount(fs);
	return 0;
}

static void make_image(const char *mkfs_args, bool genext2)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/fs.img", tdir);
	snprintf(bigsrc, sizeof(bigsrc), "%s/big.src", tdir);
	FILE *f = fopen(bigsrc, "w");
	for (int i = 0; i < BIG_LEN; i++)
		fputc((i * 31 + i / 1000) & 0xff, f);
	fclose(f);
	if (genext2) {
		cr_assert_eq(sh("genext2fs -b 8192 -N 512 '%s' 2>/dev/null", img), 0);
	} else {
		cr_assert_eq(sh("mke2fs -q -F -t ext2 %s '%s' 16M >/dev/null 2>&1", mkfs_args, img), 0);
	}
	cr_assert_eq(sh("debugfs -w '%s' -f - >/dev/null 2>&1 <<'EOF'\n"
	                "mkdir dir\n"
	                "write %s dir/big\n"
	                "symlink fast /short/target\n"
	                "symlink slow " SLOW_TARGET "\n"
	                "mknod chr c 4 66\n"
	                "mknod fifo p\n"
	                "EOF", img, bigsrc), 0);
	cr_assert(fsck_clean(img), "the tool-made image is clean");
}

static void check_read(void)
{
	memset(&R, 0, sizeof(R));
	cr_assert_eq(run_with_image(img, 2, read_body, &R), 0);
	cr_assert_eq(R.mount, 0);
	cr_expect_eq(R.read_rc, BIG_LEN);
	unsigned char *want = malloc(BIG_LEN);
	for (int i = 0; i < BIG_LEN; i++)
		want[i] = (unsigned char)((i * 31 + i / 1000) & 0xff);
	cr_expect_eq(memcmp(R.big, want, BIG_LEN), 0, "file contents read back");
	free(want);
	cr_expect_eq(R.readdir_rc, 0);
	const char *expect[] = { ".", "..", "lost+found", "dir", "fast", "slow", "chr", "fifo" };
	for (size_t i = 0; i < sizeof(expect) / sizeof(*expect); i++) {
		bool found = false;
		for (int j = 0; j < R.nentries && j < 64; j++)
			found |= strcmp(R.names[j], expect[i]) == 0;
		cr_expect(found, "readdir lists %s", expect[i]);
	}
	cr_expect_eq(R.readlink_fast, (int)strlen("/short/target"));
	cr_expect_eq(memcmp(R.fast, "/short/target", strlen("/short/target")), 0);
	cr_expect_eq(R.readlink_slow, (int)strlen(SLOW_TARGET));
	cr_expect_eq(memcmp(R.slow, SLOW_TARGET, strlen(SLOW_TARGET)), 0);
	cr_expect_eq(R.getattr_rc, 0);
	cr_expect_eq(R.rdev, (4u << 8) | 66);
	cr_expect_eq(R.dev_mode & S_IFMT, S_IFCHR);
	cr_expect_eq(R.fifo_mode & S_IFMT, S_IFIFO);
	cr_expect_eq(R.unmount, 0);
}

/* ---- Writing ------------------------------------------------------------- */

static int write_body(void *arg)
{
	struct result *r = arg;
	struct fs *fs;
	uint64_t ino = 0, dir = 0;
	int *s = r->step;
	r->mount = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (r->mount < 0)
		return 1;
	s[0] = k_mkdir(fs, "/new");
	s[1] = k_mkdir(fs, "/new/sub");
	s[2] = k_write_pattern(fs, "/new/file", 0, 200000, 3);
	s[3] = k_write_pattern(fs, "/new/file", 5000, 100, 9);          /* overwrite in place */
	s[4] = k_write_pattern(fs, "/new/sparse", 3 * 1024 * 1024, 10, 5);   /* hole before */
	s[5] = k_symlink(fs, "/new/fastlink", "target/short");
	s[6] = k_symlink(fs, "/new/slowlink", SLOW_TARGET SLOW_TARGET);
	s[7] = resolve(fs, "/new", &dir);
	s[8] = fs->ops->mknod(fs, dir, "pipe", 4, S_IFIFO | 0600, 0, 1000, 1000, &ino);
	s[9] = fs->ops->mknod(fs, dir, "blk", 3, S_IFBLK | 0660, (8u << 8) | 17, 0, 6, &ino);
	s[10] = fs->ops->mknod(fs, dir, "pipe", 4, S_IFIFO | 0600, 0, 0, 0, &ino);   /* EEXIST */
	s[11] = k_create(fs, "/new/victim", S_IFREG | 0644, NULL);
	s[12] = k_write_pattern(fs, "/new/victim", 0, 50000, 1);
	s[13] = k_unlink(fs, "/new/victim");
	s[14] = k_rename(fs, "/new/file", "/new/sub/moved");
	s[15] = k_rename(fs, "/dir", "/new/sub/dir2");                  /* dir across parents */
	s[16] = k_rename(fs, "/new", "/new/sub/x");                     /* into itself: EINVAL */
	s[17] = k_rmdir(fs, "/new");                                    /* ENOTEMPTY */
	s[18] = k_mkdir(fs, "/empty");
	s[19] = k_rmdir(fs, "/empty");
	s[20] = k_unlink(fs, "/new/sub");                               /* EISDIR */
	/* hard link, then replace a file by rename */
	s[21] = resolve(fs, "/new/sparse", &ino);
	memset(r->sparse_end, 0xaa, sizeof(r->sparse_end));   /* zeros must be written */
	memset(r->sparse_mid, 0xaa, sizeof(r->sparse_mid));
	r->sparse_end_rc = (int)fs->ops->read(fs, ino, r->sparse_end, 3000, 3 * 1024 * 1024 - 2990);
	r->sparse_mid_rc = (int)fs->ops->read(fs, ino, r->sparse_mid, 3000, 1024 * 1024 + 7);
	s[22] = resolve(fs, "/", &dir);
	s[23] = fs->ops->link(fs, ino, dir, "hardlink", 8);
	s[24] = k_create(fs, "/replaced", S_IFREG | 0644, NULL);
	s[25] = k_rename(fs, "/hardlink", "/replaced");
	/* truncate shrink and grow */
	s[26] = k_write_pattern(fs, "/trunc", 0, 70000, 2);
	s[27] = resolve(fs, "/trunc", &ino);
	struct vfs_setattr sa = { .mask = VFS_SET_SIZE | VFS_SET_MODE, .size = 1500, .mode = 0600 };
	s[28] = fs->ops->setattr(fs, ino, &sa);
	sa.mask = VFS_SET_SIZE;
	sa.size = 9000;
	s[29] = fs->ops->setattr(fs, ino, &sa);
	/* an open-but-unlinked file survives until its last iput */
	s[30] = k_write_pattern(fs, "/orphan", 0, 20000, 4);
	s[31] = resolve(fs, "/orphan", &ino);
	s[32] = fs->ops->iget(fs, ino);
	s[33] = k_unlink(fs, "/orphan");
	unsigned char buf[100];
	s[34] = (int)fs->ops->read(fs, ino, buf, 100, 1000) == 100 ? 0 : -1;
	fs->ops->iput(fs, ino);
	s[35] = fs->ops->getattr(fs, ino, &(struct vfs_stat){ 0 }) < 0 ? 0 : -1;  /* gone */
	/* rename a dir over an empty dir */
	s[36] = k_mkdir(fs, "/d1");
	s[37] = k_mkdir(fs, "/d2");
	s[38] = k_rename(fs, "/d1", "/d2");
	s[39] = fs->ops->sync(fs);
	r->unmount = fs->ops->unmount(fs);
	return 0;
}

static void check_write(void)
{
	memset(&R, 0, sizeof(R));
	cr_assert_eq(run_with_image(img, 2, write_body, &R), 0);
	cr_assert_eq(R.mount, 0);
	int expect[40] = { 0 };
	expect[10] = -EEXIST;
	expect[16] = -EINVAL;
	expect[17] = -ENOTEMPTY;
	expect[20] = -EISDIR;
	for (int i = 0; i < 40; i++)
		cr_expect_eq(R.step[i], expect[i], "step %d: %d, expected %d", i, R.step[i], expect[i]);
	cr_expect_eq(R.unmount, 0);
	unsigned char want_sparse[3000] = { 0 };
	host_pattern(want_sparse + 2990, 3 * 1024 * 1024, 10, 5);
	cr_expect_eq(R.sparse_end_rc, 3000);
	cr_expect_eq(memcmp(R.sparse_end, want_sparse, 3000), 0, "the hole's end, then the data");
	memset(want_sparse, 0, sizeof(want_sparse));
	cr_expect_eq(R.sparse_mid_rc, 3000, "%d", R.sparse_mid_rc);
	cr_expect_eq(memcmp(R.sparse_mid, want_sparse, 3000), 0, "inside the hole: zeros");
	cr_assert(fsck_clean(img), "e2fsck -fn is clean after the writes");
	char *state = sh_out("dumpe2fs -h '%s' 2>/dev/null | grep '^Filesystem state:'", img);
	cr_expect(strstr(state, "clean") && !strstr(state, "error") && !strstr(state, "not clean"),
	          "%s", state);
	free(state);

	/* Contents, as debugfs sees them. */
	char out[512];
	snprintf(out, sizeof(out), "%s/moved.out", tdir);
	cr_assert_eq(sh("debugfs -R 'dump /new/sub/moved %s' '%s' >/dev/null 2>&1", out, img), 0);
	FILE *f = fopen(out, "r");
	cr_assert(f);
	unsigned char *got = malloc(200000), *want = malloc(200000);
	cr_expect_eq(fread(got, 1, 200000, f), 200000);
	fclose(f);
	host_pattern(want, 0, 200000, 3);
	host_pattern(want + 5000, 5000, 100, 9);
	cr_expect_eq(memcmp(got, want, 200000), 0, "moved file contents");
	free(got);
	free(want);
	/* /new was renamed into its own subtree? No: EINVAL, so it is still /new. */
	cr_expect_eq(dbg_stat_field(img, "/new/sub/moved", "Size: "), 200000);
	cr_expect_eq(dbg_stat_field(img, "/new/sparse", "Size: "), 3 * 1024 * 1024 + 10);
	cr_expect_eq(dbg_stat_field(img, "/new/sparse", "Links: "), 2);
	cr_expect_eq(dbg_stat_field(img, "/replaced", "Links: "), 2);
	cr_expect_eq(dbg_stat_field(img, "/new", "Links: "), 3);
	cr_expect_eq(dbg_stat_field(img, "/new/sub", "Links: "), 3);
	cr_expect_eq(dbg_stat_field(img, "/trunc", "Size: "), 9000);
	cr_expect_eq(dbg_stat_field(img, "/new/sub/dir2/big", "Size: "), BIG_LEN);
	char *s = sh_out("debugfs -R 'stat /new/blk' '%s' 2>/dev/null", img);
	cr_expect(strstr(s, "Type: block special") != NULL, "%s", s);
	cr_expect(strstr(s, "Device major/minor number: 08:17") != NULL ||
	          strstr(s, "Device major/minor number: 08:11") != NULL, "%s", s);
	free(s);
	s = sh_out("debugfs -R 'stat /new/pipe' '%s' 2>/dev/null", img);
	cr_expect(strstr(s, "Type: FIFO") != NULL, "%s", s);
	cr_expect(strstr(s, "User:  1000") != NULL, "%s", s);
	free(s);
	s = sh_out("debugfs -R 'stat /new/slowlink' '%s' 2>/dev/null", img);
	free(s);
	s = sh_out("debugfs -R 'cat /new/slowlink' '%s' 2>/dev/null", img);
	cr_expect_str_eq(s, SLOW_TARGET SLOW_TARGET);
	free(s);
	s = sh_out("debugfs -R 'stat /new/fastlink' '%s' 2>/dev/null", img);
	cr_expect(strstr(s, "Fast link dest: \"target/short\"") != NULL, "%s", s);
	free(s);
	s = sh_out("debugfs -R 'ls /' '%s' 2>/dev/null", img);
	cr_expect(strstr(s, "orphan") == NULL && strstr(s, "d1") == NULL && strstr(s, "d2") != NULL,
	          "%s", s);
	free(s);
	cr_expect_eq(dbg_stat_field(img, "/trunc", "Size: "), 9000);
	/* The truncated tail reads as zeros. */
	s = sh_out("debugfs -R 'cat /trunc' '%s' 2>/dev/null | od -An -tu1 -j1500 -N16 | tr -d ' \\n'",
	           img);
	cr_expect_str_eq(s, "0000000000000000");
	free(s);
}

#define CONFIG_TESTS(tag, args, gen)                                             \
	Test(ext2_##tag, read) { make_image(args, gen); check_read(); tmp_cleanup(); } \
	Test(ext2_##tag, write) { make_image(args, gen); check_write(); tmp_cleanup(); }

CONFIG_TESTS(rev0_1k, "-r 0 -b 1024", false)
CONFIG_TESTS(rev1_1k_i128, "-b 1024 -I 128", false)
CONFIG_TESTS(rev1_2k_i256, "-b 2048 -I 256", false)
CONFIG_TESTS(rev1_4k_i256, "-b 4096 -I 256", false)
CONFIG_TESTS(genext2fs, "", true)

/* The readdir callback may call the file system (no lock held around it). */
struct reenter { struct fs *fs; int calls, stat_ok; };

static int reenter_fill(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct reenter *r = ctx;
	struct vfs_stat st;
	r->calls++;
	if (r->fs->ops->getattr(r->fs, ino, &st) == 0 && st.ino == ino &&
	    (type == DT_DIR) == S_ISDIR(st.mode))
		r->stat_ok++;
	return 0;
}

static int reenter_body(void *arg)
{
	struct reenter *r = arg;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &r->fs) < 0)
		return 1;
	uint64_t cookie = 0;
	r->fs->ops->readdir(r->fs, r->fs->ops->root(r->fs), &cookie, reenter_fill, r);
	return r->fs->ops->unmount(r->fs) == 0 ? 0 : 2;
}

Test(ext2_rev1_1k_i128, readdir_callback_may_stat)
{
	make_image("-b 1024", false);
	struct reenter r = { 0 };
	cr_assert_eq(run_with_image(img, 1, reenter_body, &r), 0);
	cr_expect_eq(r.calls, 8);
	cr_expect_eq(r.stat_ok, 8);
	tmp_cleanup();
}

/* ext3 (has_journal) mounts as ext2; ext4 (extents, 64bit...) is refused;
 * a read-only disk gives a read-only mount. */
struct kinds { int mount, write, unmount, ro, rofs; };

static int kinds_body(void *arg)
{
	struct kinds *k = arg;
	struct fs *fs;
	k->mount = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (k->mount < 0)
		return 0;
	k->ro = fs->read_only;
	k->write = k_write_pattern(fs, "/from-toro", 0, 50000, 9);
	k->unmount = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_kinds, ext3_mounts_as_ext2)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/e3.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext3 -b 1024 '%s' 16M >/dev/null 2>&1", img), 0);
	struct kinds k = { 0 };
	cr_assert_eq(run_with_image(img, 1, kinds_body, &k), 0);
	cr_expect_eq(k.mount, 0);
	cr_expect(!k.ro);
	cr_expect_eq(k.write, 0);
	cr_expect_eq(k.unmount, 0);
	cr_expect(fsck_clean(img));
	cr_expect_eq(dbg_stat_field(img, "/from-toro", "Size: "), 50000);
	tmp_cleanup();
}

Test(ext2_kinds, ext4_refused)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/e4.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext4 '%s' 16M >/dev/null 2>&1", img), 0);
	struct kinds k = { 0 };
	cr_assert_eq(run_with_image(img, 1, kinds_body, &k), 0);
	cr_expect_eq(k.mount, -EOPNOTSUPP);
	tmp_cleanup();
}

Test(ext2_kinds, read_only_disk)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/ro.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 '%s' 8M >/dev/null 2>&1", img), 0);
	char *before = sh_out("md5sum < '%s'", img);
	struct posix_config cfg = { .cpus = 1, .ndisks = 1 };
	cfg.disk_path[0] = img;
	cfg.disk_read_only[0] = true;
	struct kinds k = { 0 };
	cr_assert_eq(run_in_kernel_cfg(&cfg, kinds_body, &k), 0);
	cr_expect_eq(k.mount, 0);
	cr_expect(k.ro);
	cr_expect_eq(k.write, -EROFS);
	cr_expect_eq(k.unmount, 0);
	char *after = sh_out("md5sum < '%s'", img);
	cr_expect_str_eq(before, after, "the image is unchanged");
	free(before);
	free(after);
	tmp_cleanup();
}

/* Revision 0 has no large_file: a file stops at 2 GiB - 1. */
static int rev0_body(void *arg)
{
	struct kinds *k = arg;
	struct fs *fs;
	k->mount = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (k->mount < 0)
		return 0;
	k->write = k_write_pattern(fs, "/big", 0x7fffffffull - 10, 10, 1);
	k->rofs = k_write_pattern(fs, "/big", 0x7fffffffull, 10, 1);
	k->unmount = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_kinds, rev0_file_size_limit)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/r0.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -r 0 -b 4096 '%s' 8M >/dev/null 2>&1", img), 0);
	struct kinds k = { 0 };
	cr_assert_eq(run_with_image(img, 1, rev0_body, &k), 0);
	cr_expect_eq(k.mount, 0);
	cr_expect_eq(k.write, 0);
	cr_expect_eq(k.rofs, -EFBIG);
	cr_expect_eq(k.unmount, 0);
	cr_expect(fsck_clean(img));
	cr_expect_eq(dbg_stat_field(img, "/big", "Size: "), 0x7fffffffl);
	tmp_cleanup();
}

/* More rename cases, and device numbers in the new encoding. */
static int rename_body(void *arg)
{
	int *s = arg;
	struct fs *fs;
	uint64_t ino = 0, root;
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 1;
	root = fs->ops->root(fs);
	s[0] = k_create(fs, "/f", S_IFREG | 0644, &ino);
	s[1] = k_mkdir(fs, "/d");
	s[2] = k_mkdir(fs, "/full");
	s[3] = k_create(fs, "/full/x", S_IFREG | 0644, NULL);
	s[4] = k_rename(fs, "/f", "/d") == -EISDIR ? 0 : -1;
	s[5] = k_rename(fs, "/d", "/f") == -ENOTDIR ? 0 : -1;
	s[6] = k_rename(fs, "/d", "/full") == -ENOTEMPTY ? 0 : -1;
	s[7] = fs->ops->link(fs, ino, root, "f2", 2);
	s[8] = k_rename(fs, "/f", "/f2");               /* same inode: nothing happens */
	s[9] = k_rename(fs, "/missing", "/x") == -ENOENT ? 0 : -1;
	s[10] = k_rename(fs, "/d", "/full/d");          /* dir into another dir */
	s[11] = k_rename(fs, "/full/d", "/d-back");     /* and back, renamed */
	s[12] = k_rename(fs, "/f2", "/full/x");         /* replaces a file */
	s[13] = fs->ops->mknod(fs, root, "bigdev", 6, S_IFCHR | 0600, (300u << 8) | 5, 0, 0, &ino);
	struct vfs_stat st;
	s[14] = fs->ops->getattr(fs, ino, &st);
	s[15] = st.rdev == ((300u << 8) | 5) ? 0 : -1;
	s[16] = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_rev1_4k_i256, rename_cases_and_new_device_encoding)
{
	make_image("-b 4096 -I 256", false);
	int s[17];
	memset(s, 0x7f, sizeof(s));
	cr_assert_eq(run_with_image(img, 1, rename_body, s), 0);
	for (int i = 0; i < 17; i++)
		cr_expect_eq(s[i], 0, "step %d: %d", i, s[i]);
	cr_assert(fsck_clean(img));
	cr_expect_eq(dbg_stat_field(img, "/f", "Links: "), 2, "/f and /full/x");
	cr_expect_eq(dbg_stat_field(img, "/full/x", "Links: "), 2);
	cr_expect_eq(dbg_stat_field(img, "/d-back", "Links: "), 2);
	cr_expect_eq(dbg_stat_field(img, "/", "Links: "), 6, "., .., lost+found, dir, full, d-back");
	char *out = sh_out("debugfs -R 'stat /bigdev' '%s' 2>/dev/null", img);
	cr_expect(strstr(out, "Device major/minor number: 300:05") != NULL ||
	          strstr(out, "Device major/minor number: 300:5") != NULL, "%s", out);
	free(out);
	tmp_cleanup();
}

/* Nanosecond times in 256-byte inodes (seconds only in 128-byte ones). */
struct times { int rc[6]; int64_t mtime, atime, ctime_before, ctime_after; };

#define T_MTIME 1234567890123456789ll
#define T_ATIME 1000000000000000007ll

static int times_body(void *arg)
{
	struct times *t = arg;
	struct fs *fs;
	uint64_t ino = 0;
	struct vfs_stat st;
	t->rc[0] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (t->rc[0] < 0)
		return 0;
	t->rc[1] = k_create(fs, "/t", S_IFREG | 0644, &ino);
	fs->ops->getattr(fs, ino, &st);
	t->ctime_before = st.ctime_ns;
	struct vfs_setattr sa = { .mask = VFS_SET_MTIME | VFS_SET_ATIME,
	                          .mtime_ns = T_MTIME, .atime_ns = T_ATIME };
	t->rc[2] = fs->ops->setattr(fs, ino, &sa);
	t->rc[3] = fs->ops->unmount(fs);
	t->rc[4] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (t->rc[4] < 0)
		return 0;
	fs->ops->getattr(fs, ino, &st);
	t->mtime = st.mtime_ns;
	t->atime = st.atime_ns;
	t->ctime_after = st.ctime_ns;
	t->rc[5] = fs->ops->unmount(fs);
	return 0;
}

static void times_case(const char *args, bool ns)
{
	make_image(args, false);
	struct times t = { 0 };
	cr_assert_eq(run_with_image(img, 1, times_body, &t), 0);
	for (int i = 0; i < 6; i++)
		cr_expect_eq(t.rc[i], 0, "step %d: %d", i, t.rc[i]);
	cr_expect_eq(t.mtime, ns ? T_MTIME : T_MTIME / 1000000000 * 1000000000);
	cr_expect_eq(t.atime, ns ? T_ATIME : T_ATIME / 1000000000 * 1000000000);
	cr_expect_geq(t.ctime_after, t.ctime_before);
	if (ns)
		cr_expect_neq(t.ctime_before % 1000000000, 0, "ctime has nanoseconds (mostly)");
	cr_assert(fsck_clean(img));
	char *out = sh_out("debugfs -R 'stat /t' '%s' 2>/dev/null | grep 'mtime:'", img);
	cr_expect(strstr(out, ns ? "0x499602d2:1d6f3454" : "0x499602d2") != NULL, "%s", out);
	free(out);
	tmp_cleanup();
}

Test(ext2_rev1_2k_i256, nanosecond_times) { times_case("-b 2048 -I 256", true); }
Test(ext2_rev1_1k_i128, second_times) { times_case("-b 1024 -I 128", false); }
