/*
 * test_net_wire.c: the stack's pure logic on byte buffers, no kernel booted:
 * the Internet checksum against known vectors, IPv4 header validation of
 * malformed headers, the UDP header check, DHCP reply parsing of malformed
 * messages (every one refused, none read past its end), and the ip= option.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp_msg.h"
#include "net.h"
#include "stack.h"
#include "udp.h"
#include "wire.h"

/* ---- checksum ---- */

Test(checksum, rfc1071_example)
{
	/* RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded). */
	const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	cr_assert_eq(inet_fold(inet_sum(data, sizeof(data), 0)), (uint16_t)~0xddf2);
}

Test(checksum, ipv4_header_known_vector)
{
	/* A well-known header (Wikipedia's IPv4 checksum example): b861. */
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	cr_assert_eq(inet_fold(inet_sum(h, 20, 0)), 0xb861);
	put_be16(h + IP_CSUM, 0xb861);
	cr_assert_eq(inet_fold(inet_sum(h, 20, 0)), 0);
}

Test(checksum, odd_length_pads_with_zero)
{
	const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	const uint8_t even[] = { 0x12, 0x34, 0x56, 0x00 };
	cr_assert_eq(inet_sum(odd, 3, 0), inet_sum(even, 4, 0));
}

Test(checksum, split_sums_add_up)
{
	uint8_t buf[1000];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	uint32_t whole = inet_sum(buf, sizeof(buf), 0);
	uint32_t parts = inet_sum(buf + 400, 600, inet_sum(buf, 400, 0));
	cr_assert_eq(inet_fold(whole), inet_fold(parts));
}

Test(checksum, udp_with_pseudo_header)
{
	/* A UDP datagram checksummed one way verifies the other. */
	uint8_t u[12] = { 0x30, 0x39, 0x00, 0x07, 0x00, 0x0c, 0, 0, 'p', 'i', 'n', 'g' };
	ip4_addr src = IP4(10, 0, 2, 2), dst = IP4(10, 0, 2, 15);
	uint16_t c = inet_fold(inet_sum(u, 12, inet_pseudo_sum(src, dst, IP_PROTO_UDP, 12)));
	put_be16(u + UDP_CSUM, c);
	cr_assert_eq(inet_fold(inet_sum(u, 12, inet_pseudo_sum(src, dst, IP_PROTO_UDP, 12))), 0);
	u[9] ^= 1;
	cr_assert_neq(inet_fold(inet_sum(u, 12, inet_pseudo_sum(src, dst, IP_PROTO_UDP, 12))), 0);
}

/* ---- IPv4 header validation ---- */

static void make_header(uint8_t *h, unsigned totlen)
{
	memset(h, 0, 20);
	h[IP_VER_IHL] = 0x45;
	put_be16(h + IP_TOTLEN, (uint16_t)totlen);
	h[IP_TTL] = 64;
	h[IP_PROTO] = IP_PROTO_UDP;
	put_be32(h + IP_SRC, IP4(192, 168, 7, 1));
	put_be32(h + IP_DST, IP4(192, 168, 7, 2));
	put_be16(h + IP_CSUM, inet_fold(inet_sum(h, 20, 0)));
}

static void refresh_csum(uint8_t *h, unsigned hlen)
{
	put_be16(h + IP_CSUM, 0);
	put_be16(h + IP_CSUM, inet_fold(inet_sum(h, hlen, 0)));
}

Test(ipv4, good_header_passes)
{
	uint8_t p[60];
	unsigned hlen, tot;
	make_header(p, 28);
	cr_assert_eq(ipv4_check(p, 60, &hlen, &tot), IPV4_OK);    /* padding after */
	cr_assert_eq(hlen, 20);
	cr_assert_eq(tot, 28);
}

Test(ipv4, malformed_headers_are_refused)
{
	uint8_t p[64];
	unsigned hlen, tot;

	make_header(p, 28);
	cr_assert_eq(ipv4_check(p, 19, &hlen, &tot), IPV4_SHORT);

	make_header(p, 28);
	p[IP_VER_IHL] = 0x65;                   /* version 6 */
	refresh_csum(p, 20);
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_VERSION);

	make_header(p, 28);
	p[IP_VER_IHL] = 0x44;                   /* IHL 16 bytes < 20 */
	refresh_csum(p, 20);
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_IHL);

	make_header(p, 28);
	p[IP_VER_IHL] = 0x4f;                   /* IHL 60 bytes > the 28 there */
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_IHL);

	make_header(p, 100);                    /* total length past the frame */
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_TOTLEN);

	make_header(p, 12);                     /* total length inside the header */
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_TOTLEN);

	make_header(p, 28);
	p[IP_CSUM] ^= 0x10;
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_CSUM);

	make_header(p, 28);
	p[IP_TTL] = 0;
	refresh_csum(p, 20);
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_TTL);

	make_header(p, 28);
	put_be32(p + IP_SRC, IP4(255, 255, 255, 255));
	refresh_csum(p, 20);
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_SRC);

	make_header(p, 28);
	put_be32(p + IP_SRC, IP4(224, 0, 0, 1));
	refresh_csum(p, 20);
	cr_assert_eq(ipv4_check(p, 28, &hlen, &tot), IPV4_SRC);
}

