/*
 * test_watch.c: hal_posix_watch_fd, a host fd whose data wakes an idle
 * kernel CPU, in a booted kernel. The fd is a pipe's read end (O_NONBLOCK);
 * the handler wakes a kernel thread that reads until EAGAIN.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "hal.h"
#include "thread.h"
#include "waitq.h"

/* ---- the pieces every case uses ---- */

struct pipe_case {
	int rfd, wfd;
	size_t total;               /* bytes the writer sends */
	bool close_after;           /* the writer then closes wfd (a hang-up) */
	struct waitq wq;
	bool pending;               /* guarded by wq.lock: the handler ran */
	unsigned calls;             /* handler calls (atomic) */
	unsigned cpus_seen;         /* bit per CPU the handler ran on (atomic) */
	bool irq_on_in_handler;     /* set if a call ran with interrupts on */
	/* The reader's results. */
	size_t received;
	size_t first_bad;           /* offset + 1 of the first wrong byte */
	bool eof;
	int reader_rc;
};

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i % 251);
}

static void on_ready(void *arg)
{
	struct pipe_case *pc = arg;
	if (hal_irq_enabled())
		pc->irq_on_in_handler = true;
	__atomic_add_fetch(&pc->calls, 1, __ATOMIC_RELAXED);
	__atomic_or_fetch(&pc->cpus_seen, 1u << hal_cpu_id(), __ATOMIC_RELAXED);
	spin_lock(&pc->wq.lock);
	pc->pending = true;
	waitq_wake_all_locked(&pc->wq);
	spin_unlock(&pc->wq.lock);
}

static int open_pipe(struct pipe_case *pc)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pc->rfd = fds[0];
	pc->wfd = fds[1];
	/* Only the watched end is non-blocking: the writer may block. */
	if (fcntl(pc->rfd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	waitq_init(&pc->wq, "watch test");
	return 0;
}

static void close_pipe(struct pipe_case *pc)
{
	close(pc->rfd);
	if (pc->wfd >= 0)
		close(pc->wfd);
}

/* wait_ready: sleep until the handler ran (5 s at most). */
static int wait_ready(struct pipe_case *pc)
{
	int rc = 0;
	spin_lock(&pc->wq.lock);
	while (!pc->pending && rc == 0)
		rc = waitq_wait_locked(&pc->wq, hal_clock_ns() + 5000000000ull);
	pc->pending = false;
	spin_unlock(&pc->wq.lock);
	return rc;
}

/* drain: read until EAGAIN (or end of file), checking the bytes. */
static int drain(struct pipe_case *pc)
{
	unsigned char buf[4096];
	for (;;) {
		ssize_t n = read(pc->rfd, buf, sizeof(buf));
		if (n == 0) {
			pc->eof = true;
			return 0;
		}
		if (n < 0)
			return errno == EAGAIN ? 0 : errno == EINTR ? drain(pc) : -errno;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(pc->received + i) && !pc->first_bad)
				pc->first_bad = pc->received + i + 1;
		pc->received += n;
	}
}

/* reader: a kernel thread; ends once all bytes (and the end, if the writer
 * closes) have come. */
static int reader(void *arg)
{
	struct pipe_case *pc = arg;
	while (pc->received < pc->total || (pc->close_after && !pc->eof)) {
		int rc = wait_ready(pc);
		if (rc == 0)
			rc = drain(pc);
		if (rc < 0)
			return pc->reader_rc = rc;
	}
	return 0;
}

/* writer: a host thread, in chunks of varying size with short pauses, so
 * that the reader is woken many times. */
static void *writer(void *arg)
{
	struct pipe_case *pc = arg;
	unsigned char buf[1024];
	size_t sent = 0;
	for (unsigned k = 0; sent < pc->total; k++) {
		size_t n = 1 + (k * 397) % sizeof(buf);
		if (n > pc->total - sent)
			n = pc->total - sent;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(sent + i);
		ssize_t w = write(pc->wfd, buf, n);
		if (w < 0)
			return NULL;
		sent += (size_t)w;
		struct timespec pause = { 0, 200000 };
		nanosleep(&pause, NULL);
	}
	if (pc->close_after) {
		close(pc->wfd);
		pc->wfd = -1;
	}
	return NULL;
}

/* A reader kernel thread and a writer host thread on one pipe. */
struct stream {
	struct thread *reader;
	pthread_t writer;
};

