/*
 * netpeer.c: Linux's side of bench/net.sh. One client for every server
 * measured, so that the figures differ only by the server and the stack
 * behind it, and the echo server (RFC 862) that Linux's stack is measured
 * with, so that both stacks serve the same program's work.
 *
 *   netpeer serve PORT SECONDS      an echo server: one thread, epoll,
 *                                   non-blocking sockets, ends after
 *                                   SECONDS (a bench stops by itself)
 *   netpeer stream HOST PORT MIB   one connection; MIB MiB sent while a
 *                                    second thread reads the echo back;
 *                                    prints "stream MB/s" (each way)
 *   netpeer rr HOST PORT N         one connection, N round trips of
 *                                    64 bytes; prints the rate and the
 *                                    p50/p99 round-trip time in us
 *   netpeer crr HOST PORT N        N times: connect, 64 bytes there and
 *                                    back, close; prints connections/s
 * Every call has a 10 s receive/send limit: a stuck server ends the run
 * with an error instead of hanging the benchmark.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static struct sockaddr_in server;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval limit = { 10, 0 };
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) < 0) {
		perror("netpeer: connect");
		exit(1);
	}
	return fd;
}

static void read_exactly(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);
		if (n <= 0) {
			perror(n ? "netpeer: read" : "netpeer: read: end of stream");
			exit(1);
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n <= 0) {
			perror("netpeer: write");
			exit(1);
		}
		buf += n;
		len -= (size_t)n;
	}
}

struct stream_job {
	int fd;
	size_t bytes;
};

static void *stream_writer(void *arg)
{
	struct stream_job *job = arg;
	static char buf[1 << 16];
	memset(buf, 'x', sizeof(buf));
	for (size_t left = job->bytes; left;) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);
		write_all(job->fd, buf, n);
		left -= n;
	}
	return NULL;
}

static void stream(long mib)
{
	struct stream_job job = { dial(), (size_t)mib << 20 };
	static char buf[1 << 16];
	pthread_t writer;
	double t0 = now_s();
	pthread_create(&writer, NULL, stream_writer, &job);
	for (size_t left = job.bytes; left;) {
		ssize_t n = read(job.fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n <= 0) {
			perror("netpeer: stream read");
			exit(1);
		}
		left -= (size_t)n;
	}
	pthread_join(writer, NULL);
	double s = now_s() - t0;
	close(job.fd);
	printf("stream %.1f MB/s\n", job.bytes / s / 1e6);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void rr(long n)
{
	int fd = dial();
	char buf[MSG];
	double *rtt = malloc(sizeof(double) * (size_t)n);
	memset(buf, 'r', sizeof(buf));
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		double t = now_s();
		write_all(fd, buf, MSG);
		read_exactly(fd, buf, MSG);
		rtt[i] = now_s() - t;
	}
	double s = now_s() - t0;
	close(fd);
	qsort(rtt, (size_t)n, sizeof(double), by_value);
	printf("rr %.0f/s p50 %.1f us p99 %.1f us\n", n / s, rtt[n / 2] * 1e6,
	       rtt[n * 99 / 100] * 1e6);
	free(rtt);
}

static void crr(long n)
{
	char buf[MSG];
	memset(buf, 'c', sizeof(buf));
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		int fd = dial();
		write_all(fd, buf, MSG);
		read_exactly(fd, buf, MSG);
		close(fd);
	}
	printf("crr %.0f/s\n", n / (now_s() - t0));
}

/* serve: echo what each connection sends, with no thread or process per
 * connection (a fork per connection would measure fork, not the stack). */
static void serve(int port, long seconds)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&any, sizeof(any)) < 0 || listen(lfd, 1024) < 0) {
		perror("netpeer: serve");
		exit(1);
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	static char buf[1 << 16];
	double end = now_s() + (double)seconds;
	while (now_s() < end) {
		struct epoll_event ready[64];
		int n = epoll_wait(ep, ready, 64, 200);
		for (int i = 0; i < n; i++) {
			int fd = ready[i].data.fd;
			if (fd == lfd) {
				int c;
				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
				continue;
			}
			ssize_t got;
			while ((got = read(fd, buf, sizeof(buf))) > 0) {
				ssize_t put = write(fd, buf, (size_t)got);
				if (put < 0)
					put = 0;
				if (put < got) {
					/* A full send buffer: wait for room (the client
					 * reads while it sends), then go on. */
					fcntl(fd, F_SETFL, 0);
					write_all(fd, buf + put, (size_t)(got - put));
					fcntl(fd, F_SETFL, O_NONBLOCK);
				}
			}
			if (got == 0 || (got < 0 && errno != EAGAIN))
				close(fd);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "serve") == 0) {
		serve(atoi(argv[2]), atol(argv[3]));
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: netpeer stream|rr|crr HOST PORT COUNT | netpeer serve PORT SECONDS\n");
		return 2;
	}
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &server.sin_addr) != 1) {
		fprintf(stderr, "netpeer: bad address %s\n", argv[2]);
		return 2;
	}
	long count = atol(argv[4]);
	if (count <= 0) {
		fprintf(stderr, "netpeer: bad count %s\n", argv[4]);
		return 2;
	}
	if (strcmp(argv[1], "stream") == 0)
		stream(count);
	else if (strcmp(argv[1], "rr") == 0)
		rr(count);
	else if (strcmp(argv[1], "crr") == 0)
		crr(count);
	else {
		fprintf(stderr, "netpeer: unknown mode %s\n", argv[1]);
		return 2;
	}
	return 0;
}
