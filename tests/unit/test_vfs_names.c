/*
 * test_vfs_names.c: the namespace through the VFS: path resolution, mkdir,
 * rmdir, unlink, rename, link, symlink, readlink, readdir, mknod, attributes,
 * and their error paths, on every driver.
 */
#include <dirent.h>

#include "test_vfs.h"
#include "thread.h"

struct listing {
	int count;
	char names[64][32];
	unsigned types[64];
	int stop_after;         /* take only this many (0: all) */
};

static int list_fill(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct listing *l = ctx;
	if (l->stop_after && l->count >= l->stop_after)
		return 1;
	if (l->count < 64) {
		size_t n = len < 31 ? len : 31;
		memcpy(l->names[l->count], name, n);
		l->names[l->count][n] = '\0';
		l->types[l->count] = type;
	}
	l->count++;
	return 0;
}

static int find_name(struct listing *l, const char *name)
{
	for (int i = 0; i < l->count && i < 64; i++)
		if (strcmp(l->names[i], name) == 0)
			return i;
	return -1;
}

FS_TEST(vfs_names, mkdir_rmdir)
{
	struct vfs_stat st;
	EXPECT_RC(vfs_mkdir("/a", 0755), 0);
	EXPECT_RC(vfs_mkdir("/a", 0755), -EEXIST);
	EXPECT_RC(vfs_mkdir("/a/b/", 0700), 0);        /* a trailing slash is fine */
	EXPECT_RC(vfs_mkdir("/", 0755), -EEXIST);
	EXPECT_RC(vfs_mkdir("/a/.", 0755), -EEXIST);
	EXPECT_RC(vfs_mkdir("/a/..", 0755), -EEXIST);
	EXPECT_RC(vfs_mkdir("/x/y", 0755), -ENOENT);
	EXPECT_RC(vfs_mkdir("", 0755), -ENOENT);
	EXPECT_RC(vfs_stat("/a/b", &st), 0);
	EXPECT_RC(st.mode, S_IFDIR | 0700);
	EXPECT_RC(st.nlink, 2);
	EXPECT_RC(vfs_stat("/a", &st), 0);
	EXPECT_RC(st.nlink, 3);
	EXPECT_RC(put_file("/a/f", "x"), 0);
	EXPECT_RC(vfs_mkdir("/a/f/g", 0755), -ENOTDIR);
	EXPECT_RC(vfs_mkdir("/a/f", 0755), -EEXIST);
	EXPECT_RC(vfs_rmdir("/a"), -ENOTEMPTY);
	EXPECT_RC(vfs_rmdir("/a/f"), -ENOTDIR);
	EXPECT_RC(vfs_rmdir("/a/b/."), -EINVAL);
	EXPECT_RC(vfs_rmdir("/a/b/.."), -ENOTEMPTY);
	EXPECT_RC(vfs_rmdir("/"), -EBUSY);
	EXPECT_RC(vfs_rmdir("/a/nope"), -ENOENT);
	EXPECT_RC(vfs_rmdir("/a/b/"), 0);
	EXPECT_RC(vfs_stat("/a/b", &st), -ENOENT);
	EXPECT_RC(vfs_stat("/a", &st), 0);
	EXPECT_RC(st.nlink, 2);
	EXPECT_RC(vfs_unlink("/a/f"), 0);
	EXPECT_RC(vfs_rmdir("/a"), 0);
	return 0;
}

FS_TEST(vfs_names, unlink_errors)
{
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(put_file("/f", "x"), 0);
	EXPECT_RC(vfs_unlink("/d"), -EISDIR);
	EXPECT_RC(vfs_unlink("/d/"), -EISDIR);
	EXPECT_RC(vfs_unlink("/"), -EISDIR);
	EXPECT_RC(vfs_unlink("/d/."), -EISDIR);
	EXPECT_RC(vfs_unlink("/f/"), -ENOTDIR);
	EXPECT_RC(vfs_unlink("/nope"), -ENOENT);
	EXPECT_RC(vfs_unlink("/f/x"), -ENOTDIR);
	EXPECT_RC(vfs_unlink("/f"), 0);
	EXPECT_RC(vfs_unlink("/f"), -ENOENT);
	EXPECT_RC(vfs_rmdir("/d"), 0);
	return 0;
}

