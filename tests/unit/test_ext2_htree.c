/*
 * test_ext2_htree.c: the dir_index hash index. Directories the driver
 * fills (100k names on 4 KiB blocks, 30k on 1 KiB: leaf splits, a second
 * level, node splits) pass e2fsck -fn with their index; indexes built by
 * e2fsck -fD (half-MD4, TEA, legacy; signed and unsigned) are read and
 * updated and stay valid; damaged indexes are not trusted: on a read-write
 * mount they are rebuilt (names are still found, the directory is indexed
 * again, e2fsck finds nothing wrong after), read-only nothing is written.
 */
#include <criterion/criterion.h>

#include "ext2/mkfs.h"
#include "ext2_test_util.h"

static char img[256];

/* Names with a byte above 0x7f, so signed and unsigned hashes differ. */
static int name_of(char *buf, size_t size, const char *prefix, int i)
{
	return snprintf(buf, size, "%s-\xc3\xa9t\xc3\xa9-%06d", prefix, i);
}

struct run {
	const char *dir;        /* the directory under test */
	int create, exist;      /* names to create; names already there (from the host) */
	int stride;             /* remove every stride-th name */
	bool read_only;
	int rc[4];
	int made, found, removed, gone, refound, again, renamed;
};

static int lookup_name(struct fs *fs, uint64_t dir, const char *prefix, int i, uint64_t *ino)
{
	char name[64];
	int n = name_of(name, sizeof(name), prefix, i);
	return fs->ops->lookup(fs, dir, name, (size_t)n, ino);
}

static int run_body(void *arg)
{
	struct run *r = arg;
	struct fs *fs;
	uint64_t dir = 0, ino;
	char name[64];
	r->rc[0] = ext2_fs_type.mount(blkdev_get(0), r->read_only ? FS_MOUNT_RDONLY : 0, &fs);
	if (r->rc[0] < 0)
		return 0;
	r->rc[1] = resolve(fs, r->dir, &dir);
	if (r->rc[1] == -ENOENT)
		r->rc[1] = k_mkdir(fs, r->dir) ?: resolve(fs, r->dir, &dir);
	if (r->rc[1] < 0)
		goto out;
	for (int i = 0; i < r->create; i++) {
		int n = name_of(name, sizeof(name), "new", i);
		if (fs->ops->mknod(fs, dir, name, (size_t)n, S_IFREG | 0644, 0, 0, 0, &ino) == 0)
			r->made++;
	}
	for (int i = 0; i < r->exist; i++)
		r->found += lookup_name(fs, dir, "old", i, &ino) == 0;
	for (int i = 0; i < r->create; i++)
		r->found += lookup_name(fs, dir, "new", i, &ino) == 0;
	if (r->read_only)
		goto out;
	/* Remove every stride-th name, then check those alone are gone. */
	const char *prefix = r->exist ? "old" : "new";
	int total = r->exist ? r->exist : r->create;
	for (int i = 0; r->stride && i < total; i += r->stride) {
		int n = name_of(name, sizeof(name), prefix, i);
		r->removed += fs->ops->unlink(fs, dir, name, (size_t)n) == 0;
	}
	for (int i = 0; i < total; i++) {
		int rc = lookup_name(fs, dir, prefix, i, &ino);
		if (r->stride && i % r->stride == 0)
			r->gone += rc == -ENOENT;
		else
			r->refound += rc == 0;
	}
	/* ... and come back. */
	for (int i = 0; r->stride && i < total; i += r->stride) {
		int n = name_of(name, sizeof(name), prefix, i);
		r->again += fs->ops->mknod(fs, dir, name, (size_t)n, S_IFREG | 0644, 0, 0, 0, &ino) == 0;
	}
	/* Renames inside the directory: the old name goes, the new one leads
	 * to the same inode. */
	for (int i = 1; r->stride && i < total; i += r->stride) {
		char to[64];
		uint64_t before, after;
		int n = name_of(name, sizeof(name), prefix, i), m = name_of(to, sizeof(to), "mv", i);
		if (fs->ops->lookup(fs, dir, name, (size_t)n, &before) == 0 &&
		    fs->ops->rename(fs, dir, name, (size_t)n, dir, to, (size_t)m) == 0 &&
		    fs->ops->lookup(fs, dir, name, (size_t)n, &ino) == -ENOENT &&
		    fs->ops->lookup(fs, dir, to, (size_t)m, &after) == 0 && after == before)
			r->renamed++;
	}
out:
	r->rc[2] = fs->ops->unmount(fs);
	return 0;
}

