/*
 * blk.c: disks as image files (hal_blk_* of hal.h).
 *
 * Each disk is an image file opened by hal_posix_run before the kernel
 * boots (posix_disks_open) and closed after it ends (posix_disks_close).
 * Reads and writes go through Linux AIO (io_submit), with O_DIRECT when the
 * host file system takes it; one completion thread per disk waits in
 * io_getevents and hands each completion to the CPU that submitted it with
 * hal_posix_raise_irq, where the kernel's done callback runs in irq context.
 *
 * Requests AIO cannot take (no AIO context, an io_submit error, O_DIRECT
 * refusing a buffer, a disk configured buffered) and every FLUSH
 * (fdatasync) go to a worker thread that does them with pread/pwrite/
 * fdatasync on a buffered descriptor. A FLUSH
 * covers every write that completed before it was submitted, as hal.h asks:
 * those writes are in the file already, and fdatasync makes them durable
 * (O_DIRECT writes too: they bypass only the page cache, not the disk's).
 *
 * Host calls go through the sys_* wrappers below; tests make requests fail
 * with hal_posix_blk_fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal.h"
#include "posix.h"

#define SECTOR 512u
#define AIO_DEPTH 128

struct blk_req {
	struct iocb cb;             /* first: io_event.obj points here */
	struct hal_blkdev *dev;
	enum hal_blk_op op;
	uint64_t sector;
	void *buf;
	uint32_t count;
	hal_blk_done_fn done;
	void *arg;
	unsigned cpu;               /* submitter, where done runs */
	int status;
	struct blk_req *next;       /* worker queue */
};

struct hal_blkdev {
	int fd_direct;              /* O_DIRECT descriptor, or -1 */
	int fd;                     /* buffered descriptor */
	uint64_t sectors;
	bool read_only;
	char name[32];

	io_context_t aio;           /* 0 when AIO is unavailable */
	bool aio_ok;
	pthread_t reaper;           /* completion thread (AIO) */
	bool reaper_started;

	pthread_mutex_t lock;       /* guards the fields below */
	pthread_cond_t cond;
	struct blk_req *queue, **queue_tail;  /* worker's requests, FIFO */
	bool worker_waiting;        /* in pthread_cond_wait, not yet signalled */
	unsigned inflight_aio;
	bool stop;
	pthread_t worker;
	bool worker_started;
};

static struct hal_blkdev disks[POSIX_MAX_DISKS];
static unsigned ndisks;

/* Injected failures (hal_posix_blk_fail), per disk: a mask of 1 << op and
 * how many such requests still succeed first. */
static unsigned fail_ops[POSIX_MAX_DISKS];
static unsigned long fail_after[POSIX_MAX_DISKS];
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

void hal_posix_blk_fail(unsigned disk, unsigned ops, unsigned long after)
{
	if (disk >= POSIX_MAX_DISKS)
		return;
	pthread_mutex_lock(&fail_lock);
	fail_ops[disk] = ops;
	fail_after[disk] = after;
	pthread_mutex_unlock(&fail_lock);
}

static bool injected_failure(struct hal_blkdev *dev, enum hal_blk_op op)
{
	unsigned disk = (unsigned)(dev - disks);
	bool fail = false;
	pthread_mutex_lock(&fail_lock);
	if (fail_ops[disk] & (1u << op)) {
		if (fail_after[disk])
			fail_after[disk]--;
		else
			fail = true;
	}
	pthread_mutex_unlock(&fail_lock);
	return fail;
}

/* ---- Host call wrappers (fault injection point for tests) ---------------- */

static ssize_t sys_pread(int fd, void *buf, size_t len, off_t off) { return pread(fd, buf, len, off); }
static ssize_t sys_pwrite(int fd, const void *buf, size_t len, off_t off) { return pwrite(fd, buf, len, off); }
static int sys_fdatasync(int fd) { return fdatasync(fd); }

/* ---- Completion ------------------------------------------------------------ */

static void complete_irq(void *arg)
{
	struct blk_req *r = arg;
	hal_blk_done_fn done = r->done;
	void *darg = r->arg;
	int status = r->status;
	free(r);
	done(darg, status);
}

static void complete(struct blk_req *r, int status)
{
	r->status = status;
	while (hal_posix_raise_irq(r->cpu, complete_irq, r) < 0)
		usleep(1000);       /* out of host memory: try again */
}

