/*
 * wire.h: the header layouts of the protocols net/ speaks, in one place.
 *
 * Every header is read and written only through the big-endian helpers
 * below, never by casting packet bytes to a struct: a field is at a fixed
 * offset from the header's first byte. Each input path checks a header's
 * length once (ipv4_check, the transports' length checks) before it reads
 * any field; after that the accessors cannot run past the buffer.
 */
#ifndef NET_WIRE_H
#define NET_WIRE_H

#include <stdint.h>
#include <string.h>

static inline uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ---- Ethernet II --------------------------------------------------------- */
#define ETH_HLEN        14
#define ETH_DST         0       /* 6 bytes */
#define ETH_SRC         6       /* 6 bytes */
#define ETH_TYPE        12      /* be16 */
#define ETH_ZLEN        60      /* shortest frame without FCS: padded up to it */
enum { ETHERTYPE_IPV4 = 0x0800, ETHERTYPE_ARP = 0x0806, ETHERTYPE_VLAN = 0x8100 };

static const uint8_t ETH_BROADCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- ARP for IPv4 over Ethernet (RFC 826) -------------------------------- */
#define ARP_LEN         28
#define ARP_HTYPE       0       /* be16: 1 Ethernet */
#define ARP_PTYPE       2       /* be16: 0x0800 */
#define ARP_HLEN        4       /* 6 */
#define ARP_PLEN        5       /* 4 */
#define ARP_OPER        6       /* be16: 1 request, 2 reply */
#define ARP_SHA         8
#define ARP_SPA         14
#define ARP_THA         18
#define ARP_TPA         24
enum { ARP_REQUEST = 1, ARP_REPLY = 2 };

/* ---- IPv4 (RFC 791) ------------------------------------------------------- */
#define IP_HLEN         20      /* without options: all we send */
#define IP_VER_IHL      0       /* version 4 high nibble, header words low */
#define IP_TOS          1
#define IP_TOTLEN       2       /* be16 */
#define IP_ID           4       /* be16 */
#define IP_FRAG         6       /* be16: flags and fragment offset in 8-byte units */
#define IP_TTL          8
#define IP_PROTO        9
#define IP_CSUM         10      /* be16 */
#define IP_SRC          12      /* be32 */
#define IP_DST          16      /* be32 */
#define IP_FLAG_DF      0x4000
#define IP_FLAG_MF      0x2000
#define IP_OFFSET_MASK  0x1fff
#define IP_DEFAULT_TTL  64
#define IP_MAX_LEN      65535

/* ---- ICMP (RFC 792) ------------------------------------------------------- */
#define ICMP_HLEN       8
#define ICMP_TYPE       0
#define ICMP_CODE       1
#define ICMP_CSUM       2
enum { ICMP_ECHO_REPLY = 0, ICMP_DEST_UNREACH = 3, ICMP_ECHO_REQUEST = 8 };
enum { ICMP_PORT_UNREACH = 3, ICMP_FRAG_NEEDED = 4 };

/* ---- UDP (RFC 768) -------------------------------------------------------- */
#define UDP_HLEN        8
#define UDP_SPORT       0
#define UDP_DPORT       2
#define UDP_LEN         4
#define UDP_CSUM        6

#endif
