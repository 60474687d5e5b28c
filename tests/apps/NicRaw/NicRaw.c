/*
 * NicRaw: the NIC boundary of hal.h driven directly, below any TCP/IP
 * stack, against QEMU's user networking (libslirp: gateway 10.0.2.2, DHCP
 * offering 10.0.2.15). For every NIC hal_net_count() reports: start it,
 * print its info line, then
 *   - ARP who-has 10.0.2.2 from 10.0.2.15, sent after arming with nothing
 *     waiting, so the device's interrupt must wake us: the reply names our
 *     MAC;
 *   - a batch of 4 ARP requests in one hal_net_transmit: 4 replies;
 *   - DHCP DISCOVER (UDP checksum by the device when it offers
 *     HAL_NET_TX_CSUM, else computed here; slirp drops a wrong one): an
 *     OFFER of 10.0.2.15;
 *   - malformed frames (too short, too long, checksum field outside the
 *     frame) are taken and dropped, not sent, nothing breaks;
 *   - 1200 frames slirp ignores, in batches of 300, through a transmit
 *     ring that fills: each short transmit waits for "room again" by
 *     arm/notify;
 *   - ICMP echo to 10.0.2.2, reported but not required (restrict=on may
 *     leave it unanswered).
 * With the argument --peer-linux the peer is Linux's own stack at 10.0.2.2
 * on a tap device (tests/integration/qemu_nic.sh sets it up in a network
 * namespace, with a UDP echo server on port 7777): no DHCP then, but a UDP
 * datagram to the echo server, its checksum left to the device when it
 * offers HAL_NET_TX_CSUM (Linux drops a wrong one), and the echo's checksum
 * checked here (Linux hands it over partial when the device took
 * GUEST_CSUM: the driver must complete it).
 * With --link-watch, after the tests each NIC's link state (hal_net_info)
 * is watched for 30 s, or until it has gone down and up again (the test
 * script flips it through QEMU's set_link): a NIC whose link did not
 * follow fails.
 * Every wait sleeps on a wait queue that notify wakes, with a deadline,
 * after hal_net_arm (never polling); notify must come in irq context, and
 * never more often than arm was called. Prints "NicRaw: ok" and exits 0
 * when all passed ("NicRaw: 0 NICs" first when there are none).
 */
#include <errno.h>
#include <string.h>

#include "hal.h"
#include "toro.h"
#include "waitq.h"

TORO_NO_NET_STACK;      /* the NICs are ours: no TCP/IP stack */

#define WAIT_NS  5000000000ull  /* a reply from slirp: generous under TCG */
#define BATCH    8

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MY_IP[4] = { 10, 0, 2, 15 };
static const uint8_t GW_IP[4] = { 10, 0, 2, 2 };

struct nic {
	struct hal_netdev *dev;
	struct hal_net_info info;
	struct waitq wq;
	bool signalled;                 /* guarded by wq.lock */
	unsigned arms;                  /* our thread only */
	unsigned notifies;              /* wq.lock */
	unsigned bad_notifies;          /* notify with interrupts on, or a wrong queue */
	uint8_t gw_mac[6];
	uint16_t flags;                 /* of the frame being matched */
	uint8_t rx[BATCH][HAL_NET_FRAME_MAX];
};

static int failures;

static void check(bool ok, struct nic *n, const char *what)
{
	WriteConsoleF("%s: %s: %s\n", ok ? "PASS" : "FAIL", n->info.name, what);
	if (!ok)
		failures++;
}

static void on_notify(void *arg, unsigned queue)
{
	struct nic *n = arg;
	spin_lock(&n->wq.lock);
	if (hal_irq_enabled() || queue != 0)
		n->bad_notifies++;
	n->notifies++;
	n->signalled = true;
	waitq_wake_all_locked(&n->wq);
	spin_unlock(&n->wq.lock);
}

/* Arm queue 0 and sleep until notify or the deadline: false at the
 * deadline. */
static bool arm_and_wait(struct nic *n, uint64_t deadline)
{
	spin_lock(&n->wq.lock);
	n->signalled = false;
	spin_unlock(&n->wq.lock);
	n->arms++;
	hal_net_arm(n->dev, 0);
	spin_lock(&n->wq.lock);
	while (!n->signalled)
		if (waitq_wait_locked(&n->wq, deadline) == -ETIMEDOUT)
			break;
	bool got = n->signalled;
	spin_unlock(&n->wq.lock);
	return got;
}

