/*
 * test_ext2_big.c: the ext2 driver at its limits: triple-indirect blocks,
 * files past 2 GiB (large_file), a directory of thousands of entries,
 * filling the disk to ENOSPC and freeing it all, and many threads on
 * several CPUs at once. Each scenario ends with e2fsck -fn and debugfs.
 */
#include <criterion/criterion.h>

#include "ext2_test_util.h"
#include "alloc.h"
#include "hal.h"
#include "thread.h"

static char img[256];

/* Extract len bytes at off of a file in the image (by debugfs dump). */
static unsigned char *dump_range(const char *path, uint64_t off, size_t len)
{
	char out[300];
	snprintf(out, sizeof(out), "%s/dump.out", tdir);
	if (sh("debugfs -R 'dump \"%s\" %s' '%s' >/dev/null 2>&1", path, out, img) != 0)
		return NULL;
	FILE *f = fopen(out, "r");
	if (!f)
		return NULL;
	unsigned char *buf = calloc(1, len);
	fseeko(f, (off_t)off, SEEK_SET);
	size_t n = fread(buf, 1, len, f);
	fclose(f);
	unlink(out);
	if (n != len) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The same through debugfs bmap and the image itself: for sparse giants. */
static unsigned char *map_range(const char *path, uint64_t off, size_t len)
{
	long bsize = sb_field(img, "Block size:");
	unsigned char *buf = calloc(1, len);
	FILE *f = fopen(img, "r");
	for (uint64_t pos = off; pos < off + len;) {
		uint64_t lblk = pos / (uint64_t)bsize, boff = pos % (uint64_t)bsize;
		size_t n = (size_t)bsize - boff;
		if (n > off + len - pos)
			n = off + len - pos;
		char *out = sh_out("debugfs -R 'bmap \"%s\" %lu' '%s' 2>/dev/null", path,
		                   (unsigned long)lblk, img);
		long pblk = atol(out);
		free(out);
		if (pblk > 0) {
			fseeko(f, (off_t)(pblk * bsize + (long)boff), SEEK_SET);
			if (fread(buf + (pos - off), 1, n, f) != n)
				memset(buf + (pos - off), 0xee, n);
		}
		pos += n;
	}
	fclose(f);
	return buf;
}

static bool range_is(const char *path, uint64_t off, size_t len, unsigned seed)
{
	unsigned char *got = off > (8u << 20) ? map_range(path, off, len) : dump_range(path, off, len);
	if (!got)
		return false;
	unsigned char *want = malloc(len);
	host_pattern(want, off, len, seed);
	bool same = memcmp(got, want, len) == 0;
	free(got);
	free(want);
	return same;
}

/* ---- Triple indirect (1 KiB blocks) ------------------------------------- */

#define TIND_OFF ((64ull << 20) + (256ull << 10) + (12ull << 10) + 5000)

struct tind {
	int rc[12];
	unsigned char back[3000];
};

static int tind_body(void *arg)
{
	struct tind *t = arg;
	struct fs *fs;
	uint64_t ino = 0;
	t->rc[0] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (t->rc[0] < 0)
		return 0;
	t->rc[1] = k_write_pattern(fs, "/f", 5000, 3000, 1);             /* direct */
	t->rc[2] = k_write_pattern(fs, "/f", 100 * 1024, 3000, 1);       /* single */
	t->rc[3] = k_write_pattern(fs, "/f", 10ull << 20, 3000, 1);      /* double */
	t->rc[4] = k_write_pattern(fs, "/f", TIND_OFF, 3000, 1);         /* triple */
	t->rc[5] = resolve(fs, "/f", &ino);
	t->rc[6] = (int)fs->ops->read(fs, ino, t->back, 3000, TIND_OFF);
	t->rc[7] = k_write_pattern(fs, "/g", TIND_OFF + 100000, 2000, 2);
	/* truncate /g into the double-indirect range: triple tree goes */
	uint64_t g = 0;
	t->rc[8] = resolve(fs, "/g", &g);
	struct vfs_setattr sa = { .mask = VFS_SET_SIZE, .size = 11ull << 20 };
	t->rc[9] = fs->ops->setattr(fs, g, &sa);
	t->rc[10] = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_big, triple_indirect_1k)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/t.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 '%s' 16M >/dev/null 2>&1", img), 0);
	long free_before = sb_field(img, "Free blocks:");
	struct tind t = { 0 };
	cr_assert_eq(run_with_image(img, 2, tind_body, &t), 0);
	for (int i = 0; i < 11; i++)
		if (i != 6)
			cr_expect_eq(t.rc[i], 0, "step %d: %d", i, t.rc[i]);
	cr_expect_eq(t.rc[6], 3000);
	unsigned char want[3000];
	host_pattern(want, TIND_OFF, 3000, 1);
	cr_expect_eq(memcmp(t.back, want, 3000), 0, "read back through the triple-indirect map");
	cr_assert(fsck_clean(img));
	cr_expect_eq(dbg_stat_field(img, "/f", "Size: "), (long)(TIND_OFF + 3000));
	cr_expect(range_is("/f", 5000, 3000, 1));
	cr_expect(range_is("/f", 100 * 1024, 3000, 1));
	cr_expect(range_is("/f", 10ull << 20, 3000, 1));
	cr_expect(range_is("/f", TIND_OFF, 3000, 1));
	unsigned char *hole = map_range("/f", 20ull << 20, 4096);
	cr_assert(hole);
	for (int i = 0; i < 4096; i++)
		cr_assert_eq(hole[i], 0, "holes read as zeros");
	free(hole);
	char *st = sh_out("debugfs -R 'stat /f' '%s' 2>/dev/null", img);
	cr_expect(strstr(st, "(TIND)") != NULL, "debugfs sees a triple-indirect block: %s", st);
	free(st);
	st = sh_out("debugfs -R 'stat /g' '%s' 2>/dev/null", img);
	cr_expect(strstr(st, "(TIND)") == NULL, "truncate freed the triple-indirect tree");
	free(st);
	cr_expect_eq(dbg_stat_field(img, "/g", "Size: "), 11l << 20);
	/* The few data blocks and the map blocks are all that is used. */
	long used = free_before - sb_field(img, "Free blocks:");
	cr_expect(used > 10 && used < 40, "blocks used: %ld", used);
	tmp_cleanup();
}

