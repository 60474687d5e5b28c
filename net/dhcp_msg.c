/*
 * dhcp_msg.c: DHCP message parsing and building (see dhcp_msg.h).
 */
#include <errno.h>
#include <string.h>

#include "dhcp_msg.h"
#include "wire.h"

enum {
	OPT_PAD = 0, OPT_SUBNET_MASK = 1, OPT_ROUTER = 3, OPT_REQUESTED_IP = 50,
	OPT_LEASE_TIME = 51, OPT_OVERLOAD = 52, OPT_MSG_TYPE = 53, OPT_SERVER_ID = 54,
	OPT_PARAM_LIST = 55, OPT_T1 = 58, OPT_T2 = 59, OPT_END = 255,
};

/* option_len_ok: the lengths RFC 2132 allows for the options we read. */
static bool option_len_ok(uint8_t code, uint8_t len)
{
	switch (code) {
	case OPT_MSG_TYPE:
	case OPT_OVERLOAD:
		return len == 1;
	case OPT_SUBNET_MASK:
	case OPT_LEASE_TIME:
	case OPT_SERVER_ID:
	case OPT_T1:
	case OPT_T2:
	case OPT_REQUESTED_IP:
		return len == 4;
	case OPT_ROUTER:
		return len >= 4 && len % 4 == 0;
	default:
		return true;
	}
}

static bool netmask_ok(ip4_addr m)
{
	/* Contiguous ones, then zeros (RFC 950): ~m + 1 is a power of two. */
	ip4_addr inv = ~m;
	return m != 0 && (inv & (inv + 1)) == 0;
}

int dhcp_parse(const uint8_t *p, size_t len, struct dhcp_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (len < DHCP_OPTIONS || p[DHCP_OP] != BOOTREPLY || p[DHCP_HTYPE] != 1 ||
	    p[DHCP_HLEN] != 6 || get_be32(p + DHCP_COOKIE) != DHCP_MAGIC)
		return -EINVAL;
	r->xid = get_be32(p + DHCP_XID);
	r->yiaddr = get_be32(p + DHCP_YIADDR);
	memcpy(r->chaddr, p + DHCP_CHADDR, 6);

	size_t i = DHCP_OPTIONS;
	bool ended = false;
	while (i < len) {
		uint8_t code = p[i];
		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END) {
			ended = true;
			break;
		}
		if (i + 2 > len || i + 2 + p[i + 1] > len)
			return -EINVAL;         /* runs past the message */
		uint8_t olen = p[i + 1];
		const uint8_t *v = p + i + 2;
		if (!option_len_ok(code, olen))
			return -EINVAL;
		switch (code) {
		case OPT_MSG_TYPE:    r->type = v[0]; break;
		case OPT_SUBNET_MASK: r->netmask = get_be32(v); break;
		case OPT_ROUTER:      r->router = get_be32(v); break;
		case OPT_LEASE_TIME:  r->lease_s = get_be32(v); break;
		case OPT_SERVER_ID:   r->server_id = get_be32(v); break;
		case OPT_T1:          r->t1_s = get_be32(v); break;
		case OPT_T2:          r->t2_s = get_be32(v); break;
		default:              break;    /* not ours to read (overload too) */
		}
		i += 2 + (size_t)olen;
	}
	(void)ended;                /* a message may end with the buffer instead */
	if (r->type < DHCPDISCOVER || r->type > DHCPRELEASE)
		return -EINVAL;
	if (r->netmask && !netmask_ok(r->netmask))
		return -EINVAL;
	return 0;
}

size_t dhcp_build(uint8_t *p, uint8_t type, uint32_t xid, const uint8_t mac[6], uint16_t secs,
                  ip4_addr ciaddr, ip4_addr requested, ip4_addr server)
{
	memset(p, 0, DHCP_MSG_MAX);
	p[DHCP_OP] = BOOTREQUEST;
	p[DHCP_HTYPE] = 1;
	p[DHCP_HLEN] = 6;
	put_be32(p + DHCP_XID, xid);
	put_be16(p + DHCP_SECS, secs);
	/* Without an address we cannot take a unicast reply: ask for broadcast
	 * (RFC 2131 §4.1). */
	put_be16(p + DHCP_FLAGS, ciaddr ? 0 : DHCP_FLAG_BROADCAST);
	put_be32(p + DHCP_CIADDR, ciaddr);
	memcpy(p + DHCP_CHADDR, mac, 6);
	put_be32(p + DHCP_COOKIE, DHCP_MAGIC);

	size_t i = DHCP_OPTIONS;
	p[i++] = OPT_MSG_TYPE;
	p[i++] = 1;
	p[i++] = type;
	if (requested) {
		p[i++] = OPT_REQUESTED_IP;
		p[i++] = 4;
		put_be32(p + i, requested);
		i += 4;
	}
	if (server) {
		p[i++] = OPT_SERVER_ID;
		p[i++] = 4;
		put_be32(p + i, server);
		i += 4;
	}
	static const uint8_t wanted[] = { OPT_SUBNET_MASK, OPT_ROUTER, OPT_LEASE_TIME, OPT_T1, OPT_T2 };
	p[i++] = OPT_PARAM_LIST;
	p[i++] = sizeof(wanted);
	memcpy(p + i, wanted, sizeof(wanted));
	i += sizeof(wanted);
	p[i++] = OPT_END;
	return i;
}
