/*
 * fuzz_net.c: a libFuzzer target that feeds each input, as one received
 * Ethernet frame, into the whole stack of a posix kernel booted once in
 * the fuzzer's own process.
 *
 * The kernel runs in a host thread of its own (hal_posix_run) with one CPU
 * and a slirp NIC (restricted, as always: what the stack answers goes to
 * libslirp and no further) at 10.0.2.15/24; the service's main opens what
 * a service would (UDP echo on 7, a TCP listener on 80 whose connections
 * are echoed, a connected UDP socket) and then serves the fuzzer:
 *
 *   LLVMFuzzerTestOneInput (host thread)        fuzz thread (kernel CPU 0)
 *     input := data, len; write(request fd) ->  woken by the fd watch
 *                                               ether_input(copy of input)
 *                                               yield until the network
 *                                               thread ran what it queued
 *     read(done fd) blocks                  <-  write(done fd)
 *
 * An input is one control byte, then the frame. Control bit 0 asks that
 * the IPv4 header checksum be made right, bit 1 the TCP, UDP or ICMP one
 * (of an unfragmented datagram): else nearly every mutation would end at
 * the first checksum, and the code behind it would never be reached. The
 * seeds ask for both; the fuzzer flips the bits to test the checks too.
 *
 * The eventfds order the hand-over (a write happens before the read that
 * sees it), so the input needs no lock. Nothing here checks a result: the
 * sanitizers (ASan, UBSan) and the kernel's own assertions are the oracle.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net.h"
#include "posix.h"
#include "socket.h"
#include "thread.h"
#include "toro.h"
#include "waitq.h"
#include "wire.h"

#define GUEST_IP "ip=10.0.2.15/24"
#define FIX_IP_CSUM 0x1
#define FIX_L4_CSUM 0x2
#define TCP_CSUM_AT 16          /* the TCP header's checksum field */

static int request_fd = -1, done_fd = -1;      /* set once, before boot */
static const uint8_t *input;                    /* handed over by request_fd */
static size_t input_len;

/* The fuzz thread sleeps on kick until the fd watch says there is work. */
static struct waitq kick;
static bool kicked;                             /* guarded by kick.lock */

static void request_ready(void *arg)
{
	(void)arg;
	spin_lock(&kick.lock);
	kicked = true;
	waitq_wake_all_locked(&kick);
	spin_unlock(&kick.lock);
}

static void wait_request(void)
{
	spin_lock(&kick.lock);
	while (!kicked)
		waitq_wait_locked(&kick, 0);
	kicked = false;
	spin_unlock(&kick.lock);
}

/* One frame into the stack, as the network thread would hand it over. */
static void inject(struct netif *nif, const uint8_t *data, size_t len)
{
	struct netbuf *nb = netbuf_alloc();
	if (!nb)
		return;
	uint8_t *p = len <= NETBUF_SIZE - NETBUF_HEADROOM ? netbuf_put(nb, len) : NULL;
	if (!p) {
		netbuf_free(nb);
		return;
	}
	memcpy(p, data, len);
	nb->netif = nif;
	ether_input(nif, nb);
	/* Let the network thread run what the frame queued for it (TCP's
	 * hand-over, replies waiting for ARP) before the next input. */
	for (int i = 0; i < 4; i++)
		thread_yield();
}

static int echo_connection(void *arg)
{
	TSocket c = (TSocket)(intptr_t)arg;
	char buf[2048];
	SysSocketSetOpt(c, SOCKOPT_RCVTIMEO_MS, 2000);
	long n;
	while ((n = SysSocketRecv(c, buf, sizeof(buf), 0)) > 0)
		SysSocketSend(c, buf, (size_t)n, SOCKET_DONTWAIT);
	SysSocketClose(c);
	return 0;
}

static int tcp_server(void *arg)
{
	TSocket l = (TSocket)(intptr_t)arg;
	for (;;) {
		TSocket c = SysSocketAccept(l, NULL);
		if (c < 0)
			continue;
		struct thread *t = thread_create(0, echo_connection, (void *)(intptr_t)c, 0);
		if (t)
			thread_detach(t);
		else
			SysSocketClose(c);
	}
	return 0;
}

static int udp_server(void *arg)
{
	TSocket u = (TSocket)(intptr_t)arg;
	char buf[2048];
	for (;;) {
		struct TSockAddr from;
		long n = SysSocketRecvFrom(u, buf, sizeof(buf), 0, &from);
		if (n >= 0)
			SysSocketSendTo(u, buf, (size_t)n, &from);
	}
	return 0;
}

/* open_services: what a service would have open while frames arrive. */
static int open_services(void)
{
	struct TSockAddr echo = { 0, 7 }, web = { 0, 80 }, peer = { 0x0a000202, 53 };
	TSocket u = SysSocket(SOCKET_DGRAM), l = SysSocket(SOCKET_STREAM);
	TSocket cu = SysSocket(SOCKET_DGRAM);
	if (u < 0 || l < 0 || cu < 0 || SysSocketBind(u, &echo) < 0 || SysSocketBind(l, &web) < 0 ||
	    SysSocketListen(l, 8) < 0 || SysSocketConnect(cu, &peer) < 0)
		return -1;
	struct thread *a = thread_create(0, udp_server, (void *)(intptr_t)u, 0);
	struct thread *b = thread_create(0, tcp_server, (void *)(intptr_t)l, 0);
	if (!a || !b)
		return -1;
	thread_detach(a);
	thread_detach(b);
	return 0;
}

