/*
 * sysfile.c: the file calls of the application API (toro.h) over the VFS:
 * Toro's names and argument orders, POSIX semantics, -errno on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "blkdev.h"
#include "toro.h"
#include "vfs.h"

int SysMount(const char *path, const char *fstype, int disk, unsigned flags)
{
	struct blkdev *dev = NULL;
	if (!fstype)
		return -EINVAL;
	if (strcmp(fstype, "ramfs") != 0) {
		dev = disk >= 0 ? blkdev_get((unsigned)disk) : NULL;
		if (!dev)
			return -ENXIO;
	}
	return vfs_mount(path, fstype, dev, flags);
}

int SysUnmount(const char *path) { return vfs_unmount(path); }
int SysSync(void) { return vfs_sync(); }

THandle SysOpenFile(const char *path, int flags)
{
	if (flags & ~(O_ACCMODE | O_APPEND | O_TRUNC | O_CREAT | O_EXCL))
		return -EINVAL;
	return vfs_open(path, flags, 0644);
}

THandle SysCreateFile(const char *path)
{
	return vfs_open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
}

int SysCreateDir(const char *path)
{
	return vfs_mkdir(path, 0755);
}

long SysReadFile(THandle file, size_t count, void *buffer)
{
	return vfs_read(file, buffer, count);
}

long SysWriteFile(THandle file, size_t count, const void *buffer)
{
	return vfs_write(file, buffer, count);
}

int64_t SysSeekFile(THandle file, int64_t offset, int whence)
{
	return vfs_seek(file, offset, whence);
}

int SysStatFile(const char *path, TInode *buffer)
{
	return vfs_stat(path, buffer);
}

int SysCloseFile(THandle file)
{
	return vfs_close(file);
}
