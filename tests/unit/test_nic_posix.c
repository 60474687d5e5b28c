/*
 * test_nic_posix.c: the posix HAL's slirp NIC (--net slirp) driven through
 * hal_net_* from a booted kernel, before any TCP/IP stack: raw frames in,
 * libslirp's own answers out. ARP who-has the gateway gets slirp's reply,
 * a DHCP DISCOVER gets an OFFER of 10.0.2.15, a host connect() to a
 * forwarded 127.0.0.1 port makes slirp send a SYN to the guest port,
 * hal_net_arm gives exactly one notify, never lost when frames came before
 * the arm, and 3000 datagrams through a udp forward all reach the guest's
 * receive loop. Also malformed frames, the --net option parser and a
 * taken port at start.
 *
 * The kernel side records what it saw; Criterion asserts afterwards.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "hal.h"
#include "thread.h"
#include "toro.h"
#include "waitq.h"

TORO_NO_NET_STACK;      /* the NICs are the test's: no TCP/IP stack */

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define GUEST_IP IP(10, 0, 2, 15)
#define GATEWAY_IP IP(10, 0, 2, 2)

/* ---- frames, byte by byte (big-endian fields) ---- */

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static unsigned eth_header(uint8_t *f, const uint8_t dst[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, our_mac, 6);
	put16(f + 12, type);
	return 14;
}

/* arp_frame: an ARP request (op 1) or reply (op 2) from us. */
static unsigned arp_frame(uint8_t *f, uint16_t op, const uint8_t dst[6], uint32_t sender_ip,
                          const uint8_t target_mac[6], uint32_t target_ip)
{
	unsigned n = eth_header(f, dst, 0x0806);
	uint8_t *a = f + n;
	put16(a, 1);            /* Ethernet */
	put16(a + 2, 0x0800);   /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, our_mac, 6);
	put32(a + 14, sender_ip);
	memcpy(a + 18, target_mac, 6);
	put32(a + 24, target_ip);
	return n + 28;
}

static uint16_t inet_csum(const uint8_t *p, unsigned len)
{
	uint32_t sum = 0;
	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* dhcp_discover: 0.0.0.0:68 -> 255.255.255.255:67, RFC 2131 DISCOVER with
 * transaction id xid (UDP checksum 0: none, as RFC 768 allows). */
static unsigned dhcp_discover(uint8_t *f, uint32_t xid)
{
	unsigned n = eth_header(f, broadcast, 0x0800);
	uint8_t *ip = f + n, *udp = ip + 20, *bootp = udp + 8;
	unsigned bootp_len = 240 + 3 + 1;
	memset(ip, 0, 20 + 8 + bootp_len);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + bootp_len));
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 16, 0xffffffff);
	put16(ip + 10, inet_csum(ip, 20));
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, (uint16_t)(8 + bootp_len));
	bootp[0] = 1;           /* BOOTREQUEST */
	bootp[1] = 1;           /* Ethernet */
	bootp[2] = 6;
	put32(bootp + 4, xid);
	memcpy(bootp + 28, our_mac, 6);
	put32(bootp + 236, 0x63825363);     /* magic cookie */
	bootp[240] = 53;        /* DHCP message type */
	bootp[241] = 1;
	bootp[242] = 1;         /* DISCOVER */
	bootp[243] = 255;
	return n + 20 + 8 + bootp_len;
}

/* ---- the kernel side: a NIC, its notify, a receive loop ---- */

struct nic {
	struct hal_netdev *dev;
	struct waitq wq;
	bool notified;              /* guarded by wq.lock */
	unsigned notifies;          /* atomic */
	bool notify_irq_on;         /* a notify ran with interrupts on */
	bool notify_bad_queue;
};

static void on_notify(void *arg, unsigned queue)
{
	struct nic *n = arg;
	if (hal_irq_enabled())
		n->notify_irq_on = true;
	if (queue != 0)
		n->notify_bad_queue = true;
	__atomic_add_fetch(&n->notifies, 1, __ATOMIC_RELAXED);
	spin_lock(&n->wq.lock);
	n->notified = true;
	waitq_wake_all_locked(&n->wq);
	spin_unlock(&n->wq.lock);
}

