/*
 * main.c: the host side of toro-fs: check the command line, make or open
 * the image, and boot the kernel with it as disk 0 (toro_main in
 * commands.c then does the work).
 *
 *   toro-fs [--cpus N] [--mem MIB] IMAGE COMMAND [ARGS]
 *   toro-fs mkfs IMAGE SIZE[K|M|G] [-b BLOCKSIZE] [-j]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"
#include "toro-fs.h"

int parse_args(const struct command *c, int argc, char **argv, char *opts, size_t size);
int parse_size(const char *s, uint64_t *out);
int mkfs_check_args(int argc, char **argv, uint64_t *size);

static int usage_hint(void)
{
	fprintf(stderr, "toro-fs: run 'toro-fs --help' for the commands\n");
	return EXIT_USAGE;
}

/* Make the image file at least size bytes long. */
static int prepare_image(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return fail(EXIT_IMAGE, errno, "%s", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return fail(EXIT_IMAGE, 0, "%s: not a regular file", path);
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) < 0) {
		int err = errno;
		close(fd);
		return fail(EXIT_IMAGE, err, "%s: extending to %llu bytes", path,
		            (unsigned long long)size);
	}
	close(fd);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct posix_config cfg = { 0 };
	argc = hal_posix_parse_options(&cfg, argc, argv);
	if (argc < 0)
		return EXIT_USAGE;
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		print_usage();
		return EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "mkfs") == 0) {
		uint64_t size;
		if (mkfs_check_args(argc - 2, argv + 2, &size) < 0)
			return usage_hint();
		int rc = prepare_image(argv[2], size);
		if (rc != EXIT_OK)
			return rc;
		cfg.disk_read_only[0] = false;
	} else {
		if (argc < 3) {
			print_usage();
			return EXIT_USAGE;
		}
		const struct command *c = find_command(argv[2]);
		if (!c) {
			fail(0, 0, "unknown command '%s'", argv[2]);
			return usage_hint();
		}
		char opts[16];
		if (parse_args(c, argc - 2, argv + 2, opts, sizeof(opts)) < 0)
			return usage_hint();
		int fd = open(argv[1], c->read_only ? O_RDONLY : O_RDWR);
		if (fd < 0)
			return fail(EXIT_IMAGE, errno, "%s", argv[1]);
		close(fd);
		cfg.disk_read_only[0] = c->read_only;
	}
	cfg.ndisks = 1;
	cfg.disk_path[0] = argv[argc >= 2 && strcmp(argv[1], "mkfs") == 0 ? 2 : 1];
	/* One command fills or reads the image and ends: the host's page
	 * cache takes the writes and each sync's fdatasync makes them
	 * durable, instead of direct writes waiting on the host's disk one
	 * batch at a time (twice faster for put -r into a fresh image). */
	cfg.disk_buffered[0] = true;
	/* The kernel's console (the driver's notes, such as why an image is
	 * mounted read-only) writes to fd 1: send it to stderr, and the
	 * tool's own output (cat, get -) through stdout on a copy of the
	 * original fd 1, so the notes never mix into file contents. */
	fflush(stdout);
	int out = dup(STDOUT_FILENO);
	FILE *f = out >= 0 ? fdopen(out, "w") : NULL;
	if (!f || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return fail(EXIT_HOST, errno, "stdout");
	stdout = f;
	return hal_posix_run(&cfg, argc, argv);
}
