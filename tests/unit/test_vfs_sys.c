/*
 * test_vfs_sys.c: the application's file calls (toro.h: SysOpenFile and
 * friends) on a ramfs, and SysMount of a disk.
 */
#include "test_vfs.h"
#include "toro.h"

FS_TEST(vfs_sys, toro_file_api)
{
	THandle f;
	char buf[32];
	TInode st;
	EXPECT_RC(SysCreateDir("/web"), 0);
	EXPECT_RC(SysCreateDir("/web"), -EEXIST);
	EXPECT_FD(f, SysCreateFile("/web/index.html"));
	EXPECT_RC(SysCreateFile("/web/index.html"), -EEXIST);
	EXPECT_RC(SysWriteFile(f, 11, "<h1>hi</h1>"), 11);
	EXPECT_RC(SysSeekFile(f, 4, SEEK_SET), 4);
	EXPECT_RC(SysReadFile(f, 2, buf), 2);
	EXPECT(memcmp(buf, "hi", 2) == 0);
	EXPECT_RC(SysSeekFile(f, -5, SEEK_END), 6);
	EXPECT_RC(SysSeekFile(f, 1, SEEK_CUR), 7);
	EXPECT_RC(SysCloseFile(f), 0);
	EXPECT_RC(SysCloseFile(f), -EBADF);
	EXPECT_RC(SysStatFile("/web/index.html", &st), 0);
	EXPECT_RC(st.size, 11);
	EXPECT(S_ISREG(st.mode));
	EXPECT_RC(SysStatFile("/web/none", &st), -ENOENT);
	EXPECT_RC(SysOpenFile("/web/none", O_RDONLY), -ENOENT);
	EXPECT_FD(f, SysOpenFile("/web/log", O_WRONLY | O_CREAT | O_APPEND));
	EXPECT_RC(SysWriteFile(f, 3, "abc"), 3);
	EXPECT_RC(SysSeekFile(f, 0, SEEK_SET), 0);
	EXPECT_RC(SysWriteFile(f, 3, "def"), 3);
	EXPECT_RC(SysReadFile(f, 3, buf), -EBADF);
	EXPECT_RC(SysCloseFile(f), 0);
	EXPECT_RC(get_file("/web/log", buf, sizeof(buf)), 6);
	EXPECT(strcmp(buf, "abcdef") == 0);
	EXPECT_FD(f, SysOpenFile("/web/log", O_RDWR | O_TRUNC));
	EXPECT_RC(SysReadFile(f, sizeof(buf), buf), 0);
	EXPECT_RC(SysCloseFile(f), 0);
	EXPECT_RC(SysOpenFile("/web/log", O_RDWR | O_CREAT | O_EXCL), -EEXIST);
	EXPECT_RC(SysOpenFile("/web/log", O_RDWR | O_DIRECTORY), -EINVAL);
	EXPECT_RC(SysMount("/web", "ramfs", -1, 0), 0);
	EXPECT_RC(SysStatFile("/web/log", &st), -ENOENT);
	EXPECT_RC(SysUnmount("/web"), 0);
	EXPECT_RC(SysMount("/web", "ext2", 7, 0), -ENXIO);
	int r = SysMount("/web", "vfat", 0, 0);    /* -ENXIO: no disk 0 (ramfs runs) */
	EXPECT(r == -ENODEV || r == -ENXIO);
	EXPECT_RC(SysSync(), 0);
	return 0;
}