static int nic_start(struct nic *n)
{
	n->dev = hal_net_get(0);
	if (!n->dev)
		return -ENODEV;
	waitq_init(&n->wq, "nic test");
	return hal_net_start(n->dev, on_notify, n);
}

/* wait_notify: sleep until a notify came or ms passed (-ETIMEDOUT). */
static int wait_notify(struct nic *n, unsigned ms)
{
	uint64_t deadline = hal_clock_ns() + ms * 1000000ull;
	int rc = 0;
	spin_lock(&n->wq.lock);
	while (!n->notified && rc == 0)
		rc = waitq_wait_locked(&n->wq, deadline);
	n->notified = false;
	spin_unlock(&n->wq.lock);
	return rc ? -ETIMEDOUT : 0;
}

static int send_frame(struct nic *n, const uint8_t *data, unsigned len)
{
	struct hal_net_frame f = { .data = (void *)data, .len = (uint16_t)len };
	return hal_net_transmit(n->dev, 0, &f, 1) == 1 ? 0 : -EIO;
}

/* receive_until: the NAPI loop: drain, arm, wait; stop once match(frame)
 * returns true (0) or after ms (-ETIMEDOUT). match may transmit. */
typedef bool (*frame_match)(struct nic *n, const uint8_t *f, unsigned len, void *ctx);

static uint8_t rx_buf[4][HAL_NET_FRAME_MAX];

static int receive_until(struct nic *n, frame_match match, void *ctx, unsigned ms)
{
	uint64_t deadline = hal_clock_ns() + ms * 1000000ull;
	for (;;) {
		struct hal_net_frame fr[4];
		for (int i = 0; i < 4; i++)
			fr[i] = (struct hal_net_frame){ .data = rx_buf[i], .len = HAL_NET_FRAME_MAX };
		unsigned got = hal_net_receive(n->dev, 0, fr, 4);
		for (unsigned i = 0; i < got; i++)
			if (match(n, fr[i].data, fr[i].len, ctx))
				return 0;
		if (got)
			continue;
		uint64_t now = hal_clock_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		hal_net_arm(n->dev, 0);
		wait_notify(n, (unsigned)((deadline - now) / 1000000) + 1);
	}
}

/* ---- ARP: who-has 10.0.2.2 gets slirp's reply ---- */

struct arp_result {
	int start_rc, again_rc, wait_rc;
	struct hal_net_info info;
	unsigned count;
	uint8_t reply[64];
	unsigned reply_len;
	uint16_t reply_flags;
	unsigned notifies;
	bool notify_irq_on, notify_bad_queue;
};

static bool is_arp_reply(struct nic *n, const uint8_t *f, unsigned len, void *ctx)
{
	struct arp_result *r = ctx;
	if (len < 42 || get16(f + 12) != 0x0806 || get16(f + 20) != 2)
		return false;
	memcpy(r->reply, f, len < sizeof(r->reply) ? len : sizeof(r->reply));
	r->reply_len = len;
	return true;
}

static int arp_body(void *arg)
{
	struct arp_result *r = arg;
	static struct nic n;
	r->count = hal_net_count();
	r->start_rc = nic_start(&n);
	if (r->start_rc < 0)
		return 1;
	hal_net_info(n.dev, &r->info);
	r->again_rc = hal_net_start(n.dev, on_notify, &n);
	uint8_t f[64];
	static const uint8_t zero_mac[6];
	send_frame(&n, f, arp_frame(f, 1, broadcast, GUEST_IP, zero_mac, GATEWAY_IP));
	r->wait_rc = receive_until(&n, is_arp_reply, r, 3000);
	r->notifies = n.notifies;
	r->notify_irq_on = n.notify_irq_on;
	r->notify_bad_queue = n.notify_bad_queue;
	return 0;
}

static struct posix_config slirp_config(unsigned cpus, const char *spec)
{
	struct posix_config cfg = { .cpus = cpus, .nnets = 1 };
	cr_assert_eq(posix_net_parse(spec, &cfg.net[0]), 0, "%s", spec);
	return cfg;
}

