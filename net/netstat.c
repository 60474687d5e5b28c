/*
 * netstat.c: the stack's counters for services (SysNetStats of socket.h)
 * and for the kernel's --netstat option (net_print_stats of net.h).
 *
 * Every counter is added to with relaxed atomics by whichever CPU sees the
 * event, so reading them is a snapshot: each value is exact, the set is
 * not taken at one instant.
 */
#include <errno.h>
#include <string.h>

#include "console.h"
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

/* One "netstat:" line a group, name=value pairs, so tests and people can
 * both read them. */
void net_print_stats(void)
{
	struct TNetStats s;
	for (unsigned i = 0; i < net_netif_count(); i++) {
		if (SysNetStats((int)i, &s) < 0)
			continue;
		kprintf("netstat: if%u rx_frames=%lu tx_frames=%lu rx_dropped=%lu tx_dropped=%lu\n", i,
		        (unsigned long)s.rx_frames, (unsigned long)s.tx_frames,
		        (unsigned long)s.rx_dropped, (unsigned long)s.tx_dropped);
		kprintf("netstat: if%u bad_ether=%lu bad_arp=%lu bad_ip=%lu bad_icmp=%lu bad_udp=%lu "
		        "bad_tcp=%lu bad_csum=%lu\n", i,
		        (unsigned long)s.bad_ether, (unsigned long)s.bad_arp, (unsigned long)s.bad_ip,
		        (unsigned long)s.bad_icmp, (unsigned long)s.bad_udp, (unsigned long)s.bad_tcp,
		        (unsigned long)s.bad_csum);
		kprintf("netstat: if%u no_socket=%lu frag_dropped=%lu no_route=%lu arp_dropped=%lu "
		        "udp_dropped=%lu\n", i,
		        (unsigned long)s.no_socket, (unsigned long)s.frag_dropped,
		        (unsigned long)s.no_route, (unsigned long)s.arp_dropped,
		        (unsigned long)s.udp_dropped);
	}
	if (SysNetStats(-1, &s) < 0)
		memset(&s, 0, sizeof(s));
	kprintf("netstat: tcp retransmits=%lu syn_cookies=%lu challenge_acks=%lu timeouts=%lu "
	        "tlp_probes=%lu rack_lost=%lu\n",
	        (unsigned long)s.tcp_retransmits, (unsigned long)s.tcp_syn_cookies,
	        (unsigned long)s.tcp_challenge_acks, (unsigned long)s.tcp_timeouts,
	        (unsigned long)s.tcp_tlp_probes, (unsigned long)s.tcp_rack_lost);
	const uint32_t *n = s.tcp_states;
	kprintf("netstat: tcp_states closed=%u listen=%u syn_sent=%u syn_received=%u "
	        "established=%u fin_wait_1=%u fin_wait_2=%u close_wait=%u closing=%u "
	        "last_ack=%u time_wait=%u\n", n[TNET_CLOSED], n[TNET_LISTEN], n[TNET_SYN_SENT],
	        n[TNET_SYN_RECEIVED], n[TNET_ESTABLISHED], n[TNET_FIN_WAIT_1], n[TNET_FIN_WAIT_2],
	        n[TNET_CLOSE_WAIT], n[TNET_CLOSING], n[TNET_LAST_ACK], n[TNET_TIME_WAIT]);
}
