/*
 * netbuf.c: allocation of packet buffers (see netbuf.h for their life).
 * Plain kmalloc: the allocator's per-CPU slabs already make this a local,
 * lock-free operation, and a free on another CPU goes back to the owner.
 */
#include <string.h>

#include "alloc.h"
#include "netbuf.h"

static struct netbuf *alloc_with_room(size_t room)
{
	struct netbuf *nb = kmalloc(sizeof(*nb) + room);
	if (!nb)
		return NULL;
	memset(nb, 0, sizeof(*nb));
	list_init(&nb->link);
	nb->size = (uint32_t)room;
	nb->data = nb->buf + NETBUF_HEADROOM;
	return nb;
}

struct netbuf *netbuf_alloc(void)
{
	return alloc_with_room(NETBUF_SIZE);
}

struct netbuf *netbuf_alloc_large(size_t len)
{
	if (len > 65535 + NETBUF_HEADROOM)
		return NULL;
	return alloc_with_room(NETBUF_HEADROOM + (len > HAL_NET_FRAME_MAX ? len : HAL_NET_FRAME_MAX));
}

struct netbuf *netbuf_alloc_rx_large(void)
{
	return alloc_with_room(NETBUF_RX_LARGE_ROOM);
}

void netbuf_free(struct netbuf *nb)
{
	kfree(nb);
}
