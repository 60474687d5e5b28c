/*
 * netcpu.h: between netcpu.c (the per-CPU network threads) and the rest of
 * net/. The timers and net_run_on are in net.h; here the start-up and the
 * pollers a network thread drains when their notify runs.
 */
#ifndef NET_NETCPU_H
#define NET_NETCPU_H

#include "net.h"

/* A poller: something a CPU's network thread polls after a notify (a NIC
 * receive queue). poll returns true when it stopped with work left (its
 * budget used up): it is polled again after the CPU's other threads ran. */
struct net_poller {
	struct list link;           /* on its CPU's list; set before start */
	unsigned cpu;
	bool pending;               /* atomic: notified, not yet polled */
	bool (*poll)(struct net_poller *p);
};

void net_cpus_init(void);               /* once, before anything below */
void net_poller_init(struct net_poller *p, unsigned cpu, bool (*poll)(struct net_poller *p));
void net_poller_add(struct net_poller *p);      /* before net_cpus_start */
int net_cpus_start(void);               /* the threads, on every CPU */
/* net_poller_notify: have p polled soon on its CPU. Any CPU, irq context. */
void net_poller_notify(struct net_poller *p);

#endif