Test(nic_slirp, arp_who_has_gateway, .timeout = 30)
{
	static struct arp_result r;
	struct posix_config cfg = slirp_config(2, "slirp");
	cr_assert_eq(run_in_kernel_cfg(&cfg, arp_body, &r), 0);
	cr_assert_eq(r.count, 1);
	cr_assert_eq(r.start_rc, 0);
	cr_assert_eq(r.again_rc, -EBUSY, "hal_net_start is once per device");
	cr_assert_arr_eq(r.info.mac, our_mac, 6);
	cr_assert_eq(r.info.mtu, 1500);
	cr_assert_eq(r.info.queues, 1);
	cr_assert(r.info.link_up);
	cr_assert_eq(r.info.offloads, HAL_NET_RX_CSUM);
	cr_assert_str_eq(r.info.name, "slirp0");

	cr_assert_eq(r.wait_rc, 0, "no ARP reply from slirp");
	const uint8_t *f = r.reply, *a = f + 14;
	cr_assert_arr_eq(f, our_mac, 6, "the reply is sent to us");
	cr_assert_eq(get16(a + 6), 2, "op reply");
	/* slirp answers for its addresses with 52:55 and the IP address. */
	static const uint8_t gw_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };
	cr_assert_arr_eq(a + 8, gw_mac, 6);
	cr_assert_eq(get32(a + 14), GATEWAY_IP);
	cr_assert_arr_eq(a + 18, our_mac, 6);
	cr_assert_eq(get32(a + 24), GUEST_IP);
	/* slirp answers ARP inside slirp_input: the reply may be there before
	 * any arm, so notifies are checked in one_notify_per_arm_none_lost. */
	cr_assert_not(r.notify_irq_on, "notify runs in irq context");
	cr_assert_not(r.notify_bad_queue);
}

/* ---- DHCP: a DISCOVER gets an OFFER of 10.0.2.15 ---- */

struct dhcp_result {
	int wait_rc;
	uint8_t offer[600];
	unsigned len;
	uint16_t flags;
};

#define XID 0x546f726fu

static bool is_dhcp_offer(struct nic *n, const uint8_t *f, unsigned len, void *ctx)
{
	struct dhcp_result *r = ctx;
	if (len < 14 + 20 + 8 + 240 || get16(f + 12) != 0x0800 || f[23] != 17)
		return false;
	unsigned ihl = (f[14] & 15) * 4u;
	const uint8_t *udp = f + 14 + ihl;
	if (get16(udp) != 67 || get16(udp + 2) != 68 || get32(udp + 8 + 4) != XID)
		return false;
	r->len = len < sizeof(r->offer) ? len : sizeof(r->offer);
	memcpy(r->offer, f, r->len);
	return true;
}

static int dhcp_body(void *arg)
{
	struct dhcp_result *r = arg;
	static struct nic n;
	if (nic_start(&n) < 0)
		return 1;
	uint8_t f[400];
	send_frame(&n, f, dhcp_discover(f, XID));
	r->wait_rc = receive_until(&n, is_dhcp_offer, r, 3000);
	return 0;
}

/* dhcp_option: the value of option code in the BOOTP options at opt, or NULL. */
static const uint8_t *dhcp_option(const uint8_t *opt, const uint8_t *end, uint8_t code)
{
	while (opt < end && *opt != 255) {
		if (*opt == 0) {
			opt++;
			continue;
		}
		if (opt + 2 > end || opt + 2 + opt[1] > end)
			return NULL;
		if (*opt == code)
			return opt + 2;
		opt += 2 + opt[1];
	}
	return NULL;
}

