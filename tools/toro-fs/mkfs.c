/*
 * mkfs.c: toro-fs mkfs IMAGE SIZE [-b BLOCKSIZE]: a new ext2 file system on
 * disk 0 (the image, already made SIZE bytes long by main.c), by the
 * kernel's own ext2_mkfs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev.h"
#include "ext2/mkfs.h"
#include "toro-fs.h"

int parse_size(const char *s, uint64_t *out);

/* IMAGE SIZE [-b BLOCKSIZE]: 0, or -1 after a message. */
static int mkfs_args(int argc, char **argv, uint64_t *size, unsigned *bsize)
{
	*bsize = 0;
	if (argc != 2 && argc != 4) {
		fail(0, 0, "mkfs: expected IMAGE SIZE [-b BLOCKSIZE]");
		return -1;
	}
	if (parse_size(argv[1], size) < 0 || *size < 64 * 1024) {
		fail(0, 0, "mkfs: bad size '%s' (at least 64K)", argv[1]);
		return -1;
	}
	if (argc == 4) {
		uint64_t b;
		if (strcmp(argv[2], "-b") != 0 || parse_size(argv[3], &b) < 0 ||
		    b < 1024 || b > 65536 || (b & (b - 1))) {
			fail(0, 0, "mkfs: block size must be -b 1024, 2048, ... 65536 (a power of 2)");
			return -1;
		}
		*bsize = (unsigned)b;
	}
	return 0;
}

int mkfs_check_args(int argc, char **argv, uint64_t *size)
{
	unsigned bsize;
	return mkfs_args(argc, argv, size, &bsize);
}

int cmd_mkfs(int argc, char **argv, const char *opts)
{
	uint64_t size;
	unsigned bsize;
	if (mkfs_args(argc, argv, &size, &bsize) < 0)
		return EXIT_USAGE;
	struct blkdev *dev = blkdev_get(0);
	if (!dev)
		return fail(EXIT_IMAGE, 0, "%s: no disk", argv[0]);
	struct ext2_mkfs_opts o = { .size = size, .block_size = bsize };
	int rc = ext2_mkfs(dev, &o);
	if (rc < 0)
		return fail(EXIT_IMAGE, rc, "mkfs %s", argv[0]);
	return EXIT_OK;
}
