/*
 * BlkRaw: the block layer on every disk the platform offers, below any file
 * system (it overwrites the last 512 sectors of each disk). For each disk:
 * a multi-command write and read-back at the end (over 256 sectors, so the
 * ATA driver splits it), the last sector alone, reads and writes past the
 * end (-EINVAL from blkdev and from hal_blk_submit itself, never a hang), a
 * flush, and one thread per CPU doing its own I/O at once (the channel's
 * queue, completions on each submitter's CPU). Prints PASS:/FAIL: lines and
 * "N passed, N failed"; exit status 0 when all passed. Both platforms.
 * It also starts the NICs (their drivers print what they set up), so that
 * a test can boot disks and NICs on one transport: a service without
 * sockets has no NIC drivers unless it asks for the NICs itself.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "blkdev.h"
#include "hal.h"
#include "toro.h"

#define SPAN 300u               /* sectors of the long transfer */
#define PER_THREAD 24u          /* sectors each CPU's thread writes */

static int passed, failed;

static void check(bool ok, const char *disk, const char *what)
{
	if (ok)
		passed++;
	else
		failed++;
	WriteConsoleF("%s: %s: %s\n", ok ? "PASS" : "FAIL", disk, what);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) ^ seed);
}

struct hal_done {
	volatile int calls;
	volatile int status;
	volatile unsigned cpu;          /* where the callback ran */
	volatile bool irq_on;           /* interrupts enabled there (wrong) */
};

static void hal_done_fn(void *arg, int status)
{
	struct hal_done *d = arg;
	d->status = status;
	d->cpu = hal_cpu_id();
	d->irq_on = hal_irq_enabled();
	__atomic_add_fetch(&d->calls, 1, __ATOMIC_RELEASE);
}

struct worker {
	struct blkdev *dev;
	uint64_t first;
	unsigned cpu;
	int ok;
};

static int worker_main(void *arg)
{
	struct worker *w = arg;
	size_t bytes = PER_THREAD * 512;
	uint8_t *a = kmalloc_aligned(bytes, 512), *b = kmalloc_aligned(bytes, 512);
	w->ok = a && b;
	for (int round = 0; w->ok && round < 8; round++) {
		fill(a, bytes, w->cpu * 100 + (unsigned)round);
		memset(b, 0, bytes);
		w->ok = blkdev_write(w->dev, w->first, a, PER_THREAD) == 0 &&
		        GetCoreId() == w->cpu &&
		        blkdev_read(w->dev, w->first, b, PER_THREAD) == 0 &&
		        memcmp(a, b, bytes) == 0;
	}
	/* hal.h's contract, seen from the callback: once, in irq context,
	 * on the CPU that submitted. */
	if (w->ok) {
		struct hal_done d = { 0, 1, 99, true };
		int rc = hal_blk_submit(w->dev->hal, HAL_BLK_READ, w->first, b, 8, hal_done_fn, &d);
		uint64_t until = GetTickCountNs() + 30000000000ull;
		while (rc == 0 && __atomic_load_n(&d.calls, __ATOMIC_ACQUIRE) == 0 &&
		       GetTickCountNs() < until)
			SysThreadSwitch();
		Sleep(20);              /* a second call would come by now */
		w->ok = rc == 0 && d.calls == 1 && d.status == 0 && d.cpu == w->cpu && !d.irq_on;
		if (!w->ok)
			WriteConsoleF("BlkRaw: CPU %u: submit %d, %d calls, status %d, on CPU %u, irq %s\n",
			              w->cpu, rc, d.calls, d.status, d.cpu, d.irq_on ? "on" : "off");
	}
	kfree(a);
	kfree(b);
	return 0;
}


/* A read-only disk: reads work, a write is refused at once with -EROFS
 * (by hal_blk_submit, no callback), its sectors untouched. */
static void test_read_only(struct blkdev *dev)
{
	const char *name = dev->name;
	uint8_t *a = kmalloc_aligned(4096, 4096), *b = kmalloc_aligned(4096, 4096);
	if (!a || !b) {
		check(false, name, "memory");
		return;
	}
	uint32_t n = 4096 / dev->sector_size;
	check(blkdev_read(dev, 0, a, n) == 0, name, "read-only disk: read");
	memset(b, 0x5a, 4096);
	struct hal_done d = { 0, 1, 0, false };
	int rc = hal_blk_submit(dev->hal, HAL_BLK_WRITE, 0, b, n, hal_done_fn, &d);
	check(rc == -EROFS && d.calls == 0, name, "read-only disk: write is -EROFS, no callback");
	memset(b, 0, 4096);
	check(blkdev_read(dev, 0, b, n) == 0 && memcmp(a, b, 4096) == 0, name,
	      "read-only disk: contents unchanged");
	kfree(a);
	kfree(b);
}

