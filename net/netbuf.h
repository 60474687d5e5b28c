/*
 * netbuf.h: a packet on its way through the stack.
 *
 * One netbuf holds one frame in one contiguous buffer with room in front for
 * the headers that output adds (Ethernet, IPv4, TCP with options). Input
 * pulls headers off the front as each layer takes its own; output pushes
 * them on. A netbuf has one owner at a time: whoever holds the pointer, and
 * handing it to a call that "takes" it passes ownership (it is freed or
 * queued there). Allocated from the calling CPU's slab; any CPU may free.
 *
 * A reassembled IPv4 datagram (up to 64 KiB) and a UDP datagram longer than
 * the MTU do not fit one frame: netbuf_alloc_large makes a netbuf whose buf
 * holds it, and ipv4_output cuts such a packet into fragments. Only the
 * datagram transports (UDP, ICMP) ever see one; size says how long buf is.
 * A NIC with HAL_NET_RX_GSO receives into netbuf_alloc_rx_large buffers,
 * and TCP gets the frames of many segments that do not fit a small one.
 */
#ifndef NET_NETBUF_H
#define NET_NETBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal.h"
#include "list.h"

#define NETBUF_HEADROOM 128            /* Ethernet + IPv4 + TCP with options */
#define NETBUF_SIZE     (NETBUF_HEADROOM + HAL_NET_FRAME_MAX)

struct netif;

struct netbuf {
	struct list link;       /* on whatever queue holds it (owner's choice) */
	struct netif *netif;    /* the interface it came in on / goes out on */
	uint8_t *data;          /* first byte of the current header */
	uint16_t len;           /* bytes from data to the end of the packet */
	uint16_t flags;         /* HAL_NET_CSUM_* */
	uint16_t csum_start;    /* from the frame's start, with HAL_NET_CSUM_PARTIAL */
	uint16_t csum_offset;
	uint16_t gso_size;      /* output: 0, or TCP's payload per segment for a
	                           packet the NIC cuts up (HAL_NET_TX_TSO);
	                           input: 0, or the sender's segment size of a
	                           TCP frame of many segments (HAL_NET_RX_GSO) */
	uint32_t src_ip, dst_ip; /* input: the IPv4 header's addresses, host order */
	uint16_t ip_hlen;       /* input: that header's length; it ends at data */
	void (*run)(struct netbuf *nb); /* net_run_on's function while handed over */
	uint32_t size;          /* bytes in buf: NETBUF_SIZE, or more (large) */
	uint8_t buf[];
};

/* netbuf_alloc: a netbuf with len 0 and data after the headroom; NULL when
 * out of memory. Any CPU, thread context. */
struct netbuf *netbuf_alloc(void);
/* netbuf_alloc_large: the same with room for len bytes after the headroom
 * (len up to 65535 + the headroom); NULL when out of memory. */
struct netbuf *netbuf_alloc_large(size_t len);
/* netbuf_alloc_rx_large: a receive buffer for a NIC with HAL_NET_RX_GSO:
 * one 64 KiB allocation (a power of two: nothing of the page run wasted),
 * NETBUF_RX_LARGE_ROOM bytes in buf, no headroom kept (received data is
 * never sent back in its own buffer). NULL when out of memory. */
#define NETBUF_RX_LARGE_ALLOC 65536u
#define NETBUF_RX_LARGE_ROOM  (NETBUF_RX_LARGE_ALLOC - sizeof(struct netbuf))
struct netbuf *netbuf_alloc_rx_large(void);
void netbuf_free(struct netbuf *nb);    /* NULL is fine */

/* netbuf_push: grow the packet at the front by n bytes (a header to fill);
 * NULL if the headroom is used up. netbuf_pull: take n bytes off the front,
 * returning the old front; NULL if the packet is shorter than n. */
static inline void *netbuf_push(struct netbuf *nb, size_t n)
{
	if ((size_t)(nb->data - nb->buf) < n)
		return NULL;
	nb->data -= n;
	nb->len += n;
	return nb->data;
}

static inline void *netbuf_pull(struct netbuf *nb, size_t n)
{
	if (nb->len < n)
		return NULL;
	void *front = nb->data;
	nb->data += n;
	nb->len -= n;
	return front;
}

/* netbuf_put: grow the packet at the end by n bytes; NULL if it would not
 * fit. netbuf_trim: cut the packet to len bytes (Ethernet padding). */
static inline void *netbuf_put(struct netbuf *nb, size_t n)
{
	if ((size_t)(nb->buf + nb->size - (nb->data + nb->len)) < n)
		return NULL;
	void *end = nb->data + nb->len;
	nb->len += n;
	return end;
}

static inline void netbuf_trim(struct netbuf *nb, size_t len)
{
	if (len < nb->len)
		nb->len = (uint16_t)len;
}

#endif
