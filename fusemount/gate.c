/*
 * gate.c: the passage from libfuse's host threads into kernel threads
 * (interface and call order in gate.h).
 *
 * Two worlds meet here. Host threads (libfuse's, and the main thread) may
 * use pthreads but must never run kernel code: they are not kernel CPUs.
 * Kernel threads run on kernel CPUs (host threads the HAL owns) and may use
 * every kernel call; they touch host synchronisation only to signal a
 * waiting host thread, which never holds its mutex for long.
 *
 * A request lives on the stack of the host thread that made it, until that
 * thread sees done set under its waiter's mutex. Each host thread keeps one
 * waiter (mutex + condition) for its whole life, so a worker that signals
 * never races the destruction of what it signals.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blkdev.h"
#include "gate.h"
#include "hal.h"
#include "list.h"
#include "posix.h"
#include "spinlock.h"
#include "thread.h"
#include "vfs.h"
#include "waitq.h"

#define WORKERS_DEFAULT 8
#define WORKER_STACK (128 * 1024)

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/*
 * Each host thread's waiter. A worker may still be unlocking it just after
 * its caller saw done and went on, even after that thread ended; so waiters
 * are never freed: a thread's waiter goes back to a free list when it ends.
 */
struct waiter_slot {
	struct waiter w;
	struct waiter_slot *next;
};

static __thread struct waiter_slot *my_waiter;
static pthread_mutex_t waiters_lock = PTHREAD_MUTEX_INITIALIZER;
static struct waiter_slot *free_waiters;    /* guarded by waiters_lock */
static pthread_key_t waiter_key;
static pthread_once_t waiter_once = PTHREAD_ONCE_INIT;

static void waiter_release(void *p)
{
	struct waiter_slot *s = p;
	pthread_mutex_lock(&waiters_lock);
	s->next = free_waiters;
	free_waiters = s;
	pthread_mutex_unlock(&waiters_lock);
}

static void waiter_key_init(void)
{
	pthread_key_create(&waiter_key, waiter_release);
}

static struct waiter *self_waiter(void)
{
	if (my_waiter)
		return &my_waiter->w;
	pthread_once(&waiter_once, waiter_key_init);
	pthread_mutex_lock(&waiters_lock);
	struct waiter_slot *s = free_waiters;
	if (s)
		free_waiters = s->next;
	pthread_mutex_unlock(&waiters_lock);
	while (!s) {
		s = malloc(sizeof(*s));
		if (!s) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		pthread_mutex_init(&s->w.lock, NULL);
		pthread_cond_init(&s->w.cond, NULL);
	}
	my_waiter = s;
	pthread_setspecific(waiter_key, s);
	return &s->w;
}

struct gate_req {
	struct list link;           /* in its CPU queue, under queue.wq.lock */
	long (*fn)(void *);
	void *arg;
	uint32_t uid, gid;
	struct waiter *w;
	long result;                /* set by the worker, then done */
	int done;                   /* atomic; set last by the worker */
	bool sleeping;              /* guarded by w->lock: the caller waits on w->cond */
};

/* A caller polls done this long before it sleeps: most calls are short,
 * and a sleep costs two host context switches more. */
#define SPIN_NS 0

/* One per kernel CPU: the requests raised on it, and its workers. */
struct queue {
	struct waitq wq;            /* wq.lock guards reqs and stop */
	struct list reqs;
	bool stop;
	unsigned nworkers;
	struct thread **workers;    /* made and joined by the service main */
} __attribute__((aligned(64)));

static struct {
	struct gate_config cfg;
	pthread_t kernel;           /* runs hal_posix_run */
	int kernel_status;
	unsigned ncpus;
	unsigned next_cpu;          /* atomic round robin */
	uint64_t spin_ns;           /* how long a caller polls before sleeping */
	struct queue queues[HAL_MAX_CPUS];

	/* Host side of start and stop, guarded by lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool mounted_known;         /* the service main reported the mount */
	int mount_rc;
	int unmount_rc;