static void test_disk(unsigned index)
{
	struct blkdev *dev = blkdev_get(index);
	if (!dev) {
		check(false, "?", "blkdev_get");
		return;
	}
	const char *name = dev->name;
	WriteConsoleF("BlkRaw: disk %u: %s, %lu sectors\n", index, name,
	              (unsigned long)dev->sectors);
	if (dev->read_only) {
		test_read_only(dev);
		return;
	}
	if (dev->sectors < 2 * SPAN) {
		check(false, name, "disk large enough and writable");
		return;
	}
	size_t bytes = SPAN * 512;
	uint8_t *a = kmalloc_aligned(bytes, 512), *b = kmalloc_aligned(bytes, 512);
	if (!a || !b) {
		check(false, name, "memory");
		return;
	}
	uint64_t end = dev->sectors;

	fill(a, bytes, index + 1);
	memset(b, 0, bytes);
	int w = blkdev_write(dev, end - SPAN, a, SPAN);
	int r = blkdev_read(dev, end - SPAN, b, SPAN);
	check(w == 0 && r == 0 && memcmp(a, b, bytes) == 0, name,
	      "300-sector write and read back at the end");

	fill(a, 512, 77 + index);
	memset(b, 0, 512);
	w = blkdev_write(dev, end - 1, a, 1);
	r = blkdev_read(dev, end - 1, b, 1);
	check(w == 0 && r == 0 && memcmp(a, b, 512) == 0, name, "last sector");

	check(blkdev_read(dev, end, b, 1) == -EINVAL, name, "read at the end is -EINVAL");
	check(blkdev_read(dev, end - 1, b, 2) == -EINVAL, name, "read across the end is -EINVAL");
	check(blkdev_write(dev, end + 1000, a, 1) == -EINVAL, name, "write past the end is -EINVAL");

	struct hal_done d = { 0, 1, 0, false };
	int rc = hal_blk_submit(dev->hal, HAL_BLK_READ, end, b, 1, hal_done_fn, &d);
	check(rc == -EINVAL && d.calls == 0, name, "hal_blk_submit past the end: -EINVAL, no callback");
	rc = hal_blk_submit(dev->hal, HAL_BLK_READ, end - 1, b, 0, hal_done_fn, &d);
	check(rc == -EINVAL && d.calls == 0, name, "hal_blk_submit of 0 sectors: -EINVAL");

	check(blkdev_flush(dev) == 0, name, "flush");

	/* One thread per CPU, each on its own sectors, all at once. */
	unsigned ncpu = GetCPUCount();
	if (ncpu > 8)
		ncpu = 8;
	struct worker workers[8];
	TThread *threads[8];
	for (unsigned c = 0; c < ncpu; c++) {
		workers[c] = (struct worker){ dev, end - SPAN - (c + 1) * PER_THREAD, c, 0 };
		threads[c] = BeginJoinableThread(0, worker_main, &workers[c], c);
	}
	bool all = true;
	for (unsigned c = 0; c < ncpu; c++) {
		if (threads[c])
			WaitThread(threads[c]);
		all = all && threads[c] && workers[c].ok;
	}
	check(all, name, "one writer/reader per CPU at once, completions on its CPU");
	kfree(a);
	kfree(b);
}

static void nic_notify(void *arg, unsigned queue)
{
}

int main(int argc, char **argv)
{
	unsigned nics = hal_net_count();
	WriteConsoleF("BlkRaw: %u NIC(s)\n", nics);
	for (unsigned i = 0; i < nics; i++)
		if (hal_net_start(hal_net_get(i), nic_notify, NULL) < 0)
			WriteConsoleF("BlkRaw: NIC %u did not start\n", i);
	unsigned n = blkdev_count();
	WriteConsoleF("BlkRaw: %u disk(s)\n", n);
	check(n > 0, "-", "at least one disk");
	for (unsigned i = 0; i < n; i++)
		test_disk(i);
	WriteConsoleF("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