/* start_stream: the reader on reader_cpu, then the writer. 0, or -1 if
 * either could not start. */
static int start_stream(struct pipe_case *pc, unsigned reader_cpu, struct stream *s)
{
	s->reader = thread_create(reader_cpu, reader, pc, 0);
	return s->reader && pthread_create(&s->writer, NULL, writer, pc) == 0 ? 0 : -1;
}

/* join_stream: wait for both; the reader's status. */
static int join_stream(struct stream *s)
{
	int status = thread_join(s->reader);
	pthread_join(s->writer, NULL);
	return status;
}

static void unwatch_and_close(struct pipe_case *pc)
{
	hal_posix_unwatch_fd(pc->rfd);
	close_pipe(pc);
}

/* ---- every byte a host thread writes reaches the kernel thread ---- */

struct stream_result {
	struct pipe_case pc;
	int watch_rc, again_rc, bad_fd_rc;
	int reader_status;
};

static int stream_body(void *arg)
{
	struct stream_result *r = arg;
	struct pipe_case *pc = &r->pc;
	if (open_pipe(pc) < 0)
		return 1;
	r->watch_rc = hal_posix_watch_fd(pc->rfd, on_ready, pc);
	r->again_rc = hal_posix_watch_fd(pc->rfd, on_ready, pc);
	r->bad_fd_rc = hal_posix_watch_fd(-1, on_ready, pc);
	struct stream st;
	if (start_stream(pc, 1, &st) < 0)
		return 2;
	r->reader_status = join_stream(&st);
	unwatch_and_close(pc);
	return 0;
}

Test(watch, every_byte_arrives_in_order, .timeout = 30)
{
	static struct stream_result r = { .pc = { .total = 200000, .close_after = true } };
	cr_assert_eq(run_in_kernel(2, stream_body, &r), 0);
	cr_assert_eq(r.watch_rc, 0);
	cr_assert_eq(r.again_rc, -EEXIST);
	cr_assert_eq(r.bad_fd_rc, -EBADF);
	cr_assert_eq(r.reader_status, 0, "reader: %d", r.reader_status);
	cr_assert_eq(r.pc.received, r.pc.total, "received %zu", r.pc.received);
	cr_assert_eq(r.pc.first_bad, 0, "byte %zu is wrong", r.pc.first_bad - 1);
	cr_assert(r.pc.eof, "the hang-up was seen");
	cr_assert_gt(r.pc.calls, 0);
	cr_assert_not(r.pc.irq_on_in_handler, "handlers run in irq context");
}

/* ---- a deadline sleep wakes on time while a watched fd is busy ---- */

enum { NAPS = 5, NAP_MS = 10 };

struct deadline_result {
	struct pipe_case pc;
	uint64_t slept_ns[2 * NAPS];     /* while data flows, then on a quiet fd */
	int reader_status;
};

static void naps(uint64_t *slept)
{
	for (int i = 0; i < NAPS; i++) {
		uint64_t start = hal_clock_ns();
		thread_sleep_ms(NAP_MS);
		slept[i] = hal_clock_ns() - start;
	}
}

static int deadline_body(void *arg)
{
	struct deadline_result *r = arg;
	struct pipe_case *pc = &r->pc;
	if (open_pipe(pc) < 0 || hal_posix_watch_fd(pc->rfd, on_ready, pc) < 0)
		return 1;
	struct stream st;
	if (start_stream(pc, 1, &st) < 0)
		return 2;
	naps(r->slept_ns);
	r->reader_status = join_stream(&st);
	naps(r->slept_ns + NAPS);
	unwatch_and_close(pc);
	return 0;
}

Test(watch, deadline_sleep_wakes_on_time, .timeout = 30)
{
	/* About as long as the naps: data flows through the first ones. */
	static struct deadline_result r = { .pc = { .total = 100000 } };
	cr_assert_eq(run_in_kernel(2, deadline_body, &r), 0);
	cr_assert_eq(r.reader_status, 0);
	cr_assert_eq(r.pc.received, r.pc.total);
	for (int i = 0; i < 2 * NAPS; i++) {
		cr_assert_geq(r.slept_ns[i], NAP_MS * 1000000ull, "nap %d: %lu ns", i,
		              (unsigned long)r.slept_ns[i]);
		/* Late by ~0.1 ms here; generous for loaded hosts and sanitizers.
		 * A lost deadline sleeps until the next event, or on the quiet fd
		 * forever (the timeout). */
		cr_assert_lt(r.slept_ns[i], (NAP_MS + 20) * 1000000ull, "nap %d: %lu ns", i,
		             (unsigned long)r.slept_ns[i]);
	}
}