/* ---- Large files --------------------------------------------------------- */

struct large {
	int rc[8];
	uint64_t size;
	unsigned char back[4096];
};

#define LARGE_OFF (3ull << 30)

static int large_body(void *arg)
{
	struct large *l = arg;
	struct fs *fs;
	uint64_t ino = 0;
	l->rc[0] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (l->rc[0] < 0)
		return 0;
	l->rc[1] = k_write_pattern(fs, "/huge", LARGE_OFF, 4096, 7);
	l->rc[2] = resolve(fs, "/huge", &ino);
	struct vfs_stat st;
	l->rc[3] = fs->ops->getattr(fs, ino, &st);
	l->size = st.size;
	l->rc[4] = (int)fs->ops->read(fs, ino, l->back, 4096, LARGE_OFF) == 4096 ? 0 : -1;
	l->rc[5] = fs->ops->unmount(fs);
	/* Mount again: the size survives (i_size_high). */
	l->rc[6] = ext2_fs_type.mount(blkdev_get(0), FS_MOUNT_RDONLY, &fs);
	if (l->rc[6] == 0) {
		fs->ops->getattr(fs, ino, &st);
		l->rc[7] = st.size == LARGE_OFF + 4096 ? 0 : -1;
		fs->ops->unmount(fs);
	}
	return 0;
}