typedef bool (*match_fn)(struct nic *n, const uint8_t *f, unsigned len, void *arg);

/* Receive until want frames matched or the deadline passed; the count. */
static unsigned wait_for(struct nic *n, match_fn match, void *arg, unsigned want)
{
	uint64_t deadline = GetTickCountNs() + WAIT_NS;
	unsigned matched = 0;
	while (matched < want) {
		struct hal_net_frame fr[BATCH];
		for (unsigned i = 0; i < BATCH; i++)
			fr[i] = (struct hal_net_frame){ .data = n->rx[i], .len = HAL_NET_FRAME_MAX };
		unsigned got = hal_net_receive(n->dev, 0, fr, BATCH);
		for (unsigned i = 0; i < got && matched < want; i++) {
			n->flags = fr[i].flags;
			if (fr[i].len <= HAL_NET_FRAME_MAX && match(n, fr[i].data, fr[i].len, arg))
				matched++;
		}
		if (got == 0 && !arm_and_wait(n, deadline))
			break;
	}
	return matched;
}

/* Receive without arming until a frame matches or the deadline passes.
 * A Linux peer sends frames of its own (IPv6 neighbour discovery, its own
 * ARP requests), so the match need not be the first frame, and a loaded
 * host may answer after the caller's pause. */
static bool poll_for(struct nic *n, match_fn match, uint64_t deadline)
{
	do {
		struct hal_net_frame fr[BATCH];
		for (unsigned i = 0; i < BATCH; i++)
			fr[i] = (struct hal_net_frame){ .data = n->rx[i], .len = HAL_NET_FRAME_MAX };
		unsigned got = hal_net_receive(n->dev, 0, fr, BATCH);
		for (unsigned i = 0; i < got; i++)
			if (fr[i].len <= HAL_NET_FRAME_MAX && match(n, fr[i].data, fr[i].len, NULL))
				return true;
		if (got == 0)
			Sleep(10);
	} while (GetTickCountNs() < deadline);
	return false;
}

static unsigned send(struct nic *n, struct hal_net_frame *f, unsigned count)
{
	return hal_net_transmit(n->dev, 0, f, count);
}

/* Receive and discard whatever is waiting. */
static void drain(struct nic *n)
{
	struct hal_net_frame fr[BATCH];
	do {
		for (unsigned i = 0; i < BATCH; i++)
			fr[i] = (struct hal_net_frame){ .data = n->rx[i], .len = HAL_NET_FRAME_MAX };
	} while (hal_net_receive(n->dev, 0, fr, BATCH) > 0);
}

/* Arm with nothing waiting, then send ntx frames and sleep: the first
 * notify can only come from the device's interrupt for the answer (arm's
 * own look found nothing). Then receive as wait_for does. The number of
 * frames matched. */
static unsigned exchange(struct nic *n, struct hal_net_frame *tx, unsigned ntx,
                         match_fn match, void *arg, unsigned want)
{
	drain(n);
	spin_lock(&n->wq.lock);
	n->signalled = false;
	spin_unlock(&n->wq.lock);
	n->arms++;
	hal_net_arm(n->dev, 0);
	if (send(n, tx, ntx) != ntx)
		return 0;
	uint64_t deadline = GetTickCountNs() + WAIT_NS;
	spin_lock(&n->wq.lock);
	while (!n->signalled)
		if (waitq_wait_locked(&n->wq, deadline) == -ETIMEDOUT)
			break;
	bool woke = n->signalled;
	spin_unlock(&n->wq.lock);
	return woke ? wait_for(n, match, arg, want) : 0;
}

/* ---- Frames ------------------------------------------------------------- */

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static unsigned get16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static uint32_t sum16(const uint8_t *p, unsigned len, uint32_t sum)
{
	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static unsigned fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static unsigned ether(uint8_t *f, const uint8_t *dst, const uint8_t *src, unsigned type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

static unsigned arp_request(struct nic *n, uint8_t *f)
{
	memset(f, 0, 60);
	unsigned o = ether(f, BCAST, n->info.mac, 0x0806);
	put16(f + o, 1);                    /* Ethernet */
	put16(f + o + 2, 0x0800);           /* IPv4 */
	f[o + 4] = 6;
	f[o + 5] = 4;
	put16(f + o + 6, 1);                /* request */
	memcpy(f + o + 8, n->info.mac, 6);
	memcpy(f + o + 14, MY_IP, 4);
	memcpy(f + o + 24, GW_IP, 4);
	return 60;
}

static bool is_arp_reply(struct nic *n, const uint8_t *f, unsigned len, void *arg)
{
	if (len < 42 || get16(f + 12) != 0x0806 || get16(f + 20) != 2 ||
	    memcmp(f + 28, GW_IP, 4) || memcmp(f + 32, n->info.mac, 6) || memcmp(f + 38, MY_IP, 4))
		return false;
	memcpy(n->gw_mac, f + 22, 6);
	return true;
}

/* An IPv4 header at p: 20 bytes, no options. */
static void ipv4(uint8_t *p, unsigned total, unsigned proto, const uint8_t *src, const uint8_t *dst)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, total);
	put16(p + 4, 0x1234);
	p[8] = 64;
	p[9] = (uint8_t)proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	put16(p + 10, ~fold(sum16(p, 20, 0)) & 0xffff);
}