Test(ipv4, options_are_stepped_over)
{
	uint8_t p[64];
	unsigned hlen, tot;
	make_header(p, 32);
	p[IP_VER_IHL] = 0x46;                   /* 24-byte header: 4 option bytes */
	memset(p + 20, 1, 4);                   /* NOPs */
	refresh_csum(p, 24);
	cr_assert_eq(ipv4_check(p, 32, &hlen, &tot), IPV4_OK);
	cr_assert_eq(hlen, 24);
}

Test(ipv4, random_bytes_never_read_past_the_end)
{
	/* Every prefix of random data: a verdict, and nothing read past len
	 * (ASan's build would see it: the buffer is exactly len long). */
	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand() % 80);
		uint8_t *p = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)rand();
		if (len)
			p[0] = (uint8_t)(0x40 | (p[0] & 0xf));
		unsigned hlen = 0, tot = 0;
		if (ipv4_check(p, len, &hlen, &tot) == IPV4_OK)
			cr_assert(hlen <= tot && tot <= len);
		free(p);
	}
}

/* ---- UDP header ---- */

Test(udp, header_lengths_are_checked)
{
	static uint8_t space[sizeof(struct netbuf) + NETBUF_SIZE];
	struct netbuf *nb = (struct netbuf *)space;
	uint16_t sport, dport;

	nb->size = NETBUF_SIZE;
	nb->data = nb->buf + NETBUF_HEADROOM;
	nb->len = 7;
	cr_assert_eq(udp_parse(nb, &sport, &dport), -EINVAL);

	nb->len = 20;
	put_be16(nb->data + UDP_SPORT, 1000);
	put_be16(nb->data + UDP_DPORT, 7);
	put_be16(nb->data + UDP_LEN, 21);       /* longer than what came */
	cr_assert_eq(udp_parse(nb, &sport, &dport), -EINVAL);
	put_be16(nb->data + UDP_LEN, 7);        /* shorter than its header */
	cr_assert_eq(udp_parse(nb, &sport, &dport), -EINVAL);
	put_be16(nb->data + UDP_LEN, 12);       /* padding after: trimmed */
	cr_assert_eq(udp_parse(nb, &sport, &dport), 0);
	cr_assert_eq(nb->len, 12);
	cr_assert_eq(sport, 1000);
	cr_assert_eq(dport, 7);
}

/* ---- DHCP parsing ---- */

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* offer: a well-formed OFFER into p; its length. */
static size_t offer(uint8_t *p)
{
	memset(p, 0, 400);
	p[DHCP_OP] = BOOTREPLY;
	p[DHCP_HTYPE] = 1;
	p[DHCP_HLEN] = 6;
	put_be32(p + DHCP_XID, 0x1234abcd);
	put_be32(p + DHCP_YIADDR, IP4(10, 0, 2, 15));
	memcpy(p + DHCP_CHADDR, mac, 6);
	put_be32(p + DHCP_COOKIE, DHCP_MAGIC);
	uint8_t *o = p + DHCP_OPTIONS;
	const uint8_t opts[] = { 53, 1, DHCPOFFER, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2,
	                         51, 4, 0, 0, 0x0e, 0x10, 54, 4, 10, 0, 2, 2, 0, 0, 255 };
	memcpy(o, opts, sizeof(opts));
	return DHCP_OPTIONS + sizeof(opts);
}

Test(dhcp, offer_is_parsed)
{
	uint8_t p[400];
	struct dhcp_reply r;
	size_t n = offer(p);
	cr_assert_eq(dhcp_parse(p, n, &r), 0);
	cr_assert_eq(r.type, DHCPOFFER);
	cr_assert_eq(r.xid, 0x1234abcd);
	cr_assert_eq(r.yiaddr, IP4(10, 0, 2, 15));
	cr_assert_eq(r.netmask, IP4(255, 255, 255, 0));
	cr_assert_eq(r.router, IP4(10, 0, 2, 2));
	cr_assert_eq(r.server_id, IP4(10, 0, 2, 2));
	cr_assert_eq(r.lease_s, 3600);
}