static void large_case(const char *args)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/l.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 %s '%s' 32M >/dev/null 2>&1", args, img), 0);
	struct large l = { 0 };
	cr_assert_eq(run_with_image(img, 1, large_body, &l), 0);
	for (int i = 0; i < 8; i++)
		cr_expect_eq(l.rc[i], 0, "step %d: %d", i, l.rc[i]);
	cr_expect_eq(l.size, LARGE_OFF + 4096);
	unsigned char want[4096];
	host_pattern(want, LARGE_OFF, 4096, 7);
	cr_expect_eq(memcmp(l.back, want, 4096), 0);
	cr_assert(fsck_clean(img));
	cr_expect_eq(dbg_stat_field(img, "/huge", "Size: "), (long)(LARGE_OFF + 4096));
	char *feat = sh_out("dumpe2fs -h '%s' 2>/dev/null | grep features", img);
	cr_expect(strstr(feat, "large_file") != NULL, "%s", feat);
	free(feat);
	cr_expect(range_is("/huge", LARGE_OFF, 4096, 7));
	tmp_cleanup();
}

Test(ext2_big, large_file_4k) { large_case("-b 4096"); }
Test(ext2_big, large_file_feature_set_on_demand) { large_case("-b 2048 -O ^large_file"); }

/* ---- Thousands of directory entries ------------------------------------ */

#define NFILES 3000

struct many {
	int rc[8];
	int created, found, listed, removed;
};

static int count_fill(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	(*(int *)ctx)++;
	return 0;
}

/* Stops every 7th entry, to test resuming from a cookie. */
struct stopper { int seen, calls; };
static int stop_fill(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct stopper *s = ctx;
	if (++s->calls % 7 == 0)
		return 1;
	s->seen++;
	return 0;
}

static int many_body(void *arg)
{
	struct many *m = arg;
	struct fs *fs;
	uint64_t dir = 0, ino;
	char name[64];
	m->rc[0] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (m->rc[0] < 0)
		return 0;
	m->rc[1] = k_mkdir(fs, "/big");
	m->rc[2] = resolve(fs, "/big", &dir);
	for (int i = 0; i < NFILES; i++) {
		int n = snprintf(name, sizeof(name), "file-with-a-longish-name-%05d", i);
		if (fs->ops->mknod(fs, dir, name, (size_t)n, S_IFREG | 0644, 0, 0, 0, &ino) == 0)
			m->created++;
	}
	for (int i = 0; i < NFILES; i++) {
		int n = snprintf(name, sizeof(name), "file-with-a-longish-name-%05d", i);
		if (fs->ops->lookup(fs, dir, name, (size_t)n, &ino) == 0)
			m->found++;
	}
	uint64_t cookie = 0;
	m->rc[3] = fs->ops->readdir(fs, dir, &cookie, count_fill, &m->listed);
	for (int i = 0; i < NFILES; i += 2) {
		int n = snprintf(name, sizeof(name), "file-with-a-longish-name-%05d", i);
		if (fs->ops->unlink(fs, dir, name, (size_t)n) == 0)
			m->removed++;
	}
	/* readdir in small steps sees each remaining entry exactly once */
	struct stopper s = { 0 };
	cookie = 0;
	for (int rounds = 0; rounds < 10000; rounds++) {
		int before = s.calls;
		m->rc[4] = fs->ops->readdir(fs, dir, &cookie, stop_fill, &s);
		if (s.calls == before)
			break;
	}
	m->rc[5] = s.seen == NFILES / 2 + 2 ? 0 : s.seen;
	m->rc[6] = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_big, thousands_of_entries)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/m.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 -N 4096 '%s' 16M >/dev/null 2>&1", img), 0);
	struct many m = { 0 };
	cr_assert_eq(run_with_image(img, 2, many_body, &m), 0);
	for (int i = 0; i < 7; i++)
		cr_expect_eq(m.rc[i], 0, "step %d: %d", i, m.rc[i]);
	cr_expect_eq(m.created, NFILES);
	cr_expect_eq(m.found, NFILES);
	cr_expect_eq(m.listed, NFILES + 2);
	cr_expect_eq(m.removed, NFILES / 2);
	cr_assert(fsck_clean(img));
	char *n = sh_out("debugfs -R 'ls -l /big' '%s' 2>/dev/null | awk '$1 != 0 && /file-with/' | wc -l", img);
	cr_expect_eq(atoi(n), NFILES / 2, "ls count %s", n);
	free(n);
	tmp_cleanup();
}