#define XID 0x546f726f

/* Ethernet + IPv4 + UDP around the ulen - 8 payload bytes already at
 * f + 42. The UDP checksum is the device's (HAL_NET_CSUM_PARTIAL) when it
 * offers HAL_NET_TX_CSUM, else computed here. The frame length. */
static unsigned udp4(struct nic *n, struct hal_net_frame *fr, uint8_t *f, const uint8_t *dmac,
                     const uint8_t *sip, const uint8_t *dip, unsigned sport, unsigned dport,
                     unsigned ulen)
{
	unsigned o = ether(f, dmac, n->info.mac, 0x0800);
	uint8_t *udp = f + o + 20;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	ipv4(f + o, 20 + ulen, 17, sip, dip);
	/* Pseudo-header sum in the checksum field: the device (or we) add
	 * the rest. */
	uint32_t ph = sum16(sip, 4, 0) + sum16(dip, 4, 0) + 17 + ulen;
	unsigned len = o + 20 + ulen;
	*fr = (struct hal_net_frame){ .data = f, .len = (uint16_t)len };
	if (n->info.offloads & HAL_NET_TX_CSUM) {
		put16(udp + 6, fold(ph));
		fr->flags = HAL_NET_CSUM_PARTIAL;
		fr->csum_start = (uint16_t)(o + 20);
		fr->csum_offset = 6;
	} else {
		unsigned c = ~fold(sum16(udp, ulen, ph)) & 0xffff;
		put16(udp + 6, c ? c : 0xffff);
	}
	return len;
}

/* DHCP DISCOVER (RFC 2131) from 0.0.0.0:68 to 255.255.255.255:67. */
static unsigned dhcp_discover(struct nic *n, struct hal_net_frame *fr, uint8_t *f)
{
	static const uint8_t zero[4], all[4] = { 255, 255, 255, 255 };
	memset(f, 0, 400);
	uint8_t *b = f + 42;
	b[0] = 1;                           /* BOOTREQUEST */
	b[1] = 1;
	b[2] = 6;
	b[4] = XID >> 24; b[5] = XID >> 16 & 0xff; b[6] = XID >> 8 & 0xff; b[7] = XID & 0xff;
	put16(b + 10, 0x8000);              /* broadcast the reply */
	memcpy(b + 28, n->info.mac, 6);
	static const uint8_t opts[] = { 99, 130, 83, 99, 53, 1, 1, 55, 3, 1, 3, 6, 255 };
	memcpy(b + 236, opts, sizeof(opts));
	unsigned blen = 236 + sizeof(opts) + 7;    /* padded */
	return udp4(n, fr, f, BCAST, zero, all, 68, 67, 8 + blen);
}

/* The UDP checksum of the datagram in frame f (IPv4 without options)
 * is right. */
static bool udp_csum_ok(const uint8_t *f, unsigned ulen)
{
	uint32_t ph = sum16(f + 26, 8, 0) + 17 + ulen;
	return get16(f + 40) == 0 || fold(sum16(f + 34, ulen, ph)) == 0xffff;
}

struct offer {
	uint8_t yiaddr[4];
	bool csum_valid_flag;
	bool udp_csum_ok;
};