/* Do r synchronously on the buffered descriptor: 0 or -errno. */
static int do_sync(struct blk_req *r)
{
	struct hal_blkdev *d = r->dev;
	if (r->op == HAL_BLK_FLUSH)
		return sys_fdatasync(d->fd) < 0 ? -errno : 0;
	size_t len = (size_t)r->count * SECTOR, done = 0;
	off_t off = (off_t)(r->sector * SECTOR);
	while (done < len) {
		ssize_t n = r->op == HAL_BLK_READ
		            ? sys_pread(d->fd, (char *)r->buf + done, len - done, off + (off_t)done)
		            : sys_pwrite(d->fd, (char *)r->buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EIO;
		if (n == 0) {
			if (r->op != HAL_BLK_READ)
				return -EIO;
			memset((char *)r->buf + done, 0, len - done);  /* short image */
			break;
		}
		done += (size_t)n;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct hal_blkdev *d = arg;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (!d->queue && !d->stop) {
			d->worker_waiting = true;
			pthread_cond_wait(&d->cond, &d->lock);
			d->worker_waiting = false;
		}
		if (!d->queue)
			break;
		struct blk_req *r = d->queue;
		d->queue = r->next;
		if (!d->queue)
			d->queue_tail = &d->queue;
		pthread_mutex_unlock(&d->lock);
		complete(r, do_sync(r));
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Queue r for the worker. Signalled only when it waits (a busy worker
 * looks at the queue before it waits again), and once, after the lock is
 * let go: a burst of write-back does not wake it request by request, nor
 * wake it only to have it wait for the lock. */
static void to_worker(struct blk_req *r)
{
	struct hal_blkdev *d = r->dev;
	r->next = NULL;
	pthread_mutex_lock(&d->lock);
	*d->queue_tail = r;
	d->queue_tail = &r->next;
	bool wake = d->worker_waiting;
	d->worker_waiting = false;
	pthread_mutex_unlock(&d->lock);
	if (wake)
		pthread_cond_signal(&d->cond);
}

static void *reaper_main(void *arg)
{
	struct hal_blkdev *d = arg;
	struct io_event ev[32];
	for (;;) {
		pthread_mutex_lock(&d->lock);
		bool done = d->stop && d->inflight_aio == 0;
		pthread_mutex_unlock(&d->lock);
		if (done)
			break;
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		int n = io_getevents(d->aio, 1, 32, ev, &ts);
		if (n < 0 && n != -EINTR)
			usleep(1000);
		for (int i = 0; i < n; i++) {
			struct blk_req *r = (struct blk_req *)ev[i].obj;
			long res = (long)ev[i].res;
			pthread_mutex_lock(&d->lock);
			d->inflight_aio--;
			pthread_mutex_unlock(&d->lock);
			if (res == (long)r->count * (long)SECTOR) {
				complete(r, 0);
			} else if (res >= 0 && r->op == HAL_BLK_READ) {
				/* Short read (end of a short image): finish it buffered. */
				to_worker(r);
			} else if (res == -EINVAL || res == -EOPNOTSUPP) {
				to_worker(r);       /* O_DIRECT refused this buffer */
			} else {
				complete(r, -EIO);
			}
		}
	}
	return NULL;
}

/* ---- hal.h --------------------------------------------------------------- */

unsigned hal_blk_count(void) { return ndisks; }

struct hal_blkdev *hal_blk_get(unsigned index)
{
	return index < ndisks ? &disks[index] : NULL;
}

void hal_blk_info(struct hal_blkdev *dev, struct hal_blk_info *info)
{
	info->sectors = dev->sectors;
	info->sector_size = SECTOR;
	info->read_only = dev->read_only;
	memcpy(info->name, dev->name, sizeof(info->name));
}

int hal_blk_submit(struct hal_blkdev *dev, enum hal_blk_op op, uint64_t sector,
                   void *buf, uint32_t count, hal_blk_done_fn done, void *arg)
{
	if (op != HAL_BLK_FLUSH) {
		if (count == 0 || sector > dev->sectors || count > dev->sectors - sector)
			return -EINVAL;
		if (op != HAL_BLK_READ && op != HAL_BLK_WRITE)
			return -EINVAL;
	}
	if (op != HAL_BLK_READ && dev->read_only)
		return -EROFS;
	struct blk_req *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->dev = dev;
	r->op = op;
	r->sector = sector;
	r->buf = buf;
	r->count = count;
	r->done = done;
	r->arg = arg;
	r->cpu = hal_cpu_id();

	if (injected_failure(dev, op)) {
		complete(r, -EIO);
		return 0;
	}
	bool aligned = ((uintptr_t)buf % SECTOR) == 0;
	if (op != HAL_BLK_FLUSH && dev->aio_ok && dev->fd_direct >= 0 && aligned) {
		if (op == HAL_BLK_READ)
			io_prep_pread(&r->cb, dev->fd_direct, buf, (size_t)count * SECTOR,
			              (long long)(sector * SECTOR));
		else
			io_prep_pwrite(&r->cb, dev->fd_direct, buf, (size_t)count * SECTOR,
			               (long long)(sector * SECTOR));
		struct iocb *cbs[1] = { &r->cb };
		pthread_mutex_lock(&dev->lock);
		dev->inflight_aio++;
		pthread_mutex_unlock(&dev->lock);
		if (io_submit(dev->aio, 1, cbs) == 1)
			return 0;
		pthread_mutex_lock(&dev->lock);
		dev->inflight_aio--;
		pthread_mutex_unlock(&dev->lock);
	}
	to_worker(r);
	return 0;
}

/* ---- Opening and closing --------------------------------------------------- */

static void close_disk(struct hal_blkdev *d)
{
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->reaper_started)
		pthread_join(d->reaper, NULL);
	if (d->worker_started)
		pthread_join(d->worker, NULL);
	if (d->aio)
		io_destroy(d->aio);
	if (d->fd_direct >= 0)
		close(d->fd_direct);
	if (d->fd >= 0)
		close(d->fd);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	memset(d, 0, sizeof(*d));
	d->fd = d->fd_direct = -1;
}

/* Does O_DIRECT work on fd? Read the first sector into an aligned buffer. */
static bool direct_works(int fd)
{
	void *p;
	if (posix_memalign(&p, 4096, 4096))
		return false;
	ssize_t n = pread(fd, p, SECTOR, 0);
	free(p);
	return n == (ssize_t)SECTOR;
}

static int open_disk(struct hal_blkdev *d, unsigned index, const char *path, bool ro,
                     bool buffered)
{
	memset(d, 0, sizeof(*d));
	d->fd = d->fd_direct = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->queue_tail = &d->queue;
	d->read_only = ro;

	int flags = (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	d->fd = open(path, flags);
	if (d->fd < 0)
		return -errno;
	struct stat st;
	if (fstat(d->fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		d->sectors = (uint64_t)st.st_size / SECTOR;
	} else {
		off_t end = lseek(d->fd, 0, SEEK_END);
		if (end < 0)
			return -errno;
		d->sectors = (uint64_t)end / SECTOR;
	}
	if (d->sectors == 0)
		return -EINVAL;
	const char *base = strrchr(path, '/');
	snprintf(d->name, sizeof(d->name), "disk%u: %s", index, base ? base + 1 : path);

	d->fd_direct = buffered ? -1 : open(path, flags | O_DIRECT);
	if (d->fd_direct >= 0 && !direct_works(d->fd_direct)) {
		close(d->fd_direct);
		d->fd_direct = -1;
	}
	if (d->fd_direct >= 0 && io_setup(AIO_DEPTH, &d->aio) == 0) {
		d->aio_ok = true;
		if (pthread_create(&d->reaper, NULL, reaper_main, d) == 0)
			d->reaper_started = true;
		else
			d->aio_ok = false;
	}
	if (pthread_create(&d->worker, NULL, worker_main, d) != 0)
		return -EAGAIN;
	d->worker_started = true;
	return 0;
}

int posix_disks_open(const struct posix_config *cfg)
{
	ndisks = 0;
	for (unsigned i = 0; i < cfg->ndisks && i < POSIX_MAX_DISKS; i++) {
		int rc = open_disk(&disks[i], i, cfg->disk_path[i], cfg->disk_read_only[i],
		                   cfg->disk_buffered[i]);
		if (rc < 0) {
			fprintf(stderr, "toro: cannot open disk image '%s': %s\n", cfg->disk_path[i],
			        rc == -EINVAL ? "empty (less than one 512-byte sector)" : strerror(-rc));
			close_disk(&disks[i]);
			posix_disks_close();
			return rc;
		}
		ndisks = i + 1;
	}
	return 0;
}

void posix_disks_close(void)
{
	for (unsigned i = 0; i < POSIX_MAX_DISKS; i++)
		hal_posix_blk_fail(i, 0, 0);
	for (unsigned i = 0; i < ndisks; i++)
		close_disk(&disks[i]);
	ndisks = 0;
}
