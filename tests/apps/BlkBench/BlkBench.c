/*
 * BlkBench: raw throughput of disk 0 through the block layer (a benchmark
 * service for bench/ata.sh, not a test; it overwrites the disk's first MIB
 * MiB). Four phases over the first MIB MiB (argv: MIB, default 32; QD,
 * default 8, given as qd=N):
 *   seq-write, seq-read    128 KiB requests, one at a time
 *   rand-write, rand-read  4 KiB requests at 4 KiB-aligned offsets in a
 *                          fixed pseudo-random order (no offset twice),
 *                          QD in flight (blkdev_submit, oldest waited for)
 * and a flush after each write phase, timed with it. Prints, per phase,
 *   BlkBench: PHASE BYTES bytes MS ms MBPS MB/s IOPS iops
 * exit 0, or 1 with a message. Both platforms.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "toro.h"

#define SEQ_IO      (128u * 1024)
#define RAND_IO     4096u
#define QD_MAX      64u

static int fail(const char *what, long err)
{
	WriteConsoleF("BlkBench: %s failed (%ld)\n", what, err);
	return 1;
}

static void report(const char *phase, uint64_t bytes, uint64_t ops, uint64_t ns)
{
	if (!ns)
		ns = 1;
	uint64_t mbps10 = bytes * 10000ull / ns;        /* MB/s x10: bytes/ns x 1000 x 10 */
	uint64_t iops = ops * 1000000000ull / ns;
	WriteConsoleF("BlkBench: %s %lu bytes %lu ms %lu.%lu MB/s %lu iops\n", phase,
	              (unsigned long)bytes, (unsigned long)(ns / 1000000),
	              (unsigned long)(mbps10 / 10), (unsigned long)(mbps10 % 10),
	              (unsigned long)iops);
}

static int sequential(struct blkdev *dev, bool write, uint8_t *buf, uint64_t bytes)
{
	uint32_t count = SEQ_IO / dev->sector_size;
	uint64_t t0 = GetTickCountNs();
	for (uint64_t off = 0; off < bytes; off += SEQ_IO) {
		if (write)
			memset(buf, (int)(off / SEQ_IO), SEQ_IO);
		uint64_t sector = off / dev->sector_size;
		int rc = write ? blkdev_write(dev, sector, buf, count) : blkdev_read(dev, sector, buf, count);
		if (rc < 0)
			return fail(write ? "seq-write" : "seq-read", rc);
		if (!write && buf[0] != (uint8_t)(off / SEQ_IO))
			return fail("seq-read data check", (long)(off / SEQ_IO));
	}
	if (write) {
		int rc = blkdev_flush(dev);
		if (rc < 0)
			return fail("flush", rc);
	}
	report(write ? "seq-write" : "seq-read", bytes, bytes / SEQ_IO, GetTickCountNs() - t0);
	return 0;
}

/* The i-th block of n (a power of 2) in a fixed order that visits each
 * once: an odd multiplier is a permutation modulo a power of 2. */
static uint64_t shuffled(uint64_t i, uint64_t n)
{
	return (i * 40503u + 12345u) & (n - 1);
}

static int random_io(struct blkdev *dev, bool write, uint8_t *bufs, uint64_t bytes, unsigned qd)
{
	uint64_t n = bytes / RAND_IO;
	while (n & (n - 1))
		n &= n - 1;
	uint32_t count = RAND_IO / dev->sector_size;
	struct blkdev_req reqs[QD_MAX];
	uint64_t t0 = GetTickCountNs();
	uint64_t next = 0, done = 0;
	while (done < n) {
		while (next < n && next - done < qd) {
			struct blkdev_req *r = &reqs[next % qd];
			uint8_t *b = bufs + (next % qd) * RAND_IO;
			r->done = NULL;
			int rc = blkdev_submit(dev, write, shuffled(next, n) * (RAND_IO / dev->sector_size),
			                       b, count, r);
			if (rc < 0)
				return fail(write ? "rand-write submit" : "rand-read submit", rc);
			next++;
		}
		int rc = blkdev_wait(&reqs[done % qd]);
		if (rc < 0)
			return fail(write ? "rand-write" : "rand-read", rc);
		done++;
	}
	if (write) {
		int rc = blkdev_flush(dev);
		if (rc < 0)
			return fail("flush", rc);
	}
	report(write ? "rand-write" : "rand-read", n * RAND_IO, n, GetTickCountNs() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned mib = 32, qd = 8;
	for (int i = 1; i < argc; i++) {
		const char *p = argv[i];
		unsigned *to = &mib;
		if (strncmp(p, "qd=", 3) == 0) {
			to = &qd;
			p += 3;
		} else if (*p < '1' || *p > '9') {
			continue;
		}
		*to = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			*to = *to * 10 + (unsigned)(*p - '0');
	}
	if (qd < 1 || qd > QD_MAX)
		return fail("qd= (1..64)", -EINVAL);
	struct blkdev *dev = blkdev_get(0);
	if (!dev)
		return fail("disk 0", -ENODEV);
	uint64_t bytes = (uint64_t)mib << 20;
	if (dev->read_only || bytes > dev->sectors * dev->sector_size || dev->sector_size > RAND_IO)
		return fail("disk 0 writable, large enough, sectors <= 4 KiB", -EINVAL);
	WriteConsoleF("BlkBench: %s, %u MiB, queue depth %u\n", dev->name, mib, qd);
	uint8_t *buf = kmalloc_aligned(SEQ_IO, 4096);
	uint8_t *bufs = kmalloc_aligned((size_t)QD_MAX * RAND_IO, 4096);
	if (!buf || !bufs)
		return fail("memory", -ENOMEM);
	memset(bufs, 0x5a, (size_t)QD_MAX * RAND_IO);
	if (sequential(dev, true, buf, bytes) || sequential(dev, false, buf, bytes) ||
	    random_io(dev, true, bufs, bytes, qd) || random_io(dev, false, bufs, bytes, qd))
		return 1;
	return 0;
}