static void run_checked(struct run *r)
{
	cr_assert_eq(run_with_image(img, 1, run_body, r), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(r->rc[i], 0, "step %d: %d", i, r->rc[i]);
	int total = r->exist ? r->exist : r->create;
	cr_expect_eq(r->made, r->create);
	cr_expect_eq(r->found, r->exist + r->create);
	if (r->stride && !r->read_only) {
		int every = (total + r->stride - 1) / r->stride;
		cr_expect_eq(r->removed, every);
		cr_expect_eq(r->gone, every);
		cr_expect_eq(r->refound, total - every);
		cr_expect_eq(r->again, every);
		cr_expect_eq(r->renamed, (total - 1 + r->stride - 1) / r->stride);
	}
}

/* debugfs's view of the directory's index: "Indirect levels: N", or -1. */
static int index_levels(const char *dir)
{
	char *out = sh_out("debugfs -R 'htree_dump %s' '%s' 2>/dev/null | "
	                   "sed -n 's/.*Indirect levels: //p' | head -1", dir, img);
	int levels = *out ? atoi(out) : -1;
	free(out);
	return levels;
}

static long dir_flags(const char *dir)
{
	char *out = sh_out("debugfs -R 'stat %s' '%s' 2>/dev/null | sed -n 's/.*Flags: //p'", dir,
	                   img);
	long flags = strtol(out, NULL, 16);
	free(out);
	return flags;
}

static void ours_case(const char *mkfs_opts, const char *size, int count, int stride)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/o.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 %s '%s' %s >/dev/null 2>&1", mkfs_opts, img, size), 0);
	struct run r = { .dir = "/big", .create = count, .stride = stride };
	run_checked(&r);
	cr_assert(fsck_clean(img));
	cr_expect_eq(index_levels("/big"), 1, "a second index level");
	cr_expect_eq(dir_flags("/big") & 0x1000, 0x1000);
	/* (ls -l: a removed entry first in its block shows with inode 0) */
	char *n = sh_out("debugfs -R 'ls -l /big' '%s' 2>/dev/null | awk '$1 != 0' | "
	                 "grep -cE '(new|mv)-'", img);
	cr_expect_eq(atoi(n), count, "names listed: %s", n);
	free(n);
	tmp_cleanup();
}

Test(ext2_htree, ours_100k_names_4k_blocks, .timeout = 600)
{
	ours_case("-b 4096 -N 110000 -O dir_index", "600M", 100000, 7);
}

Test(ext2_htree, ours_30k_names_1k_blocks, .timeout = 600)
{
	ours_case("-b 1024 -N 32000 -O dir_index", "64M", 30000, 5);
}

/* Fill /d with count names "old-...", through the driver. */
static int fill_body(void *arg)
{
	int count = *(int *)arg;
	struct fs *fs;
	uint64_t dir, ino;
	char name[64];
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 0;
	if (k_mkdir(fs, "/d") == 0 && resolve(fs, "/d", &dir) == 0) {
		for (int i = 0; i < count; i++) {
			int n = name_of(name, sizeof(name), "old", i);
			if (fs->ops->mknod(fs, dir, name, (size_t)n, S_IFREG | 0644, 0, 0, 0, &ino) < 0)
				break;
		}
	}
	fs->ops->unmount(fs);
	return 0;
}

static int our_mkfs_body(void *arg)
{
	struct ext2_mkfs_opts o = { .block_size = 1024, .bytes_per_inode = 2048 };
	*(int *)arg = ext2_mkfs(blkdev_get(0), &o);
	return 0;
}

/* Our mkfs makes dir_index file systems (a hash seed, half-MD4, signed). */
Test(ext2_htree, our_mkfs_indexes, .timeout = 300)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/k.img", tdir);
	cr_assert_eq(sh("truncate -s 64M '%s'", img), 0);
	int rc = -1, count = 20000;
	cr_assert_eq(run_with_image(img, 1, our_mkfs_body, &rc), 0);
	cr_assert_eq(rc, 0);
	cr_assert_eq(run_with_image(img, 1, fill_body, &count), 0);
	cr_assert(fsck_clean(img));
	cr_expect_eq(index_levels("/d"), 1);
	char *out = sh_out("dumpe2fs -h '%s' 2>/dev/null | grep -c "
	                   "'dir_index\\|signed_directory_hash\\|hash:.*half_md4'", img);
	cr_expect_eq(atoi(out), 3, "%s", out);
	free(out);
	out = sh_out("debugfs -R 'ls -l /d' '%s' 2>/dev/null | awk '$1 != 0' | grep -c 'old-'", img);
	cr_expect_eq(atoi(out), count);
	free(out);
	tmp_cleanup();
}