/* ---- after unwatch no handler runs; the same fd can be watched again ---- */

struct unwatch_result {
	struct pipe_case pc;
	int first_wait, rewatch_rc, second_wait;
	unsigned calls_at_unwatch, calls_later;
	ssize_t left_in_pipe;
};

static int unwatch_body(void *arg)
{
	struct unwatch_result *r = arg;
	struct pipe_case *pc = &r->pc;
	if (open_pipe(pc) < 0 || hal_posix_watch_fd(pc->rfd, on_ready, pc) < 0)
		return 1;
	/* Written from a kernel thread: the host is the same for the pipe. */
	if (write(pc->wfd, "a", 1) != 1)
		return 2;
	r->first_wait = wait_ready(pc);
	drain(pc);

	hal_posix_unwatch_fd(pc->rfd);
	r->calls_at_unwatch = __atomic_load_n(&pc->calls, __ATOMIC_RELAXED);
	if (write(pc->wfd, "bcd", 3) != 3)
		return 3;
	close(pc->wfd);             /* a hang-up too */
	pc->wfd = -1;
	thread_sleep_ms(30);        /* both CPUs idle in epoll meanwhile */
	r->calls_later = __atomic_load_n(&pc->calls, __ATOMIC_RELAXED);

	/* The slot is the fd's own: watching it again works, and an fd that
	 * is readable already (data, hang-up) is reported at once. */
	r->rewatch_rc = hal_posix_watch_fd(pc->rfd, on_ready, pc);
	r->second_wait = wait_ready(pc);
	char buf[8];
	r->left_in_pipe = read(pc->rfd, buf, sizeof(buf));
	unwatch_and_close(pc);
	return 0;
}

Test(watch, no_handler_after_unwatch, .timeout = 30)
{
	static struct unwatch_result r;
	cr_assert_eq(run_in_kernel(2, unwatch_body, &r), 0);
	cr_assert_eq(r.first_wait, 0);
	cr_assert_eq(r.calls_later, r.calls_at_unwatch, "%u calls after unwatch",
	             r.calls_later - r.calls_at_unwatch);
	cr_assert_eq(r.rewatch_rc, 0);
	cr_assert_eq(r.left_in_pipe, 3, "nobody read the bytes written after unwatch");
	cr_assert_eq(r.second_wait, 0);
}

/* ---- watch_fd_only: only that CPU runs the handler, even while busy ---- */

struct only_result {
	struct pipe_case pc;
	int watch_rc;
	int reader_status;
};

/* busy: keep CPU 1 from idling for a while, so that an fd watched on every
 * CPU would be handled on CPU 0 meanwhile. */
static int busy(void *arg)
{
	uint64_t end = hal_clock_ns() + 50000000ull;
	while (hal_clock_ns() < end)
		;
	return 0;
}

static int only_body(void *arg)
{
	struct only_result *r = arg;
	struct pipe_case *pc = &r->pc;
	if (open_pipe(pc) < 0)
		return 1;
	r->watch_rc = hal_posix_watch_fd_only(pc->rfd, 1, on_ready, pc);
	struct thread *b = thread_create(1, busy, NULL, 0);
	struct stream st;
	if (!b || start_stream(pc, 0, &st) < 0)
		return 2;
	r->reader_status = join_stream(&st);
	thread_join(b);
	unwatch_and_close(pc);
	return 0;
}

Test(watch, only_its_cpu_runs_the_handler, .timeout = 30)
{
	static struct only_result r = { .pc = { .total = 100000 } };
	cr_assert_eq(run_in_kernel(2, only_body, &r), 0);
	cr_assert_eq(r.watch_rc, 0);
	cr_assert_eq(r.reader_status, 0);
	cr_assert_eq(r.pc.received, r.pc.total, "received %zu", r.pc.received);
	cr_assert_eq(r.pc.first_bad, 0);
	cr_assert_eq(r.pc.cpus_seen, 1u << 1, "handler ran on CPUs %#x", r.pc.cpus_seen);
}
