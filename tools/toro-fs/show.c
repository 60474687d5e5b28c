/*
 * show.c: the commands that only read the image: ls, stat, cat, df, tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "toro-fs.h"
#include "vfs.h"

static void mode_string(uint32_t mode, char out[11])
{
	const char *types = "?pc?d?b?-?l?s???";
	out[0] = types[(mode >> 12) & 15];
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400 >> i)) ? "rwxrwxrwx"[i] : '-';
	if (mode & S_ISUID)
		out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = (mode & 0010) ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = (mode & 0001) ? 't' : 'T';
	out[10] = '\0';
}

static void time_string(int64_t ns, char *out, size_t size)
{
	struct timespec ts = ns_to_timespec(ns);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out + n, size - n, ".%09ld UTC", ts.tv_nsec);
}

/* One ls -l line for path, shown as name; st: its lstat, or mode 0 if
 * that failed (the error comes from a second try). */
static int long_line(const char *path, const char *name, struct vfs_stat st)
{
	if (st.mode == 0) {
		int rc = vfs_lstat(path, &st);
		if (rc < 0)
			return fail(EXIT_FAILED, rc, "ls %s", path);
	}
	char mode[11], when[64], target[VFS_PATH_MAX + 1] = "";
	mode_string(st.mode, mode);
	time_string(st.mtime_ns, when, sizeof(when));
	when[19] = '\0';
	if (S_ISLNK(st.mode)) {
		ssize_t n = vfs_readlink(path, target, VFS_PATH_MAX);
		if (n >= 0)
			target[n] = '\0';
	}
	if (S_ISCHR(st.mode) || S_ISBLK(st.mode))
		printf("%s %3u %5u %5u %4u, %4u %s %s\n", mode, st.nlink, st.uid, st.gid,
		       major(st.rdev), minor(st.rdev), when, name);
	else
		printf("%s %3u %5u %5u %10llu %s %s%s%s\n", mode, st.nlink, st.uid, st.gid,
		       (unsigned long long)st.size, when, name, target[0] ? " -> " : "", target);
	return EXIT_OK;
}

int cmd_ls(int argc, char **argv, const char *opts)
{
	const char *path = argc ? argv[0] : "/";
	bool lng = strchr(opts, 'l');
	struct vfs_stat st;
	int rc = vfs_stat(path, &st);
	if (rc < 0 && vfs_lstat(path, &st) == 0)
		rc = 0;                 /* a dangling link: show the link */
	if (rc < 0)
		return fail(EXIT_FAILED, rc, "ls %s", path);
	if (!S_ISDIR(st.mode)) {
		if (lng)
			return long_line(path, path, (struct vfs_stat){ .mode = 0 });
		printf("%s\n", path);
		return EXIT_OK;
	}
	struct names n;
	rc = list_dir(path, &n, LIST_SORTED | (lng ? LIST_STAT : 0));
	if (rc < 0)
		return fail(EXIT_FAILED, rc, "ls %s", path);
	int status = EXIT_OK;
	for (size_t i = 0; i < n.n; i++) {
		if (lng) {
			char *p = path_join(path, n.v[i]);
			if (long_line(p, n.v[i], n.st[i]) != EXIT_OK)
				status = EXIT_FAILED;
			free(p);
		} else {
			printf("%s\n", n.v[i]);
		}
	}
	names_free(&n);
	return status;
}

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:  return "regular file";
	case S_IFDIR:  return "directory";
	case S_IFLNK:  return "symbolic link";
	case S_IFCHR:  return "character device";
	case S_IFBLK:  return "block device";
	case S_IFIFO:  return "fifo";
	case S_IFSOCK: return "socket";
	}
	return "unknown";
}

int cmd_stat(int argc, char **argv, const char *opts)
{
	int status = EXIT_OK;
	for (int i = 0; i < argc; i++) {
		struct vfs_stat st;
		int rc = vfs_lstat(argv[i], &st);
		if (rc < 0) {
			status = fail(EXIT_FAILED, rc, "stat %s", argv[i]);
			continue;
		}
		char mode[11], a[64], m[64], c[64];
		mode_string(st.mode, mode);
		time_string(st.atime_ns, a, sizeof(a));
		time_string(st.mtime_ns, m, sizeof(m));
		time_string(st.ctime_ns, c, sizeof(c));
		printf("  File: %s\n  Type: %s\n  Size: %llu\tBlocks: %llu\tIO Block: %u\n"
		       " Inode: %llu\tLinks: %u\n",
		       argv[i], type_name(st.mode), (unsigned long long)st.size,
		       (unsigned long long)st.blocks, st.blksize, (unsigned long long)st.ino,
		       st.nlink);
		if (S_ISCHR(st.mode) || S_ISBLK(st.mode))
			printf("Device: %u,%u\n", major(st.rdev), minor(st.rdev));
		printf("Access: (%04o/%s)  Uid: %u  Gid: %u\nAccess: %s\nModify: %s\nChange: %s\n",
		       st.mode & 07777, mode, st.uid, st.gid, a, m, c);
	}
	return status;
}

