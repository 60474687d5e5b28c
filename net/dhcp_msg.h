/*
 * dhcp_msg.h: DHCP messages (RFC 2131 §2, options of RFC 2132): building a
 * client's request and parsing a server's reply with every length checked.
 * Pure functions over byte buffers, for dhcp.c and the tests.
 */
#ifndef NET_DHCP_MSG_H
#define NET_DHCP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

/* The fixed BOOTP part (RFC 2131 figure 1), then the magic cookie. */
#define DHCP_OP       0
#define DHCP_HTYPE    1
#define DHCP_HLEN     2
#define DHCP_XID      4
#define DHCP_SECS     8
#define DHCP_FLAGS    10
#define DHCP_CIADDR   12
#define DHCP_YIADDR   16
#define DHCP_SIADDR   20
#define DHCP_GIADDR   24
#define DHCP_CHADDR   28
#define DHCP_COOKIE   236
#define DHCP_OPTIONS  240
#define DHCP_MAGIC    0x63825363
#define DHCP_FLAG_BROADCAST 0x8000
enum { BOOTREQUEST = 1, BOOTREPLY = 2 };

enum dhcp_type {
	DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE,
};

/* What a reply says (host order; 0 for an option it did not carry). */
struct dhcp_reply {
	uint8_t type;               /* enum dhcp_type */
	uint32_t xid;
	uint8_t chaddr[6];
	ip4_addr yiaddr, server_id, netmask, router;
	uint32_t lease_s, t1_s, t2_s;
};

/* dhcp_parse: p[0..len) as a server's reply into r; 0, or -EINVAL for
 * anything malformed: short, not a BOOTREPLY for Ethernet, no cookie, an
 * option running past the end or of a length its code does not allow, no
 * message type. */
int dhcp_parse(const uint8_t *p, size_t len, struct dhcp_reply *r);

/* The longest message dhcp_build writes. */
#define DHCP_MSG_MAX (DHCP_OPTIONS + 32)

/* dhcp_build: a client message of type into p (DHCP_MSG_MAX bytes): ciaddr
 * (renewing), requested (REQUEST in SELECTING/INIT-REBOOT) and server (its
 * id, REQUEST after an offer) each 0 to leave out. Returns the length. */
size_t dhcp_build(uint8_t *p, uint8_t type, uint32_t xid, const uint8_t mac[6], uint16_t secs,
                  ip4_addr ciaddr, ip4_addr requested, ip4_addr server);

#endif