/* ---- ENOSPC and back ----------------------------------------------------- */

struct fill {
	int rc[6];
	int files, enospc_seen, deleted;
};

static int fill_body(void *arg)
{
	struct fill *f = arg;
	struct fs *fs;
	char path[64];
	f->rc[0] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (f->rc[0] < 0)
		return 0;
	f->rc[1] = k_mkdir(fs, "/d");
	/* Big files until the blocks run out, then empty files until the inodes do. */
	for (int i = 0; i < 100000; i++) {
		snprintf(path, sizeof(path), "/d/f%d", i);
		int rc = k_write_pattern(fs, path, 0, i < 200 ? 300000 : 0, (unsigned)i);
		if (rc == -ENOSPC) {
			f->enospc_seen++;
			if (f->enospc_seen > 5)
				break;
			continue;
		}
		if (rc < 0 && rc != -ENOSPC) {
			f->rc[2] = rc;
			break;
		}
		f->files++;
	}
	/* The last free blocks; then a truncation that keeps part of an
	 * indirect block, which it copies when it can (inode.c: make_writable),
	 * still works. */
	f->rc[5] = fs->ops->sync(fs);   /* the indirect blocks on disk */
	for (uint64_t end = 300000; k_write_pattern(fs, "/d/f1", end, 1024, 1) == 0;)
		end += 1024;
	uint64_t ino;
	struct vfs_setattr shrink = { .mask = VFS_SET_SIZE, .size = 150000 };
	if (f->rc[5] == 0)
		f->rc[5] = resolve(fs, "/d/f0", &ino);
	if (f->rc[5] == 0)
		f->rc[5] = fs->ops->setattr(fs, ino, &shrink);
	for (int i = 0; i < 100000; i++) {
		snprintf(path, sizeof(path), "/d/f%d", i);
		if (k_unlink(fs, path) == 0)
			f->deleted++;
	}
	f->rc[3] = k_rmdir(fs, "/d");
	f->rc[4] = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_big, enospc_then_delete_restores_counts)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/f.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 -N 512 '%s' 8M >/dev/null 2>&1", img), 0);
	long fb = sb_field(img, "Free blocks:"), fi = sb_field(img, "Free inodes:");
	struct fill f = { 0 };
	cr_assert_eq(run_with_image(img, 1, fill_body, &f), 0);
	for (int i = 0; i < 6; i++)
		cr_expect_eq(f.rc[i], 0, "step %d: %d", i, f.rc[i]);
	cr_expect_geq(f.enospc_seen, 1);
	cr_expect_gt(f.files, 20);
	cr_expect_geq(f.deleted, f.files);
	cr_assert(fsck_clean(img));
	cr_expect_eq(sb_field(img, "Free blocks:"), fb);
	cr_expect_eq(sb_field(img, "Free inodes:"), fi);
	tmp_cleanup();
}

/* A write that runs into a full disk after it let blocks go: its first
 * block copied the file's indirect block that was on disk (inode.c:
 * make_writable; the old one freed after the next checkpoint), then the
 * disk fills inside the same call. The allocator's checkpoint at a full
 * disk must not wait for the indirect block the write holds (it panicked:
 * "buf taken twice"): the write ends short or with -ENOSPC, the image
 * stays consistent, and the space comes back. */
struct full_write { int rc[6]; ssize_t wrote, again; };

