/*
 * bench/xattr_loop.c: the time of one getxattr(2) of an absent attribute
 * on PATH, in microseconds. On a FUSE mount that is one request's round
 * trip through the host and the daemon and back. Used by bench/fuse_rtt.sh.
 * Usage: xattr_loop PATH COUNT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>

/* No file has it: every call is answered ENODATA, or EOPNOTSUPP where the
 * file system has no extended attributes (torofuse's ramfs). */
#define NAME "user.toro-rtt"
#define WARM_UP 1000

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int ask(const char *path)
{
	char value[64];
	if (getxattr(path, NAME, value, sizeof(value)) >= 0 ||
	    (errno != ENODATA && errno != EOPNOTSUPP)) {
		fprintf(stderr, "xattr_loop: %s: getxattr %s: %s\n", path, NAME,
		        errno == ENODATA ? "present" : strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int count = argc == 3 ? atoi(argv[2]) : 0;
	if (count <= 0) {
		fprintf(stderr, "usage: xattr_loop PATH COUNT\n");
		return 2;
	}
	for (int i = 0; i < WARM_UP; i++)
		if (ask(argv[1]) < 0)
			return 1;
	double start = now_us();
	for (int i = 0; i < count; i++)
		if (ask(argv[1]) < 0)
			return 1;
	printf("%.2f\n", (now_us() - start) / count);
	return 0;
}