/* An image whose /d holds count names "old-..." indexed by e2fsck -fD with
 * the given hash (and s_flags: 1 signed, 2 unsigned). */
static void host_indexed(const char *bsize, const char *hash, int flags, int count)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/h.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b %s -N %d '%s' 64M >/dev/null 2>&1",
	                bsize, count + 4000, img), 0);
	cr_assert_eq(sh("debugfs -w -R 'ssv def_hash_version %s' '%s' >/dev/null 2>&1", hash, img), 0);
	cr_assert_eq(sh("debugfs -w -R 'ssv flags %d' '%s' >/dev/null 2>&1", flags, img), 0);
	cr_assert_eq(run_with_image(img, 1, fill_body, &count), 0);
	sh("e2fsck -fyD '%s' >/dev/null 2>&1", img);
	cr_assert(fsck_clean(img));
	cr_assert_geq(index_levels("/d"), 0, "e2fsck built an index");
	char *v = sh_out("debugfs -R 'htree_dump /d' '%s' 2>/dev/null | "
	                 "sed -n 's/.*Hash Version: //p' | head -1", img);
	int want = !strcmp(hash, "legacy") ? 0 : !strcmp(hash, "half_md4") ? 1 : 2;
	cr_assert_eq(atoi(v), want, "index by %s: %s", hash, v);
	free(v);
}

static void theirs_case(const char *bsize, const char *hash, int flags)
{
	host_indexed(bsize, hash, flags, 20000);
	struct run r = { .dir = "/d", .exist = 20000, .create = 3000, .stride = 3 };
	run_checked(&r);
	cr_assert(fsck_clean(img));
	cr_expect_eq(dir_flags("/d") & 0x1000, 0x1000, "index kept");
	tmp_cleanup();
}

Test(ext2_htree, e2fsck_index_half_md4_signed, .timeout = 300)
{
	theirs_case("1024", "half_md4", 1);
}
Test(ext2_htree, e2fsck_index_half_md4_unsigned, .timeout = 300)
{
	theirs_case("4096", "half_md4", 2);
}
Test(ext2_htree, e2fsck_index_tea_signed, .timeout = 300) { theirs_case("4096", "tea", 1); }
Test(ext2_htree, e2fsck_index_tea_unsigned, .timeout = 300) { theirs_case("2048", "tea", 2); }
Test(ext2_htree, e2fsck_index_legacy_unsigned, .timeout = 300)
{
	theirs_case("4096", "legacy", 2);
}

/* The byte offset in the image of byte off of /d's root block. */
static long root_byte(long off)
{
	long bsize = sb_field(img, "Block size:");
	char *out = sh_out("debugfs -R 'bmap /d 0' '%s' 2>/dev/null", img);
	long blk = atol(out);
	free(out);
	cr_assert_gt(blk, 0);
	return blk * bsize + off;
}

/* Write bytes (a printf escape string) at byte off of the root block of /d. */
static void patch_root(long off, const char *bytes)
{
	cr_assert_eq(sh("printf '%s' | dd of='%s' bs=1 seek=%ld conv=notrunc status=none", bytes,
	                img, root_byte(off)), 0);
}

/* The image's checksum, to tell it was not written. */
static char *image_sum(void)
{
	return sh_out("md5sum < '%s'", img);
}

/* /d's index was rebuilt: flagged, as deep as want_levels, e2fsck clean. */
static void expect_rebuilt(int want_levels)
{
	cr_expect_eq(dir_flags("/d") & 0x1000, 0x1000, "the index flag is set");
	cr_expect_eq(index_levels("/d"), want_levels, "an index of %d levels", want_levels);
	cr_assert(fsck_clean(img));
}

/* Root table: info at 24 (version 28, levels 30), limit 32, count 34,
 * entry 1's hash at 40 and block at 44. */