	/* Kernel side: stop_wq.lock guards stop_requested. */
	struct waitq stop_wq;
	bool stop_requested;
} g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* ---- Host threads --------------------------------------------------------- */

static void queue_irq(void *arg)
{
	struct gate_req *r = arg;
	struct queue *q = &g.queues[hal_cpu_id()];
	spin_lock(&q->wq.lock);
	list_push_back(&q->reqs, &r->link);
	waitq_wake_one_locked(&q->wq);
	spin_unlock(&q->wq.lock);
}

static uint64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool spin_until_done(struct gate_req *r)
{
	if (g.spin_ns == 0)
		return false;
	uint64_t end = host_ns() + g.spin_ns;
	for (;;) {
		for (int i = 0; i < 64; i++) {
			if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
				return true;
			__builtin_ia32_pause();
		}
		if (host_ns() > end)
			return false;
	}
}

long gate_call(long (*fn)(void *), void *arg, uint32_t uid, uint32_t gid)
{
	struct gate_req r = { .fn = fn, .arg = arg, .uid = uid, .gid = gid,
	                      .w = self_waiter() };
	list_init(&r.link);
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	unsigned cpu = __atomic_fetch_add(&g.next_cpu, 1, __ATOMIC_RELAXED) % g.ncpus;
	while (hal_posix_raise_irq(cpu, queue_irq, &r) < 0) {
		struct timespec ts = { 0, 1000000 };   /* host out of memory: retry */
		nanosleep(&ts, NULL);
	}
	if (!spin_until_done(&r)) {
		pthread_mutex_lock(&r.w->lock);
		r.sleeping = true;
		while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
			pthread_cond_wait(&r.w->cond, &r.w->lock);
		pthread_mutex_unlock(&r.w->lock);
	}
	pthread_setcancelstate(old, NULL);
	return r.result;
}

