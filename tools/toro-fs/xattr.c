/*
 * xattr.c: toro-fs's extended-attribute commands, after attr(1)'s
 * getfattr / setfattr: list the attributes of a file with their values,
 * print one value, set one, remove one. Symbolic links are not followed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toro-fs.h"
#include "vfs.h"

/* Print a value as text when it is printable, else as hex (getfattr's 0x form). */
static void print_value(const unsigned char *v, size_t len)
{
	bool text = true;
	for (size_t i = 0; i < len; i++)
		text &= (v[i] >= 0x20 && v[i] < 0x7f) || (v[i] == 0 && i == len - 1);
	if (text) {
		printf("\"%.*s\"\n", (int)(len && !v[len - 1] ? len - 1 : len), (const char *)v);
		return;
	}
	printf("0x");
	for (size_t i = 0; i < len; i++)
		printf("%02x", v[i]);
	printf("\n");
}

int cmd_getfattr(int argc, char **argv, const char *opts)
{
	static unsigned char value[VFS_XATTR_SIZE_MAX];
	static char names[VFS_XATTR_SIZE_MAX];
	const char *path = argv[0];
	if (argc == 2) {
		ssize_t n = vfs_getxattr(path, false, argv[1], value, sizeof(value));
		if (n < 0)
			return fail(EXIT_FAILED, (int)n, "getfattr %s %s", path, argv[1]);
		fwrite(value, 1, (size_t)n, stdout);
		return EXIT_OK;
	}
	ssize_t len = vfs_listxattr(path, false, names, sizeof(names));
	if (len < 0)
		return fail(EXIT_FAILED, (int)len, "getfattr %s", path);
	for (ssize_t at = 0; at < len; at += (ssize_t)strlen(names + at) + 1) {
		ssize_t n = vfs_getxattr(path, false, names + at, value, sizeof(value));
		if (n < 0)
			return fail(EXIT_FAILED, (int)n, "getfattr %s %s", path, names + at);
		printf("%s=", names + at);
		print_value(value, (size_t)n);
	}
	return EXIT_OK;
}

int cmd_setfattr(int argc, char **argv, const char *opts)
{
	bool remove = strchr(opts, 'x') != NULL;
	if (argc != (remove ? 2 : 3))
		return fail(EXIT_USAGE, 0, "setfattr: NAME VALUE PATH, or -x NAME PATH");
	const char *name = argv[0], *path = argv[remove ? 1 : 2];
	int rc = remove ? vfs_removexattr(path, false, name)
	                : vfs_setxattr(path, false, name, argv[1], strlen(argv[1]), 0);
	return rc < 0 ? fail(EXIT_FAILED, rc, "setfattr %s %s", name, path) : EXIT_OK;
}
