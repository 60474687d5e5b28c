/*
 * test_vfs.c: files and descriptors through the VFS: open flags, read,
 * write, seek, truncate, stat, and their error paths, on every driver.
 */
#include "test_vfs.h"

FS_TEST(vfs_file, create_write_read)
{
	int fd;
	char buf[64];
	struct vfs_stat st;
	EXPECT_FD(fd, vfs_open("/hello", O_CREAT | O_RDWR, 0640));
	EXPECT_RC(vfs_write(fd, "hello, world", 12), 12);
	EXPECT_RC(vfs_seek(fd, 0, SEEK_CUR), 12);
	EXPECT_RC(vfs_seek(fd, 7, SEEK_SET), 7);
	EXPECT_RC(vfs_read(fd, buf, sizeof(buf)), 5);
	EXPECT(memcmp(buf, "world", 5) == 0);
	EXPECT_RC(vfs_read(fd, buf, sizeof(buf)), 0);
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.size, 12);
	EXPECT_RC(st.mode, S_IFREG | 0640);
	EXPECT_RC(st.nlink, 1);
	EXPECT(st.mtime_ns > 1600000000ll * 1000000000ll);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_close(fd), -EBADF);
	EXPECT_RC(vfs_read(fd, buf, 1), -EBADF);
	EXPECT_RC(vfs_write(-1, buf, 1), -EBADF);
	EXPECT_RC(vfs_fstat(100000, &st), -EBADF);
	EXPECT_RC(vfs_stat("/hello", &st), 0);
	EXPECT_RC(st.size, 12);
	EXPECT_RC(get_file("/hello", buf, sizeof(buf)), 12);
	EXPECT(strcmp(buf, "hello, world") == 0);
	return 0;
}

FS_TEST(vfs_file, open_errors)
{
	int fd;
	EXPECT_RC(vfs_open("/nope", O_RDONLY, 0), -ENOENT);
	EXPECT_RC(vfs_open("", O_RDONLY, 0), -ENOENT);
	EXPECT_RC(vfs_open("/nodir/x", O_CREAT | O_RDWR, 0644), -ENOENT);
	EXPECT_RC(put_file("/f", "x"), 0);
	EXPECT_RC(vfs_open("/f", O_CREAT | O_EXCL | O_RDWR, 0644), -EEXIST);
	EXPECT_RC(vfs_open("/f/", O_RDONLY, 0), -ENOTDIR);
	EXPECT_RC(vfs_open("/f/x", O_RDONLY, 0), -ENOTDIR);
	EXPECT_RC(vfs_open("/f/x", O_CREAT | O_RDWR, 0644), -ENOTDIR);
	EXPECT_RC(vfs_open("/f", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
	EXPECT_RC(vfs_open("/new/", O_CREAT | O_RDWR, 0644), -EISDIR);
	EXPECT_RC(vfs_open("/f", O_ACCMODE, 0), -EINVAL);
	EXPECT_RC(vfs_mkdir("/d", 0755), 0);
	EXPECT_RC(vfs_open("/d", O_WRONLY, 0), -EISDIR);
	EXPECT_RC(vfs_open("/d", O_RDWR, 0), -EISDIR);
	EXPECT_RC(vfs_open("/d", O_CREAT | O_RDONLY, 0644), -EISDIR);
	EXPECT_RC(vfs_open("/d", O_CREAT | O_EXCL | O_RDONLY, 0644), -EEXIST);
	EXPECT_RC(vfs_open("/", O_WRONLY, 0), -EISDIR);
	EXPECT_FD(fd, vfs_open("/d/", O_RDONLY | O_DIRECTORY, 0));
	char c;
	EXPECT_RC(vfs_read(fd, &c, 1), -EISDIR);
	EXPECT_RC(vfs_write(fd, &c, 1), -EBADF);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_FD(fd, vfs_open("/f", O_RDONLY, 0));
	EXPECT_RC(vfs_write(fd, "y", 1), -EBADF);
	EXPECT_RC(vfs_ftruncate(fd, 0), -EINVAL);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_FD(fd, vfs_open("/f", O_WRONLY, 0));
	EXPECT_RC(vfs_read(fd, &c, 1), -EBADF);
	EXPECT_RC(vfs_close(fd), 0);
	/* A fresh file with O_CREAT|O_EXCL works, and gets the mode asked. */
	struct vfs_stat st;
	EXPECT_FD(fd, vfs_open("/g", O_CREAT | O_EXCL | O_WRONLY, 0600));
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.mode, S_IFREG | 0600);
	EXPECT_RC(vfs_close(fd), 0);
	return 0;
}

FS_TEST(vfs_file, trunc_append_seek)
{
	int fd, fd2;
	char buf[64];
	EXPECT_RC(put_file("/a", "0123456789"), 0);
	EXPECT_FD(fd, vfs_open("/a", O_WRONLY | O_APPEND, 0));
	EXPECT_FD(fd2, vfs_open("/a", O_RDWR, 0));
	EXPECT_RC(vfs_write(fd2, "AB", 2), 2);          /* at 0: overwrite */
	EXPECT_RC(vfs_write(fd, "xy", 2), 2);           /* at the end */
	EXPECT_RC(vfs_seek(fd, 0, SEEK_SET), 0);
	EXPECT_RC(vfs_write(fd, "z", 1), 1);            /* still at the end */
	EXPECT_RC(vfs_seek(fd, 0, SEEK_CUR), 13);
	EXPECT_RC(get_file("/a", buf, sizeof(buf)), 13);
	EXPECT(strcmp(buf, "AB23456789xyz") == 0);
	EXPECT_RC(vfs_seek(fd2, -3, SEEK_END), 10);
	EXPECT_RC(vfs_read(fd2, buf, 3), 3);
	EXPECT(memcmp(buf, "xyz", 3) == 0);
	EXPECT_RC(vfs_seek(fd2, -1, SEEK_SET), -EINVAL);
	EXPECT_RC(vfs_seek(fd2, -100, SEEK_END), -EINVAL);
	EXPECT_RC(vfs_seek(fd2, 0, 42), -EINVAL);
	EXPECT_RC(vfs_seek(fd2, 1, SEEK_CUR), 14);
	/* A write past the end leaves a hole that reads as zeros. */
	EXPECT_RC(vfs_seek(fd2, 20000, SEEK_SET), 20000);
	EXPECT_RC(vfs_write(fd2, "E", 1), 1);
	EXPECT_RC(vfs_pread(fd2, buf, 4, 19998), 3);
	EXPECT(memcmp(buf, "\0\0E", 3) == 0);
	EXPECT_RC(vfs_pread(fd2, buf, 3, 13), 3);
	EXPECT(memcmp(buf, "\0\0\0", 3) == 0);
	EXPECT_RC(vfs_pwrite(fd2, "PQ", 2, 5), 2);
	EXPECT_RC(vfs_pread(fd2, buf, 4, 4), 4);
	EXPECT(memcmp(buf, "4PQ7", 4) == 0);
	EXPECT_RC(vfs_seek(fd2, 0, SEEK_CUR), 20001);   /* p* keep the position */
	/* ftruncate shrinks and grows; the grown part reads as zeros. */
	EXPECT_RC(vfs_ftruncate(fd2, 4), 0);
	EXPECT_RC(vfs_ftruncate(fd2, 8), 0);
	EXPECT_RC(vfs_pread(fd2, buf, 64, 0), 8);
	EXPECT(memcmp(buf, "AB23\0\0\0\0", 8) == 0);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_close(fd2), 0);
	/* O_TRUNC empties; O_RDONLY|O_TRUNC on a read-write mount too. */
	EXPECT_FD(fd, vfs_open("/a", O_RDWR | O_TRUNC, 0));
	struct vfs_stat st;
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.size, 0);
	EXPECT_RC(vfs_close(fd), 0);
	/* truncate by path */
	EXPECT_RC(put_file("/b", "hello"), 0);
	EXPECT_RC(vfs_truncate("/b", 2), 0);
	EXPECT_RC(get_file("/b", buf, sizeof(buf)), 2);
	EXPECT_RC(vfs_truncate("/", 0), -EISDIR);
	EXPECT_RC(vfs_truncate("/nope", 0), -ENOENT);
	return 0;
}