static bool is_offer(struct nic *n, const uint8_t *f, unsigned len, void *arg)
{
	struct offer *o = arg;
	if (len < 14 + 20 + 8 + 240 || get16(f + 12) != 0x0800 || f[14] != 0x45 || f[23] != 17)
		return false;
	const uint8_t *udp = f + 34, *b = udp + 8;
	unsigned ulen = get16(udp + 4);
	if (get16(udp) != 67 || get16(udp + 2) != 68 || b[0] != 2 || ulen < 8 + 240 ||
	    34 + ulen > len || get16(b + 4) != (XID >> 16) || get16(b + 6) != (XID & 0xffff) ||
	    memcmp(b + 28, n->info.mac, 6))
		return false;
	/* Option 53 must say OFFER (2). */
	bool offer = false;
	for (unsigned i = 240; i + 1 < ulen - 8 && b[i] != 255;) {
		if (b[i] == 0) {
			i++;
			continue;
		}
		if (b[i] == 53 && b[i + 1] == 1 && i + 2 < ulen - 8)
			offer = b[i + 2] == 2;
		i += 2 + b[i + 1];
	}
	if (!offer)
		return false;
	memcpy(o->yiaddr, b + 16, 4);
	o->csum_valid_flag = n->flags & HAL_NET_CSUM_VALID;
	o->udp_csum_ok = udp_csum_ok(f, ulen);
	return true;
}

struct echo {
	unsigned id;
};

static unsigned icmp_echo(struct nic *n, uint8_t *f, unsigned id)
{
	unsigned o = ether(f, n->gw_mac, n->info.mac, 0x0800);
	uint8_t *icmp = f + o + 20;
	memset(icmp, 0, 8 + 32);
	icmp[0] = 8;
	put16(icmp + 4, id);
	put16(icmp + 6, 1);
	for (unsigned i = 0; i < 32; i++)
		icmp[8 + i] = (uint8_t)('a' + i % 26);
	put16(icmp + 2, ~fold(sum16(icmp, 40, 0)) & 0xffff);
	ipv4(f + o, 60, 1, MY_IP, GW_IP);
	return o + 60;
}

static bool is_echo_reply(struct nic *n, const uint8_t *f, unsigned len, void *arg)
{
	struct echo *e = arg;
	return len >= 14 + 20 + 8 && get16(f + 12) == 0x0800 && f[23] == 1 &&
	       f[34] == 0 && get16(f + 38) == e->id && !memcmp(f + 26, GW_IP, 4);
}

/* ---- The checks --------------------------------------------------------- */

static void test_arp(struct nic *n, uint8_t *buf)
{
	struct hal_net_frame fr = { .data = buf, .len = (uint16_t)arp_request(n, buf) };
	bool ok = exchange(n, &fr, 1, is_arp_reply, NULL, 1) == 1;
	check(ok, n, "ARP reply from 10.0.2.2, woken by the device's interrupt");
	if (ok)
		WriteConsoleF("NicRaw: %s: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x\n",
		              n->info.name, n->gw_mac[0], n->gw_mac[1], n->gw_mac[2],
		              n->gw_mac[3], n->gw_mac[4], n->gw_mac[5]);

	struct hal_net_frame batch[4];
	for (unsigned i = 0; i < 4; i++)
		batch[i] = fr;
	check(exchange(n, batch, 4, is_arp_reply, NULL, 4) == 4, n,
	      "a batch of 4 ARP requests, 4 replies");
}

static void test_dhcp(struct nic *n, uint8_t *buf)
{
	struct hal_net_frame fr;
	dhcp_discover(n, &fr, buf);
	struct offer o = { { 0 }, false, false };
	bool ok = exchange(n, &fr, 1, is_offer, &o, 1) == 1;
	check(ok && !memcmp(o.yiaddr, MY_IP, 4), n, "DHCP OFFER of 10.0.2.15");
	check(!ok || o.udp_csum_ok, n, "OFFER's UDP checksum right");
	if (ok)
		WriteConsoleF("NicRaw: %s: OFFER %s by the device\n", n->info.name,
		              o.csum_valid_flag ? "marked checksum-valid" : "not checksum-checked");
	check(!o.csum_valid_flag || (n->info.offloads & HAL_NET_RX_CSUM), n,
	      "HAL_NET_CSUM_VALID only with HAL_NET_RX_CSUM");
}

static void test_malformed(struct nic *n, uint8_t *buf)
{
	memset(buf, 0, 2000);
	struct hal_net_frame bad[3] = {
		{ .data = buf, .len = 5 },
		{ .data = buf, .len = HAL_NET_FRAME_MAX + 1 },
		{ .data = buf, .len = 60, .flags = HAL_NET_CSUM_PARTIAL, .csum_start = 50,
		  .csum_offset = 20 },
	};
	ether(buf, BCAST, n->info.mac, 0x88b5);
	if (!(n->info.offloads & HAL_NET_TX_CSUM))
		bad[2].flags = 0, bad[2].len = 13;
	check(send(n, bad, 3) == 3, n, "3 malformed frames taken (and dropped)");
}

