/*
 * test_ext2_mkfs.c: ext2_mkfs makes images that e2fsck -fn passes and
 * that dumpe2fs reads back with the asked-for geometry; the driver then
 * mounts them and writes to them, and they stay clean.
 */
#include <criterion/criterion.h>

#include "ext2/mkfs.h"
#include "ext2_test_util.h"

static char img[256];

struct mk {
	struct ext2_mkfs_opts opts;
	int mkfs, mount, write, mkdir, unmount, simple;
};

static int mkfs_body(void *arg)
{
	struct mk *m = arg;
	m->mkfs = ext2_mkfs(blkdev_get(0), &m->opts);
	if (m->mkfs < 0)
		return 0;
	struct fs *fs;
	m->mount = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (m->mount < 0)
		return 0;
	m->mkdir = k_mkdir(fs, "/dir");
	m->write = k_write_pattern(fs, "/dir/file", 0, 100000, 1);
	m->unmount = fs->ops->unmount(fs);
	return 0;
}

static void mkfs_case(uint64_t size, uint32_t bsize, uint32_t isz, unsigned groups_min)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/mk.img", tdir);
	cr_assert_eq(sh("truncate -s %lu '%s'", (unsigned long)size, img), 0);
	struct mk m = { .opts = { .block_size = bsize, .inode_size = isz, .reserved_percent = 5,
	                          .label = "toro" } };
	cr_assert_eq(run_with_image(img, 1, mkfs_body, &m), 0);
	cr_assert_eq(m.mkfs, 0);
	cr_assert(fsck_clean(img), "fresh image is clean");
	cr_expect_eq(sb_field(img, "Block size:"), bsize);
	cr_expect_eq(sb_field(img, "Inode size:"), isz);
	char *feat = sh_out("dumpe2fs -h '%s' 2>/dev/null | grep features", img);
	cr_expect(strstr(feat, "filetype") && strstr(feat, "sparse_super") && strstr(feat, "large_file"),
	          "%s", feat);
	free(feat);
	char *groups = sh_out("dumpe2fs '%s' 2>/dev/null | grep -c '^Group'", img);
	cr_expect_geq(atoi(groups), (int)groups_min, "groups: %s", groups);
	free(groups);
	cr_expect_eq(m.mount, 0);
	cr_expect_eq(m.mkdir, 0);
	cr_expect_eq(m.write, 0);
	cr_expect_eq(m.unmount, 0);
	cr_expect(fsck_clean(img), "clean after writes");
	cr_expect_eq(dbg_stat_field(img, "/dir/file", "Size: "), 100000);
	tmp_cleanup();
}

Test(ext2_mkfs, b1k_i128) { mkfs_case(20u << 20, 1024, 128, 3); }
Test(ext2_mkfs, b1k_i256) { mkfs_case(30u << 20, 1024, 256, 4); }
Test(ext2_mkfs, b2k_i256) { mkfs_case(70u << 20, 2048, 256, 2); }
Test(ext2_mkfs, b4k_i128) { mkfs_case(300u << 20, 4096, 128, 3); }
Test(ext2_mkfs, b4k_small) { mkfs_case(2u << 20, 4096, 256, 1); }
Test(ext2_mkfs, b8k) { mkfs_case(600u << 20, 8192, 256, 2); }
/* 64 KiB: groups of 65528 blocks at most (16-bit free counts). */
Test(ext2_mkfs, b64k) { mkfs_case(5ull << 30, 65536, 256, 2); }

static int simple_body(void *arg)
{
	struct mk *m = arg;
	m->simple = ext2_mkfs(blkdev_get(0), &(struct ext2_mkfs_opts){ .size = 4u << 20 });
	m->mkfs = ext2_mkfs(blkdev_get(0), &(struct ext2_mkfs_opts){ .block_size = 3000 });
	return 0;
}

Test(ext2_mkfs, defaults_and_bad_options)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/mk.img", tdir);
	cr_assert_eq(sh("truncate -s 8M '%s'", img), 0);
	struct mk m = { 0 };
	cr_assert_eq(run_with_image(img, 1, simple_body, &m), 0);
	cr_expect_eq(m.simple, 0);
	cr_expect_eq(m.mkfs, -EINVAL);
	cr_expect(fsck_clean(img));
	cr_expect_eq(sb_field(img, "Block count:"), 4096);
	tmp_cleanup();
}