static int full_write_body(void *arg)
{
	struct full_write *fw = arg;
	struct fs *fs;
	fw->rc[0] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (fw->rc[0] < 0)
		return 0;
	fw->rc[1] = k_write_pattern(fs, "/a", 0, 300000, 1);
	int rc;
	uint64_t end = 0;
	while ((rc = k_write_pattern(fs, "/fill", end, 1024, 2)) == 0)
		end += 1024;
	fw->rc[2] = rc == -ENOSPC ? 0 : rc;
	uint64_t a = 0, fill = 0;
	fw->rc[3] = resolve(fs, "/fill", &fill);
	struct vfs_setattr room = { .mask = VFS_SET_SIZE, .size = end - (200 << 10) };
	if (fw->rc[3] == 0)
		fw->rc[3] = fs->ops->setattr(fs, fill, &room);
	if (fw->rc[3] == 0)
		fw->rc[3] = fs->ops->sync(fs);      /* /a's indirect blocks on disk */
	if (fw->rc[3] == 0)
		fw->rc[3] = resolve(fs, "/a", &a);
	static unsigned char big[1 << 20];
	host_pattern(big, 300000, sizeof(big), 1);
	if (fw->rc[3] == 0)
		fw->wrote = fs->ops->write(fs, a, big, sizeof(big), 300000);
	/* The blocks let go are free again after a checkpoint. */
	fw->rc[4] = fs->ops->sync(fs);
	if (fw->rc[3] == 0 && fw->wrote > 0)
		fw->again = fs->ops->write(fs, a, big + fw->wrote, sizeof(big) - (size_t)fw->wrote,
		                           300000 + (uint64_t)fw->wrote);
	fw->rc[5] = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_big, write_into_full_disk_after_copying_its_indirect_block)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/w.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 '%s' 8M >/dev/null 2>&1", img), 0);
	struct full_write fw = { 0 };
	cr_assert_eq(run_with_image(img, 1, full_write_body, &fw), 0);
	for (int i = 0; i < 6; i++)
		cr_expect_eq(fw.rc[i], 0, "step %d: %d", i, fw.rc[i]);
	cr_expect(fw.wrote > 0 && fw.wrote < (1 << 20), "first write: %zd", fw.wrote);
	cr_expect(fw.again > 0 || fw.again == -ENOSPC, "second write: %zd", fw.again);
	cr_assert(fsck_clean(img));
	size_t kept = 300000 + (size_t)fw.wrote + (fw.again > 0 ? (size_t)fw.again : 0);
	cr_expect(range_is("/a", 0, kept, 1), "/a holds its %zu bytes", kept);
	tmp_cleanup();
}

/* A journal keeps blocks freed in the running transaction from reuse
 * (busy) while other blocks are free. Here the goal's group has no free
 * block but busy ones (a file deleted after its group filled up), and the
 * other groups have plenty: a new file's blocks come from them, never
 * from a block in use (the search below the goal once reported "none" as
 * the goal itself, taken even though it was in use). */
struct busy { int rc[7]; uint64_t big; };

#define BUSY_KEEP (8ull << 20)