/* 1200 frames of the local experimental ethertype (slirp drops them) in
 * batches of 300, more than a ring holds: a short transmit arms and waits
 * for notify ("room again") before it goes on. */
#define ROOM_FRAMES 1200u
#define ROOM_BATCH  300u

static void test_tx_room(struct nic *n, uint8_t *buf)
{
	memset(buf, 0, 64);
	ether(buf, BCAST, n->info.mac, 0x88b5);
	struct hal_net_frame *batch = ToroGetMem(sizeof(*batch) * ROOM_BATCH);
	if (!batch) {
		check(false, n, "memory for the batch");
		return;
	}
	for (unsigned i = 0; i < ROOM_BATCH; i++)
		batch[i] = (struct hal_net_frame){ .data = buf, .len = 60 };
	unsigned sent = 0, shorts = 0, waits_failed = 0;
	uint64_t deadline = GetTickCountNs() + 4 * WAIT_NS;
	while (sent < ROOM_FRAMES && GetTickCountNs() < deadline) {
		unsigned want = ROOM_FRAMES - sent < ROOM_BATCH ? ROOM_FRAMES - sent : ROOM_BATCH;
		unsigned took = send(n, batch, want);
		sent += took;
		if (took < want) {
			shorts++;
			if (!arm_and_wait(n, deadline))
				waits_failed++;
		}
	}
	ToroFreeMem(batch);
	WriteConsoleF("NicRaw: %s: %u frames: %u taken, %u short transmits, %u waits timed out\n",
	              n->info.name, ROOM_FRAMES, sent, shorts, waits_failed);
	check(sent == ROOM_FRAMES && shorts > 0 && waits_failed == 0, n,
	      "1200 frames through a full transmit ring, waking on room");
}

static void test_icmp(struct nic *n, uint8_t *buf)
{
	struct hal_net_frame fr = { .data = buf, .len = (uint16_t)icmp_echo(n, buf, 0x77) };
	struct echo e = { 0x77 };
	bool ok = exchange(n, &fr, 1, is_echo_reply, &e, 1) == 1;
	WriteConsoleF("NicRaw: %s: ICMP echo to 10.0.2.2: %s\n", n->info.name,
	              ok ? "reply" : "no reply (slirp may not answer)");
}

#define ECHO_PORT 7777
#define MY_PORT   40000
static const char ECHO_TEXT[] = "Toro/C NicRaw: checksums by the device, please";

struct udp_echo {
	bool csum_ok, flagged;
};

static bool is_udp_echo(struct nic *n, const uint8_t *f, unsigned len, void *arg)
{
	struct udp_echo *e = arg;
	unsigned plen = sizeof(ECHO_TEXT) - 1;
	if (len < 42 + plen || get16(f + 12) != 0x0800 || f[14] != 0x45 || f[23] != 17 ||
	    memcmp(f + 26, GW_IP, 4) || memcmp(f + 30, MY_IP, 4) || get16(f + 34) != ECHO_PORT ||
	    get16(f + 36) != MY_PORT || get16(f + 38) != 8 + plen || memcmp(f + 42, ECHO_TEXT, plen))
		return false;
	e->csum_ok = udp_csum_ok(f, 8 + plen);
	e->flagged = n->flags & HAL_NET_CSUM_VALID;
	return true;
}

static void test_udp_echo(struct nic *n, uint8_t *buf)
{
	unsigned plen = sizeof(ECHO_TEXT) - 1;
	memcpy(buf + 42, ECHO_TEXT, plen);
	struct hal_net_frame fr;
	udp4(n, &fr, buf, n->gw_mac, MY_IP, GW_IP, MY_PORT, ECHO_PORT, 8 + plen);
	struct udp_echo e = { false, false };
	bool ok = exchange(n, &fr, 1, is_udp_echo, &e, 1) == 1;
	check(ok, n, n->info.offloads & HAL_NET_TX_CSUM ?
	      "UDP echo from Linux (checksum filled in by the device)" :
	      "UDP echo from Linux (checksum computed here)");
	check(!ok || e.csum_ok, n, "the echo's UDP checksum is right");
	check(!ok || !e.flagged || (n->info.offloads & HAL_NET_RX_CSUM), n,
	      "HAL_NET_CSUM_VALID only with HAL_NET_RX_CSUM");
	if (ok)
		WriteConsoleF("NicRaw: %s: UDP echo: checksum %s, %s by the device\n", n->info.name,
		              e.csum_ok ? "right" : "WRONG",
		              e.flagged ? "marked checksum-valid" : "not checksum-checked");
}