Test(nic_slirp, dhcp_discover_gets_offer, .timeout = 30)
{
	static struct dhcp_result r;
	struct posix_config cfg = slirp_config(2, "slirp");
	cr_assert_eq(run_in_kernel_cfg(&cfg, dhcp_body, &r), 0);
	cr_assert_eq(r.wait_rc, 0, "no DHCP OFFER from slirp");
	const uint8_t *ip = r.offer + 14;
	unsigned ihl = (ip[0] & 15) * 4u;
	const uint8_t *bootp = ip + ihl + 8;
	cr_assert_eq(get32(ip + 12), GATEWAY_IP, "from the gateway");
	cr_assert_eq(bootp[0], 2, "BOOTREPLY");
	cr_assert_eq(get32(bootp + 16), GUEST_IP, "yiaddr 10.0.2.15");
	cr_assert_arr_eq(bootp + 28, our_mac, 6, "chaddr is ours");
	cr_assert_eq(get32(bootp + 236), 0x63825363);
	const uint8_t *type = dhcp_option(bootp + 240, r.offer + r.len, 53);
	cr_assert_not_null(type);
	cr_assert_eq(*type, 2, "DHCPOFFER");
	const uint8_t *server = dhcp_option(bootp + 240, r.offer + r.len, 54);
	cr_assert_not_null(server);
	cr_assert_eq(get32(server), GATEWAY_IP);
	const uint8_t *mask = dhcp_option(bootp + 240, r.offer + r.len, 1);
	cr_assert_not_null(mask);
	cr_assert_eq(get32(mask), IP(255, 255, 255, 0));
	/* The IP and UDP checksums slirp computed hold. */
	cr_assert_eq(inet_csum(ip, ihl), 0);
}

/* ---- arm and notify: one per arm, none lost ---- */

struct arm_result {
	int idle_wait, armed_wait, unarmed_wait, late_arm_wait;
	unsigned notifies_idle, notifies_armed, notifies_unarmed, notifies_late;
	unsigned batch1, batch2, batch3;
	uint16_t flags;
	bool notify_irq_on;
};

static void who_has_gateway(struct nic *n)
{
	uint8_t f[64];
	static const uint8_t zero_mac[6];
	send_frame(n, f, arp_frame(f, 1, broadcast, GUEST_IP, zero_mac, GATEWAY_IP));
}

static unsigned drain(struct nic *n, uint16_t *flags)
{
	struct hal_net_frame fr[4];
	for (int i = 0; i < 4; i++)
		fr[i] = (struct hal_net_frame){ .data = rx_buf[i], .len = HAL_NET_FRAME_MAX };
	unsigned got = hal_net_receive(n->dev, 0, fr, 4);
	if (got && flags)
		*flags = fr[0].flags;
	return got;
}

static int arm_body(void *arg)
{
	struct arm_result *r = arg;
	static struct nic n;
	if (nic_start(&n) < 0)
		return 1;

	/* Nothing waiting: an armed queue stays quiet. */
	hal_net_arm(n.dev, 0);
	r->idle_wait = wait_notify(&n, 100);
	r->notifies_idle = n.notifies;

	/* Still armed: a frame brings exactly one notify... */
	who_has_gateway(&n);
	r->armed_wait = wait_notify(&n, 3000);
	r->notifies_armed = n.notifies;
	/* ...and the next frame, not armed again, none. */
	who_has_gateway(&n);
	r->unarmed_wait = wait_notify(&n, 200);
	r->notifies_unarmed = n.notifies;

	/* Both replies wait now (they came before this arm): the arm must
	 * notify at once, not wait for a third frame. */
	r->late_arm_wait = -1;
	hal_net_arm(n.dev, 0);
	r->late_arm_wait = wait_notify(&n, 3000);
	r->notifies_late = n.notifies;

	r->batch1 = drain(&n, &r->flags);
	/* A batch of three requests in one transmit, received two then one. */
	struct hal_net_frame tx[3];
	uint8_t f[3][64];
	static const uint8_t zero_mac[6];
	for (int i = 0; i < 3; i++)
		tx[i] = (struct hal_net_frame){
			.data = f[i], .len = (uint16_t)arp_frame(f[i], 1, broadcast, GUEST_IP, zero_mac,
			                                         GATEWAY_IP) };
	hal_net_transmit(n.dev, 0, tx, 3);
	thread_sleep_ms(50);
	struct hal_net_frame fr[2];
	for (int i = 0; i < 2; i++)
		fr[i] = (struct hal_net_frame){ .data = rx_buf[i], .len = HAL_NET_FRAME_MAX };
	r->batch2 = hal_net_receive(n.dev, 0, fr, 2);
	r->batch3 = drain(&n, NULL);
	r->notify_irq_on = n.notify_irq_on;
	return 0;
}

