/*
 * serve.c: the kernel side of torofuse (interface and order in serve.h).
 *
 * Each kernel CPU has a queue of worker threads. When the FUSE device
 * becomes readable, the HAL runs dev_ready() on an idle CPU, which wakes
 * one of that CPU's workers; a worker serves requests until the device is
 * empty. A request that waits for the disk leaves its CPU idle, so the next
 * request wakes another worker there: requests overlap without a worker
 * having to wake a sibling for each one.
 *
 * Where the host lets FUSE use io_uring (uring.h), each CPU also has a ring
 * with the requests of the host CPU it is pinned to, opened by one of its
 * workers once the INIT reply is out; its workers serve the ring and the
 * device alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blkdev.h"
#include "hal.h"
#include "node.h"
#include "ops.h"
#include "posix.h"
#include "serve.h"
#include "spinlock.h"
#include "thread.h"
#include "uring.h"
#include "vfs.h"
#include "waitq.h"

#define WORKERS_DEFAULT 8
#define WORKERS_MAX 64
#define WORKER_STACK (256 * 1024)

/* A caller's next request comes when it has handled the last reply: poll
 * that long before sleeping. A CPU that sleeps lets the host scheduler
 * move the caller onto it (an idle CPU), and waking a sleeping CPU costs
 * up to 70 µs on a nested host; with the ring queues (uring.h), a
 * 500 µs poll took 9000-file untar and cp -a from 3.4 and 4.6 s to 2.1 and
 * 2.6 s. The window shrinks by itself when requests stop coming. */
#define IDLE_POLL_NS 500000ull

/* One per kernel CPU. */
struct queue {
	struct waitq wq;            /* wq.lock guards ready, open_ring and stop */
	bool ready;                 /* the device or the ring may hold a request */
	bool open_ring;             /* the INIT reply is out: a worker opens ring */
	bool stop;
	struct uring *ring;         /* this CPU's workers', once open */
	unsigned nworkers;
	struct thread *workers[WORKERS_MAX];
} __attribute__((aligned(64)));

/* Host side (start and stop) under g.lock; kernel side as marked. */
static struct {
	struct serve_config cfg;
	pthread_t kernel;           /* runs hal_posix_run */
	int kernel_status;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool booted;                /* the service main reported the mount */
	int mount_rc;
	int unmount_rc;

	struct fuse_session *se;    /* set before the kernel is asked to serve */
	pthread_t starter;          /* gets SIGUSR1 when the session ends */
	int session_over;           /* atomic */

	/* Kernel side: control.lock guards command. */
	struct waitq control;
	enum { IDLE, START, STOP } command;
	unsigned ncpus;
	struct queue queues[HAL_MAX_CPUS];
} g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* ---- Kernel threads ------------------------------------------------------- */

static void wake_reader(struct queue *q)
{
	spin_lock(&q->wq.lock);
	q->ready = true;
	waitq_wake_one_locked(&q->wq);
	spin_unlock(&q->wq.lock);
}

/* The HAL: the device became readable (irq context, on an idle CPU). */
static void dev_ready(void *arg)
{
	wake_reader(&g.queues[hal_cpu_id()]);
}

/* The HAL: a CPU's ring has a request (irq context, most often on it). */
static void ring_ready(void *arg)
{
	wake_reader(arg);
}

void serve_init_written(void)
{
	for (unsigned c = 0; c < g.ncpus; c++) {
		struct queue *q = &g.queues[c];
		spin_lock(&q->wq.lock);
		q->open_ring = q->ready = true;
		waitq_wake_one_locked(&q->wq);
		spin_unlock(&q->wq.lock);
	}
}

static void end_of_session(void)
{
	if (__atomic_exchange_n(&g.session_over, 1, __ATOMIC_ACQ_REL) == 0)
		pthread_kill(g.starter, SIGUSR1);
}

/* open_ring: q's CPU (the caller's) serves its host CPU's requests from
 * now on; without io_uring, or if that fails, they keep coming through the
 * device. */
static void open_ring(struct queue *q)
{
	struct uring *r;
	int rc = uring_open(fuse_session_fd(g.se), ring_ready, q, &r);
	if (rc == 0)
		q->ring = r;
	else if (rc != -EOPNOTSUPP && rc != -ENOENT)  /* not asked, or no queue here */
		kprintf("torofuse: CPU %u takes no requests through io_uring: %s\n",
		        hal_cpu_id(), strerror(-rc));
}