FS_TEST(vfs_names, dot_and_dotdot)
{
	struct vfs_stat root, st;
	EXPECT_RC(vfs_mkdir("/a", 0755), 0);
	EXPECT_RC(vfs_mkdir("/a/b", 0755), 0);
	EXPECT_RC(put_file("/a/b/f", "dots"), 0);
	EXPECT_RC(vfs_stat("/", &root), 0);
	EXPECT_RC(vfs_stat("/..", &st), 0);
	EXPECT_RC(st.ino, root.ino);
	EXPECT_RC(vfs_stat("/../../a/..", &st), 0);
	EXPECT_RC(st.ino, root.ino);
	char buf[16];
	EXPECT_RC(get_file("/a/./b/../b/./f", buf, sizeof(buf)), 4);
	EXPECT_RC(get_file("//a//b///f", buf, sizeof(buf)), 4);
	EXPECT_RC(get_file("a/b/f", buf, sizeof(buf)), 4);     /* relative: from "/" */
	EXPECT_RC(vfs_stat("/a/b/f/..", &st), -ENOTDIR);
	EXPECT_RC(vfs_stat("/a/b/f/.", &st), -ENOTDIR);
	EXPECT_RC(vfs_stat("/a/b/", &st), 0);
	EXPECT_RC(vfs_stat("/a/b/f/", &st), -ENOTDIR);
	return 0;
}

FS_TEST(vfs_names, name_limits)
{
	char name[300], path[5000];
	memset(name, 'n', sizeof(name));
	path[0] = '/';
	memcpy(path + 1, name, 255);
	path[256] = '\0';
	EXPECT_RC(put_file(path, "255"), 0);
	struct vfs_stat st;
	EXPECT_RC(vfs_stat(path, &st), 0);
	path[256] = 'n';
	path[257] = '\0';
	EXPECT_RC(vfs_open(path, O_CREAT | O_RDWR, 0644), -ENAMETOOLONG);
	EXPECT_RC(vfs_mkdir(path, 0755), -ENAMETOOLONG);
	EXPECT_RC(vfs_stat(path, &st), -ENAMETOOLONG);
	EXPECT_RC(vfs_symlink("x", path), -ENAMETOOLONG);
	/* A path of 4095 bytes is fine to parse; 4096 is too long. */
	for (int i = 0; i < 4095; i++)
		path[i] = i % 2 ? '.' : '/';
	path[4095] = '\0';
	EXPECT_RC(vfs_stat(path, &st), 0);
	path[4095] = '/';
	path[4096] = '\0';
	EXPECT_RC(vfs_stat(path, &st), -ENAMETOOLONG);
	EXPECT_RC(vfs_mkdir(path, 0755), -ENAMETOOLONG);
	/* Nothing truncated or empty was left behind. */
	int fd, count = 0;
	struct listing l = { 0 };
	EXPECT_FD(fd, vfs_open("/", O_RDONLY | O_DIRECTORY, 0));
	EXPECT_RC(vfs_readdir(fd, list_fill, &l), 0);
	EXPECT_RC(vfs_close(fd), 0);
	for (int i = 0; i < l.count; i++) {
		size_t len = strlen(l.names[i]);
		EXPECT(len > 0);
		if (l.names[i][0] == 'n') {
			EXPECT(len == 31);      /* the 255-byte name, cut by list_fill */
			count++;
		}
	}
	EXPECT_RC(count, 1);
	return 0;
}

