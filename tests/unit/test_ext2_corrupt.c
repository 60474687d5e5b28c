/*
 * test_ext2_corrupt.c: a corpus of corrupted images, made here from a good
 * mke2fs image by changing superblock, group descriptor, inode, directory
 * entry and indirect-block fields (chosen cases and seeded random bytes),
 * each mounted and exercised by the driver in a child process. The driver
 * must answer with errors (-EIO, -EINVAL ...) and never crash, panic or
 * hang: a child that dies by a signal, exits with the panic status or
 * runs past its time limit fails the test. Build with SAN=1 to run it
 * under ASan/UBSan (tests.mk: make posix SAN=1 unit-build).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "alloc.h"
#include "hal.h"
#include "ext2_test_util.h"

static char base[256], img[256];
static long bsize, itable, isz;

/* Where things are in the base image. */
static long ino_dir, ino_big, ino_small, ino_slow;
static long blk_dir, blk_root, blk_ind, blk_big0;

static long stat_block(const char *path, const char *tag)
{
	char *out = sh_out("debugfs -R 'stat \"%s\"' '%s' 2>/dev/null", path, base);
	char *p = strstr(out, tag);
	long v = p ? atol(p + strlen(tag)) : -1;
	free(out);
	return v;
}

static long bmap0(const char *path)
{
	char *out = sh_out("debugfs -R 'bmap \"%s\" 0' '%s' 2>/dev/null", path, base);
	long v = atol(out);
	free(out);
	return v;
}

static void make_base(void)
{
	tmp_dir();
	snprintf(base, sizeof(base), "%s/base.img", tdir);
	snprintf(img, sizeof(img), "%s/bad.img", tdir);
	char src[300];
	snprintf(src, sizeof(src), "%s/src", tdir);
	cr_assert_eq(sh("head -c 300000 /dev/urandom > '%s'", src), 0);
	/* EXT2_FUZZ_MKFS: other geometries by hand, e.g. "-b 4096 -I 256". */
	const char *args = getenv("EXT2_FUZZ_MKFS") ? getenv("EXT2_FUZZ_MKFS") : "-b 1024 -I 128";
	cr_assert_eq(sh("mke2fs -q -F -t ext2 %s -N 128 '%s' 4M >/dev/null 2>&1", args, base), 0);
	cr_assert_eq(sh("debugfs -w '%s' -f - >/dev/null 2>&1 <<'EOF'\n"
	                "mkdir dir\n"
	                "cd dir\n"
	                "write %s big\n"
	                "write /etc/hostname small\n"
	                "mkdir sub\n"
	                "symlink fast target\n"
	                "symlink slow /a/long/target/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	                "mknod pipe p\n"
	                "EOF", base, src), 0);
	cr_assert(fsck_clean(base));
	bsize = sb_field(base, "Block size:");
	isz = sb_field(base, "Inode size:");
	char *out = sh_out("dumpe2fs '%s' 2>/dev/null | grep -m1 'Inode table at'", base);
	char *p = strstr(out, "Inode table at ");
	itable = p ? atol(p + strlen("Inode table at ")) : -1;
	free(out);
	ino_dir = dbg_stat_field(base, "/dir", "Inode: ");
	ino_big = dbg_stat_field(base, "/dir/big", "Inode: ");
	ino_small = dbg_stat_field(base, "/dir/small", "Inode: ");
	ino_slow = dbg_stat_field(base, "/dir/slow", "Inode: ");
	blk_dir = bmap0("/dir");
	blk_root = bmap0("/");
	blk_big0 = bmap0("/dir/big");
	blk_ind = stat_block("/dir/big", "(IND):");
	cr_assert(bsize >= 1024 && itable > 0 && ino_dir > 0 && ino_big > 0 && blk_dir > 0 &&
	          blk_ind > 0 && blk_root > 0, "layout %ld %ld %ld %ld %ld %ld", bsize, itable,
	          ino_dir, ino_big, blk_dir, blk_ind);
}

static void patch(long off, const void *bytes, size_t n)
{
	int fd = open(img, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, bytes, n, off), (ssize_t)n);
	close(fd);
}

