/*
 * test_vfs_mount.c: several file systems in one namespace (crossing mount
 * points both ways, -EXDEV, -EBUSY, read-only mounts), running out of
 * space, and many threads on several CPUs using files at once.
 */
#include "test_vfs.h"
#include "thread.h"

FS_TEST(vfs_mount, cross_mount_points)
{
	struct vfs_stat root, mnt_under, st, st2;
	char buf[32];
	EXPECT_RC(vfs_mkdir("/mnt", 0755), 0);
	EXPECT_RC(put_file("/mnt/hidden", "under"), 0);
	EXPECT_RC(vfs_stat("/", &root), 0);
	EXPECT_RC(vfs_stat("/mnt", &mnt_under), 0);
	EXPECT_RC(vfs_mount("/mnt", "ramfs", NULL, 0), 0);
	EXPECT_RC(vfs_stat("/mnt/hidden", &st), -ENOENT);
	EXPECT_RC(vfs_stat("/mnt", &st), 0);
	EXPECT(st.ino != mnt_under.ino);
	EXPECT_RC(vfs_mkdir("/mnt/sub", 0755), 0);
	EXPECT_RC(put_file("/mnt/sub/f", "over"), 0);
	/* ".." out of the mounted root goes to the directory above the mount point. */
	EXPECT_RC(vfs_stat("/mnt/..", &st), 0);
	EXPECT_RC(st.ino, root.ino);
	EXPECT_RC(vfs_stat("/mnt/sub/../..", &st), 0);
	EXPECT_RC(st.ino, root.ino);
	EXPECT_RC(put_file("/top", "top"), 0);
	EXPECT_RC(get_file("/mnt/sub/../../top", buf, sizeof(buf)), 3);
	/* Symbolic links across mounts, both ways. */
	EXPECT_RC(vfs_symlink("/top", "/mnt/to_top"), 0);
	EXPECT_RC(vfs_symlink("../../mnt/sub/f", "/mnt/sub/self"), 0);
	EXPECT_RC(vfs_symlink("mnt/sub", "/to_sub"), 0);
	EXPECT_RC(get_file("/mnt/to_top", buf, sizeof(buf)), 3);
	EXPECT_RC(get_file("/mnt/sub/self", buf, sizeof(buf)), 4);
	EXPECT_RC(get_file("/to_sub/f", buf, sizeof(buf)), 4);
	EXPECT_RC(get_file("/to_sub/../../top", buf, sizeof(buf)), 3);
	/* Nothing moves or links across. */
	EXPECT_RC(vfs_rename("/top", "/mnt/top"), -EXDEV);
	EXPECT_RC(vfs_rename("/mnt/sub", "/sub"), -EXDEV);
	EXPECT_RC(vfs_link("/top", "/mnt/top"), -EXDEV);
	/* The mount point itself is busy. */
	EXPECT_RC(vfs_rmdir("/mnt"), -EBUSY);
	EXPECT_RC(vfs_rename("/mnt", "/mnt2"), -EBUSY);
	EXPECT_RC(vfs_mkdir("/other", 0755), 0);
	EXPECT_RC(vfs_rename("/other", "/mnt"), -EBUSY);
	/* A nested mount, and unmount order. */
	EXPECT_RC(vfs_mount("/mnt/sub", "ramfs", NULL, 0), 0);
	EXPECT_RC(vfs_stat("/mnt/sub/f", &st), -ENOENT);
	EXPECT_RC(vfs_stat("/mnt/sub/..", &st), 0);
	EXPECT_RC(vfs_stat("/mnt", &st2), 0);
	EXPECT_RC(st.ino, st2.ino);
	EXPECT_RC(vfs_unmount("/mnt"), -EBUSY);
	int fd;
	EXPECT_FD(fd, vfs_open("/mnt/sub/open", O_CREAT | O_RDWR, 0644));
	EXPECT_RC(vfs_unmount("/mnt/sub"), -EBUSY);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_unmount("/mnt/sub"), 0);
	EXPECT_RC(get_file("/mnt/sub/f", buf, sizeof(buf)), 4);
	EXPECT_RC(vfs_unmount("/mnt/sub"), -EINVAL);    /* not a mount root */
	EXPECT_RC(vfs_unmount("/mnt"), 0);
	EXPECT_RC(get_file("/mnt/hidden", buf, sizeof(buf)), 5);
	EXPECT_RC(vfs_unmount("/nope"), -ENOENT);
	/* Where nothing can be mounted. */
	EXPECT_RC(vfs_mount("/top", "ramfs", NULL, 0), -ENOTDIR);
	EXPECT_RC(vfs_mount("/nope", "ramfs", NULL, 0), -ENOENT);
	EXPECT_RC(vfs_mount("/mnt", "nofs", NULL, 0), -ENODEV);
	EXPECT_RC(vfs_mount("/mnt", "ext2", NULL, 0), -ENXIO);
	if (blkdev_get(0))      /* the ext2 runs: disk 0 is "/" already */
		EXPECT_RC(vfs_mount("/mnt", "ext2", blkdev_get(0), 0), -EBUSY);
	EXPECT_RC(vfs_sync(), 0);
	return 0;
}

