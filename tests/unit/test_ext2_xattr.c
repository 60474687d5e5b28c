/*
 * test_ext2_xattr.c: extended attributes of the ext2 driver against
 * e2fsprogs: attributes in 256-byte inodes and in blocks, what debugfs
 * (ea_list, ea_get) reads back from ours and what we read from its
 * ea_set, sharing of identical blocks and copy on write, freeing, the
 * limits and error codes of the fs_ops, and damaged tables (bad magic,
 * offsets and sizes past the end, bad hashes) refused with -EIO, never a
 * crash. Every image written passes e2fsck -fn. Also the ACL logic of
 * fs/acl.c on its own.
 */
#include <criterion/criterion.h>
#include <fcntl.h>

#include "acl.h"
#include "ext2_test_util.h"

static char img[256];

static void make(const char *mkfs_args)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/fs.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 %s '%s' 8M >/dev/null 2>&1", mkfs_args, img), 0);
	cr_assert_eq(sh("debugfs -w '%s' -R 'write /etc/hostname a' >/dev/null 2>&1", img), 0);
	cr_assert_eq(sh("debugfs -w '%s' -R 'write /etc/hostname b' >/dev/null 2>&1", img), 0);
}

static long file_acl(const char *path)
{
	return dbg_stat_field(img, path, "File ACL: ");
}

