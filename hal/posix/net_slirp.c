/*
 * net_slirp.c: a NIC of the posix HAL on libslirp (--net slirp,...), the
 * user-mode network QEMU uses: no root, no host interface.
 *
 * The network is QEMU's usual one: 10.0.2.0/24, the gateway (slirp itself)
 * 10.0.2.2, DNS 10.0.2.3, DHCP handing out 10.0.2.15 first; our MAC is
 * 52:54:00:12:34:56 (+ the NIC's index). slirp runs restricted: the service
 * reaches nothing outside, not even DNS (disable_dns: slirp would forward
 * queries to the host's resolvers), and the host reaches the service only
 * through the hostfwd ports, bound to 127.0.0.1 (net_options.c refuses any
 * other address). A port that cannot be bound fails posix_slirp_open with
 * one line: "--net: 127.0.0.1:8080 is in use". libslirp's restricted mode
 * drops every UDP datagram the guest sends (only DHCP is served), so a UDP
 * hostfwd carries datagrams to the service but never its answers.
 *
 * Why a host thread: libslirp is a poll-driven library. Its set of host
 * sockets changes all the time (a hostfwd connection is accepted, a socket
 * wants POLLOUT only while it has data queued, one stops asking for POLLIN
 * while the guest's window is closed), and it is handed over only as
 * slirp_pollfds_fill()/slirp_pollfds_poll() around a poll() with a
 * timeout for its TCP timers. hal_posix_watch_fd cannot carry that: it
 * watches a fixed handful of fds for input only, and an epoll instance
 * holding slirp's sockets cannot be watched either (Linux refuses
 * EPOLLEXCLUSIVE on an epoll fd). So one host thread per slirp NIC does
 * fill/poll/poll-back in a loop. Frames slirp sends (send_packet) are
 * copied into a receive ring, and an armed queue gets its notify through
 * hal_posix_raise_irq on the kernel CPU that serves it. The thread sleeps
 * in poll(): no busy loop; slirp itself asks for a wake-up at most once a
 * second (its TCP slow timer) and every 2 ms only while it owes a delayed
 * ACK.
 *
 * Every call into libslirp is made on that thread (slirp_new and
 * slirp_cleanup aside: before it starts and after it ended). libslirp is
 * not thread-safe, and its input path needs about 70 KiB of stack: run on
 * a kernel thread's 32 KiB stack it overflowed into the heap. So transmit
 * only copies frames into a bounded transmit ring and wakes the thread
 * through an eventfd in its poll set; the thread feeds them to slirp_input.
 * A full ring takes fewer frames, and an armed queue gets its notify when
 * the thread has made room.
 *
 * Checksums: slirp checks those of every frame it is given (so no TX
 * offload) and computes those of every frame it sends, in memory, so
 * received frames come marked HAL_NET_CSUM_VALID.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libslirp.h>

#include "net_posix.h"

#define RX_RING 256                /* frames slirp sent that wait for receive */
#define TX_RING 256                /* frames transmitted that wait for slirp_input */
#define TX_BATCH 32                /* frames fed to slirp per look at the ring */

/* A libslirp timer (only the IPv6 router advertisement uses one, and
 * IPv6 is off; kept right all the same). */
struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;          /* -1: not armed */
};

struct slirp_nic {
	struct hal_netdev dev;      /* first: hal_netdev * is a slirp_nic * */
	unsigned index;
	int wakefd;                 /* eventfd in the poll set: "refill now" */
	pthread_t thread;
	bool thread_started;

	bool stopping;              /* atomic: the poll thread ends */

	/* The poll thread's own (before it starts and after it ended: the
	 * opener's and closer's): slirp and what its callbacks keep. */
	Slirp *slirp;
	struct slirp_timer *timers;
	unsigned long guest_errors; /* slirp found a frame of ours wrong */
	struct pollfd *pfds;        /* the set slirp_pollfds_fill asked for */
	unsigned npfds, pfds_cap;