static void corrupt_case(long off, const char *bytes, bool read_only)
{
	host_indexed("4096", "half_md4", 1, 8000);
	patch_root(off, bytes);
	char *before = image_sum();
	struct run r = { .dir = "/d", .exist = 8000, .create = read_only ? 0 : 500,
	                 .stride = 4, .read_only = read_only };
	run_checked(&r);
	if (read_only) {
		char *after = image_sum();
		cr_expect(strcmp(after, before) == 0, "a read-only mount wrote the image");
		free(after);
	} else {
		expect_rebuilt(0);
	}
	free(before);
	tmp_cleanup();
}

Test(ext2_htree, bad_limit_not_trusted, .timeout = 300) { corrupt_case(32, "\\377\\000", false); }
Test(ext2_htree, bad_count_not_trusted, .timeout = 300) { corrupt_case(34, "\\000\\000", false); }
Test(ext2_htree, hashes_out_of_order_not_trusted, .timeout = 300)
{
	corrupt_case(40, "\\376\\377\\377\\377", false);
}
Test(ext2_htree, block_past_the_directory_not_trusted, .timeout = 300)
{
	corrupt_case(44, "\\000\\000\\001\\000", false);
}
Test(ext2_htree, bad_levels_not_trusted, .timeout = 300) { corrupt_case(30, "\\003", false); }
Test(ext2_htree, bad_version_not_trusted, .timeout = 300) { corrupt_case(28, "\\011", false); }
Test(ext2_htree, damaged_index_read_only, .timeout = 300)
{
	corrupt_case(44, "\\377\\377\\000\\000", true);
}

/* Two levels: root entry 1 made to point at entry 0's node, whose hashes
 * lie below the range entry 1 gives. */
Test(ext2_htree, node_outside_its_range_not_trusted, .timeout = 300)
{
	host_indexed("1024", "half_md4", 1, 20000);
	cr_assert_eq(index_levels("/d"), 1);
	cr_assert_eq(sh("dd if='%s' of='%s' bs=1 skip=%ld seek=%ld count=4 conv=notrunc status=none",
	                img, img, root_byte(36), root_byte(44)), 0);
	struct run r = { .dir = "/d", .exist = 20000, .create = 100, .stride = 50 };
	run_checked(&r);
	expect_rebuilt(1);
	tmp_cleanup();
}

/* Remove every name of /d but the first keep ones (through the index:
 * the directory keeps its blocks). */
static int thin_body(void *arg)
{
	int keep = *(int *)arg;
	struct fs *fs;
	uint64_t dir;
	char name[64];
	if (ext2_fs_type.mount(blkdev_get(0), 0, &fs) < 0)
		return 0;
	for (int i = keep; resolve(fs, "/d", &dir) == 0; i++) {
		int n = name_of(name, sizeof(name), "old", i);
		if (fs->ops->unlink(fs, dir, name, (size_t)n) < 0)
			break;
	}
	fs->ops->unmount(fs);
	return 0;
}

/* A damaged index over many more blocks than names: the rebuilt index
 * still reaches every block (empty leaves above the names' hashes). */
Test(ext2_htree, damaged_index_of_a_thinned_directory, .timeout = 300)
{
	host_indexed("4096", "half_md4", 1, 8000);
	int keep = 3;
	cr_assert_eq(run_with_image(img, 1, thin_body, &keep), 0);
	cr_assert(fsck_clean(img));
	patch_root(34, "\\000\\000");
	struct run r = { .dir = "/d", .exist = keep, .create = 300, .stride = 2 };
	run_checked(&r);
	expect_rebuilt(0);
	tmp_cleanup();
}

/* A linear directory of many blocks whose inode says indexed (a root
 * that is no root): rebuilt from its entries in place. */
Test(ext2_htree, index_flag_on_a_linear_directory, .timeout = 300)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/l.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -O ^dir_index -b 4096 -N 6000 '%s' 32M "
	                ">/dev/null 2>&1", img), 0);
	int count = 5000;
	cr_assert_eq(run_with_image(img, 1, fill_body, &count), 0);
	cr_assert_eq(sh("debugfs -w -R 'feature dir_index' '%s' >/dev/null 2>&1 && "
	                "debugfs -w -R 'set_inode_field /d flags 0x1000' '%s' >/dev/null 2>&1",
	                img, img), 0);
	struct run r = { .dir = "/d", .exist = count, .create = 200, .stride = 9 };
	run_checked(&r);
	expect_rebuilt(0);
	tmp_cleanup();
}