int cmd_cat(int argc, char **argv, const char *opts)
{
	static char buf[1 << 16];
	int status = EXIT_OK;
	for (int i = 0; i < argc; i++) {
		int fd = vfs_open(argv[i], O_RDONLY, 0);
		if (fd < 0) {
			status = fail(EXIT_FAILED, fd, "cat %s", argv[i]);
			continue;
		}
		ssize_t n;
		while ((n = vfs_read(fd, buf, sizeof(buf))) > 0) {
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
				vfs_close(fd);
				return fail(EXIT_HOST, errno, "cat: writing stdout");
			}
		}
		if (n < 0)
			status = fail(EXIT_FAILED, (int)n, "cat %s", argv[i]);
		vfs_close(fd);
	}
	if (fflush(stdout) != 0)
		return fail(EXIT_HOST, errno, "cat: writing stdout");
	return status;
}

int cmd_df(int argc, char **argv, const char *opts)
{
	struct vfs_statfs sf;
	int rc = vfs_statfs("/", &sf);
	if (rc < 0)
		return fail(EXIT_FAILED, rc, "df");
	unsigned long long k = sf.bsize / 1024;
	printf("%-24s %12s %12s %12s %5s %10s %10s %10s\n", "Image", "1K-blocks", "Used",
	       "Available", "Use%", "Inodes", "IUsed", "IFree");
	unsigned long long used = sf.blocks - sf.bfree;
	printf("%-24s %12llu %12llu %12llu %4llu%% %10llu %10llu %10llu\n", image_name,
	       sf.blocks * k, used * k, sf.bavail * k,
	       sf.blocks ? (used * 100 + sf.blocks - 1) / sf.blocks : 0,
	       (unsigned long long)sf.files, (unsigned long long)(sf.files - sf.ffree),
	       (unsigned long long)sf.ffree);
	printf("block size %u, names up to %u bytes%s\n", sf.bsize, sf.namemax,
	       sf.read_only ? ", read-only" : "");
	return EXIT_OK;
}

struct tree_count {
	unsigned long dirs, files;
	int status;
};

static void tree_walk(const char *path, const char *prefix, struct tree_count *c,
                      const struct walk_path *here)
{
	struct names n;
	int rc = list_dir(path, &n, LIST_SORTED | LIST_STAT);
	if (rc < 0) {
		c->status = fail(EXIT_FAILED, rc, "tree %s", path);
		return;
	}
	for (size_t i = 0; i < n.n; i++) {
		bool last = i + 1 == n.n;
		char *p = path_join(path, n.v[i]);
		struct vfs_stat st = n.st[i];
		char target[VFS_PATH_MAX + 1] = "";
		if (S_ISLNK(st.mode)) {
			ssize_t len = vfs_readlink(p, target, VFS_PATH_MAX);
			target[len > 0 ? len : 0] = '\0';
		}
		printf("%s%s%s%s%s\n", prefix, last ? "`-- " : "|-- ", n.v[i],
		       target[0] ? " -> " : "", target);
		if (S_ISDIR(st.mode)) {
			c->dirs++;
			size_t pl = strlen(prefix);
			char *sub = malloc(pl + 5);
			struct walk_path below = { here, st.ino };
			if (walk_cycle(here, st.ino, "tree", p) < 0) {
				c->status = EXIT_FAILED;
			} else if (sub) {
				memcpy(sub, prefix, pl);
				strcpy(sub + pl, last ? "    " : "|   ");
				tree_walk(p, sub, c, &below);
			}
			free(sub);
		} else {
			c->files++;
		}
		free(p);
	}
	names_free(&n);
}

int cmd_tree(int argc, char **argv, const char *opts)
{
	const char *path = argc ? argv[0] : "/";
	struct tree_count c = { 0, 0, EXIT_OK };
	struct vfs_stat st;
	int rc = vfs_stat(path, &st);
	if (rc < 0)
		return fail(EXIT_FAILED, rc, "tree %s", path);
	printf("%s\n", path);
	struct walk_path top = { NULL, st.ino };
	if (S_ISDIR(st.mode))
		tree_walk(path, "", &c, &top);
	printf("\n%lu directories, %lu files\n", c.dirs, c.files);
	return c.status;
}