Test(nic_slirp, one_notify_per_arm_none_lost, .timeout = 30)
{
	static struct arm_result r;
	struct posix_config cfg = slirp_config(2, "slirp");
	cr_assert_eq(run_in_kernel_cfg(&cfg, arm_body, &r), 0);
	cr_assert_eq(r.idle_wait, -ETIMEDOUT, "a notify with nothing to receive");
	cr_assert_eq(r.notifies_idle, 0);
	cr_assert_eq(r.armed_wait, 0, "no notify for a frame on an armed queue");
	cr_assert_eq(r.notifies_armed, 1);
	cr_assert_eq(r.unarmed_wait, -ETIMEDOUT, "a notify without an arm");
	cr_assert_eq(r.notifies_unarmed, 1);
	cr_assert_eq(r.late_arm_wait, 0, "an arm with frames waiting was not notified");
	cr_assert_eq(r.notifies_late, 2);
	cr_assert_eq(r.batch1, 2, "both replies wait: %u", r.batch1);
	cr_assert_eq(r.flags, HAL_NET_CSUM_VALID);
	cr_assert_eq(r.batch2, 2);
	cr_assert_eq(r.batch3, 1);
	cr_assert_not(r.notify_irq_on);
}

/* ---- a full transmit ring takes fewer frames; room comes with a notify ---- */

struct ring_full_result {
	unsigned tries, taken;
	int room_wait;
	unsigned notifies;
	unsigned taken_after;
};

static int ring_full_body(void *arg)
{
	struct ring_full_result *r = arg;
	static struct nic n;
	if (nic_start(&n) < 0)
		return 1;
	/* Frames of an ethertype slirp ignores (local experimental): it takes
	 * them and answers nothing, so only the transmit ring fills. */
	static uint8_t f[60];
	static struct hal_net_frame tx[512];
	eth_header(f, broadcast, 0x88b5);
	for (unsigned i = 0; i < 512; i++)
		tx[i] = (struct hal_net_frame){ .data = f, .len = sizeof(f) };
	/* The poll thread drains the ring meanwhile: more than it holds in
	 * one call fills it unless that thread keeps pace, so try again. */
	for (r->tries = 1; r->tries <= 100; r->tries++) {
		r->taken = hal_net_transmit(n.dev, 0, tx, 512);
		if (r->taken < 512)
			break;
	}
	hal_net_arm(n.dev, 0);
	r->room_wait = wait_notify(&n, 3000);
	r->notifies = n.notifies;
	r->taken_after = hal_net_transmit(n.dev, 0, tx, 1);
	return 0;
}

Test(nic_slirp, full_transmit_ring_takes_fewer_then_notifies_room, .timeout = 30)
{
	static struct ring_full_result r;
	struct posix_config cfg = slirp_config(2, "slirp");
	cr_assert_eq(run_in_kernel_cfg(&cfg, ring_full_body, &r), 0);
	cr_assert_lt(r.taken, 512, "100 transmits of 512 frames never found the ring full");
	cr_assert_eq(r.room_wait, 0, "no notify once the ring had room again");
	cr_assert_eq(r.notifies, 1);
	cr_assert_eq(r.taken_after, 1);
}

/* ---- malformed frames are dropped, the NIC goes on ---- */

struct bad_tx_result {
	unsigned taken;
	int wait_rc;
	unsigned replies;
};

static bool count_arp_replies(struct nic *n, const uint8_t *f, unsigned len, void *ctx)
{
	struct bad_tx_result *r = ctx;
	if (len >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 2)
		r->replies++;
	return false;       /* keep receiving until the time is up */
}

