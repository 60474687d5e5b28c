/*
 * test_vfs_at.c: held files (vnodes) and the *at calls of the VFS:
 * vfs_node_at/of/hold/put, the vfs_node_* calls on a held file, and
 * vfs_openat, vfs_mkdirat, vfs_mknodat, vfs_symlinkat, vfs_unlinkat,
 * vfs_rmdirat, vfs_renameat relative to a held directory, on every driver.
 * Every hold is matched by puts: each run ends by unmounting "/", which
 * fails if a vnode was left held.
 */
#include "test_vfs.h"

/* EXPECT_NODE(var, call): call returns 0 and holds a vnode, kept in var. */
#define EXPECT_NODE(var, call) do { \
	var = NULL; \
	long long r_ = (long long)(call); \
	if (r_ != 0 || var == NULL) { \
		fail_at(__LINE__, "%s = %lld, expected 0 and a vnode", #call, r_); \
		return 1; \
	} \
} while (0)

/* The inode number of path (not following a final link), or 0. */
static uint64_t ino_of(const char *path)
{
	struct vfs_stat st;
	return vfs_lstat(path, &st) == 0 ? st.ino : 0;
}

/* Read up to size-1 bytes of vn through vfs_node_open, NUL-terminated;
 * length or -errno. */
static ssize_t get_node(struct vnode *vn, char *buf, size_t size)
{
	int fd = vfs_node_open(vn, O_RDONLY);
	if (fd < 0)
		return fd;
	ssize_t n = vfs_pread(fd, buf, size - 1, 0);
	vfs_close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* ---- vfs_node_at: resolution from a held directory ---- */

FS_TEST(vfs_at, node_at_paths)
{
	struct vnode *d, *a, *b, *c;
	struct vfs_stat st;
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d/sub", 0755), 0);
	EXPECT_RC(put_file("/d/f", "in d"), 0);
	EXPECT_RC(put_file("/f", "at the top"), 0);
	EXPECT_RC(put_file("/d/sub/g", "in sub"), 0);
	uint64_t ino_d = ino_of("/d"), ino_df = ino_of("/d/f"), ino_f = ino_of("/f");
	uint64_t ino_sub = ino_of("/d/sub"), ino_g = ino_of("/d/sub/g");
	EXPECT(ino_d && ino_df && ino_f && ino_sub && ino_g && ino_df != ino_f);

	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	EXPECT_RC(vfs_node_ino(d), ino_d);
	EXPECT_RC(vfs_node_stat(d, &st), 0);
	EXPECT_RC(st.ino, ino_d);
	EXPECT(S_ISDIR(st.mode));

	/* Relative paths resolve from the held directory, absolute ones from "/". */
	EXPECT_NODE(a, vfs_node_at(d, "f", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_df);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "/f", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_f);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "sub/g", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_g);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "./sub//./g", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_g);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, ".", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_d);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "sub/", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_sub);
	vfs_node_put(a);
	/* dir NULL: relative paths resolve from "/". */
	EXPECT_NODE(a, vfs_node_at(NULL, "f", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_f);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(NULL, "d/f", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_df);
	vfs_node_put(a);

	/* ".." never climbs above the starting directory... */
	EXPECT_NODE(a, vfs_node_at(d, "..", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_d);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "../../..", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_d);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "../f", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_df);         /* d/f, not /f */
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "sub/../../f", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_df);
	vfs_node_put(a);
	/* ... but does go up inside it. */
	struct vnode *sub;
	EXPECT_NODE(sub, vfs_node_at(d, "sub", true, &sub));
	EXPECT_NODE(a, vfs_node_at(sub, "..", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_sub);        /* from sub: sub is the top */
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "sub/..", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_d);
	vfs_node_put(a);
	/* From "/" (or an absolute path), ".." climbs as usual. */
	EXPECT_NODE(a, vfs_node_at(sub, "/d/sub/../../f", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_f);
	vfs_node_put(a);
	vfs_node_put(sub);

	/* The same file held twice (and through a second name): the same ino. */
	EXPECT_RC(vfs_link("/d/f", "/d/f2"), 0);
	EXPECT_NODE(a, vfs_node_at(d, "f", true, &a));
	EXPECT_NODE(b, vfs_node_at(NULL, "/d/f", false, &b));
	EXPECT_NODE(c, vfs_node_at(d, "f2", true, &c));
	EXPECT_RC(vfs_node_ino(a), vfs_node_ino(b));
	EXPECT_RC(vfs_node_ino(a), vfs_node_ino(c));
	EXPECT_RC(vfs_node_ino(a), ino_df);
	/* vfs_node_hold: one more reference, released by one more put. */
	vfs_node_hold(a);
	vfs_node_put(a);
	EXPECT_RC(vfs_node_ino(a), ino_df);
	char buf[32];
	EXPECT_RC(get_node(a, buf, sizeof(buf)), 4);
	EXPECT(strcmp(buf, "in d") == 0);
	vfs_node_put(c);
	vfs_node_put(b);
	vfs_node_put(a);
	vfs_node_put(d);
	return 0;
}