/* serve_ring, serve_device: serve what each holds; false once the session
 * is over. */
static bool serve_ring(struct queue *q)
{
	struct fuse_buf buf;
	while (uring_next(q->ring, &buf) > 0) {
		fuse_session_process_buf(g.se, &buf);
		if (fuse_session_exited(g.se))
			return false;
	}
	return true;
}

static bool serve_device(struct fuse_buf *buf)
{
	for (;;) {
		int n = fuse_session_receive_buf(g.se, buf);
		if (n == -EAGAIN || n == -EINTR)
			return true;
		if (n <= 0 || fuse_session_exited(g.se))
			return false;
		fuse_session_process_buf(g.se, buf);
	}
}

static int worker_main(void *arg)
{
	struct queue *q = arg;
	struct fuse_buf buf = { 0 };
	for (;;) {
		spin_lock(&q->wq.lock);
		while (!q->ready && !q->stop)
			waitq_wait_locked(&q->wq, 0);
		bool stop = q->stop, open = q->open_ring;
		q->ready = q->open_ring = false;
		spin_unlock(&q->wq.lock);
		if (stop)
			break;
		if (open)
			open_ring(q);
		if ((q->ring && !serve_ring(q)) || !serve_device(&buf))
			end_of_session();
	}
	free(buf.mem);
	return 0;
}

static int start_workers(void)
{
	unsigned n = g.cfg.workers_per_cpu ? g.cfg.workers_per_cpu : WORKERS_DEFAULT;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	for (unsigned c = 0; c < g.ncpus; c++) {
		struct queue *q = &g.queues[c];
		for (unsigned i = 0; i < n; i++) {
			struct thread *t = thread_create(c, worker_main, q, WORKER_STACK);
			if (!t)
				return q->nworkers == 0 ? -ENOMEM : 0;
			q->workers[q->nworkers++] = t;
		}
	}
	/* Requests may be waiting already: every CPU looks once. */
	for (unsigned c = 0; c < g.ncpus; c++)
		wake_reader(&g.queues[c]);
	return hal_posix_watch_fd(fuse_session_fd(g.se), dev_ready, NULL);
}

static void stop_workers(void)
{
	hal_posix_unwatch_fd(fuse_session_fd(g.se));
	for (unsigned c = 0; c < g.ncpus; c++) {
		struct queue *q = &g.queues[c];
		spin_lock(&q->wq.lock);
		q->stop = true;
		waitq_wake_all_locked(&q->wq);
		spin_unlock(&q->wq.lock);
	}
	for (unsigned c = 0; c < g.ncpus; c++) {
		struct queue *q = &g.queues[c];
		for (unsigned i = 0; i < q->nworkers; i++)
			thread_join(q->workers[i]);
		q->nworkers = 0;
		if (q->ring)
			uring_close(q->ring);
		q->ring = NULL;
	}
	if (g.cfg.print_stats && uring_requests())
		kprintf("torofuse: %llu requests through io_uring\n",
		        (unsigned long long)uring_requests());
}

static void report_boot(int rc)
{
	pthread_mutex_lock(&g.lock);
	g.mount_rc = rc;
	g.booted = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
}

static void command_irq(void *arg)
{
	spin_lock(&g.control.lock);
	g.command = (int)(intptr_t)arg;
	waitq_wake_all_locked(&g.control);
	spin_unlock(&g.control.lock);
}

/* Wait for the host's next command. */
static int next_command(void)
{
	spin_lock(&g.control.lock);
	while (g.command == IDLE)
		waitq_wait_locked(&g.control, 0);
	int c = g.command;
	g.command = IDLE;
	spin_unlock(&g.control.lock);
	return c;
}

/*
 * The block cache unless -o cache_kib says: a quarter of the kernel's
 * memory, at most 256 MiB and an eighth of the host's RAM, and never less
 * than the ext2 driver's own 32 MiB. With 32 MiB, cp -a of a tree the
 * size of /usr/include read most of its source back from the image.
 */
static size_t default_cache_bytes(size_t mem_bytes)
{
	size_t bytes = (mem_bytes ? mem_bytes : POSIX_DEFAULT_MEM_BYTES) / 4;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	if (pages > 0 && page > 0 && (size_t)pages * (size_t)page / 8 < bytes)
		bytes = (size_t)pages * (size_t)page / 8;
	if (bytes > (256u << 20))
		bytes = 256u << 20;
	return bytes < (32u << 20) ? 32u << 20 : bytes;
}

