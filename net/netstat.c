/*
 * netstat.c: the stack's counters for services (SysNetStats of socket.h)
 * and for the kernel's --netstat option (net_print_stats in netif.c).
 *
 * Every counter is added to with relaxed atomics by whichever CPU sees the
 * event, so reading them is a snapshot: each value is exact, the set is
 * not taken at one instant.
 */
#include <errno.h>
#include <string.h>

#include "socket.h"
#include "stack.h"
#include "tcp_impl.h"

_Static_assert((int)TNET_STATES == (int)TCP_STATE_COUNT, "TNetStats states follow enum tcp_state");
_Static_assert((int)TNET_TIME_WAIT == (int)TCP_TIME_WAIT &&
               (int)TNET_ESTABLISHED == (int)TCP_ESTABLISHED,
               "TNetStats states follow enum tcp_state");

#define LOAD(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)

static void add_netif(struct TNetStats *out, struct netif *nif)
{
	const struct net_counters *c = &nif->stats;
	out->rx_frames += LOAD(c->rx_frames);
	out->tx_frames += LOAD(c->tx_frames);
	out->rx_dropped += LOAD(c->rx_dropped);
	out->tx_dropped += LOAD(c->tx_dropped);
	out->bad_ether += LOAD(c->bad_ether);
	out->bad_arp += LOAD(c->bad_arp);
	out->bad_ip += LOAD(c->bad_ip);
	out->bad_icmp += LOAD(c->bad_icmp);
	out->bad_udp += LOAD(c->bad_udp);
	out->bad_tcp += LOAD(c->bad_tcp);
	out->bad_csum += LOAD(c->bad_csum);
	out->no_socket += LOAD(c->no_socket);
	out->frag_dropped += LOAD(c->frag_dropped);
	out->no_route += LOAD(c->no_route);
	out->arp_dropped += LOAD(c->arp_dropped);
	out->udp_dropped += LOAD(c->udp_dropped);
}

int SysNetStats(int netif, struct TNetStats *out)
{
	if (!out)
		return -EINVAL;
	unsigned n = net_netif_count();
	if (netif < -1 || (netif >= 0 && (unsigned)netif >= n))
		return -ENODEV;
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < n; i++)
		if (netif == -1 || (unsigned)netif == i)
			add_netif(out, net_netif(i));
	out->tcp_retransmits = LOAD(tcp_counters.retransmits);
	out->tcp_syn_cookies = LOAD(tcp_counters.syn_cookies);
	out->tcp_challenge_acks = LOAD(tcp_counters.challenge_acks);
	out->tcp_timeouts = LOAD(tcp_counters.timeouts);
	out->tcp_tlp_probes = LOAD(tcp_counters.tlp_probes);
	out->tcp_rack_lost = LOAD(tcp_counters.rack_lost);
	tcp_count_states(out->tcp_states);
	return 0;
}
