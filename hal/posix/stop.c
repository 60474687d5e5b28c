/*
 * stop.c: SIGINT and SIGTERM as a stop request (hal_stop_requested).
 *
 * A service binary blocks both signals before any thread exists, so every
 * thread inherits the mask and none is interrupted (no EINTR in the CPUs'
 * epoll waits or the disk threads); one host thread waits for them with
 * sigwait and sets a flag the kernel reads. A service that never asked
 * (hal_stop_requested never called) keeps the usual meaning: the signal
 * ends the process at once, with exit status 128 + signal; so does a second
 * signal, for a service that does not stop.
 * Tests and tools that host the kernel do not call this: signals keep their
 * usual meaning there.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hal.h"
#include "posix.h"

static bool stop_requested;     /* atomic: set by the signal thread */
static bool stop_watched;       /* atomic: the service has asked */
static sigset_t stop_signals;

static void *signal_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int sig;
		if (sigwait(&stop_signals, &sig) != 0)
			continue;
		bool again = __atomic_exchange_n(&stop_requested, true, __ATOMIC_ACQ_REL);
		if (!__atomic_load_n(&stop_watched, __ATOMIC_ACQUIRE))
			_exit(128 + sig);
		if (again) {
			static const char msg[] = "toro: second stop signal, ending now\n";
			(void)!write(2, msg, sizeof(msg) - 1);
			_exit(128 + sig);
		}
	}
	return NULL;
}

int hal_posix_catch_stop_signals(void)
{
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	pthread_t t;
	if (rc == 0)
		rc = pthread_create(&t, NULL, signal_thread, NULL);
	if (rc == 0)
		rc = pthread_detach(t);
	if (rc != 0)
		fprintf(stderr, "toro: cannot watch SIGINT/SIGTERM: %s\n", strerror(rc));
	return -rc;
}

bool hal_stop_requested(void)
{
	if (!__atomic_load_n(&stop_watched, __ATOMIC_RELAXED))
		__atomic_store_n(&stop_watched, true, __ATOMIC_RELEASE);
	return __atomic_load_n(&stop_requested, __ATOMIC_ACQUIRE);
}
