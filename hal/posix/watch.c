/*
 * watch.c: host fds whose events wake an idle kernel CPU (hal_posix_watch_fd).
 *
 * A watched fd sits in every CPU's epoll instance (cpu.c) with EPOLLET and
 * EPOLLEXCLUSIVE: the host wakes one CPU thread waiting in idle per edge
 * (a busy CPU is not waiting, so it is passed over), and that thread runs
 * the handler itself, with no hand-off thread in between. The host tries
 * the instances in the order the fd was added to them, so the fd goes
 * first into the preferred CPU's (hal_posix_watch_fd_on): a queue's frames
 * wake the CPU that serves it when it idles, not another CPU that would
 * only wake it in turn (two host wake-ups per edge instead of one).
 *
 * The epoll data of a watch is its record here. A CPU may still hold an
 * event for a record after unwatch (harvested just before, or left in the
 * ready list of a CPU that was busy), so records are never freed: they live
 * in a fixed table, turn inactive on unwatch, and a slot is reused only for
 * the same fd, so that a late event at worst calls that fd's current handler
 * once with nothing to read. The table is reset at each boot, when no CPU
 * runs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>

#include "hal.h"
#include "posix.h"

struct watch {
	int fd;                     /* -1: slot not used this boot */
	bool active;                /* between watch and unwatch */
	unsigned running;           /* calls of ready in progress */
	void (*ready)(void *);
	void *arg;
};

/* watch_lock guards the table and every epoll_ctl on a watched fd, so
 * watch and unwatch of the same fd are ordered. */
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_quiet = PTHREAD_COND_INITIALIZER;  /* a running fell to 0 */
static struct watch watches[POSIX_MAX_WATCHES];

void posix_watch_reset(void)
{
	pthread_mutex_lock(&watch_lock);
	for (unsigned i = 0; i < POSIX_MAX_WATCHES; i++)
		watches[i] = (struct watch){ .fd = -1 };
	pthread_mutex_unlock(&watch_lock);
}

/* slot_for: fd's own slot, else an unused one, else NULL. watch_lock held. */
static struct watch *slot_for(int fd)
{
	struct watch *unused = NULL;
	for (unsigned i = 0; i < POSIX_MAX_WATCHES; i++) {
		if (watches[i].fd == fd)
			return &watches[i];
		if (watches[i].fd < 0 && !unused)
			unused = &watches[i];
	}
	return unused;
}

/* remove_from: take fd out of the epoll instances of CPUs 0..upto-1. ENOENT
 * or EBADF mean it is gone already (the fd was closed), which is fine. */
static void remove_from(int fd, unsigned upto)
{
	for (unsigned i = 0; i < upto; i++)
		epoll_ctl(posix_cpu_epoll_fd(i), EPOLL_CTL_DEL, fd, NULL);
}

/* add_to: put w's fd in the epoll instances of ncpus CPUs, first's first
 * and then the next ones round, or in none. Sets *added when at least one
 * CPU had it (and so may hold an event for w). */
static int add_to(struct watch *w, unsigned first, unsigned ncpus, bool *added)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE,
		.data.ptr = w,
	};
	unsigned n = hal_cpu_count();
	for (unsigned i = 0; i < ncpus; i++) {
		int epfd = posix_cpu_epoll_fd((first + i) % n);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0) {
			int err = -errno;
			*added = i > 0;
			remove_from(w->fd, n);
			return err;
		}
	}
	*added = true;
	return 0;
}

static int watch(int fd, unsigned cpu, unsigned ncpus, void (*ready)(void *arg), void *arg)
{
	if (fd < 0)
		return -EBADF;
	if (!ready)
		return -EINVAL;
	pthread_mutex_lock(&watch_lock);
	struct watch *w = slot_for(fd);
	int rc = !w ? -ENOSPC : w->active ? -EEXIST : 0;
	if (rc == 0) {
		bool fresh = w->fd < 0, added;
		/* Active before it is added: an event right after the add counts. */
		*w = (struct watch){ fd, true, w->running, ready, arg };
		rc = add_to(w, cpu % hal_cpu_count(), ncpus, &added);
		if (rc < 0) {
			w->active = false;
			if (fresh && !added)
				w->fd = -1;     /* no CPU can know the record: free it */
		}
	}
	pthread_mutex_unlock(&watch_lock);
	return rc;
}

int hal_posix_watch_fd(int fd, void (*ready)(void *arg), void *arg)
{
	return watch(fd, 0, hal_cpu_count(), ready, arg);
}

int hal_posix_watch_fd_on(int fd, unsigned cpu, void (*ready)(void *arg), void *arg)
{
	return watch(fd, cpu, hal_cpu_count(), ready, arg);
}

int hal_posix_watch_fd_only(int fd, unsigned cpu, void (*ready)(void *arg), void *arg)
{
	return watch(fd, cpu, 1, ready, arg);
}

void hal_posix_unwatch_fd(int fd)
{
	pthread_mutex_lock(&watch_lock);
	struct watch *w = slot_for(fd);
	if (w && w->fd == fd && w->active) {
		w->active = false;
		remove_from(fd, hal_cpu_count());
		/* Calls that started before are on other CPUs and never block. */
		while (w->running)
			pthread_cond_wait(&watch_quiet, &watch_lock);
	}
	pthread_mutex_unlock(&watch_lock);
}

void posix_watch_fire(void *rec)
{
	struct watch *w = rec;

	pthread_mutex_lock(&watch_lock);
	bool run = w->active;
	void (*ready)(void *) = w->ready;
	void *arg = w->arg;
	if (run)
		w->running++;
	pthread_mutex_unlock(&watch_lock);
	if (!run)
		return;     /* a late event for an unwatched fd */

	ready(arg);

	pthread_mutex_lock(&watch_lock);
	if (--w->running == 0)
		pthread_cond_broadcast(&watch_quiet);
	pthread_mutex_unlock(&watch_lock);
}