static void patch32(long off, uint32_t v) { patch(off, &v, 4); }
static void patch16(long off, uint16_t v) { patch(off, &v, 2); }
static long inode_off(long ino) { return itable * bsize + (ino - 1) * isz; }

static void fresh_copy(void)
{
	cr_assert_eq(sh("cp '%s' '%s'", base, img), 0);
}

/* ---- The kernel side: mount and use everything --------------------------- */

struct report {
	unsigned fail_ops;  /* device errors to inject (hal_posix_blk_fail) */
	unsigned long fail_after;
	unsigned mount_flags;   /* FS_MOUNT_RDONLY: a read-only mount */
	int mount;
	int read_only;
	int worst;          /* most negative result seen other than expected misses */
	int eio;            /* -EIO / -EUCLEAN answers */
	int readdir_root, readdir_dir, read_big, getattr_big, read_small, readlink_slow;
	int write_big, create, unmount;
};

static struct report *shared;       /* in a shared mapping: child -> parent */

static void note(struct report *r, long rc)
{
	if (rc == -EIO || rc == -EUCLEAN)
		r->eio++;
	if (rc < 0 && rc < r->worst)
		r->worst = (int)rc;
}

static int walk_fill(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	uint64_t *v = ctx;
	if (v[0] < 64)
		v[1 + v[0]++] = ino;
	return 0;
}

static void walk(struct fs *fs, struct report *r, uint64_t dir, int depth)
{
	uint64_t v[65] = { 0 }, cookie = 0;
	int rc = fs->ops->readdir(fs, dir, &cookie, walk_fill, v);
	note(r, rc);
	static unsigned char buf[70000];
	for (uint64_t i = 0; i < v[0]; i++) {
		struct vfs_stat st;
		rc = fs->ops->getattr(fs, v[1 + i], &st);
		note(r, rc);
		if (rc < 0)
			continue;
		if (S_ISREG(st.mode)) {
			note(r, fs->ops->read(fs, v[1 + i], buf, sizeof(buf), 0));
			note(r, fs->ops->read(fs, v[1 + i], buf, 5000, st.size > 100 ? st.size - 100 : 0));
		} else if (S_ISLNK(st.mode)) {
			static char t[4096];    /* not on the 32 KiB kernel stack: walk recurses */
			note(r, fs->ops->readlink(fs, v[1 + i], t, sizeof(t)));
		} else if (S_ISDIR(st.mode) && depth < 4 && v[1 + i] != dir && i >= 2) {
			walk(fs, r, v[1 + i], depth + 1);
		}
	}
}

