/*
 * FsBench: sequential file throughput through the VFS on the first disk
 * (a benchmark service for bench/ata.sh, not a test). Mounts disk 0's ext2
 * at "/", writes /bench.dat (MiB given as argv[1], default 32) in 128 KiB
 * writes and syncs, unmounts and mounts again (so nothing is cached), reads
 * it back, checks a few bytes, and unlinks it. Prints
 *   FsBench: write N MiB MS ms MBPS MB/s
 *   FsBench: read N MiB MS ms MBPS MB/s
 * timed with GetTickCountNs; exit 0, or 1 with a message. Both platforms.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "alloc.h"
#include "toro.h"
#include "vfs.h"

#define IO_SIZE (128 * 1024)
#define PATH "/bench.dat"

static int fail(const char *what, long err)
{
	WriteConsoleF("FsBench: %s failed (%ld)\n", what, err);
	return 1;
}

static void report(const char *what, unsigned mib, uint64_t ns)
{
	uint64_t ms = ns / 1000000;
	uint64_t kbps = ns ? (uint64_t)mib * 1024 * 1000000000ull / ns : 0;    /* KiB/s */
	uint64_t mbps10 = kbps * 1024 * 10 / 1000000;                           /* MB/s x10 */
	WriteConsoleF("FsBench: %s %u MiB %lu ms %lu.%lu MB/s\n", what, mib,
	              (unsigned long)ms, (unsigned long)(mbps10 / 10), (unsigned long)(mbps10 % 10));
}

int main(int argc, char **argv)
{
	unsigned mib = 32;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] >= '1' && argv[i][0] <= '9') {
			mib = 0;
			for (const char *p = argv[i]; *p >= '0' && *p <= '9'; p++)
				mib = mib * 10 + (unsigned)(*p - '0');
		}
	}
	char *buf = kmalloc_aligned(IO_SIZE, 4096);
	if (!buf)
		return fail("memory", -ENOMEM);
	int rc = SysMount("/", "ext2", 0, 0);
	if (rc < 0)
		return fail("mount", rc);
	vfs_unlink(PATH);
	unsigned n = mib * (1024 * 1024 / IO_SIZE);

	uint64_t t0 = GetTickCountNs();
	int fd = vfs_open(PATH, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("create", fd);
	for (unsigned i = 0; i < n; i++) {
		memset(buf, 'a' + (int)(i % 26), IO_SIZE);
		long w = vfs_write(fd, buf, IO_SIZE);
		if (w != IO_SIZE)
			return fail("write", w);
	}
	rc = vfs_fsync(fd);
	if (rc < 0)
		return fail("fsync", rc);
	vfs_close(fd);
	rc = SysSync();
	if (rc < 0)
		return fail("sync", rc);
	report("write", mib, GetTickCountNs() - t0);

	rc = SysUnmount("/");
	if (rc < 0)
		return fail("unmount", rc);
	rc = SysMount("/", "ext2", 0, 0);
	if (rc < 0)
		return fail("mount again", rc);
	t0 = GetTickCountNs();
	fd = vfs_open(PATH, O_RDONLY, 0);
	if (fd < 0)
		return fail("open", fd);
	for (unsigned i = 0; i < n; i++) {
		long r = vfs_read(fd, buf, IO_SIZE);
		if (r != IO_SIZE)
			return fail("read", r);
		if (buf[0] != 'a' + (int)(i % 26) || buf[IO_SIZE - 1] != buf[0])
			return fail("data check", i);
	}
	vfs_close(fd);
	report("read", mib, GetTickCountNs() - t0);
	vfs_unlink(PATH);
	rc = SysUnmount("/");
	if (rc < 0)
		return fail("final unmount", rc);
	return 0;
}
