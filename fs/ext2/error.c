/*
 * error.c: the one path every corruption takes (STYLE.md 7).
 *
 * ext2_error marks the file system as having errors (s_state), logs the
 * message with kprintf, applies the superblock's errors policy (continue,
 * or read-only for "remount-ro" and "panic": disk data never panics the
 * kernel) and returns -EIO for the caller to pass up.
 */
#include <errno.h>
#include <stdarg.h>

#include "blkdev.h"
#include "console.h"
#include "ext2.h"

int ext2_error(struct ext2_fs *fs, const char *func, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kprintf("ext2: %s: error in %s: %s\n", fs->vfs.dev ? fs->vfs.dev->name : "?", func, msg);

	if (!fs->had_errors) {
		fs->had_errors = true;
		if (fs->sb && !fs->vfs.read_only) {
			/* The mark goes to the disk at once. The caller may hold
			 * other buffers' locks, never the superblock's. */
			st16(&fs->sb->s_state, ld16(fs->sb->s_state) | EXT2_ERROR_FS);
			ext2_sb_dirty(fs);
			bwrite(fs->sb_buf);
		}
	}
	if (fs->errors_policy != EXT2_ERRORS_CONTINUE && !fs->vfs.read_only) {
		kprintf("ext2: %s: file system now read-only\n", fs->vfs.dev ? fs->vfs.dev->name : "?");
		fs->vfs.read_only = true;
	}
	return -EIO;
}