FS_TEST(vfs_mount, read_only)
{
	struct vfs_stat st;
	char buf[8];
	int fd;
	EXPECT_RC(vfs_mkdir("/ro", 0755), 0);
	EXPECT_RC(vfs_mount("/ro", "ramfs", NULL, FS_MOUNT_RDONLY), 0);
	EXPECT_RC(vfs_open("/ro/f", O_CREAT | O_RDWR, 0644), -EROFS);
	EXPECT_RC(vfs_mkdir("/ro/d", 0755), -EROFS);
	EXPECT_RC(vfs_mkdir("/ro", 0755), -EEXIST);
	EXPECT_RC(vfs_mknod("/ro/n", S_IFIFO | 0644, 0), -EROFS);
	EXPECT_RC(vfs_symlink("x", "/ro/l"), -EROFS);
	EXPECT_RC(vfs_chmod("/ro", 0700), -EROFS);
	EXPECT_RC(vfs_chown("/ro", 1, 1), -EROFS);
	EXPECT_RC(vfs_utimens("/ro", 0, 0), -EROFS);
	EXPECT_FD(fd, vfs_open("/ro", O_RDONLY | O_DIRECTORY, 0));
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_stat("/ro", &st), 0);
	struct vfs_statfs sf;
	EXPECT_RC(vfs_statfs("/ro", &sf), 0);
	EXPECT(sf.read_only);
	EXPECT_RC(vfs_unmount("/ro"), 0);
	/* And the files of a read-only mount: made first, then remounted. */
	EXPECT_RC(vfs_mount("/ro", "ramfs", NULL, 0), 0);
	EXPECT_RC(put_file("/ro/f", "data"), 0);
	EXPECT_RC(get_file("/ro/f", buf, sizeof(buf)), 4);
	EXPECT_FD(fd, vfs_open("/ro/f", O_RDONLY, 0));
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_unmount("/ro"), 0);
	return 0;
}

/* ---- running out of space ---- */

static int fill_until_full(void)
{
	static char block[65536];
	memset(block, 'z', sizeof(block));
	int fd;
	EXPECT_FD(fd, vfs_open("/fill", O_CREAT | O_WRONLY, 0644));
	ssize_t n;
	uint64_t total = 0;
	while ((n = vfs_write(fd, block, sizeof(block))) > 0)
		total += (uint64_t)n;
	EXPECT_RC(n, -ENOSPC);
	EXPECT(total > 1 << 20);
	/* The file holds what was written; freeing it gives the space back. */
	struct vfs_stat st;
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.size, total);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_unlink("/fill"), 0);
	EXPECT_RC(put_file("/after", "room again"), 0);
	return 0;
}

Test(vfs_mount, enospc_ramfs)
{
	run_fs_case_mem(FS_RAMFS, fill_until_full, 64u << 20, 0);
}

#if VFS_TEST_EXT2
Test(vfs_mount, enospc_ext2)
{
	run_fs_case_mem(FS_EXT2_1K, fill_until_full, 0, 4096);
}
#endif

/* ---- many threads at once ---- */

#define WRITERS 6
#define RECORDS 300

struct writer {
	int id;
	int failures;
};