static int bad_tx_body(void *arg)
{
	struct bad_tx_result *r = arg;
	static struct nic n;
	if (nic_start(&n) < 0)
		return 1;
	uint8_t good[64], runt[10] = { 0 }, junk[200];
	static const uint8_t zero_mac[6];
	unsigned good_len = arp_frame(good, 1, broadcast, GUEST_IP, zero_mac, GATEWAY_IP);
	memset(junk, 0xa5, sizeof(junk));   /* an unknown EtherType, nonsense */
	struct hal_net_frame tx[4] = {
		{ .data = runt, .len = sizeof(runt) },
		{ .data = good, .len = (uint16_t)good_len, .flags = HAL_NET_CSUM_PARTIAL },
		{ .data = junk, .len = sizeof(junk) },
		{ .data = good, .len = (uint16_t)good_len },
	};
	r->taken = hal_net_transmit(n.dev, 0, tx, 4);
	r->wait_rc = receive_until(&n, count_arp_replies, r, 300);
	return 0;
}

Test(nic_slirp, malformed_frames_dropped, .timeout = 30)
{
	static struct bad_tx_result r;
	struct posix_config cfg = slirp_config(1, "slirp");
	cr_assert_eq(run_in_kernel_cfg(&cfg, bad_tx_body, &r), 0);
	cr_assert_eq(r.taken, 4);
	cr_assert_eq(r.replies, 1, "only the good request is answered: %u", r.replies);
}

/* ---- hostfwd: a host connect() makes slirp send a SYN to the guest ---- */

struct fwd_result {
	int connect_rc, wait_rc;
	unsigned arp_answered;
	uint8_t syn[80];
	unsigned syn_len;
};

static uint16_t fwd_port;

static bool answer_arp_see_syn(struct nic *n, const uint8_t *f, unsigned len, void *ctx)
{
	struct fwd_result *r = ctx;
	if (len >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 1 &&
	    get32(f + 14 + 24) == GUEST_IP) {
		/* slirp asks who has 10.0.2.15: we do. */
		uint8_t reply[64];
		send_frame(n, reply, arp_frame(reply, 2, f + 6, GUEST_IP, f + 22, get32(f + 28)));
		r->arp_answered++;
		return false;
	}
	if (len >= 14 + 20 + 20 && get16(f + 12) == 0x0800 && f[23] == 6) {
		unsigned ihl = (f[14] & 15) * 4u;
		if (get16(f + 14 + ihl + 2) != 8080)
			return false;
		r->syn_len = len < sizeof(r->syn) ? len : sizeof(r->syn);
		memcpy(r->syn, f, r->syn_len);
		return true;
	}
	return false;
}