void gate_post(long (*fn)(void *), void *arg, uint32_t uid, uint32_t gid)
{
	struct gate_req *r;
	while (!(r = calloc(1, sizeof(*r)))) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	r->fn = fn;
	r->arg = arg;
	r->uid = uid;
	r->gid = gid;
	list_init(&r->link);
	unsigned cpu = __atomic_fetch_add(&g.next_cpu, 1, __ATOMIC_RELAXED) % g.ncpus;
	while (hal_posix_raise_irq(cpu, queue_irq, r) < 0) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* ---- Kernel threads ------------------------------------------------------- */

/* Hand the result over. While the caller spins, done alone tells it; once
 * it sleeps (sleeping, under w->lock), it must be signalled. Either way r
 * may vanish as soon as done is seen, so w is read first. */
static void finish(struct gate_req *r, long result)
{
	struct waiter *w = r->w;
	r->result = result;
	pthread_mutex_lock(&w->lock);
	bool sleeping = r->sleeping;
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	if (sleeping)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int worker_main(void *arg)
{
	struct queue *q = arg;
	struct thread *self = thread_current();
	for (;;) {
		spin_lock(&q->wq.lock);
		while (list_empty(&q->reqs) && !q->stop)
			waitq_wait_locked(&q->wq, 0);
		struct list *l = list_pop_front(&q->reqs);
		spin_unlock(&q->wq.lock);
		if (!l)
			return 0;           /* stopped and drained */
		struct gate_req *r = list_entry(l, struct gate_req, link);
		self->uid = r->uid;
		self->gid = r->gid;
		long result = r->fn(r->arg);
		self->uid = self->gid = 0;
		if (r->w)
			finish(r, result);
		else
			free(r);            /* gate_post's: nobody waits */
	}
}

static void report_mount(int rc)
{
	pthread_mutex_lock(&g.lock);
	g.mount_rc = rc;
	g.mounted_known = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
}

static void stop_irq(void *arg)
{
	spin_lock(&g.stop_wq.lock);
	g.stop_requested = true;
	waitq_wake_all_locked(&g.stop_wq);
	spin_unlock(&g.stop_wq.lock);
}

static int start_workers(void)
{
	unsigned n = g.cfg.workers_per_cpu ? g.cfg.workers_per_cpu : WORKERS_DEFAULT;
	for (unsigned c = 0; c < g.ncpus; c++) {
		struct queue *q = &g.queues[c];
		for (unsigned i = 0; i < n; i++) {
			struct thread *t = thread_create(c, worker_main, q, WORKER_STACK);
			if (!t)
				return q->nworkers == 0 ? -ENOMEM : 0;
			q->workers[q->nworkers++] = t;
		}
	}
	return 0;
}

static void stop_workers(void)
{
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
	}
}

/* The kernel's service main: mount, serve until asked to stop, unmount. */
int toro_main(int argc, char **argv)
{
	static struct thread *worker_slots[HAL_MAX_CPUS][64];
	unsigned flags = g.cfg.read_only ? FS_MOUNT_RDONLY : 0;
	struct blkdev *dev = NULL;
	int rc;

	g.ncpus = hal_cpu_count();
	waitq_init(&g.stop_wq, "gate_stop");
	for (unsigned c = 0; c < g.ncpus; c++) {
		struct queue *q = &g.queues[c];
		waitq_init(&q->wq, "gate_queue");
		list_init(&q->reqs);
		q->stop = false;
		q->nworkers = 0;
		q->workers = worker_slots[c];
	}
	if (strcmp(g.cfg.fstype, "ramfs") != 0) {
		dev = blkdev_get(0);
		if (!dev) {
			report_mount(-ENODEV);
			return 1;
		}
	}
	rc = vfs_mount("/", g.cfg.fstype, dev, flags);
	if (rc == 0) {
		rc = start_workers();
		if (rc < 0)
			vfs_unmount("/");
	}
	report_mount(rc);
	if (rc < 0)
		return 1;

	spin_lock(&g.stop_wq.lock);
	while (!g.stop_requested)
		waitq_wait_locked(&g.stop_wq, 0);
	spin_unlock(&g.stop_wq.lock);

	stop_workers();
	rc = vfs_unmount("/");
	pthread_mutex_lock(&g.lock);
	g.unmount_rc = rc;
	pthread_mutex_unlock(&g.lock);
	return rc < 0 ? 1 : 0;
}

/* ---- Start and stop --------------------------------------------------------- */

static void *kernel_main_thread(void *arg)
{
	struct posix_config pc = { 0 };
	static char name[] = "torofuse";
	static char *argv[] = { name, NULL };

	pc.cpus = g.cfg.cpus;
	pc.mem_bytes = g.cfg.mem_bytes;
	if (strcmp(g.cfg.fstype, "ramfs") != 0) {
		pc.ndisks = 1;
		pc.disk_path[0] = g.cfg.image;
		pc.disk_read_only[0] = g.cfg.read_only;
	}
	int status = hal_posix_run(&pc, 1, argv);
	pthread_mutex_lock(&g.lock);
	g.kernel_status = status;
	if (!g.mounted_known) {     /* the kernel ended before mounting */
		g.mounted_known = true;
		g.mount_rc = -EIO;
	}
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

int gate_start(const struct gate_config *cfg)
{
	g.cfg = *cfg;
	g.spin_ns = cfg->spin_us < 0 ? SPIN_NS : (uint64_t)cfg->spin_us * 1000;
	if (!g.cfg.fstype)
		g.cfg.fstype = "ext2";
	if (g.cfg.workers_per_cpu > 64)
		g.cfg.workers_per_cpu = 64;

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
	while (!g.mounted_known)
		pthread_cond_wait(&g.cond, &g.lock);
	rc = g.mount_rc;
	pthread_mutex_unlock(&g.lock);
	if (rc < 0) {
		pthread_join(g.kernel, NULL);
		return rc;
	}
	return 0;
}

int gate_stop(void)
{
	while (hal_posix_raise_irq(0, stop_irq, NULL) < 0) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	pthread_join(g.kernel, NULL);
	int rc = g.unmount_rc;
	if (rc == 0 && g.kernel_status != 0)
		rc = -EIO;
	return rc;
}