static int busy_body(void *arg)
{
	struct busy *bz = arg;
	struct fs *fs;
	bz->rc[0] = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (bz->rc[0] < 0)
		return 0;
	bz->rc[1] = k_write_pattern(fs, "/x", 0, 200 << 10, 3);
	/* The whole disk, group after group, then all but its first 8 MiB back. */
	int rc;
	while ((rc = k_write_pattern(fs, "/big", bz->big, 1024, 1)) == 0)
		bz->big += 1024;
	bz->rc[2] = rc == -ENOSPC ? 0 : rc;
	uint64_t ino;
	bz->rc[3] = resolve(fs, "/big", &ino);
	struct vfs_setattr shrink = { .mask = VFS_SET_SIZE, .size = BUSY_KEEP };
	if (bz->rc[3] == 0)
		bz->rc[3] = fs->ops->setattr(fs, ino, &shrink);
	bz->rc[4] = fs->ops->sync(fs);
	/* /x's blocks, in the full group, are busy until the next commit. */
	bz->rc[5] = k_unlink(fs, "/x");
	bz->rc[5] = bz->rc[5] ? bz->rc[5] : k_write_pattern(fs, "/small", 0, 20 << 10, 4);
	bz->rc[6] = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_big, journal_busy_blocks_are_not_the_goal)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/b.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext3 -b 1024 '%s' 32M >/dev/null 2>&1", img), 0);
	struct busy bz = { 0 };
	cr_assert_eq(run_with_image(img, 1, busy_body, &bz), 0);
	for (int i = 0; i < 7; i++)
		cr_expect_eq(bz.rc[i], 0, "step %d: %d", i, bz.rc[i]);
	cr_expect_gt(bz.big, 2 * BUSY_KEEP);
	cr_assert(fsck_clean(img));
	cr_expect(range_is("/big", 0, BUSY_KEEP, 1));
	cr_expect(range_is("/small", 0, 20 << 10, 4));
	tmp_cleanup();
}

/* ---- Concurrency ----------------------------------------------------------- */

#define WORKERS 6

struct worker {
	struct fs *fs;
	int id, errors;
};

static int worker_main(void *arg)
{
	struct worker *w = arg;
	char path[64], dir[32];
	snprintf(dir, sizeof(dir), "/w%d", w->id);
	if (k_mkdir(w->fs, dir) != 0)
		w->errors++;
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		if (k_write_pattern(w->fs, path, 0, 5000 + (size_t)i * 300, (unsigned)(w->id + i)) != 0)
			w->errors++;
		if (i % 3 == 0) {
			snprintf(path, sizeof(path), "%s/f%d", dir, i / 2);
			k_unlink(w->fs, path);
		}
		thread_yield();
	}
	uint64_t ino;
	unsigned char buf[100];
	snprintf(path, sizeof(path), "%s/f39", dir);
	if (resolve(w->fs, path, &ino) != 0 || w->fs->ops->read(w->fs, ino, buf, 100, 10) != 100)
		w->errors++;
	return 0;
}

struct conc { int mount, unmount, errors; };

static int conc_body(void *arg)
{
	struct conc *c = arg;
	struct fs *fs;
	c->mount = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (c->mount < 0)
		return 0;
	struct worker w[WORKERS];
	struct thread *t[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){ fs, i, 0 };
		t[i] = thread_create((unsigned)i % hal_cpu_count(), worker_main, &w[i], 0);
	}
	for (int i = 0; i < WORKERS; i++) {
		thread_join(t[i]);
		c->errors += w[i].errors;
	}
	c->unmount = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_big, concurrent_threads_on_cpus)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/c.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 '%s' 16M >/dev/null 2>&1", img), 0);
	struct conc c = { 0 };
	cr_assert_eq(run_with_image(img, 3, conc_body, &c), 0);
	cr_expect_eq(c.mount, 0);
	cr_expect_eq(c.errors, 0);
	cr_expect_eq(c.unmount, 0);
	cr_assert(fsck_clean(img));
	for (int i = 0; i < WORKERS; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/w%d/f39", i);
		cr_expect(range_is(path, 0, 5000 + 39 * 300, (unsigned)(i + 39)), "%s", path);
	}
	tmp_cleanup();
}

/* One file, written in disjoint regions by threads on several CPUs while
 * others read it and grow it. */
#define REGION (64 * 1024)
#define SAME_WRITERS 4

struct same {
	struct fs *fs;
	uint64_t ino;
	int id, errors;
};