static int append_records(void *arg)
{
	struct writer *w = arg;
	int fd = vfs_open("/log", O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return w->failures = 1;
	char rec[32];
	for (int i = 0; i < RECORDS; i++) {
		ksnprintf(rec, sizeof(rec), "w%d r%04d ..........\n", w->id, i);
		if (vfs_write(fd, rec, 20) != 20)
			w->failures++;
		if (i % 7 == 0)
			thread_yield();
	}
	vfs_close(fd);
	/* And a private tree per thread, in a shared directory. */
	char path[64];
	for (int i = 0; i < 30; i++) {
		ksnprintf(path, sizeof(path), "/shared/t%d-%d", w->id, i);
		if (vfs_mkdir(path, 0755) < 0)
			w->failures++;
		ksnprintf(path, sizeof(path), "/shared/t%d-%d/f", w->id, i);
		if (put_file(path, path) < 0)
			w->failures++;
		if (i % 3 == 0) {
			if (vfs_unlink(path) < 0)
				w->failures++;
			ksnprintf(path, sizeof(path), "/shared/t%d-%d", w->id, i);
			if (vfs_rmdir(path) < 0)
				w->failures++;
		}
	}
	return 0;
}

FS_TEST(vfs_mount, concurrent_appends)
{
	struct writer ws[WRITERS];
	struct thread *t[WRITERS];
	EXPECT_RC(vfs_mkdir("/shared", 0755), 0);
	for (int i = 0; i < WRITERS; i++) {
		ws[i] = (struct writer){ .id = i };
		t[i] = thread_create(i % 2, append_records, &ws[i], 0);
		EXPECT(t[i] != NULL);
	}
	for (int i = 0; i < WRITERS; i++) {
		thread_join(t[i]);
		EXPECT_RC(ws[i].failures, 0);
	}
	struct vfs_stat st;
	EXPECT_RC(vfs_stat("/log", &st), 0);
	EXPECT_RC(st.size, WRITERS * RECORDS * 20);
	/* Every record is whole, and each writer's are in order. */
	static char all[WRITERS * RECORDS * 20];
	int fd, next[WRITERS] = { 0 };
	EXPECT_FD(fd, vfs_open("/log", O_RDONLY, 0));
	EXPECT_RC(vfs_read(fd, all, sizeof(all)), sizeof(all));
	EXPECT_RC(vfs_close(fd), 0);
	for (int r = 0; r < WRITERS * RECORDS; r++) {
		char *rec = all + r * 20;
		EXPECT(rec[0] == 'w' && rec[19] == '\n');
		int id = rec[1] - '0', seq = (rec[4] - '0') * 1000 + (rec[5] - '0') * 100 +
		         (rec[6] - '0') * 10 + (rec[7] - '0');
		EXPECT(id >= 0 && id < WRITERS);
		EXPECT_RC(seq, next[id]);
		next[id]++;
	}
	for (int id = 0; id < WRITERS; id++)
		for (int i = 0; i < 30; i++) {
			char path[64];
			ksnprintf(path, sizeof(path), "/shared/t%d-%d/f", id, i);
			EXPECT_RC(vfs_stat(path, &st), i % 3 == 0 ? -ENOENT : 0);
		}
	return 0;
}

/* ---- a read-only disk ---- */

static int read_only_disk_body(void *arg)
{
	struct fs_case *c = arg;
	outcome_of = &c->out;
	struct vfs_stat st;
	char buf[16];
	int fd;
	EXPECT_RC(vfs_mount("/", "ext2", blkdev_get(0), FS_MOUNT_RDONLY), 0);
	EXPECT_RC(get_file("/f", buf, sizeof(buf)), 5);
	EXPECT(strcmp(buf, "hello") == 0);
	EXPECT_RC(vfs_open("/f", O_RDWR, 0), -EROFS);
	EXPECT_RC(vfs_open("/f", O_WRONLY | O_TRUNC, 0), -EROFS);
	EXPECT_RC(vfs_open("/g", O_CREAT | O_WRONLY, 0644), -EROFS);
	EXPECT_RC(vfs_open("/f", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	EXPECT_RC(vfs_mkdir("/d", 0755), -EROFS);
	EXPECT_RC(vfs_mkdir("/lost+found", 0755), -EEXIST);
	EXPECT_RC(vfs_unlink("/f"), -EROFS);
	EXPECT_RC(vfs_rmdir("/lost+found"), -EROFS);
	EXPECT_RC(vfs_rename("/f", "/g"), -EROFS);
	EXPECT_RC(vfs_link("/f", "/g"), -EROFS);
	EXPECT_RC(vfs_symlink("/f", "/g"), -EROFS);
	EXPECT_RC(vfs_truncate("/f", 0), -EROFS);
	EXPECT_RC(vfs_chmod("/f", 0600), -EROFS);
	EXPECT_RC(vfs_chown("/f", 1, 1), -EROFS);
	EXPECT_RC(vfs_utimens("/f", 0, 0), -EROFS);
	EXPECT_RC(vfs_mknod("/n", S_IFIFO | 0644, 0), -EROFS);
	EXPECT_FD(fd, vfs_open("/f", O_RDONLY, 0));
	EXPECT_RC(vfs_write(fd, "x", 1), -EBADF);
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.size, 5);
	EXPECT_RC(vfs_close(fd), 0);
	/* A ramfs mounted on the read-only disk's directory is writable. */
	EXPECT_RC(vfs_mount("/lost+found", "ramfs", NULL, 0), 0);
	EXPECT_RC(put_file("/lost+found/w", "w"), 0);
	EXPECT_RC(vfs_rename("/lost+found/w", "/w"), -EXDEV);
	EXPECT_RC(vfs_unmount("/lost+found"), 0);
	EXPECT_RC(vfs_unmount("/"), 0);
	return 0;
}

Test(vfs_mount, read_only_ext2_disk)
{
	char image[64], cmd[512];
	make_image(image, sizeof(image), 1024, 4096);
	snprintf(cmd, sizeof(cmd), "printf hello > %s.f && debugfs -w -R 'write %s.f f' %s "
	         ">/dev/null 2>&1; rm -f %s.f", image, image, image, image);
	cr_assert_eq(system(cmd), 0);
	char before[128], after[128];
	snprintf(cmd, sizeof(cmd), "md5sum < %s", image);
	FILE *p = popen(cmd, "r");
	cr_assert(p && fgets(before, sizeof(before), p));
	pclose(p);
	struct fs_case c = { .kind = FS_EXT2_1K };
	struct posix_config cfg = { .cpus = 2, .ndisks = 1 };
	cfg.disk_path[0] = image;
	cfg.disk_read_only[0] = true;
	int rc = run_in_kernel_cfg(&cfg, read_only_disk_body, &c);
	p = popen(cmd, "r");
	cr_assert(p && fgets(after, sizeof(after), p));
	pclose(p);
	unlink(image);
	cr_assert_eq(rc, 0, "line %d: %s", c.out.line, c.out.msg);
	cr_assert_str_eq(before, after, "the read-only image changed");
}

/* ---- renames racing with lookups, on two CPUs ---- */

struct renamer {
	int id;
	int failures;
	volatile int *stop;
};

static int rename_back_and_forth(void *arg)
{
	struct renamer *r = arg;
	char a[64], b[64];
	ksnprintf(a, sizeof(a), "/r1/f%d", r->id);
	ksnprintf(b, sizeof(b), "/r2/sub/f%d", r->id);
	for (int i = 0; i < 200; i++) {
		if (vfs_rename(a, b) < 0 || vfs_rename(b, a) < 0)
			r->failures++;
		if (i % 5 == 0)
			thread_yield();
	}
	return 0;
}

static int look_around(void *arg)
{
	struct renamer *r = arg;
	struct vfs_stat st;
	char path[64];
	while (!*r->stop) {
		for (int id = 0; id < 4; id++) {
			ksnprintf(path, sizeof(path), "/r1/f%d", id);
			int rc = vfs_stat(path, &st);
			if (rc < 0 && rc != -ENOENT)
				r->failures++;
			ksnprintf(path, sizeof(path), "/r2/sub/../sub/f%d", id);
			rc = vfs_stat(path, &st);
			if (rc < 0 && rc != -ENOENT)
				r->failures++;
		}
		int fd = vfs_open("/r2/sub", O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0) {
			r->failures++;
		} else {
			vfs_close(fd);
		}
		thread_yield();
	}
	return 0;
}

FS_TEST(vfs_mount, renames_race_lookups)
{
	volatile int stop = 0;
	struct renamer rs[6];
	struct thread *t[6];
	EXPECT_RC(vfs_mkdir("/r1", 0755), 0);
	EXPECT_RC(vfs_mkdir("/r2", 0755), 0);
	EXPECT_RC(vfs_mkdir("/r2/sub", 0755), 0);
	char path[64];
	for (int id = 0; id < 4; id++) {
		ksnprintf(path, sizeof(path), "/r1/f%d", id);
		EXPECT_RC(put_file(path, path), 0);
	}
	for (int i = 0; i < 6; i++) {
		rs[i] = (struct renamer){ .id = i, .stop = &stop };
		t[i] = thread_create(i % 2, i < 4 ? rename_back_and_forth : look_around, &rs[i], 0);
		EXPECT(t[i] != NULL);
	}
	for (int i = 0; i < 4; i++)
		thread_join(t[i]);
	stop = 1;
	for (int i = 4; i < 6; i++)
		thread_join(t[i]);
	for (int i = 0; i < 6; i++)
		EXPECT_RC(rs[i].failures, 0);
	char buf[64];
	for (int id = 0; id < 4; id++) {
		ksnprintf(path, sizeof(path), "/r1/f%d", id);
		EXPECT_RC(get_file(path, buf, sizeof(buf)), strlen(path));
		EXPECT(strcmp(buf, path) == 0);
	}
	return 0;
}

/* ---- the descriptor table's limit ---- */

static int descriptor_limit_body(void)
{
	static int fds[VFS_MAX_FILES];
	for (int i = 0; i < VFS_MAX_FILES; i++)
		EXPECT_FD(fds[i], vfs_open("/", O_RDONLY | O_DIRECTORY, 0));
	EXPECT_RC(vfs_open("/", O_RDONLY, 0), -EMFILE);
	EXPECT_RC(vfs_close(fds[100]), 0);
	EXPECT_RC(vfs_open("/", O_RDONLY, 0), fds[100]);     /* the lowest free one */
	for (int i = 0; i < VFS_MAX_FILES; i++)
		EXPECT_RC(vfs_close(fds[i]), 0);
	return 0;
}

Test(vfs_mount, descriptor_limit)
{
	run_fs_case(FS_RAMFS, descriptor_limit_body);
}