FS_TEST(vfs_names, symlinks)
{
	char buf[64];
	struct vfs_stat st, lst;
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(put_file("/d/f", "target"), 0);
	EXPECT_RC(vfs_symlink("/d/f", "/abs"), 0);
	EXPECT_RC(vfs_symlink("d/f", "/rel"), 0);
	EXPECT_RC(vfs_symlink("../d", "/d/up"), 0);
	EXPECT_RC(vfs_symlink("/d", "/dl"), 0);
	EXPECT_RC(vfs_symlink("/nowhere", "/dangling"), 0);
	EXPECT_RC(vfs_symlink("x", "/abs"), -EEXIST);
	EXPECT_RC(vfs_symlink("", "/empty"), -ENOENT);
	EXPECT_RC(get_file("/abs", buf, sizeof(buf)), 6);
	EXPECT_RC(get_file("/rel", buf, sizeof(buf)), 6);
	EXPECT_RC(get_file("/d/up/up/up/f", buf, sizeof(buf)), 6);
	EXPECT_RC(get_file("/dl/f", buf, sizeof(buf)), 6);
	EXPECT_RC(vfs_stat("/dl/", &st), 0);
	EXPECT(S_ISDIR(st.mode));
	EXPECT_RC(vfs_lstat("/dl", &lst), 0);
	EXPECT(S_ISLNK(lst.mode));
	EXPECT_RC(lst.size, 2);
	EXPECT_RC(vfs_readlink("/d/up", buf, sizeof(buf)), 4);
	EXPECT(memcmp(buf, "../d", 4) == 0);
	EXPECT_RC(vfs_readlink("/d/up", buf, 2), 2);
	EXPECT_RC(vfs_readlink("/d/f", buf, sizeof(buf)), -EINVAL);
	EXPECT_RC(vfs_readlink("/nope", buf, sizeof(buf)), -ENOENT);
	EXPECT_RC(vfs_stat("/dangling", &st), -ENOENT);
	EXPECT_RC(vfs_lstat("/dangling", &st), 0);
	EXPECT_RC(vfs_open("/abs", O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
	EXPECT_RC(vfs_open("/abs/", O_RDONLY, 0), -ENOTDIR);
	/* Loops and the 40-link limit. */
	EXPECT_RC(vfs_symlink("/loop2", "/loop1"), 0);
	EXPECT_RC(vfs_symlink("/loop1", "/loop2"), 0);
	EXPECT_RC(vfs_stat("/loop1", &st), -ELOOP);
	EXPECT_RC(vfs_lstat("/loop1", &st), 0);
	EXPECT_RC(vfs_symlink("self", "/self"), 0);
	EXPECT_RC(vfs_open("/self", O_RDONLY, 0), -ELOOP);
	EXPECT_RC(vfs_stat("/self/x", &st), -ELOOP);
	char name[16], target[16];
	EXPECT_RC(vfs_symlink("/d/f", "/c0"), 0);
	for (int i = 1; i <= 40; i++) {
		ksnprintf(name, sizeof(name), "/c%d", i);
		ksnprintf(target, sizeof(target), "c%d", i - 1);
		EXPECT_RC(vfs_symlink(target, name), 0);
	}
	EXPECT_RC(vfs_stat("/c39", &st), 0);       /* 40 links */
	EXPECT_RC(vfs_stat("/c40", &st), -ELOOP);  /* 41 */
	/* Removing a link removes the link, not its target. */
	EXPECT_RC(vfs_unlink("/abs"), 0);
	EXPECT_RC(vfs_stat("/d/f", &st), 0);
	EXPECT_RC(vfs_unlink("/dl"), 0);
	EXPECT_RC(vfs_stat("/d", &st), 0);
	/* Through a link in the middle: the parent is the link's target. */
	EXPECT_RC(vfs_symlink("/d", "/dl"), 0);
	EXPECT_RC(vfs_mkdir("/dl/sub", 0755), 0);
	EXPECT_RC(vfs_stat("/d/sub", &st), 0);
	EXPECT_RC(vfs_open("/dangling", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	EXPECT_RC(vfs_open("/dangling", O_CREAT | O_NOFOLLOW | O_WRONLY, 0644), -ELOOP);
	/* O_CREAT through a dangling link creates its target, as on Linux. */
	int fd;
	EXPECT_FD(fd, vfs_open("/dangling", O_CREAT | O_WRONLY, 0600));
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_stat("/nowhere", &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 0600);
	EXPECT_RC(vfs_symlink("hop2", "/d/hop1"), 0);
	EXPECT_RC(vfs_symlink("sub/made", "/d/hop2"), 0);
	EXPECT_RC(put_file("/d/hop1", "via two links"), 0);
	EXPECT_RC(get_file("/d/sub/made", buf, sizeof(buf)), 13);
	EXPECT_RC(vfs_symlink("/nodir/x", "/d/bad"), 0);
	EXPECT_RC(vfs_open("/d/bad", O_CREAT | O_WRONLY, 0644), -ENOENT);
	EXPECT_RC(vfs_open("/loop1", O_CREAT | O_WRONLY, 0644), -ELOOP);
	return 0;
}

FS_TEST(vfs_names, hard_links)
{
	struct vfs_stat a, b;
	EXPECT_RC(put_file("/a", "shared"), 0);
	EXPECT_RC(vfs_link("/a", "/b"), 0);
	EXPECT_RC(vfs_stat("/a", &a), 0);
	EXPECT_RC(vfs_stat("/b", &b), 0);
	EXPECT_RC(a.ino, b.ino);
	EXPECT_RC(a.nlink, 2);
	EXPECT_RC(vfs_link("/a", "/b"), -EEXIST);
	EXPECT_RC(vfs_link("/nope", "/c"), -ENOENT);
	EXPECT_RC(vfs_link("/a", "/nodir/c"), -ENOENT);
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(vfs_link("/d", "/d2"), -EPERM);
	EXPECT_RC(vfs_link("/a", "/d/c/"), -ENOENT);
	EXPECT_RC(vfs_unlink("/a"), 0);
	char buf[16];
	EXPECT_RC(get_file("/b", buf, sizeof(buf)), 6);
	EXPECT_RC(vfs_stat("/b", &b), 0);
	EXPECT_RC(b.nlink, 1);
	/* link to a symlink links the symlink itself */
	EXPECT_RC(vfs_symlink("/b", "/s"), 0);
	EXPECT_RC(vfs_link("/s", "/s2"), 0);
	EXPECT_RC(vfs_lstat("/s2", &a), 0);
	EXPECT(S_ISLNK(a.mode));
	return 0;
}

FS_TEST(vfs_names, rename)
{
	struct vfs_stat st, st2;
	char buf[16];
	EXPECT_RC(put_file("/a", "A"), 0);
	EXPECT_RC(put_file("/b", "B"), 0);
	EXPECT_RC(vfs_rename("/a", "/b"), 0);           /* replaces */
	EXPECT_RC(vfs_stat("/a", &st), -ENOENT);
	EXPECT_RC(get_file("/b", buf, sizeof(buf)), 1);
	EXPECT(buf[0] == 'A');
	EXPECT_RC(vfs_rename("/a", "/c"), -ENOENT);
	EXPECT_RC(vfs_rename("/b", "/b"), 0);
	EXPECT_RC(vfs_link("/b", "/b2"), 0);
	EXPECT_RC(vfs_rename("/b", "/b2"), 0);          /* same inode: nothing */
	EXPECT_RC(vfs_stat("/b", &st), 0);
	EXPECT_RC(vfs_unlink("/b2"), 0);
	/* Directories. */
	EXPECT_RC(vfs_mkdir("/d1", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d1/sub", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d2", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d3", 0755), 0);
	EXPECT_RC(put_file("/d3/f", "x"), 0);
	EXPECT_RC(vfs_rename("/d1", "/d1/sub/x"), -EINVAL);
	EXPECT_RC(vfs_rename("/d1", "/d1/x"), -EINVAL);
	EXPECT_RC(vfs_rename("/d1", "/d3"), -ENOTEMPTY);
	EXPECT_RC(vfs_rename("/d1", "/b"), -ENOTDIR);
	EXPECT_RC(vfs_rename("/b", "/d2"), -EISDIR);
	EXPECT_RC(vfs_rename("/b", "/d3/f/"), -ENOTDIR);
	EXPECT_RC(vfs_rename("/b/", "/z"), -ENOTDIR);
	EXPECT_RC(vfs_rename("/d1/.", "/z"), -EBUSY);
	EXPECT_RC(vfs_rename("/z", "/d1/.."), -EBUSY);
	EXPECT_RC(vfs_rename("/", "/z"), -EBUSY);
	EXPECT_RC(vfs_rename("/d1", "/nodir/z"), -ENOENT);
	EXPECT_RC(vfs_stat("/d1/sub", &st), 0);
	EXPECT_RC(vfs_rename("/d1", "/d2"), 0);         /* over an empty directory */
	EXPECT_RC(vfs_stat("/d2/sub", &st2), 0);
	EXPECT_RC(st.ino, st2.ino);
	EXPECT_RC(vfs_rename("/d2/sub", "/d3/sub/"), 0);  /* to another parent */
	EXPECT_RC(vfs_stat("/d2", &st), 0);
	EXPECT_RC(st.nlink, 2);
	EXPECT_RC(vfs_stat("/d3", &st), 0);
	EXPECT_RC(st.nlink, 3);
	EXPECT_RC(vfs_stat("/d3/sub/..", &st2), 0);
	EXPECT_RC(st.ino, st2.ino);
	EXPECT_RC(vfs_rename("/d3/f", "/d2/g"), 0);
	EXPECT_RC(get_file("/d2/g", buf, sizeof(buf)), 1);
	/* Symbolic links are renamed, not followed. */
	EXPECT_RC(vfs_symlink("/d2", "/l"), 0);
	EXPECT_RC(vfs_rename("/l", "/l2"), 0);
	EXPECT_RC(vfs_lstat("/l2", &st), 0);
	EXPECT(S_ISLNK(st.mode));
	EXPECT_RC(vfs_stat("/d2", &st), 0);
	return 0;
}

FS_TEST(vfs_names, readdir)
{
	int fd;
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d/sub", 0755), 0);
	EXPECT_RC(put_file("/d/file", "x"), 0);
	EXPECT_RC(vfs_symlink("file", "/d/link"), 0);
	char name[16];
	for (int i = 0; i < 20; i++) {
		ksnprintf(name, sizeof(name), "/d/n%02d", i);
		EXPECT_RC(put_file(name, ""), 0);
	}
	struct listing all = { 0 };
	EXPECT_FD(fd, vfs_open("/d", O_RDONLY | O_DIRECTORY, 0));
	EXPECT_RC(vfs_readdir(fd, list_fill, &all), 0);
	EXPECT_RC(all.count, 25);
	int i;
	EXPECT((i = find_name(&all, ".")) >= 0 && all.types[i] == DT_DIR);
	EXPECT((i = find_name(&all, "..")) >= 0 && all.types[i] == DT_DIR);
	EXPECT((i = find_name(&all, "sub")) >= 0 && all.types[i] == DT_DIR);
	EXPECT((i = find_name(&all, "file")) >= 0 && all.types[i] == DT_REG);
	EXPECT((i = find_name(&all, "link")) >= 0 && all.types[i] == DT_LNK);
	EXPECT(find_name(&all, "n19") >= 0);
	/* At the end: nothing more. */
	struct listing more = { 0 };
	EXPECT_RC(vfs_readdir(fd, list_fill, &more), 0);
	EXPECT_RC(more.count, 0);
	/* Rewind and take it in pieces of 7: the same entries. */
	EXPECT_RC(vfs_seek(fd, 0, SEEK_SET), 0);
	struct listing parts = { 0 };
	for (int round = 0; round < 10; round++) {
		parts.stop_after = parts.count + 7;
		EXPECT_RC(vfs_readdir(fd, list_fill, &parts), 0);
	}
	EXPECT_RC(parts.count, 25);
	for (int k = 0; k < 25; k++)
		EXPECT(strcmp(parts.names[k], all.names[k]) == 0);
	/* telldir / seekdir through vfs_seek. */
	EXPECT_RC(vfs_seek(fd, 0, SEEK_SET), 0);
	struct listing head = { .stop_after = 5 };
	EXPECT_RC(vfs_readdir(fd, list_fill, &head), 0);
	int64_t mark = vfs_seek(fd, 0, SEEK_CUR);
	EXPECT(mark > 0);
	struct listing rest1 = { 0 }, rest2 = { 0 };
	EXPECT_RC(vfs_readdir(fd, list_fill, &rest1), 0);
	EXPECT_RC(vfs_seek(fd, mark, SEEK_SET), mark);
	EXPECT_RC(vfs_readdir(fd, list_fill, &rest2), 0);
	EXPECT_RC(rest1.count, 20);
	EXPECT_RC(rest2.count, 20);
	EXPECT(strcmp(rest1.names[0], all.names[5]) == 0);
	EXPECT(strcmp(rest2.names[0], all.names[5]) == 0);
	EXPECT_RC(vfs_seek(fd, 0, SEEK_END), -EINVAL);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_FD(fd, vfs_open("/d/file", O_RDONLY, 0));
	EXPECT_RC(vfs_readdir(fd, list_fill, &more), -ENOTDIR);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_readdir(fd, list_fill, &more), -EBADF);
	return 0;
}

FS_TEST(vfs_names, attributes)
{
	struct vfs_stat st;
	EXPECT_RC(put_file("/f", "abc"), 0);
	EXPECT_RC(vfs_chmod("/f", 04751), 0);
	EXPECT_RC(vfs_stat("/f", &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 04751);
	EXPECT_RC(vfs_chown("/f", 1000, 100), 0);
	EXPECT_RC(vfs_stat("/f", &st), 0);
	EXPECT_RC(st.uid, 1000);
	EXPECT_RC(st.gid, 100);
	EXPECT_RC(vfs_chown("/f", (uint32_t)-1, 200), 0);
	EXPECT_RC(vfs_stat("/f", &st), 0);
	EXPECT_RC(st.uid, 1000);
	EXPECT_RC(st.gid, 200);
	int64_t t1 = 1500000000ll * 1000000000ll, t2 = 1600000000ll * 1000000000ll;
	EXPECT_RC(vfs_utimens("/f", t1, t2), 0);
	EXPECT_RC(vfs_stat("/f", &st), 0);
	EXPECT_RC(st.atime_ns / 1000000000, t1 / 1000000000);
	EXPECT_RC(st.mtime_ns / 1000000000, t2 / 1000000000);
	EXPECT_RC(vfs_utimens("/f", VFS_UTIME_OMIT, t1), 0);
	EXPECT_RC(vfs_stat("/f", &st), 0);
	EXPECT_RC(st.atime_ns / 1000000000, t1 / 1000000000);
	EXPECT_RC(st.mtime_ns / 1000000000, t1 / 1000000000);
	EXPECT_RC(vfs_chmod("/nope", 0), -ENOENT);
	EXPECT_RC(vfs_chown("/nope", 0, 0), -ENOENT);
	EXPECT_RC(vfs_utimens("/nope", 0, 0), -ENOENT);
	/* l* variants act on the link, the others on its target. */
	EXPECT_RC(vfs_symlink("/f", "/l"), 0);
	EXPECT_RC(vfs_lchown("/l", 7, 8), 0);
	EXPECT_RC(vfs_lstat("/l", &st), 0);
	EXPECT_RC(st.uid, 7);
	EXPECT_RC(vfs_stat("/l", &st), 0);
	EXPECT_RC(st.uid, 1000);
	EXPECT_RC(vfs_lutimens("/l", t2, t2), 0);
	EXPECT_RC(vfs_lstat("/l", &st), 0);
	EXPECT_RC(st.mtime_ns / 1000000000, t2 / 1000000000);
	EXPECT_RC(vfs_stat("/l", &st), 0);
	EXPECT_RC(st.mtime_ns / 1000000000, t1 / 1000000000);
	/* The creator's identity goes on new files, where it may create them. */
	EXPECT_RC(vfs_mkdir("/pub", 0777), 0);
	struct thread *me = thread_current();
	me->uid = 55;
	me->gid = 66;
	EXPECT_RC(vfs_mkdir("/owned", 0755), -EACCES);
	EXPECT_RC(vfs_mkdir("/pub/owned", 0755), 0);
	me->uid = me->gid = 0;
	EXPECT_RC(vfs_stat("/pub/owned", &st), 0);
	EXPECT_RC(st.uid, 55);
	EXPECT_RC(st.gid, 66);
	struct vfs_statfs sf;
	EXPECT_RC(vfs_statfs("/", &sf), 0);
	EXPECT_RC(sf.namemax, 255);
	EXPECT(sf.bsize >= 1024 && sf.blocks > 0 && sf.bfree <= sf.blocks);
	EXPECT(!sf.read_only);
	EXPECT_RC(vfs_statfs("/nope", &sf), -ENOENT);
	return 0;
}

FS_TEST(vfs_names, mknod)
{
	struct vfs_stat st;
	EXPECT_RC(vfs_mknod("/fifo", S_IFIFO | 0644, 0), 0);
	EXPECT_RC(vfs_mknod("/chr", S_IFCHR | 0600, (1 << 8) | 3), 0);
	EXPECT_RC(vfs_mknod("/reg", 0644, 0), 0);
	EXPECT_RC(vfs_mknod("/reg", 0644, 0), -EEXIST);
	EXPECT_RC(vfs_mknod("/dir", S_IFDIR | 0755, 0), -EPERM);
	EXPECT_RC(vfs_mknod("/bad", 0170000, 0), -EINVAL);
	EXPECT_RC(vfs_stat("/fifo", &st), 0);
	EXPECT_RC(st.mode, S_IFIFO | 0644);
	EXPECT_RC(vfs_stat("/chr", &st), 0);
	EXPECT_RC(st.mode, S_IFCHR | 0600);
	EXPECT_RC(st.rdev, (1 << 8) | 3);
	EXPECT_RC(vfs_stat("/reg", &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 0644);
	EXPECT_RC(vfs_open("/chr", O_RDONLY, 0), -ENXIO);
	EXPECT_RC(vfs_unlink("/fifo"), 0);
	EXPECT_RC(vfs_unlink("/chr"), 0);
	return 0;
}
