/*
 * mkfs.c: toro-fs mkfs IMAGE SIZE [-b BLOCKSIZE] [-j]: a new ext2 file
 * system (-j: ext3, with a journal) on disk 0 (the image, already made SIZE
 * bytes long by main.c), by the kernel's own ext2_mkfs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev.h"
#include "ext2/mkfs.h"
#include "toro-fs.h"

int parse_size(const char *s, uint64_t *out);

/* IMAGE SIZE [-b BLOCKSIZE] [-j]: 0, or -1 after a message. */
static int mkfs_args(int argc, char **argv, uint64_t *size, unsigned *bsize, bool *journal)
{
	*bsize = 0;
	*journal = false;
	if (argc < 2) {
		fail(0, 0, "mkfs: expected IMAGE SIZE [-b BLOCKSIZE] [-j]");
		return -1;
	}
	if (parse_size(argv[1], size) < 0 || *size < 64 * 1024) {
		fail(0, 0, "mkfs: bad size '%s' (at least 64K)", argv[1]);
		return -1;
	}
	for (int i = 2; i < argc; i++) {
		uint64_t b;
		if (strcmp(argv[i], "-j") == 0) {
			*journal = true;
		} else if (strcmp(argv[i], "-b") != 0) {
			fail(0, 0, "mkfs: expected -j or -b BLOCKSIZE, not '%s'", argv[i]);
			return -1;
		} else if (i + 1 < argc && parse_size(argv[i + 1], &b) == 0 &&
		           b >= 1024 && b <= 65536 && !(b & (b - 1))) {
			*bsize = (unsigned)b;
			i++;
		} else {
			fail(0, 0, "mkfs: block size must be -b 1024, 2048, ... 65536 (a power of 2)");
			return -1;
		}
	}
	return 0;
}

int mkfs_check_args(int argc, char **argv, uint64_t *size)
{
	unsigned bsize;
	bool journal;
	return mkfs_args(argc, argv, size, &bsize, &journal);
}

int cmd_mkfs(int argc, char **argv, const char *opts)
{
	uint64_t size;
	unsigned bsize;
	bool journal;
	if (mkfs_args(argc, argv, &size, &bsize, &journal) < 0)
		return EXIT_USAGE;
	struct blkdev *dev = blkdev_get(0);
	if (!dev)
		return fail(EXIT_IMAGE, 0, "%s: no disk", argv[0]);
	struct ext2_mkfs_opts o = { .size = size, .block_size = bsize, .journal = journal };
	int rc = ext2_mkfs(dev, &o);
	if (rc == -EINVAL && journal)
		return fail(EXIT_IMAGE, 0, "mkfs %s: too small for a journal of 1024 blocks", argv[0]);
	if (rc < 0)
		return fail(EXIT_IMAGE, rc, "mkfs %s", argv[0]);
	return EXIT_OK;
}