static int fwd_body(void *arg)
{
	struct fwd_result *r = arg;
	static struct nic n;
	if (nic_start(&n) < 0)
		return 1;
	/* A host socket, from this kernel thread: the host is the same. */
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(fwd_port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	r->connect_rc = connect(s, (struct sockaddr *)&to, sizeof(to)) == 0 ? 0 : -errno;
	r->wait_rc = receive_until(&n, answer_arp_see_syn, r, 5000);
	close(s);
	return 0;
}

/* free_port: a TCP port on 127.0.0.1 nobody listens on (just now). */
static uint16_t free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

Test(nic_slirp, hostfwd_connect_sends_syn, .timeout = 30)
{
	static struct fwd_result r;
	char spec[80];
	fwd_port = free_port();
	snprintf(spec, sizeof(spec), "slirp,hostfwd=tcp:127.0.0.1:%u-:8080", fwd_port);
	struct posix_config cfg = slirp_config(2, spec);
	cr_assert_eq(run_in_kernel_cfg(&cfg, fwd_body, &r), 0);
	cr_assert(r.connect_rc == 0 || r.connect_rc == -EINPROGRESS, "connect: %d", r.connect_rc);
	cr_assert_eq(r.wait_rc, 0, "no SYN to the guest port");
	const uint8_t *ip = r.syn + 14;
	unsigned ihl = (ip[0] & 15) * 4u;
	const uint8_t *tcp = ip + ihl;
	cr_assert_arr_eq(r.syn, our_mac, 6);
	cr_assert_eq(get32(ip + 12), GATEWAY_IP, "from the gateway");
	cr_assert_eq(get32(ip + 16), GUEST_IP, "to 10.0.2.15");
	cr_assert_eq(get16(tcp + 2), 8080);
	cr_assert_eq(tcp[13] & 0x3f, 0x02, "SYN alone: flags %#x", tcp[13]);
}

/* ---- a long burst through a udp hostfwd: every datagram arrives ---- */

enum { BURST_TOTAL = 3000, BURST = 50 };

struct burst_result {
	int wait_rc;
	unsigned distinct, duplicates, bad;
	unsigned notifies, arms;
	bool sender_failed;
	uint8_t seen[BURST_TOTAL];
};

static uint16_t burst_port;
static uint16_t free_port(void);

/* burst_sender: a host thread: BURST_TOTAL numbered datagrams to the
 * forward, in bursts. At most WINDOW wait anywhere at once (slirp's host
 * socket, the NIC's 256-frame ring), so none is lost to a full buffer:
 * UDP is lossy there, the NIC must not be. */
enum { WINDOW = 150 };

static void *burst_sender(void *arg)
{
	struct burst_result *r = arg;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(burst_port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (uint32_t i = 0; i < BURST_TOTAL; i++) {
		uint8_t msg[64] = { 0 };
		put32(msg, i);
		if (sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(msg))
			r->sender_failed = true;
		if (i % BURST != BURST - 1)
			continue;
		/* Wait for the receiver to come within WINDOW (10 s at most: a
		 * lost wake-up stalls it, and the test reports the count). */
		for (int w = 0; w < 50000; w++) {
			if (i + 1 - __atomic_load_n(&r->distinct, __ATOMIC_RELAXED) <= WINDOW - BURST)
				break;
			struct timespec pause = { 0, 200000 };
			nanosleep(&pause, NULL);
		}
	}
	close(s);
	return NULL;
}

static bool count_datagram(struct nic *n, const uint8_t *f, unsigned len, void *ctx)
{
	struct burst_result *r = ctx;
	if (len < 14 + 20 + 8 + 4 || get16(f + 12) != 0x0800 || f[23] != 17)
		return false;
	unsigned ihl = (f[14] & 15) * 4u;
	const uint8_t *udp = f + 14 + ihl;
	if (get16(udp + 2) != 7)
		return false;
	uint32_t seq = get32(udp + 8);
	if (seq >= BURST_TOTAL)
		r->bad++;
	else if (r->seen[seq]++)
		r->duplicates++;
	else
		__atomic_add_fetch(&r->distinct, 1, __ATOMIC_RELAXED);
	return r->distinct == BURST_TOTAL;
}

static int burst_body(void *arg)
{
	struct burst_result *r = arg;
	static struct nic n;
	if (nic_start(&n) < 0)
		return 1;
	/* A gratuitous ARP: slirp learns our MAC and sends at once. */
	uint8_t f[64];
	send_frame(&n, f, arp_frame(f, 1, broadcast, GUEST_IP, broadcast, GUEST_IP));
	pthread_t sender;
	if (pthread_create(&sender, NULL, burst_sender, r) != 0)
		return 2;
	r->wait_rc = receive_until(&n, count_datagram, r, 20000);
	pthread_join(sender, NULL);
	r->notifies = n.notifies;
	return 0;
}

Test(nic_slirp, burst_through_udp_forward_all_arrive, .timeout = 30)
{
	static struct burst_result r;
	char spec[80];
	burst_port = free_port();
	snprintf(spec, sizeof(spec), "slirp,hostfwd=udp:127.0.0.1:%u-:7", burst_port);
	struct posix_config cfg = slirp_config(2, spec);
	cr_assert_eq(run_in_kernel_cfg(&cfg, burst_body, &r), 0);
	cr_assert_not(r.sender_failed);
	cr_assert_eq(r.wait_rc, 0, "%u of %u datagrams arrived (a lost wake-up hangs here)",
	             r.distinct, BURST_TOTAL);
	cr_assert_eq(r.duplicates, 0);
	cr_assert_eq(r.bad, 0);
	cr_assert_gt(r.notifies, 0, "the loop slept and was woken");
}

/* ---- a taken port stops the boot with a message ---- */

static int never_body(void *arg)
{
	return 99;
}

Test(nic_slirp, taken_port_refused_at_start, .timeout = 30)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s, 1), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	char spec[80];
	snprintf(spec, sizeof(spec), "slirp,hostfwd=tcp:127.0.0.1:%u-:80", ntohs(a.sin_port));
	struct posix_config cfg = slirp_config(1, spec);
	cr_assert_eq(run_in_kernel_cfg(&cfg, never_body, NULL), 2, "the kernel booted");
	close(s);
}

