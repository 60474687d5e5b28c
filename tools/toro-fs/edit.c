/*
 * edit.c: the commands that change the namespace or attributes: mkdir, rm,
 * rmdir, mv, ln, truncate, chmod, chown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "toro-fs.h"
#include "vfs.h"

/* mkdir -p: every missing directory on the way. */
static int mkdir_parents(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	int rc = 0;
	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		rc = vfs_mkdir(p, 0755);
		if (rc == -EEXIST) {
			struct vfs_stat st;
			rc = vfs_stat(p, &st);
			if (rc == 0 && !S_ISDIR(st.mode))
				rc = -ENOTDIR;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

int cmd_mkdir(int argc, char **argv, const char *opts)
{
	int status = EXIT_OK;
	for (int i = 0; i < argc; i++) {
		int rc = strchr(opts, 'p') ? mkdir_parents(argv[i]) : vfs_mkdir(argv[i], 0755);
		if (rc < 0)
			status = fail(EXIT_FAILED, rc, "mkdir %s", argv[i]);
	}
	return status;
}

/* Remove path and, if it is a directory, everything under it. */
static int remove_tree(const char *path, const struct walk_path *up)
{
	struct vfs_stat st;
	int rc = vfs_lstat(path, &st);
	if (rc < 0 || !S_ISDIR(st.mode))
		return rc < 0 ? rc : vfs_unlink(path);
	rc = walk_cycle(up, st.ino, "rm", path);
	if (rc < 0)
		return rc;
	struct walk_path here = { up, st.ino };
	struct names n;
	rc = list_dir(path, &n, 0);
	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n.n; i++) {
		char *p = path_join(path, n.v[i]);
		rc = remove_tree(p, &here);
		if (rc < 0)
			fail(0, rc, "rm %s", p);
		free(p);
	}
	names_free(&n);
	return rc < 0 ? rc : vfs_rmdir(path);
}

int cmd_rm(int argc, char **argv, const char *opts)
{
	int status = EXIT_OK;
	bool force = strchr(opts, 'f');
	for (int i = 0; i < argc; i++) {
		int rc = strchr(opts, 'r') ? remove_tree(argv[i], NULL) : vfs_unlink(argv[i]);
		if (rc < 0 && !(force && rc == -ENOENT))
			status = fail(EXIT_FAILED, rc, "rm %s", argv[i]);
	}
	return status;
}

int cmd_rmdir(int argc, char **argv, const char *opts)
{
	int status = EXIT_OK;
	for (int i = 0; i < argc; i++) {
		int rc = vfs_rmdir(argv[i]);
		if (rc < 0)
			status = fail(EXIT_FAILED, rc, "rmdir %s", argv[i]);
	}
	return status;
}

int cmd_mv(int argc, char **argv, const char *opts)
{
	/* Into an existing directory, as mv(1) does. */
	struct vfs_stat st;
	char *to = NULL;
	if (vfs_stat(argv[1], &st) == 0 && S_ISDIR(st.mode)) {
		const char *base = strrchr(argv[0], '/');
		base = base ? base + 1 : argv[0];
		if (*base)
			to = path_join(argv[1], base);
	}
	int rc = vfs_rename(argv[0], to ? to : argv[1]);
	free(to);
	return rc < 0 ? fail(EXIT_FAILED, rc, "mv %s %s", argv[0], argv[1]) : EXIT_OK;
}

int cmd_ln(int argc, char **argv, const char *opts)
{
	int rc = strchr(opts, 's') ? vfs_symlink(argv[0], argv[1]) : vfs_link(argv[0], argv[1]);
	return rc < 0 ? fail(EXIT_FAILED, rc, "ln %s %s", argv[0], argv[1]) : EXIT_OK;
}

/* A size or number with an optional K/M/G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || (shift && v > (~0ull >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

int cmd_truncate(int argc, char **argv, const char *opts)
{
	uint64_t size;
	if (parse_size(argv[1], &size) < 0)
		return fail(EXIT_USAGE, 0, "truncate: bad size '%s'", argv[1]);
	int rc = vfs_truncate(argv[0], size);
	return rc < 0 ? fail(EXIT_FAILED, rc, "truncate %s", argv[0]) : EXIT_OK;
}

int cmd_chmod(int argc, char **argv, const char *opts)
{
	char *end;
	unsigned long mode = strtoul(argv[0], &end, 8);
	if (*end || end == argv[0] || mode > 07777)
		return fail(EXIT_USAGE, 0, "chmod: bad mode '%s' (octal, up to 7777)", argv[0]);
	int status = EXIT_OK;
	for (int i = 1; i < argc; i++) {
		int rc = vfs_chmod(argv[i], (uint32_t)mode);
		if (rc < 0)
			status = fail(EXIT_FAILED, rc, "chmod %s", argv[i]);
	}
	return status;
}

static int parse_id(const char *s, const char *end, uint32_t *out)
{
	if (s == end) {
		*out = (uint32_t)-1;
		return 0;
	}
	uint64_t v = 0;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9' || (v = v * 10 + (uint64_t)(*p - '0')) >= 0xffffffffu)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int cmd_chown(int argc, char **argv, const char *opts)
{
	const char *spec = argv[0], *colon = strchr(spec, ':');
	uint32_t uid, gid = (uint32_t)-1;
	if (parse_id(spec, colon ? colon : spec + strlen(spec), &uid) < 0 ||
	    (colon && parse_id(colon + 1, colon + 1 + strlen(colon + 1), &gid) < 0))
		return fail(EXIT_USAGE, 0, "chown: bad owner '%s' (UID[:GID], numeric)", spec);
	int status = EXIT_OK;
	for (int i = 1; i < argc; i++) {
		int rc = vfs_chown(argv[i], uid, gid);
		if (rc < 0)
			status = fail(EXIT_FAILED, rc, "chown %s", argv[i]);
	}
	return status;
}