FS_TEST(vfs_at, node_at_symlinks_and_errors)
{
	struct vnode *d, *a, *f;
	struct vfs_stat st;
	char buf[32];
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d/sub", 0755), 0);
	EXPECT_RC(put_file("/d/f", "in d"), 0);
	EXPECT_RC(put_file("/top", "top"), 0);
	EXPECT_RC(put_file("/d/top", "d/top"), 0);
	EXPECT_RC(vfs_symlink("f", "/d/rel"), 0);
	EXPECT_RC(vfs_symlink("/top", "/d/abs"), 0);
	EXPECT_RC(vfs_symlink("sub", "/d/dl"), 0);
	EXPECT_RC(vfs_symlink("nowhere", "/d/dangling"), 0);
	EXPECT_RC(vfs_symlink("self", "/d/self"), 0);
	EXPECT_RC(vfs_symlink("../../top", "/d/sub/esc"), 0);
	uint64_t ino_df = ino_of("/d/f"), ino_top = ino_of("/top"), ino_rel = ino_of("/d/rel");
	uint64_t ino_sub = ino_of("/d/sub");
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));

	/* follow: a final link is followed; otherwise the link itself is held. */
	EXPECT_NODE(a, vfs_node_at(d, "rel", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_df);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "rel", false, &a));
	EXPECT_RC(vfs_node_ino(a), ino_rel);
	EXPECT_RC(vfs_node_stat(a, &st), 0);
	EXPECT(S_ISLNK(st.mode));
	EXPECT_RC(st.size, 1);
	vfs_node_put(a);
	/* An absolute link starts again from "/". */
	EXPECT_NODE(a, vfs_node_at(d, "abs", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_top);
	EXPECT_RC(get_node(a, buf, sizeof(buf)), 3);
	EXPECT(strcmp(buf, "top") == 0);
	vfs_node_put(a);
	/* A link in the middle of a path is always followed. */
	EXPECT_NODE(a, vfs_node_at(d, "dl", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_sub);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "dl/", false, &a));
	EXPECT_RC(vfs_node_ino(a), ino_sub);
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(d, "dl/../f", false, &a));
	EXPECT_RC(vfs_node_ino(a), ino_df);
	vfs_node_put(a);
	/* A relative link's ".." stays inside the starting directory too. */
	EXPECT_NODE(a, vfs_node_at(d, "sub/esc", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_of("/d/top"));
	vfs_node_put(a);
	EXPECT_NODE(a, vfs_node_at(NULL, "/d/sub/esc", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_top);        /* from "/": up to the top */
	vfs_node_put(a);
	/* A dangling link: -ENOENT followed, the link itself otherwise. */
	EXPECT_RC(vfs_node_at(d, "dangling", true, &a), -ENOENT);
	EXPECT_NODE(a, vfs_node_at(d, "dangling", false, &a));
	EXPECT_RC(vfs_node_stat(a, &st), 0);
	EXPECT(S_ISLNK(st.mode));
	vfs_node_put(a);

	/* Errors. */
	EXPECT_RC(vfs_node_at(d, "nope", true, &a), -ENOENT);
	EXPECT_RC(vfs_node_at(d, "", true, &a), -ENOENT);
	EXPECT_RC(vfs_node_at(NULL, "", true, &a), -ENOENT);
	EXPECT_RC(vfs_node_at(d, "nope", false, &a), -ENOENT);
	EXPECT_RC(vfs_node_at(d, "nope/f", true, &a), -ENOENT);
	EXPECT_RC(vfs_node_at(d, "/d/nope", true, &a), -ENOENT);
	EXPECT_RC(vfs_node_at(d, "f/x", true, &a), -ENOTDIR);
	EXPECT_RC(vfs_node_at(d, "f/", true, &a), -ENOTDIR);
	EXPECT_RC(vfs_node_at(d, "f/..", true, &a), -ENOTDIR);
	EXPECT_RC(vfs_node_at(d, "self", true, &a), -ELOOP);
	EXPECT_RC(vfs_node_at(d, "self/x", false, &a), -ELOOP);
	EXPECT_NODE(a, vfs_node_at(d, "self", false, &a));      /* the loop itself */
	EXPECT_RC(vfs_node_ino(a), ino_of("/d/self"));
	vfs_node_put(a);
	/* A relative path from a held file that is not a directory. */
	EXPECT_NODE(f, vfs_node_at(d, "f", true, &f));
	EXPECT_RC(vfs_node_at(f, "x", true, &a), -ENOTDIR);
	/* ... but an absolute one does not start from it. */
	EXPECT_NODE(a, vfs_node_at(f, "/top", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_top);
	vfs_node_put(a);
	vfs_node_put(f);
	/* A component of 256 bytes. */
	char name[300];
	memset(name, 'n', 256);
	name[256] = '\0';
	EXPECT_RC(vfs_node_at(d, name, true, &a), -ENAMETOOLONG);
	vfs_node_put(d);
	return 0;
}

/* ---- a held file outlives its names ---- */

FS_TEST(vfs_at, unlinked_while_held)
{
	struct vnode *d, *vn;
	struct vfs_stat st;
	struct vfs_statfs before, during, after;
	static char data[10000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	EXPECT_RC(vfs_statfs("/", &before), 0);

	int fd;
	EXPECT_FD(fd, vfs_openat(d, "victim", O_CREAT | O_EXCL | O_WRONLY, 0640));
	EXPECT_RC(vfs_write(fd, data, sizeof(data)), sizeof(data));
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_NODE(vn, vfs_node_at(d, "victim", true, &vn));
	uint64_t ino = vfs_node_ino(vn);
	vfs_node_hold(vn);                          /* two references now */
	EXPECT_RC(vfs_unlinkat(d, "victim"), 0);
	struct vnode *gone;
	EXPECT_RC(vfs_node_at(d, "victim", true, &gone), -ENOENT);
	EXPECT_RC(vfs_stat("/d/victim", &st), -ENOENT);

	/* Still usable: stat, open, read, even write. */
	EXPECT_RC(vfs_node_ino(vn), ino);
	EXPECT_RC(vfs_node_stat(vn, &st), 0);
	EXPECT_RC(st.ino, ino);
	EXPECT_RC(st.nlink, 0);
	EXPECT_RC(st.size, sizeof(data));
	EXPECT_RC(st.mode, S_IFREG | 0640);
	static char back[sizeof(data)];
	EXPECT_FD(fd, vfs_node_open(vn, O_RDONLY));
	EXPECT_RC(vfs_read(fd, back, sizeof(back)), sizeof(back));
	EXPECT(memcmp(back, data, sizeof(data)) == 0);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_FD(fd, vfs_node_open(vn, O_RDWR));
	EXPECT_RC(vfs_pwrite(fd, "XYZ", 3, 100), 3);
	EXPECT_RC(vfs_pread(fd, back, 5, 99), 5);
	EXPECT(memcmp(back, "vXYZz", 5) == 0);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_node_stat(vn, &st), 0);
	EXPECT_RC(st.size, sizeof(data));
	/* A file with no name left gets none back. */
	EXPECT_RC(vfs_node_link(vn, d, "back"), -ENOENT);
	EXPECT_RC(vfs_stat("/d/back", &st), -ENOENT);

	/* Its inode stays taken until the last put. */
	EXPECT_RC(vfs_statfs("/", &during), 0);
	EXPECT_RC(during.ffree, before.ffree - 1);
	vfs_node_put(vn);
	EXPECT_RC(vfs_statfs("/", &during), 0);
	EXPECT_RC(during.ffree, before.ffree - 1);
	EXPECT_RC(vfs_node_stat(vn, &st), 0);       /* one reference left */
	EXPECT_RC(st.nlink, 0);
	vfs_node_put(vn);
	EXPECT_RC(vfs_statfs("/", &after), 0);
	EXPECT_RC(after.ffree, before.ffree);
	EXPECT_RC(after.bfree, before.bfree);

	/* The same for a file held through vfs_node_of, closed, then unlinked. */
	EXPECT_FD(fd, vfs_openat(d, "v2", O_CREAT | O_RDWR, 0644));
	EXPECT_RC(vfs_write(fd, "still here", 10), 10);
	EXPECT_NODE(vn, vfs_node_of(fd, &vn));
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_unlink("/d/v2"), 0);
	char buf[32];
	EXPECT_RC(get_node(vn, buf, sizeof(buf)), 10);
	EXPECT(strcmp(buf, "still here") == 0);
	EXPECT_RC(vfs_node_stat(vn, &st), 0);
	EXPECT_RC(st.nlink, 0);
	vfs_node_put(vn);
	EXPECT_RC(vfs_statfs("/", &after), 0);
	EXPECT_RC(after.ffree, before.ffree);

	vfs_node_put(d);
	EXPECT_RC(vfs_rmdir("/d"), 0);
	return 0;
}

/* A held directory that is renamed or removed. */
FS_TEST(vfs_at, held_directory_moved_or_removed)
{
	struct vnode *d, *a;
	struct vfs_stat st;
	char buf[32];
	EXPECT_RC(vfs_mkdir("/old", 0755), 0);
	EXPECT_RC(put_file("/old/f", "moved"), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/old", true, &d));
	EXPECT_RC(vfs_rename("/old", "/new"), 0);
	/* Named by what it is: relative paths follow the directory. */
	EXPECT_NODE(a, vfs_node_at(d, "f", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_of("/new/f"));
	vfs_node_put(a);
	int fd;
	EXPECT_FD(fd, vfs_openat(d, "g", O_CREAT | O_WRONLY, 0644));
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_stat("/new/g", &st), 0);
	EXPECT_RC(get_file("/new/f", buf, sizeof(buf)), 5);
	EXPECT_RC(vfs_unlinkat(d, "g"), 0);
	EXPECT_RC(vfs_unlinkat(d, "f"), 0);
	struct vfs_statfs before, after;
	EXPECT_RC(vfs_statfs("/", &before), 0);
	/* Removed while held: still there to stat, but nothing can be made in it. */
	EXPECT_RC(vfs_rmdir("/new"), 0);
	EXPECT_RC(vfs_node_stat(d, &st), 0);
	EXPECT(S_ISDIR(st.mode));
	EXPECT_RC(st.nlink, 0);
	EXPECT_RC(vfs_openat(d, "x", O_CREAT | O_WRONLY, 0644), -ENOENT);
	EXPECT_RC(vfs_mkdirat(d, "x", 0755), -ENOENT);
	EXPECT_RC(vfs_symlinkat("t", d, "x"), -ENOENT);
	EXPECT_RC(vfs_node_at(d, "x", true, &a), -ENOENT);
	EXPECT_RC(vfs_statfs("/", &after), 0);
	EXPECT_RC(after.ffree, before.ffree);       /* not yet freed */
	vfs_node_put(d);
	EXPECT_RC(vfs_stat("/new", &st), -ENOENT);
	EXPECT_RC(vfs_statfs("/", &after), 0);
	EXPECT_RC(after.ffree, before.ffree + 1);
	return 0;
}

/* ---- vfs_node_setattr ---- */

FS_TEST(vfs_at, setattr)
{
	struct vnode *f, *d, *l;
	struct vfs_stat st;
	char buf[32];
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(put_file("/d/f", "abc"), 0);
	EXPECT_RC(vfs_symlink("f", "/d/l"), 0);
	EXPECT_NODE(f, vfs_node_at(NULL, "/d/f", true, &f));
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	EXPECT_NODE(l, vfs_node_at(d, "l", false, &l));

	/* mode: the permission bits; the type stays. */
	struct vfs_setattr sa = { .mask = VFS_SET_MODE, .mode = 04751 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 04751);
	EXPECT_RC(vfs_stat("/d/f", &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 04751);
	sa = (struct vfs_setattr){ .mask = VFS_SET_MODE, .mode = 0700 };
	EXPECT_RC(vfs_node_setattr(d, &sa), 0);
	EXPECT_RC(vfs_stat("/d", &st), 0);
	EXPECT_RC(st.mode, S_IFDIR | 0700);

	/* uid and gid, each alone or both. */
	sa = (struct vfs_setattr){ .mask = VFS_SET_UID | VFS_SET_GID, .uid = 1000, .gid = 100 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.uid, 1000);
	EXPECT_RC(st.gid, 100);
	sa = (struct vfs_setattr){ .mask = VFS_SET_GID, .uid = 1, .gid = 200 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_stat("/d/f", &st), 0);
	EXPECT_RC(st.uid, 1000);
	EXPECT_RC(st.gid, 200);
	sa = (struct vfs_setattr){ .mask = VFS_SET_UID, .uid = 7, .gid = 1 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.uid, 7);
	EXPECT_RC(st.gid, 200);
	/* On a link: the link itself, not its target. */
	sa = (struct vfs_setattr){ .mask = VFS_SET_UID | VFS_SET_GID, .uid = 3, .gid = 4 };
	EXPECT_RC(vfs_node_setattr(l, &sa), 0);
	EXPECT_RC(vfs_lstat("/d/l", &st), 0);
	EXPECT_RC(st.uid, 3);
	EXPECT_RC(st.gid, 4);
	EXPECT_RC(vfs_stat("/d/l", &st), 0);
	EXPECT_RC(st.uid, 7);

	/* size: grow (zeros), shrink; a regular file only. */
	sa = (struct vfs_setattr){ .mask = VFS_SET_SIZE, .size = 10 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.size, 10);
	EXPECT_RC(get_node(f, buf, sizeof(buf)), 10);
	EXPECT(memcmp(buf, "abc\0\0\0\0\0\0\0", 10) == 0);
	sa = (struct vfs_setattr){ .mask = VFS_SET_SIZE, .size = 2 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_stat("/d/f", &st), 0);
	EXPECT_RC(st.size, 2);
	EXPECT_RC(get_file("/d/f", buf, sizeof(buf)), 2);
	EXPECT(strcmp(buf, "ab") == 0);
	sa = (struct vfs_setattr){ .mask = VFS_SET_SIZE, .size = 200000 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.size, 200000);
	sa.size = 0;
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.size, 0);
	sa = (struct vfs_setattr){ .mask = VFS_SET_SIZE, .size = 0 };
	EXPECT_RC(vfs_node_setattr(d, &sa), -EISDIR);
	EXPECT_RC(vfs_node_setattr(l, &sa), -EINVAL);
	EXPECT_RC(vfs_stat("/d", &st), 0);
	EXPECT(S_ISDIR(st.mode));

	/* times: each alone or both. */
	int64_t t1 = 1500000000ll * 1000000000ll, t2 = 1600000000ll * 1000000000ll;
	sa = (struct vfs_setattr){ .mask = VFS_SET_ATIME | VFS_SET_MTIME, .atime_ns = t1, .mtime_ns = t2 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.atime_ns / 1000000000, t1 / 1000000000);
	EXPECT_RC(st.mtime_ns / 1000000000, t2 / 1000000000);
	sa = (struct vfs_setattr){ .mask = VFS_SET_MTIME, .atime_ns = t2, .mtime_ns = t1 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_stat("/d/f", &st), 0);
	EXPECT_RC(st.atime_ns / 1000000000, t1 / 1000000000);
	EXPECT_RC(st.mtime_ns / 1000000000, t1 / 1000000000);
	sa = (struct vfs_setattr){ .mask = VFS_SET_ATIME, .atime_ns = t2 };
	EXPECT_RC(vfs_node_setattr(d, &sa), 0);
	EXPECT_RC(vfs_stat("/d", &st), 0);
	EXPECT_RC(st.atime_ns / 1000000000, t2 / 1000000000);
	/* An empty mask changes nothing. */
	sa = (struct vfs_setattr){ .mask = 0, .mode = 0, .size = 0 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 04751);
	EXPECT_RC(st.uid, 7);

	/* On an unlinked file, too. */
	EXPECT_RC(vfs_unlink("/d/f"), 0);
	sa = (struct vfs_setattr){ .mask = VFS_SET_MODE | VFS_SET_SIZE, .mode = 0600, .size = 5 };
	EXPECT_RC(vfs_node_setattr(f, &sa), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 0600);
	EXPECT_RC(st.size, 5);
	vfs_node_put(l);
	vfs_node_put(f);
	vfs_node_put(d);
	return 0;
}

/* -EROFS on a read-only mount (a ramfs, on every driver's "/"), and a
 * held file keeps its file system mounted. */
FS_TEST(vfs_at, read_only_ramfs)
{
	struct vnode *ro, *f;
	struct vfs_stat st;
	char buf[16];
	EXPECT_RC(vfs_mkdir("/ro", 0755), 0);
	EXPECT_RC(vfs_mount("/ro", "ramfs", NULL, FS_MOUNT_RDONLY), 0);
	EXPECT_NODE(ro, vfs_node_at(NULL, "/ro", true, &ro));
	EXPECT_RC(vfs_node_stat(ro, &st), 0);
	EXPECT(S_ISDIR(st.mode));
	struct vfs_setattr sa = { .mask = VFS_SET_MODE, .mode = 0700 };
	EXPECT_RC(vfs_node_setattr(ro, &sa), -EROFS);
	sa = (struct vfs_setattr){ .mask = VFS_SET_UID, .uid = 1 };
	EXPECT_RC(vfs_node_setattr(ro, &sa), -EROFS);
	sa = (struct vfs_setattr){ .mask = VFS_SET_MTIME, .mtime_ns = 0 };
	EXPECT_RC(vfs_node_setattr(ro, &sa), -EROFS);
	EXPECT_RC(vfs_openat(ro, "f", O_CREAT | O_WRONLY, 0644), -EROFS);
	EXPECT_RC(vfs_mkdirat(ro, "d", 0755), -EROFS);
	EXPECT_RC(vfs_mknodat(ro, "n", S_IFIFO | 0644, 0), -EROFS);
	EXPECT_RC(vfs_symlinkat("x", ro, "l"), -EROFS);
	int fd;
	EXPECT_FD(fd, vfs_node_open(ro, O_RDONLY | O_DIRECTORY));
	EXPECT_RC(vfs_close(fd), 0);
	/* Held, the file system stays mounted. */
	EXPECT_RC(vfs_unmount("/ro"), -EBUSY);
	vfs_node_put(ro);
	EXPECT_RC(vfs_unmount("/ro"), 0);

	/* A read-write ramfs, files made, held, then... */
	EXPECT_RC(vfs_mount("/ro", "ramfs", NULL, 0), 0);
	EXPECT_RC(put_file("/ro/f", "data"), 0);
	EXPECT_NODE(f, vfs_node_at(NULL, "/ro/f", true, &f));
	EXPECT_RC(vfs_unmount("/ro"), -EBUSY);
	EXPECT_RC(get_node(f, buf, sizeof(buf)), 4);
	vfs_node_put(f);
	EXPECT_RC(vfs_unmount("/ro"), 0);
	return 0;
}

#if VFS_TEST_EXT2
/* -EROFS on a read-only ext2: "/" remounted read-only with files on it. */
static int read_only_ext2_body(void)
{
	struct vnode *f, *d, *a;
	struct vfs_stat st;
	char buf[16];
	EXPECT_RC(vfs_mkdir("/d", 0750), 0);
	EXPECT_RC(put_file("/d/f", "hello"), 0);
	EXPECT_RC(vfs_mkdir("/d/sub", 0755), 0);
	EXPECT_RC(vfs_symlink("f", "/d/l"), 0);
	EXPECT_RC(vfs_unmount("/"), 0);
	EXPECT_RC(vfs_mount("/", "ext2", blkdev_get(0), FS_MOUNT_RDONLY), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	EXPECT_NODE(f, vfs_node_at(d, "f", true, &f));
	struct vfs_setattr sa = { .mask = VFS_SET_MODE, .mode = 0600 };
	EXPECT_RC(vfs_node_setattr(f, &sa), -EROFS);
	sa = (struct vfs_setattr){ .mask = VFS_SET_UID | VFS_SET_GID, .uid = 1, .gid = 1 };
	EXPECT_RC(vfs_node_setattr(f, &sa), -EROFS);
	sa = (struct vfs_setattr){ .mask = VFS_SET_SIZE, .size = 0 };
	EXPECT_RC(vfs_node_setattr(f, &sa), -EROFS);
	sa = (struct vfs_setattr){ .mask = VFS_SET_ATIME | VFS_SET_MTIME };
	EXPECT_RC(vfs_node_setattr(f, &sa), -EROFS);
	sa = (struct vfs_setattr){ .mask = VFS_SET_MODE, .mode = 0700 };
	EXPECT_RC(vfs_node_setattr(d, &sa), -EROFS);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 0644);
	EXPECT_RC(st.size, 5);
	EXPECT_RC(vfs_node_open(f, O_RDWR), -EROFS);
	EXPECT_RC(vfs_node_open(f, O_WRONLY | O_TRUNC), -EROFS);
	EXPECT_RC(get_node(f, buf, sizeof(buf)), 5);
	EXPECT(strcmp(buf, "hello") == 0);
	EXPECT_RC(vfs_node_link(f, d, "f2"), -EROFS);
	EXPECT_RC(vfs_openat(d, "new", O_CREAT | O_WRONLY, 0644), -EROFS);
	EXPECT_RC(vfs_openat(d, "f", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	EXPECT_RC(vfs_mkdirat(d, "new", 0755), -EROFS);
	EXPECT_RC(vfs_mknodat(d, "new", S_IFIFO | 0644, 0), -EROFS);
	EXPECT_RC(vfs_symlinkat("x", d, "new"), -EROFS);
	EXPECT_RC(vfs_unlinkat(d, "f"), -EROFS);
	EXPECT_RC(vfs_rmdirat(d, "sub"), -EROFS);
	EXPECT_RC(vfs_renameat(d, "f", d, "g"), -EROFS);
	EXPECT_NODE(a, vfs_node_at(d, "l", true, &a));
	EXPECT_RC(vfs_node_ino(a), vfs_node_ino(f));
	vfs_node_put(a);
	EXPECT_RC(vfs_unmount("/"), -EBUSY);
	vfs_node_put(f);
	vfs_node_put(d);
	return 0;               /* fs_case_main unmounts "/" */
}

Test(vfs_at, read_only_ext2_1k) { run_fs_case(FS_EXT2_1K, read_only_ext2_body); }
Test(vfs_at, read_only_ext2_4k) { run_fs_case(FS_EXT2_4K, read_only_ext2_body); }
#endif

/* ---- readlink, open, of, link ---- */

FS_TEST(vfs_at, readlink_open_of)
{
	struct vnode *d, *f, *l, *vn;
	struct vfs_stat st;
	char buf[64];
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(put_file("/d/f", "0123456789"), 0);
	EXPECT_RC(vfs_symlink("../d/f", "/d/l"), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	EXPECT_NODE(f, vfs_node_at(d, "f", true, &f));
	EXPECT_NODE(l, vfs_node_at(d, "l", false, &l));

	/* vfs_node_readlink: the target's length, up to size bytes of it. */
	memset(buf, 0, sizeof(buf));
	EXPECT_RC(vfs_node_readlink(l, buf, sizeof(buf)), 6);
	EXPECT(memcmp(buf, "../d/f", 6) == 0);
	EXPECT_RC(vfs_node_readlink(l, buf, 3), 3);
	EXPECT(memcmp(buf, "../", 3) == 0);
	EXPECT_RC(vfs_node_readlink(f, buf, sizeof(buf)), -EINVAL);
	EXPECT_RC(vfs_node_readlink(d, buf, sizeof(buf)), -EINVAL);
	EXPECT_RC(vfs_symlinkat("/a/much/longer/target", d, "l2"), 0);
	EXPECT_NODE(vn, vfs_node_at(d, "l2", false, &vn));
	EXPECT_RC(vfs_node_readlink(vn, buf, sizeof(buf)), 21);
	EXPECT(memcmp(buf, "/a/much/longer/target", 21) == 0);
	vfs_node_put(vn);

	/* vfs_node_open: the flags of vfs_open. */
	int fd, fd2;
	EXPECT_RC(vfs_node_open(f, O_RDONLY | O_DIRECTORY), -ENOTDIR);
	EXPECT_RC(vfs_node_open(d, O_WRONLY), -EISDIR);
	EXPECT_RC(vfs_node_open(d, O_RDWR), -EISDIR);
	EXPECT_RC(vfs_node_open(f, O_ACCMODE), -EINVAL);
	EXPECT_FD(fd, vfs_node_open(f, O_RDONLY));
	EXPECT_RC(vfs_read(fd, buf, 4), 4);
	EXPECT(memcmp(buf, "0123", 4) == 0);
	EXPECT_RC(vfs_write(fd, "x", 1), -EBADF);
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.ino, vfs_node_ino(f));
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_FD(fd, vfs_node_open(f, O_WRONLY | O_APPEND));
	EXPECT_RC(vfs_write(fd, "AB", 2), 2);
	EXPECT_RC(vfs_read(fd, buf, 1), -EBADF);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(get_file("/d/f", buf, sizeof(buf)), 12);
	EXPECT(strcmp(buf, "0123456789AB") == 0);
	EXPECT_FD(fd, vfs_node_open(f, O_RDWR | O_TRUNC));
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.size, 0);
	EXPECT_RC(vfs_write(fd, "new", 3), 3);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(get_file("/d/f", buf, sizeof(buf)), 3);
	EXPECT(strcmp(buf, "new") == 0);
	EXPECT_FD(fd, vfs_node_open(d, O_RDONLY | O_DIRECTORY));
	EXPECT_RC(vfs_read(fd, buf, 1), -EISDIR);
	EXPECT_RC(vfs_close(fd), 0);

	/* vfs_node_of: the file open as fd, which outlives the fd. */
	EXPECT_FD(fd, vfs_open("/d/f", O_RDONLY, 0));
	EXPECT_FD(fd2, vfs_open("/d", O_RDONLY | O_DIRECTORY, 0));
	EXPECT_NODE(vn, vfs_node_of(fd, &vn));
	EXPECT_RC(vfs_node_ino(vn), vfs_node_ino(f));
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(vfs_node_ino(vn), st.ino);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_node_stat(vn, &st), 0);
	EXPECT_RC(st.size, 3);
	vfs_node_put(vn);
	/* ... and a directory's, usable as a starting directory. */
	EXPECT_NODE(vn, vfs_node_of(fd2, &vn));
	EXPECT_RC(vfs_node_ino(vn), vfs_node_ino(d));
	EXPECT_RC(vfs_close(fd2), 0);
	struct vnode *a;
	EXPECT_NODE(a, vfs_node_at(vn, "f", true, &a));
	EXPECT_RC(vfs_node_ino(a), vfs_node_ino(f));
	vfs_node_put(a);
	vfs_node_put(vn);
	EXPECT_RC(vfs_node_of(fd, &vn), -EBADF);
	EXPECT_RC(vfs_node_of(-1, &vn), -EBADF);

	vfs_node_put(l);
	vfs_node_put(f);
	vfs_node_put(d);
	return 0;
}

FS_TEST(vfs_at, node_link)
{
	struct vnode *d, *e, *f, *sub, *l, *a;
	struct vfs_stat st;
	char buf[16];
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(vfs_mkdir("/e", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d/sub", 0755), 0);
	EXPECT_RC(put_file("/d/f", "linked"), 0);
	EXPECT_RC(vfs_symlink("f", "/d/l"), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	EXPECT_NODE(e, vfs_node_at(NULL, "/e", true, &e));
	EXPECT_NODE(f, vfs_node_at(d, "f", true, &f));
	EXPECT_NODE(sub, vfs_node_at(d, "sub", true, &sub));

	/* A new name in another held directory. */
	EXPECT_RC(vfs_node_link(f, e, "g"), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.nlink, 2);
	EXPECT_RC(vfs_stat("/e/g", &st), 0);
	EXPECT_RC(st.ino, vfs_node_ino(f));
	EXPECT_RC(st.nlink, 2);
	EXPECT_RC(get_file("/e/g", buf, sizeof(buf)), 6);
	/* The same directory; an absolute path; dir NULL. */
	EXPECT_RC(vfs_node_link(f, d, "f2"), 0);
	EXPECT_RC(vfs_node_link(f, d, "/e/h"), 0);
	EXPECT_RC(vfs_node_link(f, NULL, "top"), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.nlink, 5);
	EXPECT_RC(vfs_stat("/top", &st), 0);
	EXPECT_RC(st.ino, vfs_node_ino(f));
	EXPECT_RC(vfs_stat("/d/f2", &st), 0);
	EXPECT_RC(st.ino, vfs_node_ino(f));
	/* ".." stays inside the held directory here too. */
	EXPECT_RC(vfs_node_link(f, sub, "../up"), 0);
	EXPECT_RC(vfs_stat("/d/sub/up", &st), 0);
	EXPECT_RC(st.ino, vfs_node_ino(f));
	EXPECT_RC(vfs_stat("/d/up", &st), -ENOENT);
	EXPECT_RC(vfs_unlink("/d/sub/up"), 0);

	/* Errors. */
	EXPECT_RC(vfs_node_link(f, e, "g"), -EEXIST);
	EXPECT_RC(vfs_node_link(f, d, "f"), -EEXIST);
	EXPECT_RC(vfs_node_link(f, d, "sub"), -EEXIST);
	EXPECT_RC(vfs_node_link(f, d, "nodir/x"), -ENOENT);
	EXPECT_RC(vfs_node_link(f, d, "f/x"), -ENOTDIR);
	EXPECT_RC(vfs_node_link(sub, e, "sub2"), -EPERM);
	EXPECT_RC(vfs_node_link(d, NULL, "d2"), -EPERM);
	EXPECT_RC(vfs_stat("/e/sub2", &st), -ENOENT);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.nlink, 5);
	/* A link held unfollowed: the new name is a link too. */
	EXPECT_NODE(l, vfs_node_at(d, "l", false, &l));
	EXPECT_RC(vfs_node_link(l, d, "l2"), 0);
	EXPECT_RC(vfs_lstat("/d/l2", &st), 0);
	EXPECT(S_ISLNK(st.mode));
	EXPECT_RC(st.ino, vfs_node_ino(l));
	vfs_node_put(l);

	/* Names removed: the count follows, and the file lives on through the last. */
	EXPECT_RC(vfs_unlinkat(d, "f"), 0);
	EXPECT_RC(vfs_unlinkat(e, "g"), 0);
	EXPECT_RC(vfs_unlinkat(NULL, "top"), 0);
	EXPECT_RC(vfs_unlinkat(e, "h"), 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.nlink, 1);
	EXPECT_NODE(a, vfs_node_at(d, "f2", true, &a));
	EXPECT_RC(vfs_node_ino(a), vfs_node_ino(f));
	vfs_node_put(a);
	vfs_node_put(sub);
	vfs_node_put(f);
	vfs_node_put(e);
	vfs_node_put(d);
	EXPECT_RC(get_file("/d/f2", buf, sizeof(buf)), 6);
	EXPECT(strcmp(buf, "linked") == 0);
	return 0;
}

/* ---- the *at calls ---- */

FS_TEST(vfs_at, create_at)
{
	struct vnode *d, *a;
	struct vfs_stat st;
	char buf[32];
	int fd;
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(put_file("/d/f", "exists"), 0);
	EXPECT_RC(put_file("/f", "top"), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));

	/* vfs_openat */
	EXPECT_FD(fd, vfs_openat(d, "new", O_CREAT | O_EXCL | O_RDWR, 0640));
	EXPECT_RC(vfs_write(fd, "made at d", 9), 9);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_stat("/d/new", &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 0640);
	EXPECT_RC(vfs_stat("/new", &st), -ENOENT);
	EXPECT_RC(get_file("/d/new", buf, sizeof(buf)), 9);
	EXPECT_RC(vfs_openat(d, "new", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	EXPECT_RC(vfs_openat(d, "f", O_CREAT | O_EXCL | O_RDONLY, 0644), -EEXIST);
	EXPECT_RC(get_file("/d/f", buf, sizeof(buf)), 6);     /* untouched */
	EXPECT_FD(fd, vfs_openat(d, "f", O_RDONLY, 0));
	EXPECT_RC(vfs_read(fd, buf, sizeof(buf)), 6);
	EXPECT(memcmp(buf, "exists", 6) == 0);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_FD(fd, vfs_openat(d, "f", O_CREAT | O_WRONLY | O_TRUNC, 0600));
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_stat("/d/f", &st), 0);
	EXPECT_RC(st.size, 0);
	EXPECT_RC(st.mode, S_IFREG | 0644);         /* an existing file keeps its mode */
	EXPECT_FD(fd, vfs_openat(d, "/f", O_RDONLY, 0));         /* absolute: from "/" */
	EXPECT_RC(vfs_read(fd, buf, sizeof(buf)), 3);
	EXPECT(memcmp(buf, "top", 3) == 0);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_FD(fd, vfs_openat(NULL, "f", O_RDONLY, 0));       /* dir NULL: from "/" */
	EXPECT_RC(vfs_read(fd, buf, sizeof(buf)), 3);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_FD(fd, vfs_openat(d, "../up", O_CREAT | O_WRONLY, 0644));   /* d/up */
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_stat("/d/up", &st), 0);
	EXPECT_RC(vfs_stat("/up", &st), -ENOENT);
	EXPECT_RC(vfs_openat(d, "nope", O_RDONLY, 0), -ENOENT);
	EXPECT_RC(vfs_openat(d, "nodir/x", O_CREAT | O_WRONLY, 0644), -ENOENT);
	EXPECT_RC(vfs_openat(d, "f/x", O_CREAT | O_WRONLY, 0644), -ENOTDIR);
	EXPECT_RC(vfs_openat(d, "f", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
	EXPECT_RC(vfs_openat(d, ".", O_WRONLY, 0), -EISDIR);
	EXPECT_FD(fd, vfs_openat(d, ".", O_RDONLY | O_DIRECTORY, 0));
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.ino, vfs_node_ino(d));
	EXPECT_RC(vfs_close(fd), 0);

	/* vfs_mkdirat */
	EXPECT_RC(vfs_mkdirat(d, "sub", 0700), 0);
	EXPECT_RC(vfs_stat("/d/sub", &st), 0);
	EXPECT_RC(st.mode, S_IFDIR | 0700);
	EXPECT_RC(vfs_stat("/sub", &st), -ENOENT);
	EXPECT_RC(vfs_mkdirat(d, "sub", 0755), -EEXIST);
	EXPECT_RC(vfs_mkdirat(d, "f", 0755), -EEXIST);
	EXPECT_RC(vfs_mkdirat(d, ".", 0755), -EEXIST);
	EXPECT_RC(vfs_mkdirat(d, "..", 0755), -EEXIST);
	EXPECT_RC(vfs_mkdirat(d, "sub/deeper/", 0755), 0);
	EXPECT_RC(vfs_stat("/d/sub/deeper", &st), 0);
	EXPECT_RC(vfs_mkdirat(d, "nodir/x", 0755), -ENOENT);
	EXPECT_RC(vfs_mkdirat(NULL, "top", 0755), 0);
	EXPECT_RC(vfs_stat("/top", &st), 0);
	EXPECT_RC(vfs_mkdirat(d, "/top", 0755), -EEXIST);
	EXPECT_RC(vfs_stat("/d", &st), 0);
	EXPECT_RC(st.nlink, 3);

	/* vfs_mknodat */
	EXPECT_RC(vfs_mknodat(d, "fifo", S_IFIFO | 0600, 0), 0);
	EXPECT_RC(vfs_stat("/d/fifo", &st), 0);
	EXPECT_RC(st.mode, S_IFIFO | 0600);
	EXPECT_RC(vfs_mknodat(d, "chr", S_IFCHR | 0600, (1 << 8) | 3), 0);
	EXPECT_RC(vfs_stat("/d/chr", &st), 0);
	EXPECT_RC(st.mode, S_IFCHR | 0600);
	EXPECT_RC(st.rdev, (1 << 8) | 3);
	EXPECT_RC(vfs_mknodat(d, "reg", S_IFREG | 0644, 0), 0);
	EXPECT_RC(vfs_stat("/d/reg", &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 0644);
	EXPECT_RC(st.size, 0);
	EXPECT_RC(vfs_mknodat(d, "fifo", S_IFIFO | 0600, 0), -EEXIST);
	EXPECT_RC(vfs_mknodat(d, "dir", S_IFDIR | 0755, 0), -EPERM);

	/* vfs_symlinkat: the target is stored as given. */
	EXPECT_RC(vfs_symlinkat("f", d, "sl"), 0);
	EXPECT_RC(vfs_readlink("/d/sl", buf, sizeof(buf)), 1);
	EXPECT(buf[0] == 'f');
	EXPECT_NODE(a, vfs_node_at(d, "sl", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_of("/d/f"));
	vfs_node_put(a);
	EXPECT_RC(vfs_symlinkat("/f", d, "abs"), 0);
	EXPECT_NODE(a, vfs_node_at(d, "abs", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_of("/f"));
	vfs_node_put(a);
	EXPECT_RC(vfs_symlinkat("x", d, "sl"), -EEXIST);
	EXPECT_RC(vfs_symlinkat("x", d, "f"), -EEXIST);
	EXPECT_RC(vfs_symlinkat("", d, "empty"), -ENOENT);
	EXPECT_RC(vfs_symlinkat("x", d, "nodir/l"), -ENOENT);
	vfs_node_put(d);
	return 0;
}

FS_TEST(vfs_at, remove_at)
{
	struct vnode *d, *a;
	struct vfs_stat st;
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d/empty", 0755), 0);
	EXPECT_RC(vfs_mkdir("/d/full", 0755), 0);
	EXPECT_RC(put_file("/d/full/x", "x"), 0);
	EXPECT_RC(put_file("/d/f", "f"), 0);
	EXPECT_RC(put_file("/f", "top"), 0);
	EXPECT_RC(vfs_symlink("empty", "/d/l"), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));

	/* vfs_unlinkat */
	EXPECT_RC(vfs_unlinkat(d, "empty"), -EISDIR);
	EXPECT_RC(vfs_unlinkat(d, "full"), -EISDIR);
	EXPECT_RC(vfs_unlinkat(d, "."), -EISDIR);
	EXPECT_RC(vfs_unlinkat(d, "nope"), -ENOENT);
	EXPECT_RC(vfs_unlinkat(d, "f/x"), -ENOTDIR);
	EXPECT_RC(vfs_unlinkat(d, "f/"), -ENOTDIR);
	EXPECT_RC(vfs_unlinkat(d, "l"), 0);        /* the link, not its target */
	EXPECT_RC(vfs_lstat("/d/l", &st), -ENOENT);
	EXPECT_RC(vfs_stat("/d/empty", &st), 0);
	EXPECT_RC(vfs_unlinkat(d, "f"), 0);
	EXPECT_RC(vfs_stat("/d/f", &st), -ENOENT);
	EXPECT_RC(vfs_stat("/f", &st), 0);          /* not the one at the top */
	EXPECT_RC(vfs_unlinkat(d, "f"), -ENOENT);
	EXPECT_RC(vfs_unlinkat(d, "/f"), 0);        /* absolute: from "/" */
	EXPECT_RC(vfs_stat("/f", &st), -ENOENT);
	EXPECT_RC(vfs_unlinkat(d, "full/x"), 0);

	/* vfs_rmdirat */
	EXPECT_RC(put_file("/d/full/y", "y"), 0);
	EXPECT_RC(vfs_rmdirat(d, "full"), -ENOTEMPTY);
	EXPECT_RC(vfs_stat("/d/full/y", &st), 0);
	EXPECT_RC(vfs_rmdirat(d, "full/y"), -ENOTDIR);
	EXPECT_RC(vfs_rmdirat(d, "nope"), -ENOENT);
	EXPECT_RC(vfs_rmdirat(d, "."), -EINVAL);
	EXPECT_RC(vfs_rmdirat(d, "empty"), 0);
	EXPECT_RC(vfs_stat("/d/empty", &st), -ENOENT);
	EXPECT_RC(vfs_rmdirat(d, "empty"), -ENOENT);
	EXPECT_NODE(a, vfs_node_at(d, "full", true, &a));
	EXPECT_RC(vfs_unlinkat(a, "y"), 0);
	EXPECT_RC(vfs_rmdirat(d, "full/"), 0);
	vfs_node_put(a);
	EXPECT_RC(vfs_stat("/d", &st), 0);
	EXPECT_RC(st.nlink, 2);
	vfs_node_put(d);
	EXPECT_RC(vfs_rmdirat(NULL, "d"), 0);
	EXPECT_RC(vfs_stat("/d", &st), -ENOENT);
	return 0;
}

FS_TEST(vfs_at, rename_at)
{
	struct vnode *src, *dst, *f, *sub, *a;
	struct vfs_stat st;
	char buf[32];
	EXPECT_RC(vfs_mkdir("/src", 0755), 0);
	EXPECT_RC(vfs_mkdir("/dst", 0755), 0);
	EXPECT_RC(vfs_mkdir("/src/dir", 0755), 0);
	EXPECT_RC(vfs_mkdir("/src/dir/sub", 0755), 0);
	EXPECT_RC(put_file("/src/f", "moving"), 0);
	EXPECT_RC(put_file("/dst/old", "replaced"), 0);
	EXPECT_NODE(src, vfs_node_at(NULL, "/src", true, &src));
	EXPECT_NODE(dst, vfs_node_at(NULL, "/dst", true, &dst));
	EXPECT_NODE(f, vfs_node_at(src, "f", true, &f));
	uint64_t ino = vfs_node_ino(f);

	/* Between two held directories; a held file keeps working. */
	EXPECT_RC(vfs_renameat(src, "f", dst, "g"), 0);
	EXPECT_RC(vfs_stat("/src/f", &st), -ENOENT);
	EXPECT_RC(vfs_stat("/dst/g", &st), 0);
	EXPECT_RC(st.ino, ino);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.nlink, 1);
	EXPECT_RC(get_node(f, buf, sizeof(buf)), 6);
	EXPECT(strcmp(buf, "moving") == 0);
	/* Over an existing file, which is replaced: held, it lives on. */
	struct vnode *old;
	struct vfs_statfs before, after;
	EXPECT_NODE(old, vfs_node_at(dst, "old", true, &old));
	EXPECT_RC(vfs_statfs("/", &before), 0);
	EXPECT_RC(vfs_renameat(dst, "g", dst, "old"), 0);
	EXPECT_RC(vfs_node_stat(old, &st), 0);
	EXPECT_RC(st.nlink, 0);
	EXPECT_RC(get_node(old, buf, sizeof(buf)), 8);
	EXPECT(strcmp(buf, "replaced") == 0);
	EXPECT_RC(vfs_statfs("/", &after), 0);
	EXPECT_RC(after.ffree, before.ffree);
	vfs_node_put(old);
	EXPECT_RC(vfs_statfs("/", &after), 0);
	EXPECT_RC(after.ffree, before.ffree + 1);
	EXPECT_RC(vfs_stat("/dst/g", &st), -ENOENT);
	EXPECT_RC(get_file("/dst/old", buf, sizeof(buf)), 6);
	EXPECT(strcmp(buf, "moving") == 0);
	EXPECT_RC(vfs_stat("/dst/old", &st), 0);
	EXPECT_RC(st.ino, ino);
	/* Back, with dir NULL and absolute paths. */
	EXPECT_RC(vfs_renameat(NULL, "dst/old", src, "/src/f"), 0);
	EXPECT_RC(vfs_stat("/src/f", &st), 0);
	EXPECT_RC(st.ino, ino);
	EXPECT_RC(vfs_renameat(src, "nope", dst, "x"), -ENOENT);
	EXPECT_RC(vfs_renameat(src, "f", dst, "nodir/x"), -ENOENT);

	/* Directories: between held directories, and the held one follows. */
	EXPECT_NODE(sub, vfs_node_at(src, "dir/sub", true, &sub));
	EXPECT_RC(vfs_renameat(src, "dir", src, "dir/sub/x"), -EINVAL);
	EXPECT_RC(vfs_renameat(src, "dir", sub, "x"), -EINVAL);
	EXPECT_RC(vfs_renameat(src, "dir", src, "dir/x"), -EINVAL);
	EXPECT_RC(vfs_stat("/src/dir/sub", &st), 0);
	EXPECT_RC(vfs_renameat(src, "dir", dst, "f"), 0);
	EXPECT_RC(vfs_stat("/dst/f/sub", &st), 0);
	EXPECT_RC(st.ino, vfs_node_ino(sub));
	EXPECT_RC(vfs_stat("/src", &st), 0);
	EXPECT_RC(st.nlink, 2);
	EXPECT_RC(vfs_stat("/dst", &st), 0);
	EXPECT_RC(st.nlink, 3);
	EXPECT_NODE(a, vfs_node_at(NULL, "/dst/f/sub/..", true, &a));
	EXPECT_RC(vfs_node_ino(a), ino_of("/dst/f"));
	vfs_node_put(a);
	/* A file into the held subdirectory, now elsewhere. */
	EXPECT_RC(vfs_renameat(src, "f", sub, "moved"), 0);
	EXPECT_RC(vfs_stat("/dst/f/sub/moved", &st), 0);
	EXPECT_RC(st.ino, ino);
	/* ".." stays inside a held directory here too. */
	EXPECT_RC(vfs_renameat(sub, "moved", sub, "../../back"), 0);
	EXPECT_RC(vfs_stat("/dst/f/sub/back", &st), 0);
	EXPECT_RC(vfs_stat("/dst/back", &st), -ENOENT);
	/* A non-empty directory is not replaced; an empty one is. */
	EXPECT_RC(vfs_mkdirat(src, "e", 0755), 0);
	EXPECT_RC(vfs_renameat(src, "e", dst, "f"), -ENOTEMPTY);
	EXPECT_RC(vfs_renameat(dst, "f", src, "e"), 0);
	EXPECT_RC(vfs_stat("/src/e/sub/back", &st), 0);
	EXPECT_RC(vfs_stat("/dst/f", &st), -ENOENT);
	EXPECT_RC(vfs_renameat(sub, "back", src, "e"), -EISDIR);
	EXPECT_RC(put_file("/src/plain", "p"), 0);
	EXPECT_RC(vfs_renameat(src, "e", src, "plain"), -ENOTDIR);
	vfs_node_put(sub);
	vfs_node_put(f);
	vfs_node_put(dst);
	vfs_node_put(src);
	return 0;
}

/* Many holds of many files, all put: nothing stays held (the unmount after
 * each run checks), and a file is held again after its last put. */
FS_TEST(vfs_at, hold_put_balance)
{
	enum { N = 64 };
	static struct vnode *held[N][3];
	char name[32];
	struct vnode *d;
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	for (int i = 0; i < N; i++) {
		ksnprintf(name, sizeof(name), "f%02d", i);
		int fd;
		EXPECT_FD(fd, vfs_openat(d, name, O_CREAT | O_WRONLY, 0644));
		EXPECT_NODE(held[i][0], vfs_node_of(fd, &held[i][0]));
		EXPECT_RC(vfs_close(fd), 0);
		EXPECT_NODE(held[i][1], vfs_node_at(d, name, false, &held[i][1]));
		held[i][2] = held[i][1];
		vfs_node_hold(held[i][2]);
		EXPECT_RC(vfs_node_ino(held[i][0]), vfs_node_ino(held[i][1]));
	}
	for (int i = 0; i < N; i++) {
		ksnprintf(name, sizeof(name), "/d/f%02d", i);
		EXPECT_RC(vfs_node_ino(held[i][2]), ino_of(name));
		if (i % 2)
			EXPECT_RC(vfs_unlinkat(d, name + 3), 0);
		for (int k = 0; k < 3; k++)
			vfs_node_put(held[i][k]);
	}
	for (int i = 0; i < N; i += 2) {
		struct vnode *a;
		ksnprintf(name, sizeof(name), "f%02d", i);
		EXPECT_NODE(a, vfs_node_at(d, name, true, &a));
		EXPECT_RC(vfs_unlinkat(d, name), 0);
		vfs_node_put(a);
	}
	vfs_node_put(d);
	EXPECT_RC(vfs_rmdir("/d"), 0);
	return 0;
}

struct dir_listing {
	int count;
};

static int count_fill(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	((struct dir_listing *)ctx)->count++;
	return 0;
}

/* A held file that is not a directory is no starting directory: every
 * relative path from it is -ENOTDIR, and nothing is made, removed or opened
 * in it. */
FS_TEST(vfs_at, file_as_dir)
{
	struct vnode *d, *f, *l, *a;
	struct vfs_stat st;
	char buf[32];
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(put_file("/d/f", "a plain file, not a directory"), 0);
	EXPECT_RC(vfs_symlink("/d", "/d/l"), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	EXPECT_NODE(f, vfs_node_at(d, "f", true, &f));
	EXPECT_NODE(l, vfs_node_at(d, "l", false, &l));
	struct vnode *not_dirs[2] = { f, l };
	for (int i = 0; i < 2; i++) {
		struct vnode *nd = not_dirs[i];
		EXPECT_RC(vfs_node_at(nd, "x", true, &a), -ENOTDIR);
		EXPECT_RC(vfs_node_at(nd, "x/..", true, &a), -ENOTDIR);
		EXPECT_RC(vfs_openat(nd, "x", O_CREAT | O_WRONLY, 0644), -ENOTDIR);
		EXPECT_RC(vfs_openat(nd, "x", O_RDONLY, 0), -ENOTDIR);
		EXPECT_RC(vfs_mkdirat(nd, "x", 0755), -ENOTDIR);
		EXPECT_RC(vfs_mknodat(nd, "x", S_IFIFO | 0644, 0), -ENOTDIR);
		EXPECT_RC(vfs_symlinkat("t", nd, "x"), -ENOTDIR);
		EXPECT_RC(vfs_unlinkat(nd, "x"), -ENOTDIR);
		EXPECT_RC(vfs_rmdirat(nd, "x"), -ENOTDIR);
		EXPECT_RC(vfs_renameat(d, "f", nd, "x"), -ENOTDIR);
		EXPECT_RC(vfs_renameat(nd, "x", d, "y"), -ENOTDIR);
		EXPECT_RC(vfs_node_link(f, nd, "x"), -ENOTDIR);
	}
	/* Nothing was made: the directory and the file are as they were. */
	struct dir_listing list = { 0 };
	int fd;
	EXPECT_FD(fd, vfs_openat(d, ".", O_RDONLY | O_DIRECTORY, 0));
	EXPECT_RC(vfs_readdir(fd, count_fill, &list), 0);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(list.count, 4);                   /* ".", "..", "f", "l" */
	EXPECT_RC(get_node(f, buf, sizeof(buf)), 29);
	EXPECT(memcmp(buf, "a plain file", 12) == 0);
	EXPECT_RC(vfs_node_stat(f, &st), 0);
	EXPECT_RC(st.nlink, 1);
	EXPECT_RC(st.size, 29);
	vfs_node_put(l);
	vfs_node_put(f);
	vfs_node_put(d);
	return 0;
}

/* The same for "." and "..", which name no entry: from a file they are
 * -ENOTDIR too (as openat(2) from a file's descriptor), not the file itself
 * taken for a directory. */
FS_TEST(vfs_at, file_as_dir_dots)
{
	struct vnode *d, *f, *l, *a;
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(put_file("/d/f", "a plain file, not a directory"), 0);
	EXPECT_RC(vfs_symlink("/d", "/d/l"), 0);
	EXPECT_NODE(d, vfs_node_at(NULL, "/d", true, &d));
	EXPECT_NODE(f, vfs_node_at(d, "f", true, &f));
	EXPECT_NODE(l, vfs_node_at(d, "l", false, &l));
	struct vnode *not_dirs[2] = { f, l };
	for (int i = 0; i < 2; i++) {
		struct vnode *nd = not_dirs[i];
		EXPECT_RC(vfs_node_at(nd, ".", true, &a), -ENOTDIR);
		EXPECT_RC(vfs_node_at(nd, "..", false, &a), -ENOTDIR);
		EXPECT_RC(vfs_node_at(nd, "./", true, &a), -ENOTDIR);
		EXPECT_RC(vfs_openat(nd, ".", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
		EXPECT_RC(vfs_openat(nd, ".", O_RDONLY, 0), -ENOTDIR);
		EXPECT_RC(vfs_openat(nd, "..", O_RDONLY, 0), -ENOTDIR);
	}
	vfs_node_put(l);
	vfs_node_put(f);
	vfs_node_put(d);
	return 0;
}