/* The 32-bit little-endian word at byte off of the image. */
static uint32_t img_word(long off)
{
	int fd = open(img, O_RDONLY);
	uint8_t b[4] = { 0 };
	cr_assert_eq(pread(fd, b, 4, off), 4);
	close(fd);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void img_poke(long off, const void *data, size_t len)
{
	int fd = open(img, O_WRONLY);
	cr_assert_eq(pwrite(fd, data, len, off), (ssize_t)len);
	close(fd);
}

/* ---- Kernel bodies: a script of steps, results recorded --------------------------- */

struct ctx {
	int mount, unmount;
	int rc[48];
	char val[48][256];
	char list[512];
	ssize_t list_len;
};
static struct ctx C;

static struct fs *mount_rw(struct ctx *c)
{
	struct fs *fs;
	c->mount = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	return c->mount < 0 ? NULL : fs;
}

static int ino_of(struct fs *fs, const char *path)
{
	uint64_t ino;
	return resolve(fs, path, &ino) < 0 ? 0 : (int)ino;
}

static int body_inode_and_limits(void *arg)
{
	struct ctx *c = arg;
	struct fs *fs = mount_rw(c);
	if (!fs)
		return 1;
	const struct fs_ops *o = fs->ops;
	uint64_t a = (uint64_t)ino_of(fs, "/a");
	c->rc[0] = o->setxattr(fs, a, "user.small", "hello", 5, 0);
	c->rc[1] = o->setxattr(fs, a, "user.small", "again", 5, VFS_XATTR_CREATE);
	c->rc[2] = o->setxattr(fs, a, "user.none", "x", 1, VFS_XATTR_REPLACE);
	c->rc[3] = (int)o->getxattr(fs, a, "user.small", NULL, 0);
	c->rc[4] = (int)o->getxattr(fs, a, "user.small", c->val[4], 2);
	c->rc[5] = (int)o->getxattr(fs, a, "user.small", c->val[5], sizeof(c->val[5]));
	c->rc[6] = (int)o->getxattr(fs, a, "user.none", c->val[6], sizeof(c->val[6]));
	c->rc[7] = o->setxattr(fs, a, "other.x", "x", 1, 0);
	c->rc[8] = o->setxattr(fs, a, "user.", "x", 1, 0);
	c->rc[9] = o->setxattr(fs, a, "trusted.t", "", 0, 0);
	c->rc[10] = o->setxattr(fs, a, "security.s", "sec", 3, 0);
	c->list_len = o->listxattr(fs, a, c->list, sizeof(c->list));
	c->rc[11] = (int)o->listxattr(fs, a, c->list, 3);
	c->rc[12] = o->removexattr(fs, a, "user.none");
	c->rc[13] = o->setxattr(fs, a, "user.small", "replaced!", 9, VFS_XATTR_REPLACE);
	/* A value no table can hold; then fill the block to ENOSPC. */
	static char big[8192];
	memset(big, 'v', sizeof(big));
	c->rc[14] = o->setxattr(fs, a, "user.huge", big, sizeof(big), 0);
	uint64_t b = (uint64_t)ino_of(fs, "/b");
	int n = 0, rc = 0;
	char name[32];
	while (rc == 0 && n < 100) {
		snprintf(name, sizeof(name), "user.fill%02d", n++);
		rc = o->setxattr(fs, b, name, big, 300, 0);
	}
	c->rc[15] = rc;
	c->rc[16] = n;
	c->rc[17] = o->removexattr(fs, b, "user.fill00");
	c->rc[18] = o->setxattr(fs, b, "user.fill00", big, 300, 0);   /* fits again */
	c->rc[19] = (int)o->getxattr(fs, a, "security.s", c->val[19], sizeof(c->val[19]));
	c->unmount = o->unmount(fs);
	return 0;
}

Test(ext2_xattr, in_inode_and_limits)
{
	make("-b 1024 -I 256");
	cr_assert_eq(run_with_image(img, 1, body_inode_and_limits, &C), 0);
	cr_assert_eq(C.mount, 0);
	cr_assert_eq(C.rc[0], 0);
	cr_assert_eq(C.rc[1], -EEXIST);
	cr_assert_eq(C.rc[2], -ENODATA);
	cr_assert_eq(C.rc[3], 5);
	cr_assert_eq(C.rc[4], -ERANGE);
	cr_assert_eq(C.rc[5], 5);
	cr_assert_eq(memcmp(C.val[5], "hello", 5), 0);
	cr_assert_eq(C.rc[6], -ENODATA);
	cr_assert_eq(C.rc[7], -EOPNOTSUPP);
	cr_assert_eq(C.rc[8], -EINVAL);
	cr_assert_eq(C.rc[9], 0);
	cr_assert_eq(C.rc[10], 0);
	const char want[] = "user.small\0trusted.t\0security.s";
	cr_assert_eq(C.list_len, (ssize_t)sizeof(want));
	cr_assert_eq(memcmp(C.list, want, sizeof(want)), 0);
	cr_assert_eq(C.rc[11], -ERANGE);
	cr_assert_eq(C.rc[12], -ENODATA);
	cr_assert_eq(C.rc[13], 0);
	cr_assert_eq(C.rc[14], -ENOSPC);
	cr_assert_eq(C.rc[15], -ENOSPC);
	cr_assert_gt(C.rc[16], 3, "a 1 KiB block and the inode took %d values", C.rc[16] - 1);
	cr_assert_eq(C.rc[17], 0);
	cr_assert_eq(C.rc[18], 0);
	cr_assert_eq(C.rc[19], 3);
	cr_assert_eq(C.unmount, 0);
	/* /a's three small ones live in the inode: no block. */
	cr_assert_eq(file_acl("/a"), 0);
	cr_assert_gt(file_acl("/b"), 0);
	char *out = sh_out("debugfs -R 'ea_get /a user.small' '%s' 2>/dev/null", img);
	cr_assert(strstr(out, "replaced!"), "debugfs ea_get: %s", out);
	free(out);
	out = sh_out("debugfs -R 'ea_list /b' '%s' 2>/dev/null", img);
	cr_assert(strstr(out, "user.fill00 (300)") && strstr(out, "user.fill01 (300)"), "%s", out);
	free(out);
	cr_assert(sh("dumpe2fs -h '%s' 2>/dev/null | grep -q 'features:.*ext_attr'", img) == 0);
	cr_assert(fsck_clean(img));
	tmp_cleanup();
}

/* ---- Sharing, copy on write, freeing ------------------------------------------- */

static int body_share(void *arg)
{
	struct ctx *c = arg;
	struct fs *fs = mount_rw(c);
	if (!fs)
		return 1;
	const struct fs_ops *o = fs->ops;
	uint64_t a = (uint64_t)ino_of(fs, "/a"), b = (uint64_t)ino_of(fs, "/b");
	int step = c->rc[40];
	if (step == 0) {        /* the same attributes on both: one block */
		c->rc[0] = o->setxattr(fs, a, "user.one", "1111", 4, 0);
		c->rc[1] = o->setxattr(fs, a, "user.two", "22", 2, 0);
		c->rc[2] = o->setxattr(fs, b, "user.two", "22", 2, 0);
		c->rc[3] = o->setxattr(fs, b, "user.one", "1111", 4, 0);
	} else if (step == 1) { /* a changes: its own copy */
		c->rc[0] = o->setxattr(fs, a, "user.one", "changed", 7, 0);
		c->rc[1] = (int)o->getxattr(fs, b, "user.one", c->val[1], sizeof(c->val[1]));
		c->rc[2] = (int)o->getxattr(fs, a, "user.one", c->val[2], sizeof(c->val[2]));
	} else {                /* b goes away with its block; a drops its attributes */
		c->rc[0] = k_unlink(fs, "/b");
		c->rc[1] = o->removexattr(fs, a, "user.one");
		c->rc[2] = o->removexattr(fs, a, "user.two");
	}
	c->unmount = o->unmount(fs);
	return 0;
}

static void run_step(int step)
{
	memset(&C, 0, sizeof(C));
	C.rc[40] = step;
	cr_assert_eq(run_with_image(img, 1, body_share, &C), 0);
	cr_assert_eq(C.mount, 0);
	cr_assert_eq(C.unmount, 0);
	cr_assert(fsck_clean(img), "after step %d", step);
}

Test(ext2_xattr, shared_blocks_copy_on_write)
{
	make("-b 1024 -I 128");
	long free0 = sb_field(img, "Free blocks:");
	run_step(0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(C.rc[i], 0);
	long blk = file_acl("/a");
	cr_assert_gt(blk, 0);
	cr_assert_eq(file_acl("/b"), blk, "identical attributes share one block");
	cr_assert_eq(img_word(blk * 1024 + 4), 2, "refcount 2");
	cr_assert_eq(sb_field(img, "Free blocks:"), free0 - 1);

	run_step(1);
	cr_assert_eq(C.rc[0], 0);
	cr_assert_eq(C.rc[1], 4);
	cr_assert_eq(memcmp(C.val[1], "1111", 4), 0, "the other sharer keeps its value");
	cr_assert_eq(C.rc[2], 7);
	long blk_a = file_acl("/a");
	cr_assert_neq(blk_a, blk);
	cr_assert_eq(file_acl("/b"), blk);
	cr_assert_eq(img_word(blk * 1024 + 4), 1);
	cr_assert_eq(img_word(blk_a * 1024 + 4), 1);
	char *out = sh_out("debugfs -R 'ea_get /b user.one' '%s' 2>/dev/null", img);
	cr_assert(strstr(out, "1111"), "%s", out);
	free(out);

	run_step(2);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(C.rc[i], 0);
	cr_assert_eq(file_acl("/a"), 0);
	cr_assert_eq(sb_field(img, "Free blocks:"), free0 + 1, "both blocks and b's data freed");
	tmp_cleanup();
}

/* ---- What e2fsprogs wrote, we read --------------------------------------------- */

static int body_read_foreign(void *arg)
{
	struct ctx *c = arg;
	struct fs *fs;
	c->mount = ext2_fs_type.mount(blkdev_get(0), FS_MOUNT_RDONLY, &fs);
	if (c->mount < 0)
		return 1;
	uint64_t a = (uint64_t)ino_of(fs, "/a"), b = (uint64_t)ino_of(fs, "/b");
	c->rc[0] = (int)fs->ops->getxattr(fs, a, "user.moo", c->val[0], sizeof(c->val[0]));
	c->rc[1] = (int)fs->ops->getxattr(fs, b, "user.long", c->val[1], sizeof(c->val[1]));
	c->rc[2] = (int)fs->ops->getxattr(fs, a, VFS_ACL_ACCESS, c->val[2], sizeof(c->val[2]));
	c->list_len = fs->ops->listxattr(fs, b, c->list, sizeof(c->list));
	c->unmount = fs->ops->unmount(fs);
	return 0;
}

/* An ACL in the xattr format: user::rw- user:1000:r-- group::r-- mask::r-- other::---. */
static const uint8_t acl_api[] = {
	2, 0, 0, 0,
	0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
	0x02, 0, 4, 0, 0xe8, 0x03, 0, 0,
	0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
};

Test(ext2_xattr, reads_what_debugfs_wrote)
{
	make("-b 4096 -I 256");
	char acl_file[300], long_file[300];
	snprintf(acl_file, sizeof(acl_file), "%s/acl.bin", tdir);
	snprintf(long_file, sizeof(long_file), "%s/long.bin", tdir);
	FILE *f = fopen(acl_file, "w");
	fwrite(acl_api, 1, sizeof(acl_api), f);
	fclose(f);
	cr_assert_eq(sh("printf 'L%%.0s' $(seq 200) > '%s'", long_file), 0);   /* to a block */
	cr_assert_eq(sh("debugfs -w '%s' -f - >/dev/null 2>&1 <<'EOF'\n"
	                "ea_set /a user.moo cow\n"
	                "ea_set -f %s /a system.posix_acl_access\n"
	                "ea_set -f %s /b user.long\n"
	                "ea_set /b user.x y\n"
	                "EOF", img, acl_file, long_file), 0);
	cr_assert(fsck_clean(img));
	cr_assert_eq(run_with_image(img, 1, body_read_foreign, &C), 0);
	cr_assert_eq(C.mount, 0);
	cr_assert_eq(C.rc[0], 3);
	cr_assert_eq(memcmp(C.val[0], "cow", 3), 0);
	cr_assert_eq(C.rc[1], 200);
	cr_assert_eq(C.val[1][199], 'L');
	cr_assert_gt(file_acl("/b"), 0, "debugfs put /b's attributes in a block");
	cr_assert_eq(C.rc[2], (int)sizeof(acl_api), "the ACL in the xattr format");
	cr_assert_eq(memcmp(C.val[2], acl_api, sizeof(acl_api)), 0);
	cr_assert_eq(C.list_len, (ssize_t)sizeof("user.long\0user.x"));
	tmp_cleanup();
}

/* ---- Damaged tables --------------------------------------------------------------- */

static int body_corrupt(void *arg)
{
	struct ctx *c = arg;
	struct fs *fs = mount_rw(c);
	if (!fs)
		return 1;
	uint64_t a = (uint64_t)ino_of(fs, "/a");
	c->rc[0] = (int)fs->ops->getxattr(fs, a, "user.k0", c->val[0], sizeof(c->val[0]));
	c->rc[1] = (int)fs->ops->listxattr(fs, a, c->list, sizeof(c->list));
	c->rc[2] = fs->ops->setxattr(fs, a, "user.new", "n", 1, 0);
	c->rc[3] = fs->ops->removexattr(fs, a, "user.k0");
	c->unmount = fs->ops->unmount(fs);
	return 0;
}

/* Image with /a's attributes in a 1 KiB block (128-byte inodes); returns the block. */
static long make_block_image(void)
{
	make("-b 1024 -I 128");
	cr_assert_eq(sh("debugfs -w '%s' -f - >/dev/null 2>&1 <<'EOF'\n"
	                "ea_set /a user.k0 value0\n"
	                "ea_set /a user.k1 value1\n"
	                "EOF", img), 0);
	long blk = file_acl("/a");
	cr_assert_gt(blk, 0);
	return blk;
}

/* expect_refused: every call on the damaged image fails -EIO; the image
 * (its own directory) goes. */
static void expect_refused(const char *what)
{
	memset(&C, 0, sizeof(C));
	cr_assert_eq(run_with_image(img, 1, body_corrupt, &C), 0, "%s: the kernel ran", what);
	cr_assert_eq(C.mount, 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(C.rc[i], -EIO, "%s: step %d gave %d", what, i, C.rc[i]);
	tmp_cleanup();
}

Test(ext2_xattr, damaged_block_refused)
{
	long blk = make_block_image();
	long at = blk * 1024;
	uint32_t word = 0x12345678;
	img_poke(at, &word, 4);                         /* bad magic */
	expect_refused("bad magic");

	blk = make_block_image();
	at = blk * 1024;
	uint16_t offs = 1020;                           /* value runs past the block */
	img_poke(at + 32 + 2, &offs, 2);
	expect_refused("value offset past the end");

	blk = make_block_image();
	at = blk * 1024;
	uint32_t size = 0x7fffffff;
	img_poke(at + 32 + 8, &size, 4);                /* value size past the end */
	expect_refused("value size past the end");

	blk = make_block_image();
	at = blk * 1024;
	uint32_t hash = img_word(at + 32 + 12) ^ 1;
	img_poke(at + 32 + 12, &hash, 4);               /* entry hash */
	expect_refused("bad entry hash");

	blk = make_block_image();
	at = blk * 1024;
	hash = img_word(at + 12) ^ 1;
	img_poke(at + 12, &hash, 4);                    /* block hash */
	expect_refused("bad block hash");

	blk = make_block_image();
	at = blk * 1024;
	static uint8_t junk[1024 - 32];
	memset(junk, 0x41, sizeof(junk));
	img_poke(at + 32, junk, sizeof(junk));          /* no end to the entries */
	expect_refused("entries without an end");
}

Test(ext2_xattr, damaged_inode_table_refused)
{
	make("-b 1024 -I 256");
	cr_assert_eq(sh("debugfs -w '%s' -R 'ea_set /a user.k0 value0' >/dev/null 2>&1", img), 0);
	cr_assert_eq(file_acl("/a"), 0, "in the inode");
	long ino = dbg_stat_field(img, "/a", "Inode: ");
	char *out = sh_out("dumpe2fs '%s' 2>/dev/null | grep -m1 'Inode table at'", img);
	long itable = atol(strstr(out, "Inode table at ") + strlen("Inode table at "));
	free(out);
	long raw = itable * 1024 + (ino - 1) * 256;
	uint32_t extra = img_word(raw + 128) & 0xffff;
	long first = raw + 128 + extra + 4;
	uint16_t offs = 200;                            /* past the inode's end */
	img_poke(first + 2, &offs, 2);
	expect_refused("in-inode value past the end");
}

/* ---- ACL logic (fs/acl.c) --------------------------------------------------------- */

Test(acl, check_and_permits)
{
	cr_assert_eq(acl_check(acl_api, sizeof(acl_api)), 5);
	cr_assert_eq(acl_check(acl_api, sizeof(acl_api) - 1), -EINVAL);
	uint8_t bad[sizeof(acl_api)];
	memcpy(bad, acl_api, sizeof(bad));
	bad[4 + 3 * 8] = 0x08;                          /* mask -> group after group_obj: order */
	bad[4 + 3 * 8 + 4] = 0;
	cr_assert_eq(acl_check(bad, sizeof(bad)), -EINVAL, "named entry without a mask");
	uint32_t groups[1] = { 50 };
	struct acl_who named = { .uid = 1000, .gid = 7 }, owner = { .uid = 5, .gid = 9 };
	struct acl_who other = { .uid = 2000, .gid = 7, .groups = groups, .ngroups = 1 };
	cr_assert_eq(acl_permits(acl_api, 5, &named, 5, 50, 4), 0);
	cr_assert_eq(acl_permits(acl_api, 5, &named, 5, 50, 2), -EACCES);
	cr_assert_eq(acl_permits(acl_api, 5, &owner, 5, 50, 6), 0);
	cr_assert_eq(acl_permits(acl_api, 5, &other, 5, 50, 4), 0,
	             "the owning group by a supplementary id");
	cr_assert_eq(acl_permits(acl_api, 5, &other, 5, 51, 4), -EACCES, "other gets nothing");
	bool eq;
	cr_assert_eq(acl_mode_bits(acl_api, 5, &eq), 0640);
	cr_assert_not(eq);
	uint8_t acl[sizeof(acl_api)];
	memcpy(acl, acl_api, sizeof(acl));
	acl_chmod(acl, 5, 0751);
	cr_assert_eq(acl_mode_bits(acl, 5, &eq), 0751);
	cr_assert_eq(acl_entry(acl, 1).perm, 4, "named entries stay");
}