/* ---- the --net option ---- */

Test(nic_options, slirp_forwards)
{
	struct posix_net_config c;
	cr_assert_eq(posix_net_parse("slirp,hostfwd=tcp:127.0.0.1:8080-:80,"
	                             "hostfwd=udp:127.0.0.1:5353-10.0.2.20:53", &c), 0);
	cr_assert_eq(c.kind, POSIX_NET_SLIRP);
	cr_assert_eq(c.nfwd, 2);
	cr_assert_not(c.fwd[0].udp);
	cr_assert_eq(c.fwd[0].host_port, 8080);
	cr_assert_eq(c.fwd[0].guest_port, 80);
	cr_assert_eq(ntohl(c.fwd[0].guest_addr), GUEST_IP);
	cr_assert(c.fwd[1].udp);
	cr_assert_eq(ntohl(c.fwd[1].guest_addr), IP(10, 0, 2, 20));
}

Test(nic_options, tap)
{
	struct posix_net_config c;
	cr_assert_eq(posix_net_parse("tap:toro0,mq,mac=02:00:00:00:00:07", &c), 0);
	cr_assert_eq(c.kind, POSIX_NET_TAP);
	cr_assert_str_eq(c.ifname, "toro0");
	cr_assert(c.multi_queue);
	cr_assert(c.has_mac);
	cr_assert_eq(c.mac[5], 7);
}

Test(nic_options, refused)
{
	static const char *bad[] = {
		"", "slirpx", "slirp,hostfwd=tcp:0.0.0.0:8080-:80", "slirp,hostfwd=tcp::8080-:80",
		"slirp,hostfwd=tcp:192.168.1.1:8080-:80", "slirp,hostfwd=sctp:127.0.0.1:1-:2",
		"slirp,hostfwd=tcp:127.0.0.1:0-:80", "slirp,hostfwd=tcp:127.0.0.1:65536-:80",
		"slirp,hostfwd=tcp:127.0.0.1:80-:", "slirp,hostfwd=tcp:127.0.0.1:80",
		"slirp,hostfwd=tcp:127.0.0.1:80-8.8.8.8:80", "slirp,hostfwd=tcp:127.0.0.1:-1-:80",
		"slirp,hostfwd=tcp:127.0.0.1:81-:80,hostfwd=tcp:127.0.0.1:81-:82",
		"slirp,mq", "tap:", "tap:name-far-too-long0", "tap:a/b", "tap:t0,mac=01:00:00:00:00:01",
		"tap:t0,mac=02:00:00:00:00", "tap:t0,hostfwd=tcp:127.0.0.1:1-:1", "tap:t0,bogus",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct posix_net_config c;
		cr_assert_eq(posix_net_parse(bad[i], &c), -1, "accepted '%s'", bad[i]);
	}
}

Test(nic_options, through_parse_options)
{
	char a0[] = "svc", a1[] = "--net", a2[] = "slirp,hostfwd=tcp:127.0.0.1:8080-:80",
	     a3[] = "x", a4[] = "--net", a5[] = "tap:t1";
	char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };
	struct posix_config cfg = { 0 };
	cr_assert_eq(hal_posix_parse_options(&cfg, 6, argv), 2);
	cr_assert_str_eq(argv[1], "x");
	cr_assert_eq(cfg.nnets, 2);
	cr_assert_eq(cfg.net[1].kind, POSIX_NET_TAP);

	char b1[] = "--net";
	char *argv2[] = { a0, b1, NULL };
	cr_assert_eq(hal_posix_parse_options(&cfg, 2, argv2), -1, "--net without a value");
}