static int exercise(void *arg)
{
	struct report *r = arg;
	struct fs *fs;
	uint64_t ino = 0, dir = 0;
	hal_posix_blk_fail(0, r->fail_ops, r->fail_after);
	r->mount = ext2_fs_type.mount(blkdev_get(0), r->mount_flags, &fs);
	if (r->mount < 0)
		return 0;
	r->read_only = fs->read_only;
	walk(fs, r, fs->ops->root(fs), 0);
	uint64_t cookie = 0, v[65] = { 0 };
	r->readdir_root = fs->ops->readdir(fs, fs->ops->root(fs), &cookie, walk_fill, v);
	r->readdir_dir = resolve(fs, "/dir", &dir);
	if (r->readdir_dir == 0) {
		cookie = 0;
		r->readdir_dir = fs->ops->readdir(fs, dir, &cookie, walk_fill, v);
	}
	static unsigned char buf[310000];
	r->read_big = resolve(fs, "/dir/big", &ino);
	if (r->read_big == 0)
		r->read_big = (int)fs->ops->read(fs, ino, buf, sizeof(buf), 0);
	struct vfs_stat st;
	r->getattr_big = r->read_big < 0 && r->read_big != -EIO ? r->read_big :
	                 fs->ops->getattr(fs, ino, &st);
	r->read_small = resolve(fs, "/dir/small", &ino);
	if (r->read_small == 0)
		r->read_small = (int)fs->ops->read(fs, ino, buf, 100, 0);
	r->readlink_slow = resolve(fs, "/dir/slow", &ino);
	if (r->readlink_slow == 0)
		r->readlink_slow = (int)fs->ops->readlink(fs, ino, (char *)buf, 4096);
	/* Writes everywhere. */
	r->write_big = k_write_pattern(fs, "/dir/big", 290000, 30000, 1);
	note(r, r->write_big);
	r->create = k_write_pattern(fs, "/dir/new", 0, 20000, 2);
	note(r, r->create);
	note(r, k_mkdir(fs, "/dir/newdir"));
	note(r, k_rename(fs, "/dir/new", "/dir/newdir/moved"));
	note(r, k_rename(fs, "/dir/sub", "/moved-sub"));
	note(r, k_unlink(fs, "/dir/small"));
	note(r, k_unlink(fs, "/dir/newdir/moved"));
	note(r, k_rmdir(fs, "/dir/newdir"));
	note(r, k_symlink(fs, "/dir/ln", "/x/y"));
	if (resolve(fs, "/dir/big", &ino) == 0) {
		struct vfs_setattr sa = { .mask = VFS_SET_SIZE, .size = 1000 };
		note(r, fs->ops->setattr(fs, ino, &sa));
	}
	note(r, k_unlink(fs, "/dir/big"));
	for (int i = 0; i < 30; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/f%d", i);
		note(r, k_write_pattern(fs, path, 0, 3000, 3));
	}
	note(r, fs->ops->sync(fs));
	r->unmount = fs->ops->unmount(fs);
	return 0;
}