/* A reader of /r that stops after limit entries; counts each name seen. */
struct reader {
	int limit, read;
	int seen_old[4000];         /* times each "old" name was listed */
	int twice;                  /* names listed more than once (any name) */
	char last[64];
	uint64_t *seen_new;         /* bitmap of "new" names listed */
};

static int reader_fill(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct reader *rd = ctx;
	if (rd->limit && rd->read >= rd->limit)
		return 1;
	rd->read++;
	char buf[64];
	snprintf(buf, sizeof(buf), "%.*s", (int)len, name);
	int i;
	if (sscanf(buf, "old-\xc3\xa9t\xc3\xa9-%d", &i) == 1 && i >= 0 && i < 4000)
		rd->twice += rd->seen_old[i]++ > 0;
	else if (sscanf(buf, "new-\xc3\xa9t\xc3\xa9-%d", &i) == 1 && i >= 0 && i < 64000)
		rd->twice += (rd->seen_new[i / 64] >> (i % 64) & 1) != 0,
		rd->seen_new[i / 64] |= 1ull << (i % 64);
	return 0;
}

struct continued_run {
	int rc[4];
	struct reader rd;
	uint64_t seen_new[1000];
};

/* 4000 names in /r; a reader stops after 1500 entries; 30000 names are
 * added (leaf splits behind and ahead of it) and every 2nd new one removed;
 * the reader goes on from its cookie to the end. */
static int continued_body(void *arg)
{
	struct continued_run *c = arg;
	struct fs *fs;
	uint64_t dir, ino, cookie = 0;
	char name[64];
	c->rd.seen_new = c->seen_new;
	c->rc[0] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (c->rc[0] < 0)
		return 0;
	c->rc[1] = k_mkdir(fs, "/r") ?: resolve(fs, "/r", &dir);
	for (int i = 0; c->rc[1] == 0 && i < 4000; i++) {
		int n = name_of(name, sizeof(name), "old", i);
		c->rc[1] = fs->ops->mknod(fs, dir, name, (size_t)n, S_IFREG | 0644, 0, 0, 0, &ino);
	}
	c->rd.limit = 1500;
	c->rc[2] = c->rc[1] ?: fs->ops->readdir(fs, dir, &cookie, reader_fill, &c->rd);
	for (int i = 0; c->rc[2] == 0 && i < 30000; i++) {
		int n = name_of(name, sizeof(name), "new", i);
		c->rc[2] = fs->ops->mknod(fs, dir, name, (size_t)n, S_IFREG | 0644, 0, 0, 0, &ino);
	}
	for (int i = 0; c->rc[2] == 0 && i < 30000; i += 2) {
		int n = name_of(name, sizeof(name), "new", i);
		c->rc[2] = fs->ops->unlink(fs, dir, name, (size_t)n);
	}
	c->rd.limit = 0;
	c->rc[3] = c->rc[2] ?: fs->ops->readdir(fs, dir, &cookie, reader_fill, &c->rd);
	fs->ops->unmount(fs);
	return 0;
}

/* telldir/seekdir across inserts: a reader that goes on after names were
 * added to an indexed directory (its leaves split) sees no name twice and
 * misses none it had not seen and nobody touched. */
Test(ext2_htree, readdir_continues_across_splits, .timeout = 300)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/r.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 -N 40000 '%s' 64M >/dev/null 2>&1", img), 0);
	static struct continued_run c;
	memset(&c, 0, sizeof(c));
	cr_assert_eq(run_with_image(img, 1, continued_body, &c), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(c.rc[i], 0, "step %d: %d", i, c.rc[i]);
	cr_expect_eq(c.rd.twice, 0, "names listed twice");
	int missed = 0;
	for (int i = 0; i < 4000; i++)
		missed += c.rd.seen_old[i] == 0;
	cr_expect_eq(missed, 0, "names never listed");
	int removed_listed = 0;
	for (int i = 0; i < 30000; i += 2)
		removed_listed += (c.seen_new[i / 64] >> (i % 64) & 1) != 0;
	cr_expect_eq(removed_listed, 0, "removed names listed");
	cr_assert(fsck_clean(img));
	tmp_cleanup();
}
