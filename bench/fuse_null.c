/*
 * bench/fuse_null.c: the simplest FUSE daemon libfuse makes: one thread,
 * fuse_session_loop on /dev/fuse, a root directory holding one empty file
 * "f", every extended attribute absent. bench/fuse_rtt.sh's peer: what a
 * request costs a daemon that does no work, the usual way.
 * Usage: fuse_null MOUNTPOINT   (stays in the foreground; fusermount3 -u ends it)
 */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_INO 2
#define TIMEOUT 3600.0

static void fill_stat(struct stat *st, fuse_ino_t ino)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0644;
	st->st_nlink = 1;
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent != FUSE_ROOT_ID || strcmp(name, "f") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct fuse_entry_param e = { .ino = FILE_INO, .attr_timeout = TIMEOUT,
	                              .entry_timeout = TIMEOUT };
	fill_stat(&e.attr, FILE_INO);
	fuse_reply_entry(req, &e);
}

static void null_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	fill_stat(&st, ino);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static void null_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	fuse_reply_err(req, ENODATA);
}

static const struct fuse_lowlevel_ops null_ops = {
	.lookup = null_lookup,
	.getattr = null_getattr,
	.getxattr = null_getxattr,
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuse_null MOUNTPOINT\n");
		return 2;
	}
	char *fuse_argv[] = { argv[0], "-o", "fsname=fuse_null" };
	struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
	struct fuse_session *se = fuse_session_new(&args, &null_ops, sizeof(null_ops), NULL);
	if (!se || fuse_session_mount(se, argv[1]) != 0)
		return 1;
	int rc = fuse_session_loop(se);
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	return rc == 0 ? 0 : 1;
}