	/* lock guards both rings, armed, tx_blocked and the counters below.
	 * Never held across a call into libslirp. A ring's slots from head
	 * on, count of them, are full; only its consumer moves head. */
	pthread_mutex_t lock;
	uint8_t (*rx)[HAL_NET_FRAME_MAX];
	uint16_t rx_len[RX_RING];
	unsigned rx_head, rx_count;
	uint8_t (*tx)[HAL_NET_FRAME_MAX];
	uint16_t tx_len[TX_RING];
	unsigned tx_head, tx_count;
	bool armed;                 /* one notify owed: a frame or room */
	bool tx_blocked;            /* transmit found the ring full, room owed */
	unsigned long rx_dropped;   /* ring full, or a frame too long or short */
	unsigned long notify_failed;/* hal_posix_raise_irq had no memory */
	unsigned long tx_dropped;   /* transmitted frames refused (length, flags) */
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake_poller(struct slirp_nic *n)
{
	uint64_t one = 1;
	/* EAGAIN: the counter is far from empty, the thread will wake. */
	if (write(n->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("toro: slirp: eventfd");
}

/* ---- notify: one per hal_net_arm, in irq context ---- */

static void notify_irq(void *arg)
{
	struct slirp_nic *n = arg;
	posix_net_notify(&n->dev, 0);
}

/* raise_notify: queue notify_irq on cpu; lock held, armed was set. On
 * failure armed stays set, so the next frame (or room) tries again. */
static void raise_notify(struct slirp_nic *n, unsigned cpu)
{
	if (hal_posix_raise_irq(cpu, notify_irq, n) == 0)
		n->armed = false;
	else
		n->notify_failed++;
}

/* ---- libslirp's callbacks (all on the poll thread) ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_nic *n = opaque;
	pthread_mutex_lock(&n->lock);
	if (len < 14 || len > HAL_NET_FRAME_MAX || n->rx_count == RX_RING) {
		n->rx_dropped++;        /* slirp's TCP will send again */
	} else {
		unsigned slot = (n->rx_head + n->rx_count++) % RX_RING;
		memcpy(n->rx[slot], buf, len);
		n->rx_len[slot] = (uint16_t)len;
		if (n->armed)
			raise_notify(n, 0);     /* queue 0 is served by CPU 0 */
	}
	pthread_mutex_unlock(&n->lock);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct slirp_nic *n = opaque;
	n->guest_errors++;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return now_ns();
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slirp_nic *n = opaque;
	struct slirp_timer *t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	*t = (struct slirp_timer){ n->timers, id, cb_opaque, -1 };
	n->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_nic *n = opaque;
	for (struct slirp_timer **p = &n->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;
	t->expire_ms = expire_ms;
	/* The poll thread computes its timeout again when it wakes. */
	wake_poller(opaque);
}

static void cb_poll_fd_noop(int fd, void *opaque)
{
	/* The poll set is filled anew before every wait. */
}

static void cb_notify(void *opaque)
{
	wake_poller(opaque);
}

static void cb_init_completed(Slirp *slirp, void *opaque)
{
}

static const SlirpCb slirp_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_poll_fd_noop,
	.unregister_poll_fd = cb_poll_fd_noop,
	.notify = cb_notify,
	.init_completed = cb_init_completed,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* ---- the poll thread ---- */

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct slirp_nic *n = opaque;
	if (n->npfds == n->pfds_cap) {
		unsigned cap = n->pfds_cap * 2;
		struct pollfd *p = realloc(n->pfds, cap * sizeof(*p));
		if (!p)
			return -1;      /* slirp skips a socket it got -1 for */
		n->pfds = p;
		n->pfds_cap = cap;
	}
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	n->pfds[n->npfds] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)n->npfds++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct slirp_nic *n = opaque;
	if (idx < 1 || (unsigned)idx >= n->npfds)
		return 0;
	short r = n->pfds[idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* timers_timeout: shorten *timeout_ms to the nearest armed timer. */
static void timers_timeout(struct slirp_nic *n, uint32_t *timeout_ms)
{
	int64_t now = now_ns() / 1000000;
	for (struct slirp_timer *t = n->timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		int64_t left = t->expire_ms > now ? t->expire_ms - now : 0;
		if (left < *timeout_ms)
			*timeout_ms = (uint32_t)left;
	}
}

/* timers_run: fire the timers that are due (one at a time: a callback may
 * free or re-arm any timer). */
static void timers_run(struct slirp_nic *n)
{
	for (;;) {
		int64_t now = now_ns() / 1000000;
		struct slirp_timer *t = n->timers;
		while (t && (t->expire_ms < 0 || t->expire_ms > now))
			t = t->next;
		if (!t)
			return;
		t->expire_ms = -1;
		slirp_handle_timer(n->slirp, t->id, t->cb_opaque);
	}
}

/* feed_transmitted: hand every frame in the transmit ring to slirp, a
 * batch at a time; the slots stay full (transmit leaves them alone) until
 * the batch is done, then room is owed to a blocked, armed queue. */
static void feed_transmitted(struct slirp_nic *n)
{
	for (;;) {
		pthread_mutex_lock(&n->lock);
		unsigned head = n->tx_head;
		unsigned batch = n->tx_count < TX_BATCH ? n->tx_count : TX_BATCH;
		pthread_mutex_unlock(&n->lock);
		if (batch == 0)
			return;
		for (unsigned i = 0; i < batch; i++) {
			unsigned slot = (head + i) % TX_RING;
			slirp_input(n->slirp, n->tx[slot], n->tx_len[slot]);
		}
		pthread_mutex_lock(&n->lock);
		n->tx_head = (head + batch) % TX_RING;
		n->tx_count -= batch;
		if (n->tx_blocked && n->armed) {
			n->tx_blocked = false;
			raise_notify(n, 0);     /* queue 0 is served by CPU 0 */
		}
		pthread_mutex_unlock(&n->lock);
	}
}

static void *poll_thread(void *arg)
{
	struct slirp_nic *n = arg;
	while (!__atomic_load_n(&n->stopping, __ATOMIC_ACQUIRE)) {
		feed_transmitted(n);
		uint32_t timeout = UINT32_MAX;
		n->pfds[0] = (struct pollfd){ .fd = n->wakefd, .events = POLLIN };
		n->npfds = 1;
		slirp_pollfds_fill(n->slirp, &timeout, cb_add_poll, n);
		timers_timeout(n, &timeout);

		/* A frame transmitted from here on writes the eventfd: poll
		 * returns at once, and the next round feeds it. */
		int rc = poll(n->pfds, n->npfds, timeout > INT32_MAX ? -1 : (int)timeout);
		int poll_errno = errno;
		if (rc > 0 && (n->pfds[0].revents & POLLIN)) {
			uint64_t count;
			if (read(n->wakefd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				perror("toro: slirp: eventfd");
		}

		timers_run(n);
		slirp_pollfds_poll(n->slirp, rc < 0 && poll_errno != EINTR, cb_get_revents, n);
	}
	return NULL;
}

/* ---- hal_net_* ---- */

static int slirp_start(struct hal_netdev *dev)
{
	struct slirp_nic *n = (struct slirp_nic *)dev;
	int rc = pthread_create(&n->thread, NULL, poll_thread, n);
	if (rc != 0)
		return -rc;
	n->thread_started = true;
	return 0;
}

static unsigned slirp_receive(struct hal_netdev *dev, unsigned queue,
                              struct hal_net_frame *frames, unsigned max)
{
	struct slirp_nic *n = (struct slirp_nic *)dev;
	unsigned got = 0;
	pthread_mutex_lock(&n->lock);
	while (got < max && n->rx_count > 0) {
		unsigned slot = n->rx_head;
		n->rx_head = (n->rx_head + 1) % RX_RING;
		n->rx_count--;
		struct hal_net_frame *f = &frames[got];
		if (f->len < n->rx_len[slot]) {
			n->rx_dropped++;        /* the caller broke hal.h's rule */
			continue;
		}
		memcpy(f->data, n->rx[slot], n->rx_len[slot]);
		f->len = n->rx_len[slot];
		f->flags = HAL_NET_CSUM_VALID;
		got++;
	}
	pthread_mutex_unlock(&n->lock);
	return got;
}

static unsigned slirp_transmit(struct hal_netdev *dev, unsigned queue,
                               const struct hal_net_frame *frames, unsigned n_frames)
{
	struct slirp_nic *n = (struct slirp_nic *)dev;
	unsigned taken = 0, queued = 0;
	pthread_mutex_lock(&n->lock);
	for (; taken < n_frames; taken++) {
		const struct hal_net_frame *f = &frames[taken];
		/* No TX_CSUM offered: a partial checksum is a frame we cannot send. */
		if (f->len < 14 || f->len > HAL_NET_FRAME_MAX || (f->flags & HAL_NET_CSUM_PARTIAL)) {
			n->tx_dropped++;        /* taken, and dropped */
			continue;
		}
		if (n->tx_count == TX_RING) {
			n->tx_blocked = true;   /* feed_transmitted owes the room */
			break;
		}
		unsigned slot = (n->tx_head + n->tx_count++) % TX_RING;
		memcpy(n->tx[slot], f->data, f->len);
		n->tx_len[slot] = f->len;
		queued++;
	}
	pthread_mutex_unlock(&n->lock);
	if (queued)
		wake_poller(n);
	return taken;
}

static void slirp_arm(struct hal_netdev *dev, unsigned queue)
{
	struct slirp_nic *n = (struct slirp_nic *)dev;
	pthread_mutex_lock(&n->lock);
	n->armed = true;
	bool room = n->tx_blocked && n->tx_count < TX_RING;
	if (room)
		n->tx_blocked = false;
	if (n->rx_count > 0 || room)
		raise_notify(n, hal_cpu_id());  /* runs when this CPU takes irqs */
	pthread_mutex_unlock(&n->lock);
}

static void slirp_close(struct hal_netdev *dev)
{
	struct slirp_nic *n = (struct slirp_nic *)dev;
	if (n->thread_started) {
		__atomic_store_n(&n->stopping, true, __ATOMIC_RELEASE);
		wake_poller(n);
		pthread_join(n->thread, NULL);
	}
	/* The counts of what was dropped, where someone will see them. */
	if (n->rx_dropped || n->tx_dropped || n->guest_errors || n->notify_failed)
		fprintf(stderr, "toro: %s: dropped %lu received and %lu transmitted frames, "
		        "%lu refused by slirp, %lu notifies failed\n", dev->info.name, n->rx_dropped,
		        n->tx_dropped, n->guest_errors, n->notify_failed);
	if (n->slirp)
		slirp_cleanup(n->slirp);
	while (n->timers) {
		struct slirp_timer *t = n->timers;
		n->timers = t->next;
		free(t);
	}
	if (n->wakefd >= 0)
		close(n->wakefd);
	pthread_mutex_destroy(&n->lock);
	free(n->pfds);
	free(n->rx);
	free(n->tx);
	free(n);
}

static const struct posix_nic_ops slirp_ops = {
	.start = slirp_start,
	.receive = slirp_receive,
	.transmit = slirp_transmit,
	.arm = slirp_arm,
	.close = slirp_close,
};

/* ---- opening ---- */

static struct in_addr addr(const char *dotted)
{
	struct in_addr a;
	inet_pton(AF_INET, dotted, &a);
	return a;
}

/* add_forwards: bind cfg's hostfwd ports on 127.0.0.1; -1 after a message. */
static int add_forwards(struct slirp_nic *n, const struct posix_net_config *cfg)
{
	for (unsigned i = 0; i < cfg->nfwd; i++) {
		const struct posix_hostfwd *f = &cfg->fwd[i];
		struct in_addr guest = { .s_addr = f->guest_addr };
		errno = 0;
		if (slirp_add_hostfwd(n->slirp, f->udp, addr("127.0.0.1"), f->host_port, guest,
		                      f->guest_port) < 0) {
			const char *proto = f->udp ? " (udp)" : "";
			if (errno == EADDRINUSE || errno == 0)
				fprintf(stderr, "--net: 127.0.0.1:%u%s is in use\n", f->host_port, proto);
			else
				fprintf(stderr, "--net: 127.0.0.1:%u%s: %s\n", f->host_port, proto,
				        strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct hal_netdev *posix_slirp_open(const struct posix_net_config *cfg, unsigned index)
{
	struct slirp_nic *n = calloc(1, sizeof(*n));
	if (!n) {
		fprintf(stderr, "--net: slirp: out of memory\n");
		return NULL;
	}
	pthread_mutex_init(&n->lock, NULL);
	n->index = index;
	n->dev.ops = &slirp_ops;
	n->pfds_cap = 16;
	n->pfds = malloc(n->pfds_cap * sizeof(*n->pfds));
	n->rx = malloc(RX_RING * sizeof(*n->rx));
	n->tx = malloc(TX_RING * sizeof(*n->tx));
	n->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!n->pfds || !n->rx || !n->tx || n->wakefd < 0) {
		fprintf(stderr, "--net: slirp: %s\n", n->wakefd < 0 ? strerror(errno) : "out of memory");
		slirp_close(&n->dev);
		return NULL;
	}

	struct hal_net_info *info = &n->dev.info;
	static const uint8_t qemu_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	memcpy(info->mac, cfg->has_mac ? cfg->mac : qemu_mac, 6);
	if (!cfg->has_mac)
		info->mac[5] = (uint8_t)(info->mac[5] + index);
	info->mtu = 1500;
	info->queues = 1;
	info->offloads = HAL_NET_RX_CSUM;
	info->link_up = true;
	snprintf(info->name, sizeof(info->name), "slirp%u", index);

	SlirpConfig sc = {
		.version = 4,
		.restricted = 1,
		.in_enabled = true,
		.vnetwork = addr("10.0.2.0"),
		.vnetmask = addr("255.255.255.0"),
		.vhost = addr("10.0.2.2"),
		.in6_enabled = false,
		.vdhcp_start = addr("10.0.2.15"),
		.vnameserver = addr("10.0.2.3"),
		.if_mtu = 1500,
		.if_mru = 1500,
		/* As QEMU's restrict=on: restricted drops every connection
		 * and datagram the guest starts, 10.0.2.2 included. */
		.disable_host_loopback = false,
		.enable_emu = false,
		.disable_dns = true,
	};
	n->slirp = slirp_new(&sc, &slirp_callbacks, n);    /* no poll thread yet */
	int rc = n->slirp ? add_forwards(n, cfg) : -1;
	if (rc < 0) {
		if (!n->slirp)
			fprintf(stderr, "--net: slirp: libslirp refused its configuration\n");
		slirp_close(&n->dev);
		return NULL;
	}
	return &n->dev;
}