static int same_writer(void *arg)
{
	struct same *s = arg;
	/* Not __thread: kernel threads on one CPU share a host thread. */
	unsigned char *chunk = kmalloc(4096);
	for (int round = 0; round < 3; round++)
		for (size_t off = 0; off < REGION; off += 4096) {
			uint64_t pos = (uint64_t)s->id * REGION + off;
			for (size_t i = 0; i < 4096; i++)
				chunk[i] = (unsigned char)((pos + i) * 7 + (unsigned)s->id + (unsigned)round);
			if (s->fs->ops->write(s->fs, s->ino, chunk, 4096, pos) != 4096)
				s->errors++;
		}
	kfree(chunk);
	return 0;
}

static int same_reader(void *arg)
{
	struct same *s = arg;
	unsigned char *buf = kmalloc(16384);
	for (int round = 0; round < 30; round++) {
		for (uint64_t off = 0; off < SAME_WRITERS * REGION; off += 16384)
			if (s->fs->ops->read(s->fs, s->ino, buf, 16384, off) < 0)
				s->errors++;
		if (s->id == 100) {
			struct vfs_setattr sa = { .mask = VFS_SET_SIZE,
			                          .size = SAME_WRITERS * REGION + (uint64_t)round * 1000 };
			if (s->fs->ops->setattr(s->fs, s->ino, &sa) < 0)
				s->errors++;
		}
		thread_yield();
	}
	kfree(buf);
	return 0;
}

struct same_res { int mount, errors, verify, unmount; };

static int same_body(void *arg)
{
	struct same_res *r = arg;
	struct fs *fs;
	uint64_t ino = 0;
	r->mount = ext2_fs_type.mount(blkdev_get(0), 0, &fs);
	if (r->mount < 0)
		return 0;
	if (k_create(fs, "/shared", S_IFREG | 0644, &ino) < 0)
		return 1;
	struct same s[SAME_WRITERS + 2];
	struct thread *t[SAME_WRITERS + 2];
	for (int i = 0; i < SAME_WRITERS + 2; i++) {
		s[i] = (struct same){ fs, ino, i < SAME_WRITERS ? i : 100 + i - SAME_WRITERS, 0 };
		t[i] = thread_create((unsigned)i % hal_cpu_count(),
		                     i < SAME_WRITERS ? same_writer : same_reader, &s[i], 0);
	}
	for (int i = 0; i < SAME_WRITERS + 2; i++) {
		thread_join(t[i]);
		r->errors += s[i].errors;
	}
	static unsigned char buf[REGION];
	for (int w = 0; w < SAME_WRITERS; w++) {
		if (fs->ops->read(fs, ino, buf, REGION, (uint64_t)w * REGION) != REGION) {
			r->verify++;
			continue;
		}
		for (size_t i = 0; i < REGION; i++)
			if (buf[i] != (unsigned char)(((uint64_t)w * REGION + i) * 7 + (unsigned)w + 2)) {
				int round = -1;
				for (int k = 0; k < 3; k++)
					if (buf[i] == (unsigned char)(((uint64_t)w * REGION + i) * 7 + (unsigned)w + (unsigned)k))
						round = k;
				kprintf("MISMATCH region %d offset %zu byte %u (round %d)\n", w, i, buf[i], round);
				r->verify++;
				break;
			}
	}
	r->unmount = fs->ops->unmount(fs);
	return 0;
}

Test(ext2_big, one_file_many_threads)
{
	tmp_dir();
	snprintf(img, sizeof(img), "%s/s.img", tdir);
	cr_assert_eq(sh("mke2fs -q -F -t ext2 -b 1024 '%s' 16M >/dev/null 2>&1", img), 0);
	struct same_res r = { 0 };
	cr_assert_eq(run_with_image(img, getenv("SAME_CPUS") ? (unsigned)atoi(getenv("SAME_CPUS")) : 3, same_body, &r), 0);
	cr_expect_eq(r.mount, 0);
	cr_expect_eq(r.errors, 0);
	cr_expect_eq(r.verify, 0, "every region holds its writer's last round");
	cr_expect_eq(r.unmount, 0);
	cr_assert(fsck_clean(img));
	tmp_cleanup();
}