FS_TEST(vfs_file, large_file_and_efbig)
{
	int fd;
	static char block[65536];
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (char)(i * 7 + i / 256);
	EXPECT_FD(fd, vfs_open("/big", O_CREAT | O_RDWR, 0644));
	for (int i = 0; i < 40; i++)
		EXPECT_RC(vfs_write(fd, block, sizeof(block)), sizeof(block));
	static char back[65536];
	for (int i = 39; i >= 0; i -= 13) {
		EXPECT_RC(vfs_pread(fd, back, sizeof(back), (uint64_t)i * sizeof(block)), sizeof(back));
		EXPECT(memcmp(back, block, sizeof(back)) == 0);
	}
	EXPECT_RC(vfs_pwrite(fd, "x", 1, 1ull << 62), -EFBIG);
	EXPECT_RC(vfs_pwrite(fd, "x", 1, 1ull << 63), -EINVAL);
	EXPECT_RC(vfs_ftruncate(fd, 1ull << 62), -EFBIG);
	EXPECT_RC(vfs_close(fd), 0);
	EXPECT_RC(vfs_unlink("/big"), 0);
	return 0;
}

FS_TEST(vfs_file, unlink_while_open)
{
	int fd;
	char buf[16];
	EXPECT_RC(put_file("/u", "still here"), 0);
	EXPECT_FD(fd, vfs_open("/u", O_RDWR, 0));
	EXPECT_RC(vfs_unlink("/u"), 0);
	struct vfs_stat st;
	EXPECT_RC(vfs_stat("/u", &st), -ENOENT);
	EXPECT_RC(vfs_open("/u", O_RDONLY, 0), -ENOENT);
	EXPECT_RC(vfs_pread(fd, buf, sizeof(buf), 0), 10);
	EXPECT(memcmp(buf, "still here", 10) == 0);
	EXPECT_RC(vfs_write(fd, "!", 1), 1);
	EXPECT_RC(vfs_fstat(fd, &st), 0);
	EXPECT_RC(st.nlink, 0);
	EXPECT_RC(vfs_close(fd), 0);
	/* The name can be taken again at once. */
	EXPECT_RC(put_file("/u", "new"), 0);
	EXPECT_RC(get_file("/u", buf, sizeof(buf)), 3);
	return 0;
}

FS_TEST(vfs_file, many_files_and_fsync)
{
	int fds[64];
	char name[32];
	for (int i = 0; i < 64; i++) {
		ksnprintf(name, sizeof(name), "/m%d", i);
		EXPECT_FD(fds[i], vfs_open(name, O_CREAT | O_RDWR, 0644));
		EXPECT_RC(vfs_write(fds[i], name, strlen(name)), strlen(name));
	}
	for (int i = 0; i < 64; i++) {
		EXPECT_RC(vfs_fsync(fds[i]), 0);
		EXPECT_RC(vfs_close(fds[i]), 0);
	}
	EXPECT_RC(vfs_fsync(fds[0]), -EBADF);
	EXPECT_RC(vfs_sync(), 0);
	char buf[32];
	EXPECT_RC(get_file("/m63", buf, sizeof(buf)), 4);
	EXPECT(strcmp(buf, "/m63") == 0);
	return 0;
}