Test(dhcp, malformed_replies_are_refused)
{
	uint8_t p[400];
	struct dhcp_reply r;
	size_t n = offer(p);

	cr_assert_eq(dhcp_parse(p, 239, &r), -EINVAL);          /* no options part */
	offer(p); p[DHCP_OP] = BOOTREQUEST;
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p); p[DHCP_HLEN] = 16;
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p); p[DHCP_COOKIE] = 0;
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p); p[DHCP_OPTIONS + 1] = 2;                      /* message type of 2 bytes */
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p); p[DHCP_OPTIONS + 4] = 3;                      /* mask of 3 bytes */
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p); p[DHCP_OPTIONS + 10] = 5;                     /* router not a multiple of 4 */
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p); put_be32(p + DHCP_OPTIONS + 5, IP4(255, 0, 255, 0));  /* holes in the mask */
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p); p[DHCP_OPTIONS + 2] = 0;                      /* no such message type */
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p);
	cr_assert_eq(dhcp_parse(p, DHCP_OPTIONS + 4, &r), -EINVAL);     /* cut in an option */
	cr_assert_eq(dhcp_parse(p, DHCP_OPTIONS + 1, &r), -EINVAL);     /* cut after a code */
	offer(p); p[DHCP_OPTIONS + 3] = 200; p[DHCP_OPTIONS + 4] = 250; /* runs past the end */
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
	offer(p); memset(p + DHCP_OPTIONS, 0, 100);             /* only padding: no type */
	cr_assert_eq(dhcp_parse(p, n, &r), -EINVAL);
}

Test(dhcp, random_options_never_read_past_the_end)
{
	srand(11);
	for (int round = 0; round < 3000; round++) {
		size_t len = DHCP_OPTIONS + (size_t)(rand() % 64);
		uint8_t *p = malloc(len);
		memset(p, 0, len);
		p[DHCP_OP] = BOOTREPLY;
		p[DHCP_HTYPE] = 1;
		p[DHCP_HLEN] = 6;
		put_be32(p + DHCP_COOKIE, DHCP_MAGIC);
		for (size_t i = DHCP_OPTIONS; i < len; i++)
			p[i] = (uint8_t)(rand() % 4 == 0 ? 53 : rand());
		struct dhcp_reply r;
		int rc = dhcp_parse(p, len, &r);
		cr_assert(rc == 0 || rc == -EINVAL);
		free(p);
	}
}

Test(dhcp, built_request_parses_back_as_options)
{
	uint8_t p[DHCP_MSG_MAX];
	size_t n = dhcp_build(p, DHCPREQUEST, 42, mac, 3, 0, IP4(10, 0, 2, 15), IP4(10, 0, 2, 2));
	cr_assert_leq(n, DHCP_MSG_MAX);
	cr_assert_eq(p[DHCP_OP], BOOTREQUEST);
	cr_assert_eq(get_be32(p + DHCP_XID), 42);
	cr_assert_eq(get_be16(p + DHCP_FLAGS), DHCP_FLAG_BROADCAST);
	cr_assert_eq(get_be32(p + DHCP_COOKIE), DHCP_MAGIC);
	/* Our parser takes replies only; flip the op to read the options. */
	p[DHCP_OP] = BOOTREPLY;
	struct dhcp_reply r;
	cr_assert_eq(dhcp_parse(p, n, &r), 0);
	cr_assert_eq(r.type, DHCPREQUEST);
	cr_assert_eq(r.server_id, IP4(10, 0, 2, 2));
	cr_assert_eq(p[n - 1], 255);
}

/* ---- the ip= option ---- */

Test(ipconfig, parses_address_prefix_gateway)
{
	ip4_addr a, m, g;
	cr_assert_eq(ipconfig_parse("192.168.7.2/24", &a, &m, &g), 0);
	cr_assert_eq(a, IP4(192, 168, 7, 2));
	cr_assert_eq(m, IP4(255, 255, 255, 0));
	cr_assert_eq(g, 0);
	cr_assert_eq(ipconfig_parse("10.1.2.3/8,gw=10.0.0.1", &a, &m, &g), 0);
	cr_assert_eq(m, IP4(255, 0, 0, 0));
	cr_assert_eq(g, IP4(10, 0, 0, 1));
}

Test(ipconfig, refuses_malformed)
{
	ip4_addr a, m, g;
	const char *bad[] = {
		"", "192.168.7.2", "192.168.7.2/", "192.168.7.2/33", "192.168.7.2/0",
		"192.168.7/24", "192.168.7.256/24", "192.168.7.2.1/24", "192.168.7.2/24,",
		"192.168.7.2/24,gw=", "192.168.7.2/24,gw=10.0.0.1", "192.168.7.0/24",
		"192.168.7.255/24", "1922.168.7.2/24", "192.168.7.2/24x", "a.b.c.d/24",
		"192.168.7.2/2400",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(ipconfig_parse(bad[i], &a, &m, &g), -EINVAL, "%s", bad[i]);
}
