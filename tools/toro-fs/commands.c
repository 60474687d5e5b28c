/*
 * commands.c: the command table, argument parsing, and toro_main: the
 * kernel side of toro-fs, which mounts the image and runs one command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev.h"
#include "thread.h"
#include "toro-fs.h"
#include "vfs.h"

int cmd_ls(int, char **, const char *);
int cmd_stat(int, char **, const char *);
int cmd_cat(int, char **, const char *);
int cmd_df(int, char **, const char *);
int cmd_tree(int, char **, const char *);
int cmd_mkdir(int, char **, const char *);
int cmd_rm(int, char **, const char *);
int cmd_rmdir(int, char **, const char *);
int cmd_mv(int, char **, const char *);
int cmd_ln(int, char **, const char *);
int cmd_truncate(int, char **, const char *);
int cmd_chmod(int, char **, const char *);
int cmd_chown(int, char **, const char *);
int cmd_mkfs(int, char **, const char *);
int cmd_getfattr(int, char **, const char *);
int cmd_setfattr(int, char **, const char *);

static const struct command commands[] = {
	{ "ls", "[-l] [PATH]", "list a directory", 0, 1, "l", true, cmd_ls },
	{ "stat", "PATH...", "show a file's attributes", 1, -1, "", true, cmd_stat },
	{ "cat", "PATH...", "write files to stdout", 1, -1, "", true, cmd_cat },
	{ "tree", "[PATH]", "show a directory tree", 0, 1, "", true, cmd_tree },
	{ "df", "", "show free space", 0, 0, "", true, cmd_df },
	{ "get", "[-r] PATH HOSTPATH|-", "copy out of the image (-r: a tree)", 2, 2, "r", true, cmd_get },
	{ "put", "[-r] HOSTPATH|- PATH", "copy into the image (-r: a tree)", 2, 2, "r", false, cmd_put },
	{ "mkdir", "[-p] PATH...", "make directories (-p: with parents)", 1, -1, "p", false, cmd_mkdir },
	{ "rm", "[-r] [-f] PATH...", "remove files (-r: trees)", 1, -1, "rf", false, cmd_rm },
	{ "rmdir", "PATH...", "remove empty directories", 1, -1, "", false, cmd_rmdir },
	{ "mv", "FROM TO", "rename", 2, 2, "", false, cmd_mv },
	{ "ln", "[-s] TARGET LINK", "make a hard (-s: symbolic) link", 2, 2, "s", false, cmd_ln },
	{ "truncate", "PATH SIZE", "set a file's size", 2, 2, "", false, cmd_truncate },
	{ "chmod", "MODE PATH...", "set permissions (octal)", 2, -1, "", false, cmd_chmod },
	{ "chown", "UID[:GID] PATH...", "set owner (numeric)", 2, -1, "", false, cmd_chown },
	{ "getfattr", "PATH [NAME]", "list extended attributes, or print one value", 1, 2, "",
	  true, cmd_getfattr },
	{ "setfattr", "[-x] NAME [VALUE] PATH", "set an extended attribute (-x: remove it)", 2, 3,
	  "x", false, cmd_setfattr },
};

const char *image_name = "";

const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void print_usage(void)
{
	fprintf(stderr, "usage: toro-fs [--cpus N] [--mem MIB] IMAGE COMMAND [ARGS]\n"
	                "       toro-fs mkfs IMAGE SIZE[K|M|G] [-b BLOCKSIZE] [-j]\n"
	                "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-8s %-22s %s\n", commands[i].name, commands[i].args,
		        commands[i].help);
	fprintf(stderr, "exit status: 0 done, 1 an operation failed, 2 usage, "
	                "3 image unusable, 4 host file error\n");
}

int fail(int code, int err, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "toro-fs: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fprintf(stderr, "\n");
	return code;
}

/*
 * parse_args: split argv (argv[0] is the command) into flags and operands.
 * Flags come before the operands ("-r", "-rf"); "--" ends them. Returns the
 * index of the first operand, or -1 after a message.
 */
int parse_args(const struct command *c, int argc, char **argv, char *opts, size_t size)
{
	size_t n = 0;
	int i = 1;
	opts[0] = '\0';
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		for (const char *f = argv[i] + 1; *f; f++) {
			if (!strchr(c->options, *f)) {
				fail(0, 0, "%s: unknown option -%c", c->name, *f);
				return -1;
			}
			if (n + 1 < size && !strchr(opts, *f)) {
				opts[n++] = *f;
				opts[n] = '\0';
			}
		}
	}
	int operands = argc - i;
	if (operands < c->min_args || (c->max_args >= 0 && operands > c->max_args)) {
		fail(0, 0, "%s: expected %s", c->name, c->args[0] ? c->args : "no operands");
		return -1;
	}
	return i;
}

static int collect(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct names *n = ctx;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 32;
		char **v = realloc(n->v, cap * sizeof(*v));
		if (!v)
			return 1;
		n->v = v;
		n->cap = cap;
	}
	char *s = strndup(name, len);
	if (!s)
		return 1;
	n->v[n->n++] = s;
	return 0;
}