/* Run exercise in a child with a time limit. 0, or why the child failed. */
static int run_case_flags(const char *what, unsigned fail_ops, unsigned long fail_after,
                          unsigned mount_flags)
{
	memset(shared, 0, sizeof(*shared));
	shared->mount_flags = mount_flags;
	shared->fail_ops = fail_ops;
	shared->fail_after = fail_after;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		int st = run_with_image(img, 2, exercise, shared);
		_exit(st);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		cr_log_error("%s: killed by signal %d%s", what, WTERMSIG(status),
		             WTERMSIG(status) == SIGALRM ? " (hang)" : "");
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		cr_log_error("%s: kernel ended with status %d (70: panic)", what, WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

static int run_case_failing(const char *what, unsigned fail_ops, unsigned long fail_after)
{
	return run_case_flags(what, fail_ops, fail_after, 0);
}

static int run_case(const char *what)
{
	return run_case_failing(what, 0, 0);
}

static void setup(void)
{
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(shared != MAP_FAILED);
	make_base();
}

static void teardown(void)
{
	tmp_cleanup();
}

TestSuite(ext2_corrupt, .init = setup, .fini = teardown, .timeout = 170);

Test(ext2_corrupt, good_image_baseline)
{
	fresh_copy();
	cr_assert_eq(run_case("good"), 0);
	cr_expect_eq(shared->mount, 0);
	cr_expect_eq(shared->worst, 0, "no errors on a good image (%d)", shared->worst);
	cr_expect_eq(shared->read_big, 300000);
	cr_expect_eq(shared->unmount, 0);
	cr_expect(fsck_clean(img));
}

Test(ext2_corrupt, superblock_fields)
{
	struct { long off; uint32_t v; int size; int mount; const char *what; } cases[] = {
		{ 1024 + 56, 0x1234, 2, -EINVAL, "magic" },
		{ 1024 + 24, 20, 4, -EINVAL, "log block size" },
		{ 1024 + 32, 0, 4, -EINVAL, "blocks per group 0" },
		{ 1024 + 32, 1u << 20, 4, -EINVAL, "blocks per group huge" },
		{ 1024 + 40, 0, 4, -EINVAL, "inodes per group 0" },
		{ 1024 + 0, 0x7fffffff, 4, -EINVAL, "inodes count" },
		{ 1024 + 4, 0x7fffffff, 4, -EINVAL, "blocks count past the device" },
		{ 1024 + 20, 7, 4, -EINVAL, "first data block" },
		{ 1024 + 76, 5, 4, -EINVAL, "revision" },
		{ 1024 + 88, 100, 2, -EINVAL, "inode size" },
		{ 1024 + 84, 1, 4, -EINVAL, "first inode" },
		{ 1024 + 96, 0x2 | 0x40, 4, -EOPNOTSUPP, "incompat extents" },
		{ 1024 + 96, 0x2 | 0x4, 4, -EINVAL, "incompat needs_recovery" },
		{ 1024 + 96, 0x2 | 0x80, 4, -EOPNOTSUPP, "incompat 64bit" },
		{ 1024 + 96, 0x2 | 0x10, 4, -EOPNOTSUPP, "incompat meta_bg" },
		{ 1024 + 96, 0x2 | 0x8, 4, -EOPNOTSUPP, "incompat journal_dev" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fresh_copy();
		if (cases[i].size == 2)
			patch16(cases[i].off, (uint16_t)cases[i].v);
		else
			patch32(cases[i].off, cases[i].v);
		cr_assert_eq(run_case(cases[i].what), 0, "%s", cases[i].what);
		cr_expect_eq(shared->mount, cases[i].mount, "%s: mount %d", cases[i].what, shared->mount);
	}
}

Test(ext2_corrupt, features_read_only_and_journal)
{
	/* An unknown read-only-compatible feature: mounted read-only. */
	fresh_copy();
	uint32_t ro;
	int fd = open(img, O_RDONLY);
	cr_assert_eq(pread(fd, &ro, 4, 1024 + 100), 4);
	close(fd);
	patch32(1024 + 100, ro | 0x400);     /* metadata_csum */
	cr_assert_eq(run_case("ro_compat"), 0);
	cr_expect_eq(shared->mount, 0);
	cr_expect(shared->read_only);
	cr_expect_eq(shared->create, -EROFS);
	cr_expect_eq(shared->read_big, 300000);
	/* has_journal (compat) without a journal inode: refused (Linux too). */
	fresh_copy();
	uint32_t compat;
	fd = open(img, O_RDONLY);
	cr_assert_eq(pread(fd, &compat, 4, 1024 + 92), 4);
	close(fd);
	patch32(1024 + 92, compat | 0x4);
	cr_assert_eq(run_case("has_journal"), 0);
	cr_expect_eq(shared->mount, -EINVAL);
}

Test(ext2_corrupt, group_descriptor_fields)
{
	long gd = (bsize == 1024 ? 2 : 1) * bsize;     /* the block after the superblock's */
	uint32_t end = (uint32_t)sb_field(base, "Block count:");
	struct { long off; uint32_t v; const char *what; } cases[] = {
		{ gd + 0, 999999, "block bitmap out of range" },
		{ gd + 4, 0, "inode bitmap 0" },
		{ gd + 8, end - 2, "inode table past the group" },
		{ gd + 8, 0xffffffff, "inode table huge" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fresh_copy();
		patch32(cases[i].off, cases[i].v);
		cr_assert_eq(run_case(cases[i].what), 0, "%s", cases[i].what);
		cr_expect_lt(shared->mount, 0, "%s: mount refused", cases[i].what);
	}
	/* Free counts larger than the group. */
	fresh_copy();
	patch16(gd + 12, 60000);
	cr_assert_eq(run_case("free blocks count"), 0);
	cr_expect_lt(shared->mount, 0);
	/* A block bitmap that frees the group's own metadata: a read-write
	 * mount is refused; read-only, every file reads and nothing changes. */
	fresh_copy();
	char *out = sh_out("dumpe2fs '%s' 2>/dev/null | grep -m1 'Block bitmap at'", base);
	long bb = atol(strstr(out, "at ") + 3);
	free(out);
	unsigned char zero[128] = { 0 };
	patch(bb * bsize, zero, sizeof(zero));
	cr_assert_eq(run_case("zeroed block bitmap"), 0);
	cr_expect_eq(shared->mount, -EROFS);
	char *sum = sh_out("md5sum < '%s'", img);
	cr_assert_eq(run_case_flags("zeroed block bitmap, read-only", 0, 0, FS_MOUNT_RDONLY), 0);
	cr_expect_eq(shared->mount, 0);
	cr_expect(shared->read_only);
	cr_expect_eq(shared->read_big, 300000);
	cr_expect_eq(shared->worst, -EROFS, "only writes refused: %d", shared->worst);
	char *sum2 = sh_out("md5sum < '%s'", img);
	cr_expect_str_eq(sum, sum2, "the image is unchanged");
	free(sum);
	free(sum2);
}

Test(ext2_corrupt, inode_fields)
{
	struct { long ino; long field; uint32_t v; int size; const char *what; } cases[] = {
		{ 0, 0, 0xf1ff, 2, "mode type" },
		{ 0, 40, 5, 4, "i_block[0] is metadata" },
		{ 0, 40, 0x7fffffff, 4, "i_block[0] out of range" },
		{ 0, 88, 0xfffffff0, 4, "IND pointer out of range" },
		{ 0, 88, 3, 4, "IND pointer at the descriptors" },
		{ 0, 32, 0x80000, 4, "extents flag" },
		{ 0, 4, 0, 4, "size zero (not an error: an empty file)" },
		{ 0, 108, 0xffffffff, 4, "size_high huge" },
		{ 0, 26, 0, 2, "links zero (not an error: an orphan, freed on iput)" },
		{ 0, 104, 0xfffffff, 4, "xattr block" },
		{ 1, 4, 100, 4, "directory size not block multiple" },
		{ 1, 40, 0, 4, "directory hole" },
		{ 1, 4, 0x7ffffc00, 4, "directory size huge" },
		{ 2, 4, 5000, 4, "slow symlink size > block" },
		{ 2, 40, 0, 4, "slow symlink without block" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fresh_copy();
		long ino = cases[i].ino == 0 ? ino_big : cases[i].ino == 1 ? ino_dir : ino_slow;
		long off = inode_off(ino) + cases[i].field;
		if (cases[i].size == 2)
			patch16(off, (uint16_t)cases[i].v);
		else
			patch32(off, cases[i].v);
		cr_assert_eq(run_case(cases[i].what), 0, "%s", cases[i].what);
		cr_expect_eq(shared->mount, 0, "%s", cases[i].what);
		if (!strstr(cases[i].what, "not an error"))
			cr_expect_gt(shared->eio, 0, "%s: some call reported -EIO", cases[i].what);
	}
}

Test(ext2_corrupt, root_inode)
{
	struct { long field; uint32_t v; int size; const char *what; } cases[] = {
		{ 26, 0, 2, "root links zero" },
		{ 0, 0100644, 2, "root is a regular file" },
		{ 0, 0, 2, "root mode zero" },
		{ 40, 0, 4, "root has no block" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fresh_copy();
		long off = inode_off(2) + cases[i].field;
		if (cases[i].size == 2)
			patch16(off, (uint16_t)cases[i].v);
		else
			patch32(off, cases[i].v);
		cr_assert_eq(run_case(cases[i].what), 0, "%s", cases[i].what);
		if (shared->mount == 0)
			cr_expect_gt(shared->eio, 0, "%s: errors reported", cases[i].what);
		else
			cr_expect(shared->mount == -EIO || shared->mount == -ENOENT, "%s: mount %d",
			          cases[i].what, shared->mount);
	}
}

Test(ext2_corrupt, directory_entries)
{
	/* Entries of /dir: "." at 0, ".." at 12, then names. */
	long d = blk_dir * bsize;
	struct { long off; uint32_t v; int size; const char *what; } cases[] = {
		{ 4, 0, 2, "rec_len 0" },
		{ 4, 6, 2, "rec_len 6" },
		{ 4, 13, 2, "rec_len unaligned" },
		{ 4, 2000, 2, "rec_len past the block" },
		{ 12 + 4, 4, 2, "rec_len < 8" },
		{ 24 + 6, 200, 1, "name_len past rec_len" },
		{ 24 + 0, 99999, 4, "inode out of range" },
		{ 24 + 0, 1, 4, "reserved inode" },
		{ 12 + 0, 0xffffffff, 4, ".. inode huge" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fresh_copy();
		if (cases[i].size == 2)
			patch16(d + cases[i].off, (uint16_t)cases[i].v);
		else if (cases[i].size == 1)
			patch(d + cases[i].off, &(uint8_t){ (uint8_t)cases[i].v }, 1);
		else
			patch32(d + cases[i].off, cases[i].v);
		cr_assert_eq(run_case(cases[i].what), 0, "%s", cases[i].what);
		cr_expect_eq(shared->mount, 0, "%s", cases[i].what);
		cr_expect_gt(shared->eio, 0, "%s: some call reported -EIO", cases[i].what);
	}
	/* The root's block: lookups of /dir fail with -EIO, and the error mark
	 * reaches the disk. */
	fresh_copy();
	patch16(blk_root * bsize + 4, 0);
	cr_assert_eq(run_case("root rec_len 0"), 0);
	cr_expect_eq(shared->readdir_root, -EIO);
	cr_expect_eq(shared->readdir_dir, -EIO);
	char *state = sh_out("dumpe2fs -h '%s' 2>/dev/null | grep '^Filesystem state:'", img);
	cr_expect(strstr(state, "error") != NULL, "%s", state);
	free(state);
}

Test(ext2_corrupt, indirect_block_entries)
{
	long ind = blk_ind * bsize;
	uint32_t vals[] = { 0xffffffff, 1, 2, (uint32_t)itable, 5000000 };
	for (size_t i = 0; i < sizeof(vals) / sizeof(*vals); i++) {
		fresh_copy();
		patch32(ind + 4 * 3, vals[i]);
		cr_assert_eq(run_case("indirect entry"), 0, "value %u", vals[i]);
		cr_expect_eq(shared->mount, 0);
		/* A short read up to the bad entry, or -EIO; -EIO from the truncate. */
		cr_expect(shared->read_big == -EIO || (shared->read_big >= 0 && shared->read_big < 300000),
		          "value %u: read %d", vals[i], shared->read_big);
		cr_expect_gt(shared->eio, 0, "value %u", vals[i]);
	}
	/* Two files sharing a block: no crash whatever happens. */
	fresh_copy();
	long small_blk = bmap0("/dir/small");
	patch32(ind + 4 * 5, (uint32_t)small_blk);
	cr_assert_eq(run_case("cross-linked block"), 0);
	(void)blk_big0;
	(void)ino_small;
}

/* Seeded random bytes in the metadata: superblock, descriptors, bitmaps,
 * inode table, directory and indirect blocks. Only "no crash, no hang". */
Test(ext2_corrupt, random_metadata_bytes)
{
	long regions[][2] = {
		{ 1024, 200 },                              /* superblock (useful part) */
		{ (bsize == 1024 ? 2 : 1) * bsize, 64 },    /* descriptors */
		{ itable * bsize, 16 * isz },               /* first inodes */
		{ inode_off(ino_dir), isz },
		{ inode_off(ino_big), isz },
		{ blk_dir * bsize, 128 },
		{ blk_root * bsize, 128 },
		{ blk_ind * bsize, 64 },
	};
	/* EXT2_FUZZ_ROUNDS / EXT2_FUZZ_SEED: longer runs by hand. */
	int rounds = getenv("EXT2_FUZZ_ROUNDS") ? atoi(getenv("EXT2_FUZZ_ROUNDS")) : 80;
	unsigned seed = getenv("EXT2_FUZZ_SEED") ? (unsigned)atoi(getenv("EXT2_FUZZ_SEED")) : 12345;
	int cases = 0;
	for (int round = 0; round < rounds; round++) {
		fresh_copy();
		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245 + 12345;
			long *r = regions[(seed >> 16) % (sizeof(regions) / sizeof(*regions))];
			seed = seed * 1103515245 + 12345;
			long off = r[0] + (long)((seed >> 8) % (unsigned long)r[1]);
			seed = seed * 1103515245 + 12345;
			uint8_t v = (uint8_t)(seed >> 16);
			patch(off, &v, 1);
		}
		if (getenv("EXT2_FUZZ_KEEP"))       /* keep the image for a closer look */
			sh("cp '%s' '%s'", img, getenv("EXT2_FUZZ_KEEP"));
		char what[32];
		snprintf(what, sizeof(what), "random round %d", round);
		cr_assert_eq(run_case(what), 0, "%s", what);
		cases++;
	}
	cr_expect_eq(cases, rounds);
}

/* errors=remount-ro: the first corruption makes the mount read-only, and
 * the error mark is on the disk at once (before unmount). */
static int policy_body(void *arg)
{
	struct report *r = arg;
	struct fs *fs;
	uint64_t dir = 0, cookie = 0, v[65] = { 0 };
	r->mount = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (r->mount < 0)
		return 0;
	r->create = k_write_pattern(fs, "/before", 0, 1000, 1);
	r->readdir_dir = resolve(fs, "/dir", &dir);
	if (r->readdir_dir == 0)
		r->readdir_dir = fs->ops->readdir(fs, dir, &cookie, walk_fill, v);
	r->read_only = fs->read_only;
	r->write_big = k_write_pattern(fs, "/after", 0, 1000, 1);
	/* Look at the disk before unmounting: the mark is there already. */
	uint8_t *raw = kmalloc_aligned(4096, 4096);
	blkdev_read(blkdev_get(0), 0, raw, 8);
	uint16_t state;
	memcpy(&state, raw + 1024 + 58, 2);
	r->eio = state;
	kfree(raw);
	r->unmount = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_corrupt, errors_remount_ro_policy)
{
	fresh_copy();
	cr_assert_eq(sh("tune2fs -e remount-ro '%s' >/dev/null 2>&1", img), 0);
	patch16(blk_dir * bsize + 4, 0);       /* /dir's first rec_len */
	memset(shared, 0, sizeof(*shared));
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		_exit(run_with_image(img, 1, policy_body, shared));
	}
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_eq(shared->mount, 0);
	cr_expect_eq(shared->create, 0, "writes work before the error");
	cr_expect_eq(shared->readdir_dir, -EIO);
	cr_expect(shared->read_only, "read-only after the error");
	cr_expect_eq(shared->write_big, -EROFS);
	cr_expect(shared->eio & 2, "EXT2_ERROR_FS on disk before unmount (state %d)", shared->eio);
	cr_expect_eq(shared->unmount, 0);
}

/* Device errors (injected by the posix disk driver) at many points of a
 * mount and a workload: errors come back, nothing crashes or hangs. */
Test(ext2_corrupt, device_errors)
{
	unsigned long afters[] = { 0, 1, 3, 8, 20, 60, 150 };
	unsigned opsets[] = { 1u << HAL_BLK_READ, 1u << HAL_BLK_WRITE, 1u << HAL_BLK_FLUSH,
	                      1u << HAL_BLK_READ | 1u << HAL_BLK_WRITE };
	int errors_seen = 0;
	for (size_t o = 0; o < sizeof(opsets) / sizeof(*opsets); o++)
		for (size_t a = 0; a < sizeof(afters) / sizeof(*afters); a++) {
			fresh_copy();
			char what[64];
			snprintf(what, sizeof(what), "ops 0x%x after %lu", opsets[o], afters[a]);
			cr_assert_eq(run_case_failing(what, opsets[o], afters[a]), 0, "%s", what);
			bool seen = shared->mount < 0 || shared->worst < 0 || shared->unmount < 0;
			/* Later failures may come after the workload's last request. */
			if (afters[a] <= 3)
				cr_expect(seen, "%s: an error came back", what);
			errors_seen += seen;
		}
	cr_expect_geq(errors_seen, 12);
	/* Reads failing from the first one: the mount itself fails with -EIO. */
	fresh_copy();
	cr_assert_eq(run_case_failing("all reads", 1u << HAL_BLK_READ, 0), 0);
	cr_expect_eq(shared->mount, -EIO);
}
