/*
 * ipconfig.c: an interface's IPv4 configuration: the ip= kernel option,
 * setting it (from the option or DHCP), reading it back consistently, and
 * waiting for the first interface to have one.
 */
#include <errno.h>

#include "console.h"
#include "socket.h"
#include "stack.h"
#include "waitq.h"

/* config_wait.lock guards nothing but the wake-up; the fields are under
 * each netif's lock. */
static struct waitq config_wait = {
	.lock = SPINLOCK_INIT("config_wait"), .waiters = LIST_INIT(config_wait.waiters),
};

/* parse_addr: dotted quad at *s, advancing *s past it. */
static int parse_addr(const char **s, ip4_addr *out)
{
	const char *p = *s;
	ip4_addr a = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0 && *p++ != '.')
			return -EINVAL;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned v = 0, digits = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (unsigned)(*p++ - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
		}
		a = a << 8 | v;
	}
	*s = p;
	*out = a;
	return 0;
}

int ipconfig_parse(const char *opt, ip4_addr *addr, ip4_addr *netmask, ip4_addr *gateway)
{
	const char *p = opt;
	ip4_addr a, gw = 0;
	unsigned prefix = 0, digits = 0;

	if (!opt || parse_addr(&p, &a) < 0 || *p++ != '/')
		return -EINVAL;
	while (*p >= '0' && *p <= '9' && digits < 3) {
		prefix = prefix * 10 + (unsigned)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || prefix < 1 || prefix > 30)
		return -EINVAL;
	if (*p == ',') {
		p++;
		if (p[0] != 'g' || p[1] != 'w' || p[2] != '=')
			return -EINVAL;
		p += 3;
		if (parse_addr(&p, &gw) < 0)
			return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	ip4_addr mask = ~(ip4_addr)0 << (32 - prefix);
	/* Neither the network's own address nor its broadcast address. */
	if ((a & ~mask) == 0 || (a & ~mask) == ~mask)
		return -EINVAL;
	if (gw && (gw & mask) != (a & mask))
		return -EINVAL;
	*addr = a;
	*netmask = mask;
	*gateway = gw;
	return 0;
}

int ip4_format(char *buf, size_t size, ip4_addr a)
{
	return ksnprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
	                 a & 0xff);
}

void netif_config(struct netif *nif, ip4_addr *addr, ip4_addr *netmask, ip4_addr *gateway)
{
	spin_lock(&nif->lock);
	if (addr)
		*addr = nif->configured ? nif->addr : 0;
	if (netmask)
		*netmask = nif->configured ? nif->netmask : 0;
	if (gateway)
		*gateway = nif->configured ? nif->gateway : 0;
	spin_unlock(&nif->lock);
}

void netif_set_config(struct netif *nif, ip4_addr addr, ip4_addr netmask, ip4_addr gateway)
{
	spin_lock(&nif->lock);
	bool changed = !nif->configured || nif->addr != addr;
	nif->addr = addr;
	nif->netmask = addr ? netmask : 0;
	nif->gateway = addr ? gateway : 0;
	nif->configured = addr != 0;
	spin_unlock(&nif->lock);
	if (!changed)
		return;
	arp_forget_netif(nif);
	if (addr) {
		char a[16], g[16];
		ip4_format(a, sizeof(a), addr);
		ip4_format(g, sizeof(g), gateway);
		kprintf("net: interface %u address %s/%d gateway %s\n", nif->index, a,
		        32 - __builtin_ctz(netmask), gateway ? g : "none");
		arp_announce(nif);
	}
	waitq_wake_all(&config_wait);
}

static bool first_configured(void)
{
	struct netif *nif = net_netif(0);
	ip4_addr a = 0;
	if (nif)
		netif_config(nif, &a, NULL, NULL);
	return a != 0;
}

bool net_wait_configured(uint64_t deadline_ns)
{
	spin_lock(&config_wait.lock);
	while (!first_configured()) {
		if (waitq_wait_locked(&config_wait, deadline_ns) == -ETIMEDOUT)
			break;
	}
	spin_unlock(&config_wait.lock);
	return first_configured();
}

uint32_t SysNetAddress(void)
{
	struct netif *nif = net_netif(0);
	ip4_addr a = 0;
	if (nif)
		netif_config(nif, &a, NULL, NULL);
	return a;
}