static int mount_image(void)
{
	struct blkdev *dev = NULL;
	if (strcmp(g.cfg.fstype, "ramfs") != 0 && !(dev = blkdev_get(0)))
		return -ENODEV;
	if (dev) {
		dev->cache_bytes = g.cfg.cache_bytes ? g.cfg.cache_bytes
		                                     : default_cache_bytes(g.cfg.mem_bytes);
		dev->commit_ms = g.cfg.commit_ms;
		dev->print_stats = g.cfg.print_stats;
	}
	int rc = vfs_mount("/", g.cfg.fstype, dev, g.cfg.read_only ? FS_MOUNT_RDONLY : 0);
	if (rc == -EROFS && !g.cfg.read_only) {
		/* Damaged allocation metadata (the driver said what): read-only,
		 * so the files can be copied out, as fuse2fs does. */
		kprintf("torofuse: mounting read-only instead\n");
		rc = vfs_mount("/", g.cfg.fstype, dev, FS_MOUNT_RDONLY);
	}
	if (rc < 0)
		return rc;
	struct vnode *root;
	rc = vfs_node_at(NULL, "/", true, &root);
	if (rc < 0) {
		vfs_unmount("/");
		return rc;
	}
	node_init(root);
	return 0;
}

/* The kernel's service main: mount, serve when told, stop when told. */
int toro_main(int argc, char **argv)
{
	g.ncpus = hal_cpu_count();
	waitq_init(&g.control, "serve_control");
	for (unsigned c = 0; c < g.ncpus; c++) {
		waitq_init(&g.queues[c].wq, "serve_queue");
		g.queues[c].nworkers = 0;
	}
	int rc = mount_image();
	report_boot(rc);
	if (rc < 0)
		return 1;

	bool serving = false;
	if (next_command() == START) {
		rc = start_workers();
		serving = true;
		if (rc < 0)
			end_of_session();
		while (next_command() != STOP)
			;
	}
	if (serving)
		stop_workers();
	ops_close_all();
	node_drop_all();
	rc = vfs_unmount("/");
	pthread_mutex_lock(&g.lock);
	g.unmount_rc = rc;
	pthread_mutex_unlock(&g.lock);
	return rc < 0 ? 1 : 0;
}

/* ---- Host threads ----------------------------------------------------------- */

static void *kernel_main_thread(void *arg)
{
	struct posix_config pc = { 0 };
	static char name[] = "torofuse";
	static char *argv[] = { name, NULL };

	pc.cpus = g.cfg.cpus;
	pc.mem_bytes = g.cfg.mem_bytes;
	pc.idle_poll_ns = IDLE_POLL_NS;
	if (strcmp(g.cfg.fstype, "ramfs") != 0) {
		pc.ndisks = 1;
		pc.disk_path[0] = g.cfg.image;
		pc.disk_read_only[0] = g.cfg.read_only;
	}
	int status = hal_posix_run(&pc, 1, argv);
	pthread_mutex_lock(&g.lock);
	g.kernel_status = status;
	if (!g.booted) {            /* the kernel ended before mounting */
		g.booted = true;
		g.mount_rc = -EIO;
	}
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

static void command(int c)
{
	while (hal_posix_raise_irq(0, command_irq, (void *)(intptr_t)c) < 0) {
		struct timespec ts = { 0, 1000000 };    /* host out of memory: retry */
		nanosleep(&ts, NULL);
	}
}

int serve_boot(const struct serve_config *cfg)
{
	g.cfg = *cfg;
	if (!g.cfg.fstype)
		g.cfg.fstype = "ext2";

	/* Kernel CPUs take no signals: the main thread handles them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&g.kernel, NULL, kernel_main_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fprintf(stderr, "torofuse: cannot start the kernel: %s\n", strerror(rc));
		return -rc;
	}

	pthread_mutex_lock(&g.lock);
	while (!g.booted)
		pthread_cond_wait(&g.cond, &g.lock);
	rc = g.mount_rc;
	pthread_mutex_unlock(&g.lock);
	if (rc < 0)
		pthread_join(g.kernel, NULL);
	return rc;
}

int serve_start(struct fuse_session *se)
{
	int fd = fuse_session_fd(se);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	g.se = se;
	g.starter = pthread_self();
	command(START);
	return 0;
}

int serve_stop(void)
{
	command(STOP);
	pthread_join(g.kernel, NULL);
	int rc = g.unmount_rc;
	if (rc == 0 && g.kernel_status != 0)
		rc = -EIO;
	return rc;
}