int toro_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct netif *nif = net_netif(0);
	waitq_init(&kick, "fuzz.kick");
	if (!nif || open_services() < 0 || hal_posix_watch_fd(request_fd, request_ready, NULL) < 0) {
		fprintf(stderr, "fuzz_net: the kernel side did not start\n");
		abort();
	}
	uint64_t one = 1;
	if (write(done_fd, &one, sizeof(one)) != sizeof(one))     /* ready */
		abort();
	for (;;) {
		wait_request();
		uint64_t n;
		if (read(request_fd, &n, sizeof(n)) != sizeof(n))
			continue;       /* a spurious call of the watch */
		inject(nif, input, input_len);
		if (write(done_fd, &one, sizeof(one)) != sizeof(one))
			abort();
	}
}

static void *kernel_thread(void *arg)
{
	(void)arg;
	static char name[] = "fuzz_net", ip[] = GUEST_IP;
	static char *argv[] = { name, ip, NULL };
	/* Memory bounded well under libFuzzer's RSS limit (2 GB). */
	struct posix_config cfg = { .cpus = 1, .nnets = 1, .mem_bytes = 256u << 20 };
	cfg.net[0].kind = POSIX_NET_SLIRP;
	int rc = hal_posix_run(&cfg, 2, argv);
	fprintf(stderr, "fuzz_net: the kernel ended (%d)\n", rc);
	abort();
}

static void await_done(void)
{
	uint64_t n;
	while (read(done_fd, &n, sizeof(n)) != sizeof(n))
		if (errno != EINTR)
			abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	request_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	done_fd = eventfd(0, EFD_CLOEXEC);
	pthread_t t;
	if (request_fd < 0 || done_fd < 0 || pthread_create(&t, NULL, kernel_thread, NULL) != 0)
		abort();
	pthread_detach(t);
	await_done();           /* booted, configured, services open */
	return 0;
}

/* fix_checksums: make f's checksums right, as control asks; every field
 * read is checked against len first. */
static void fix_checksums(uint8_t *f, size_t len, uint8_t control)
{
	if (len < ETH_HLEN + IP_HLEN || get_be16(f + ETH_TYPE) != ETHERTYPE_IPV4)
		return;
	uint8_t *ip = f + ETH_HLEN;
	size_t room = len - ETH_HLEN, ihl = (size_t)(ip[IP_VER_IHL] & 0xf) * 4;
	size_t tot = get_be16(ip + IP_TOTLEN);
	if (ihl < IP_HLEN || ihl > room)
		return;
	if (control & FIX_IP_CSUM) {
		put_be16(ip + IP_CSUM, 0);
		put_be16(ip + IP_CSUM, inet_fold(inet_sum(ip, ihl, 0)));
	}
	if (!(control & FIX_L4_CSUM) || tot < ihl || tot > room ||
	    (get_be16(ip + IP_FRAG) & (IP_FLAG_MF | IP_OFFSET_MASK)))
		return;
	uint8_t *l4 = ip + ihl;
	size_t l4len = tot - ihl;
	ip4_addr src = get_be32(ip + IP_SRC), dst = get_be32(ip + IP_DST);
	switch (ip[IP_PROTO]) {
	case IP_PROTO_TCP:
		if (l4len >= TCP_CSUM_AT + 2) {
			put_be16(l4 + TCP_CSUM_AT, 0);
			put_be16(l4 + TCP_CSUM_AT, inet_fold(inet_sum(l4, l4len,
			         inet_pseudo_sum(src, dst, IP_PROTO_TCP, (uint16_t)l4len))));
		}
		break;
	case IP_PROTO_UDP:
		if (l4len >= UDP_HLEN) {
			put_be16(l4 + UDP_CSUM, 0);
			put_be16(l4 + UDP_CSUM, inet_fold(inet_sum(l4, l4len,
			         inet_pseudo_sum(src, dst, IP_PROTO_UDP, (uint16_t)l4len))));
		}
		break;
	case IP_PROTO_ICMP:
		if (l4len >= ICMP_HLEN) {
			put_be16(l4 + ICMP_CSUM, 0);
			put_be16(l4 + ICMP_CSUM, inet_fold(inet_sum(l4, l4len, 0)));
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	/* Exactly the frame's bytes, so ASan sees any read past its end. */
	uint8_t *frame = malloc(len - 1 ? len - 1 : 1);
	if (!frame)
		abort();
	memcpy(frame, data + 1, len - 1);
	fix_checksums(frame, len - 1, data[0]);
	input = frame;
	input_len = len - 1;
	uint64_t one = 1;
	if (write(request_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	await_done();
	free(frame);
	return 0;
}
