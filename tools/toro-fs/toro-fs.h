/*
 * toro-fs.h: what the files of toro-fs share.
 *
 * toro-fs works on a file system image through the Toro/C kernel itself:
 * main() (main.c, host side) checks the command line, prepares the image
 * and boots the kernel in-process with the image as disk 0; toro_main()
 * (commands.c, a kernel thread) mounts it at "/" and runs the command over
 * the VFS; put and get (copy.c) also read and write host files with libc.
 */
#ifndef TORO_FS_H
#define TORO_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Exit codes. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,    /* an operation in the image failed */
	EXIT_USAGE = 2,     /* bad command line */
	EXIT_IMAGE = 3,     /* the image cannot be opened, formatted or mounted */
	EXIT_HOST = 4,      /* a host file could not be read or written */
};

struct command {
	const char *name;
	const char *args;       /* for the usage text */
	const char *help;
	int min_args, max_args; /* operands after the options; -1: no limit */
	const char *options;    /* single-letter flags it takes */
	bool read_only;         /* mount the image read-only */
	int (*run)(int argc, char **argv, const char *opts);
};

const struct command *find_command(const char *name);
void print_usage(void);

/* Messages: "toro-fs: <what>: <strerror(err)>" on stderr; return code. */
int fail(int code, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The image's directory entries of path without "." and ".."; 0 or
 * -errno. Free with names_free. Flags: LIST_SORTED sorts them by name,
 * else they come in the directory's own order (the cheapest order to look
 * them up in: walks that need no order use it); LIST_STAT fills st[i] with
 * v[i]'s lstat (mode 0 if that failed). */
struct vfs_stat;
enum { LIST_SORTED = 1, LIST_STAT = 2 };
struct names {
	char **v;
	struct vfs_stat *st;    /* LIST_STAT only */
	size_t n, cap;
};
int list_dir(const char *path, struct names *out, unsigned flags);
void names_free(struct names *n);
char *path_join(const char *dir, const char *name);   /* malloc'd */

int cmd_put(int argc, char **argv, const char *opts);
int cmd_get(int argc, char **argv, const char *opts);

/* The directories a recursive walk is inside, innermost first, so that a
 * directory that is its own ancestor (a corrupt image: an entry naming a
 * directory above it) stops the walk instead of sending it round forever.
 * walk_cycle prints the error and returns -EUCLEAN when ino is on the path. */
struct walk_path {
	const struct walk_path *up;
	uint64_t ino;
};
int walk_cycle(const struct walk_path *path, uint64_t ino, const char *cmd, const char *name);

/* ns_to_timespec: nanoseconds since the epoch as seconds and 0..999999999
 * nanoseconds; before 1970 the seconds round down (C's division truncates
 * toward zero, which would give a negative tv_nsec). */
static inline struct timespec ns_to_timespec(int64_t ns)
{
	int64_t s = ns / 1000000000, rest = ns % 1000000000;
	if (rest < 0) {
		s--;
		rest += 1000000000;
	}
	return (struct timespec){ .tv_sec = (time_t)s, .tv_nsec = (long)rest };
}

/* The image file's name, for messages. */
extern const char *image_name;

#endif