static bool peer_linux, link_watch;

/* Poll the link state (hal.h has no link event) until it went down and
 * up again, or 30 s passed. */
static void test_link(struct nic *n)
{
	WriteConsoleF("NicRaw: %s: watching link\n", n->info.name);
	bool was = true, went_down = false, came_back = false;
	uint64_t deadline = GetTickCountNs() + 30000000000ull;
	while (!came_back && GetTickCountNs() < deadline) {
		hal_net_info(n->dev, &n->info);
		if (n->info.link_up != was) {
			was = n->info.link_up;
			WriteConsoleF("NicRaw: %s: link %s\n", n->info.name, was ? "up" : "down");
			went_down |= !was;
			came_back = went_down && was;
		}
		Sleep(20);
	}
	check(came_back, n, "link went down and came back up");
}

static void test_nic(unsigned index)
{
	struct nic *n = ToroGetMem(sizeof(*n));
	uint8_t *buf = ToroGetMem(2048);
	if (!n || !buf) {
		WriteConsoleF("NicRaw: out of memory\n");
		failures++;
		return;
	}
	memset(n, 0, sizeof(*n));
	n->dev = hal_net_get(index);
	hal_net_info(n->dev, &n->info);
	waitq_init(&n->wq, "nicraw");
	const uint8_t *m = n->info.mac;
	int rc = hal_net_start(n->dev, on_notify, n);
	hal_net_info(n->dev, &n->info);
	WriteConsoleF("NicRaw: nic %u: %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, %u queue%s, "
	              "offloads%s%s%s, link %s\n", index, n->info.name, m[0], m[1], m[2], m[3],
	              m[4], m[5], n->info.mtu, n->info.queues, n->info.queues == 1 ? "" : "s",
	              n->info.offloads & HAL_NET_TX_CSUM ? " tx-csum" : "",
	              n->info.offloads & HAL_NET_RX_CSUM ? " rx-csum" : "",
	              n->info.offloads ? "" : " none", n->info.link_up ? "up" : "down");
	check(rc == 0, n, "hal_net_start");
	if (rc != 0)
		return;
	check(hal_net_start(n->dev, on_notify, n) == -EBUSY, n, "a second hal_net_start: -EBUSY");
	test_arp(n, buf);
	if (peer_linux)
		test_udp_echo(n, buf);
	else
		test_dhcp(n, buf);
	test_malformed(n, buf);
	test_tx_room(n, buf);
	test_icmp(n, buf);
	/* After a notify nothing is armed: a frame arriving then must not
	 * notify again, and waits for the next receive. */
	struct hal_net_frame fr = { .data = buf, .len = (uint16_t)arp_request(n, buf) };
	send(n, &fr, 1);
	bool woke = arm_and_wait(n, GetTickCountNs() + WAIT_NS);
	check(woke, n, "notify for an ARP reply");
	drain(n);
	spin_lock(&n->wq.lock);
	unsigned before = n->notifies;
	spin_unlock(&n->wq.lock);
	send(n, &fr, 1);
	Sleep(300);
	spin_lock(&n->wq.lock);
	unsigned after = n->notifies, bad = n->bad_notifies;
	spin_unlock(&n->wq.lock);
	check(after == before, n, "no notify while not armed");
	check(poll_for(n, is_arp_reply, GetTickCountNs() + WAIT_NS), n,
	      "the unannounced reply waits for the next receive");
	check(after <= n->arms && bad == 0, n, "at most one notify per arm, in irq context");
	WriteConsoleF("NicRaw: %s: %u arms, %u notifies\n", n->info.name, n->arms, after);
	if (link_watch)
		test_link(n);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--peer-linux"))
			peer_linux = true;
		else if (!strcmp(argv[i], "--link-watch"))
			link_watch = true;
	unsigned count = hal_net_count();
	WriteConsoleF("NicRaw: %u NIC%s\n", count, count == 1 ? "" : "s");
	for (unsigned i = 0; i < count; i++)
		test_nic(i);
	WriteConsoleF(failures ? "NicRaw: FAILED (%d)\n" : "NicRaw: ok\n", failures);
	return failures ? 1 : 0;
}