/* A name and its lstat, sorted together. */
struct named_stat {
	char *name;
	struct vfs_stat st;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int by_name_with_stat(const void *a, const void *b)
{
	return strcmp(((const struct named_stat *)a)->name, ((const struct named_stat *)b)->name);
}

int walk_cycle(const struct walk_path *path, uint64_t ino, const char *cmd, const char *name)
{
	for (; path; path = path->up) {
		if (path->ino == ino) {
			fprintf(stderr, "toro-fs: %s %s: directory cycle (the image is corrupt: "
			        "check it with e2fsck -f)\n", cmd, name);
			return -EUCLEAN;
		}
	}
	return 0;
}

/* lstat every name in the directory's own order: the driver's lookup of a
 * directory without an index starts where the last name was found, so the
 * names cost a block each, not a scan each. In sorted order a big
 * directory's walk would be quadratic. */
static int stat_names(const char *path, struct names *n)
{
	n->st = calloc(n->n ? n->n : 1, sizeof(*n->st));
	if (!n->st)
		return -ENOMEM;
	for (size_t i = 0; i < n->n; i++) {
		char *p = path_join(path, n->v[i]);
		if (!p)
			return -ENOMEM;
		if (vfs_lstat(p, &n->st[i]) < 0)
			n->st[i].mode = 0;
		free(p);
	}
	return 0;
}

static int sort_names(struct names *n)
{
	if (!n->st) {
		qsort(n->v, n->n, sizeof(*n->v), by_name);
		return 0;
	}
	struct named_stat *e = malloc(n->n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < n->n; i++)
		e[i] = (struct named_stat){ n->v[i], n->st[i] };
	qsort(e, n->n, sizeof(*e), by_name_with_stat);
	for (size_t i = 0; i < n->n; i++) {
		n->v[i] = e[i].name;
		n->st[i] = e[i].st;
	}
	free(e);
	return 0;
}

int list_dir(const char *path, struct names *out, unsigned flags)
{
	memset(out, 0, sizeof(*out));
	int fd = vfs_open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	size_t before;
	int rc;
	do {
		before = out->n;
		rc = vfs_readdir(fd, collect, out);
	} while (rc == 0 && out->n != before);
	vfs_close(fd);
	if (rc == 0 && (flags & LIST_STAT))
		rc = stat_names(path, out);
	if (rc == 0 && (flags & LIST_SORTED) && out->n > 1)
		rc = sort_names(out);
	if (rc < 0)
		names_free(out);
	return rc;
}

void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	free(n->st);
	memset(n, 0, sizeof(*n));
}

char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	char *p = malloc(dl + strlen(name) + 2);
	if (!p) {
		fail(0, ENOMEM, "path");
		exit(EXIT_FAILED);
	}
	memcpy(p, dir, dl);
	p[dl] = '/';
	strcpy(p + dl + (dl == 1 && dir[0] == '/' ? 0 : 1), name);
	return p;
}

/* ---- the kernel side ---- */

struct job {
	const struct command *cmd;
	int argc;
	char **argv;
	int status;
};

static int run_job(void *arg)
{
	struct job *j = arg;
	char opts[16];
	int first = parse_args(j->cmd, j->argc, j->argv, opts, sizeof(opts));
	if (first < 0)
		return j->status = EXIT_USAGE;
	return j->status = j->cmd->run(j->argc - first, j->argv + first, opts);
}

/* toro_main: argv is "toro-fs IMAGE COMMAND ARGS..." or "toro-fs mkfs ...". */
int toro_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "mkfs") == 0)
		return cmd_mkfs(argc - 2, argv + 2, "");
	image_name = argv[1];
	struct job j = { .cmd = find_command(argv[2]), .argc = argc - 2, .argv = argv + 2 };
	struct blkdev *dev = blkdev_get(0);
	if (!dev)
		return fail(EXIT_IMAGE, 0, "%s: no disk", image_name);
	const char *cache = getenv("TORO_FS_CACHE_KIB");   /* tests: a small cache */
	if (cache)
		dev->cache_bytes = (size_t)strtoul(cache, NULL, 10) << 10;
	dev->print_stats = getenv("TORO_FS_STATS") != NULL;   /* bench/: counters at unmount */
	int rc = vfs_mount("/", "ext2", dev, j.cmd->read_only ? FS_MOUNT_RDONLY : 0);
	if (rc < 0)
		return fail(EXIT_IMAGE, rc, "%s: cannot mount as ext2", image_name);

	/* A roomy stack: the copy commands recurse and call libc. */
	struct thread *t = thread_create(0, run_job, &j, 4u << 20);
	if (!t)
		return fail(EXIT_FAILED, ENOMEM, "starting the command");
	thread_join(t);
	fflush(stdout);
	rc = vfs_unmount("/");
	if (rc < 0)
		return fail(EXIT_IMAGE, rc, "%s: unmounting (writing back)", image_name);
	return j.status;
}
